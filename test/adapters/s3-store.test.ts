/**
 * The S3 adapters with the real SDK against s3rver (the local stack's S3): JSON records,
 * listing with pages, presigned PUTs, and the loopback reader ffmpeg uses for sources.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/adapters/clients.js';
import { S3Store } from '../../functions/adapters/s3-store.js';
import { LoopbackSourceReader } from '../../functions/adapters/source-proxy.js';
import { type LocalS3, startS3 } from '../../local/s3.js';

const BUCKET = 'test-bucket';
let dir: string;
let server: LocalS3;
let store: S3Store;
/** What the stand-in notified for keys `mp/…/source`, as the local stack's ingest gets it. */
const notified: S3Event[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-s3-'));
  // The S3 stand-in of the local stack: s3rver, made to write atomically and conditionally.
  server = await startS3({
    directory: dir,
    buckets: [BUCKET],
    notify: [
      { bucket: BUCKET, prefix: 'mp/', suffix: '/source', handler: (e) => notified.push(e) },
    ],
  });
  store = new S3Store(createS3Client({ SPOOL_S3_ENDPOINT: server.endpoint }));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('S3Store', () => {
  it('writes a record once: a second conditional write finds it and changes nothing', async () => {
    expect(
      await store.putJson(BUCKET, 'state/c/failed.json', { n: 1 }, { ifNoneMatch: true }),
    ).toBe('created');
    expect(
      await store.putJson(BUCKET, 'state/c/failed.json', { n: 2 }, { ifNoneMatch: true }),
    ).toBe('exists');
    expect(await store.getJson(BUCKET, 'state/c/failed.json')).toEqual({ n: 1 });
  });

  it('lets exactly one of several racing conditional writers create a record', async () => {
    for (let k = 0; k < 20; k++) {
      const key = `state/race/${k}.json`;
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => store.putJson(BUCKET, key, { n }, { ifNoneMatch: true })),
      );
      expect(results.filter((r) => r === 'created')).toHaveLength(1);
      const winner = results.indexOf('created') + 1;
      expect(await store.getJson(BUCKET, key)).toEqual({ n: winner });
    }
  });

  it('never lets a reader see part of an object being rewritten', async () => {
    const a = 'a'.repeat(2_000_000);
    const b = 'b'.repeat(2_000_000);
    await store.putObject(BUCKET, 'videos/x/seg.ts', a, { contentType: 'video/mp2t' });
    const seen = new Set<string>();
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 10; i++) {
        await store.putObject(BUCKET, 'videos/x/seg.ts', i % 2 ? a : b, {
          contentType: 'video/mp2t',
        });
      }
      writing = false;
    })();
    while (writing) {
      const text = (await store.getText(BUCKET, 'videos/x/seg.ts')) ?? '';
      seen.add(text === a ? 'a' : text === b ? 'b' : `torn (${text.length} bytes)`);
    }
    await writer;
    expect([...seen].filter((s) => s.startsWith('torn'))).toEqual([]);
  });

  it('reads back the JSON record it wrote, and undefined for a missing key', async () => {
    await store.putJson(BUCKET, 'state/a/plan.json', { chunks: 3 });
    expect(await store.getJson(BUCKET, 'state/a/plan.json')).toEqual({ chunks: 3 });
    expect(await store.getJson(BUCKET, 'state/a/nothing.json')).toBeUndefined();
    expect(await store.head(BUCKET, 'state/a/nothing.json')).toBeUndefined();
  });

  it('lists a prefix in key order, a page at a time after a given key', async () => {
    for (const k of ['c', 'a', 'e', 'b', 'd']) await store.putJson(BUCKET, `list/${k}`, {});
    const all = await store.list(BUCKET, 'list/');
    expect(all.objects.map((o) => o.key)).toEqual([
      'list/a',
      'list/b',
      'list/c',
      'list/d',
      'list/e',
    ]);
    const page = await store.list(BUCKET, 'list/', { startAfter: 'list/b', limit: 2 });
    expect(page.objects.map((o) => o.key)).toEqual(['list/c', 'list/d']);
    expect(page.truncated).toBe(true);
  });

  it('deletes more keys than one DeleteObjects request takes, and takes absent keys as deleted', async () => {
    const doomed = Array.from({ length: 1205 }, (_, i) => `gone/${String(i).padStart(4, '0')}`);
    await Promise.all(
      ['kept/a', ...doomed].map((k) =>
        store.putObject(BUCKET, k, 'x', { contentType: 'text/plain' }),
      ),
    );

    await store.deleteObjects(BUCKET, [...doomed, 'gone/never-written']);

    expect((await store.list(BUCKET, 'gone/')).objects).toEqual([]);
    expect((await store.list(BUCKET, 'kept/')).objects.map((o) => o.key)).toEqual(['kept/a']);
  });

  it('presigns a PUT that uploads the body as sent', async () => {
    const body = 'x'.repeat(1000);
    const url = await store.presignPut(BUCKET, 'uploads/p/source', {
      contentType: 'video/mp4',
      contentLength: body.length,
      expiresIn: 900,
    });
    const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body });
    expect(res.status).toBe(200);
    expect((await store.head(BUCKET, 'uploads/p/source'))?.size).toBe(1000);
  });
});

