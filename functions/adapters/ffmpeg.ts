/**
 * The ffmpeg edge: ffprobe for MediaProber, fluent-ffmpeg for Transcoder.
 * Every command that opens an upload carries the same guards (DESIGN.md §5, security).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';
import { MediaError, TransientError } from '../core/errors.js';
import { ALLOWED_DEMUXERS } from '../core/media.js';
import { type ChunkSpec, type Plan, sheetCapacity } from '../core/plan.js';
import type { MediaProber, SegmentListener, Transcoder } from '../core/ports.js';
import type { AudioOutput, ChunkOutput, Segment } from '../core/records.js';
import { avcCodecString, scanKeyframes } from './ts-scan.js';

const run = promisify(execFile);

export interface FfmpegPaths {
  ffmpegPath: string;
  ffprobePath: string;
}

/** Binaries from FFMPEG_PATH/FFPROBE_PATH (the Lambda layer sets /opt/bin/…). */
export function ffmpegPathsFromEnv(env: NodeJS.ProcessEnv = process.env): FfmpegPaths {
  return { ffmpegPath: env.FFMPEG_PATH ?? 'ffmpeg', ffprobePath: env.FFPROBE_PATH ?? 'ffprobe' };
}

/**
 * Input options that keep a hostile upload from making ffmpeg open anything but the one URL:
 * only the transport of that URL is allowed (no file:, no nested playlists), and only
 * container demuxers (no hls, concat or image2 that would follow references inside the file).
 */
export function inputGuards(input: string): string[] {
  const scheme = /^(https?):\/\//.exec(input)?.[1];
  const protocols = scheme === 'https' ? 'https,tls,tcp' : scheme === 'http' ? 'http,tcp' : 'file';
  const guards = [
    '-protocol_whitelist',
    protocols,
    '-format_whitelist',
    ALLOWED_DEMUXERS.join(','),
  ];
  // A stalled connection must fail the job (and be retried), not hang it until Lambda's timeout.
  if (scheme) guards.push('-rw_timeout', '30000000', '-reconnect', '1');
  return guards;
}

/** ffmpeg's stderr may echo presigned URLs or paths: keep only a short, safe reason. */
export function safeReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/(https?|file):\/\/\S+/g, '<source>').replace(/\/\S+/g, '<path>'))
    .map((l) => l.trim())
    .filter(
      (l) => l.length > 0 && !/^(ffmpeg|ffprobe) version|^\s*built with|^configuration:/.test(l),
    );
  return (lines.at(-1) ?? 'unknown error').slice(0, 200);
}

/** Network trouble is worth a retry; anything else ffmpeg says is about the media. */
const NETWORK =
  /Connection (refused|reset|timed out)|Server returned 5\d\d|I\/O error|timed out|Immediate exit requested|EOF/i;

function classify(stderr: string, what: string): Error {
  const reason = safeReason(stderr);
  if (NETWORK.test(stderr)) return new TransientError(`${what}: ${reason}`);
  if (/not in whitelist|not on whitelist/i.test(stderr)) {
    return new MediaError(
      'UNSUPPORTED_CONTAINER',
      'the upload uses a container that is not accepted',
    );
  }
  return new MediaError('DECODE_FAILED', `${what}: ${reason}`);
}

export class FfprobeProber implements MediaProber {
  constructor(
    private readonly paths: FfmpegPaths,
    private readonly timeoutMs = 60_000,
  ) {}

  async probe(input: string): Promise<unknown> {
    try {
      const { stdout } = await run(
        this.paths.ffprobePath,
        [
          '-v',
          'error',
          '-print_format',
          'json',
          '-show_format',
          '-show_streams',
          ...inputGuards(input),
          '-i',
          input,
        ],
        { timeout: this.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      );
      return JSON.parse(stdout);
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      const e = classify(stderr, 'the upload could not be read');
      if (e instanceof MediaError && e.code === 'DECODE_FAILED') {
        throw new MediaError('UNREADABLE_MEDIA', 'the upload is not a media file ffmpeg can read');
      }
      throw e;
    }
  }
}

/** Parse the media playlist ffmpeg's hls muxer wrote for one chunk (trusted, our own output). */
async function readSegments(dir: string, playlist: string): Promise<Segment[]> {
  const text = await readFile(join(dir, playlist), 'utf8');
  const segments: Segment[] = [];
  let duration: number | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#') && duration !== undefined) {
      const { size } = await stat(join(dir, line));
      // A chunk planned past the last frame (a duration that overstated the video) leaves
      // an empty segment: there is nothing to play in it.
      if (size > 0 && duration > 0) segments.push({ file: line, duration, bytes: size });
      duration = undefined;
    }
  }
  return segments;
}

