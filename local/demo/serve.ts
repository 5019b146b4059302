/**
 * The demo page at `/`: static files from this folder and hls.js from node_modules (never a
 * CDN, so it works offline and plays with the exact version the browser tests pin).
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const HERE = import.meta.dirname;
const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

/** URL path → file and type. A fixed list: nothing else on disk is reachable. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/demo/demo.js': { file: join(HERE, 'demo.js'), type: 'text/javascript; charset=utf-8' },
  '/demo/storyboard.js': {
    file: join(HERE, 'storyboard.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/demo/demo.css': { file: join(HERE, 'demo.css'), type: 'text/css; charset=utf-8' },
  '/assets/hls.min.js': { file: HLS_JS, type: 'text/javascript; charset=utf-8' },
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The page gets the API token only when it is asked for from this machine by a local name:
 * a remote address must not read it, and checking Host defeats DNS rebinding (a web page
 * whose name was re-pointed at 127.0.0.1 would otherwise be same-origin with this server).
 */
function isLocalRequest(req: IncomingMessage): boolean {
  const remote = req.socket.remoteAddress ?? '';
  const loopback = remote === '::1' || /^(::ffff:)?127\./.test(remote);
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return loopback && LOOPBACK_HOSTS.has(host);
}

const escapeAttribute = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Serves the page and its assets; false for any other path. */
export async function serveDemo(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const entry = FILES[path];
  if (!entry) return false;
  let body = await readFile(entry.file);
  if (path === '/') {
    const given = isLocalRequest(req) ? token : '';
    body = Buffer.from(
      body.toString('utf8').replace('__SPOOL_TOKEN__', escapeAttribute(given)),
      'utf8',
    );
  }
  res.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    // A development server: edits to the page show on reload.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    // The token is in the page: never let another site frame it.
    'x-frame-options': 'DENY',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
