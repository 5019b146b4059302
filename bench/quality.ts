/**
 * `npm run bench -- --quality`: what cutting the video into chunks costs in quality. The
 * chunked pipeline (every chunk's `chunkCommand`, run as a worker runs it, the segments
 * joined in order) against ONE whole-file encode with the same recipe and settings, at four
 * CRF points. Each rung of each encode is compared with the source scaled to that rung by
 * the recipe's own filter graph (ffmpeg's ssim and psnr filters, frame by frame), which gives
 * per rung: the average bitrate against the cap, PSNR and SSIM, the BD-rate of chunked
 * against whole-file, and the largest drop of per-frame SSIM around each join.
 *
 * Every encode here is single-threaded (ENCODE_CPUS), so the quality figures do not depend
 * on the machine's load; only the times do.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ChunkSpec, Plan } from '../functions/core/plan.js';
import {
  chunkCommand,
  chunkFiles,
  chunkSegmentEnd,
  type FfmpegCommand,
  segmentCuts,
  VBV_INIT,
} from '../functions/core/recipe.js';
import { type Binaries, planFor, timeFfmpeg } from './baseline.js';
import { bdRate, type RdPoint, ssimDb } from './bd-rate.js';
import { num, table } from './format.js';

/**
 * Cores each encode is given: one. With frame threads, x264's VBV plans a frame's size from
 * the frames still being encoded, so a capped rung's output changes from run to run (234p
 * alone from the bench's 12 s source at CRF 21: 218.3-218.5 kB in three runs with two
 * threads, the same bytes every time with one; in the bench, chunked 234p against whole-file
 * moved from +1.32% to +0.62% between two runs). One thread gives the same bytes every run, and what the bench
 * compares is chunking, not threading. The local stack encodes its middle chunks so too.
 */
const ENCODE_CPUS = 1;

/** CRF points around the plan's own (21 by default): BD-rate needs four. */
export const CRF_OFFSETS = [-4, -2, 0, 2] as const;
/** Frames either side of a join's first frame in which a dip is looked for. */
export const JOIN_WINDOW = 30;
/** Targets of the issue: at most 1% more bits, and no join more than 0.001 SSIM worse. */
const TARGET_BD_RATE = 0.01;
const TARGET_JOIN_DROP = 0.001;
/**
 * A CRF point enters the BD-rate only when both encodes average under this share of the
 * rung's cap: near it, VBV holds the rate whatever the CRF, and a curve whose rate no longer
 * follows its quality makes the cubic fit meaningless. The cap target covers those points.
 */
const UNCAPPED_SHARE = 0.9;

/** What an experiment changes in the chunked encodes; the whole-file encode never changes. */
export interface ChunkedVariant {
  name: string;
  /** Options appended to a rendition output of a chunk (after the recipe's own). */
  args?: (at: { plan: Plan; chunk: ChunkSpec; rendition: number }) => string[];
  /**
   * Frames (at most a GOP) each chunk after the first starts early: encoded, then thrown away.
   * Its keyframes stay on the video's grid, and its segments are cut at each keyframe, so
   * that the early frames make a segment of their own.
   */
  leadFrames?: number;
  /** Frames each chunk but the last runs on past its end: a last segment, thrown away. */
  tailFrames?: number;
  /** Encoded as one chunk spanning the video, like the whole-file encode. */
  whole?: true;
}

export const PIPELINE: ChunkedVariant = { name: 'pipeline as is' };

/**
 * The whole-file encode again with x264's VBV starting 0.01 fuller: how far a rung's frames
 * move when only its buffer's state differs, which is all a chunk's start changes. A rung
 * held at its cap spends every frame against that buffer, so this is its noise floor: on the
 * bench's 12 s source at CRF 21, 234p's frames moved by up to 0.0017 SSIM (the chunked
 * encode's, outside the join windows: 0.0015); every other rung's by under 0.0001.
 */
export const VBV_NUDGE: ChunkedVariant = {
  name: 'whole-file, VBV start +0.01',
  whole: true,
  args: () => ['-x264-params', `vbv-init=${VBV_INIT + 0.01}`],
};

/** One rung of one encode, measured. */
export interface RungMeasure {
  /** Bytes of the joined segments (MPEG-TS). */
  bytes: number;
  /** Bytes of the H.264 stream alone (sum of its packets). */
  esBytes: number;
  frames: number;
  /** Per-frame SSIM (All) and Y-PSNR against the scaled source. */
  ssim: number[];
  psnrY: number[];
}

interface Encode {
  crf: number;
  /** Per rendition, in the plan's order. */
  rungs: RungMeasure[];
  /** Encode time: wall and CPU seconds of the ffmpegs (all chunks). */
  seconds: number;
  cpuSeconds: number;
}

export interface QualityRun {
  variant: ChunkedVariant;
  encodes: Encode[];
}

