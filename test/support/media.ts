/**
 * Test media made at test time with the same ffmpeg that ships to Lambda, and probes of
 * what Spool produced. Fixtures are generated (lavfi sources) so tests are self-contained.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { hostEngine } from '../../engine/engine.js';
import { FfprobeProber } from '../../functions/adapters/ffmpeg.js';
import {
  isMp4Family,
  type MediaInfo,
  normalizeProbe,
  withKeyframes,
} from '../../functions/core/media.js';
import { readMp4Keyframes } from '../../functions/ingest/keyframes.js';

const run = promisify(execFile);

/** The engine that ships: the bundle test/global-setup.ts assembled (or FFMPEG_PATH's). */
const engine = hostEngine();
export const FFMPEG = engine.ffmpeg;
export const FFPROBE = engine.ffprobe;

/** ../shared/media beside the repo (see its README); absent on some machines. */
export const SHARED_MEDIA = resolve(import.meta.dirname, '../../../shared/media');
export const sharedMedia = (name: string): string | undefined => {
  const p = join(SHARED_MEDIA, name);
  return existsSync(p) ? p : undefined;
};

export interface SourceSpec {
  width: number;
  height: number;
  /** ffmpeg rate syntax: '30', '30000/1001'. */
  rate: string;
  seconds: number;
  /** Container and codecs. */
  kind?: 'mp4' | 'webm-vp8' | 'webm-vp9';
  audio?: boolean | { channels: number };
  /** x264 options in place of the default (ultrafast, no B-frames, a keyframe every 48). */
  x264?: string[];
  /** MP4 only: the index (moov) before the media, as web exports have it. Default true. */
  faststart?: boolean;
  /** Grain of this strength (ffmpeg's noise filter, 0-100) on the picture: a large file. */
  grain?: number;
}

/**
 * About 11 MiB in 6 s (grain at a fixed low QP makes it big): three parts of 5 MiB, for the
 * multipart upload tests.
 */
export const LARGE_CLIP: SourceSpec = {
  width: 320,
  height: 240,
  rate: '25',
  seconds: 6,
  grain: 60,
  x264: ['-preset', 'ultrafast', '-g', '48', '-qp', '5'],
};

/** A moving test pattern (every frame differs, so a dropped or repeated frame shows). */
export async function makeSource(dir: string, name: string, spec: SourceSpec): Promise<string> {
  const kind = spec.kind ?? 'mp4';
  const file = join(dir, `${name}.${kind === 'mp4' ? 'mp4' : 'webm'}`);
  const band = Math.max(8, Math.round(spec.height / 8 / 2) * 2);
  const args = [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${spec.width}x${spec.height}:rate=${spec.rate}:duration=${spec.seconds}` +
      (spec.grain ? `,noise=alls=${spec.grain}:allf=t` : ''),
  ];
  if (spec.audio) {
    const channels = typeof spec.audio === 'object' ? spec.audio.channels : 2;
    const layout = channels === 6 ? '5.1' : channels === 1 ? 'mono' : 'stereo';
    args.push(
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${spec.seconds},aformat=channel_layouts=${layout}`,
    );
  }
  args.push(
    // Frame n's number, as the brightness of a flat band at the bottom (see frameCodes): a
    // triangle wave in steps of 14, so neighbours always differ and never by a jump that a
    // lossy encoder smears.
    '-filter_complex',
    `color=c=black:size=${spec.width}x${band}:rate=${spec.rate},format=yuv420p,` +
      `geq=lum='28+14*if(lt(mod(N,28),14),mod(N,28),28-mod(N,28))':cb=128:cr=128[b];[0:v][b]overlay=0:${spec.height - band}:shortest=1,format=yuv420p[v]`,
    '-map',
    '[v]',
    ...(spec.audio ? ['-map', '1:a'] : []),
  );
  if (kind === 'mp4') {
    args.push('-c:v', 'libx264', '-pix_fmt', 'yuv420p');
    args.push(...(spec.x264 ?? ['-preset', 'ultrafast', '-g', '48']));
    if (spec.audio) args.push('-c:a', 'aac', '-b:a', '128k');
  } else {
    args.push('-c:v', kind === 'webm-vp8' ? 'libvpx' : 'libvpx-vp9', '-b:v', '400k');
    args.push('-deadline', 'realtime', '-cpu-used', '8');
    if (spec.audio) args.push('-c:a', 'libvorbis');
  }
  // The index first, as web exports have it (and as the chunk readers' byte bounds need).
  if (kind === 'mp4' && spec.faststart !== false) args.push('-movflags', '+faststart');
  args.push('-shortest', file);
  await run(FFMPEG, args);
  return file;
}

