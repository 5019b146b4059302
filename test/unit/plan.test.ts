import { describe, expect, it } from 'vitest';
import { describeJob, jobCount, jobsOf } from '../../functions/core/jobs.js';
import type { MediaInfo, Rational } from '../../functions/core/media.js';
import {
  chunkSegmentsAt,
  fullChunkSegments,
  MIN_CHUNK_SECONDS,
  makePlan,
  outputFrameRate,
  type PlanOptions,
  slotTime,
  TIMELINE_ORIGIN_SECONDS,
} from '../../functions/core/plan.js';
import { chunkSeek, preRollSeconds } from '../../functions/core/seek.js';

const VIDEO_ID = 'abcdefghij0123456789';

const OPTIONS: PlanOptions = { segmentSeconds: 6, chunkSegments: 5, x264Preset: 'veryfast' };

interface SourceShape {
  duration?: number;
  frameRate?: Rational;
  variableFrameRate?: boolean;
  startOffset?: number;
  hasAudio?: boolean;
  width?: number;
  height?: number;
  keyframes?: number[];
  formatName?: string;
}

function mediaInfo(shape: SourceShape = {}): MediaInfo {
  const streams = shape.hasAudio === false ? 1 : 2;
  return {
    formatName: shape.formatName ?? 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: shape.duration ?? 60,
    streamCount: streams,
    mediaStreamCount: streams,
    video: {
      streamIndex: 0,
      codec: 'h264',
      width: shape.width ?? 1920,
      height: shape.height ?? 1080,
      frameRate: shape.frameRate ?? { num: 30, den: 1 },
      variableFrameRate: shape.variableFrameRate ?? false,
      startOffset: shape.startOffset ?? 0,
      startTime: shape.startOffset ?? 0,
      ...(shape.keyframes ? { keyframes: shape.keyframes } : {}),
    },
    audio:
      shape.hasAudio === false
        ? undefined
        : { streamIndex: 1, codec: 'aac', channels: 2, sampleRate: 48_000 },
  };
}

const fpsOf = (r: Rational) => r.num / r.den;
const round = (n: number) => Math.round(n * 1e6) / 1e6;

describe('outputFrameRate', () => {
  it('keeps a rate at or below 60 fps exactly as it is', () => {
    expect(outputFrameRate({ num: 30000, den: 1001 })).toEqual({ num: 30000, den: 1001 });
  });

  it('halves 120 fps to 60 fps', () => {
    expect(fpsOf(outputFrameRate({ num: 120, den: 1 }))).toBe(60);
  });

  it('halves 100 fps to 50 fps', () => {
    expect(fpsOf(outputFrameRate({ num: 100, den: 1 }))).toBe(50);
  });

  it('divides 144 fps by three to 48 fps', () => {
    expect(fpsOf(outputFrameRate({ num: 144, den: 1 }))).toBe(48);
  });

  it('keeps a 119.88 fps rate an exact NTSC rational when halving it', () => {
    const rate = outputFrameRate({ num: 120000, den: 1001 });

    expect(rate.num / rate.den).toBeCloseTo(60000 / 1001, 12);
  });

  it('honours a lower maximum', () => {
    expect(fpsOf(outputFrameRate({ num: 60, den: 1 }, 30))).toBe(30);
  });

  it('plays a slideshow of a frame every few seconds at 1 fps', () => {
    expect(outputFrameRate({ num: 1, den: 4001 })).toEqual({ num: 1, den: 1 });
    expect(outputFrameRate({ num: 2, den: 3 })).toEqual({ num: 1, den: 1 });
  });

  it('plans a near-zero-rate upload in finite time, with whole frames per segment', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ frameRate: { num: 1, den: 4001 } }), OPTIONS);

    expect(plan.output.segmentFrames).toBe(6);
    expect(plan.chunks.length).toBeLessThan(20);
  });

  it('snaps a variable rate within 2% of a standard one to it', () => {
    // A phone's variable 29.6 fps average, and Android's 45000/1501.
    expect(outputFrameRate({ num: 296, den: 10 })).toEqual({ num: 30000, den: 1001 });
    expect(outputFrameRate({ num: 45000, den: 1501 })).toEqual({ num: 30000, den: 1001 });
    expect(outputFrameRate({ num: 2475, den: 100 })).toEqual({ num: 25, den: 1 });
  });

  it("keeps a source's own average when it is far from every standard rate", () => {
    // A webcam that really delivers 15 fps, a legacy 49/6 fps clip, a measured average.
    expect(outputFrameRate({ num: 15, den: 1 })).toEqual({ num: 15, den: 1 });
    expect(outputFrameRate({ num: 49, den: 6 })).toEqual({ num: 49, den: 6 });
    expect(outputFrameRate({ num: 836000, den: 44600 })).toEqual({ num: 2343, den: 125 });
  });
});