export interface QualityOptions {
  bins: Binaries;
  file: string;
  /** Scratch space (emptied first). */
  dir: string;
  /** Variants of the chunked pipeline to measure; the first is the baseline of the report. */
  variants?: ChunkedVariant[];
  crfOffsets?: readonly number[];
  /** Keep the whole-file measurements in `dir`/../quality-cache and reuse them (experiments). */
  reuseWhole?: boolean;
  log?: (text: string) => void;
}

const label = (options: string[]): string | undefined => {
  const i = options.indexOf('-map');
  return i >= 0 ? options[i + 1] : undefined;
};
/** The rendition an output encodes (`-map [v<i>]`), if it is one. */
const renditionOf = (options: string[]): number | undefined => {
  const m = /^\[v(\d+)\]$/.exec(label(options) ?? '');
  return m ? Number(m[1]) : undefined;
};

/** The plan with one chunk that runs from the first frame to the last (as bench/baseline.ts). */
function wholeVideo(plan: Plan): Plan {
  const first = plan.chunks[0];
  if (!first) throw new Error('the plan has no chunks');
  const { readEndByte: _unbounded, ...rest } = first;
  return { ...plan, chunks: [{ ...rest, frames: null }] };
}

/** The command's inputs, whatever version of the recipe made it. */
const inputsOf = (command: FfmpegCommand): string[] => {
  const more = (command as { moreInputs?: { input: string; inputOptions: string[] }[] }).moreInputs;
  return [
    ...command.inputOptions,
    '-i',
    command.input,
    ...(more ?? []).flatMap((m) => [...m.inputOptions, '-i', m.input]),
  ];
};
const inputCount = (command: FfmpegCommand): number =>
  1 + ((command as { moreInputs?: unknown[] }).moreInputs?.length ?? 0);

/** The command with only its filter-graph outputs (no audio or copied streams). */
function videoOnly(command: FfmpegCommand): FfmpegCommand {
  return {
    ...command,
    // The storyboard and poster have graphs of their own (recipe.chunkImageGraphs).
    imageGraphs: [],
    outputs: command.outputs.filter((o) => renditionOf(o.options) !== undefined),
  };
}

function argsOf(command: FfmpegCommand): string[] {
  return [
    '-hide_banner',
    ...inputsOf(command),
    '-y',
    ...(command.filterGraph ? ['-filter_complex', command.filterGraph] : []),
    ...(command.imageGraphs ?? []).flatMap((g) => ['-filter_complex', g]),
    ...command.outputs.flatMap((o) => [...o.options, o.path]),
  ];
}

/** Directories an output writes into (its segments', and its playlist's). */
const dirsOf = (command: FfmpegCommand): string[] =>
  command.outputs.flatMap((o) => {
    const list = o.options.indexOf('-segment_list');
    const listPath = list >= 0 ? o.options[list + 1] : undefined;
    return [dirname(o.path), ...(listPath ? [dirname(listPath)] : [])];
  });

const planAt = (plan: Plan, crf: number): Plan => ({ ...plan, output: { ...plan.output, crf } });

/** Frames chunk `spec` starts early and runs on, in this variant. */
function overlapOf(plan: Plan, spec: ChunkSpec, variant: ChunkedVariant) {
  const lead = spec.index > 0 ? (variant.leadFrames ?? 0) : 0;
  if (lead > plan.output.gopFrames) throw new Error('a lead of more than one GOP');
  return { lead, tail: spec.frames !== null ? (variant.tailFrames ?? 0) : 0 };
}

/**
 * Options for a chunk of the variant that starts `lead` frames early and runs `tail` frames
 * on: keyframes where the video's grid has them (and on the first frame), and segment cuts
 * where the pipeline's chunk has them, plus one after the lead and one before the tail, so
 * the chunk's own segments are the pipeline's.
 */
function overlapOptions(plan: Plan, spec: ChunkSpec, lead: number, tail: number): string[] {
  const gop = plan.output.gopFrames;
  const own = segmentCuts(plan, spec).map((c) => c + lead);
  const cuts = [
    ...(lead > 0 ? [lead] : []),
    ...own,
    ...(tail > 0 ? [(own.at(-1) ?? 0) + tail] : []),
  ];
  return [
    '-force_key_frames',
    `expr:eq(n,0)+eq(mod(n+${gop - (lead % gop)},${gop}),0)${cuts.map((c) => `+eq(n,${c})`).join('')}`,
    '-segment_frames',
    cuts.join(','),
  ];
}

