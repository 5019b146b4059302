/**
 * The S3 adapters with the real SDK against s3rver (the local stack's S3): JSON records,
 * listing with pages, presigned PUTs, and the loopback reader ffmpeg uses for sources.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/adapters/clients.js';
import { S3Store } from '../../functions/adapters/s3-store.js';
import { LoopbackSourceReader } from '../../functions/adapters/source-proxy.js';
import { type LocalS3, startS3 } from '../../local/s3.js';

const BUCKET = 'test-bucket';
let dir: string;
let server: LocalS3;
let store: S3Store;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-s3-'));
  // The S3 stand-in of the local stack: s3rver, made to write atomically and conditionally.
  server = await startS3({ directory: dir, buckets: [BUCKET], notify: [] });
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
