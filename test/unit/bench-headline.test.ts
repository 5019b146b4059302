import { describe, expect, it } from 'vitest';
import {
  headlineLines,
  perRun,
  type RunOutcome,
  runMedians,
  worstBdRate,
} from '../../bench/headline.js';

const run = (ready: number, master: number | undefined, cpu: number): RunOutcome => ({
  baseline: { seconds: 20, cpuSeconds: 40 },
  figures: { readySeconds: ready, masterSeconds: master, ffmpegCpuSeconds: cpu },
});

describe('headlineLines', () => {
  it('prints the five lines scripts read, in their order', () => {
    const lines = headlineLines({
      playableShare: 0.1234,
      cpuRatio: 1.0449,
      ready60MinSeconds: 51.26,
      chunkingBdRate: 0.00437,
      ratio: 1.084,
    });

    expect(lines).toEqual([
      'playable_share=0.123',
      'cpu_ratio=1.045',
      'ready_60min_s=51.3',
      'chunking_bdrate_pct=0.44',
      'ratio=1.08',
    ]);
  });

  it('prints nan for a figure that was not measured, so a script sees no number', () => {
    const lines = headlineLines({
      playableShare: Number.NaN,
      cpuRatio: 1,
      ready60MinSeconds: 50,
      chunkingBdRate: Number.NaN,
      ratio: 1,
    });

    expect(lines[0]).toBe('playable_share=nan');
    expect(lines[3]).toBe('chunking_bdrate_pct=nan');
  });
});

describe('runMedians', () => {
  it('takes the median of each per-run figure over the runs', () => {
    const m = runMedians([run(22, 3, 42), run(30, 5, 50), run(24, 4, 44)]);

    expect(m.readySeconds).toBe(24);
    expect(m.ratio).toBe(24 / 20);
    expect(m.playableSeconds).toBe(4);
    expect(m.playableShare).toBe(4 / 20);
    expect(m.cpuRatio).toBe(44 / 40);
  });

  it('leaves a run without a first playable out of the playable medians only', () => {
    const m = runMedians([run(22, 3, 42), run(30, undefined, 50), run(24, 5, 44)]);

    expect(perRun.playableShare(run(30, undefined, 50))).toBeNaN();
    expect(m.playableSeconds).toBe(4);
    expect(m.readySeconds).toBe(24);
  });
});

describe('worstBdRate', () => {
  it('is the largest BD-rate over the rungs and both metrics', () => {
    const worst = worstBdRate([
      { bdPsnr: 0.002, bdSsim: 0.004 },
      { bdPsnr: 0.009, bdSsim: -0.001 },
      { bdPsnr: -0.003, bdSsim: 0.001 },
    ]);

    expect(worst).toBe(0.009);
  });

  it('skips the rungs that have none (at their cap)', () => {
    expect(
      worstBdRate([
        { bdPsnr: Number.NaN, bdSsim: Number.NaN },
        { bdPsnr: -0.02, bdSsim: -0.01 },
      ]),
    ).toBe(-0.01);
  });

  it('is NaN when no rung has one', () => {
    expect(worstBdRate([{ bdPsnr: Number.NaN, bdSsim: Number.NaN }])).toBeNaN();
    expect(worstBdRate([])).toBeNaN();
  });
});
