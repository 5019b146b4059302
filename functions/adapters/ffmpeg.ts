/**
 * The ffmpeg edge: ffprobe for MediaProber, fluent-ffmpeg for Transcoder.
 * Every command that opens an upload carries the same guards (DESIGN.md §5, security).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';
import {
  AAC_FRAME,
  AUDIO_POSTROLL_SAMPLES,
  audioCut,
  audioEnd,
  audioSegmentCuts,
} from '../core/audio.js';
import { MediaError, TimedOutError, TransientError } from '../core/errors.js';
import { posterChunk, sheetCapacity } from '../core/images.js';
import {
  measuresFrameTiming,
  normalizeProbe,
  type OpeningFacts,
  parseOpening,
  TIMING_PACKETS,
} from '../core/media.js';
import type { ChunkSpec, Plan } from '../core/plan.js';
import type { MediaProber, SegmentListener, Transcoder } from '../core/ports.js';
import {
  audioSegmentsCommand,
  chunkAudio,
  chunkAudioCommand,
  chunkCommand,
  chunkFiles,
  chunkSegmentEnd,
  encodeCores,
  type FfmpegCommand,
  inputGuards,
  openingArgs,
} from '../core/recipe.js';
import type { ChunkOutput, RenditionOutput, Segment } from '../core/records.js';
import { adtsFrames } from './adts.js';
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
 * Encodes that share this machine's cores, from SPOOL_ENCODES_PER_HOST: the local stack sets
 * its worker count; unset (Lambda, one job per instance) it is 1.
 */
export function encodesPerHostFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.SPOOL_ENCODES_PER_HOST);
  return Number.isInteger(n) && n >= 1 ? n : 1;
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

/**
 * Network trouble is worth a retry; anything else ffmpeg says is about the media. (A bare
 * "EOF" is not here: a cut-short upload says it too, and retrying that only delays `failed`.)
 */
const NETWORK =
  /Connection (refused|reset|timed out)|Server returned 5(\d\d|XX)|I\/O error|timed out|Immediate exit requested/i;

/** What ffmpeg 7 says of an output whose filter graph never produced a frame. */
const NO_FRAMES = /No filtered frames for output stream, trying to initialize anyway/;

