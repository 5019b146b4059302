/**
 * "As a viewer would see it" (DESIGN.md §7): a published stream checked against its source
 * for duration, A/V sync, display geometry, the top rung, colour, combing and audio. Every
 * figure comes from decoded frames and samples, never from a header. The checks return
 * human-readable violations (empty: the viewer sees the source as it was meant) plus the
 * measured figures, so a run can print what it found.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_LADDER } from '../../functions/core/ladder.js';
import { FFMPEG, FFPROBE, probe } from './media.js';
import { fetchManifest } from './playable.js';

const run = promisify(execFile);
const BUFFER = 256 * 1024 * 1024;

/** HLS over the CDN stand-in is http://127.0.0.1 (the static binaries cannot resolve names). */
const open = (input: string): string[] => ['-protocol_whitelist', 'file,http,tcp', '-i', input];

/**
 * The AAC priming ffmpeg's encoder puts before the first real sample (its initial_padding).
 * MPEG-TS has no edit list to hide it, so players play it: content starts this much after
 * the first audio PTS.
 */
export const AAC_PRIMING_SAMPLES = 1024;

/** Tolerances: DESIGN.md §7 (±1 frame, ±20 ms) and issue #8 (aspect, combing, audio length). */
const SYNC_TOLERANCE = 0.02;
const AUDIO_LENGTH_SLACK = 0.03;
const ASPECT_TOLERANCE = 0.02;
const MAX_COMBED_SHARE = 0.05;
/**
 * idet calls at least this share of a source's frames interlaced: the source combs. Woven
 * fields score 90-100%; a blocky progressive DivX clip (shared mpeg4_sp_960x400_mp3.avi)
 * scores 33% with no combing to be seen, so a minority is not enough.
 */
export const COMBED_SOURCE_SHARE = 0.5;

// ---------------------------------------------------------------------------------------
// Pure helpers (unit-tested in test/unit/viewer.test.ts)

export interface FrameStat {
  /** Presentation time, seconds (ffmpeg -copyts: the stream's own clock). */
  time: number;
  values: Record<string, number>;
}

/**
 * The time base the measuring filter graphs put frames on (settb/asettb) before printing.
 * `pts_time` is printed with six significant digits only, which a broadcast clock (43474 s)
 * rounds to 0.1 s; the integer `pts` in a known time base is exact.
 */
export const PRINT_TIME_BASE = 90_000;

/** ffmpeg's `metadata=print` / `ametadata=print` output: a frame line, then key=value lines. */
export function parseFrameMetadata(text: string, timeBase = PRINT_TIME_BASE): FrameStat[] {
  const frames: FrameStat[] = [];
  for (const line of text.split('\n')) {
    const head = /^frame:\s*\d+\s+pts:\s*(-?\d+)/.exec(line);
    if (head) {
      frames.push({ time: Number(head[1]) / timeBase, values: {} });
      continue;
    }
    const kv = /^lavfi\.([\w.]+)=(\S+)/.exec(line);
    const frame = frames.at(-1);
    if (kv?.[1] && kv[2] && frame) {
      const v = kv[2];
      frame.values[kv[1]] = v === '-inf' ? -Infinity : v === 'inf' ? Infinity : Number(v);
    }
  }
  return frames;
}

export interface IdetCounts {
  tff: number;
  bff: number;
  progressive: number;
  undetermined: number;
}

/** idet's closing "Multi frame detection" line (it looks at neighbours: fewer false calls). */
export function parseIdet(stderr: string): IdetCounts | undefined {
  const all = [
    ...stderr.matchAll(
      /Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)\s*Undetermined:\s*(\d+)/g,
    ),
  ];
  const m = all.at(-1);
  if (!m) return undefined;
  return {
    tff: Number(m[1]),
    bff: Number(m[2]),
    progressive: Number(m[3]),
    undetermined: Number(m[4]),
  };
}

/**
 * idet's multi-frame calls past its first frames. Its verdict carries over from frame to
 * frame and ffmpeg 7.1's starts at TFF: the first four or so frames of any video are called
 * TFF before it settles (a third of a 17-frame clip). The per-frame keys are running totals.
 */
