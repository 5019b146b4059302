import { describe, expect, it } from 'vitest';
import type { Deps } from '../../functions/core/deps.js';
import { jobCount } from '../../functions/core/jobs.js';
import { keys } from '../../functions/core/keys.js';
import { noMetrics } from '../../functions/core/metrics.js';
import { makePlan } from '../../functions/core/plan.js';
import { deriveView } from '../../functions/core/state.js';
import { readRecords } from '../../functions/core/video-state.js';
import { sweep } from '../../functions/sweeper/sweeper.js';
import { testConfig } from '../support/config.js';
import { sourceInfo } from '../support/media-info.js';
import { MemoryQueue, MemoryStore } from '../support/memory-store.js';

const config = testConfig({ SPOOL_STUCK_AFTER_MINUTES: '90' });
const MINUTE = 60_000;

/** A store with videos created "now" and a clock the test moves forward. */
function setup() {
  const store = new MemoryStore();
  const queue = new MemoryQueue();
  let now = Date.now();
  const deps: Deps = {
    config,
    store,
    queue,
    clock: { now: () => new Date(now) },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: noMetrics,
  };
  const video = async (n: number, state: 'awaiting' | 'planned' | 'all-done' | 'ready') => {
    const id = `video${String(n).padStart(15, '0')}`;
    const createdAt = Date.now();
    await store.putJson('up', keys.video(id), {
      id,
      createdAt: new Date(createdAt).toISOString(),
      filename: 'a.mp4',
      contentType: 'video/mp4',
      size: 1,
    });
    await store.putJson('up', keys.index(id, createdAt), { id });
    if (state === 'awaiting') return id;
    await store.putObject('up', keys.source(id), 'x', { contentType: 'video/mp4' });
    const plan = makePlan(id, sourceInfo({ width: 640, height: 360 }, { duration: 60 }), {
      segmentSeconds: 6,
      chunkSegments: 5,
      x264Preset: 'veryfast',
    });
    await store.putJson('up', keys.plan(id), plan);
    await store.putJson('up', keys.enqueued(id), {});
    if (state === 'all-done' || state === 'ready') {
      for (const c of plan.chunks) await store.putJson('up', keys.chunk(id, c.index), {});
    }
    if (state === 'ready') await store.putJson('up', keys.ready(id), { renditions: [] });
    return id;
  };
  return { store, queue, deps, video, advance: (ms: number) => (now += ms) };
}

const statusOf = async (deps: Deps, id: string) => {
  const records = await readRecords(deps, id);
  if (!records) throw new Error('no records');
  return deriveView(records, (k) => k);
};

describe('sweep', () => {
  it('leaves a video alone while it has made progress within the bound', async () => {
    const { deps, queue, video, advance } = setup();
    await video(1, 'planned');
    advance(89 * MINUTE);
    const report = await sweep(deps);
    expect(report).toMatchObject({ unfinished: 1, redriven: [], failed: [] });
    expect(queue.sent).toEqual([]);
  });

  it('re-sends the missing jobs of a stalled video once, then fails it if still stalled', async () => {
    const { deps, queue, video, advance } = setup();
    const id = await video(1, 'planned');
    advance(91 * MINUTE);
    expect((await sweep(deps)).redriven).toEqual([id]);
    const plan = makePlan(id, sourceInfo({ width: 640, height: 360 }, { duration: 60 }), {
      segmentSeconds: 6,
      chunkSegments: 5,
      x264Preset: 'veryfast',
    });
    expect(queue.sent).toHaveLength(jobCount(plan));
    expect(queue.sent.every((s) => s.queueUrl === 'jobs')).toBe(true);

    // A sweep soon after does nothing more: the re-sent jobs get their time.
    advance(30 * MINUTE);
    expect(await sweep(deps)).toMatchObject({ redriven: [], failed: [] });
    expect(queue.sent).toHaveLength(jobCount(plan));

    advance(61 * MINUTE);
    expect((await sweep(deps)).failed).toEqual([id]);
    expect(await statusOf(deps, id)).toMatchObject({
      status: 'failed',
      error: { code: 'STUCK', message: expect.stringContaining('no progress for 90 minutes') },
    });
  });

  it('asks for the publish of a video whose jobs are all done', async () => {
    const { deps, queue, video, advance } = setup();
    const id = await video(1, 'all-done');
    advance(91 * MINUTE);
    await sweep(deps);
    expect(queue.sent).toEqual([
      expect.objectContaining({
        queueUrl: 'publish.fifo',
        message: { type: 'publish', videoId: id },
      }),
    ]);
  });

  it('fails an upload that was never planned', async () => {
    const { deps, store, video, advance } = setup();
    const id = await video(1, 'planned');
    store.objects.delete(`up/${keys.plan(id)}`);
    advance(91 * MINUTE);
    expect((await sweep(deps)).failed).toEqual([id]);
    expect((await statusOf(deps, id)).error?.code).toBe('STUCK');
  });

  it('skips ready videos and videos still waiting for their upload', async () => {
    const { deps, queue, video, advance } = setup();
    await video(1, 'ready');
    await video(2, 'awaiting');
    advance(120 * MINUTE);
    expect(await sweep(deps)).toMatchObject({ unfinished: 0, redriven: [], failed: [] });
    expect(queue.sent).toEqual([]);
  });

  it('gives videos twice as long while jobs wait in the queue (a backlog is not a stall)', async () => {
    const { deps, queue, video, advance } = setup();
    const id = await video(1, 'planned');
    queue.backlog.set('jobs', 40);
    advance(120 * MINUTE);
    expect(await sweep(deps)).toMatchObject({ backlog: 40, redriven: [], failed: [] });
    expect(queue.sent).toEqual([]);
    advance(61 * MINUTE);
    expect((await sweep(deps)).redriven).toEqual([id]);
  });

  it('looks at the last two days only', async () => {
    const { deps, video, advance } = setup();
    await video(1, 'planned');
    advance(49 * 60 * MINUTE);
    expect(await sweep(deps)).toMatchObject({ looked: 0, redriven: [], failed: [] });
  });
});