/** The plan as chunk `i` of the variant sees it: started early and run on, when overlapping. */
function overlapped(plan: Plan, i: number, variant: ChunkedVariant): Plan {
  const spec = plan.chunks[i];
  const prev = plan.chunks[i - 1];
  if (!spec) throw new Error(`chunk ${i} is not in the plan`);
  const fps = fpsOf(plan);
  const { lead, tail } = overlapOf(plan, spec, variant);
  if (lead === 0 && tail === 0) return plan;
  const chunk: ChunkSpec = {
    ...spec,
    startFrame: spec.startFrame - lead,
    frames: spec.frames === null ? null : spec.frames + lead + tail,
    // The previous chunk's seek lands before its own start, so before this one's early start.
    seekSeconds: lead > 0 && prev ? prev.seekSeconds : spec.seekSeconds,
    offsetSeconds: spec.offsetSeconds - lead / fps,
  };
  delete chunk.readEndByte;
  return { ...plan, chunks: plan.chunks.map((c) => (c.index === i ? chunk : c)) };
}

async function segmentsOf(playlist: string): Promise<string[]> {
  const text = await readFile(playlist, 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => resolve(dirname(playlist), l));
}

async function concat(files: string[], out: string): Promise<number> {
  const parts = await Promise.all(files.map((f) => readFile(f)));
  const joined = Buffer.concat(parts);
  await writeFile(out, joined);
  return joined.length;
}

/** Spawn a binary, collect stdout, fail with stderr's tail. */
function run(bin: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    // A relative path to the binary must survive the change of directory.
    const exe = bin.includes('/') ? resolve(bin) : bin;
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolvePromise(Buffer.concat(out).toString())
        : reject(new Error(`${bin} exited ${code}:\n${err}`)),
    );
  });
}

/** The H.264 stream's bytes and frames in a joined file. */
async function elementary(
  bins: Binaries,
  file: string,
): Promise<{ bytes: number; frames: number }> {
  const out = await run(bins.ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=size',
    '-of',
    'csv=p=0',
    file,
  ]);
  const sizes = out
    .split('\n')
    .map((l) => Number.parseInt(l, 10))
    .filter((n) => Number.isFinite(n));
  return { bytes: sizes.reduce((s, n) => s + n, 0), frames: sizes.length };
}

/**
 * Encode the ladder at one CRF, chunked (each chunk's command as the workers run it) or as
 * one chunk spanning the video; return each rung's joined file.
 */
async function encode(
  bins: Binaries,
  base: Plan,
  file: string,
  dir: string,
  crf: number,
  variant: ChunkedVariant | 'whole',
): Promise<{ joined: string[]; bytes: number[]; seconds: number; cpuSeconds: number }> {
  const cpus = ENCODE_CPUS;
  const v = variant === 'whole' ? PIPELINE : variant;
  const plan = variant === 'whole' || v.whole ? wholeVideo(planAt(base, crf)) : planAt(base, crf);
  const perRung: string[][] = plan.renditions.map(() => []);
  let seconds = 0;
  let cpuSeconds = 0;
  for (const spec of plan.chunks) {
    const chunkPlan = overlapped(plan, spec.index, v);
    const workDir = join(dir, `chunk-${spec.index}`);
    const command = videoOnly(
      chunkCommand(chunkPlan, spec.index, {
        input: file,
        workDir,
        cpus,
        bounded: false,
        legacyEngine: bins.legacy,
      }),
    );
    const chunk = chunkPlan.chunks[spec.index] ?? spec;
    const { lead, tail } = overlapOf(plan, spec, v);
    command.outputs = command.outputs.map((o) => {
      const r = renditionOf(o.options);
      if (r === undefined) return o;
      const extra = [
        ...(lead > 0 || tail > 0 ? overlapOptions(plan, spec, lead, tail) : []),
        ...(v.args?.({ plan: chunkPlan, chunk, rendition: r }) ?? []),
      ];
      return { ...o, options: [...o.options, ...extra] };
    });
    const result = await timeFfmpeg(bins, argsOf(command), dirsOf(command));
    seconds += result.seconds;
    cpuSeconds += result.cpuSeconds;
    const files = chunkFiles(workDir, spec.index);
    for (const [i, r] of plan.renditions.entries()) {
      const segments = await segmentsOf(files.playlist(r.name));
      // The chunk's own segments: after the lead's, and not the run-ons (the recipe's own,
      // see chunkSegmentEnd, and the variant's).
      const from = lead > 0 ? 1 : 0;
      const end = chunkSegmentEnd(plan, spec);
      const count = end === undefined ? segments.length - from : end - spec.firstSegment;
      perRung[i]?.push(...segments.slice(from, from + count));
    }
  }
  const joined: string[] = [];
  const bytes: number[] = [];
  for (const [i, r] of plan.renditions.entries()) {
    const out = join(dir, `${r.name}.ts`);
    bytes.push(await concat(perRung[i] ?? [], out));
    joined.push(out);
  }
  return { joined, bytes, seconds, cpuSeconds };
}

