import { afterEach, describe, expect, it, vi } from 'vitest';
import { createS3Client } from '../../functions/adapters/clients.js';
import { S3Store } from '../../functions/adapters/s3-store.js';

/** Presigns the PUT a client gets from POST /videos, with the client `env` configures. */
async function presignedQuery(env: NodeJS.ProcessEnv) {
  const store = new S3Store(createS3Client(env));
  const url = new URL(
    await store.presignPut('spool-uploads', 'uploads/abcdefghij0123456789/source', {
      contentType: 'video/mp4',
      contentLength: 12345,
      expiresIn: 900,
    }),
  );
  return url.searchParams;
}

describe('presigned upload URL', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('the deployed client signs no checksum, only content type, length and host', async () => {
    // What Lambda gives the upload function: a region and role credentials in the environment.
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLEEXAMPLE00');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session');
    const query = await presignedQuery({});
    const names = [...query.keys()];
    // A signed `x-amz-checksum-crc32` of an empty body would make S3 refuse every real upload.
    expect(names.filter((n) => /checksum/i.test(n))).toEqual([]);
    expect(query.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(query.get('X-Amz-Expires')).toBe('900');
    expect(query.get('X-Amz-Security-Token')).toBe('session');
    expect(query.get('x-id')).toBe('PutObject');
  });

  it('the local client signs the same query parameters as the deployed one', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLEEXAMPLE00');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const deployed = await presignedQuery({});
    const local = await presignedQuery({ SPOOL_S3_ENDPOINT: 'http://127.0.0.1:4569' });
    expect([...local.keys()].sort()).toEqual([...deployed.keys()].sort());
    expect(local.get('X-Amz-SignedHeaders')).toBe(deployed.get('X-Amz-SignedHeaders'));
  });
});

describe('presigned part URL', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('signs the part length, with no checksum, for that upload and part only', async () => {
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLEEXAMPLE00');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const store = new S3Store(createS3Client({}));
    const url = new URL(
      await store.presignUploadPart('spool-uploads', 'uploads/abcdefghij0123456789/source', {
        uploadId: 'the-upload',
        partNumber: 7,
        contentLength: 5 * 1024 ** 2,
        expiresIn: 900,
      }),
    );
    const query = url.searchParams;
    expect(url.pathname).toBe('/uploads/abcdefghij0123456789/source');
    expect([...query.keys()].filter((n) => /checksum/i.test(n))).toEqual([]);
    expect(query.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect(query.get('x-id')).toBe('UploadPart');
    expect(query.get('uploadId')).toBe('the-upload');
    expect(query.get('partNumber')).toBe('7');
    expect(query.get('X-Amz-Expires')).toBe('900');
  });
});
