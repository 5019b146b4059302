/**
 * The resumable-upload use cases through the in-memory store: what POST /videos starts, the
 * part URLs, the listing a client resumes from and the completion, with hostile input.
 */
import { describe, expect, it } from 'vitest';
import type { DeletionDeps } from '../../functions/core/deletion.js';
import type { Deps } from '../../functions/core/deps.js';
import { keys } from '../../functions/core/keys.js';
import { noMetrics } from '../../functions/core/metrics.js';
import type { MultipartRecord } from '../../functions/core/records.js';
import { createVideo, deleteVideo } from '../../functions/upload/api.js';
import {
  completeUpload,
  listUploadedParts,
  presignParts,
} from '../../functions/upload/multipart.js';
import { testConfig } from '../support/config.js';
import { MemoryQueue, MemoryStore } from '../support/memory-store.js';

const MiB = 1024 ** 2;
/** 12 MiB and a bit: parts of 5 MiB, 5 MiB and 2 MiB + 345 bytes. */
const SIZE = 12 * MiB + 345;

function setup() {
  const store = new MemoryStore();
  let now = Date.parse('2026-12-01T10:00:00Z');
  const deps: Deps = {
    config: testConfig({
      SPOOL_MULTIPART_THRESHOLD_BYTES: String(8 * MiB),
      SPOOL_MULTIPART_PART_BYTES: String(5 * MiB),
    }),
    store,
    queue: new MemoryQueue(),
    clock: { now: () => new Date(now) },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: noMetrics,
  };
  const create = async (size = SIZE) =>
    createVideo(deps, { filename: '../../x.mp4', contentType: 'video/mp4', size });
  const recordOf = async (id: string) => {
    const record = await store.getJson<MultipartRecord>('up', keys.multipart(id));
    if (!record) throw new Error('no multipart record');
    return record;
  };
  /** What the client sends for part n: its bytes from the source, one letter per part. */
  const send = async (id: string, n: number, size?: number) => {
    const { parts } = await presignParts(deps, id, { partNumbers: [n] });
    const part = parts[0];
    if (!part) throw new Error('no part URL');
    const body = String.fromCharCode(96 + n).repeat(size ?? part.size);
    store.uploadPart((await recordOf(id)).uploadId, n, body);
    return body;
  };
  const advance = (ms: number) => {
    now += ms;
  };
  return { store, deps, create, recordOf, send, advance };
}

