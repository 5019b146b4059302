/**
 * The use cases through in-memory ports, in milliseconds: their idempotency and race rules
 * (duplicate events, lost races, redelivered jobs, deduplication ids), with no S3, SQS or
 * ffmpeg. The adapters are tested against the real things elsewhere.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MediaDeps } from '../../functions/core/deps.js';
import { MediaError } from '../../functions/core/errors.js';
import { jobCount } from '../../functions/core/jobs.js';
import { keys } from '../../functions/core/keys.js';
import type { PurgeRequest } from '../../functions/core/messages.js';
import { noMetrics } from '../../functions/core/metrics.js';
import type { Plan } from '../../functions/core/plan.js';
import type { Transcoder } from '../../functions/core/ports.js';
import type { ChunkOutput } from '../../functions/core/records.js';
import { markFailed } from '../../functions/core/video-state.js';
import { handleDeadLetter } from '../../functions/failures/failures.js';
import { ingestUpload } from '../../functions/ingest/ingest.js';
import { publishVideo } from '../../functions/publish/publish.js';
import { purgeDeleted } from '../../functions/purge/purge.js';
import { requestPublish, runJob } from '../../functions/transcode/transcode.js';
import {
  BACKSTOP_PURGE_SECONDS,
  createVideo,
  deleteVideo,
  getVideo,
  listVideos,
} from '../../functions/upload/api.js';
import { testConfig } from '../support/config.js';
import { MemoryQueue, MemoryStore } from '../support/memory-store.js';

/** What ffprobe says of a 4 s 320x240 H.264 + AAC Matroska file (trimmed to what is read). */
const PROBE = {
  format: {
    format_name: 'matroska,webm',
    duration: '4.000000',
    start_time: '0.000000',
    nb_streams: 2,
  },
  streams: [
    {
      index: 0,
      codec_name: 'h264',
      codec_type: 'video',
      width: 320,
      height: 240,
      pix_fmt: 'yuv420p',
      r_frame_rate: '25/1',
      avg_frame_rate: '25/1',
      time_base: '1/1000',
      start_time: '0.000000',
      disposition: { default: 1, attached_pic: 0 },
    },
    {
      index: 1,
      codec_name: 'aac',
      codec_type: 'audio',
      sample_rate: '44100',
      channels: 1,
      time_base: '1/1000',
      start_time: '0.000000',
      disposition: { default: 1, attached_pic: 0 },
    },
  ],
};

