import { describe, expect, it } from 'vitest';
import type { Deps } from '../../functions/core/deps.js';
import { keys } from '../../functions/core/keys.js';
import type { MediaInfo } from '../../functions/core/media.js';
import { noMetrics } from '../../functions/core/metrics.js';
import { makePlan } from '../../functions/core/plan.js';
import type { ChunkRecord, Segment } from '../../functions/core/records.js';
import { publishVideo } from '../../functions/publish/publish.js';
import { testConfig } from '../support/config.js';
import { sourceInfo } from '../support/media-info.js';
import { MemoryQueue, MemoryStore } from '../support/memory-store.js';

const ID = 'abcdefghij0123456789';
const config = testConfig();
const info: MediaInfo = sourceInfo({ width: 640, height: 360 });
const plan = makePlan(ID, info, { segmentSeconds: 6, chunkSegments: 5, x264Preset: 'veryfast' });

function setup() {
  const store = new MemoryStore();
  const deps: Deps = {
    config,
    store,
    queue: new MemoryQueue(),
    clock: { now: () => new Date() },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    metrics: noMetrics,
  };
  void store.putJson('up', keys.plan(ID), plan);
  void store.putJson('up', keys.video(ID), {
    id: ID,
    createdAt: '2026-01-01T00:00:00Z',
    filename: 'a',
    contentType: 'video/mp4',
    size: 1,
  });
  return { store, deps };
}

const seg = (n: number, duration = 6): Segment => ({
  file: `seg_${String(n).padStart(5, '0')}.ts`,
  duration,
  bytes: 100_000,
  keyframes: [{ time: 0, offset: 564, length: 9000 }],
});

function chunkRecord(index: number): ChunkRecord {
  const c = plan.chunks[index];
  if (!c) throw new Error('no such chunk');
  const count = (c.frames ?? plan.estimatedFrames - c.startFrame) / plan.output.segmentFrames;
  const segments = Array.from({ length: Math.ceil(count) }, (_, i) => seg(c.firstSegment + i));
  return {
    chunk: index,
    frames: count * plan.output.segmentFrames,
    renditions: Object.fromEntries(
      plan.renditions.map((r) => [r.name, { segments, codecs: 'avc1.64001e' }]),
    ),
    // Its stretch of the sound, in segments named like the video's.
    audio: { segments: segments.map((s) => ({ ...s, keyframes: undefined })), codecs: 'mp4a.40.2' },
  };
}

describe('publishVideo', () => {
  it('waits for the first chunk', async () => {
    const { store, deps } = setup();
    await store.putJson('up', keys.chunk(ID, 1), chunkRecord(1));

    expect(await publishVideo(deps, ID)).toBe('not-ready');
    expect(store.text('out', keys.master(ID))).toBeUndefined();
  });

  it('publishes the opening, picture and sound, as a growing EVENT playlist', async () => {
    const { store, deps } = setup();
    await store.putJson('up', keys.chunk(ID, 0), chunkRecord(0));

    expect(await publishVideo(deps, ID)).toBe('playable');

    const video = store.text('out', keys.mediaPlaylist(ID, '360p')) ?? '';
    const audio = store.text('out', keys.mediaPlaylist(ID, 'audio')) ?? '';
    for (const list of [video, audio]) {
      expect(list).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
      expect(list).not.toContain('#EXT-X-ENDLIST');
      expect(list.match(/seg_\d+\.ts/g)).toEqual(['seg_00000.ts']);
    }
    expect(store.objects.get(`out/${keys.master(ID)}`)?.cacheControl).toBe('public, max-age=1');
    expect(await store.head('up', keys.playable(ID))).toBeDefined();
    expect(await store.head('up', keys.ready(ID))).toBeUndefined();
  });

  it('leaves out chunks after a gap: only the unbroken opening plays', async () => {
    const { store, deps } = setup();
    await store.putJson('up', keys.chunk(ID, 0), chunkRecord(0));
    await store.putJson('up', keys.chunk(ID, 2), chunkRecord(2));

    expect(await publishVideo(deps, ID)).toBe('playable');
    expect(store.text('out', keys.mediaPlaylist(ID, '360p'))?.match(/seg_\d+\.ts/g)).toEqual([
      'seg_00000.ts',
    ]);
  });

  it('ends the video at a chunk that came out short: the source ends there, what decoded plays', async () => {
    const { store, deps } = setup();
    // Chunk 1 got 2 s of its 6 s: a container that overstated the duration, or a cut-short
    // upload. The chunks after it have nothing to add; no need to wait for them.
    await store.putJson('up', keys.chunk(ID, 0), chunkRecord(0));
    const short = chunkRecord(1);
    const first = short.renditions['360p']?.segments[0];
    if (!first) throw new Error('no segment');
    await store.putJson('up', keys.chunk(ID, 1), {
      ...short,
      frames: 60,
      renditions: { '360p': { segments: [{ ...first, duration: 2 }], codecs: 'avc1.64001e' } },
      audio: { segments: [{ ...first, duration: 2 }], codecs: 'mp4a.40.2' },
    });

    expect(await publishVideo(deps, ID)).toBe('published');
    const video = store.text('out', keys.mediaPlaylist(ID, '360p')) ?? '';
    const audio = store.text('out', keys.mediaPlaylist(ID, 'audio')) ?? '';
    expect(video.match(/seg_\d+\.ts/g)).toEqual(['seg_00000.ts', 'seg_00001.ts']);
    // The chunk's audio ended with its video.
    expect(audio.match(/seg_\d+\.ts/g)).toHaveLength(2);
    expect((await store.getJson<{ duration: number }>('up', keys.ready(ID)))?.duration).toBe(8);
  });

  it('turns the playlists into VOD with I-frame playlists and ready.json when every job is done', async () => {
    const { store, deps } = setup();
    for (const c of plan.chunks)
      await store.putJson('up', keys.chunk(ID, c.index), chunkRecord(c.index));

    expect(await publishVideo(deps, ID)).toBe('published');

    const video = store.text('out', keys.mediaPlaylist(ID, '360p')) ?? '';
    expect(video).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(video).toContain('#EXT-X-ENDLIST');
    expect(video.match(/seg_\d+\.ts/g)).toHaveLength(11); // the opening, then 58 s in 6 s segments
    expect(store.text('out', keys.master(ID))).toContain('#EXT-X-I-FRAME-STREAM-INF');
    expect(await store.head('up', keys.ready(ID))).toBeDefined();
    expect(await publishVideo(deps, ID)).toBe('already-published');
  });
});
