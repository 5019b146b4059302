/**
 * The lines `npm run bench` ends with, which scripts read (issue 11's acceptance), and the
 * per-run figures behind them. The main table shows the same per-run figures from here.
 */
import { median, type RunFigures } from './analyze.js';
import type { FfmpegResult } from './baseline.js';
import type { RungSummary } from './quality.js';

/** What one run of the default bench measured: the baseline, then the pipeline. */
export interface RunOutcome {
  baseline: Pick<FfmpegResult, 'seconds' | 'cpuSeconds'>;
  figures: Pick<RunFigures, 'readySeconds' | 'masterSeconds' | 'ffmpegCpuSeconds'>;
}

/** Per run; NaN where the run has no such figure (the median leaves it out). */
export const perRun = {
  /** Upload → ready. */
  readySeconds: (r: RunOutcome): number => r.figures.readySeconds,
  /** Upload → the first publish wrote master.m3u8 (a player can start). */
  playableSeconds: (r: RunOutcome): number => r.figures.masterSeconds ?? Number.NaN,
  /** Upload → ready ÷ the one-ffmpeg baseline. */
  ratio: (r: RunOutcome): number => r.figures.readySeconds / r.baseline.seconds,
  /** Upload → first playable ÷ the one-ffmpeg baseline. */
  playableShare: (r: RunOutcome): number =>
    (r.figures.masterSeconds ?? Number.NaN) / r.baseline.seconds,
  /** CPU seconds of the pipeline's ffmpegs ÷ the baseline ffmpeg's. */
  cpuRatio: (r: RunOutcome): number => r.figures.ffmpegCpuSeconds / r.baseline.cpuSeconds,
};

export type RunMedians = { [K in keyof typeof perRun]: number };

/** The median over runs of every per-run figure. */
export function runMedians(runs: RunOutcome[]): RunMedians {
  const of = (get: (r: RunOutcome) => number) => median(runs.map(get));
  return {
    readySeconds: of(perRun.readySeconds),
    playableSeconds: of(perRun.playableSeconds),
    ratio: of(perRun.ratio),
    playableShare: of(perRun.playableShare),
    cpuRatio: of(perRun.cpuRatio),
  };
}

/**
 * The largest BD-rate (a fraction) over rungs and over both metrics, where a rung has one.
 * A rung with fewer than two CRF points under its cap has none (NaN): there VBV, not the
 * CRF, sets its rate. NaN when no rung has one.
 */
export function worstBdRate(rungs: Pick<RungSummary, 'bdPsnr' | 'bdSsim'>[]): number {
  const rates = rungs.flatMap((r) => [r.bdPsnr, r.bdSsim]).filter((x) => Number.isFinite(x));
  return rates.length > 0 ? Math.max(...rates) : Number.NaN;
}

export interface Headline {
  /** First playable ÷ baseline, median over runs (target ≤ 0.15). */
  playableShare: number;
  /** Pipeline ffmpeg CPU-s ÷ baseline ffmpeg CPU-s, median over runs (target ≤ 1.05). */
  cpuRatio: number;
  /** Modeled time to ready of 60 min of 1080p at 1000 workers, seconds (target ≤ 60). */
  ready60MinSeconds: number;
  /** The worst rung's BD-rate, chunked vs whole-file, as a fraction (target ≤ 0.01). */
  chunkingBdRate: number;
  /** Upload → ready ÷ baseline, median over runs (target ≤ 1.10 on a quiet machine). */
  ratio: number;
}

/** The five `key=value` lines, in the order scripts expect; `nan` for a figure not measured. */
export function headlineLines(h: Headline): string[] {
  const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'nan');
  return [
    `playable_share=${fixed(h.playableShare, 3)}`,
    `cpu_ratio=${fixed(h.cpuRatio, 3)}`,
    `ready_60min_s=${fixed(h.ready60MinSeconds, 1)}`,
    `chunking_bdrate_pct=${fixed(h.chunkingBdRate * 100, 2)}`,
    `ratio=${fixed(h.ratio, 2)}`,
  ];
}