function parseStats(text: string, key: string): number[] {
  const re = new RegExp(`\\b${key}:([-\\d.]+|inf)`);
  return text
    .split('\n')
    .map((l) => re.exec(l)?.[1])
    .filter((v): v is string => v !== undefined)
    .map((v) => (v === 'inf' ? 100 : Number(v)));
}

/**
 * SSIM and PSNR of each joined rung against the source scaled to that rung by the recipe's
 * own graph for the whole video (the same decode, fps grid, colour conversion and scaler),
 * all rungs in one ffmpeg.
 */
async function measure(
  bins: Binaries,
  plan: Plan,
  file: string,
  joined: string[],
  dir: string,
): Promise<Pick<RungMeasure, 'ssim' | 'psnrY'>[]> {
  const cpus = availableParallelism();
  const reference = videoOnly(
    chunkCommand(wholeVideo(plan), 0, {
      input: file,
      workDir: join(dir, 'ref'),
      cpus,
      bounded: false,
      legacyEngine: bins.legacy,
    }),
  );
  const { num: fpsNum, den: fpsDen } = plan.output.frameRate;
  const first = inputCount(reference);
  const graph = [reference.filterGraph];
  const outputs: { path: string; options: string[] }[] = [];
  for (const o of reference.outputs) {
    const r = renditionOf(o.options);
    // The storyboard and poster branches are written as the recipe writes them (to scratch).
    if (r === undefined) {
      outputs.push(o);
      continue;
    }
    const input = first + r;
    graph.push(
      `[v${r}]split[ra${r}][rb${r}]`,
      `[${input}:v]settb=${fpsDen}/${fpsNum},setpts=N[d${r}]`,
      `[d${r}][ra${r}]ssim=stats_file=ssim-${r}.log[m${r}]`,
      `[m${r}][rb${r}]psnr=stats_file=psnr-${r}.log[q${r}]`,
    );
    outputs.push({ path: '-', options: ['-map', `[q${r}]`, '-f', 'null'] });
  }
  await mkdir(dir, { recursive: true });
  await Promise.all(dirsOf({ ...reference, outputs }).map((d) => mkdir(d, { recursive: true })));
  const args = [
    '-hide_banner',
    '-nostats',
    ...inputsOf(reference),
    ...joined.flatMap((j) => ['-i', j]),
    '-filter_complex',
    graph.join(';'),
    ...outputs.flatMap((o) => [...o.options, o.path]),
  ];
  await run(bins.ffmpeg, args, dir);
  return Promise.all(
    plan.renditions.map(async (_, r) => {
      const ssim = await readFile(join(dir, `ssim-${r}.log`), 'utf8');
      const psnr = await readFile(join(dir, `psnr-${r}.log`), 'utf8');
      return {
        ssim: parseStats(ssim, 'All'),
        psnrY: parseStats(psnr, 'psnr_y'),
      };
    }),
  );
}

/** Run jobs at most `limit` at a time (the metrics are single-threaded filters). */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        const job = jobs[i];
        if (job) results[i] = await job();
      }
    }),
  );
  return results;
}

/** Encode and measure one variant (or the whole file) at every CRF point. */
async function encodeAndMeasure(
  opts: Required<Pick<QualityOptions, 'bins' | 'file' | 'dir'>> & { log: (t: string) => void },
  plan: Plan,
  crfs: number[],
  variant: ChunkedVariant | 'whole',
): Promise<Encode[]> {
  const name = variant === 'whole' ? 'whole-file' : variant.name;
  const slug = name.replace(/[^\w.-]+/g, '_');
  const encoded: {
    crf: number;
    joined: string[];
    bytes: number[];
    seconds: number;
    cpu: number;
  }[] = [];
  for (const crf of crfs) {
    const dir = join(opts.dir, slug, `crf${crf}`);
    await rm(dir, { recursive: true, force: true });
    opts.log(`${name}: encoding at CRF ${crf}…`);
    const e = await encode(opts.bins, plan, opts.file, dir, crf, variant);
    // The chunks' own files are no longer needed once joined.
    for (const spec of plan.chunks) {
      await rm(join(dir, `chunk-${spec.index}`), { recursive: true, force: true });
    }
    encoded.push({ crf, joined: e.joined, bytes: e.bytes, seconds: e.seconds, cpu: e.cpuSeconds });
  }
  opts.log(`${name}: measuring SSIM and PSNR…`);
  const results = await pool(
    encoded.map((e) => async () => {
      const metrics = await measure(
        opts.bins,
        plan,
        opts.file,
        e.joined,
        join(dirname(e.joined[0] ?? opts.dir), 'metrics'),
      );
      const rungs: RungMeasure[] = [];
      for (const [i, m] of metrics.entries()) {
        const es = await elementary(opts.bins, e.joined[i] ?? '');
        if (m.ssim.length !== es.frames) {
          throw new Error(
            `${name} CRF ${e.crf} rung ${i}: ${es.frames} frames encoded, ${m.ssim.length} compared`,
          );
        }
        rungs.push({ bytes: e.bytes[i] ?? 0, esBytes: es.bytes, frames: es.frames, ...m });
      }
      await rm(dirname(e.joined[0] ?? ''), { recursive: true, force: true });
      return { crf: e.crf, rungs, seconds: e.seconds, cpuSeconds: e.cpu };
    }),
    2,
  );
  return results;
}

