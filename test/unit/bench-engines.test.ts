import { describe, expect, it } from 'vitest';
import { atLeastAsGood, enginesTable } from '../../bench/engines.js';

describe('the engines side by side', () => {
  it('calls the new engine at least as good where its figure is no higher', () => {
    expect(atLeastAsGood(1.03, 1.1)).toBe('yes');
    expect(atLeastAsGood(1.1, 1.1)).toBe('yes');
    expect(atLeastAsGood(1.2, 1.1)).toBe('no');
    expect(atLeastAsGood(Number.NaN, 1.1)).toBe('–');
  });

  it('prints every closing figure of both, the BD-rate in percent', () => {
    const figures = (x: number) => ({
      playableShare: 0.12 * x,
      cpuRatio: x,
      ready60MinSeconds: 48 * x,
      chunkingBdRate: 0.0036 * x,
      ratio: x,
    });
    const text = enginesTable({ newer: 'new', older: 'old' }, figures(1), figures(2));
    expect(text.split('\n')).toHaveLength(6);
    expect(text).toMatch(/^chunking_bdrate_pct\s+0\.36\s+0\.72\s+yes$/m);
    expect(text).toMatch(/^ratio\s+1\.00\s+2\.00\s+yes$/m);
  });
});
