/**
 * S3 stand-in: s3rver on a free port, state on disk under the data dir, and its object
 * events turned into the S3 notifications the real bucket sends (same filter, same encoding).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';
import { outlastClients } from './keep-alive.js';
import { writeMeasured } from './measured-write.js';
import { multipartMiddleware, patchMultipartControllers } from './s3-multipart.js';

const CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
  </CORSRule>
</CORSConfiguration>`;

/**
 * Differences between s3rver and S3 that matter to Spool, closed here (and the multipart
 * ones in s3-multipart.ts):
 * - S3 writes an object atomically: a reader sees the old object or the new one, never a
 *   part. s3rver writes in place, and answers the PUT before the file is flushed. Here it
 *   writes a temporary file and renames it, once flushed.
 * - S3 honours `If-None-Match: *` on PUT (a conditional write: 412 if the key exists), which
 *   keeps Spool's records write-once. s3rver ignores it.
 */
function makeS3rverBehaveLikeS3(): void {
  const require = createRequire(import.meta.url);
  const store = require('s3rver/lib/stores/filesystem.js') as {
    prototype: Record<string, unknown>;
  };
  const objects = require('s3rver/lib/controllers/object.js') as Record<string, unknown>;
  const S3Error = require('s3rver/lib/models/error.js') as new (
    code: string,
    message: string,
    detail?: Record<string, string>,
  ) => Error;
  if ((store.prototype as { spoolAtomic?: boolean }).spoolAtomic) return;
  (store.prototype as { spoolAtomic?: boolean }).spoolAtomic = true;
  // Multipart uploads: whole parts, ListParts and S3's checks on completion (s3-multipart.ts).
  patchMultipartControllers(objects);
  store.prototype.putObject = async function putObject(
    this: {
      getResourcePath(bucket: string, key: string, kind: string): string;
      putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
    },
    object: {
      bucket: string;
      key: string;
      content: Buffer | NodeJS.ReadableStream;
      metadata: unknown;
    },
  ) {
    const target = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${randomBytes(6).toString('hex')}.partial`;
    const source = Buffer.isBuffer(object.content)
      ? Readable.from([object.content])
      : (object.content as NodeJS.ReadableStream);
    const { size, md5: digest } = await writeMeasured(source, partial);
    // Metadata first, the object last: a reader never sees a new body with old metadata.
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(partial, target);
    return { size, md5: digest };
  };
  const put = objects.putObject as (ctx: S3rverContext) => Promise<void>;
  // Conditional PUTs of one key run one at a time, so the check and the write are one step:
  // of writers racing for a key, exactly one creates it.
  const locks = new Map<string, Promise<unknown>>();
  objects.putObject = async (ctx: S3rverContext) => {
    if (ctx.headers['if-none-match'] !== '*') return put(ctx);
    const key = `${ctx.params.bucket}/${ctx.params.key}`;
    const before = locks.get(key) ?? Promise.resolve();
    const turn = before.then(async () => {
      if (await ctx.store.existsObject(ctx.params.bucket, ctx.params.key)) {
        throw new S3Error(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          { Condition: 'If-None-Match' },
        );
      }
      return put(ctx);
    });
    const settled = turn.catch(() => undefined);
    locks.set(key, settled);
    void settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return turn;
  };
}

interface S3rverContext {
  headers: Record<string, string | undefined>;
  params: { bucket: string; key: string };
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
}

/** S3 notifications URL-encode keys with '+' for spaces; s3rver sends them raw. */
export const encodeS3Key = (key: string): string =>
  encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

export interface LocalS3 {
  endpoint: string;
  close(): Promise<void>;
  /** For fault tests: s3rver stopped and started again, same port, same data. */
  restart(): Promise<void>;
}

export async function startS3(opts: {
  directory: string;
  buckets: string[];
  /** Each is called for every new object in `bucket` whose key matches its filter. */
  notify: { bucket: string; prefix: string; suffix: string; handler: (e: S3Event) => void }[];
}): Promise<LocalS3> {
  makeS3rverBehaveLikeS3();
  const onEvent = (event: S3Event) => {
    for (const record of event.Records) {
      const { bucket, object } = record.s3;
      if (!record.eventName.startsWith('ObjectCreated')) continue;
      const notify = opts.notify.find(
        (n) =>
          n.bucket === bucket.name &&
          object.key.startsWith(n.prefix) &&
          object.key.endsWith(n.suffix),
      );
      if (!notify) continue;
      notify.handler({
        Records: [
          {
            ...record,
            eventName: `ObjectCreated:${record.eventName.split(':')[1] ?? 'Put'}`,
            s3: { ...record.s3, object: { ...object, key: encodeS3Key(object.key) } },
          },
        ],
      });
    }
  };
  const start = async (port: number) => {
    const server = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory: opts.directory,
      configureBuckets: opts.buckets.map((name) => ({ name, configs: [CORS] })),
    });
    // Koa composes its middleware when the server starts: ListParts and AbortMultipartUpload
    // go in just before s3rver's router (the last one), which has no route for them.
    (server as unknown as { middleware: unknown[] }).middleware.splice(-1, 0, multipartMiddleware);
    const address = (await server.run()) as AddressInfo;
    const http = (server as unknown as { httpServer?: import('node:http').Server }).httpServer;
    if (http) outlastClients(http);
    // s3rver is a Koa app (an EventEmitter); its typings omit the 'event' channel.
    (server as unknown as import('node:events').EventEmitter).on('event', onEvent);
    return { server, port: address.port };
  };
  let current = await start(0);
  return {
    endpoint: `http://127.0.0.1:${current.port}`,
    close: () => current.server.close(),
    // Stop and start again on the same port and data: requests in flight fail, as when S3
    // has a bad moment; the stack must retry its way through.
    restart: async () => {
      // Drop the kept-alive connections too, or close() waits for them to go idle.
      (
        current.server as unknown as { httpServer?: import('node:http').Server }
      ).httpServer?.closeAllConnections();
      await current.server.close();
      current = await start(current.port);
    },
  };
}
