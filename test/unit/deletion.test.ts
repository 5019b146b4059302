/**
 * Deleting a video (core/deletion.ts): where its objects are, how they are removed, and the
 * looks at its tombstone that stop a stage's work, through an in-memory store.
 */
import { describe, expect, it } from 'vitest';
import { batchesOf, DELETE_BATCH } from '../../functions/adapters/s3-store.js';
import {
  cdnPathsOf,
  footprintOf,
  purgeVideo,
  unlessDeleted,
} from '../../functions/core/deletion.js';
import { keys, videoIdFromTombstoneKey } from '../../functions/core/keys.js';
import { noMetrics } from '../../functions/core/metrics.js';
import { testConfig } from '../support/config.js';
import { MemoryQueue, MemoryStore } from '../support/memory-store.js';

const ID = 'abcdefghij0123456789';
const OTHER = 'abcdefghij012345678a';
const CREATED = '2026-12-01T10:00:00.000Z';

function setup() {
  const store = new MemoryStore();
  const queue = new MemoryQueue();
  const deps = {
    config: testConfig(),
    store,
    queue,
    clock: { now: () => new Date(CREATED) },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: noMetrics,
  };
  /** A processed video's objects, as the stages write them. */
  const seed = async (id: string) => {
    const put = (bucket: string, key: string) =>
      store.putObject(bucket, key, 'x', { contentType: 'application/octet-stream' });
    await put('up', keys.source(id));
    await put('up', keys.caption(id, 'en'));
    await put('up', keys.video(id));
    await put('up', keys.plan(id));
    await put('up', keys.chunk(id, 0));
    await put('up', keys.ready(id));
    await put('up', keys.index(id, Date.parse(CREATED)));
    await put('out', keys.master(id));
    await put('out', keys.mediaPlaylist(id, '360p'));
    await put('out', keys.segment(id, '360p', 'seg_00000.ts'));
    await put('out', keys.poster(id, 'jpg'));
  };
  const purges = () => queue.sent.filter((s) => s.queueUrl === 'purge').map((s) => s.message);
  return { store, queue, deps, seed, purges };
}

describe('footprintOf', () => {
  it('names the upload, output and state prefixes and the index entry of the video', () => {
    const places = footprintOf(testConfig(), ID, { createdAt: CREATED });

    expect(places).toEqual([
      { bucket: 'up', prefixes: [`uploads/${ID}/`], keys: [] },
      { bucket: 'out', prefixes: [`videos/${ID}/`], keys: [] },
      {
        bucket: 'up',
        prefixes: [`state/${ID}/`],
        keys: [keys.index(ID, Date.parse(CREATED))],
      },
    ]);
  });

  it('ends every prefix with a slash, so none can match a longer key of another video', () => {
    const prefixes = footprintOf(testConfig(), ID, {}).flatMap((p) => p.prefixes);

    expect(prefixes.every((p) => p.endsWith(`${ID}/`))).toBe(true);
  });

  it('leaves the index entry out when the creation time is unknown', () => {
    const places = footprintOf(testConfig(), ID, {});

    expect(places.flatMap((p) => p.keys)).toEqual([]);
  });

  it('never names the tombstone, which must outlive the purge', () => {
    const places = footprintOf(testConfig(), ID, { createdAt: CREATED });
    const named = places.flatMap((p) => [...p.prefixes, ...p.keys]);

    expect(named.filter((k) => keys.tombstone(ID).startsWith(k))).toEqual([]);
  });
});

describe('cdnPathsOf', () => {
  it('invalidates the whole output folder of the video with one wildcard path', () => {
    expect(cdnPathsOf(ID)).toEqual([`/videos/${ID}/*`]);
  });
});

describe('batchesOf', () => {
  it('cuts 2,500 keys into DeleteObjects requests of at most 1,000, in order', () => {
    const all = Array.from({ length: 2500 }, (_, i) => `k${i}`);

    const batches = batchesOf(all, DELETE_BATCH);

    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches.flat()).toEqual(all);
  });

  it('makes no request for no keys', () => {
    expect(batchesOf([], DELETE_BATCH)).toEqual([]);
  });
});

