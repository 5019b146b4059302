/**
 * HTTP API: POST /videos, GET /videos, GET /videos/{id}, and the parts and completion of a
 * multipart upload. Thin: auth, parse, one use case.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { checkBearer, json, jsonErrors } from '../adapters/http.js';
import { observed } from '../adapters/observability.js';
import { runtime } from '../adapters/runtime.js';
import { apiToken } from '../adapters/secrets.js';
import { InvalidInputError, NotFoundError } from '../core/errors.js';
import { createVideo, getVideo, listVideos } from './api.js';
import { completeUpload, listUploadedParts, presignParts } from './multipart.js';

const deps = runtime();

function parseJson(event: APIGatewayProxyEventV2): unknown {
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidInputError('body: must be a JSON object');
  }
}

async function route(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  checkBearer(event.headers.authorization ?? event.headers.Authorization, await apiToken());
  switch (event.routeKey) {
    case 'POST /videos':
      return json(201, await createVideo(deps, parseJson(event)));
    case 'GET /videos':
      return json(200, await listVideos(deps, event.queryStringParameters ?? {}));
    case 'GET /videos/{id}':
      return json(200, await getVideo(deps, event.pathParameters?.id ?? ''));
    // Resumable uploads of sources above the multipart threshold (multipart.ts).
    case 'POST /videos/{id}/parts':
      return json(200, await presignParts(deps, event.pathParameters?.id ?? '', parseJson(event)));
    case 'GET /videos/{id}/parts':
      return json(200, await listUploadedParts(deps, event.pathParameters?.id ?? ''));
    case 'POST /videos/{id}/complete':
      return json(200, await completeUpload(deps, event.pathParameters?.id ?? ''));
    default:
      throw new NotFoundError('no such route');
  }
}

export const handler = observed<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(jsonErrors(deps.logger))
  .handler(route);
