/**
 * Bjøntegaard delta rate (VCEG-M33): how many more bits a test encoder spends than an anchor
 * for the same quality, averaged over the quality range both cover. Each curve's log-rate is
 * fitted as a cubic in the quality (PSNR in dB, or SSIM in dB), both fits are integrated
 * over the overlapping quality range, and the mean difference of log-rate becomes a ratio.
 */

export interface RdPoint {
  /** Bits per second (any unit, the same for both curves). */
  rate: number;
  /** Quality: PSNR in dB, or SSIM as decibels (see `ssimDb`). */
  quality: number;
}

/** SSIM on a decibel scale, -10·log10(1 - SSIM): near-linear in log-rate, as PSNR is. */
export const ssimDb = (ssim: number): number => -10 * Math.log10(Math.max(1e-10, 1 - ssim));

/** Solve A·x = b (small, dense) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    }
    const p = m[pivot];
    const c = m[col];
    if (!p || !c || Math.abs(p[col] ?? 0) < 1e-300) throw new Error('singular fit');
    m[pivot] = c;
    m[col] = p;
    for (let r = 0; r < n; r++) {
      const row = m[r];
      if (r === col || !row) continue;
      const f = (row[col] ?? 0) / (p[col] ?? 1);
      for (let k = col; k <= n; k++) row[k] = (row[k] ?? 0) - f * (p[k] ?? 0);
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / (row[i] ?? 1));
}

/**
 * Least-squares polynomial y ≈ Σ c_k·((x - shift)/scale)^k of the given degree (capped at
 * points - 1). The x values are centred and scaled first, so that SSIM-like ranges (0.97
 * to 0.99) do not make the normal equations singular.
 */
export function polyfit(
  xs: readonly number[],
  ys: readonly number[],
  degree: number,
): { coef: number[]; shift: number; scale: number } {
  if (xs.length !== ys.length || xs.length < 2) throw new Error('polyfit needs two points or more');
  const d = Math.min(degree, xs.length - 1);
  const shift = xs.reduce((s, x) => s + x, 0) / xs.length;
  const scale = Math.max(...xs.map((x) => Math.abs(x - shift))) || 1;
  const u = xs.map((x) => (x - shift) / scale);
  const ata = Array.from({ length: d + 1 }, (_, i) =>
    Array.from({ length: d + 1 }, (_, j) => u.reduce((s, x) => s + x ** (i + j), 0)),
  );
  const aty = Array.from({ length: d + 1 }, (_, i) =>
    u.reduce((s, x, k) => s + x ** i * (ys[k] ?? 0), 0),
  );
  return { coef: solve(ata, aty), shift, scale };
}

/** ∫ from lo to hi of a `polyfit` polynomial. */
export function polyIntegral(
  fit: { coef: number[]; shift: number; scale: number },
  lo: number,
  hi: number,
): number {
  const prim = (x: number) => {
    const u = (x - fit.shift) / fit.scale;
    return fit.coef.reduce((s, c, k) => s + (c * u ** (k + 1)) / (k + 1), 0) * fit.scale;
  };
  return prim(hi) - prim(lo);
}

/**
 * BD-rate of `test` against `anchor`, as a fraction: 0.1 means the test needs 10% more bits
 * for the same quality, -0.05 that it needs 5% fewer. NaN when the quality ranges do not
 * overlap (or a curve has fewer than two points).
 */
export function bdRate(anchor: readonly RdPoint[], test: readonly RdPoint[]): number {
  const usable = (c: readonly RdPoint[]) =>
    c.filter((p) => p.rate > 0 && Number.isFinite(p.rate) && Number.isFinite(p.quality));
  const a = usable(anchor);
  const t = usable(test);
  if (a.length < 2 || t.length < 2) return Number.NaN;
  const lo = Math.max(Math.min(...a.map((p) => p.quality)), Math.min(...t.map((p) => p.quality)));
  const hi = Math.min(Math.max(...a.map((p) => p.quality)), Math.max(...t.map((p) => p.quality)));
  if (!(hi > lo)) return Number.NaN;
  const logRateFit = (c: RdPoint[]) =>
    polyfit(
      c.map((p) => p.quality),
      c.map((p) => Math.log(p.rate)),
      3,
    );
  const diff =
    (polyIntegral(logRateFit(t), lo, hi) - polyIntegral(logRateFit(a), lo, hi)) / (hi - lo);
  return Math.exp(diff) - 1;
}