export const IDET_WARMUP_FRAMES = 5;

export function idetAfterWarmup(frames: readonly FrameStat[]): IdetCounts | undefined {
  const totals = (f: FrameStat | undefined): IdetCounts | undefined =>
    f && f.values['idet.multiple.tff'] !== undefined
      ? {
          tff: f.values['idet.multiple.tff'] ?? 0,
          bff: f.values['idet.multiple.bff'] ?? 0,
          progressive: f.values['idet.multiple.progressive'] ?? 0,
          undetermined: f.values['idet.multiple.undetermined'] ?? 0,
        }
      : undefined;
  const end = totals(frames.at(-1));
  if (!end) return undefined;
  const start =
    frames.length > IDET_WARMUP_FRAMES * 2 ? totals(frames[IDET_WARMUP_FRAMES - 1]) : undefined;
  if (!start) return end;
  return {
    tff: end.tff - start.tff,
    bff: end.bff - start.bff,
    progressive: end.progressive - start.progressive,
    undetermined: end.undetermined - start.undetermined,
  };
}

/** Share of all frames that idet calls interlaced (TFF or BFF). */
export function combedShare(c: IdetCounts | undefined): number {
  if (!c) return 0;
  const total = c.tff + c.bff + c.progressive + c.undetermined;
  return total > 0 ? (c.tff + c.bff) / total : 0;
}

/**
 * One frame's duration for a stream of frame times: the 10th percentile of the steps. With
 * dropped frames most steps are one frame and the rest whole multiples; a jittery time base
 * (16/17 ms) is off by a millisecond at most. A container's own last-frame duration is not
 * trusted: muxers write the stream's remainder there (0.7 ms, say).
 */
export function frameStep(times: readonly number[], fallback: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  const steps = sorted
    .slice(1)
    .map((t, i) => t - (sorted[i] ?? t))
    .filter((d) => d > 1e-4)
    .sort((a, b) => a - b);
  if (steps.length === 0) return fallback;
  return steps[Math.floor((steps.length - 1) * 0.1)] ?? fallback;
}

/** Duration from timestamps: last frame + one frame − first frame. */
export function durationOf(times: readonly number[], step: number): number {
  if (times.length === 0) return 0;
  return Math.max(...times) + step - Math.min(...times);
}

/** Display size: the sample aspect ratio stretches the width, a quarter turn swaps sides. */
export function displaySize(s: {
  width: number;
  height: number;
  sar?: string;
  rotation?: number;
}): { width: number; height: number } {
  const [n, d] = (s.sar ?? '1:1').split(':').map(Number);
  const sar = n && d ? n / d : 1;
  const width = s.width * sar;
  const quarter = Math.abs(Math.round((s.rotation ?? 0) / 90)) % 2 === 1;
  return quarter ? { width: s.height, height: width } : { width, height: s.height };
}

/** The top rung's short side: the source's own (even) when below the ladder's top, never more. */
export function expectedTopShortSide(displayShort: number): number {
  const top = Math.max(...DEFAULT_LADDER.map((r) => r.shortSide));
  return Math.min(top, Math.max(2, Math.floor(displayShort / 2 + 1e-6) * 2));
}

/** Frame times of white flashes: luma far above the clip's typical frame, first of each run. */
export function flashTimes(frames: readonly FrameStat[]): number[] {
  const lumas = frames.map((f) => f.values['signalstats.YAVG'] ?? 0);
  const baseline = [...lumas].sort((a, b) => a - b)[Math.floor(lumas.length / 2)] ?? 0;
  const times: number[] = [];
  let inFlash = false;
  for (const [i, f] of frames.entries()) {
    const bright = (lumas[i] ?? 0) > Math.max(baseline + 60, 180);
    if (bright && !inFlash) times.push(f.time);
    inFlash = bright;
  }
  return times;
}

/**
 * Onsets of beeps in 5 ms RMS windows: the first loud window after at least 50 ms below
 * the silence floor. −30 dBFS is 20 dB under the beeps and far above AAC's pre-echo.
 */
