/**
 * A loopback HTTP server that serves exactly one stored object to ffmpeg, by byte range.
 *
 * Why not hand ffmpeg a presigned S3 URL: the statically linked ffmpeg/ffprobe that ship in
 * npm packages crash (SIGSEGV in glibc's NSS) when they resolve any host name, and their TLS
 * has no CA store. Here ffmpeg only ever talks to 127.0.0.1 over plain HTTP; the SDK does
 * DNS, TLS, SigV4 and retries. It is also the tightest sandbox for a hostile upload: the only
 * URL ffmpeg can reach serves this one object, at an unguessable path.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SourceMissingError } from '../core/errors.js';
import type { ObjectStore, OpenSource, SourceReader } from '../core/ports.js';

/** The first fetch after a seek is small; sequential reading doubles it up to the maximum. */
const FIRST_WINDOW = 256 * 1024;
const MAX_WINDOW = 2 * 1024 * 1024;

export class LoopbackSourceReader implements SourceReader {
  constructor(private readonly store: ObjectStore) {}

  async open(bucket: string, key: string): Promise<OpenSource> {
    const head = await this.store.head(bucket, key);
    if (!head) throw new SourceMissingError('the upload is no longer stored');
    const path = `/${randomBytes(16).toString('hex')}/source`;
    let bytesRead = 0;
    const server = createServer(async (req, res) => {
      if (req.url !== path || (req.method !== 'GET' && req.method !== 'HEAD')) {
        return void res.writeHead(404).end();
      }
      res.setHeader('accept-ranges', 'bytes');
      if (req.method === 'HEAD') {
        return void res.writeHead(200, { 'content-length': head.size }).end();
      }
      // ffmpeg asks for `bytes=N-` (to the end) and drops the connection when it seeks.
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const start = Number(m?.[1] ?? 0);
      const end = m?.[2] ? Math.min(Number(m[2]), head.size - 1) : head.size - 1;
      if (start >= head.size && head.size > 0) {
        return void res.writeHead(416, { 'content-range': `bytes */${head.size}` }).end();
      }
      res.writeHead(m ? 206 : 200, {
        'content-length': end - start + 1,
        ...(m ? { 'content-range': `bytes ${start}-${end}/${head.size}` } : {}),
      });
      let closed = false;
      res.on('close', () => {
        closed = true;
      });
      // Fetch in growing windows rather than one open-ended GET: when ffmpeg seeks away,
      // at most one window was fetched for nothing, instead of whatever the sockets buffered.
      let window = FIRST_WINDOW;
      try {
        for (
          let at = start;
          at <= end && !closed;
          at += window, window = Math.min(window * 2, MAX_WINDOW)
        ) {
          const last = Math.min(at + window - 1, end);
          const part = await this.store.getRange(bucket, key, `bytes=${at}-${last}`);
          if (!part) throw new Error('source disappeared');
          for await (const chunk of part.body as AsyncIterable<Buffer>) {
            bytesRead += chunk.length;
            if (closed) break;
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
          }
          if (closed) part.body.destroy();
        }
        res.end();
      } catch {
        // A failed fetch surfaces in ffmpeg as a short read (an I/O error the job retries).
        res.destroy();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}${path}`,
      bytesRead: () => bytesRead,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}