describe('makePlan', () => {
  it('starts every chunk after the opening at its end plus a whole multiple of the segment length', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75 }), OPTIONS);

    const { gopFrames, segmentFrames } = plan.output;
    for (const chunk of plan.chunks.slice(1)) {
      expect((chunk.startFrame - gopFrames) % segmentFrames).toBe(0);
    }
    expect(plan.chunks.map((c) => c.startFrame)).toEqual([0, 60, 240, 420, 780, 1680]);
  });

  it('ramps up: the opening GOP, then one, one and two segments, then the configured chunk length', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75 }), OPTIONS);

    // The first chunks are short so the start of the video is ready first.
    expect(plan.chunks.map((c) => c.frames)).toEqual([60, 180, 180, 360, 900, null]);
    // The ramp is indexed from chunk 1: chunk 0 is the opening.
    expect([1, 2, 3, 4].map((i) => chunkSegmentsAt(i, 5))).toEqual([1, 1, 2, 5]);
  });

  it('shortens full chunks, down to 12 s, when the video has fewer chunks than workers', () => {
    const hour = mediaInfo({ duration: 3600 });
    const lengths = (workers?: number) =>
      makePlan(VIDEO_ID, hour, { ...OPTIONS, ...(workers ? { workers } : {}) }).chunks.map(
        (c) => c.frames,
      );
    // 600 segments: 20 workers get the configured 30 s chunks, 1000 get 12 s ones (302 jobs
    // rather than 124), and 150 get 24 s ones (four segments each).
    expect(Math.max(...lengths(20).map((f) => f ?? 0))).toBe(900);
    expect(Math.max(...lengths(1000).map((f) => f ?? 0))).toBe(MIN_CHUNK_SECONDS * 30);
    expect(lengths(1000)).toHaveLength(302);
    expect(Math.max(...lengths(150).map((f) => f ?? 0))).toBe(720);
    // Unset workers: the configured length, as before.
    expect(lengths()).toEqual(lengths(20));
    // The ramp is unchanged, and the whole video is still covered.
    expect(lengths(1000).slice(0, 4)).toEqual([60, 180, 180, 360]);
    const plan = makePlan(VIDEO_ID, hour, { ...OPTIONS, workers: 1000 });
    const last = plan.chunks.at(-1);
    expect(last?.frames).toBeNull();
    expect(plan.estimatedFrames - (last?.startFrame ?? 0)).toBeGreaterThan(0);
  });

  it('never goes below the shortest chunk, nor above the configured one', () => {
    const at = (segmentSeconds: number, chunkSegments: number, workers: number, total: number) =>
      fullChunkSegments({ ...OPTIONS, segmentSeconds, chunkSegments, workers }, total);
    expect(at(6, 5, 1000, 600)).toBe(2);
    expect(at(4, 5, 1000, 900)).toBe(3); // 12 s of 4 s segments
    expect(at(10, 5, 1000, 360)).toBe(2); // 20 s: whole segments, at least 12 s
    expect(at(6, 1, 1000, 600)).toBe(1); // configured shorter than the floor: kept
    expect(at(6, 5, 2, 600)).toBe(5);
    expect(at(6, 5, 40, 160)).toBe(4);
  });

  it('never makes a ramp chunk longer than the configured chunk length', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75 }), { ...OPTIONS, chunkSegments: 1 });

    // The opening is one GOP whatever the chunk length; every later chunk one segment.
    expect(plan.chunks[0]?.frames).toBe(60);
    expect(plan.chunks.slice(1, -1).every((c) => c.frames === 180)).toBe(true);
  });

  it('leaves no chunk of less than a GOP: the one before runs to the end instead', () => {
    // 75 s in 6 s chunks after the opening would leave 1 s (30 frames) for a last chunk.
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75 }), { ...OPTIONS, chunkSegments: 1 });
    expect(plan.chunks.at(-1)).toMatchObject({ startFrame: 2040, frames: null });
    expect(plan.chunks.at(-2)?.frames).toBe(180);
    // A duration a frame over the opening (61 frames): one chunk, not a second with one frame
    // that may well not exist.
    expect(makePlan(VIDEO_ID, mediaInfo({ duration: 61 / 30 }), OPTIONS).chunks).toHaveLength(1);
  });

  it('lets a video no longer than the opening be one chunk, run to the end', () => {
    // Exactly one GOP (60 frames): nothing is left for a chunk 1.
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 2 }), OPTIONS);

    expect(plan.chunks).toHaveLength(1);
    expect(plan.chunks[0]).toMatchObject({ startFrame: 0, frames: null, firstSegment: 0 });
  });

  it('ends the opening at one GOP in a short video too, the rest one chunk to the end', () => {
    // 5 s is less than a segment after the opening: two chunks, not one.
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 5 }), OPTIONS);

    expect(plan.chunks.map((c) => [c.startFrame, c.frames, c.firstSegment])).toEqual([
      [0, 60, 0],
      [60, null, 1],
    ]);
  });

  it.each([
    { label: '30', rate: { num: 30, den: 1 }, gop: 60, seconds: 2 },
    { label: '25', rate: { num: 25, den: 1 }, gop: 50, seconds: 2 },
    { label: '23.976', rate: { num: 24000, den: 1001 }, gop: 48, seconds: 2.002 },
    { label: '60', rate: { num: 60, den: 1 }, gop: 120, seconds: 2 },
  ])('makes chunk 0 the opening at $label fps: one GOP of $gop frames, one segment', (c) => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, frameRate: c.rate }), OPTIONS);

    expect(plan.chunks[0]).toMatchObject({ startFrame: 0, frames: c.gop, firstSegment: 0 });
    // Chunk 1 follows it on the grid, and its segments are numbered after the opening's one
    // (not startFrame / segmentFrames, which is no longer whole).
    expect(plan.chunks[1]).toMatchObject({ startFrame: c.gop, firstSegment: 1 });
    expect(plan.chunks[1]?.offsetSeconds).toBeCloseTo(TIMELINE_ORIGIN_SECONDS + c.seconds, 6);
  });

  it('cuts a 14 s 30 fps source into the opening and two one-segment chunks', () => {
    const options = { ...OPTIONS, segmentSeconds: 6, chunkSegments: 1 };

    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 14 }), options);

    expect(plan.chunks.map((c) => c.frames)).toEqual([60, 180, null]);
    expect(plan.estimatedFrames).toBe(420);
  });

  it('plans at least one chunk for a source shorter than a frame', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 0.001 }), OPTIONS);

    expect(plan.estimatedFrames).toBe(1);
    expect(plan.chunks).toHaveLength(1);
  });

  it.each([
    { label: '30', rate: { num: 30, den: 1 }, gop: 60 },
    { label: '29.97', rate: { num: 30000, den: 1001 }, gop: 60 },
    { label: '23.976', rate: { num: 24000, den: 1001 }, gop: 48 },
    { label: '25', rate: { num: 25, den: 1 }, gop: 50 },
    { label: '35', rate: { num: 35, den: 1 }, gop: 70 },
    { label: '60', rate: { num: 60, den: 1 }, gop: 120 },
  ])('puts an IDR every $gop frames at $label fps (two seconds, rounded up)', ({ rate, gop }) => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ frameRate: rate }), OPTIONS);

    expect(plan.output.gopFrames).toBe(gop);
  });

  it.each([
    { segmentSeconds: 2, segmentFrames: 60 },
    { segmentSeconds: 4, segmentFrames: 120 },
    { segmentSeconds: 6, segmentFrames: 180 },
  ])('makes a $segmentSeconds s segment $segmentFrames frames at 30 fps', (c) => {
    const plan = makePlan(VIDEO_ID, mediaInfo(), { ...OPTIONS, segmentSeconds: c.segmentSeconds });

    expect(plan.output.segmentFrames).toBe(c.segmentFrames);
    expect(plan.output.segmentSeconds).toBe(c.segmentSeconds);
  });

  it('seeks chunk 0 from the very start of the file', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, startOffset: 0.5 }), OPTIONS);

    expect(plan.chunks[0]?.seekSeconds).toBe(0);
  });

  it('seeks every later chunk of an indexed container a quarter frame before its first frame', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75 }), OPTIONS);

    // A quarter frame at 30 fps is 8.333 ms; the chunks start at 2, 8, 14, 26 and 56 s.
    expect(plan.chunks.slice(1).map((c) => c.seekSeconds)).toEqual([
      1.991667, 7.991667, 13.991667, 25.991667, 55.991667,
    ]);
  });

  it('adds the video start offset to a later chunk seek', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, startOffset: 0.5 }), OPTIONS);

    // Chunk 1 starts after the 2 s opening.
    expect(plan.chunks[1]?.seekSeconds).toBe(2.491667);
  });

  it('starts the output timeline at a positive origin, so no chunk begins at a negative DTS', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo(), OPTIONS);

    expect(plan.output.timelineOrigin).toBe(TIMELINE_ORIGIN_SECONDS);
    expect(plan.output.timelineOrigin).toBeGreaterThan(0);
  });

  it('seeks a chunk of an MPEG-TS two seconds early: its demuxer bisects, it has no index', () => {
    const plan = makePlan(
      VIDEO_ID,
      mediaInfo({ duration: 75, formatName: 'mpegts', startOffset: 0.4 }),
      OPTIONS,
    );

    // Chunk 2 starts at 8 s (the opening, one segment): 8.4 s in the file.
    expect(plan.chunks[2]?.seekSeconds).toBe(6.4);
  });

  it("seeks a chunk of an MPEG-TS back by its source's longest GOP, plus half a second", () => {
    const info = mediaInfo({ duration: 75, formatName: 'mpegts' });
    const longGop = { ...info, video: info.video && { ...info.video, keyframeInterval: 8 } };

    // Chunk 3 starts at 14 s: far enough in that the seek is not clamped at the file's start.
    expect(makePlan(VIDEO_ID, longGop, OPTIONS).chunks[3]?.seekSeconds).toBe(14 - 8.5);
  });

  it('places each chunk at the origin plus its first frame time: the video starts the timeline', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, startOffset: 0.5 }), OPTIONS);

    const origin = plan.output.timelineOrigin;
    expect(plan.chunks.map((c) => c.offsetSeconds)).toEqual([
      origin,
      origin + 2,
      origin + 8,
      origin + 14,
      origin + 26,
      origin + 56,
    ]);
  });

  it("anchors every chunk's output grid on the video's first frame, in the source's own time", () => {
    const info = mediaInfo({ duration: 75, startOffset: 0.5 });
    const plan = makePlan(
      VIDEO_ID,
      { ...info, video: info.video && { ...info.video, startTime: 1.7 } },
      OPTIONS,
    );

    expect(plan.source.video.start).toBe(1.7);
    expect(plan.chunks.map((c) => slotTime(plan, c.startFrame))).toEqual([
      1.7, 3.7, 9.7, 15.7, 27.7, 57.7,
    ]);
  });

  it('counts a variable-rate source in output frames from its duration, not its frames', () => {
    // 836 frames over 44.6 s from a webcam whose container says 30 fps: 18.74 fps real.
    const plan = makePlan(
      VIDEO_ID,
      mediaInfo({
        duration: 44.6,
        frameRate: { num: 836, den: 44.6 * 1 },
        variableFrameRate: true,
      }),
      OPTIONS,
    );

    expect(plan.estimatedFrames / fpsOf(plan.output.frameRate)).toBeCloseTo(44.6, 1);
  });

  it('places NTSC chunks at their exact frame times, rounded to microseconds', () => {
    const info = mediaInfo({ duration: 75, frameRate: { num: 30000, den: 1001 } });

    const plan = makePlan(VIDEO_ID, info, OPTIONS);

    // Frame 420 at 30000/1001 fps is 420 × 1001 / 30000 = 14.014 s after the first.
    expect(plan.chunks[3]?.startFrame).toBe(420);
    expect(plan.chunks[3]?.offsetSeconds).toBeCloseTo(plan.output.timelineOrigin + 14.014, 6);
  });

  it('numbers each chunk first segment by the segments before it', () => {
    const options = { ...OPTIONS, chunkSegments: 2 };

    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 40 }), options);

    // The opening is segment 0; then 1, 1, 2 and 2 segments.
    expect(plan.chunks.map((c) => c.firstSegment)).toEqual([0, 1, 2, 3, 5, 7]);
  });

  it('halves a 120 fps source to 60 fps', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ frameRate: { num: 120, den: 1 } }), OPTIONS);

    expect(fpsOf(plan.output.frameRate)).toBe(60);
    expect(plan.source.frameRate).toEqual({ num: 120, den: 1 });
  });

  it.each([
    { num: 24000, den: 1001 },
    { num: 25, den: 1 },
    { num: 30000, den: 1001 },
    { num: 60, den: 1 },
  ])('keeps a constant $num/$den fps source at its own rate', (rate) => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ frameRate: rate }), OPTIONS);

    expect(plan.output.frameRate).toEqual(rate);
  });

  it('makes the same plan every time for the same source and options', () => {
    const info = mediaInfo({ duration: 3601.5, frameRate: { num: 30000, den: 1001 } });

    const first = makePlan(VIDEO_ID, info, OPTIONS);
    const second = makePlan(VIDEO_ID, structuredClone(info), { ...OPTIONS });

    expect(second).toEqual(first);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('plans a stereo 48 kHz AAC rendition at 128 kb/s when the source has audio', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ hasAudio: true }), OPTIONS);

    expect(plan.audio).toEqual({ bitrate: 128_000, channels: 2, sampleRate: 48_000 });
    expect(plan.source.hasAudio).toBe(true);
  });

  it('plans no audio rendition for a silent source', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ hasAudio: false }), OPTIONS);

    expect(plan.audio).toBeNull();
    expect(plan.source.hasAudio).toBe(false);
  });

  it('uses the configured audio bitrate, CRF and preset', () => {
    const options = { ...OPTIONS, audioBitrate: 96_000, crf: 23, x264Preset: 'fast' };

    const plan = makePlan(VIDEO_ID, mediaInfo(), options);

    expect(plan.audio?.bitrate).toBe(96_000);
    expect(plan.output.crf).toBe(23);
    expect(plan.output.x264Preset).toBe('fast');
  });

  it('defaults to CRF 21', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo(), OPTIONS);

    expect(plan.output.crf).toBe(21);
  });

  it('builds the renditions from the display size of the source', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ width: 720, height: 1280 }), OPTIONS);

    expect(plan.renditions.map((r) => `${r.width}x${r.height}`)).toEqual([
      '720x1280',
      '540x960',
      '360x640',
      '234x416',
    ]);
  });

  it('records the source it was made from', () => {
    const info = mediaInfo({ duration: 42.5, width: 1280, height: 720 });

    const plan = makePlan(VIDEO_ID, info, OPTIONS);

    expect(plan).toMatchObject({
      version: 2,
      videoId: VIDEO_ID,
      source: {
        formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
        duration: 42.5,
        width: 1280,
        height: 720,
        frameRate: { num: 30, den: 1 },
      },
    });
  });

  it('refuses a source without a video stream', () => {
    const info: MediaInfo = { ...mediaInfo(), video: undefined };

    expect(() => makePlan(VIDEO_ID, info, OPTIONS)).toThrow(/video stream/);
  });
});