export function beepOnsets(windows: readonly FrameStat[], key: string): number[] {
  const onsets: number[] = [];
  let quiet = 0;
  let last = Number.NaN;
  for (const w of windows) {
    const level = w.values[key] ?? -Infinity;
    if (level > -30 && quiet >= 0.05) onsets.push(w.time);
    if (level < -50) quiet += Number.isFinite(last) ? w.time - last : 0.005;
    else quiet = 0;
    last = w.time;
  }
  return onsets;
}

/** Seconds from each flash to the nearest beep; the median of those (NaN: nothing to pair). */
export function flashToBeep(flashes: readonly number[], beeps: readonly number[]): number {
  const d = flashes
    .map((f) => {
      const nearest = [...beeps].sort((a, b) => Math.abs(a - f) - Math.abs(b - f))[0];
      return nearest === undefined ? Number.NaN : nearest - f;
    })
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? Number.NaN;
}

/** True when `x` lies nearer `good` than `bad`: a verdict that tolerates any reasonable method. */
export const nearer = (x: number, good: number, bad: number): boolean =>
  Math.abs(x - good) <= Math.abs(x - bad);

/** Power-average of dB levels (the level of the whole track from its windows). */
export function meanLevel(levels: readonly number[]): number {
  const p = levels.filter((l) => Number.isFinite(l)).map((l) => 10 ** (l / 10));
  const power = p.reduce((a, b) => a + b, 0) / Math.max(1, levels.length);
  return power > 0 ? 10 * Math.log10(power) : -Infinity;
}

// ---------------------------------------------------------------------------------------
// Measurements

