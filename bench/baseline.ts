/**
 * The limit on this machine: ONE ffmpeg process that decodes the source once and encodes the
 * pipeline's ladder, with the pipeline's encoder settings, to HLS on local disk, with the
 * audio rendition as one more output of the same process. No chunks, no S3, no queue.
 *
 * The plan comes from the pipeline's own code (ffprobe → normalizeProbe → the MP4 keyframe
 * index → makePlan with the default config), and the command from the pipeline's recipe
 * (core/recipe.ts) for one chunk that spans the whole video, plus the audio rendition's
 * output: whatever the pipeline encodes with, the baseline does too.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { makePlan, type Plan } from '../functions/core/plan.js';
import { chunkCommand, type FfmpegCommand } from '../functions/core/recipe.js';
import { localWorkers, plannedWorkers } from '../local/workers.js';
import { mediaInfoOf } from '../test/support/media.js';
import { ownReapedCpu, ProcSampler } from './procfs.js';

export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
  /** An ffmpeg before 5.1 (the 2018 npm builds, for the engines' comparison). */
  legacy?: boolean;
}

/** The defaults of functions/core/config.ts (SPOOL_SEGMENT_SECONDS, _CHUNK_SEGMENTS, _X264_PRESET). */
export const DEFAULT_PLAN_OPTIONS = { segmentSeconds: 6, chunkSegments: 5, x264Preset: 'veryfast' };

/** The plan options the local stack will use: its environment's, or the config defaults. */
export function planOptions(env: NodeJS.ProcessEnv = process.env) {
  return {
    segmentSeconds: Number(env.SPOOL_SEGMENT_SECONDS ?? DEFAULT_PLAN_OPTIONS.segmentSeconds),
    chunkSegments: Number(env.SPOOL_CHUNK_SEGMENTS ?? DEFAULT_PLAN_OPTIONS.chunkSegments),
    x264Preset: env.SPOOL_X264_PRESET ?? DEFAULT_PLAN_OPTIONS.x264Preset,
    workers: plannedWorkers(localWorkers()),
  };
}

/** The plan ingest makes of this file (same probe, keyframe index and planner). */
export async function planFor(bins: Binaries, file: string): Promise<Plan> {
  const info = await mediaInfoOf(file, bins);
  return makePlan('bench00000000000000', info, planOptions());
}

/** The plan with one chunk that runs from the first frame to the last. */
function wholeVideo(plan: Plan): Plan {
  const first = plan.chunks[0];
  if (!first) throw new Error('the plan has no chunks');
  const { readEndByte: _unbounded, ...rest } = first;
  return { ...plan, chunks: [{ ...rest, frames: null }] };
}

const argsOf = (command: FfmpegCommand): string[] => [
  ...command.inputOptions,
  '-i',
  command.input,
  '-y',
  ...(command.filterGraph ? ['-filter_complex', command.filterGraph] : []),
  ...(command.imageGraphs ?? []).flatMap((g) => ['-filter_complex', g]),
  ...command.outputs.flatMap((o) => [...o.options, o.path]),
];

/** The single-process command: one input, one filter graph, every rendition + audio. */
export function baselineArgs(
  plan: Plan,
  input: string,
  outDir: string,
  legacyEngine = false,
): string[] {
  return argsOf(
    chunkCommand(wholeVideo(plan), 0, {
      input,
      workDir: outDir,
      cpus: availableParallelism(),
      bounded: false,
      legacyEngine,
    }),
  );
}

export interface FfmpegResult {
  seconds: number;
  peakRssMb: number;
  /** user + system CPU seconds, exact (from the rusage of the reaped process). */
  cpuSeconds: number;
}

/** Run one ffmpeg to completion, timing it and sampling its peak RSS and CPU time. */
export async function timeFfmpeg(
  bins: Binaries,
  args: string[],
  dirs: string[],
): Promise<FfmpegResult> {
  await Promise.all(dirs.map((d) => mkdir(d, { recursive: true })));
  const started = performance.now();
  const child = spawn(bins.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // The root is ffmpeg itself: its own VmHWM is the figure.
  const sampler = new ProcSampler(child.pid ?? -1).start();
  const reapedBefore = ownReapedCpu();
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const samples = sampler.stop();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`ffmpeg exited ${code}:\n${stderr}`);
  // Node has reaped it by 'exit': its rusage is in ours, to the tick.
  const cpuSeconds = ownReapedCpu() - reapedBefore;
  return { seconds, peakRssMb: samples.rootHwmKb / 1024, cpuSeconds };
}

export async function runBaseline(
  bins: Binaries,
  plan: Plan,
  input: string,
  outDir: string,
): Promise<FfmpegResult> {
  await rm(outDir, { recursive: true, force: true });
  const dirs = [...plan.renditions.map((r) => r.name), 'audio'].map((n) => join(outDir, n));
  try {
    return await timeFfmpeg(bins, baselineArgs(plan, input, outDir, bins.legacy), dirs);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