function classify(stderr: string, what: string): Error {
  const reason = safeReason(stderr);
  if (NETWORK.test(stderr)) return new TransientError(`${what}: ${reason}`);
  // ffmpeg 7 will not even open an HLS playlist whose name does not end in .m3u8 (an
  // upload's never does): a playlist is a container we do not accept, said as such.
  if (/not in whitelist|not on whitelist|Not detecting m3u8\/hls/i.test(stderr)) {
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
      const probed = (await this.json(input, ['-show_format', '-show_streams'])) as {
        format?: { format_name?: unknown; duration?: unknown; start_time?: unknown };
        streams?: { duration?: unknown }[];
      };
      const formatName = String(probed.format?.format_name ?? '');
      // A browser's MediaRecorder writes WebM with no duration at all (it streams the file
      // out as it records): then the packets' own timestamps, read to the end, say it.
      const untimed =
        probed.format?.duration === undefined &&
        !(probed.streams ?? []).some((st) => st.duration !== undefined);
      if (untimed && probed.format) {
        const end = await this.videoEnd(input);
        const start = Number(probed.format.start_time ?? 0) || 0;
        if (end !== undefined) probed.format.duration = String(Math.max(0, end - start));
      }
      const withPackets = measuresFrameTiming(formatName)
        ? { ...probed, packets: await this.videoPackets(input) }
        : probed;
      const opening = await this.opening(input, withPackets);
      return opening ? { ...withPackets, opening } : withPackets;
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      const e = classify(stderr, 'the upload could not be read');
      if (e instanceof MediaError && e.code === 'DECODE_FAILED') {
        throw new MediaError('UNREADABLE_MEDIA', 'the upload is not a media file ffmpeg can read');
      }
      throw e;
    }
  }

  /**
   * The opening pass over the main video (recipe.openingArgs): where its first whole picture
   * is, and whether its pictures are combed. Nothing, when it cannot tell: the probe stands.
   */
  private async opening(input: string, probed: unknown): Promise<OpeningFacts | undefined> {
    let stream: number | undefined;
    try {
      stream = normalizeProbe(probed).video?.streamIndex;
    } catch {
      return undefined;
    }
    if (stream === undefined) return undefined;
    try {
      const { stdout } = await run(this.paths.ffmpegPath, openingArgs(input, stream), {
        timeout: this.timeoutMs,
        maxBuffer: 4 * 1024 * 1024,
      });
      return parseOpening(stdout);
    } catch (err) {
      // A decode error part-way still printed the frames before it.
      const stdout = String((err as { stdout?: unknown }).stdout ?? '');
      return stdout ? parseOpening(stdout) : undefined;
    }
  }

  /** The opening video packets' timestamps (no decode): how many frames really come. */
  private async videoPackets(input: string): Promise<unknown[]> {
    const args = [
      '-select_streams',
      'v', // every video stream: the one that counts is chosen later (normalizeProbe)
      '-show_entries',
      'packet=stream_index,pts_time,dts_time,flags',
    ];
    try {
      const out = (await this.json(input, [
        ...args,
        '-read_intervals',
        `%+#${TIMING_PACKETS}`,
      ])) as {
        packets?: unknown[];
      };
      return out.packets ?? [];
    } catch {
      return []; // the rate then comes from the container, as before
    }
  }

  /**
   * Where the video ends (the last packet's pts + duration, seconds), read from every
   * packet (no decode); bounded by the probe's timeout. Undefined if nothing was read.
   */
  private async videoEnd(input: string): Promise<number | undefined> {
    try {
      const out = (await this.json(input, [
        '-select_streams',
        'v:0',
        '-show_entries',
        'packet=pts_time,duration_time',
      ])) as { packets?: { pts_time?: string; duration_time?: string }[] };
      let end = Number.NEGATIVE_INFINITY;
      for (const p of out.packets ?? []) {
        const pts = Number(p.pts_time);
        if (Number.isFinite(pts)) end = Math.max(end, pts + (Number(p.duration_time) || 0));
      }
      return Number.isFinite(end) ? end : undefined;
    } catch {
      return undefined; // then the duration stays unknown, and ingest says so
    }
  }

  /** ffprobe's JSON for `what` of an upload, behind the same guards as every ffmpeg. */
  private async json(input: string, what: string[]): Promise<unknown> {
    const { stdout } = await run(
      this.paths.ffprobePath,
      ['-v', 'error', '-print_format', 'json', ...what, ...inputGuards(input), '-i', input],
      { timeout: this.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
    );
    return JSON.parse(stdout);
  }
}

/** Whether a segment file is the chunk's own, not its run-on (see chunkSegmentEnd). */
function ownSegment(file: string, end: number | undefined): boolean {
  const n = /^seg_(\d+)\.ts$/.exec(file)?.[1];
  return end === undefined || n === undefined || Number(n) < end;
}

/**
 * The segment files listed in the playlist ffmpeg's segment muxer wrote for one chunk
 * (trusted, our own output) that are the chunk's own (before `end`). Their durations are
 * counted from their frames later: the muxer times its first segment from zero, not from
 * the chunk's place on the timeline.
 */
async function readSegments(dir: string, playlist: string, end?: number): Promise<Segment[]> {
  const text = await readFile(join(dir, playlist), 'utf8');
  const segments: Segment[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || !ownSegment(line, end)) continue;
    const { size } = await stat(join(dir, line));
    segments.push({ file: line, duration: 0, bytes: size });
  }
  return segments;
}

/**
 * Runs a recipe's command (see core/recipe.ts) with fluent-ffmpeg. It is killed when `signal`
 * aborts (the caller's time is up), or after `timeoutMs` when no signal is given.
 */