/** Mean of per-frame values. */
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const fpsOf = (plan: Plan): number => plan.output.frameRate.num / plan.output.frameRate.den;
/** Average bitrate, b/s: of the segments, or of the H.264 stream alone. */
const rateOf = (plan: Plan, m: RungMeasure, es = false): number =>
  ((es ? m.esBytes : m.bytes) * 8 * fpsOf(plan)) / m.frames;

/** The first frame of every chunk after the first: where the joins are. */
export const joinFrames = (plan: Plan): number[] =>
  plan.chunks.filter((c) => c.index > 0).map((c) => c.startFrame);

export interface JoinDip {
  /** Largest (whole-file − chunked) per-frame SSIM within ±JOIN_WINDOW of a join. */
  drop: number;
  /** Where, relative to the join's first frame. */
  at: number;
  /** Frames in the join windows that are more than the target worse. */
  framesOver: number;
  /** The same largest drop over the frames outside every join window (for scale). */
  elsewhere: number;
}

/** Largest (whole-file − other) per-frame SSIM over the whole video. */
const largestDrop = (whole: number[], other: number[]): number =>
  Math.max(...whole.map((w, f) => w - (other[f] ?? w)));

export function joinDip(joins: number[], chunked: number[], whole: number[]): JoinDip {
  let drop = Number.NEGATIVE_INFINITY;
  let at = 0;
  let framesOver = 0;
  let elsewhere = Number.NEGATIVE_INFINITY;
  const n = Math.min(chunked.length, whole.length);
  for (let f = 0; f < n; f++) {
    const d = (whole[f] ?? 0) - (chunked[f] ?? 0);
    const near = joins.find((j) => Math.abs(f - j) <= JOIN_WINDOW);
    if (near === undefined) {
      elsewhere = Math.max(elsewhere, d);
      continue;
    }
    if (d > TARGET_JOIN_DROP) framesOver++;
    if (d > drop) {
      drop = d;
      at = f - near;
    }
  }
  return { drop, at, framesOver, elsewhere };
}

export interface RungSummary {
  name: string;
  cap: number;
  /** At the plan's CRF: average bitrates of the segments and of the H.264 stream alone. */
  chunkedRate: number;
  chunkedEs: number;
  wholeRate: number;
  wholeEs: number;
  chunkedPsnr: number;
  wholePsnr: number;
  chunkedSsim: number;
  wholeSsim: number;
  bdPsnr: number;
  bdSsim: number;
  /** CRF points under the cap, which the BD-rates are over (a cubic fit needs 4). */
  bdPoints: number;
  /** At the plan's CRF. */
  dip: JoinDip;
  /** The largest join drop over the four points. */
  worstDrop: number;
  /** CRF points at which the chunked H.264 stream averages more than the cap. */
  overCapAt: number[];
  /** The chunked H.264 stream's highest average over the CRF points, as a share of the cap. */
  peakCapShare: number;
  /** Largest per-frame SSIM drop of the VBV_NUDGE encode against the whole-file one. */
  nudgeDrop?: number;
}

