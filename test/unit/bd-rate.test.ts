import { describe, expect, it } from 'vitest';
import { bdRate, polyfit, polyIntegral, type RdPoint, ssimDb } from '../../bench/bd-rate.js';

/** Four points of a plausible x264 curve: rate in b/s, PSNR in dB. */
const curve: RdPoint[] = [
  { rate: 1_200_000, quality: 36.1 },
  { rate: 1_900_000, quality: 38.4 },
  { rate: 3_100_000, quality: 40.6 },
  { rate: 5_200_000, quality: 42.9 },
];

describe('bdRate', () => {
  it('is 0 for a curve against itself', () => {
    expect(bdRate(curve, curve)).toBeCloseTo(0, 12);
  });

  it('is +10% when every rate is 1.1 times the anchor’s, and -1/11 the other way round', () => {
    const more = curve.map((p) => ({ ...p, rate: p.rate * 1.1 }));
    expect(bdRate(curve, more)).toBeCloseTo(0.1, 10);
    expect(bdRate(more, curve)).toBeCloseTo(1 / 1.1 - 1, 10);
  });

  it('does not depend on the order of the points', () => {
    const more = curve.map((p) => ({ ...p, rate: p.rate * 1.1 }));
    expect(bdRate([...curve].reverse(), more)).toBeCloseTo(0.1, 10);
  });

  it('integrates only over the quality range both curves cover', () => {
    // The test curve is the anchor's, shifted 1 dB up: over the overlap it costs the same
    // bits as the anchor for 1 dB more, i.e. fewer bits for equal quality.
    const better = curve.map((p) => ({ ...p, quality: p.quality + 1 }));
    const r = bdRate(curve, better);
    expect(r).toBeLessThan(0);
    expect(r).toBeGreaterThan(-0.3);
  });

  it('is NaN when the quality ranges do not overlap', () => {
    const apart = curve.map((p) => ({ ...p, quality: p.quality + 20 }));
    expect(bdRate(curve, apart)).toBeNaN();
  });

  it('works on SSIM in decibels (a narrow range near 1)', () => {
    const ssim = [0.971, 0.978, 0.984, 0.989].map((s, i) => ({
      rate: curve[i]?.rate ?? 0,
      quality: ssimDb(s),
    }));
    const more = ssim.map((p) => ({ ...p, rate: p.rate * 1.01 }));
    expect(bdRate(ssim, more)).toBeCloseTo(0.01, 10);
  });
});

describe('polyfit', () => {
  it('recovers a cubic through four points and integrates it', () => {
    const f = (x: number) => 2 - x + 0.5 * x ** 2 + 0.25 * x ** 3;
    const xs = [-1, 0.5, 2, 3];
    const fit = polyfit(
      xs,
      xs.map((x) => f(x)),
      3,
    );
    const exact = (x: number) => 2 * x - x ** 2 / 2 + x ** 3 / 6 + x ** 4 / 16;
    expect(polyIntegral(fit, 0, 2)).toBeCloseTo(exact(2) - exact(0), 9);
  });
});
