import { describe, expect, it } from 'vitest';
import {
  beepOnsets,
  bitDepth,
  combedShare,
  displaySize,
  durationOf,
  expectedTopShortSide,
  type FrameStat,
  flashTimes,
  flashToBeep,
  frameStep,
  idetAfterWarmup,
  meanLevel,
  nearer,
  parseFrameMetadata,
  parseIdet,
} from '../support/viewer.js';

const frames = (lumas: number[], fps = 30): FrameStat[] =>
  lumas.map((y, n) => ({ time: n / fps, values: { 'signalstats.YAVG': y } }));

describe('parseFrameMetadata', () => {
  it('keeps a broadcast clock exact, which pts_time rounds to 0.1 s', () => {
    const text = 'frame:0    pts:3912669846 pts_time:43474.1\nlavfi.signalstats.YAVG=16\n';

    expect(parseFrameMetadata(text)[0]?.time).toBeCloseTo(43474.1094, 6);
  });

  it('reads each frame time with its keys, -inf included', () => {
    const text = [
      'frame:0    pts:13344   pts_time:0.278',
      'lavfi.astats.Overall.RMS_level=-inf',
      'frame:1    pts:13584   pts_time:0.283',
      'lavfi.astats.Overall.RMS_level=-9.03',
      '',
    ].join('\n');

    expect(parseFrameMetadata(text, 48_000)).toEqual([
      { time: 0.278, values: { 'astats.Overall.RMS_level': -Infinity } },
      { time: 0.283, values: { 'astats.Overall.RMS_level': -9.03 } },
    ]);
  });
});

describe('parseIdet and combedShare', () => {
  const stderr = [
    '[Parsed_idet_0 @ 0x1] Repeated Fields: Neither: 75 Top: 0 Bottom: 0',
    '[Parsed_idet_0 @ 0x1] Single frame detection: TFF: 70 BFF: 0 Progressive: 5 Undetermined: 0',
    '[Parsed_idet_0 @ 0x1] Multi frame detection: TFF:    72 BFF:     0 Progressive:     2 Undetermined:     1',
  ].join('\n');

  it('takes the multi-frame verdict', () => {
    expect(parseIdet(stderr)).toEqual({ tff: 72, bff: 0, progressive: 2, undetermined: 1 });
  });

  it('counts interlaced frames against all frames, undetermined included', () => {
    expect(combedShare({ tff: 72, bff: 0, progressive: 2, undetermined: 1 })).toBeCloseTo(0.96);
    expect(combedShare({ tff: 1, bff: 1, progressive: 150, undetermined: 48 })).toBe(0.01);
  });

  it('finds nothing combed when idet did not run', () => {
    expect(parseIdet('no idet here')).toBeUndefined();
    expect(combedShare(undefined)).toBe(0);
  });
});

describe('idetAfterWarmup', () => {
  const frame = (tff: number, progressive: number) => ({
    time: 0,
    values: {
      'idet.multiple.tff': tff,
      'idet.multiple.bff': 0,
      'idet.multiple.progressive': progressive,
      'idet.multiple.undetermined': 0,
    },
  });

  it("leaves out idet's first calls, which come before it has settled", () => {
    // ffmpeg 7.1: TFF for the first four frames of any video, then what it sees.
    const frames = Array.from({ length: 17 }, (_, i) =>
      i < 4 ? frame(i + 1, 0) : frame(4, i - 3),
    );
    expect(idetAfterWarmup(frames)).toEqual({ tff: 0, bff: 0, progressive: 12, undetermined: 0 });
  });

  it('counts every call of a clip too short to leave any out', () => {
    const frames = Array.from({ length: 6 }, (_, i) => frame(i + 1, 0));
    expect(idetAfterWarmup(frames)).toEqual({ tff: 6, bff: 0, progressive: 0, undetermined: 0 });
  });
});

describe('frameStep and durationOf', () => {
  it('measures a stream with dropped frames by its frame step, not its average rate', () => {
    // 30 fps with frames 20-34 missing: 105 frames over 4 s.
    const times = Array.from({ length: 120 }, (_, n) => n / 30).filter((_, n) => n < 20 || n > 34);

    const step = frameStep(times, 0.04);

    expect(step).toBeCloseTo(1 / 30, 6);
    expect(durationOf(times, step)).toBeCloseTo(4, 6);
  });

  it('keeps small timestamp jumps in the duration', () => {
    const times = Array.from({ length: 180 }, (_, n) => n / 60 + (n >= 40 ? 0.005 : 0));

    expect(durationOf(times, frameStep(times, 1))).toBeCloseTo(3.005, 6);
  });

  it('falls back to the given step for a single frame', () => {
    expect(durationOf([1.72], frameStep([1.72], 0.04))).toBeCloseTo(0.04, 9);
  });

  it('counts from the first frame, not from zero', () => {
    expect(durationOf([1.4, 1.44, 1.48], 0.04)).toBeCloseTo(0.12, 9);
  });
});