describe('chunk boundaries from the source keyframes', () => {
  // x264's default GOP: a keyframe every 250 frames (8.33 s at 30 fps).
  const gop250 = (seconds: number) =>
    Array.from({ length: Math.ceil((seconds * 30) / 250) }, (_, i) => (i * 250) / 30);
  const totalPreRoll = (plan: ReturnType<typeof makePlan>, keyframes: number[]) =>
    plan.chunks
      .slice(1)
      .reduce((t, c) => t + preRollSeconds(keyframes, c.seekSeconds, c.startFrame / 30), 0);

  it('counts the decoding from the keyframe ffmpeg lands on (3/23 s before the seek)', () => {
    expect(preRollSeconds([0, 250 / 30], 6 - 0.25 / 30, 6)).toBeCloseTo(6, 6);
    expect(preRollSeconds([0, 250 / 30], 12 - 0.25 / 30, 12)).toBeCloseTo(12 - 250 / 30, 6);
    // A keyframe exactly at the boundary is not where ffmpeg starts: it backs off first.
    expect(preRollSeconds([0, 6, 12], 6 - 0.25 / 30, 6)).toBeCloseTo(6, 6);
    expect(preRollSeconds([0, 5.8, 12], 6 - 0.25 / 30, 6)).toBeCloseTo(0.2, 6);
  });

  it('moves a boundary past a keyframe where that saves decoding: 30 s of 8.33 s GOPs', () => {
    const keyframes = gop250(30);
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 30, keyframes }), OPTIONS);
    // Nominal 2+6+6+12+4 s would decode 2 + 8 + 5.67 + 1 s before the chunks' first frames.
    // Chunks 2 and 3 now start on the first GOP boundary after a keyframe (10 and 18 s, for
    // the keyframes at 8.33 and 16.67 s), so each decodes under 2 s first. Every chunk stays
    // whole GOPs long: IDRs every 2 s from the first frame, as in a whole-file encode.
    expect(plan.chunks.map((c) => [c.startFrame, c.frames])).toEqual([
      [0, 60],
      [60, 240],
      [300, 240],
      [540, null],
    ]);
    expect(totalPreRoll(plan, keyframes)).toBeCloseTo(2 + 1.666667 + 1.333333, 4);
    const nominal = makePlan(VIDEO_ID, mediaInfo({ duration: 30 }), OPTIONS);
    expect(totalPreRoll(nominal, keyframes)).toBeCloseTo(2 + 8 + 5.666667 + 1, 4);
    for (const c of plan.chunks) expect(c.startFrame % 60).toBe(0);
  });

  it('cuts even chunks when they run in one wave: 30 s on two workers', () => {
    const two = { ...OPTIONS, workers: 2 };
    const frames = (keyframes?: number[]) =>
      makePlan(
        VIDEO_ID,
        mediaInfo({ duration: 30, ...(keyframes ? { keyframes } : {}) }),
        two,
      ).chunks.map((c) => c.frames);
    // The ramp (6 + 6 + 12 + 4 s) would queue four jobs for two workers, the 4 s one alone at
    // the end: two even chunks of 14 s instead.
    expect(frames()).toEqual([60, 420, null]);
    // Moving the cut 2 s to just past the keyframe at 16.67 s would save 6.3 s of decoding
    // (about 0.6 s of encoding) for 2 s more in one of two chunks that run at once: it stays.
    expect(frames(gop250(30))).toEqual([60, 420, null]);
    // Even chunks are whole GOPs: 31 s makes 14 + 16 s, not 14.5 + 14.5.
    expect(
      makePlan(VIDEO_ID, mediaInfo({ duration: 31 }), two).chunks.map((c) => c.frames),
    ).toEqual([60, 480, null]);
    // More than one wave of full chunks (5 min on two workers), or enough workers for the
    // ramp (30 s on four): the ramp.
    expect(
      makePlan(VIDEO_ID, mediaInfo({ duration: 300 }), two)
        .chunks.map((c) => c.frames)
        .slice(0, 4),
    ).toEqual([60, 180, 180, 360]);
    expect(
      makePlan(VIDEO_ID, mediaInfo({ duration: 30 }), { ...OPTIONS, workers: 4 }).chunks.map(
        (c) => c.frames,
      ),
    ).toEqual([60, 180, 180, 360, null]);
  });

  it('keeps the opening one GOP whatever the keyframes, so it is encoded in seconds', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 600, keyframes: gop250(600) }), OPTIONS);
    expect(plan.chunks[0]?.frames).toBe(60);
    // Chunk 1 may move its end: to 10 s here, so chunk 2 decodes 1.67 s (from the keyframe
    // at 8.33 s) before its first frame, not 8 s.
    expect(plan.chunks[1]?.frames).toBe(240);
  });

  it('stays within a segment (or a fifth) of the nominal length, with no gaps', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      // Irregular GOPs between 0.5 and 10 s.
      let x = seed;
      const rand = () => {
        x = (x * 16807) % 2147483647;
        return x / 2147483647;
      };
      const keyframes = [0];
      while ((keyframes.at(-1) ?? 0) < 600)
        keyframes.push((keyframes.at(-1) ?? 0) + 0.5 + rand() * 9.5);
      const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 600, keyframes }), OPTIONS);
      const nominal = makePlan(VIDEO_ID, mediaInfo({ duration: 600 }), OPTIONS);
      let next = 0;
      for (const c of plan.chunks) {
        expect(c.startFrame).toBe(next);
        next = c.startFrame + (c.frames ?? 0);
        // The opening is one GOP, whatever the keyframes.
        if (c.index === 0) {
          expect(c.frames).toBe(60);
          continue;
        }
        const expected = 180 * Math.min(5, [1, 1, 2][c.index - 1] ?? 5);
        if (c.frames !== null) {
          expect(Math.abs(c.frames - expected)).toBeLessThanOrEqual(Math.max(180, expected / 5));
        }
      }
      expect(plan.chunks.at(-1)?.frames).toBeNull();
      expect(totalPreRoll(plan, keyframes)).toBeLessThanOrEqual(totalPreRoll(nominal, keyframes));
    }
  });

  const seek = (keyframes: number[] | undefined, startSeconds: number) =>
    chunkSeek({ keyframes, startSeconds, fps: 30, indexed: true });

  it('aims a seek just past a known keyframe', () => {
    // Keyframe at the boundary: nothing decoded before the chunk's first frame.
    const onIt = seek([0, 6, 12], 6);
    expect(onIt.seekSeconds).toBeCloseTo(6 + 3 / 23 + 0.25 / 30, 6);
    expect(onIt.preRoll).toBe(0);
    // Keyframe 2 s before: decoding starts there, not at the keyframe before it.
    const before = seek([0, 4, 8], 6);
    expect(before.seekSeconds).toBeCloseTo(4 + 3 / 23 + 0.25 / 30, 6);
    expect(before.preRoll).toBeCloseTo(2, 6);
  });

  it('seeks a quarter frame early where it could not be aimed safely', () => {
    // Keyframes closer than a second: a seek past one could reach the next.
    expect(seek([0, 5.5, 6.2], 6).seekSeconds).toBeCloseTo(6 - 0.25 / 30, 6);
    // Only a keyframe the edit list hides (before the start): never aim a seek before 0.
    expect(seek([-1.5, 8], 6).seekSeconds).toBe(round(6 - 0.25 / 30));
    expect(seek(undefined, 6).seekSeconds).toBe(round(6 - 0.25 / 30));
  });

  it('aims at the keyframes of a resampled source too (the fps filter picks the frames)', () => {
    const plan = makePlan(
      VIDEO_ID,
      mediaInfo({ duration: 30, frameRate: { num: 120, den: 1 }, keyframes: [0, 6, 12, 18, 24] }),
      OPTIONS,
    );
    // Chunk 2 starts at 8 s (the opening, one segment): the keyframe at 6 s.
    expect(plan.chunks[2]?.seekSeconds).toBeCloseTo(6 + 3 / 23 + 0.25 / 60, 6);
  });

  it('is the nominal plan when the keyframes are not known', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 30 }), OPTIONS);
    expect(plan.chunks.map((c) => c.frames)).toEqual([60, 180, 180, 360, null]);
  });
});