export interface StreamInfo {
  codec_name?: string;
  codec_type?: string;
  width?: number;
  height?: number;
  channels?: number;
  nb_read_frames?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  profile?: string;
}

/** Inputs over HTTP are only ever 127.0.0.1 here: the static binaries cannot resolve names. */
const httpOk = (input: string) => ['-protocol_whitelist', 'file,http,tcp', '-i', input];

export async function probe(input: string, countFrames = false) {
  const { stdout } = await run(
    FFPROBE,
    [
      '-v',
      'error',
      '-print_format',
      'json',
      '-show_format',
      '-show_streams',
      ...(countFrames ? ['-count_frames'] : []),
      ...httpOk(input),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { format: { duration?: string }; streams: StreamInfo[] };
}

/** Decode every frame; resolves with ffmpeg's error output (empty when the decode is clean). */
export async function decodeErrors(input: string): Promise<string> {
  const { stderr } = await run(FFMPEG, ['-v', 'error', ...httpOk(input), '-f', 'null', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stderr.trim();
}

/** ffprobe's CSV lines for one `-show_entries` of the first video stream. */
/** One CSV line per video packet or frame, with the asked-for entries (ffprobe's order). */
export async function videoEntries(input: string, entries: string): Promise<string[]> {
  const { stdout } = await run(
    FFPROBE,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      entries,
      '-of',
      'csv=p=0',
      ...httpOk(input),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout.split('\n');
}

const times = (lines: string[]): number[] =>
  lines.map((l) => Number.parseFloat(l)).filter((n) => Number.isFinite(n));

/** Presentation times of every video frame, in seconds. */
export async function frameTimes(input: string): Promise<number[]> {
  return times(await videoEntries(input, 'frame=pts_time'));
}

/** Times of the video keyframes (IDR), in seconds. */
export async function keyframeTimes(input: string): Promise<number[]> {
  return times((await videoEntries(input, 'packet=pts_time,flags')).filter((l) => l.includes('K')));
}

/**
 * The frame code of every decoded frame: sources from makeSource carry their frame number
 * as the brightness of a flat band along the bottom, which survives any encode. A missing or
 * repeated frame at a chunk join breaks the sequence exactly where it happens.
 */
export async function frameCodes(input: string): Promise<number[]> {
  const { stdout } = await run(
    FFMPEG,
    [
      '-v',
      'error',
      ...httpOk(input),
      '-map',
      '0:v:0',
      '-vf',
      'crop=iw/2:ih/16:iw/4:ih*29/32,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-',
      '-f',
      'null',
      '-',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.includes('YAVG='))
    .map((l) => Number.parseFloat(l.split('=')[1] ?? ''));
}

/**
 * Indexes of output frames whose code differs from the source frame at the same position.
 * Codes step by 14 per frame, so a shifted sequence is far outside the tolerance, while a
 * lossy source or encode moves a flat band's brightness by a few levels at most.
 */
export function codeMismatches(output: number[], source: number[], tolerance = 5): string[] {
  return output.flatMap((c, n) =>
    Math.abs(c - (source[n] ?? Number.NaN)) > tolerance
      ? [
          `frame ${n}: ${c.toFixed(1)}, source ${source[n]?.toFixed(1)} (neighbours ${source[n - 1]?.toFixed(1)}, ${source[n + 1]?.toFixed(1)})`,
        ]
      : [],
  );
}

export const rate = (r: string | undefined): number => {
  const [n, d] = (r ?? '0/1').split('/').map(Number);
  return (n ?? 0) / (d || 1);
};

/** Ranged reads of a local file, as ingest makes of the stored upload; counts the requests. */
export function fileRanges(file: string) {
  const ranges: string[] = [];
  return {
    ranges,
    getRange: async (_bucket: string, _key: string, range?: string) => {
      ranges.push(range ?? '');
      const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(range ?? '') ?? [];
      const body = createReadStream(file, { start: Number(from), end: Number(to) });
      return { body, contentLength: Number(to) - Number(from) + 1 };
    },
  };
}

/** What ingest knows of a local file: the probe, plus an MP4's keyframe index. */
export async function mediaInfoOf(
  file: string,
  bins = { ffmpeg: FFMPEG, ffprobe: FFPROBE },
): Promise<MediaInfo> {
  const prober = new FfprobeProber({ ffmpegPath: bins.ffmpeg, ffprobePath: bins.ffprobe });
  const info = normalizeProbe(await prober.probe(file));
  if (!isMp4Family(info.formatName)) return info;
  const { size } = await stat(file);
  return withKeyframes(info, await readMp4Keyframes(fileRanges(file), '', '', size));
}
