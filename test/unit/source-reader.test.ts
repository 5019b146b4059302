import { describe, expect, it } from 'vitest';
import { LoopbackSourceReader } from '../../functions/adapters/source-proxy.js';
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
