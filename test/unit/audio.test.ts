/** Where each chunk's sound starts and ends, and which of its encoder's frames it keeps. */
import { describe, expect, it } from 'vitest';
import { AAC_FRAME, audioCut, audioEnd, audioSegmentCuts } from '../../functions/core/audio.js';

const at = (num: number, den = 1) => ({
  output: { frameRate: { num, den } },
  audio: { bitrate: 128_000, channels: 2 as const, sampleRate: 48_000 as const },
});

describe('audioCut and audioEnd', () => {
  it('cut on the 1024-sample grid: the sound of a chunk a little after its picture, an end with it', () => {
    const plan = at(30) as never;
    expect(audioCut(plan, 0)).toBe(0);
    // Frame 180 at 30 fps is 6 s (288000); 0.15 s later is 295200, next boundary 295936.
    expect(audioCut(plan, 180)).toBe(295_936);
    expect(audioEnd(plan, 180)).toBe(288_768);
    for (const f of [1, 179, 1234, 99_999]) {
      expect(audioCut(plan, f) % AAC_FRAME).toBe(0);
      expect(audioCut(plan, f) - f * 1600).toBeGreaterThanOrEqual(7200);
      expect(audioCut(plan, f) - f * 1600).toBeLessThan(7200 + AAC_FRAME);
    }
  });

  it('stays exact on a ten-hour video at 59.94 fps, where samples × fps pass 2^53', () => {
    const plan = at(60_000, 1001) as never;
    const frame = 10 * 3600 * 60;
    const exact = (BigInt(frame) * 1001n * 48_000n) / 60_000n;
    expect(BigInt(audioEnd(plan, frame)) - exact).toBeGreaterThanOrEqual(0n);
    expect(BigInt(audioEnd(plan, frame)) - exact).toBeLessThan(1024n);
  });
});

describe('audioSegmentCuts', () => {
  const plan = at(30) as never;

  it("keeps a later chunk's frames from its cut to the next, split where its segments end", () => {
    // Chunk of two 6 s segments from frame 180; encoder started two frames before the cut.
    const from = audioCut(plan, 180) - 2048;
    const end = audioCut(plan, 540);
    const cuts = audioSegmentCuts({
      plan,
      startFrame: 180,
      encodedFrom: from,
      frames: 600,
      videoSegments: [180, 180],
      endSample: end,
      keepPriming: false,
    });
    // Frame j starts at from + (j - 1) × 1024: frame 3 starts at the cut.
    expect(cuts[0]).toEqual({
      segment: 0,
      first: 3,
      count: (audioCut(plan, 360) - audioCut(plan, 180)) / 1024,
      startSample: audioCut(plan, 180),
    });
    const last = cuts[1];
    expect(last?.startSample).toBe(audioCut(plan, 360));
    expect((last?.startSample ?? 0) + (last?.count ?? 0) * 1024).toBe(end);
  });

  it('keeps the priming of the first chunk, and stops where the sound ends', () => {
    const cuts = audioSegmentCuts({
      plan,
      startFrame: 0,
      encodedFrom: 0,
      frames: 400,
      videoSegments: [180],
      endSample: audioCut(plan, 180),
      keepPriming: true,
    });
    expect(cuts).toEqual([
      { segment: 0, first: 0, count: audioCut(plan, 180) / 1024 + 1, startSample: -1024 },
    ]);
  });
});