function setup() {
  const store = new MemoryStore();
  const queue = new MemoryQueue();
  let now = Date.parse('2026-12-01T10:00:00Z');
  let probes = 0;
  let encodes = 0;
  let nextFailure: Error | undefined;
  /** Runs once, between the first segment a transcoder hands over and the others. */
  let duringEncode: (() => Promise<void>) | undefined;
  const invalidated: string[][] = [];
  /** Invalidations the CDN refuses before it accepts again (CloudFront's in-progress limit). */
  let refusals = 0;
  const transcoder: Transcoder = {
    // Writes one real segment per rendition: the use case uploads files from the work dir.
    async encodeVideoChunk({ plan, workDir, onSegment }): Promise<ChunkOutput> {
      const failure = nextFailure;
      nextFailure = undefined;
      if (failure) throw failure;
      encodes++;
      const renditions: ChunkOutput['renditions'] = {};
      for (const r of plan.renditions) {
        const dir = join(workDir, r.name);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'seg_00000.ts'), `segment of ${r.name}`);
        renditions[r.name] = {
          dir,
          codecs: 'avc1.64000d',
          segments: [{ file: 'seg_00000.ts', duration: 4, bytes: 20 }],
        };
      }
      const audioDir = join(workDir, 'audio');
      await mkdir(audioDir, { recursive: true });
      await writeFile(join(audioDir, 'seg_00000.ts'), 'audio');
      const audio = {
        dir: audioDir,
        codecs: 'mp4a.40.2',
        segments: [{ file: 'seg_00000.ts', duration: 4, bytes: 5 }],
      };
      const hook = duringEncode;
      duringEncode = undefined;
      if (hook && onSegment) {
        // As ffmpeg does: segments are handed over while the encode goes on, the picture's
        // first, then (after the hook) the sound's.
        for (const [name, r] of Object.entries(renditions)) {
          await onSegment(name, 'seg_00000.ts', join(r.dir, 'seg_00000.ts'));
        }
        await hook();
        await onSegment('audio', 'seg_00000.ts', join(audioDir, 'seg_00000.ts'));
      }
      return { frames: 100, renditions, audio };
    },
  };
  const deps: MediaDeps = {
    config: testConfig(),
    store,
    queue,
    clock: { now: () => new Date(now) },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: noMetrics,
    prober: {
      probe: async () => {
        probes++;
        return PROBE;
      },
    },
    transcoder,
    sources: {
      open: async () => ({
        url: 'memory://source',
        bytesRead: () => 0,
        failure: () => undefined,
        close: async () => {},
      }),
    },
  };
  /** POST /videos, then the client's PUT of `size` bytes. */
  const uploaded = async (size = 1000): Promise<string> => {
    const { id } = await createVideo(deps, { filename: 'a.mp4', contentType: 'video/mp4', size });
    await store.putObject('up', keys.source(id), 'x'.repeat(size), { contentType: 'video/mp4' });
    return id;
  };
  return {
    store,
    queue,
    deps,
    /** The API's and the purge function's ports: the CDN's invalidations are recorded. */
    removal: {
      ...deps,
      cdn: {
        invalidate: async (paths: readonly string[]) => {
          if (refusals > 0) {
            refusals--;
            throw new Error('TooManyInvalidationsInProgress');
          }
          invalidated.push([...paths]);
        },
      },
    },
    invalidated,
    uploaded,
    advance: (ms: number) => (now += ms),
    probes: () => probes,
    encodes: () => encodes,
    failNextEncode: (error: Error) => {
      nextFailure = error;
    },
    refuseInvalidations: (n: number) => {
      refusals = n;
    },
    whileEncoding: (hook: () => Promise<void>) => {
      duringEncode = hook;
    },
  };
}

const planOf = async (store: MemoryStore, id: string) => {
  const plan = await store.getJson<Plan>('up', keys.plan(id));
  if (!plan) throw new Error('no plan');
  return plan;
};

