/**
 * A real player in a real browser: hls.js in headless Chromium against `npm start`'s stack.
 * What ffprobe cannot tell: that the stream starts, plays across chunk joins without a
 * stall, seeks and switches levels in the player people use, shows uploaded captions as
 * subtitles, and that the demo page works.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSource, sharedMedia } from '../support/media.js';
import { ApiClient, REPO, type RunningStack, startStack } from '../support/stack.js';
import { chromiumAvailable, launchChromium, mseType } from './chromium.js';
import { startPlayerPage } from './player-page.js';

/** What test/browser/player-harness.js reports. */
interface Snapshot {
  hlsSupported: boolean;
  firstFrameAt: number | null;
  masterRequestedAt: number | null;
  frames: number;
  frameHeight: number;
  fatal: string[];
  nonFatal: string[];
  videoError: string | null;
  stalls: number[];
  audioRanges: [number, number][];
  warnings: string[];
  longestStall: number;
  switched: number[];
  bufferTracks: string[];
  seeked: number;
  videoStart: number | null;
  currentTime: number;
  levels: { height: number; bitrate: number }[];
  currentLevel: number;
  audioTracks: number;
  audioDecodedBytes: number;
  droppedFrames: number;
  subtitleTracks: number;
  subtitleTrack: number;
  textTracks: {
    kind: string;
    label: string;
    language: string;
    mode: string;
    cues: Cue[];
    activeCues: Cue[];
  }[];
}
interface Cue {
  start: number;
  end: number;
  text: string;
}

/** H.264 High 3.1 and AAC-LC, as in every Spool stream. */
const H264_AAC = 'avc1.64001f,mp4a.40.2';
/**
 * Non-fatal hls.js errors that still mean the stream is broken: MSE refused a segment or the
 * demuxer could not parse one. (hls.js 1.7 also reports `bufferAppendNoProgress` for the first
 * fragment at startup, when it has no buffered range to compare with: not a stream defect.)
 */
const BAD_MEDIA = /bufferAppendError|bufferAddCodecError|IncompatibleCodecs|fragParsingError/;
/** A stall is `waiting` without resuming for this long; a seek or a level switch is less. */
const MAX_STALL_MS = 2000;

let dir: string;
let stack: RunningStack;
let api: ApiClient;
let browser: Browser;
let playerPage: Awaited<ReturnType<typeof startPlayerPage>>;
/** Without Chromium every test here is skipped with the reason printed (CI fails instead). */
const available = chromiumAvailable();