/** Per rung: the figures at the plan's CRF and the BD-rates over all four points. */
export function summarize(
  plan: Plan,
  whole: Encode[],
  chunked: Encode[],
  rateOfEs: boolean,
  nudged?: Encode,
): RungSummary[] {
  const joins = joinFrames(plan);
  const at = (encodes: Encode[]) => encodes.find((e) => e.crf === plan.output.crf) ?? encodes[0];
  return plan.renditions.map((r, i) => {
    const uncapped = chunked
      .filter((e) => {
        const cm = e.rungs[i];
        const wm = whole.find((x) => x.crf === e.crf)?.rungs[i];
        const under = (m: RungMeasure) => rateOf(plan, m, true) < UNCAPPED_SHARE * r.bitrate;
        return cm && wm && under(cm) && under(wm);
      })
      .map((e) => e.crf);
    const curve = (encodes: Encode[], q: (m: RungMeasure) => number): RdPoint[] =>
      encodes.flatMap((e) => {
        const m = e.rungs[i];
        return m && uncapped.includes(e.crf)
          ? [{ rate: rateOf(plan, m, rateOfEs), quality: q(m) }]
          : [];
      });
    const psnrY = (m: RungMeasure) => mean(m.psnrY);
    const ssimQ = (m: RungMeasure) => ssimDb(mean(m.ssim));
    const c = at(chunked)?.rungs[i];
    const w = at(whole)?.rungs[i];
    if (!c || !w) throw new Error(`rung ${r.name} was not measured`);
    const dips = chunked.map((e) => {
      const wm = whole.find((x) => x.crf === e.crf)?.rungs[i];
      const cm = e.rungs[i];
      return wm && cm ? joinDip(joins, cm.ssim, wm.ssim).drop : Number.NaN;
    });
    return {
      name: r.name,
      cap: r.bitrate,
      chunkedRate: rateOf(plan, c),
      chunkedEs: rateOf(plan, c, true),
      wholeRate: rateOf(plan, w),
      wholeEs: rateOf(plan, w, true),
      chunkedPsnr: psnrY(c),
      wholePsnr: psnrY(w),
      chunkedSsim: mean(c.ssim),
      wholeSsim: mean(w.ssim),
      bdPsnr: bdRate(curve(whole, psnrY), curve(chunked, psnrY)),
      bdSsim: bdRate(curve(whole, ssimQ), curve(chunked, ssimQ)),
      bdPoints: uncapped.length,
      dip: joinDip(joins, c.ssim, w.ssim),
      worstDrop: Math.max(...dips),
      overCapAt: chunked.flatMap((e) => {
        const m = e.rungs[i];
        return m && rateOf(plan, m, true) > r.bitrate ? [e.crf] : [];
      }),
      peakCapShare: Math.max(
        ...chunked.map((e) => {
          const m = e.rungs[i];
          return m ? rateOf(plan, m, true) / r.bitrate : 0;
        }),
      ),
      ...(nudged?.rungs[i] ? { nudgeDrop: largestDrop(w.ssim, nudged.rungs[i].ssim) } : {}),
    };
  });
}