interface StreamJson {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  pix_fmt?: string;
  color_range?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: { default?: number; attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}

const streamsOf = async (input: string): Promise<StreamJson[]> =>
  (await probe(input)).streams as unknown as StreamJson[];

export interface PictureStats {
  yavg: number;
  satavg: number;
  ylow: number;
  yhigh: number;
}

interface VideoPass {
  frames: FrameStat[];
  idet?: IdetCounts;
  picture: PictureStats;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Bits per sample of a planar YUV format (`yuv422p10le`: 10); 8 when it does not say. */
export const bitDepth = (pixFmt: string | undefined): number =>
  Number(/p(\d+)(le|be)$/.exec(pixFmt ?? '')?.[1] ?? 8);

/** Mean statistics, on the 8-bit scale whatever the depth (signalstats reports native). */
function pictureOf(frames: FrameStat[], depth = 8): PictureStats {
  const avg = (k: string) =>
    mean(frames.map((f) => f.values[`signalstats.${k}`] ?? 0)) / 2 ** (depth - 8);
  return { yavg: avg('YAVG'), satavg: avg('SATAVG'), ylow: avg('YLOW'), yhigh: avg('YHIGH') };
}

/**
 * One decode of the first video stream: every frame's time (-copyts keeps the stream's own
 * clock, so audio and video measured apart still share it), its luma and saturation
 * (signalstats), and idet's verdict. `pre` runs first (a colour conversion).
 */
async function videoPass(
  input: string,
  opts: { idet?: boolean; pre?: string; depth?: number } = {},
) {
  const chain = [
    opts.pre,
    opts.idet ? 'idet' : undefined,
    'signalstats',
    `settb=1/${PRINT_TIME_BASE}`,
    'metadata=print:file=-',
  ];
  const { stdout, stderr } = await run(
    FFMPEG,
    [
      '-hide_banner',
      '-nostats',
      '-v',
      'info',
      '-copyts',
      ...open(input),
      '-map',
      '0:v:0',
      '-vf',
      chain.filter(Boolean).join(','),
      '-f',
      'null',
      '-',
    ],
    { maxBuffer: BUFFER },
  );
  const frames = parseFrameMetadata(stdout);
  return {
    frames,
    idet: idetAfterWarmup(frames) ?? parseIdet(stderr),
    picture: pictureOf(frames, opts.pre ? 8 : opts.depth),
  } satisfies VideoPass;
}

interface AudioPass {
  first: number;
  end: number;
  /** Level of the whole track, dBFS. */
  level: number;
  onsets: number[];
}

const RMS = 'astats.Overall.RMS_level';

/**
 * One decode of an audio stream in 5 ms windows: its span, level and beep onsets. Measured
 * after ffmpeg's standard stereo downmix (what `-ac 2` does), so a 5.1 source track and the
 * stereo output are compared at the same loudness.
 */
async function audioPass(input: string, map: string, sampleRate: number): Promise<AudioPass> {
  const n = Math.max(1, Math.round(sampleRate * 0.005));
  const chain = [
    'aformat=channel_layouts=stereo',
    `asetnsamples=n=${n}:p=0`,
    'astats=metadata=1:reset=1',
    `asettb=1/${PRINT_TIME_BASE}`,
    `ametadata=print:key=lavfi.${RMS}:file=-`,
  ];
  const { stdout } = await run(
    FFMPEG,
    [
      '-v',
      'error',
      '-copyts',
      ...open(input),
      '-map',
      map,
      '-af',
      chain.join(','),
      '-f',
      'null',
      '-',
    ],
    { maxBuffer: BUFFER },
  );
  const windows = parseFrameMetadata(stdout);
  const first = windows[0]?.time ?? Number.NaN;
  const end = (windows.at(-1)?.time ?? Number.NaN) + n / sampleRate;
  return {
    first,
    end,
    level: meanLevel(windows.map((w) => w.values[RMS] ?? -Infinity)),
    onsets: beepOnsets(windows, RMS),
  };
}

const HDR_TRANSFERS: Record<string, 'pq' | 'hlg'> = {
  smpte2084: 'pq',
  'arib-std-b67': 'hlg',
};

/**
 * A reference SDR rendering of an HDR source: zimg to linear light, BT.709 primaries, the
 * hable curve, BT.709 transfer. Any sound tone-mapper lands near it; passing the HDR
 * signal through as if it were SDR lands far below it in saturation.
 */
const REFERENCE_TONEMAP =
  'zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,' +
  'zscale=t=bt709:m=bt709:r=tv,format=yuv420p';

export interface SourceFacts {
  width: number;
  height: number;
  /** Display aspect ratio. */
  dar: number;
  frames: number;
  firstFrame: number;
  step: number;
  duration: number;
  hdr: false | 'pq' | 'hlg';
  fullRange: boolean;
  /** Share of frames idet calls interlaced. */
  combed: number;
  picture: PictureStats;
  /** HDR only: the picture passed through untouched, and the reference tone-map's. */
  hdrReference?: { naive: PictureStats; mapped: PictureStats };
  /** The main audio track (default disposition first, else the first). */
  audio?: AudioPass & { tracks: number; otherLevels: number[] };
  avOffset?: number;
  lipSync?: number;
  flashes: number[];
}

/** Everything the checks compare against, measured from the source file itself. */
export async function sourceFacts(
  file: string,
  opts: { marks?: boolean } = {},
): Promise<SourceFacts> {
  const streams = await streamsOf(file);
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!v?.width || !v.height) throw new Error(`${file}: no video stream`);
  // The display matrix; older muxers only leave the `rotate` tag.
  const rotation =
    v.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ??
    Number(v.tags?.rotate ?? 0);
  const display = displaySize({
    width: v.width,
    height: v.height,
    sar: v.sample_aspect_ratio,
    rotation,
  });
  const pass = await videoPass(file, { idet: true, depth: bitDepth(v.pix_fmt) });
  const times = pass.frames.map((f) => f.time);
  const [rn, rd] = (v.r_frame_rate ?? '25/1').split('/').map(Number);
  const step = frameStep(times, rn && rd ? rd / rn : 0.04);
  const hdr = HDR_TRANSFERS[v.color_transfer ?? ''] ?? false;
  // RGB is full range by nature and signalstats converts it to tv range itself.
  const yuv = /^yuv/.test(v.pix_fmt ?? '');
  const fullRange = yuv && (v.color_range === 'pc' || /^yuvj/.test(v.pix_fmt ?? ''));