describe('createVideo and listVideos', () => {
  it('list newest first, a page at a time, with a cursor', async () => {
    const { deps, uploaded, advance } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await uploaded());
      advance(1000);
    }
    const first = await listVideos(deps, { limit: '2' });
    expect(first.items.map((v) => v.id)).toEqual([ids[4], ids[3]]);
    const second = await listVideos(deps, { limit: '2', cursor: first.nextCursor });
    expect(second.items.map((v) => v.id)).toEqual([ids[2], ids[1]]);
    const last = await listVideos(deps, { limit: '2', cursor: second.nextCursor });
    expect(last.items.map((v) => v.id)).toEqual([ids[0]]);
    expect(last.nextCursor).toBeUndefined();
  });

  it('refuses a cursor that is not one of its own', async () => {
    const { deps } = setup();
    await expect(
      listVideos(deps, { cursor: Buffer.from('state/../x').toString('base64url') }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('ingestUpload', () => {
  it('plans once and enqueues every job once, whatever the number of S3 events', async () => {
    const { deps, store, queue, uploaded, probes, encodes } = setup();
    const id = await uploaded();
    expect(await ingestUpload(deps, keys.source(id))).toBe('planned');
    expect(await ingestUpload(deps, keys.source(id))).toBe('already-planned');
    const plan = await planOf(store, id);
    // Ingest encoded and published the opening itself, once; the rest are jobs.
    expect(encodes()).toBe(1);
    expect(await store.head('up', keys.playable(id))).toBeDefined();
    expect(queue.sent.filter((s) => s.queueUrl === 'jobs')).toHaveLength(jobCount(plan) - 1);
    expect(queue.sent.some((s) => (s.message as { chunk?: number }).chunk === 0)).toBe(false);
    expect(probes()).toBe(1);
    expect((await getVideo(deps, id)).status).toBe('processing');
  });

  it('uses the plan a racing ingest wrote first, and does not probe or encode again', async () => {
    const { deps, store, queue, uploaded, probes, encodes } = setup();
    const id = await uploaded();
    // Another ingest of the same upload wrote the plan, then died before enqueueing.
    await ingestUpload(deps, keys.source(id));
    const plan = await planOf(store, id);
    store.objects.delete(`up/${keys.enqueued(id)}`);
    queue.sent.length = 0;
    expect(await ingestUpload(deps, keys.source(id))).toBe('planned');
    expect(probes()).toBe(1);
    expect(await planOf(store, id)).toEqual(plan);
    expect(encodes()).toBe(1);
    expect(queue.sent).toHaveLength(jobCount(plan) - 1);
  });

  it('leaves the opening to a job when it cannot be encoded in ingest', async () => {
    const { deps, store, queue, uploaded, failNextEncode } = setup();
    const id = await uploaded();
    failNextEncode(new Error('connect ECONNREFUSED'));
    expect(await ingestUpload(deps, keys.source(id))).toBe('planned');
    const plan = await planOf(store, id);
    expect(queue.sent.filter((s) => s.queueUrl === 'jobs')).toHaveLength(jobCount(plan));
  });

  it('fails the video when its opening is not media ffmpeg can decode', async () => {
    const { deps, queue, uploaded, failNextEncode } = setup();
    const id = await uploaded();
    failNextEncode(new MediaError('DECODE_FAILED', 'no picture could be decoded'));
    expect(await ingestUpload(deps, keys.source(id))).toBe('failed');
    expect((await getVideo(deps, id)).error?.code).toBe('DECODE_FAILED');
    expect(queue.sent.filter((s) => s.queueUrl === 'jobs')).toHaveLength(0);
  });

  it('fails an upload whose size is not the declared one, before probing', async () => {
    const { deps, store, uploaded, probes } = setup();
    const id = await uploaded(1000);
    await store.putObject('up', keys.source(id), 'x'.repeat(999), { contentType: 'video/mp4' });
    expect(await ingestUpload(deps, keys.source(id))).toBe('failed');
    expect((await getVideo(deps, id)).error?.code).toBe('SIZE_MISMATCH');
    expect(probes()).toBe(0);
  });

  it('ignores keys that are not sources, and sources with no video record', async () => {
    const { deps, store } = setup();
    expect(await ingestUpload(deps, 'uploads/../state/x')).toBe('ignored');
    const stray = 'uploads/abcdefghij0123456789/source';
    await store.putObject('up', stray, 'x', { contentType: 'video/mp4' });
    expect(await ingestUpload(deps, stray)).toBe('ignored');
  });
});

describe('runJob', () => {
  it('writes each record once; a redelivered job encodes nothing again', async () => {
    const { deps, store, queue, uploaded, encodes } = setup();
    const id = await uploaded();
    await ingestUpload(deps, keys.source(id));
    const plan = await planOf(store, id);
    const jobs = queue.sent.filter((s) => s.queueUrl === 'jobs').map((s) => s.message);
    for (const job of jobs) expect(await runJob(deps, job as never)).toBe('encoded');
    expect(encodes()).toBe(jobCount(plan));
    for (const job of jobs) expect(await runJob(deps, job as never)).toBe('already-done');
    expect(encodes()).toBe(jobCount(plan));
  });

  it('asks for a publish with the count of finished jobs as the deduplication id', async () => {
    const { deps, queue, uploaded } = setup();
    const id = await uploaded();
    await ingestUpload(deps, keys.source(id));
    const jobs = queue.sent.filter((s) => s.queueUrl === 'jobs').map((s) => s.message);
    for (const job of jobs) await runJob(deps, job as never);
    const publishes = queue.sent.filter((s) => s.queueUrl === 'publish.fifo');
    expect(publishes.length).toBeGreaterThan(0);
    // Racing workers that see the same state send the same id, and SQS drops the copies.
    expect(new Set(publishes.map((p) => p.dedup)).size).toBe(publishes.length);
    expect(publishes.every((p) => p.group === id)).toBe(true);
    // The last one says every job (the opening, in ingest, and these) is done.
    expect(publishes.at(-1)?.dedup).toBe(`${id}-${jobs.length + 1}`);
  });

  it('gives racing workers that see the same state the same deduplication id', async () => {
    const { deps, queue, store, uploaded } = setup();
    const id = await uploaded();
    await ingestUpload(deps, keys.source(id));
    const jobs = queue.sent.filter((s) => s.queueUrl === 'jobs').map((s) => s.message);
    for (const job of jobs) await runJob(deps, job as never);
    queue.sent.length = 0;
    const plan = await planOf(store, id);
    // Two workers finishing at once both see every record, and both ask.
    await requestPublish(deps, plan, jobs[0] as never);
    await requestPublish(deps, plan, jobs.at(-1) as never);
    const ids = queue.sent.map((s) => s.dedup);
    expect(ids).toEqual([`${id}-${jobs.length + 1}`, `${id}-${jobs.length + 1}`]);
  });

  it('spends nothing on a video that has failed', async () => {
    const { deps, queue, uploaded, encodes } = setup();
    const id = await uploaded();
    await ingestUpload(deps, keys.source(id));
    await markFailed(deps, id, { code: 'DECODE_FAILED', message: 'x' });
    const [job] = queue.sent.filter((s) => s.queueUrl === 'jobs').map((s) => s.message);
    expect(await runJob(deps, job as never)).toBe('skipped');
    expect(encodes()).toBe(1); // the opening, in ingest, before it failed
  });
});

describe('handleDeadLetter', () => {
  it.each([
    [{ type: 'video-chunk', chunk: 3 }, 'JOB_ABANDONED', 'chunk 3 did not complete'],
    [{ type: 'publish' }, 'PUBLISH_FAILED', 'publishing did not complete'],
  ])('fails the video of a dead %j', async (message, code, text) => {
    const { deps, uploaded } = setup();
    const id = await uploaded();
    expect(await handleDeadLetter(deps, { ...message, videoId: id })).toBe(id);
    const view = await getVideo(deps, id);
    expect(view.error?.code).toBe(code);
    expect(view.error?.message).toContain(text);
  });

  it('fails the video of an S3 event that ingest could not handle', async () => {
    const { deps, uploaded } = setup();
    const id = await uploaded();
    const event = { Records: [{ s3: { object: { key: keys.source(id) } } }] };
    expect(await handleDeadLetter(deps, event)).toBe(id);
    expect((await getVideo(deps, id)).error?.code).toBe('INGEST_FAILED');
  });

  it('keeps the first reason: failed is written once', async () => {
    const { deps, uploaded } = setup();
    const id = await uploaded();
    await markFailed(deps, id, { code: 'DECODE_FAILED', message: 'first' });
    await handleDeadLetter(deps, { type: 'publish', videoId: id });
    expect((await getVideo(deps, id)).error).toEqual({ code: 'DECODE_FAILED', message: 'first' });
  });

  it('ignores what belongs to no video', async () => {
    const { deps } = setup();
    expect(await handleDeadLetter(deps, { hello: 'world' })).toBeUndefined();
  });
});

/** Every key of the video left in either bucket (`bucket/key`), sorted. */
const leftOf = (store: MemoryStore, id: string) =>
  [...store.objects.keys()].filter((k) => k.includes(id)).sort();

/** Deliver the purge requests sent so far, as SQS gives them to the purge function. */
async function drainPurges(s: ReturnType<typeof setup>): Promise<number> {
  let delivered = 0;
  for (;;) {
    const i = s.queue.sent.findIndex((m) => m.queueUrl === 'purge' && !m.delaySeconds);
    if (i < 0) return delivered;
    const [request] = s.queue.sent.splice(i, 1);
    await purgeDeleted(s.removal, request?.message as PurgeRequest);
    delivered++;
  }
}

describe('deleteVideo', () => {
  it('removes the source, the output, the records and the index entry, and invalidates the CDN', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    expect(leftOf(s.store, id).some((k) => k.startsWith('out/'))).toBe(true);

    await deleteVideo(s.removal, id);

    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
    expect(s.invalidated).toEqual([[`/videos/${id}/*`]]);
    await expect(getVideo(s.deps, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await listVideos(s.deps, {})).items).toEqual([]);
  });

  it('writes the tombstone before it removes anything', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    const order: string[] = [];
    const { putJson, deleteObjects } = s.store;
    s.store.putJson = (bucket, key, value, opts) => {
      order.push(`put ${key}`);
      return putJson.call(s.store, bucket, key, value, opts);
    };
    s.store.deleteObjects = (bucket, keys) => {
      order.push(`delete ${keys.length}`);
      return deleteObjects.call(s.store, bucket, keys);
    };

    await deleteVideo(s.removal, id);

    expect(order[0]).toBe(`put ${keys.tombstone(id)}`);
    expect(order.slice(1).every((o) => o.startsWith('delete'))).toBe(true);
    expect(order.length).toBeGreaterThan(1);
  });

  it('keeps nothing of the video in the tombstone but its id and two times', async () => {
    const s = setup();
    const id = await s.uploaded();

    await deleteVideo(s.removal, id);

    const tombstone = await s.store.getJson<object>('up', keys.tombstone(id));
    expect(Object.keys(tombstone ?? {}).sort()).toEqual(['createdAt', 'deletedAt']);
  });

  it('refuses a malformed id with 400, and answers 404 for an unknown one', async () => {
    const s = setup();

    for (const bad of ['', '../state', 'ABCDEFGHIJ0123456789', 'abcdefghij0123456789/x']) {
      await expect(deleteVideo(s.removal, bad)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        httpStatus: 400,
      });
    }
    await expect(deleteVideo(s.removal, 'abcdefghij0123456789')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      httpStatus: 404,
    });
    expect(s.store.objects.size).toBe(0);
  });

  it('deletes again what a delete cut short left, and succeeds', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    await deleteVideo(s.removal, id);
    // Left by a first attempt that stopped half-way (or written by a late job).
    await s.store.putObject('out', keys.master(id), '#EXTM3U', { contentType: 'text/plain' });

    await deleteVideo(s.removal, id);

    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
    expect(s.invalidated).toHaveLength(2);
  });

  it('hands an invalidation CloudFront refuses to the purge queue, and still answers', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    s.refuseInvalidations(1);

    await deleteVideo(s.removal, id);

    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
    expect(s.invalidated).toEqual([]);
    expect(s.queue.sent).toContainEqual({
      queueUrl: 'purge',
      message: { type: 'purge', videoId: id, invalidate: true },
    });
    await drainPurges(s);
    expect(s.invalidated).toEqual([[`/videos/${id}/*`]]);
  });

  it('asks for a purge once more after every presigned URL it handed out has expired', async () => {
    const s = setup();
    const id = await s.uploaded();

    await deleteVideo(s.removal, id);

    expect(s.queue.sent).toContainEqual({
      queueUrl: 'purge',
      message: { type: 'purge', videoId: id },
      delaySeconds: BACKSTOP_PURGE_SECONDS,
    });
    expect(BACKSTOP_PURGE_SECONDS).toBeGreaterThanOrEqual(s.deps.config.SPOOL_PRESIGN_SECONDS);
  });
});

