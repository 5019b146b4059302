/**
 * The opening of a video plays before the rest is encoded: a growing EVENT playlist that
 * players watch from the start, which becomes VOD with ENDLIST when the last chunk is done.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { frameTimes, makeSource } from '../support/media.js';
import { expectPlayable, fetchManifest } from '../support/playable.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';

/** A 40 s source through the whole pipeline: several minutes on a busy 2-core machine. */
const LONG_MS = 300_000;

let dir: string;
let stack: RunningStack;
let api: ApiClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-playable-'));
  stack = await startStack({
    dataDir: join(dir, 'data'),
    // One worker and a slow preset: chunks finish one by one, far apart.
    env: { SPOOL_WORKERS: '1', SPOOL_X264_PRESET: 'medium', SPOOL_LOG_LEVEL: 'silent' },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

it(
  'plays the finished opening while later chunks are still encoding',
  async () => {
    const source = await makeSource(dir, 'opening', {
      width: 854,
      height: 480,
      rate: '30',
      seconds: 40,
      audio: true,
    });
    const id = await api.upload(source);

    const early = await api.waitFor(
      id,
      (v) => v.playable === true || v.status !== 'processing',
      LONG_MS,
    );
    expect(early.status).toBe('processing');
    expect(early.playbackUrl).toMatch(/master\.m3u8$/);
    const master = await fetchManifest(early.playbackUrl ?? '');
    const variant = master.manifest.playlists?.[0];
    if (!variant) throw new Error('no variant in the early master playlist');
    const url = new URL(variant.uri, early.playbackUrl).toString();
    const growing = await (await fetch(url)).text();
    expect(growing).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(growing).toContain('#EXT-X-START:TIME-OFFSET=0');
    expect(growing).not.toContain('#EXT-X-ENDLIST');
    // What is listed already plays, from the first frame, with no gap.
    const times = await frameTimes(url);
    const listed = (await fetchManifest(url)).manifest.segments ?? [];
    expect(listed.length).toBeGreaterThan(0);
    expect(times.length).toBe(Math.round(listed.reduce((t, s) => t + s.duration, 0) * 30));

    const done = await api.waitFor(id, undefined, LONG_MS);
    await expectPlayable(done, source, { framesCoded: true });
    expect(await (await fetch(url)).text()).toContain('#EXT-X-ENDLIST');
  },
  LONG_MS + 20_000,
);