  const audios = streams.filter((s) => s.codec_type === 'audio');
  const main = audios.find((s) => s.disposition?.default) ?? audios[0];
  let audio: SourceFacts['audio'];
  if (main) {
    const measure = (s: StreamJson) =>
      audioPass(file, `0:${s.index}`, Number(s.sample_rate) || 48_000);
    const others = await Promise.all(audios.filter((s) => s !== main).map(measure));
    audio = {
      ...(await measure(main)),
      tracks: audios.length,
      otherLevels: others.map((o) => o.level),
    };
  }
  const firstFrame = Math.min(...times);
  const flashes = opts.marks ? flashTimes(pass.frames) : [];
  return {
    width: display.width,
    height: display.height,
    dar: display.width / display.height,
    frames: times.length,
    firstFrame,
    step,
    duration: durationOf(times, step),
    hdr,
    fullRange,
    combed: combedShare(pass.idet),
    picture: pass.picture,
    hdrReference: hdr
      ? {
          naive: (await videoPass(file, { pre: 'format=yuv420p' })).picture,
          mapped: (await videoPass(file, { pre: REFERENCE_TONEMAP })).picture,
        }
      : undefined,
    audio,
    avOffset: audio ? audio.first - firstFrame : undefined,
    lipSync: opts.marks && audio ? flashToBeep(flashes, audio.onsets) : undefined,
    flashes,
  } satisfies SourceFacts;
}

interface FrameProps {
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  pix_fmt?: string;
  color_range?: string;
  color_space?: string;
  color_primaries?: string;
  color_transfer?: string;
}

/** The first decoded frame of a variant: its size, pixel shape and colour tags. */
async function firstFrame(url: string): Promise<FrameProps> {
  const { stdout } = await run(
    FFPROBE,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-read_intervals',
      '%+#1',
      '-show_entries',
      'frame=width,height,sample_aspect_ratio,pix_fmt,color_range,color_space,color_primaries,color_transfer',
      '-of',
      'json',
      ...open(url),
    ],
    { maxBuffer: BUFFER },
  );
  return (JSON.parse(stdout) as { frames?: FrameProps[] }).frames?.[0] ?? {};
}

// ---------------------------------------------------------------------------------------
// The checks

export interface ViewerFigures {
  duration: { source: number; output?: number };
  dar: { source: number; output?: number };
  top?: string;
  expectedTopShortSide: number;
  colour?: string;
  combed: { source: number; output?: number };
  /** Output audio content start minus first video frame, seconds. */
  audioStart?: number;
  lipSync?: { source?: number; output?: number };
  saturation?: { output: number; naive: number; mapped: number };
}

export interface ViewerReport {
  violations: string[];
  figures: ViewerFigures;
  source: SourceFacts;
}

const f3 = (n: number | undefined): string => (n === undefined ? '–' : n.toFixed(3));
const ms = (s: number): string => `${Math.round(s * 1000)} ms`;

/** ffmpeg's complaint in a failed measurement: its first error line, not the whole command. */
function reason(err: unknown): string {
  const stderr = String((err as { stderr?: unknown }).stderr ?? '');
  const line = stderr.split('\n').find((l) => /error|invalid|not allocated/i.test(l));
  return (line ?? (err as Error).message ?? String(err)).trim().slice(0, 160);
}

interface Variant {
  url: string;
  width: number;
  height: number;
  frameRate?: number;
}

interface Context {
  src: SourceFacts;
  masterUrl: string;
  violations: string[];
  figures: ViewerFigures;
  marks: boolean;
}

