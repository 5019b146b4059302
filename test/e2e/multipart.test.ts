/**
 * A resumable upload through `npm start`'s stack, as a client on a bad connection makes it:
 * a source above the multipart threshold, sent in parts through presigned URLs, with one
 * part sent twice and another cut off mid-body; the client lists what arrived, sends the
 * rest, completes, and the video becomes ready from exactly the bytes it sent.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/core/keys.js';
import { LARGE_CLIP, makeSource } from '../support/media.js';
import { expectPlayable } from '../support/playable.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';

const MiB = 1024 ** 2;

let dir: string;
let stack: RunningStack;
let api: ApiClient;
let clip: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-multipart-'));
  stack = await startStack({
    dataDir: join(dir, 'data'),
    // The smallest parts S3 takes, and a threshold just above one part, so a clip of a few
    // MiB comes in parts.
    env: {
      SPOOL_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
      SPOOL_MULTIPART_PART_BYTES: String(5 * MiB),
      SPOOL_LOG_LEVEL: 'silent',
    },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
  // Grain makes the clip big (about 12 MiB: three parts); without faststart its index comes
  // last, so a part out of place would leave nothing playable.
  clip = await makeSource(dir, 'grainy', {
    ...LARGE_CLIP,
    faststart: false,
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface PresignedPart {
  partNumber: number;
  url: string;
  method: string;
  headers: Record<string, string>;
  offset: number;
  size: number;
}

async function partUrls(id: string, partNumbers: number[]): Promise<PresignedPart[]> {
  const res = await api.request('POST', `/videos/${id}/parts`, { partNumbers });
  expect(res.status).toBe(200);
  return res.body.parts as PresignedPart[];
}

const put = (part: PresignedPart, body: Buffer) =>
  fetch(part.url, { method: part.method, headers: part.headers, body });

/** A PUT that declares the whole part, sends half of it and hangs up. */
function putHalfThenHangUp(part: PresignedPart, body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = request(part.url, {
      method: part.method,
      headers: { ...part.headers, 'content-length': body.length },
    });
    req.on('error', () => resolve());
    req.write(body.subarray(0, body.length / 2), () => {
      req.destroy();
      resolve();
    });
  });
}

async function uploadedParts(id: string) {
  const res = await api.request('GET', `/videos/${id}/parts`);
  expect(res.status).toBe(200);
  return res.body as {
    partCount: number;
    completed: boolean;
    parts: { partNumber: number; size: number; etag: string }[];
  };
}

describe('a source above the multipart threshold', () => {
  it('is uploaded in parts, resumed after a part is cut off, and becomes ready', async () => {
    const file = await readFile(clip);
    const { size } = await stat(clip);
    expect(size).toBeGreaterThan(10 * MiB);

    const created = await api.request('POST', '/videos', {
      filename: 'grainy.mp4',
      contentType: 'video/mp4',
      size,
    });
    expect(created.status).toBe(201);
    expect(created.body.upload).toBeUndefined();
    const multipart = created.body.multipart as { partSize: number; partCount: number };
    expect(multipart).toMatchObject({ partSize: 5 * MiB, partCount: Math.ceil(size / (5 * MiB)) });
    const id = created.body.id as string;
    const last = multipart.partCount;

    const urls = await partUrls(
      id,
      Array.from({ length: last }, (_, i) => i + 1),
    );
    const bytesOf = (p: PresignedPart) => file.subarray(p.offset, p.offset + p.size);
    const [first, second] = urls;
    const final = urls.at(-1);
    if (!first || !second || !final) throw new Error('too few parts');

    // The last part twice: first with the wrong bytes, then again with the right ones.
    expect((await put(final, Buffer.alloc(final.size, 0x55))).status).toBe(200);
    expect((await put(final, bytesOf(final))).status).toBe(200);
    expect((await put(first, bytesOf(first))).status).toBe(200);
    // The second part's connection drops half way; so does the client.
    await putHalfThenHangUp(second, bytesOf(second));

    // Resuming: the list says what is missing; completing now is refused.
    const before = await uploadedParts(id);
    expect(before.completed).toBe(false);
    expect(before.parts.map((p) => p.partNumber)).not.toContain(2);
    expect(before.parts.map((p) => p.partNumber)).toEqual(expect.arrayContaining([1, last]));
    const early = await api.request('POST', `/videos/${id}/complete`);
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({
      code: 'UPLOAD_INCOMPLETE',
      message: expect.stringMatching(/^parts missing: 2\b/),
    });

    const missing = Array.from({ length: last }, (_, i) => i + 1).filter(
      (n) => !before.parts.some((p) => p.partNumber === n),
    );
    for (const part of await partUrls(id, missing)) {
      expect((await put(part, bytesOf(part))).status).toBe(200);
    }
    const after = await uploadedParts(id);
    expect(after.parts.map((p) => [p.partNumber, p.size])).toEqual(
      urls.map((p) => [p.partNumber, p.size]),
    );

    const completed = await api.request('POST', `/videos/${id}/complete`);
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ id, status: 'processing' });
    // Completing again is harmless.
    expect((await api.request('POST', `/videos/${id}/complete`)).status).toBe(200);

    const view = await api.waitFor(id, undefined, 300_000);
    await expectPlayable(view, clip, { framesCoded: false });
    // The source S3 put together is the file, byte for byte.
    const s3 = new S3Client({
      endpoint: stack.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: 'spool-uploads', Key: keys.source(id) }),
    );
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha((await stored.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha(file));
    expect(await uploadedParts(id)).toMatchObject({ completed: true, parts: [] });
  });

  it('is uploaded part after part by the test client, as the bench uploads large sources', async () => {
    const view = await api.waitFor(await api.upload(clip), undefined, 300_000);
    expect(view.status, JSON.stringify(view.error)).toBe('ready');
  });

  it('refuses part numbers outside the upload, and ids that are not a video', async () => {
    const created = await api.request('POST', '/videos', {
      filename: 'x.mp4',
      contentType: 'video/mp4',
      size: 6 * MiB,
    });
    const id = created.body.id as string;
    for (const partNumbers of [[0], [3], [1, 1], ['1']]) {
      const res = await api.request('POST', `/videos/${id}/parts`, { partNumbers });
      expect(res.status).toBe(400);
      expect((res.body.error as { message: string }).message).toMatch(/^partNumbers/);
    }
    for (const path of ['/videos/aaaaaaaaaaaaaaaaaaaa/parts', '/videos/..%2F..%2Fx/parts']) {
      expect((await api.request('GET', path)).status).toBe(404);
    }
    expect((await api.request('DELETE', `/videos/${id}/parts`)).status).toBe(404);
    expect((await api.request('GET', `/videos/${id}/parts`, undefined, 'wrong')).status).toBe(401);
  });

  it('is aborted when its video is deleted: a part sent after is refused', async () => {
    const created = await api.request('POST', '/videos', {
      filename: 'x.mp4',
      contentType: 'video/mp4',
      size: 6 * MiB,
    });
    const id = created.body.id as string;
    const [first, second] = await partUrls(id, [1, 2]);
    if (!first || !second) throw new Error('too few parts');
    expect((await put(first, Buffer.alloc(first.size, 1))).status).toBe(200);

    expect((await api.delete(id)).status).toBe(204);

    // S3 (here the stand-in) knows the upload no more: its URL was good until the delete.
    const late = await put(second, Buffer.alloc(second.size, 2));
    expect(late.status).toBe(404);
    expect(await late.text()).toContain('<Code>NoSuchUpload</Code>');
    expect((await api.request('GET', `/videos/${id}/parts`)).status).toBe(404);
  });
});
