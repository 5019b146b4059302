/**
 * The local API keeps an idle connection open for a minute (so do the CDN, S3 and SQS
 * stand-ins). With Node's default (5 s), the server closed sockets just as a busy test runner
 * reused them, and a status poll failed with "fetch failed" (CI, session 6).
 */
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiServer } from '../../local/api.js';

let server: import('node:http').Server;
let port: number;

beforeAll(async () => {
  server = createApiServer(
    async () => ({ statusCode: 200, body: '{}' }),
    () => false,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** GET on one kept-alive socket; says whether the socket was reused. */
function get(agent: Agent): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/videos/x', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(req.reusedSocket));
    });
    req.on('error', reject);
    req.end();
  });
}

it('keeps an idle kept-alive connection open past Node’s default (5 s, closed at about 6 s)', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let closed = false;
  expect(await get(agent)).toBe(false);
  const socket = Object.values(agent.freeSockets)[0]?.[0];
  socket?.on('close', () => {
    closed = true;
  });
  await new Promise((r) => setTimeout(r, 7_500));
  expect(closed, 'the server closed the idle connection').toBe(false);
  expect(await get(agent)).toBe(true);
  agent.destroy();
}, 20_000);
