/**
 * s3rver 3.7's multipart uploads, made to behave like S3's where resumable uploads rely on
 * them (measured against s3rver 3.7.1; each point below failed before this file):
 * - UploadPart wrote the part in place and never compared its length with Content-Length,
 *   so a PUT cut off mid-body left a short part where the good one had been. Here a part is
 *   written whole or not at all (a temporary file, renamed once its length is the declared
 *   one; S3 answers IncompleteBody otherwise), and sending it again replaces it.
 * - ListParts (GET ?uploadId) answered MethodNotAllowed. Here it lists the stored parts, a
 *   page at a time, as S3 does.
 * - AbortMultipartUpload (DELETE ?uploadId) answered MethodNotAllowed. Here it discards the
 *   upload and its parts (204), and a part sent after it is NoSuchUpload, as on S3.
 * - CompleteMultipartUpload took any list of parts. Here, as on S3, parts out of order are
 *   InvalidPartOrder, a missing part or another ETag InvalidPart, a part under 5 MiB that is
 *   not the last EntityTooSmall, and an upload that is gone NoSuchUpload. Its event is
 *   `ObjectCreated:CompleteMultipartUpload`, as S3's (s3rver sent `ObjectCreated:Post`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MAX_PARTS, MIN_PART_BYTES } from '../functions/core/multipart.js';
import { writeMeasured } from './measured-write.js';

const require = createRequire(import.meta.url);
const S3Error = require('s3rver/lib/models/error.js') as new (
  code: string,
  message: string,
  detail?: Record<string, string>,
) => Error;
const S3Event = require('s3rver/lib/models/event.js') as new (
  data: unknown,
  request: { reqHeaders: unknown; sourceIp: string },
) => { Records: { eventName: string }[] };
const S3Object = require('s3rver/lib/models/object.js') as new (
  bucket: string,
  key: string,
  content: null,
  metadata: Record<string, string | number>,
) => unknown;
// s3rver's own XML parser (fast-xml-parser 3) and entity decoder, as s3rver resolves them.
const fromS3rver = createRequire(require.resolve('s3rver'));
const xml = fromS3rver('fast-xml-parser') as {
  parse(text: string, options: Record<string, unknown>): unknown;
};
const he = fromS3rver('he') as { decode(text: string): string };

interface Store {
  getResourcePath(bucket: string, key: string | undefined, kind: string): string;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ md5: string; size: number }>;
}

interface Ctx {
  method: string;
  path: string;
  ip: string;
  href: string;
  headers: Record<string, string | undefined>;
  query: Record<string, string | string[] | undefined>;
  params: { bucket: string; key: string };
  req: NodeJS.ReadableStream;
  store: Store;
  app: { emit(event: string, payload: unknown): void };
  etag?: string;
  body?: unknown;
  status?: number;
}

const noSuchUpload = () =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may ' +
      'have been aborted or completed.',
  );

/** The folder of an upload, if `uploadId` is one of s3rver's (32 hex digits) for `key`. */
async function uploadDir(ctx: Ctx, bucket: string, key: string, uploadId: unknown) {
  if (typeof uploadId !== 'string' || !/^[0-9a-f]{32}$/.test(uploadId)) throw noSuchUpload();
  const dir = join(ctx.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  const stored = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
  if (stored !== key) throw noSuchUpload();
  return dir;
}

interface StoredPart {
  number: number;
  size: number;
  md5: string;
  lastModified: Date;
}

/** The whole parts of an upload (a part's MD5 is written with it), by number. */
async function storedParts(dir: string): Promise<StoredPart[]> {
  const names = (await readdir(dir)).filter((n) => /^\d+$/.test(n));
  const parts = await Promise.all(
    names.map(async (name) => {
      const [info, md5] = await Promise.all([
        stat(join(dir, name)),
        readFile(join(dir, `${name}.md5`), 'utf8').catch(() => undefined),
      ]);
      return md5 === undefined
        ? undefined
        : { number: Number(name), size: info.size, md5, lastModified: info.mtime };
    }),
  );
  return parts.filter((p) => p !== undefined).sort((a, b) => a.number - b.number);
}

async function uploadPart(ctx: Ctx): Promise<void> {
  const { bucket, key } = ctx.params;
  const partNumber = Number(ctx.query.partNumber);
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new S3Error(
      'InvalidArgument',
      `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`,
      { ArgumentName: 'partNumber', ArgumentValue: String(ctx.query.partNumber) },
    );
  }
  const dir = await uploadDir(ctx, bucket, key, ctx.query.uploadId);
  const declared = Number(ctx.headers['content-length']);
  if (!Number.isSafeInteger(declared)) {
    throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  const target = join(dir, String(partNumber));
  const partial = `${target}.${randomBytes(6).toString('hex')}.partial`;
  try {
    const { size, md5: digest } = await writeMeasured(ctx.req, partial);
    if (size !== declared) {
      throw new S3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      );
    }
    // The part, then its MD5: a part is listed only once its MD5 is there.
    await unlink(`${target}.md5`).catch(() => undefined);
    await rename(partial, target);
    await writeFile(`${partial}.md5`, digest);
    await rename(`${partial}.md5`, `${target}.md5`);
    ctx.etag = digest;
    ctx.body = '';
  } catch (err) {
    await unlink(partial).catch(() => undefined);
    throw err;
  }
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** GET /{bucket}/{key}?uploadId=…: the stored parts, `max-parts` at a time. */
async function listParts(ctx: Ctx, bucket: string, key: string): Promise<void> {
  const uploadId = one(ctx.query.uploadId);
  const dir = await uploadDir(ctx, bucket, key, uploadId);
  const marker = Number(one(ctx.query['part-number-marker']) ?? 0) || 0;
  const maxParts = Math.min(1000, Number(one(ctx.query['max-parts']) ?? 1000) || 1000);
  const after = (await storedParts(dir)).filter((p) => p.number > marker);
  const page = after.slice(0, maxParts);
  ctx.body = {
    ListPartsResult: {
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1)?.number ?? marker,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: page.map((p) => ({
        PartNumber: p.number,
        LastModified: p.lastModified.toISOString(),
        ETag: JSON.stringify(p.md5),
        Size: p.size,
      })),
    },
  };
}