describe('a video deleted while it is processed', () => {
  it('leaves nothing behind when it is deleted while a job uploads its segments', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    const [job] = s.queue.sent.filter((m) => m.queueUrl === 'jobs').map((m) => m.message);
    // The picture's segments are up when the delete lists; the sound's lands after it.
    s.whileEncoding(() => deleteVideo(s.removal, id));

    expect(await runJob(s.deps, job as never)).toBe('deleted');
    expect(leftOf(s.store, id)).toContain(`out/${keys.segment(id, 'audio', 'seg_00000.ts')}`);
    expect(await drainPurges(s)).toBeGreaterThan(0);

    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
    // The purge removed viewable output, so the CDN forgets it again.
    expect(s.invalidated).toEqual([[`/videos/${id}/*`], [`/videos/${id}/*`]]);
  });

  it('writes no record and asks for no publish from a job whose video was deleted mid-encode', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    const [job] = s.queue.sent.filter((m) => m.queueUrl === 'jobs').map((m) => m.message);
    s.queue.sent.length = 0;
    s.whileEncoding(() => deleteVideo(s.removal, id));

    await runJob(s.deps, job as never);

    expect(await s.store.head('up', keys.chunk(id, (job as { chunk: number }).chunk))).toBe(
      undefined,
    );
    expect(s.queue.sent.filter((m) => m.queueUrl === 'publish.fifo')).toEqual([]);
  });

  it('spends nothing on a job of a video deleted before it started, and asks for a purge', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    const [job] = s.queue.sent.filter((m) => m.queueUrl === 'jobs').map((m) => m.message);
    await deleteVideo(s.removal, id);
    s.queue.sent.length = 0;

    expect(await runJob(s.deps, job as never)).toBe('deleted');

    expect(s.encodes()).toBe(1); // the opening, in ingest
    expect(s.queue.sent).toEqual([{ queueUrl: 'purge', message: { type: 'purge', videoId: id } }]);
  });

  it('purges a source uploaded through a URL issued before the delete', async () => {
    const s = setup();
    const { id } = await createVideo(s.deps, {
      filename: 'a.mp4',
      contentType: 'video/mp4',
      size: 10,
    });
    await deleteVideo(s.removal, id);
    await s.store.putObject('up', keys.source(id), 'x'.repeat(10), { contentType: 'video/mp4' });

    expect(await ingestUpload(s.deps, keys.source(id))).toBe('deleted');
    await drainPurges(s);

    expect(s.probes()).toBe(0);
    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
  });

  it('enqueues no jobs when the video is deleted while ingest plays its opening', async () => {
    const s = setup();
    const id = await s.uploaded();
    s.whileEncoding(() => deleteVideo(s.removal, id));

    expect(await ingestUpload(s.deps, keys.source(id))).toBe('deleted');
    await drainPurges(s);

    expect(s.queue.sent.filter((m) => m.queueUrl === 'jobs')).toEqual([]);
    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
  });

  it('publishes nothing for a deleted video', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    await deleteVideo(s.removal, id);

    expect(await publishVideo(s.deps, id)).toBe('deleted');
    await drainPurges(s);

    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
  });

  it('does not mark a deleted video failed when its dead letters arrive', async () => {
    const s = setup();
    const id = await s.uploaded();
    await deleteVideo(s.removal, id);

    await handleDeadLetter(s.deps, { type: 'video-chunk', chunk: 3, videoId: id });

    expect(await s.store.head('up', keys.failed(id))).toBeUndefined();
  });
});

