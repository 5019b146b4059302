import { describe, expect, it } from 'vitest';
import { buildLadder, DEFAULT_LADDER, type Rendition } from '../../functions/core/ladder.js';

const sizes = (ladder: Rendition[]) => ladder.map((r) => `${r.width}x${r.height}`);

describe('buildLadder', () => {
  it('gives a 1080p landscape source the five default rungs with their bitrates', () => {
    const ladder = buildLadder({ width: 1920, height: 1080 });

    expect(ladder).toEqual([
      { name: '1080p', width: 1920, height: 1080, bitrate: 6_000_000 },
      { name: '720p', width: 1280, height: 720, bitrate: 3_000_000 },
      { name: '540p', width: 960, height: 540, bitrate: 2_000_000 },
      { name: '360p', width: 640, height: 360, bitrate: 730_000 },
      { name: '234p', width: 416, height: 234, bitrate: 145_000 },
    ]);
  });

  it('uses the default ladder when no rungs are given', () => {
    const implicit = buildLadder({ width: 1920, height: 1080 });

    const explicit = buildLadder({ width: 1920, height: 1080 }, DEFAULT_LADDER);

    expect(implicit).toEqual(explicit);
  });

  it('keeps a portrait source portrait, sizing rungs on its width', () => {
    const ladder = buildLadder({ width: 1080, height: 1920 });

    expect(sizes(ladder)).toEqual(['1080x1920', '720x1280', '540x960', '360x640', '234x416']);
    expect(ladder.map((r) => r.name)).toEqual(['1080p', '720p', '540p', '360p', '234p']);
  });

  it('keeps a square source square', () => {
    const ladder = buildLadder({ width: 1080, height: 1080 });

    expect(sizes(ladder)).toEqual(['1080x1080', '720x720', '540x540', '360x360', '234x234']);
  });

  it('never upscales a 720p source to a 1080p rung', () => {
    const ladder = buildLadder({ width: 1280, height: 720 });

    expect(ladder.map((r) => r.name)).toEqual(['720p', '540p', '360p', '234p']);
    expect(ladder[0]).toMatchObject({ width: 1280, height: 720, bitrate: 3_000_000 });
  });

  it('orders rungs from the largest down even when the given ladder is unsorted', () => {
    const rungs = [
      { shortSide: 360, bitrate: 700_000 },
      { shortSide: 720, bitrate: 3_000_000 },
    ];

    const ladder = buildLadder({ width: 1920, height: 1080 }, rungs);

    expect(ladder.map((r) => r.name)).toEqual(['720p', '360p']);
  });

  it.each([
    { width: 256, height: 240 },
    { width: 1081, height: 720 },
    { width: 255, height: 241 },
    { width: 241, height: 255 },
    { width: 1919, height: 1079 },
    { width: 853, height: 480 },
  ])('gives $width x $height only even dimensions within the source', (source) => {
    const ladder = buildLadder(source);

    expect(ladder.length).toBeGreaterThan(0);
    for (const r of ladder) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
      expect(r.width).toBeLessThanOrEqual(source.width);
      expect(r.height).toBeLessThanOrEqual(source.height);
    }
  });

  it.each([
    { width: 256, height: 240 },
    { width: 1081, height: 720 },
    { width: 255, height: 241 },
    { width: 241, height: 255 },
    { width: 1919, height: 1079 },
    { width: 853, height: 480 },
  ])('keeps the aspect ratio of $width x $height within rounding', (source) => {
    const aspect = source.width / source.height;

    const ladder = buildLadder(source);

    for (const r of ladder) {
      expect(Math.abs(r.width / r.height - aspect) / aspect).toBeLessThan(0.02);
    }
  });

  it('gives a source smaller than every rung one rendition at its own size', () => {
    const ladder = buildLadder({ width: 320, height: 180 });

    expect(ladder).toHaveLength(1);
    expect(ladder[0]).toMatchObject({ name: '180p', width: 320, height: 180 });
  });

  it('rounds an odd-sized source smaller than every rung down to even dimensions', () => {
    const ladder = buildLadder({ width: 321, height: 181 });

    expect(ladder).toHaveLength(1);
    expect(ladder[0]).toMatchObject({ width: 320, height: 180 });
  });

  it('scales the bitrate of a small source to its area, below the smallest rung', () => {
    const ladder = buildLadder({ width: 320, height: 180 });

    const bitrate = ladder[0]?.bitrate ?? 0;
    expect(bitrate).toBeGreaterThanOrEqual(64_000);
    expect(bitrate).toBeLessThan(145_000);
  });

  it('never gives a tiny source a bitrate below 64 kb/s', () => {
    const ladder = buildLadder({ width: 16, height: 16 });

    expect(ladder).toEqual([{ name: '16p', width: 16, height: 16, bitrate: 64_000 }]);
  });

  it('refuses an empty ladder for a source it cannot fit', () => {
    expect(() => buildLadder({ width: 320, height: 180 }, [])).toThrow('the ladder has no rungs');
  });

  describe('a source between two rungs', () => {
    const names = (w: number, h: number) =>
      buildLadder({ width: w, height: h }).map((r) => `${r.width}x${r.height}`);

    it('tops out at its own size: a 720x480 DVD is not cut down to 540x360', () => {
      expect(names(720, 480)).toEqual(['720x480', '540x360', '352x234']);
    });

    it('keeps a PAL 768x576 source at 576 lines, leaving out the 540 rung that looks the same', () => {
      expect(names(768, 576)).toEqual(['768x576', '480x360', '312x234']);
    });

    it('keeps a 480x270 webcam clip and a 642x642 square clip at their own size', () => {
      expect(names(480, 270)).toEqual(['480x270']);
      expect(names(642, 642)).toEqual(['642x642', '540x540', '360x360', '234x234']);
    });

    it('keeps a portrait 886x1920 clip at 886 wide', () => {
      expect(names(886, 1920)[0]).toBe('886x1920');
    });

    it('interpolates the top rung bitrate by pixel count between its neighbours', () => {
      const top = buildLadder({ width: 720, height: 480 })[0];
      // 480 lines sits between 360 (730 kb/s) and 540 (2000 kb/s).
      const t = (480 ** 2 - 360 ** 2) / (540 ** 2 - 360 ** 2);
      expect(top?.bitrate).toBe(Math.round(730_000 + t * (2_000_000 - 730_000)));
    });

    it('still tops out at 1080p above the top rung, never at the source size', () => {
      expect(names(3840, 2160)[0]).toBe('1920x1080');
    });

    it('makes no extra rung for a source on a rung (or within a pixel of it)', () => {
      expect(names(1280, 720)[0]).toBe('1280x720');
      expect(names(1281, 721)[0]).toBe('1280x720');
    });
  });
});