/** DELETE /{bucket}/{key}?uploadId=…: the upload and its parts are gone. */
async function abortMultipartUpload(ctx: Ctx, bucket: string, key: string): Promise<void> {
  const dir = await uploadDir(ctx, bucket, key, one(ctx.query.uploadId));
  await rm(dir, { recursive: true, force: true });
  ctx.status = 204;
}

async function readBody(req: NodeJS.ReadableStream, limit: number): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += chunk.toString();
    if (text.length > limit) throw new S3Error('MalformedXML', 'The XML you provided is too large');
  }
  return text;
}

async function completeMultipartUpload(ctx: Ctx): Promise<void> {
  const { bucket, key } = ctx.params;
  const uploadId = one(ctx.query.uploadId) ?? '';
  const dir = await uploadDir(ctx, bucket, key, uploadId);
  // ETags come quoted, as &quot;; every value stays text (an MD5 can look like a number).
  const body = xml.parse(await readBody(ctx.req, 2_000_000), {
    parseNodeValue: false,
    tagValueProcessor: (v: string) => he.decode(v),
  }) as {
    CompleteMultipartUpload?: { Part?: unknown };
  };
  const listed = [body.CompleteMultipartUpload?.Part ?? []].flat() as {
    PartNumber?: unknown;
    ETag?: unknown;
  }[];
  if (listed.length === 0) {
    throw new S3Error('MalformedXML', 'The XML you provided was not well-formed.');
  }
  const parts = listed.map((p) => ({
    number: Number(p.PartNumber),
    // S3 compares ETags without their quotes.
    etag: String(p.ETag ?? '').replace(/"/g, ''),
  }));
  const stored = new Map((await storedParts(dir)).map((p) => [p.number, p]));
  for (const [i, part] of parts.entries()) {
    if (i > 0 && part.number <= (parts[i - 1]?.number ?? 0)) {
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
    }
    const found = stored.get(part.number);
    if (!found || found.md5 !== part.etag) {
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found or its ETag didn't match.",
        { UploadId: uploadId, PartNumber: String(part.number), ETag: part.etag },
      );
    }
    if (i < parts.length - 1 && found.size < MIN_PART_BYTES) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        { PartNumber: String(part.number), ProposedSize: String(found.size) },
      );
    }
  }
  const { md5, size } = await ctx.store.putObjectMultipart(bucket, uploadId, parts);
  const event = new S3Event(
    {
      bucket,
      eventType: 'Post',
      S3Item: new S3Object(bucket, key, null, {
        etag: JSON.stringify(md5),
        'content-length': size,
      }),
    },
    { reqHeaders: ctx.headers, sourceIp: ctx.ip },
  );
  for (const record of event.Records) record.eventName = 'ObjectCreated:CompleteMultipartUpload';
  ctx.app.emit('event', event);
  // S3's multipart ETag: the MD5 of the parts' binary MD5s, then the part count.
  const digests = parts.map((p) => Buffer.from(p.etag, 'hex'));
  const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
  ctx.body = {
    CompleteMultipartUploadResult: {
      Location: ctx.href.split('?')[0],
      Bucket: bucket,
      Key: key,
      ETag: JSON.stringify(etag),
    },
  };
}

/** Replace s3rver's UploadPart and CompleteMultipartUpload (once per process). */
export function patchMultipartControllers(objects: Record<string, unknown>): void {
  objects.uploadPart = uploadPart;
  objects.completeMultipartUpload = completeMultipartUpload;
}

/**
 * A Koa middleware that answers ListParts and AbortMultipartUpload, which s3rver's router has
 * no route for. It goes before the router: both come from the API's server side only, so they
 * need no CORS.
 */
export async function multipartMiddleware(ctx: Ctx, next: () => Promise<unknown>) {
  const m = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  const isList = ctx.method === 'GET';
  if ((!isList && ctx.method !== 'DELETE') || !('uploadId' in ctx.query) || !m) return next();
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const [bucket, key] = [decode(m[1] ?? ''), decode(m[2] ?? '')];
  return isList ? listParts(ctx, bucket, key) : abortMultipartUpload(ctx, bucket, key);
}
