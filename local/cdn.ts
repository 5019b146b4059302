/**
 * CloudFront stand-in: serves the output bucket over HTTP with the MIME types, CORS and
 * cache headers a player gets from the real distribution. Reads through the S3 API, so what
 * plays locally is exactly what the workers uploaded. With trusted keys (signed playback),
 * it refuses every request without a valid signed URL, as a behaviour with a trusted key
 * group does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { keys } from '../functions/core/keys.js';
import { checkSignedUrl, type TrustedKeys } from './cloudfront-signature.js';
import { outlastClients } from './keep-alive.js';

const TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  aac: 'audio/aac',
  vtt: 'text/vtt',
  jpg: 'image/jpeg',
  webp: 'image/webp',
  json: 'application/json',
};

export const contentTypeOf = (key: string): string =>
  TYPES[key.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';

export async function startCdn(opts: {
  s3: S3Client;
  bucket: string;
  /** Signed playback: the key group (Key-Pair-Id → public key) signatures must come from. */
  trustedKeys?: TrustedKeys;
}): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', 'GET, HEAD, OPTIONS');
    res.setHeader('access-control-allow-headers', 'range');
    res.setHeader('access-control-expose-headers', 'content-length, content-range');
    if (opts.trustedKeys) {
      // Every request, preflights included, before anything is looked up: as CloudFront,
      // which answers 403 whether or not the object exists.
      const url = `http://${req.headers.host}${req.url ?? '/'}`;
      const verdict = checkSignedUrl(url, opts.trustedKeys, new Date());
      if (!verdict.allowed) {
        res.writeHead(403, { 'content-type': 'text/xml', 'cache-control': 'no-store' });
        const message = verdict.reason.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`);
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`,
        );
      }
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    // Only the published prefix is served, as the distribution's only origin path.
    if (!path.startsWith(keys.outputPrefix) || path.includes('..'))
      return void res.writeHead(404).end();
    try {
      const obj = await opts.s3.send(
        new GetObjectCommand({ Bucket: opts.bucket, Key: path, Range: req.headers.range }),
      );
      const type = contentTypeOf(path);
      res.setHeader('content-type', type);
      if (obj.CacheControl) res.setHeader('cache-control', obj.CacheControl);
      if (obj.ETag) res.setHeader('etag', obj.ETag);
      res.setHeader('accept-ranges', 'bytes');
      const gzip =
        type.includes('mpegurl') && /\bgzip\b/.test(String(req.headers['accept-encoding']));
      if (gzip && !req.headers.range) {
        // Playlists compress well; CloudFront does the same with compression enabled.
        const body = gzipSync(Buffer.from((await obj.Body?.transformToByteArray()) ?? []));
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      if (obj.ContentRange) res.setHeader('content-range', obj.ContentRange);
      if (obj.ContentLength !== undefined) res.setHeader('content-length', obj.ContentLength);
      res.writeHead(obj.ContentRange ? 206 : 200);
      if (req.method === 'HEAD') return void res.end();
      (obj.Body as Readable).pipe(res);
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : 500;
      res.writeHead(status === 404 || status === 416 ? status : 502).end();
    }
  });
  outlastClients(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // An IP, not "localhost": statically linked players and ffmpeg builds cannot resolve names.
  return { url: `http://127.0.0.1:${port}`, server };
}