function runCommand(cmd: ffmpeg.FfmpegCommand, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => cmd.kill('SIGKILL'), timeoutMs);
    cmd
      .on('error', (_err: Error, _stdout: string | null, stderr: string | null) => {
        clearTimeout(timer);
        reject(classify(stderr ?? '', what));
      })
      .on('end', () => {
        clearTimeout(timer);
        resolve();
      })
      .run();
  });
}

const fmt = (n: number): string => n.toFixed(6);

/**
 * x264 threads per rung. Each encoder would otherwise start 1.5 × the cores' worth of
 * frame threads, five times over for a five-rung ladder; sharing that budget across the
 * rungs measured ~8% less CPU for the same output on 2 cores (time of a 30 s 1080p ladder:
 * 38.3 against 41.8 CPU-s). Never one: ffmpeg feeds its encoders from one thread, so a
 * single-threaded x264 would encode the rungs one after another.
 */
export function encoderThreads(renditions: number, cpus = availableParallelism()): number {
  return Math.max(2, Math.ceil((1.5 * cpus) / Math.max(1, renditions)));
}

/** The poster is chosen among every fifteenth frame of the opening (half a second apart). */
const POSTER_STRIDE = 15;

/**
 * Hands each finished segment to `listener` while ffmpeg is still encoding: the hls muxer
 * lists a segment in its playlist only once the file is closed. Only complete lines are
 * read, since the playlist may be caught mid-write.
 */
function watchSegments(
  playlists: { rendition: string; dir: string; playlist: string }[],
  listener: SegmentListener | undefined,
): { stop(): Promise<void> } {
  if (!listener) return { stop: async () => undefined };
  const handed = new Set<string>();
  const pending: Promise<void>[] = [];
  const poll = async () => {
    for (const p of playlists) {
      const text = await readFile(join(p.dir, p.playlist), 'utf8').catch(() => '');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      let duration = Number.NaN;
      for (const line of complete.split('\n')) {
        const file = line.trim();
        if (file.startsWith('#EXTINF:')) duration = Number.parseFloat(file.slice(8));
        if (!/^seg_\d+\.ts$/.test(file)) continue;
        const key = `${p.rendition}/${file}`;
        if (handed.has(key)) continue;
        handed.add(key);
        pending.push(listener(p.rendition, file, join(p.dir, file), duration));
      }
    }
  };
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(poll);
  }, 250);
  return {
    stop: async () => {
      clearInterval(timer);
      await polling;
      await poll();
      await Promise.all(pending);
    },
  };
}

export interface TranscoderOptions {
  /** Kill ffmpeg after this long (a job must end before Lambda's 15-minute limit). */
  timeoutMs?: number;
}

export class FfmpegTranscoder implements Transcoder {
  private readonly timeoutMs: number;

  constructor(
    private readonly paths: FfmpegPaths,
    opts: TranscoderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 13 * 60_000;
  }

