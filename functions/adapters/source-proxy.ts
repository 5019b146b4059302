/**
 * A loopback HTTP server that serves exactly one stored object to ffmpeg, by byte range.
 *
 * Why not hand ffmpeg a presigned S3 URL: it is the tightest sandbox for a hostile upload.
 * ffmpeg only ever talks to 127.0.0.1 over plain HTTP, and the only URL it can reach serves
 * this one object, at an unguessable path; it needs no DNS, TLS or CA store, and the SDK does
 * SigV4 and retries. (It began as the way round the 2018 static builds, which crashed in
 * glibc's NSS on any host name; Debian's engine would not, but the sandbox is the reason.)
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SourceMissingError } from '../core/errors.js';
import type { ObjectStore, OpenSource, SourceReader } from '../core/ports.js';

/** The first fetch after a seek is small; sequential reading doubles it up to the maximum. */
const FIRST_WINDOW = 256 * 1024;
const MAX_WINDOW = 2 * 1024 * 1024;
/** Retries of one failed range fetch, 0.5 s doubling (about 15 s in all, plus the SDK's own). */
const READ_RETRIES = 5;

export class LoopbackSourceReader implements SourceReader {
  constructor(
    private readonly store: ObjectStore,
    /** First retry delay of a failed range fetch; it doubles on each retry. */
    private readonly retryDelayMs = 500,
  ) {}

  async open(bucket: string, key: string): Promise<OpenSource> {
    const head = await this.store.head(bucket, key);
    if (!head) throw new SourceMissingError('the upload is no longer stored');
    const path = `/${randomBytes(16).toString('hex')}/source`;
    let bytesRead = 0;
    let failure: Error | undefined;
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
      let pos = start;
      let tries = 0;
      while (pos <= end && !closed) {
        const last = Math.min(pos + window - 1, end);
        try {
          const part = await this.store.getRange(bucket, key, `bytes=${pos}-${last}`);
          if (!part) throw new SourceMissingError('the upload is no longer stored');
          for await (const chunk of part.body as AsyncIterable<Buffer>) {
            if (closed) break;
            bytesRead += chunk.length;
            pos += chunk.length;
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
          }
          if (closed) part.body.destroy();
          else if (pos <= last) throw new Error(`storage sent a short range at byte ${pos}`);
          tries = 0;
          window = Math.min(window * 2, MAX_WINDOW);
        } catch (err) {
          // Storage hiccups (a restart, a reset connection) are retried here, from the byte
          // reached, so ffmpeg never notices. When they persist, the response is cut short
          // and the failure kept: ffmpeg takes a short read for the end of the file, so the
          // job must not trust what it made (see `readSource`).
          if (err instanceof SourceMissingError || ++tries > READ_RETRIES) {
            failure ??= err instanceof Error ? err : new Error(String(err));
            return void res.destroy();
          }
          await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (tries - 1)));
        }
      }
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}${path}`,
      bytesRead: () => bytesRead,
      failure: () => failure,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
}
