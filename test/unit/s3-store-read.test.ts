/** S3Store's record reads against a stand-in that tears a read (as s3rver does mid-write). */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../functions/adapters/s3-store.js';

/** An S3 client whose GetObject answers with each of `bodies` in turn (an Error is thrown). */
function client(bodies: (string | Error)[]): { s3: S3Client; calls: () => number } {
  let calls = 0;
  const s3 = {
    send: async () => {
      const body = bodies[Math.min(calls++, bodies.length - 1)];
      if (body instanceof Error) throw body;
      return { Body: { transformToString: async () => body } };
    },
  } as unknown as S3Client;
  return { s3, calls: () => calls };
}

describe('S3Store.getJson', () => {
  it('reads a record again when it caught half of a write', async () => {
    const { s3, calls } = client(['{"plan":', '{"plan":1}']);

    expect(await new S3Store(s3).getJson('b', 'k')).toEqual({ plan: 1 });
    expect(calls()).toBe(2);
  });

  it('reads again after an aborted stream', async () => {
    const { s3 } = client([new Error('aborted'), '{"ok":true}']);

    expect(await new S3Store(s3).getJson('b', 'k')).toEqual({ ok: true });
  });

  it('gives up after three reads that are not whole JSON', async () => {
    const { s3, calls } = client(['{']);

    await expect(new S3Store(s3).getJson('b', 'k')).rejects.toThrow(SyntaxError);
    expect(calls()).toBe(3);
  });
});