/** Geometry and colour of every variant, from its first decoded frame. */
async function checkVariants(ctx: Context, variants: Variant[], top: Variant): Promise<void> {
  const { src, violations, figures } = ctx;
  for (const variant of variants) {
    const name = `${variant.width}x${variant.height}`;
    const frame = await firstFrame(variant.url);
    const dar = variant.width / variant.height;
    if (Math.abs(dar / src.dar - 1) > ASPECT_TOLERANCE) {
      violations.push(
        `aspect: ${name} RESOLUTION is ${dar.toFixed(3)}:1, the source displays ${src.dar.toFixed(3)}:1`,
      );
    }
    if (frame.width !== variant.width || frame.height !== variant.height) {
      violations.push(`aspect: ${name} decodes as ${frame.width}x${frame.height}`);
    }
    // 0:1 is "unspecified", which players show as square.
    const sar = frame.sample_aspect_ratio ?? '1:1';
    const shown = displaySize({ width: frame.width ?? 0, height: frame.height ?? 1, sar });
    if (!['1:1', '0:1'].includes(sar)) violations.push(`aspect: ${name} has SAR ${sar}, not 1:1`);
    if (Math.abs(shown.width / shown.height / src.dar - 1) > ASPECT_TOLERANCE) {
      violations.push(
        `aspect: ${name} displays ${(shown.width / shown.height).toFixed(3)}:1, the source ${src.dar.toFixed(3)}:1`,
      );
    }
    const colour = `${frame.pix_fmt} ${frame.color_primaries ?? '?'}/${frame.color_transfer ?? '?'}/${frame.color_space ?? '?'} ${frame.color_range ?? '?'}`;
    if (variant === top) figures.colour = colour;
    if (colour !== 'yuv420p bt709/bt709/bt709 tv') {
      violations.push(`colour: ${name} is ${colour}, not yuv420p bt709/bt709/bt709 tv`);
    }
    if (['smpte2084', 'arib-std-b67'].includes(frame.color_transfer ?? '')) {
      violations.push(`colour: ${name} still carries the HDR transfer ${frame.color_transfer}`);
    }
  }

  // The top rung: the source's own size when it falls between rungs; never upscaled.
  figures.top = `${top.width}x${top.height}`;
  figures.dar.output = top.width / top.height;
  const topShort = Math.min(top.width, top.height);
  if (topShort !== figures.expectedTopShortSide) {
    violations.push(
      `top rung: ${figures.top} has short side ${topShort}, expected ${figures.expectedTopShortSide} ` +
        `(source displays ${src.width.toFixed(1)}x${src.height.toFixed(1)})`,
    );
  }
}

/** Duration, picture and combing, from one decode of the top variant. */
async function checkTopVideo(ctx: Context, top: Variant): Promise<VideoPass & { step: number }> {
  const { src, violations, figures } = ctx;
  const interlaced = src.combed >= COMBED_SOURCE_SHARE;
  const out = await videoPass(top.url, { idet: interlaced });
  const times = out.frames.map((f) => f.time);
  const step = top.frameRate ? 1 / top.frameRate : frameStep(times, src.step);
  const duration = durationOf(times, step);
  figures.duration.output = duration;
  if (Math.abs(duration - src.duration) > step + 1e-3) {
    violations.push(
      `duration: output ${f3(duration)} s (${times.length} frames at ${(1 / step).toFixed(3)} fps), ` +
        `source ${f3(src.duration)} s (${src.frames} frames): off by more than one frame`,
    );
  }
  if (interlaced) {
    figures.combed.output = combedShare(out.idet);
    if (figures.combed.output > MAX_COMBED_SHARE) {
      violations.push(
        `combing: idet calls ${(figures.combed.output * 100).toFixed(0)}% of the output's frames interlaced ` +
          `(source ${(src.combed * 100).toFixed(0)}%); at most ${MAX_COMBED_SHARE * 100}% allowed`,
      );
    }
  }
  if (src.hdrReference) {
    // Washed out: an HDR signal shown as SDR keeps BT.2020's small chroma values and PQ/HLG's
    // flat curve. Saturation must be nearer the reference tone-map than the untouched
    // signal (measured: PQ 19 untouched against 58-74 for hable, mobius or a clip; HLG 34
    // against 60-77). Luma only needs to be sane: operators differ by ±25% there. A black or
    // colourless picture cannot tell, and is not judged.
    const { naive, mapped } = src.hdrReference;
    figures.saturation = { output: out.picture.satavg, naive: naive.satavg, mapped: mapped.satavg };
    if (
      mapped.satavg - naive.satavg >= 3 &&
      !nearer(out.picture.satavg, mapped.satavg, naive.satavg)
    ) {
      violations.push(
        `colour: washed out: mean saturation ${out.picture.satavg.toFixed(1)} is nearer the HDR ` +
          `signal shown as SDR (${naive.satavg.toFixed(1)}) than a tone-map (${mapped.satavg.toFixed(1)})`,
      );
    }
    const y = out.picture.yavg;
    if (mapped.yavg >= 24 && (y < 0.6 * mapped.yavg || y > 1.6 * mapped.yavg)) {
      violations.push(
        `colour: mean luma ${y.toFixed(1)} is outside 0.6-1.6× a tone-map's ${mapped.yavg.toFixed(1)}`,
      );
    }
  }
  if (src.fullRange) {
    // Full range (0-255) must be squeezed into tv range (16-235), not relabelled: the dark
    // and bright ends must sit where a range conversion puts them. Only decisive when the
    // two readings differ by a few levels.
    for (const k of ['ylow', 'yhigh'] as const) {
      const naive = src.picture[k];
      const converted = 16 + (naive * 219) / 255;
      const got = out.picture[k];
      if (Math.abs(converted - naive) >= 6 && !nearer(got, converted, naive)) {
        violations.push(
          `colour: full-range source not converted: ${k.toUpperCase()} ${got.toFixed(1)}, ` +
            `${converted.toFixed(1)} expected in tv range (${naive.toFixed(1)} in the source)`,
        );
      }
    }
  }
  return { ...out, step };
}

