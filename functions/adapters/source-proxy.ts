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
import type { ObjectStore, OpenSource, SourceReader } from '../core/ports.js';

export class LoopbackSourceReader implements SourceReader {
  constructor(private readonly store: ObjectStore) {}

  async open(bucket: string, key: string): Promise<OpenSource> {
    const head = await this.store.head(bucket, key);
    if (!head) throw new Error(`no object at ${key}`);
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
      const range = req.headers.range;
      // ffmpeg asks for `bytes=N-` from the end of the file when it probes; past the end is 416.
      const start = Number(/^bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0);
      if (start >= head.size && head.size > 0) {
        return void res.writeHead(416, { 'content-range': `bytes */${head.size}` }).end();
      }
      try {
        const obj = await this.store.getRange(bucket, key, range);
        if (!obj) return void res.writeHead(404).end();
        res.writeHead(obj.contentRange ? 206 : 200, {
          'content-length': obj.contentLength,
          ...(obj.contentRange ? { 'content-range': obj.contentRange } : {}),
        });
        obj.body.on('data', (chunk: Buffer) => {
          bytesRead += chunk.length;
        });
        // ffmpeg drops the connection when it seeks: stop fetching the rest at once.
        res.on('close', () => obj.body.destroy());
        obj.body.pipe(res);
      } catch {
        // A failed fetch surfaces in ffmpeg as an I/O error, which the job retries.
        if (!res.headersSent) res.writeHead(502);
        res.end();
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