describe('LoopbackSourceReader', () => {
  it('serves byte ranges of exactly one object, and counts what it fetched', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    await store.putObject(BUCKET, 'uploads/r/source', bytes, { contentType: 'video/mp4' });
    const source = await new LoopbackSourceReader(store).open(BUCKET, 'uploads/r/source');
    try {
      const part = await fetch(source.url, { headers: { range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(100, 200));
      expect(source.bytesRead()).toBe(100);
      const other = await fetch(source.url.replace(/\/[0-9a-f]+\/source$/, '/0000/source'));
      expect(other.status).toBe(404);
      const past = await fetch(source.url, { headers: { range: 'bytes=5000-' } });
      expect(past.status).toBe(416);
    } finally {
      await source.close();
    }
  });
});

describe('S3Store multipart uploads, against the stand-in', () => {
  const MiB = 1024 ** 2;
  /** Three parts as a client would cut a 12 MiB source: 5 MiB, 5 MiB and the last 2 MiB. */
  const source = randomBytes(12 * MiB);
  const partOf = (n: number) =>
    source.subarray((n - 1) * 5 * MiB, Math.min(n * 5 * MiB, source.length));

  async function putPart(key: string, uploadId: string, partNumber: number, body: Buffer) {
    const url = await store.presignUploadPart(BUCKET, key, {
      uploadId,
      partNumber,
      contentLength: body.length,
      expiresIn: 900,
    });
    return fetch(url, { method: 'PUT', body });
  }

  /** A PUT of `partNumber` that declares the whole part and is cut off half way. */
  async function putHalfThenHangUp(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
  ) {
    const url = new URL(
      await store.presignUploadPart(BUCKET, key, {
        uploadId,
        partNumber,
        contentLength: body.length,
        expiresIn: 900,
      }),
    );
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'PUT', headers: { 'content-length': body.length } });
      req.on('error', () => resolve());
      req.write(body.subarray(0, body.length / 2), () => {
        req.destroy();
        resolve();
      });
    });
  }

  /** Until the stand-in has cleaned up after a cut-off PUT: no temporary part file is left. */
  async function settled(timeoutMs = 30_000) {
    const started = Date.now();
    for (;;) {
      const files = await readdir(dir, { recursive: true });
      if (!files.some((f) => String(f).endsWith('.partial'))) return;
      if (Date.now() - started > timeoutMs) throw new Error(`still partial: ${files.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('joins parts sent through presigned URLs into the object, the last copy of a part winning', async () => {
    const key = 'mp/a/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    // Part 2 first with the wrong bytes, then again with the right ones: S3 keeps the last.
    expect((await putPart(key, uploadId, 2, randomBytes(5 * MiB))).status).toBe(200);
    for (const n of [3, 1, 2]) {
      const res = await putPart(key, uploadId, n, partOf(n));
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    }
    const parts = await store.listParts(BUCKET, key, uploadId);
    expect(parts?.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 2 * MiB],
    ]);
    expect(await store.completeMultipartUpload(BUCKET, key, uploadId, parts ?? [])).toBe(
      'completed',
    );
    const text = await store.getRange(BUCKET, key);
    const chunks: Buffer[] = [];
    for await (const c of text?.body ?? []) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(source)).toBe(true);
    expect((await store.head(BUCKET, key))?.size).toBe(source.length);
  });

  it('notifies ObjectCreated:CompleteMultipartUpload once, as S3 does on completion', async () => {
    const key = 'mp/b/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    for (const n of [1, 2, 3]) await putPart(key, uploadId, n, partOf(n));
    const parts = (await store.listParts(BUCKET, key, uploadId)) ?? [];
    await store.completeMultipartUpload(BUCKET, key, uploadId, parts);
    const records = notified.flatMap((e) => e.Records).filter((r) => r.s3.object.key === key);
    expect(records.map((r) => r.eventName)).toEqual(['ObjectCreated:CompleteMultipartUpload']);
    expect(records[0]?.s3.object.size).toBe(source.length);
  });

  it('keeps a part as it was when a PUT of it is cut off mid-body, and lists no half part', async () => {
    const key = 'mp/c/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    await putPart(key, uploadId, 1, partOf(1));
    const before = await store.listParts(BUCKET, key, uploadId);
    await putHalfThenHangUp(key, uploadId, 1, randomBytes(5 * MiB));
    await putHalfThenHangUp(key, uploadId, 2, partOf(2));
    await settled();
    expect(await store.listParts(BUCKET, key, uploadId)).toEqual(before);
  });

  it('refuses, as S3 does, a part under 5 MiB that is not the last', async () => {
    const key = 'mp/d/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    await putPart(key, uploadId, 1, randomBytes(MiB));
    await putPart(key, uploadId, 2, randomBytes(MiB));
    const parts = (await store.listParts(BUCKET, key, uploadId)) ?? [];
    await expect(store.completeMultipartUpload(BUCKET, key, uploadId, parts)).rejects.toMatchObject(
      { name: 'EntityTooSmall' },
    );
    expect(await store.head(BUCKET, key)).toBeUndefined();
  });

  it("answers invalid-parts for an ETag that is not the stored part's", async () => {
    const key = 'mp/e/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    await putPart(key, uploadId, 1, randomBytes(MiB));
    const [part] = (await store.listParts(BUCKET, key, uploadId)) ?? [];
    const stale = { partNumber: 1, size: MiB, etag: `"${'0'.repeat(32)}"` };
    expect(part?.etag).not.toBe(stale.etag);
    expect(await store.completeMultipartUpload(BUCKET, key, uploadId, [stale])).toBe(
      'invalid-parts',
    );
  });

  it('answers undefined and gone for an upload that was completed, or never was', async () => {
    const key = 'mp/f/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    await putPart(key, uploadId, 1, randomBytes(1000));
    const parts = (await store.listParts(BUCKET, key, uploadId)) ?? [];
    expect(await store.completeMultipartUpload(BUCKET, key, uploadId, parts)).toBe('completed');
    expect(await store.listParts(BUCKET, key, uploadId)).toBeUndefined();
    expect(await store.completeMultipartUpload(BUCKET, key, uploadId, parts)).toBe('gone');
    expect(await store.listParts(BUCKET, 'mp/g/source', uploadId)).toBeUndefined();
    expect(await store.listParts(BUCKET, key, '../../etc')).toBeUndefined();
  });

  it('aborts an upload: its parts are gone, a part sent after is refused, aborting again is gone', async () => {
    const key = 'mp/i/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    expect((await putPart(key, uploadId, 1, randomBytes(1000))).status).toBe(200);

    expect(await store.abortMultipartUpload(BUCKET, key, uploadId)).toBe('aborted');

    expect(await store.listParts(BUCKET, key, uploadId)).toBeUndefined();
    expect((await putPart(key, uploadId, 2, randomBytes(1000))).status).toBe(404);
    expect(await store.abortMultipartUpload(BUCKET, key, uploadId)).toBe('gone');
    expect(await store.abortMultipartUpload(BUCKET, 'mp/j/source', uploadId)).toBe('gone');
  });

  it('lists more than a page of parts', async () => {
    const key = 'mp/h/source';
    const uploadId = await store.createMultipartUpload(BUCKET, key, { contentType: 'video/mp4' });
    // 1,001 tiny parts: S3 lists 1,000 a page.
    for (let n = 1; n <= 1001; n += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 1002 - n) }, (_, i) =>
          putPart(key, uploadId, n + i, Buffer.from([n + i])),
        ),
      );
    }
    const parts = (await store.listParts(BUCKET, key, uploadId)) ?? [];
    expect(parts.map((p) => p.partNumber)).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
  });
});
