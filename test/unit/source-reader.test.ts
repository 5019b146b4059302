import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LoopbackSourceReader } from '../../functions/adapters/source-proxy.js';
import type { RangeBody } from '../../functions/core/ports.js';
import { fromSource } from '../../functions/core/source.js';
import { MemoryStore } from '../support/memory-store.js';

describe('LoopbackSourceReader', () => {
  it('says SOURCE_MISSING, a permanent error, when the upload is gone', async () => {
    // Its retention ran out, or it was deleted, while its jobs waited: no retry brings it back.
    const reader = new LoopbackSourceReader(new MemoryStore());
    await expect(
      reader.open('spool-uploads', 'uploads/abcdefghij0123456789/source'),
    ).rejects.toMatchObject({
      code: 'SOURCE_MISSING',
      permanent: true,
      message: 'the upload is no longer stored',
    });
  });
});

/** A store holding one object whose range reads fail while `down` says so. */
function flakyStore(bytes: Buffer, down: (call: number) => boolean) {
  let calls = 0;
  const store = new MemoryStore();
  store.head = async (_b: string, key: string) => ({
    key,
    size: bytes.length,
    lastModified: new Date(),
  });
  store.getRange = async (_b: string, _k: string, range?: string): Promise<RangeBody> => {
    if (down(++calls)) throw new Error('connect ECONNREFUSED 127.0.0.1:4569');
    const [, a, b] = /bytes=(\d+)-(\d+)/.exec(range ?? '') ?? [];
    const part = bytes.subarray(Number(a), Number(b) + 1);
    return { body: Readable.from([part]), contentLength: part.length };
  };
  return store;
}

describe('LoopbackSourceReader when storage falters', () => {
  const bytes = randomBytes(3 * 1024 * 1024);

  it('retries a failed range from the byte reached, so the reader sees every byte', async () => {
    const source = await new LoopbackSourceReader(
      flakyStore(bytes, (n) => n === 2 || n === 3),
    ).open('b', 'k');
    try {
      const got = Buffer.from(await (await fetch(source.url)).arrayBuffer());
      expect(got.equals(bytes)).toBe(true);
      expect(source.failure()).toBeUndefined();
      await expect(fromSource(source, Promise.resolve('encoded'))).resolves.toBe('encoded');
    } finally {
      await source.close();
    }
  });

  it('cuts the read short and keeps the failure when storage stays down', async () => {
    const source = await new LoopbackSourceReader(
      flakyStore(bytes, (n) => n > 1),
      1,
    ).open('b', 'k');
    try {
      const read = fetch(source.url).then((r) => r.arrayBuffer());
      await expect(read).rejects.toThrow();
      expect(source.failure()?.message).toMatch(/ECONNREFUSED/);
      // ffmpeg "succeeds" on a short read: the job must fail, and be retried, all the same.
      await expect(fromSource(source, Promise.resolve('encoded'))).rejects.toMatchObject({
        code: 'TRANSIENT',
        permanent: false,
      });
    } finally {
      await source.close();
    }
  });
});