/** Audio: stereo AAC 48 kHz, aligned with the video, as long as it, in sync, the right track. */
async function checkAudio(
  ctx: Context,
  manifest: Awaited<ReturnType<typeof fetchManifest>>['manifest'],
  top: Variant,
  video: (VideoPass & { step: number }) | undefined,
): Promise<void> {
  const { src, violations, figures, masterUrl } = ctx;
  const group = Object.values(manifest.mediaGroups?.AUDIO ?? {})[0] ?? {};
  const rendition = Object.values(group).find((r) => r.default) ?? Object.values(group)[0];
  if (!src.audio) {
    if (rendition) violations.push('audio: the source has none, the master has an audio rendition');
    const muxed = (await streamsOf(top.url)).some((s) => s.codec_type === 'audio');
    if (muxed) violations.push('audio: the source has none, the video variant carries audio');
    return;
  }
  if (!rendition?.uri) {
    violations.push('audio: the source has audio, the master has no audio rendition');
    return;
  }
  const audioUrl = new URL(rendition.uri, masterUrl).toString();
  const a = (await streamsOf(audioUrl)).find((s) => s.codec_type === 'audio');
  const format = `${a?.codec_name} ${a?.channels} ch ${a?.sample_rate} Hz`;
  if (format !== 'aac 2 ch 48000 Hz') violations.push(`audio: ${format}, not aac 2 ch 48000 Hz`);
  const sampleRate = Number(a?.sample_rate) || 48_000;
  const heard = await audioPass(audioUrl, '0:a:0', sampleRate);
  if (src.audio.tracks > 1) {
    // The output must sound like the main track. Judged by level, and only against tracks at
    // least 12 dB apart: downmixes differ by several dB (AC-3's own downmix of a 5.1 track
    // came out 7 dB louder than swresample's).
    const main = src.audio.level;
    const other = src.audio.otherLevels.find(
      (l) => Math.abs(l - main) >= 12 && !nearer(heard.level, main, l),
    );
    if (other !== undefined) {
      violations.push(
        `audio: level ${heard.level.toFixed(1)} dB is nearer a non-default track (${other.toFixed(1)} dB) ` +
          `than the default one (${main.toFixed(1)} dB)`,
      );
    }
  }
  if (!video) return;
  const first = Math.min(...video.frames.map((f) => f.time));
  const duration = figures.duration.output ?? 0;
  const contentStart = heard.first + AAC_PRIMING_SAMPLES / sampleRate;
  figures.audioStart = contentStart - first;
  if (Math.abs(figures.audioStart) > SYNC_TOLERANCE) {
    violations.push(
      `audio: starts ${ms(figures.audioStart)} after the video on the output timeline ` +
        `(source: ${ms(src.avOffset ?? 0)}); within ${ms(SYNC_TOLERANCE)} expected`,
    );
  }
  const length = heard.end - contentStart;
  if (Math.abs(length - duration) > video.step + AUDIO_LENGTH_SLACK) {
    violations.push(
      `audio: lasts ${f3(length)} s, the video ${f3(duration)} s ` +
        `(source audio ${f3(src.audio.end - src.audio.first)} s)`,
    );
  }
  if (ctx.marks) {
    const output = flashToBeep(flashTimes(video.frames), heard.onsets);
    figures.lipSync = { source: src.lipSync, output };
    if (!(Math.abs(output - (src.lipSync ?? Number.NaN)) <= SYNC_TOLERANCE)) {
      violations.push(
        `lip sync: beep ${ms(output)} after the flash in the output, ${ms(src.lipSync ?? Number.NaN)} ` +
          `in the source; within ${ms(SYNC_TOLERANCE)} expected`,
      );
    }
  }
}

