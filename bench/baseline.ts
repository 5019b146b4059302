/**
 * The limit on this machine: ONE ffmpeg process that decodes the source once and encodes the
 * pipeline's ladder, with the pipeline's encoder settings, to HLS on local disk, with the
 * audio rendition as one more output of the same process. No chunks, no S3, no queue.
 *
 * The plan comes from the pipeline's own code (ffprobe → normalizeProbe → makePlan with the
 * default config) and the filter graph from FfmpegTranscoder.filterGraph. The per-output
 * options mirror FfmpegTranscoder.encodeVideoChunk / encodeAudio (functions/adapters/
 * ffmpeg.ts) minus what only a chunk needs (-frames:v): keep them in step with that file.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FfmpegTranscoder, FfprobeProber, inputGuards } from '../functions/adapters/ffmpeg.js';
import { normalizeProbe } from '../functions/core/media.js';
import { makePlan, type Plan } from '../functions/core/plan.js';
import { ProcSampler } from './procfs.js';

export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
}

/** The defaults of functions/core/config.ts (SPOOL_SEGMENT_SECONDS, _CHUNK_SEGMENTS, _X264_PRESET). */
export const DEFAULT_PLAN_OPTIONS = { segmentSeconds: 6, chunkSegments: 5, x264Preset: 'veryfast' };

/** The plan options the stack will use: its environment's, or the config defaults. */
export function planOptions(env: NodeJS.ProcessEnv = process.env) {
  return {
    segmentSeconds: Number(env.SPOOL_SEGMENT_SECONDS ?? DEFAULT_PLAN_OPTIONS.segmentSeconds),
    chunkSegments: Number(env.SPOOL_CHUNK_SEGMENTS ?? DEFAULT_PLAN_OPTIONS.chunkSegments),
    x264Preset: env.SPOOL_X264_PRESET ?? DEFAULT_PLAN_OPTIONS.x264Preset,
  };
}

/** The plan ingest makes of this file (same probe, same normalisation, same planner). */
export async function planFor(bins: Binaries, file: string): Promise<Plan> {
  const prober = new FfprobeProber({ ffmpegPath: bins.ffmpeg, ffprobePath: bins.ffprobe });
  const info = normalizeProbe(await prober.probe(file));
  return makePlan('bench00000000000000', info, planOptions());
}

const fmt = (n: number): string => n.toFixed(6);

/**
 * The pipeline's filter graph for the whole source. Branches the chunk jobs send to other
 * outputs (poster, storyboard) end in `nullsink` here: their filtering is still done, as in
 * the pipeline, but only the ladder and the audio are written.
 */
export function baselineGraph(plan: Plan): string {
  const graph = FfmpegTranscoder.filterGraph(plan);
  const chains = graph.split(';');
  const inputs = new Set(
    chains.flatMap((c) => /^(\[[^\]]+\])+/.exec(c)?.[0].match(/\[[^\]]+\]/g) ?? []),
  );
  const outputs = chains.flatMap((c) => /(\[[^\]]+\])+$/.exec(c)?.[0].match(/\[[^\]]+\]/g) ?? []);
  const ladder = new Set(plan.renditions.map((_, i) => `[v${i}]`));
  const extra = outputs.filter((l) => !inputs.has(l) && !ladder.has(l));
  return [graph, ...extra.map((l) => `${l}nullsink`)].join(';');
}

/** The output options of one ladder rung (FfmpegTranscoder.encodeVideoChunk's, unchunked). */
function renditionOutput(plan: Plan, i: number, outDir: string): string[] {
  const r = plan.renditions[i];
  if (!r) throw new Error(`no rendition ${i}`);
  const { num, den } = plan.output.frameRate;
  const gop = plan.output.gopFrames;
  return [
    '-map',
    `[v${i}]`,
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-c:v',
    'libx264',
    '-preset',
    plan.output.x264Preset,
    '-profile:v',
    'high',
    '-crf',
    String(plan.output.crf),
    '-maxrate',
    String(r.bitrate),
    '-bufsize',
    String(r.bitrate * 2),
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-force_key_frames',
    `expr:eq(mod(n,${gop}),0)`,
    '-r',
    `${num}/${den}`,
    '-vsync',
    'passthrough',
    '-output_ts_offset',
    fmt(plan.chunks[0]?.offsetSeconds ?? plan.output.timelineOrigin),
    '-f',
    'hls',
    '-hls_time',
    fmt(FfmpegTranscoder.hlsSegmentSeconds(plan)),
    '-hls_list_size',
    '0',
    '-hls_playlist_type',
    'vod',
    '-start_number',
    '0',
    '-hls_segment_filename',
    join(outDir, r.name, 'seg_%05d.ts'),
    join(outDir, r.name, 'index.m3u8'),
  ];
}

/** The audio rendition's output options (FfmpegTranscoder.encodeAudio's). */
function audioOutput(plan: Plan, outDir: string): string[] {
  if (!plan.audio) return [];
  const fps = plan.output.frameRate.num / plan.output.frameRate.den;
  return [
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-c:a',
    'aac',
    '-b:a',
    String(plan.audio.bitrate),
    '-ac',
    String(plan.audio.channels),
    '-ar',
    String(plan.audio.sampleRate),
    '-output_ts_offset',
    fmt(plan.output.timelineOrigin),
    '-f',
    'hls',
    '-hls_time',
    fmt(plan.output.segmentFrames / fps),
    '-hls_list_size',
    '0',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    join(outDir, 'audio', 'seg_%05d.ts'),
    join(outDir, 'audio', 'index.m3u8'),
  ];
}

/** The single-process command: one input, one filter graph, every rendition + audio. */
export function baselineArgs(plan: Plan, input: string, outDir: string): string[] {
  return [
    '-nostdin',
    ...inputGuards(input),
    '-i',
    input,
    '-y',
    '-filter_complex',
    baselineGraph(plan),
    ...plan.renditions.flatMap((_, i) => renditionOutput(plan, i, outDir)),
    ...audioOutput(plan, outDir),
  ];
}

/** The audio rendition alone, from the local file: the audio job's speed without contention. */
export function audioOnlyArgs(plan: Plan, input: string, outDir: string): string[] {
  return ['-nostdin', ...inputGuards(input), '-i', input, '-y', ...audioOutput(plan, outDir)];
}

export interface FfmpegResult {
  seconds: number;
  peakRssMb: number;
  /** user + system CPU seconds (sampled every 100 ms, so up to 0.1 s × threads short). */
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
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  const samples = sampler.stop();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`ffmpeg exited ${code}:\n${stderr}`);
  return { seconds, peakRssMb: samples.rootHwmKb / 1024, cpuSeconds: samples.rootCpuSeconds };
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
    return await timeFfmpeg(bins, baselineArgs(plan, input, outDir), dirs);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

export async function runAudioOnly(
  bins: Binaries,
  plan: Plan,
  input: string,
  outDir: string,
): Promise<FfmpegResult | undefined> {
  if (!plan.audio) return undefined;
  await rm(outDir, { recursive: true, force: true });
  try {
    return await timeFfmpeg(bins, audioOnlyArgs(plan, input, outDir), [join(outDir, 'audio')]);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