describe('videoIdFromTombstoneKey', () => {
  it('reads the id of a tombstone key and nothing else', () => {
    expect(videoIdFromTombstoneKey(keys.tombstone(ID))).toBe(ID);
    expect(videoIdFromTombstoneKey(`deleted/${ID}/x`)).toBeUndefined();
    expect(videoIdFromTombstoneKey('deleted/../state')).toBeUndefined();
  });
});

describe('purgeVideo', () => {
  it('removes every object of the video in both buckets, and nothing of another video', async () => {
    const { store, deps, seed } = setup();
    await seed(ID);
    await seed(OTHER);
    await store.putJson('up', keys.tombstone(ID), { deletedAt: CREATED, createdAt: CREATED });
    const others = [...store.objects.keys()].filter((k) => k.includes(OTHER)).sort();

    const report = await purgeVideo(deps, ID, { deletedAt: CREATED, createdAt: CREATED });

    const left = [...store.objects.keys()].filter((k) => k.includes(ID));
    expect(left).toEqual([`up/${keys.tombstone(ID)}`]);
    expect([...store.objects.keys()].filter((k) => k.includes(OTHER)).sort()).toEqual(others);
    // Ten found below the prefixes (four of them viewable); the index entry goes by name.
    expect(report).toEqual({ objects: 10, output: 4 });
  });

  it('finds nothing the second time', async () => {
    const { deps, seed } = setup();
    await seed(ID);
    await purgeVideo(deps, ID, { deletedAt: CREATED, createdAt: CREATED });

    const again = await purgeVideo(deps, ID, { deletedAt: CREATED, createdAt: CREATED });

    expect(again).toEqual({ objects: 0, output: 0 });
  });
});

describe('unlessDeleted', () => {
  it('runs the work of a video that is not deleted, and asks for no purge', async () => {
    const { deps, purges } = setup();

    const result = await unlessDeleted(deps, ID, async () => 'done');

    expect(result).toBe('done');
    expect(purges()).toEqual([]);
  });

  it('does no work for a deleted video, and asks for its purge', async () => {
    const { store, deps, purges } = setup();
    await store.putJson('up', keys.tombstone(ID), { deletedAt: CREATED });
    let ran = false;

    const result = await unlessDeleted(deps, ID, async () => {
      ran = true;
    });

    expect(result).toBe('deleted');
    expect(ran).toBe(false);
    expect(purges()).toEqual([{ type: 'purge', videoId: ID }]);
  });

  it('ends as deleted, and asks for a purge, when the video is deleted while it works', async () => {
    const { store, deps, purges } = setup();

    const result = await unlessDeleted(deps, ID, async () => {
      await store.putObject('out', keys.segment(ID, '360p', 'seg_00001.ts'), 'x', {
        contentType: 'video/mp2t',
      });
      // DELETE runs now: its listing may have missed the segment above.
      await store.putJson('up', keys.tombstone(ID), { deletedAt: CREATED });
      return 'encoded';
    });

    expect(result).toBe('deleted');
    expect(purges()).toEqual([{ type: 'purge', videoId: ID }]);
  });

  it('ends as deleted, not failed, when the work failed because the video was deleted', async () => {
    const { store, deps, purges } = setup();

    const result = await unlessDeleted(deps, ID, async () => {
      await store.putJson('up', keys.tombstone(ID), { deletedAt: CREATED });
      throw new Error('the source is gone');
    });

    expect(result).toBe('deleted');
    expect(purges()).toEqual([{ type: 'purge', videoId: ID }]);
  });

  it('lets any other error through, to be retried', async () => {
    const { deps } = setup();

    await expect(
      unlessDeleted(deps, ID, async () => {
        throw new Error('S3 is down');
      }),
    ).rejects.toThrow('S3 is down');
  });
});
