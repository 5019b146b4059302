/**
 * Serves the player test page (player-test.html, player-harness.js and the repo's hls.js) on
 * 127.0.0.1. A real server, not a Playwright route: Chromium's Local Network Access blocks a
 * page without an address (as a fulfilled route is) from fetching the loopback CDN.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const HERE = import.meta.dirname;
const FILES: Record<string, [string, string]> = {
  '/': [join(HERE, 'player-test.html'), 'text/html'],
  '/player-test/harness.js': [join(HERE, 'player-harness.js'), 'text/javascript'],
  '/assets/hls.min.js': [
    createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'),
    'text/javascript',
  ],
};

export async function startPlayerPage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const file = FILES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[1] }).end(await readFile(file[0]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