function runCommand(
  paths: FfmpegPaths,
  command: FfmpegCommand,
  what: string,
  limit: { signal?: AbortSignal; timeoutMs: number },
): Promise<void> {
  // fluent-ffmpeg takes one -filter_complex; more are global options like it, wherever they go.
  const moreGraphs = (command.imageGraphs ?? []).flatMap((g) => ['-filter_complex', g]);
  const cmd = ffmpeg()
    .setFfmpegPath(paths.ffmpegPath)
    .input(command.input)
    .inputOptions([...command.inputOptions, ...moreGraphs]);
  for (const more of command.moreInputs ?? [])
    cmd.input(more.input).inputOptions(more.inputOptions);
  if (command.filterGraph) cmd.complexFilter(command.filterGraph);
  for (const o of command.outputs) cmd.output(o.path).outputOptions(o.options);
  return new Promise((resolve, reject) => {
    // Time already up (a slow start): killing a process not yet spawned would do nothing.
    if (limit.signal?.aborted) {
      reject(new TimedOutError(`${what}: stopped at the function's time limit`));
      return;
    }
    let stopped = false;
    const stop = () => {
      stopped = true;
      cmd.kill('SIGKILL');
    };
    const timer = limit.signal ? undefined : setTimeout(stop, limit.timeoutMs);
    limit.signal?.addEventListener('abort', stop, { once: true });
    const done = () => {
      clearTimeout(timer);
      limit.signal?.removeEventListener('abort', stop);
    };
    cmd
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        done();
        // Killed for time is not a verdict on the media: the job is retried.
        if (stopped) reject(new TimedOutError(`${what}: stopped at the function's time limit`));
        // Nor is a kill from outside (the OOM killer, an operator): retried as well. A crash
        // (SIGSEGV, SIGABRT…) is the media's doing and is classified like any other error.
        else if (/killed with signal SIG(KILL|TERM|INT)\b/.test(err.message)) {
          reject(new TransientError(`${what}: ffmpeg was stopped by a signal`));
        } else if (NO_FRAMES.test(stderr ?? '')) {
          // Nothing decoded from the chunk's start on (a chunk planned past the end of a
          // cut-short file): ffmpeg 7 then fails to open the encoders it never fed. There is
          // simply no output; what that means is the use case's to say.
          resolve();
        } else reject(classify(stderr ?? '', what));
      })
      .on('end', () => {
        done();
        resolve();
      })
      .run();
  });
}

/**
 * Hands each finished segment to `listener` while ffmpeg is still encoding: the segment
 * muxer lists a segment in its playlist only once the file is closed. Only complete lines are
 * read, since the playlist may be caught mid-write.
 */
