/**
 * HTTP API: the routes of ./routes.ts. Thin: auth, parse, one use case, the route's success
 * status. Each operation returns the body its route documents (or none, where it documents
 * none), which the compiler checks.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { checkBearer, json, jsonErrors, noContent } from '../adapters/http.js';
import { observed } from '../adapters/observability.js';
import { cdnCache, runtime } from '../adapters/runtime.js';
import { apiToken } from '../adapters/secrets.js';
import { InvalidInputError, NotFoundError } from '../core/errors.js';
import { createVideo, deleteVideo, getVideo, listVideos } from './api.js';
import { completeUpload, listUploadedParts, presignParts } from './multipart.js';
import { openApiDocument } from './openapi.js';
import { isRouteKey, ROUTES, type RouteKey, type RouteSpec } from './routes.js';

const base = runtime();
const deps = { ...base, cdn: cdnCache(base.config) };

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

/** Built on the first request for it: the same object every time after. */
let reference: ReturnType<typeof openApiDocument> | undefined;

/** The body a route documents for its success, or undefined where it documents none. */
type OkBody<K extends RouteKey> = (typeof ROUTES)[K]['ok'] extends {
  schema: infer S extends z.ZodType;
}
  ? z.output<S>
  : undefined;

const operations: { [K in RouteKey]: (event: APIGatewayProxyEventV2) => Promise<OkBody<K>> } = {
  'POST /videos': (event) => createVideo(deps, parseJson(event)),
  'GET /videos': (event) => listVideos(deps, event.queryStringParameters ?? {}),
  'GET /videos/{id}': (event) => getVideo(deps, event.pathParameters?.id ?? ''),
  'DELETE /videos/{id}': async (event) => {
    await deleteVideo(deps, event.pathParameters?.id ?? '');
  },
  // Resumable uploads of sources above the multipart threshold (multipart.ts).
  'POST /videos/{id}/parts': (event) =>
    presignParts(deps, event.pathParameters?.id ?? '', parseJson(event)),
  'GET /videos/{id}/parts': (event) => listUploadedParts(deps, event.pathParameters?.id ?? ''),
  'POST /videos/{id}/complete': (event) => completeUpload(deps, event.pathParameters?.id ?? ''),
  'GET /openapi.json': async () => {
    reference ??= openApiDocument();
    return reference;
  },
};

async function route(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const key = event.routeKey;
  // API Gateway only sends the routes it has; anything else needs the token all the same.
  if (!isRouteKey(key) || ROUTES[key].auth) {
    checkBearer(event.headers.authorization ?? event.headers.Authorization, await apiToken());
  }
  if (!isRouteKey(key)) throw new NotFoundError('no such route');
  const ok: RouteSpec['ok'] = ROUTES[key].ok;
  const body = await operations[key](event);
  return ok.schema ? json(ok.status, body) : noContent();
}

export const handler = observed<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(jsonErrors(deps.logger))
  .handler(route);