describe('purgeDeleted', () => {
  it('removes nothing of a video that was not deleted, whoever asks', async () => {
    const s = setup();
    const id = await s.uploaded();
    await ingestUpload(s.deps, keys.source(id));
    const before = leftOf(s.store, id);

    expect(await purgeDeleted(s.removal, { videoId: id })).toBe('not-deleted');

    expect(leftOf(s.store, id)).toEqual(before);
    expect(s.invalidated).toEqual([]);
  });

  it('fails a purge that must invalidate when CloudFront refuses, so SQS retries it', async () => {
    const s = setup();
    const id = await s.uploaded();
    await deleteVideo(s.removal, id);
    s.refuseInvalidations(1);

    await expect(purgeDeleted(s.removal, { videoId: id, invalidate: true })).rejects.toThrow(
      'TooManyInvalidationsInProgress',
    );
    expect(await purgeDeleted(s.removal, { videoId: id, invalidate: true })).toBe('nothing-left');
    expect(s.invalidated).toHaveLength(2);
  });

  it('invalidates the CDN only when it removed something a viewer could fetch', async () => {
    const s = setup();
    const id = await s.uploaded();
    await deleteVideo(s.removal, id);
    await s.store.putJson('up', keys.redriven(id), { at: 'late' });

    expect(await purgeDeleted(s.removal, { videoId: id })).toBe('purged');
    expect(await purgeDeleted(s.removal, { videoId: id })).toBe('nothing-left');

    expect(s.invalidated).toHaveLength(1); // DELETE's own
    expect(leftOf(s.store, id)).toEqual([`up/${keys.tombstone(id)}`]);
  });
});
