/**
 * API Gateway stand-in: plain HTTP requests become HTTP API (payload v2) events for the
 * upload handler, with the same routes as the deployed API (functions/upload/routes.ts).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { matchRoute } from '../functions/upload/routes.js';
import { outlastClients } from './keep-alive.js';

type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;

const MAX_BODY = 64 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
}

export type ExtraRoute = (
  req: IncomingMessage,
  res: import('node:http').ServerResponse,
) => boolean | Promise<boolean>;

export function createApiServer(handler: ApiHandler, extra: ExtraRoute): Server {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (await extra(req, res)) return;
      const route = matchRoute(req.method ?? 'GET', url.pathname);
      if (!route) return json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const event = {
        version: '2.0',
        routeKey: route.routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
        pathParameters: route.pathParameters,
        body: await readBody(req),
        isBase64Encoded: false,
        requestContext: {
          http: { method: req.method ?? 'GET', path: url.pathname },
          requestId: crypto.randomUUID(),
        },
      } as unknown as APIGatewayProxyEventV2;
      const result = await handler(event, {});
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body);
    } catch (err) {
      if (!res.headersSent) {
        json(400, { error: { code: 'BAD_REQUEST', message: String((err as Error).message) } });
      }
    }
  });
  return outlastClients(server);
}