describe('displaySize', () => {
  it('stretches the width by the sample aspect ratio', () => {
    expect(displaySize({ width: 720, height: 480, sar: '32:27' }).width).toBeCloseTo(853.33, 2);
    expect(displaySize({ width: 1280, height: 720, sar: '3:4' })).toEqual({
      width: 960,
      height: 720,
    });
  });

  it('swaps the sides for a quarter turn either way, and treats 0:1 as square', () => {
    expect(displaySize({ width: 640, height: 360, rotation: 90 })).toEqual({
      width: 360,
      height: 640,
    });
    expect(displaySize({ width: 1920, height: 1080, rotation: -90, sar: '0:1' })).toEqual({
      width: 1080,
      height: 1920,
    });
    expect(displaySize({ width: 640, height: 360, rotation: 180 })).toEqual({
      width: 640,
      height: 360,
    });
  });
});

describe('expectedTopShortSide', () => {
  it('is the source short side, made even, between rungs', () => {
    expect(expectedTopShortSide(480)).toBe(480);
    expect(expectedTopShortSide(270)).toBe(270);
    expect(expectedTopShortSide(961)).toBe(960);
    expect(expectedTopShortSide(180)).toBe(180);
  });

  it('is the top rung for sources at or above it', () => {
    expect(expectedTopShortSide(1080)).toBe(1080);
    expect(expectedTopShortSide(2160)).toBe(1080);
  });
});

describe('flashTimes', () => {
  it('finds the first frame of each white flash above the clip’s typical luma', () => {
    const lumas = Array.from({ length: 90 }, (_, n) => ([30, 31, 60].includes(n) ? 235 : 125));

    expect(flashTimes(frames(lumas))).toEqual([1, 2]);
  });

  it('finds none in a bright clip without flashes', () => {
    expect(flashTimes(frames(Array.from({ length: 30 }, () => 200)))).toEqual([]);
  });
});

describe('beepOnsets', () => {
  const key = 'rms';
  const windows = (levels: number[]): FrameStat[] =>
    levels.map((l, i) => ({ time: 0.3 + i * 0.005, values: { [key]: l } }));

  it('finds each loud window after silence', () => {
    const levels = Array.from({ length: 400 }, (_, i) =>
      (i >= 200 && i < 220) || (i >= 300 && i < 320) ? -9 : -Infinity,
    );

    const onsets = beepOnsets(windows(levels), key);

    expect(onsets.map((t) => t.toFixed(3))).toEqual(['1.300', '1.800']);
  });

  it('ignores a continuous tone', () => {
    expect(beepOnsets(windows(Array.from({ length: 100 }, () => -12)), key)).toEqual([]);
  });
});

describe('flashToBeep', () => {
  it('is the median distance from each flash to its nearest beep', () => {
    expect(flashToBeep([1, 3, 4.5], [1.298, 3.301, 4.8])).toBeCloseTo(0.3, 6);
    expect(flashToBeep([1.4], [1.38])).toBeCloseTo(-0.02, 6);
  });

  it('is not a number without flashes or beeps', () => {
    expect(flashToBeep([], [1])).toBeNaN();
    expect(flashToBeep([1], [])).toBeNaN();
  });
});

describe('nearer, meanLevel and bitDepth', () => {
  it('says whether a figure is nearer the good reading than the bad one', () => {
    expect(nearer(40, 57.6, 18.8)).toBe(true);
    expect(nearer(20, 57.6, 18.8)).toBe(false);
  });

  it('averages levels as power, silence included', () => {
    expect(meanLevel([-10, -10])).toBeCloseTo(-10, 6);
    expect(meanLevel([-10, -Infinity])).toBeCloseTo(-13.01, 2);
    expect(meanLevel([-Infinity])).toBe(-Infinity);
  });

  it('reads the bit depth of a pixel format', () => {
    expect(bitDepth('yuv420p10le')).toBe(10);
    expect(bitDepth('yuva444p12le')).toBe(12);
    expect(bitDepth('yuvj420p')).toBe(8);
    expect(bitDepth(undefined)).toBe(8);
  });
});