const pct = (x: number): string =>
  Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%` : '-';
const mbps = (x: number): string => num(x / 1e6, 2);
const capped = (rate: number, cap: number): string => `${mbps(rate)}${rate > cap ? ' OVER' : ''}`;

/** The report of one variant against the whole-file encode. */
export function variantTable(rows: RungSummary[]): string {
  const header = [
    'rung',
    'cap Mb/s',
    'chunked Mb/s',
    'H.264',
    'whole Mb/s',
    'H.264',
    'PSNR-Y chunked',
    'whole',
    'SSIM chunked',
    'whole',
    'BD-rate PSNR',
    'BD-rate SSIM',
    'join ΔSSIM (frame)',
    'frames >0.001',
    'worst, 4 CRFs',
    'elsewhere',
    'VBV nudge',
  ];
  const body = rows.map((s) => [
    s.name,
    mbps(s.cap),
    capped(s.chunkedRate, s.cap),
    capped(s.chunkedEs, s.cap),
    capped(s.wholeRate, s.cap),
    capped(s.wholeEs, s.cap),
    num(s.chunkedPsnr, 2),
    num(s.wholePsnr, 2),
    num(s.chunkedSsim, 5),
    num(s.wholeSsim, 5),
    s.bdPoints < 2 ? 'capped' : `${pct(s.bdPsnr)}${s.bdPoints < 4 ? ` (${s.bdPoints} pts)` : ''}`,
    s.bdPoints < 2 ? 'capped' : pct(s.bdSsim),
    `${num(-s.dip.drop, 4)} (${s.dip.at >= 0 ? '+' : ''}${s.dip.at})`,
    String(s.dip.framesOver),
    num(-s.worstDrop, 4),
    num(-s.dip.elsewhere, 4),
    s.nudgeDrop === undefined ? '-' : num(-s.nudgeDrop, 4),
  ]);
  return table([header, ...body]);
}

/** Every point: rate and quality of each encode at each CRF. */
function pointsTable(plan: Plan, whole: Encode[], chunked: Encode[]): string {
  const header = [
    'rung',
    'CRF',
    'chunked Mb/s',
    'H.264',
    'whole Mb/s',
    'H.264',
    'Δ rate',
    'PSNR-Y c',
    'w',
    'SSIM c',
    'w',
    'join ΔSSIM',
  ];
  const rows: string[][] = [];
  const joins = joinFrames(plan);
  for (const [i, r] of plan.renditions.entries()) {
    for (const e of chunked) {
      const c = e.rungs[i];
      const w = whole.find((x) => x.crf === e.crf)?.rungs[i];
      if (!c || !w) continue;
      rows.push([
        r.name,
        String(e.crf),
        capped(rateOf(plan, c), r.bitrate),
        capped(rateOf(plan, c, true), r.bitrate),
        capped(rateOf(plan, w), r.bitrate),
        capped(rateOf(plan, w, true), r.bitrate),
        pct(rateOf(plan, c) / rateOf(plan, w) - 1),
        num(mean(c.psnrY), 2),
        num(mean(w.psnrY), 2),
        num(mean(c.ssim), 5),
        num(mean(w.ssim), 5),
        num(-joinDip(joins, c.ssim, w.ssim).drop, 4),
      ]);
    }
  }
  return table([header, ...rows]);
}

function verdict(rows: RungSummary[]): string {
  const bdFailed = rows.filter(
    (s) => s.bdPoints >= 2 && !(s.bdPsnr <= TARGET_BD_RATE && s.bdSsim <= TARGET_BD_RATE),
  );
  const over = rows.filter((s) => s.overCapAt.length > 0);
  const dips = rows.filter((s) => !(s.worstDrop <= TARGET_JOIN_DROP));
  const names = (xs: RungSummary[], detail?: (s: RungSummary) => string) =>
    xs.length === 0
      ? 'met'
      : `NOT met (${xs.map((s) => `${s.name}${detail ? ` ${detail(s)}` : ''}`).join(', ')})`;
  return [
    `targets: BD-rate ≤ +1% (PSNR and SSIM) on every rung: ${names(bdFailed)}` +
      (rows.some((s) => s.bdPoints < 2)
        ? ` (${rows
            .filter((s) => s.bdPoints < 2)
            .map((s) => s.name)
            .join(', ')}: at the cap at every CRF point, see the cap)`
        : ''),
    `         chunked H.264 average ≤ cap: ${names(over, (s) => `at CRF ${s.overCapAt.join('/')}`)}` +
      ` (highest: ${rows.map((s) => `${s.name} ${(s.peakCapShare * 100).toFixed(1)}%`).join(', ')} of the cap;` +
      ` the segments add MPEG-TS overhead on top)`,
    `         join dip ≤ ${TARGET_JOIN_DROP} SSIM at every CRF point: ${names(dips, (s) =>
      s.nudgeDrop === undefined
        ? `${num(-s.worstDrop, 4)}`
        : `${num(-s.worstDrop, 4)}; the whole-file encode itself, VBV nudged: ${num(-s.nudgeDrop, 4)}`,
    )}`,
  ].join('\n');
}

async function cacheKey(opts: { file: string; bins: Binaries }, plan: Plan, crfs: number[]) {
  const s = await stat(opts.file);
  const probe = wholeVideo(plan);
  const sample = argsOf(
    videoOnly(
      chunkCommand(probe, 0, {
        input: opts.file,
        workDir: '/w',
        cpus: ENCODE_CPUS,
        bounded: false,
        legacyEngine: opts.bins.legacy,
      }),
    ),
  );
  return createHash('sha256')
    .update(JSON.stringify([opts.file, s.size, s.mtimeMs, opts.bins.ffmpeg, crfs, sample]))
    .digest('hex')
    .slice(0, 16);
}

export interface QualityResult {
  file: string;
  plan: Plan;
  crfs: number[];
  whole: Encode[];
  /** The whole-file encode with VBV_NUDGE, at the plan's CRF. */
  nudged?: Encode;
  runs: QualityRun[];
  /** Load average (1, 5, 15 min) at the start and the end, and the wall time. */
  load: { start: number[]; end: number[] };
  seconds: number;
}

/** Measure every variant against the whole-file encode. */
export async function qualityBench(options: QualityOptions): Promise<QualityResult> {
  const log = options.log ?? ((t: string) => process.stderr.write(`[quality] ${t}\n`));
  const started = performance.now();
  const file = resolve(options.file);
  const dir = resolve(options.dir);
  const opts = { bins: options.bins, file, dir, log };
  const variants = options.variants ?? [PIPELINE];
  const loadStart = loadavg();
  const plan = await planFor(options.bins, file);
  const crfs = (options.crfOffsets ?? CRF_OFFSETS).map((o) => plan.output.crf + o);
  await rm(dir, { recursive: true, force: true });
  log(
    `${file}: ${num(plan.source.duration)} s ${plan.source.width}x${plan.source.height}, ` +
      `${plan.chunks.length} chunk(s), joins at frames ${joinFrames(plan).join(', ') || 'none'}; CRF ${crfs.join('/')}`,
  );

  let whole: Encode[] | undefined;
  const cacheFile = options.reuseWhole
    ? join(dirname(dir), 'quality-cache', `${await cacheKey(opts, plan, crfs)}.json`)
    : undefined;
  if (cacheFile) {
    whole = await readFile(cacheFile, 'utf8').then(
      (t) => JSON.parse(t) as Encode[],
      () => undefined,
    );
    if (whole) log('whole-file: measurements reused from the cache');
  }
  if (!whole) {
    whole = await encodeAndMeasure(opts, plan, crfs, 'whole');
    if (cacheFile) {
      await mkdir(dirname(cacheFile), { recursive: true });
      await writeFile(cacheFile, JSON.stringify(whole));
    }
  }
  const nudgeFile = cacheFile?.replace(/\.json$/, '-vbv-nudge.json');
  let nudged = nudgeFile
    ? await readFile(nudgeFile, 'utf8').then(
        (t) => JSON.parse(t) as Encode,
        () => undefined,
      )
    : undefined;
  if (!nudged) {
    [nudged] = await encodeAndMeasure(opts, plan, [plan.output.crf], VBV_NUDGE);
    if (nudgeFile && nudged) await writeFile(nudgeFile, JSON.stringify(nudged));
  }
  const runs: QualityRun[] = [];
  for (const variant of variants) {
    const encodes = await encodeAndMeasure(opts, plan, crfs, variant);
    for (const [k, e] of encodes.entries()) {
      e.rungs.forEach((m, i) => {
        const w = whole?.[k]?.rungs[i];
        if (m.frames !== w?.frames) {
          throw new Error(`${variant.name}: ${m.frames} frames, whole-file ${w?.frames}`);
        }
      });
    }
    runs.push({ variant, encodes });
  }
  const loadEnd = loadavg();
  await rm(dir, { recursive: true, force: true });
  return {
    file,
    plan,
    crfs,
    whole,
    ...(nudged ? { nudged } : {}),
    runs,
    load: { start: loadStart, end: loadEnd },
    seconds: (performance.now() - started) / 1000,
  };
}

/** The BD-rate of a variant is on the H.264 stream bytes when its segments differ. */
export const esBasis = (variant: ChunkedVariant): boolean => (variant.leadFrames ?? 0) > 0;

/** The report: one table per variant against the whole-file encode, every point of the first. */
export function qualityReport(result: QualityResult): string {
  const { plan, crfs, whole, runs, load } = result;
  const fps = fpsOf(plan);
  const chunkLengths = plan.chunks
    .map((c) => num((c.frames ?? plan.estimatedFrames - c.startFrame) / fps, 0))
    .join('+');
  const loads = (l: number[]) => l.map((x) => num(x, 2)).join(' ');
  const out = [
    `# Quality: chunked vs whole-file, ${num(plan.source.duration)} s ${plan.source.width}x${plan.source.height}, ` +
      `${plan.chunks.length} chunks (${chunkLengths} s), joins at frames ${joinFrames(plan).join(', ')}`,
    '',
    `CRF points ${crfs.join(', ')} (figures at CRF ${plan.output.crf}); x264 ${plan.output.x264Preset}. ` +
      `Took ${num(result.seconds / 60, 1)} min; load average (1/5/15 min) ${loads(load.start)} at the start, ` +
      `${loads(load.end)} at the end (one x264 thread per encode, so the same bytes every run: load changes the times only).`,
    'Mb/s: bytes of the joined segments × 8 / duration; H.264: the video stream alone (what maxrate caps).',
    'PSNR-Y: mean of per-frame; SSIM: All, mean of per-frame; both against the source scaled to the rung by',
    'the recipe’s own graph. BD-rate: chunked against whole-file (cubic fit of log-rate vs PSNR-Y, or vs SSIM',
    'in dB, over the overlapping range; + = chunked needs more bits), over the CRF points at which both',
    `encodes average under ${UNCAPPED_SHARE * 100}% of the cap ("capped": fewer than two such points).`,
    `join ΔSSIM: chunked − whole-file per-frame SSIM, the lowest within ±${JOIN_WINDOW} frames of a join (frame`,
    'relative to the join’s first); "elsewhere": the same outside the join windows, for scale.',
    `VBV nudge: the whole-file encode again with x264's buffer starting ${VBV_INIT + 0.01} full instead of ${VBV_INIT},`,
    'its lowest per-frame ΔSSIM against the first, anywhere (at the plan’s CRF): how far frames move when',
    'only the rate control’s state differs, as at a chunk’s start. A rung held at its cap moves the most.',
  ];
  const [first] = runs;
  const wholeCpu = whole.reduce((s, e) => s + e.cpuSeconds, 0);
  for (const r of runs) {
    const rows = summarize(plan, whole, r.encodes, esBasis(r.variant), result.nudged);
    const cpu = r.encodes.reduce((s, e) => s + e.cpuSeconds, 0);
    out.push(
      '',
      `## ${r.variant.name}` +
        (esBasis(r.variant) ? ' (BD-rate on the H.264 stream bytes: its segments differ)' : ''),
      '',
      variantTable(rows),
      verdict(rows),
      `encode CPU at the 4 points: chunked ${num(cpu, 0)} s, whole-file ${num(wholeCpu, 0)} s (${pct(cpu / wholeCpu - 1)})`,
    );
    if (r === first) out.push('', 'Every point:', pointsTable(plan, whole, r.encodes));
  }
  return out.join('\n');
}
