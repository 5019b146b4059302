/**
 * S3 stand-in: s3rver on a free port, state on disk under the data dir, and its object
 * events turned into the S3 notifications the real bucket sends (same filter, same encoding).
 */
import type { AddressInfo } from 'node:net';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';

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
    const address = (await server.run()) as AddressInfo;
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