describe('POST /videos above the multipart threshold', () => {
  it('starts a multipart upload of the source key and returns its part plan, not a PUT', async () => {
    const { store, create, recordOf } = setup();
    const created = await create();
    expect(created.upload).toBeUndefined();
    expect(created.multipart).toEqual({
      partSize: 5 * MiB,
      partCount: 3,
      expiresAt: '2026-12-04T10:00:00.000Z',
    });
    const record = await recordOf(created.id);
    expect(store.uploads.get(record.uploadId)?.key).toBe(keys.source(created.id));
    // The upload id stays server-side: the client names only its video.
    expect(JSON.stringify(created)).not.toContain(record.uploadId);
  });

  it('gives a source of exactly the threshold one presigned PUT', async () => {
    const { store, create } = setup();
    const created = await create(8 * MiB);
    expect(created.multipart).toBeUndefined();
    expect(created.upload?.method).toBe('PUT');
    expect(store.uploads.size).toBe(0);
  });

  it('uploads more than 5 GiB in parts with the default settings, in parts of 16 MiB', async () => {
    const { deps } = setup();
    const created = await createVideo(
      { ...deps, config: testConfig() },
      { filename: 'big.mov', size: 6 * 1024 ** 3 },
    );
    expect(created.multipart).toMatchObject({ partSize: 16 * MiB, partCount: 384 });
  });

  it('still refuses a size over the maximum with 413', async () => {
    const { deps } = setup();
    await expect(
      createVideo(deps, { filename: 'huge.mov', size: 50 * 1024 ** 3 + 1 }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
  });
});

describe('POST /videos/{id}/parts', () => {
  it('presigns each asked part for its exact length and place in the source', async () => {
    const { store, deps, create, recordOf } = setup();
    const { id } = await create();
    const { parts } = await presignParts(deps, id, { partNumbers: [3, 1] });
    expect(
      parts.map(({ partNumber, offset, size, method }) => ({ partNumber, offset, size, method })),
    ).toEqual([
      { partNumber: 3, offset: 10 * MiB, size: 2 * MiB + 345, method: 'PUT' },
      { partNumber: 1, offset: 0, size: 5 * MiB, method: 'PUT' },
    ]);
    const { uploadId } = await recordOf(id);
    expect(store.presignedParts).toEqual([
      { key: keys.source(id), uploadId, partNumber: 3, length: 2 * MiB + 345 },
      { key: keys.source(id), uploadId, partNumber: 1, length: 5 * MiB },
    ]);
    expect(parts[0]?.expiresAt).toBe('2026-12-01T10:15:00.000Z');
  });

  it.each([
    ['no body', undefined],
    ['no part numbers', {}],
    ['an empty list', { partNumbers: [] }],
    ['part 0', { partNumbers: [0] }],
    ['a negative part', { partNumbers: [-1] }],
    ['a fraction', { partNumbers: [1.5] }],
    ['a string', { partNumbers: ['1'] }],
    ['part 10,001', { partNumbers: [10_001] }],
    ['a repeated part', { partNumbers: [1, 1] }],
    ['over 100 parts at once', { partNumbers: Array.from({ length: 101 }, (_, i) => i + 1) }],
    ['a part past the last', { partNumbers: [4] }],
  ])('refuses %s with 400 naming the field', async (_case, body) => {
    const { deps, create } = setup();
    const { id } = await create();
    await expect(presignParts(deps, id, body)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^(partNumbers|body)/),
    });
  });

  it.each(['aaaaaaaaaaaaaaaaaaaa', '../../state/x', ''])(
    'answers 404 for the id %j',
    async (id) => {
      const { deps } = setup();
      await expect(presignParts(deps, id, { partNumbers: [1] })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    },
  );

  it('answers 404 for a video uploaded in one PUT', async () => {
    const { deps, create } = setup();
    const { id } = await create(MiB);
    await expect(presignParts(deps, id, { partNumbers: [1] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(listUploadedParts(deps, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(completeUpload(deps, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('GET /videos/{id}/parts and POST /videos/{id}/complete', () => {
  it('lists the parts that arrived, the last copy of a part sent twice', async () => {
    const { deps, create, send } = setup();
    const { id } = await create();
    await send(id, 3);
    await send(id, 1, 17);
    await send(id, 1);
    const listed = await listUploadedParts(deps, id);
    expect(listed).toMatchObject({ partSize: 5 * MiB, partCount: 3, completed: false });
    expect(listed.parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [3, 2 * MiB + 345],
    ]);
  });

  it('refuses to complete with parts missing, and names them', async () => {
    const { store, deps, create, send } = setup();
    const { id } = await create();
    await send(id, 2);
    await expect(completeUpload(deps, id)).rejects.toMatchObject({
      code: 'UPLOAD_INCOMPLETE',
      httpStatus: 409,
      message: 'parts missing: 1, 3',
    });
    expect(await store.head('up', keys.source(id))).toBeUndefined();
  });

  it('refuses to complete with a part of the wrong length', async () => {
    const { deps, create, send } = setup();
    const { id } = await create();
    await send(id, 1);
    await send(id, 2, 5 * MiB - 1);
    await send(id, 3);
    await expect(completeUpload(deps, id)).rejects.toMatchObject({
      code: 'UPLOAD_INCOMPLETE',
      message: expect.stringMatching(/^part 2 is 5242879 bytes, not 5242880/),
    });
  });

  it('joins the parts into the source, once: completing again changes nothing', async () => {
    const { store, deps, create, send } = setup();
    const { id } = await create();
    const bodies = [await send(id, 1), await send(id, 2), await send(id, 3)];
    const view = await completeUpload(deps, id);
    expect(view).toMatchObject({ id, status: 'processing' });
    expect(store.text('up', keys.source(id))).toBe(bodies.join(''));
    expect((await store.head('up', keys.source(id)))?.size).toBe(SIZE);
    expect(await completeUpload(deps, id)).toMatchObject({ id, status: 'processing' });
    expect(await listUploadedParts(deps, id)).toMatchObject({ completed: true, parts: [] });
    await expect(presignParts(deps, id, { partNumbers: [1] })).rejects.toMatchObject({
      code: 'UPLOAD_COMPLETED',
      httpStatus: 409,
    });
  });

  it('says the upload expired once S3 has discarded it, 3 days after it began', async () => {
    const { store, deps, create, recordOf, send, advance } = setup();
    const { id } = await create();
    await send(id, 1);
    advance(3 * 86_400_000);
    // What the lifecycle rule does to an upload left incomplete.
    store.uploads.delete((await recordOf(id)).uploadId);
    await expect(listUploadedParts(deps, id)).rejects.toMatchObject({ code: 'UPLOAD_EXPIRED' });
    await expect(completeUpload(deps, id)).rejects.toMatchObject({ code: 'UPLOAD_EXPIRED' });
  });

  it('takes a younger upload that S3 no longer knows for one being completed', async () => {
    const { store, deps, create, recordOf, send, advance } = setup();
    const { id } = await create();
    for (const n of [1, 2, 3]) await send(id, n);
    advance(3 * 86_400_000 - 1);
    // Another request's completion, which S3 has begun and not finished.
    store.uploads.delete((await recordOf(id)).uploadId);
    expect(await listUploadedParts(deps, id)).toMatchObject({ completed: true });
    expect(await completeUpload(deps, id)).toMatchObject({ id, status: 'awaiting_upload' });
  });
});

describe('DELETE /videos/{id} of a video still uploading in parts', () => {
  const removalOf = (deps: Deps): DeletionDeps => ({
    ...deps,
    cdn: { invalidate: async () => {} },
  });

  it('aborts the upload, so its parts are gone and no part can be added', async () => {
    const { store, deps, create, recordOf, send } = setup();
    const { id } = await create();
    await send(id, 1);
    const { uploadId } = await recordOf(id);

    await deleteVideo(removalOf(deps), id);

    expect(store.uploads.has(uploadId)).toBe(false);
    expect(await store.listParts('up', keys.source(id), uploadId)).toBeUndefined();
  });

  it('deletes all the same when the abort fails (the lifecycle rule aborts it later)', async () => {
    const { store, deps, create, send } = setup();
    const { id } = await create();
    await send(id, 1);
    store.abortMultipartUpload = async () => {
      throw new Error('S3 unavailable');
    };
    const warnings: string[] = [];
    const removal = {
      ...removalOf(deps),
      logger: { ...deps.logger, warn: (m: string) => void warnings.push(m) },
    };

    await deleteVideo(removal, id);

    expect(await store.getJson('up', keys.multipart(id))).toBeUndefined();
    expect(warnings).toEqual(['multipart upload not aborted: the lifecycle rule will']);
  });

  it('finds nothing to abort once the upload is complete, and removes the source', async () => {
    const { store, deps, create, send } = setup();
    const { id } = await create();
    for (const n of [1, 2, 3]) await send(id, n);
    await completeUpload(deps, id);
    const infos: string[] = [];
    const removal = {
      ...removalOf(deps),
      logger: { ...deps.logger, info: (m: string) => void infos.push(m) },
    };

    await deleteVideo(removal, id);

    expect(infos).not.toContain('multipart upload aborted');
    expect(infos).toContain('video deleted');
    expect(await store.getJson('up', keys.source(id))).toBeUndefined();
  });
});