/**
 * Everything a viewer would notice, comparing the stream at `masterUrl` with its source.
 * `marks`: the source carries white flashes with beeps (test/support/real-world.ts). A part
 * of the stream that does not decode is itself a violation, named with ffmpeg's reason.
 */
export async function checkAsViewer(
  masterUrl: string,
  source: string,
  opts: { marks?: boolean; facts?: SourceFacts } = {},
): Promise<ViewerReport> {
  const src = opts.facts ?? (await sourceFacts(source, opts));
  const ctx: Context = {
    src,
    masterUrl,
    violations: [],
    marks: opts.marks ?? false,
    figures: {
      duration: { source: src.duration },
      dar: { source: src.dar },
      expectedTopShortSide: expectedTopShortSide(Math.min(src.width, src.height)),
      combed: { source: src.combed },
    },
  };
  const report = { violations: ctx.violations, figures: ctx.figures, source: src };
  const attempt = async <T>(what: string, part: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await part();
    } catch (err) {
      ctx.violations.push(`${what}: does not decode: ${reason(err)}`);
      return undefined;
    }
  };

  const { manifest } = await fetchManifest(masterUrl);
  const variants: Variant[] = (manifest.playlists ?? []).map((p) => ({
    url: new URL(p.uri, masterUrl).toString(),
    width: p.attributes.RESOLUTION?.width ?? 0,
    height: p.attributes.RESOLUTION?.height ?? 0,
    frameRate: Number(p.attributes['FRAME-RATE']) || undefined,
  }));
  const top = [...variants].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (!top) {
    ctx.violations.push('master: no variant streams');
    return report;
  }
  await attempt('variants', () => checkVariants(ctx, variants, top));
  const video = await attempt('top variant', () => checkTopVideo(ctx, top));
  await attempt('audio rendition', () => checkAudio(ctx, manifest, top, video));
  return report;
}

/** One line for the run's closing summary. */
export function summaryLine(name: string, outcome: string, report?: ViewerReport): string {
  if (!report) return `${name}: ${outcome}`;
  const f = report.figures;
  const parts = [
    `duration ${f3(f.duration.source)}/${f3(f.duration.output)} s`,
    `DAR ${f3(f.dar.source)}/${f3(f.dar.output)}`,
    `top ${f.top ?? '–'} (want short ${f.expectedTopShortSide})`,
    `colour ${f.colour ?? '–'}`,
    `combed ${(f.combed.source * 100).toFixed(0)}%/${f.combed.output === undefined ? '–' : `${(f.combed.output * 100).toFixed(0)}%`}`,
  ];
  if (f.audioStart !== undefined) parts.push(`audio start ${ms(f.audioStart)}`);
  if (f.lipSync) {
    parts.push(
      `lip sync ${ms(f.lipSync.source ?? Number.NaN)}/${ms(f.lipSync.output ?? Number.NaN)}`,
    );
  }
  if (f.saturation) {
    parts.push(
      `SATAVG ${f.saturation.output.toFixed(1)} (SDR-as-is ${f.saturation.naive.toFixed(1)}, tone-mapped ${f.saturation.mapped.toFixed(1)})`,
    );
  }
  const verdict = report.violations.length === 0 ? 'ok' : `${report.violations.length} violations`;
  const details = report.violations.map((v) => `\n    - ${v}`).join('');
  return `${name}: ${outcome}, ${verdict}; ${parts.join('; ')}${details}`;
}
