import { describe, expect, it } from 'vitest';
import { imageSpec } from '../../functions/core/images.js';
import { writeStoryboardVtt } from '../../functions/core/storyboard.js';

const rendition = (width: number, height: number) => ({
  name: `${height}p`,
  width,
  height,
  bitrate: 1,
});

describe('imageSpec', () => {
  it('takes a thumbnail every GOP for short videos, five to a row', () => {
    const spec = imageSpec([rendition(1280, 720)], { width: 1280, height: 720 }, 60, 900, 420);
    expect(spec.storyboard).toEqual({
      intervalFrames: 60,
      width: 160,
      height: 90,
      columns: 5,
    });
  });

  it('spaces thumbnails out on long videos, on an interval that divides the chunk', () => {
    // Two hours at 30 fps: a thumbnail every 2 s would be 3600.
    const spec = imageSpec([rendition(1280, 720)], { width: 1280, height: 720 }, 60, 900, 216_000);
    expect(900 % spec.storyboard.intervalFrames).toBe(0);
    expect(216_000 / spec.storyboard.intervalFrames).toBeLessThanOrEqual(720);
  });

  it('keeps portrait thumbnails portrait', () => {
    const spec = imageSpec([rendition(720, 1280)], { width: 1080, height: 1920 }, 60, 180, 420);
    expect(spec.storyboard).toMatchObject({ width: 90, height: 160 });
  });

  it('makes the poster at most 720p', () => {
    const spec = imageSpec(
      [rendition(1920, 1080), rendition(1280, 720), rendition(640, 360)],
      { width: 1920, height: 1080 },
      60,
      180,
      420,
    );
    expect(spec.poster).toEqual({ width: 1280, height: 720 });
  });
});

describe('writeStoryboardVtt', () => {
  const spec = { intervalFrames: 60, width: 160, height: 90, columns: 2 };

  it('points each cue at its tile, across chunks, and stops at the duration', () => {
    const vtt = writeStoryboardVtt(
      [
        { file: 'thumbs-00000.jpg', count: 3 },
        { file: 'thumbs-00001.jpg', count: 2 },
      ],
      [0, 180],
      spec,
      30,
      9,
    );
    expect(vtt.split('\n\n').slice(1, 6)).toEqual([
      '00:00:00.000 --> 00:00:02.000\nthumbs-00000.jpg#xywh=0,0,160,90',
      '00:00:02.000 --> 00:00:04.000\nthumbs-00000.jpg#xywh=160,0,160,90',
      '00:00:04.000 --> 00:00:06.000\nthumbs-00000.jpg#xywh=0,90,160,90',
      '00:00:06.000 --> 00:00:08.000\nthumbs-00001.jpg#xywh=0,0,160,90',
      '00:00:08.000 --> 00:00:09.000\nthumbs-00001.jpg#xywh=160,0,160,90\n',
    ]);
  });

  it('hands over at the next chunk when a chunk is shorter than the interval (the opening)', () => {
    const vtt = writeStoryboardVtt(
      [
        { file: 'thumbs-00000.jpg', count: 1 },
        { file: 'thumbs-00001.jpg', count: 1 },
      ],
      [0, 30],
      spec,
      30,
      3,
    );
    expect(vtt.split('\n\n').slice(1, 3)).toEqual([
      '00:00:00.000 --> 00:00:01.000\nthumbs-00000.jpg#xywh=0,0,160,90',
      '00:00:01.000 --> 00:00:03.000\nthumbs-00001.jpg#xywh=0,0,160,90\n',
    ]);
  });
});