function watchSegments(
  playlists: { rendition: string; dir: string; playlist: string }[],
  listener: SegmentListener | undefined,
  end: number | undefined,
): { stop(): Promise<void> } {
  if (!listener) return { stop: async () => undefined };
  const handed = new Set<string>();
  const pending: Promise<void>[] = [];
  const poll = async () => {
    for (const p of playlists) {
      const text = await readFile(join(p.dir, p.playlist), 'utf8').catch(() => '');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      for (const line of complete.split('\n')) {
        const file = line.trim();
        if (!/^(seg|end)_\d+\.ts$/.test(file) || !ownSegment(file, end)) continue;
        const key = `${p.rendition}/${file}`;
        if (handed.has(key)) continue;
        handed.add(key);
        pending.push(listener(p.rendition, file, join(p.dir, file)));
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
  /** Kill ffmpeg after this long when the caller gives no signal (bench, tools). */
  timeoutMs?: number;
  /** Encodes that run at once on this machine (see encodeCores); 1 by default. */
  encodesPerHost?: number;
}

const majors = new Map<string, Promise<number>>();

/** The major version of the ffmpeg at `path` (7 for the bundle), asked once per path. */
export function engineMajor(path: string): Promise<number> {
  let major = majors.get(path);
  if (!major) {
    major = run(path, ['-version'], { timeout: 30_000 }).then(
      ({ stdout }) => Number(/^ffmpeg version n?(\d+)\./.exec(stdout)?.[1] ?? 0),
      () => 0,
    );
    majors.set(path, major);
  }
  return major;
}

/** The 2018 builds (git snapshots: `N-47683-…`) print no major: they are the legacy ones. */
export const isLegacyEngine = async (path: string): Promise<boolean> =>
  (await engineMajor(path)) < 5;

export class FfmpegTranscoder implements Transcoder {
  private readonly timeoutMs: number;
  private readonly encodesPerHost: number;

  constructor(
    private readonly paths: FfmpegPaths,
    opts: TranscoderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 13 * 60_000;
    this.encodesPerHost = opts.encodesPerHost ?? 1;
  }

  async encodeVideoChunk(args: {
    input: string;
    plan: Plan;
    chunk: number;
    workDir: string;
    onSegment?: SegmentListener;
    bounded?: boolean;
    signal?: AbortSignal;
  }): Promise<ChunkOutput> {
    const { plan, workDir } = args;
    const spec = plan.chunks[args.chunk];
    if (!spec) throw new Error(`chunk ${args.chunk} is not in the plan`);
    const command = chunkCommand(plan, spec.index, {
      input: args.input,
      workDir,
      cpus: encodeCores(plan, spec.index, {
        cores: availableParallelism(),
        encodes: this.encodesPerHost,
      }),
      bounded: args.bounded !== false,
      legacyEngine: await isLegacyEngine(this.paths.ffmpegPath),
    });
    const files = chunkFiles(workDir, spec.index);
    const ownEnd = chunkSegmentEnd(plan, spec);
    await Promise.all(plan.renditions.map((r) => mkdir(files.dir(r.name), { recursive: true })));
    const watcher = watchSegments(
      plan.renditions.map((r) => ({
        rendition: r.name,
        dir: files.dir(r.name),
        playlist: 'chunk.m3u8',
      })),
      args.onSegment,
      ownEnd,
    );
    try {
      await runCommand(this.paths, command, `chunk ${spec.index} could not be encoded`, {
        signal: args.signal,
        timeoutMs: this.timeoutMs,
      });
    } finally {
      await watcher.stop();
    }

    const fps = plan.output.frameRate.num / plan.output.frameRate.den;
    const renditions: ChunkOutput['renditions'] = {};
    let frames = 0;
    let firstFrameTime: number | undefined;
    for (const r of plan.renditions) {
      const dir = files.dir(r.name);
      const segments = await readSegments(dir, 'chunk.m3u8', ownEnd);
      const first = segments[0];
      // Every chunk is encoded with the same settings, so x264 writes the same profile and
      // level in all of them: the first segment's SPS says which.
      let codecs = '';
      for (const segment of segments) {
        const bytes = await readFile(join(dir, segment.file));
        const scan = scanKeyframes(bytes);
        segment.keyframes = scan.keyframes;
        segment.duration = scan.frames / fps;
        if (segment === first) {
          firstFrameTime ??= scan.firstTime;
          codecs = avcCodecString(bytes) ?? '';
        }
      }
      // A chunk planned past the last frame (a duration that overstated the video) leaves
      // an empty segment: there is nothing to play in it.
      const played = segments.filter((s) => s.duration > 0);
      renditions[r.name] = { dir, segments: played, codecs };
      frames = Math.round(played.reduce((t, s) => t + s.duration, 0) * fps);
    }
    // A chunk too short for a thumbnail (a few trailing frames) leaves no sprite sheet.
    const sheetPath = join(workDir, files.sheet);
    const storyboard = (await stat(sheetPath).catch(() => undefined))
      ? {
          file: files.sheet,
          path: sheetPath,
          count: Math.min(
            sheetCapacity(plan, spec),
            Math.ceil(frames / plan.images.storyboard.intervalFrames),
          ),
        }
      : undefined;
    const poster =
      spec.index === posterChunk(plan) && frames > 0
        ? { jpeg: files.posterJpeg, webp: files.posterWebp }
        : undefined;
    const top = plan.renditions[0] ? renditions[plan.renditions[0].name] : undefined;
    const audio =
      plan.audio && frames > 0
        ? await this.chunkAudio(
            args,
            spec,
            frames,
            (top?.segments ?? []).map((s) => Math.round(s.duration * fps)),
          )
        : undefined;
    return { frames, renditions, storyboard, poster, firstFrameTime, ...(audio ? { audio } : {}) };
  }

  /**
   * The chunk's audio segments, from what its encode wrote (see core/audio.ts): the frames of
   * its stretch, cut where its video segments end, each wrapped in MPEG-TS. `frames` is the
   * video frames the chunk made; the audio ends with them.
   */
  private async chunkAudio(
    args: { input: string; plan: Plan; workDir: string; bounded?: boolean; signal?: AbortSignal },
    spec: ChunkSpec,
    frames: number,
    videoSegments: number[],
  ): Promise<RenditionOutput & { dir: string }> {
    const { plan, workDir } = args;
    // A whole chunk's sound runs to where the next chunk's starts; the last chunk's, or one
    // where the source ended early, stops with the picture.
    const whole = spec.frames !== null && frames >= spec.frames;
    const endSample = (whole ? audioCut : audioEnd)(plan, spec.startFrame + frames);
    let recipe = chunkAudio(plan, spec.index);
    if (recipe.to < endSample + AUDIO_POSTROLL_SAMPLES) {
      // The video ran on past the plan's guess and past the padding: encode the audio again,
      // now that its end is known.
      recipe = chunkAudio(plan, spec.index, endSample);
      await runCommand(
        this.paths,
        chunkAudioCommand(plan, spec.index, {
          input: args.input,
          workDir,
          bounded: args.bounded !== false,
          endSample,
        }),
        `the audio of chunk ${spec.index} could not be encoded`,
        { signal: args.signal, timeoutMs: this.timeoutMs },
      );
    }
    const encoded = adtsFrames(await readFile(recipe.path(workDir)));
    if (recipe.from + (encoded.length - 1) * AAC_FRAME < endSample) {
      throw new MediaError('DECODE_FAILED', `the audio of chunk ${spec.index} came out short`);
    }
    const cuts = audioSegmentCuts({
      plan,
      startFrame: spec.startFrame,
      encodedFrom: recipe.from,
      frames: encoded.length,
      videoSegments,
      endSample,
      keepPriming: spec.index === 0,
    });
    const dir = join(workDir, 'audio');
    await mkdir(dir, { recursive: true });
    const rate = plan.audio?.sampleRate ?? 48_000;
    const written = await Promise.all(
      cuts.map(async (cut) => {
        const name = `seg_${String(spec.firstSegment + cut.segment).padStart(5, '0')}`;
        const adts = join(dir, `${name}.aac`);
        await writeFile(adts, Buffer.concat(encoded.slice(cut.first, cut.first + cut.count)));
        return { adts, ts: join(dir, `${name}.ts`), file: `${name}.ts`, cut };
      }),
    );
    if (written.length > 0) {
      await runCommand(
        this.paths,
        audioSegmentsCommand(
          plan,
          written.map((w) => ({
            adts: w.adts,
            ts: w.ts,
            startSample: w.cut.startSample,
            samples: w.cut.count * AAC_FRAME,
          })),
        ),
        `the audio of chunk ${spec.index} could not be written`,
        { signal: args.signal, timeoutMs: this.timeoutMs },
      );
    }
    const segments: Segment[] = await Promise.all(
      written.map(async (w) => ({
        file: w.file,
        duration: (w.cut.count * AAC_FRAME) / rate,
        bytes: (await stat(w.ts)).size,
      })),
    );
    return { dir, segments, codecs: 'mp4a.40.2' };
  }
}