describe('jobsOf', () => {
  it('fans a plan out to one job per chunk, in order: each brings its picture and its sound', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, hasAudio: true }), OPTIONS);

    // The opening's job too: ingest sends it when it could not encode the opening itself.
    expect(jobsOf(plan)).toEqual(
      [0, 1, 2, 3, 4, 5].map((chunk) => ({ type: 'video-chunk', videoId: VIDEO_ID, chunk })),
    );
  });

  it('fans a silent plan out to chunk jobs only', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, hasAudio: false }), OPTIONS);

    const jobs = jobsOf(plan);

    expect(jobs.every((j) => j.type === 'video-chunk')).toBe(true);
    expect(jobs).toHaveLength(6);
  });
});

describe('jobCount', () => {
  it('counts the chunks, with or without audio', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, hasAudio: true }), OPTIONS);

    expect(jobCount(plan)).toBe(6);
  });

  it('counts only the chunks when there is no audio', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 75, hasAudio: false }), OPTIONS);

    expect(jobCount(plan)).toBe(6);
  });

  it('agrees with the number of jobs fanned out', () => {
    const plan = makePlan(VIDEO_ID, mediaInfo({ duration: 3600 }), OPTIONS);

    expect(jobCount(plan)).toBe(jobsOf(plan).length);
  });
});

describe('describeJob', () => {
  it('names a chunk job by its index', () => {
    expect(describeJob({ type: 'video-chunk', videoId: VIDEO_ID, chunk: 7 })).toBe('chunk 7');
  });
});
