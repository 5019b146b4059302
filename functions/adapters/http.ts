/** API Gateway HTTP API (payload v2) edges: bearer auth, JSON responses, one error mapping. */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SpoolError, toErrorBody, UnauthorizedError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';

export const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** A success with nothing to say (204). */
export const noContent = (): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 204,
  headers: { 'cache-control': 'no-store' },
});

/** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
export function checkBearer(header: string | undefined, token: string): void {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new UnauthorizedError('missing or invalid bearer token');
  }
}

/** Every error leaves as `{"error": {code, message}}`; internals are logged, never returned. */
export function jsonErrors(
  logger: Logger,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const err = request.error;
      if (!(err instanceof SpoolError) || err.httpStatus >= 500) {
        logger.error('request failed', { error: String(err), stack: (err as Error)?.stack });
      }
      const status = err instanceof SpoolError ? err.httpStatus : 500;
      request.response = json(status, { error: toErrorBody(err) });
    },
  };
}