beforeAll(async () => {
  if (!available) return;
  dir = await mkdtemp(join(tmpdir(), 'spool-browser-'));
  // One 6 s segment per chunk: a 14 s clip has chunk joins at 6 s and 12 s.
  [stack, browser, playerPage] = await Promise.all([
    startStack({
      dataDir: join(dir, 'data'),
      env: { SPOOL_CHUNK_SEGMENTS: '1', SPOOL_LOG_LEVEL: 'silent' },
    }),
    launchChromium(),
    startPlayerPage(),
  ]);
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  await browser?.close();
  await playerPage?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Fails with a clear message when this Chromium cannot decode the stream's codecs. */
async function expectCodecs(page: Page, codecs: string[]) {
  for (const c of new Set(codecs)) {
    const ok = await page.evaluate(`MediaSource.isTypeSupported(${JSON.stringify(mseType(c))})`);
    if (!ok) {
      throw new Error(
        `This Chromium cannot decode ${c} (MediaSource.isTypeSupported is false): it was built ` +
          'without proprietary codecs. Use a build with H.264/AAC, such as Debian\u2019s chromium package.',
      );
    }
  }
}

describe.skipIf(!available)('hls.js in Chromium', () => {
  it('starts, plays across chunk joins, seeks, switches levels and has audio', async () => {
    // Arrange: a clip uploaded through the API, as a client app does.
    const file = await makeSource(dir, 'clip-720p', {
      width: 1280,
      height: 720,
      rate: '30',
      seconds: 14,
      audio: true,
    });
    const view = await api.waitFor(await api.upload(file));
    expect(view.status, JSON.stringify(view.error)).toBe('ready');
    const page = await browser.newPage();
    await expectCodecs(page, [H264_AAC, ...(view.renditions ?? []).map((r) => r.codecs)]);

    await page.goto(`${playerPage.url}?src=${encodeURIComponent(view.playbackUrl ?? '')}`);
    const snapshot = async () => (await page.evaluate('player.snapshot()')) as Snapshot;
    const until = async (condition: string, what: string, timeout = 15_000) => {
      await page.waitForFunction(condition, undefined, { timeout }).catch(async () => {
        throw new Error(
          `${what} did not happen in ${timeout} ms: ${JSON.stringify(await snapshot())}`,
        );
      });
    };
    const framesNow = async () => (await snapshot()).frames;
    /** New frames are presented (at `height`, when given): playback goes on. */
    const expectFrames = async (what: string, height?: number) => {
      const from = await framesNow();
      const size = height === undefined ? 'true' : `player.state.frameHeight === ${height}`;
      await until(`player.state.frames >= ${from + 15} && ${size}`, `frames after ${what}`);
    };

    // It starts.
    await until('player.state.firstFrameAt !== null', 'the first frame', 20_000);
    const started = await snapshot();
    expect(started.hlsSupported).toBe(true);
    expect(started.masterRequestedAt).not.toBeNull();
    const startupMs = (started.firstFrameAt ?? 0) - (started.masterRequestedAt ?? 0);
    console.log(
      `startup time (master playlist request to first frame): ${startupMs.toFixed(0)} ms`,
    );

    // It plays across the first chunk join (6 s).
    await until('player.video.currentTime > 6.5', 'playback past the join at 6 s', 20_000);

    // It switches down and up (in whichever order makes both a change from the current level).
    const { levels, currentLevel } = await snapshot();
    expect(levels.length).toBeGreaterThanOrEqual(2);
    const last = levels.length - 1;
    const order = currentLevel === 0 ? [last, 0] : [0, last];
    for (const level of order) {
      const before = (await snapshot()).switched.length;
      await page.evaluate(`player.hls.currentLevel = ${level}`);
      await until(
        `player.state.switched.slice(${before}).includes(${level})`,
        `LEVEL_SWITCHED to ${level}`,
      );
      await expectFrames(`the switch to level ${level}`, levels[level]?.height);
    }

    // It plays across the second chunk join (12 s).
    await until('player.video.currentTime > 12.5', 'playback past the join at 12 s', 20_000);
    // Every chunk encodes its own stretch of sound: the audio buffer is one range from the
    // start across every join, with no hole for hls.js to skip.
    const { audioRanges, videoStart, warnings } = await snapshot();
    console.log(`hls.js warnings: ${warnings.join(' | ') || 'none'}`);
    // hls.js hides a gap or an overlap in the sound (filling it with silence, or shifting the
    // frames), and says so: none at any join (the first second is the stream's start).
    const patched = warnings.filter(
      (w) => /Injecting|overlaps marker/.test(w) && Number(/@ ([\d.]+)s/.exec(w)?.[1]) >= 1,
    );
    expect(patched).toEqual([]);
    expect(audioRanges.length, JSON.stringify(audioRanges)).toBe(1);
    expect(audioRanges[0]?.[0]).toBeLessThanOrEqual((videoStart ?? 0) + 0.05);
    expect(audioRanges[0]?.[1]).toBeGreaterThan(12.5);

    // It seeks back and goes on playing.
    const seeks = (await snapshot()).seeked;
    await page.evaluate('player.video.currentTime = 10');
    await until(`player.state.seeked > ${seeks}`, 'seeked');
    await until('player.video.currentTime > 10.5', 'playback after the seek');
    await expectFrames('the seek');

    // Assert: no decode or player error, no stall, and sound.
    const end = await snapshot();
    console.log(
      `played ${end.frames} frames (${end.droppedFrames} dropped); levels ${end.levels
        .map((l) => `${l.height}p`)
        .join(' ')}; waits ${end.stalls.map((s) => s.toFixed(0)).join(', ') || 'none'} ms; ` +
        `non-fatal hls.js errors: ${end.nonFatal.join('; ') || 'none'}`,
    );
    expect(end.fatal).toEqual([]);
    expect(end.videoError).toBeNull();
    expect(end.nonFatal.filter((e) => BAD_MEDIA.test(e))).toEqual([]);
    expect(end.longestStall).toBeLessThan(MAX_STALL_MS);
    expect(end.audioTracks).toBeGreaterThanOrEqual(1);
    expect(end.bufferTracks).toContain('audio');
    expect(end.audioDecodedBytes).toBeGreaterThan(0);
    await page.close();
  });
});

describe.skipIf(!available)('the demo page', () => {
  it('uploads a chosen file with progress, follows processing and plays it', async () => {
    const file = await makeSource(dir, 'demo-clip', {
      width: 854,
      height: 480,
      rate: '25',
      seconds: 8,
      audio: true,
    });
    const page = await browser.newPage({ viewport: { width: 1000, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${stack.baseUrl}/`);

    // Act: choose the file, as a user does.
    await page.setInputFiles('#file', file);

    // The upload bar reaches 100%, processing ends ready, and the video plays.
    const value = (selector: string) =>
      page.locator(selector).evaluate((e) => (e as unknown as { value: number }).value);
    await expect.poll(() => value('#upload-progress'), { timeout: 20_000 }).toBe(100);
    const statuses = new Set<string>();
    await expect
      .poll(
        async () => {
          const status = (await page.locator('#status').textContent()) ?? '';
          statuses.add(status);
          return status;
        },
        { timeout: 90_000, interval: 200 },
      )
      .toMatch(/^(ready|failed)$/);
    console.log(`demo page showed: ${[...statuses].join(' → ')}`);
    const error = (await page.locator('#error').textContent()) ?? '';
    expect(await page.locator('#status').textContent(), error).toBe('ready');
    expect(await value('#processing-progress')).toBe(1);
    await page.waitForFunction("document.getElementById('video').currentTime > 1", undefined, {
      timeout: 20_000,
    });
    expect(await page.locator('#error').isHidden()).toBe(true);
    // Auto plus every rendition of the 480p ladder.
    expect(await page.locator('#quality option').count()).toBeGreaterThanOrEqual(3);
    // The new video heads the recent list.
    const id = new URL(page.url()).searchParams.get('play');
    await expect
      .poll(() => page.locator('#recent button').first().getAttribute('data-id'))
      .toBe(id);

    // Hovering the scrub bar previews the time there (with a storyboard frame when the
    // video has one), as in the screenshot.
    const box = await page.locator('#scrub').boundingBox();
    if (!box) throw new Error('no scrub bar');
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await expect(page.locator('#thumb-time').textContent()).resolves.toMatch(/^0:0\d$/);
    const view = (await api.request('GET', `/videos/${id}`)).body;
    if (view.storyboardUrl) {
      await expect
        .poll(() => page.locator('#thumb-image').getAttribute('style'))
        .toContain('background-image: url(');
    }
    await mkdir(join(REPO, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-artifacts', 'demo-page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!available)('captions in hls.js', () => {
  it('shows the captions uploaded with the video as a subtitles track', async () => {
    // Arrange: a clip uploaded with English captions, one cue before and one after the
    // 6 s segment boundary of the subtitles rendition.
    const file = await makeSource(dir, 'captioned', {
      width: 640,
      height: 360,
      rate: '30',
      seconds: 10,
      audio: true,
    });
    const srt = join(dir, 'captioned.en.srt');
    await writeFile(
      srt,
      '1\r\n00:00:01,000 --> 00:00:03,000\r\nHello from Spool\r\n\r\n' +
        '2\r\n00:00:07,500 --> 00:00:08,500\r\nAfter the join\r\n',
    );
    const id = await api.uploadWithCaptions(file, srt);
    const view = await api.waitFor(id);
    expect(view.status, JSON.stringify(view.error)).toBe('ready');
    const master = await (await fetch(view.playbackUrl ?? '')).text();
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",',
    );

    // Act: play it with the English subtitles selected from the start.
    const page = await browser.newPage();
    await expectCodecs(page, [H264_AAC]);
    const src = encodeURIComponent(view.playbackUrl ?? '');
    await page.goto(`${playerPage.url}?src=${src}&subtitles=en`);
    const snapshot = async () => (await page.evaluate('player.snapshot()')) as Snapshot;
    const until = async (condition: string, what: string, timeout = 15_000) => {
      await page.waitForFunction(condition, undefined, { timeout }).catch(async () => {
        throw new Error(
          `${what} did not happen in ${timeout} ms: ${JSON.stringify(await snapshot())}`,
        );
      });
    };
    /** A showing text track of the video has a cue (active ones only, when `active`). */
    const shown = (text: string, active = false) =>
      `Array.from(player.video.textTracks).some((t) => t.mode === 'showing' && ` +
      `Array.from(t.${active ? 'activeCues' : 'cues'} ?? []).some((c) => c.text === ${JSON.stringify(text)}))`;

    // Assert: hls.js exposes the rendition and renders it as a native text track whose
    // cues are on the video clock, and shows each cue while playback is within it.
    await until('player.state.firstFrameAt !== null', 'the first frame', 20_000);
    await until(shown('Hello from Spool'), 'the first cue in a showing text track');
    await until(shown('Hello from Spool', true), 'the first cue shown at 1 s');
    await until(shown('After the join', true), 'the cue after the join shown at 7.5 s', 20_000);
    const end = await snapshot();
    expect(end.subtitleTracks).toBe(1);
    expect(end.subtitleTrack).toBe(0);
    const track = end.textTracks.find((t) => t.mode === 'showing');
    expect(track).toMatchObject({ kind: 'subtitles', label: 'English', language: 'en' });
    // Cue times are the SRT's on the video clock: counted from the first video frame (which
    // hls.js puts a little after 0 when the audio starts earlier), and within 0.1 s as media time.
    if (end.videoStart === null) throw new Error('no video appended');
    const origin = end.videoStart;
    for (const [text, start, stop] of [
      ['Hello from Spool', 1, 3],
      ['After the join', 7.5, 8.5],
    ] as const) {
      const cue = track?.cues.find((c) => c.text === text);
      if (!cue) throw new Error(`no cue '${text}' in ${JSON.stringify(track)}`);
      expect(cue.start - origin, `'${text}' start`).toBeCloseTo(start, 1);
      expect(cue.end - origin, `'${text}' end`).toBeCloseTo(stop, 1);
      expect(Math.abs(cue.start - start), `'${text}' at ${cue.start} s`).toBeLessThanOrEqual(0.1);
    }
    expect(end.fatal).toEqual([]);
    expect(end.videoError).toBeNull();
    // hls.js cancels a subtitle fragment request itself when the selected track changes
    // mid-load (seen under load); that abort is its own doing, not a fault of the stream.
    const faults = end.nonFatal.filter(
      (e) => (BAD_MEDIA.test(e) || /subtitle/i.test(e)) && !/^networkError: aborted\b/.test(e),
    );
    expect(faults).toEqual([]);
    await page.close();
  });
});

/** PUT a file to a presigned upload, as a client app does. */

/**
 * Real uploads of kinds the generated clips do not cover (../shared/media, see its README),
 * played to their end: interlaced H.264 and broadcast MPEG-2 (deinterlaced, anamorphic, a
 * TS that starts at 1.7 s), a variable-rate FLV whose picture size changes, a rotated phone
 * clip, and AV1 with late audio.
 */
const REAL_CLIPS = [
  'h264_interlaced_tff_640x360.mp4',
  'mpeg2_480i_tff_704x480_sar10-11_scte20.ts',
  'flv_h264_frame_drops_res_change.flv',
  'android_emulator_h264_720p_rot90.mp4',
  'av1_1080x720_aac.mp4',
];
const realClipsMissing = REAL_CLIPS.filter((c) => !sharedMedia(c));
if (realClipsMissing.length > 0) {
  console.warn(`skipping the real clips in hls.js: ${realClipsMissing.join(', ')} not found`);
}

describe.skipIf(!available)('real-world uploads in hls.js', () => {
  it.skipIf(realClipsMissing.length > 0)('play to their end with no player error', async () => {
    const views = await Promise.all(
      REAL_CLIPS.map(async (name) => {
        const view = await api.waitFor(await api.upload(sharedMedia(name) ?? ''));
        return { name, view };
      }),
    );
    for (const { name, view } of views) {
      expect(view.status, `${name}: ${JSON.stringify(view.error)}`).toBe('ready');
      const page = await browser.newPage();
      await page.goto(`${playerPage.url}?src=${encodeURIComponent(view.playbackUrl ?? '')}`);
      const snapshot = async () => (await page.evaluate('player.snapshot()')) as Snapshot;
      await page
        .waitForFunction('player.state.firstFrameAt !== null', undefined, { timeout: 20_000 })
        .catch(async () => {
          throw new Error(`${name}: no first frame: ${JSON.stringify(await snapshot())}`);
        });
      await page.evaluate('player.video.playbackRate = 2');
      const end = `player.video.ended || player.video.currentTime >= player.video.duration - 0.25`;
      await page
        .waitForFunction(end, undefined, { timeout: ((view.duration ?? 10) / 2) * 1000 + 30_000 })
        .catch(async () => {
          throw new Error(`${name}: did not play to its end: ${JSON.stringify(await snapshot())}`);
        });
      const after = await snapshot();
      console.log(
        `${name}: played ${after.frames} frames to ${after.currentTime.toFixed(2)} s of ` +
          `${view.duration} s; non-fatal hls.js errors: ${after.nonFatal.join('; ') || 'none'}`,
      );
      expect(after.fatal, name).toEqual([]);
      expect(after.videoError, name).toBeNull();
      expect(
        after.nonFatal.filter((e) => BAD_MEDIA.test(e)),
        name,
      ).toEqual([]);
      expect(after.frames, name).toBeGreaterThan(0);
      await page.close();
    }
  });
});