  /**
   * The filter graph: one decode, re-timed onto the output grid, split to every rung, to the
   * storyboard sprite sheet, and (first chunk) to the poster.
   */
  static filterGraph(plan: Plan, chunk = 0): string {
    const { num, den } = plan.output.frameRate;
    const { storyboard: sb, poster } = plan.images;
    const branches = [...plan.renditions.map((_, i) => `[s${i}]`), '[sb]'];
    if (chunk === 0) branches.push('[po]');
    const trim = plan.chunks[chunk]?.trimSeconds;
    const pre = [
      // A seek that landed on a known keyframe before the chunk: drop the frames up to the
      // chunk's first (their times, from the seek point, are below trimSeconds).
      ...(trim !== undefined ? [`select='gte(t,${fmt(trim)})'`] : []),
      // Variable-rate (or >60 fps) sources are resampled onto the output rate first.
      ...(plan.output.resample ? [`fps=${num}/${den}`] : []),
      // Frame n of a chunk gets pts n in a 1/fps time base: with -output_ts_offset this puts
      // every chunk's frames exactly on the video's timeline, so joins have no gap or overlap.
      `settb=${den}/${num}`,
      'setpts=N',
      `split=${branches.length}${branches.join('')}`,
    ].join(',');
    const scales = plan.renditions.map(
      (r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`,
    );
    const spec = plan.chunks[chunk];
    const rows = spec ? Math.ceil(sheetCapacity(plan, spec) / sb.columns) : 1;
    // Chunks start on the thumbnail grid, so frame n of the chunk is on it when n is.
    const graph = [
      `[0:v:0]${pre}`,
      ...scales,
      `[sb]select='not(mod(n,${sb.intervalFrames}))',scale=${sb.width}:${sb.height},setsar=1,tile=${sb.columns}x${rows}[sbo]`,
    ];
    if (chunk === 0) {
      // thumbnail picks the frame nearest the average look of the opening seconds: not a
      // black fade-in frame, not a flash. It holds every candidate in memory, so it sees
      // one frame in fifteen, already scaled to the poster's size (a dozen 720p frames, not 300
      // of 1080p: tens of MB instead of a gigabyte).
      const opening = Math.min(plan.chunks[0]?.frames ?? 300, Math.round((10 * num) / den));
      const candidates = Math.max(1, Math.ceil(opening / POSTER_STRIDE));
      graph.push(
        `[po]select='not(mod(n,${POSTER_STRIDE}))',scale=${poster.width}:${poster.height},setsar=1,` +
          `thumbnail=n=${candidates},split=2[pj][pw]`,
      );
    }
    return graph.join(';');
  }

  /**
   * One rung's output options: x264 with capped CRF and a fixed GOP, into the hls muxer.
   * `spec` says which frames (a chunk, or the whole video) and where they sit on the timeline.
   */
  static renditionOptions(
    plan: Plan,
    i: number,
    spec: Pick<ChunkSpec, 'frames' | 'offsetSeconds' | 'firstSegment'>,
    dir: string,
  ): string[] {
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
      // Fixed GOP, no scene-cut keyframes: IDRs at identical times in every rendition.
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
      // A count, not -t: -t on a chunk yields one frame too many at the join.
      ...(spec.frames !== null ? ['-frames:v', String(spec.frames)] : []),
      '-threads',
      String(encoderThreads(plan.renditions.length)),
      '-output_ts_offset',
      fmt(spec.offsetSeconds),
      '-f',
      'hls',
      '-hls_time',
      fmt(FfmpegTranscoder.hlsSegmentSeconds(plan)),
      '-hls_list_size',
      '0',
      '-hls_playlist_type',
      'vod',
      '-start_number',
      String(spec.firstSegment),
      '-hls_segment_filename',
      join(dir, 'seg_%05d.ts'),
    ];
  }

  /** The audio rendition's output options: stereo AAC into the hls muxer. */
  static audioOptions(plan: Plan, dir: string): string[] {
    if (!plan.audio) throw new Error('the plan has no audio rendition');
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
      // Any layout (5.1, mono) becomes stereo with ffmpeg's standard downmix.
      '-ac',
      String(plan.audio.channels),
      '-ar',
      String(plan.audio.sampleRate),
      // The same timeline origin as the video chunks (see Plan.output.timelineOrigin).
      '-output_ts_offset',
      fmt(plan.output.timelineOrigin),
      '-f',
      'hls',
      // Audio segments end where the video's do, so both lists advance together.
      '-hls_time',
      fmt(plan.output.segmentFrames / fps),
      '-hls_list_size',
      '0',
      '-hls_playlist_type',
      'vod',
      '-hls_segment_filename',
      join(dir, 'seg_%05d.ts'),
    ];
  }

  static hlsSegmentSeconds(plan: Plan): number {
    // Half a frame short of the exact segment length: the muxer cuts at the first keyframe
    // at or past each multiple of this, which is always the segment boundary we planned.
    return (
      (plan.output.segmentFrames - 0.5) / (plan.output.frameRate.num / plan.output.frameRate.den)
    );
  }

  async encodeVideoChunk(args: {
    input: string;
    plan: Plan;
    chunk: number;
    workDir: string;
    onSegment?: SegmentListener;
    /** false: ignore the plan's read bound (the retry when it fell short). */
    bounded?: boolean;
  }): Promise<ChunkOutput> {
    const { plan, input, workDir } = args;
    const spec: ChunkSpec | undefined = plan.chunks[args.chunk];
    if (!spec) throw new Error(`chunk ${args.chunk} is not in the plan`);
    const { num, den } = plan.output.frameRate;
    const bounded =
      args.bounded !== false && spec.readEndByte !== undefined && /^https?:/.test(input);

    const cmd = ffmpeg()
      .setFfmpegPath(this.paths.ffmpegPath)
      .input(input)
      .inputOptions([
        '-nostdin',
        ...inputGuards(input),
        // Ingest already probed the source fully. ffmpeg's default probe reads and decodes
        // up to 5 MB / 5 s at the start of the file, which a later chunk then throws away
        // when it seeks: a small probe is enough to open the video stream.
        ...(spec.seekSeconds > 0 ? ['-probesize', '1000000', '-analyzeduration', '1000000'] : []),
        // Aimed at a known keyframe: ffmpeg must not drop frames before the seek point
        // itself (the filter graph does, by time).
        ...(spec.trimSeconds !== undefined ? ['-noaccurate_seek'] : []),
        ...(spec.seekSeconds > 0 ? ['-ss', fmt(spec.seekSeconds)] : []),
        // Ask the source server for no more than the chunk needs (an http option). Reaching
        // the bound is the end of the input, not a dropped connection to reconnect.
        ...(bounded ? ['-end_offset', String(spec.readEndByte), '-reconnect', '0'] : []),
      ])
      .complexFilter(FfmpegTranscoder.filterGraph(plan, spec.index));

    plan.renditions.forEach((r, i) => {
      cmd
        .output(join(workDir, r.name, 'chunk.m3u8'))
        .outputOptions(FfmpegTranscoder.renditionOptions(plan, i, spec, join(workDir, r.name)));
    });

    const sheet = `thumbs-${String(spec.index).padStart(5, '0')}.jpg`;
    cmd
      .output(join(workDir, sheet))
      .outputOptions(['-map', '[sbo]', '-frames:v', '1', '-q:v', '5']);
    if (spec.index === 0) {
      cmd
        .output(join(workDir, 'poster.jpg'))
        .outputOptions(['-map', '[pj]', '-frames:v', '1', '-q:v', '3']);
      cmd
        .output(join(workDir, 'poster.webp'))
        .outputOptions(['-map', '[pw]', '-frames:v', '1', '-c:v', 'libwebp', '-quality', '80']);
    }
    await Promise.all(
      plan.renditions.map((r) => mkdir(join(workDir, r.name), { recursive: true })),
    );
    const watcher = watchSegments(
      plan.renditions.map((r) => ({
        rendition: r.name,
        dir: join(workDir, r.name),
        playlist: 'chunk.m3u8',
      })),
      args.onSegment,
    );
    try {
      await runCommand(cmd, `chunk ${spec.index} could not be encoded`, this.timeoutMs);
    } finally {
      await watcher.stop();
    }

    const fps = num / den;
    const renditions: ChunkOutput['renditions'] = {};
    let frames = 0;
    let firstFrameTime: number | undefined;
    for (const r of plan.renditions) {
      const dir = join(workDir, r.name);
      const segments = await readSegments(dir, 'chunk.m3u8');
      const first = segments[0];
      // Every chunk is encoded with the same settings, so x264 writes the same profile and
      // level in all of them: the first segment's SPS says which.
      let codecs = '';
      for (const segment of segments) {
        const bytes = await readFile(join(dir, segment.file));
        const scan = scanKeyframes(bytes);
        segment.keyframes = scan.keyframes;
        if (segment === first) {
          firstFrameTime ??= scan.firstTime;
          codecs = avcCodecString(bytes) ?? '';
        }
      }
      renditions[r.name] = { dir, segments, codecs };
      frames = Math.round(segments.reduce((t, s) => t + s.duration, 0) * fps);
    }
    // A chunk too short for a thumbnail (a few trailing frames) leaves no sprite sheet.
    const sheetPath = join(workDir, sheet);
    const storyboard = (await stat(sheetPath).catch(() => undefined))
      ? {
          file: sheet,
          path: sheetPath,
          count: Math.min(
            sheetCapacity(plan, spec),
            Math.ceil(frames / plan.images.storyboard.intervalFrames),
          ),
        }
      : undefined;
    const poster =
      spec.index === 0
        ? { jpeg: join(workDir, 'poster.jpg'), webp: join(workDir, 'poster.webp') }
        : undefined;
    if (spec.frames !== null && frames < spec.frames) {
      // A read bound from the index that fell short (it never should): encode the chunk
      // again, reading to the end of the file.
      if (bounded) {
        await Promise.all(
          plan.renditions.map((r) => rm(join(workDir, r.name), { recursive: true, force: true })),
        );
        return this.encodeVideoChunk({ ...args, bounded: false });
      }
      // The file ends before the frames its own index (or duration) promised: a truncated
      // upload. Published, it would play with a gap.
      throw new MediaError(
        'DECODE_FAILED',
        `chunk ${spec.index} has ${frames} of its ${spec.frames} frames: the upload is cut short`,
      );
    }
    return { frames, renditions, storyboard, poster, firstFrameTime };
  }

  async encodeAudio(args: {
    input: string;
    plan: Plan;
    workDir: string;
    onSegment?: SegmentListener;
  }): Promise<AudioOutput> {
    const { plan, input, workDir } = args;
    if (!plan.audio) throw new Error('the plan has no audio rendition');
    const dir = join(workDir, 'audio');
    await mkdir(dir, { recursive: true });
    const cmd = ffmpeg()
      .setFfmpegPath(this.paths.ffmpegPath)
      .input(input)
      .inputOptions(['-nostdin', ...inputGuards(input)])
      .output(join(dir, 'index.m3u8'))
      .outputOptions(FfmpegTranscoder.audioOptions(plan, dir));
    const watcher = watchSegments(
      [{ rendition: 'audio', dir, playlist: 'index.m3u8' }],
      args.onSegment,
    );
    try {
      await runCommand(cmd, 'the audio could not be encoded', this.timeoutMs);
    } finally {
      await watcher.stop();
    }
    return { dir, segments: await readSegments(dir, 'index.m3u8'), codecs: 'mp4a.40.2' };
  }
}
