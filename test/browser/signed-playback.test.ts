/**
 * Private playback in a real player: hls.js in Chromium plays the signed URL the API hands
 * out from a stack with SPOOL_SIGNED_PLAYBACK, carrying the signature on to every playlist
 * and segment it fetches (the playlists' EXT-X-DEFINE QUERYPARAM variables), and cannot
 * start from the same URL without it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSource } from '../support/media.js';
import { ApiClient, type RunningStack, startStack, type VideoView } from '../support/stack.js';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startPlayerPage } from './player-page.js';

/** What test/browser/player-harness.js reports, as far as these tests read it. */
interface Snapshot {
  firstFrameAt: number | null;
  frames: number;
  fatal: string[];
  nonFatal: string[];
  videoError: string | null;
  currentTime: number;
}

let dir: string;
let stack: RunningStack;
let browser: Browser;
let playerPage: Awaited<ReturnType<typeof startPlayerPage>>;
let view: VideoView;
/** Without Chromium every test here is skipped with the reason printed (CI fails instead). */
const available = chromiumAvailable();

beforeAll(async () => {
  if (!available) return;
  dir = await mkdtemp(join(tmpdir(), 'spool-signed-browser-'));
  // One 6 s segment per chunk: the 10 s clip has a chunk join at 6 s.
  [stack, browser, playerPage] = await Promise.all([
    startStack({
      dataDir: join(dir, 'data'),
      env: {
        SPOOL_SIGNED_PLAYBACK: 'true',
        SPOOL_CHUNK_SEGMENTS: '1',
        SPOOL_LOG_LEVEL: 'silent',
      },
    }),
    launchChromium(),
    startPlayerPage(),
  ]);
  const api = new ApiClient(stack.baseUrl, stack.token);
  const file = await makeSource(dir, 'signed-clip', {
    width: 640,
    height: 360,
    rate: '25',
    seconds: 10,
    audio: true,
  });
  view = await api.waitFor(await api.upload(file));
  expect(view.status, JSON.stringify(view.error)).toBe('ready');
});

afterAll(async () => {
  await browser?.close();
  await playerPage?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Opens the player on `src` and records every response from the CDN. */
async function play(src: string) {
  const page: Page = await browser.newPage();
  const cdn = new URL(src).origin;
  const responses: { url: string; status: number }[] = [];
  page.on('response', (res) => {
    if (res.url().startsWith(cdn)) responses.push({ url: res.url(), status: res.status() });
  });
  await page.goto(`${playerPage.url}?src=${encodeURIComponent(src)}`);
  const snapshot = async () => (await page.evaluate('player.snapshot()')) as Snapshot;
  const until = async (condition: string, what: string, timeout = 20_000) => {
    await page.waitForFunction(condition, undefined, { timeout }).catch(async () => {
      throw new Error(
        `${what} did not happen in ${timeout} ms: ${JSON.stringify(await snapshot())}`,
      );
    });
  };
  return { page, responses, snapshot, until };
}

describe.skipIf(!available)('signed playback in hls.js', () => {
  it('plays the signed URL past the first chunk join, every request signed', async () => {
    const src = view.playbackUrl ?? '';
    const signature = new URL(src).search.slice(1);
    expect(signature).toMatch(/^Policy=[\w~-]+&Signature=[\w~-]+&Key-Pair-Id=\w+$/);

    const { page, responses, snapshot, until } = await play(src);

    await until('player.state.firstFrameAt !== null', 'the first frame');
    await until('player.video.currentTime > 6.5', 'playback past the join at 6 s');
    const end = await snapshot();
    expect(end.fatal).toEqual([]);
    expect(end.videoError).toBeNull();
    // The master, the video and audio playlists and their segments: all signed, all served.
    const paths = responses.map((r) => new URL(r.url).pathname);
    expect(paths.filter((p) => p.endsWith('.m3u8')).length).toBeGreaterThanOrEqual(3);
    expect(paths.filter((p) => p.endsWith('.ts') || p.endsWith('.aac')).length).toBeGreaterThan(2);
    for (const r of responses) {
      expect(new URL(r.url).search.slice(1), r.url).toBe(signature);
      expect(r.status, r.url).toBeLessThan(300);
    }
    await page.close();
  });

  it('does not start from the same URL without its signature', async () => {
    const src = (view.playbackUrl ?? '').split('?')[0] ?? '';

    const { page, responses, snapshot, until } = await play(src);

    await until('player.state.fatal.length > 0', 'a fatal player error');
    const end = await snapshot();
    expect(end.fatal.join(' ')).toMatch(/manifestLoadError/);
    expect(end.frames).toBe(0);
    expect(responses.map((r) => r.status)).toContain(403);
    expect(responses.every((r) => r.status === 403)).toBe(true);
    await page.close();
  });
});
