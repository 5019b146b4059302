import type { Server } from 'node:http';

/**
 * Idle kept-alive connections stay open for a minute, as behind API Gateway and CloudFront.
 * With Node's default of 5 s, a busy client (the test runner, the CLI) sometimes reused a
 * socket in the instant the server closed it, and that request failed with "fetch failed".
 * A client still has to retry a dropped poll; this makes it rare rather than routine.
 */
export function outlastClients<S extends Server>(server: S): S {
  server.keepAliveTimeout = 65_000;
  // Node requires the header timeout to exceed the keep-alive one.
  server.headersTimeout = 66_000;
  return server;
}
