/**
 * The transcoding plan: which renditions, at what frame rate, cut into which chunks.
 * It is a pure function of the probe and the config, so a duplicate ingest writes the same
 * bytes and the plan stays "exactly one per video" even where S3 cannot refuse a second write.
 *
 * Time comes from the source's timestamps, never from a count of its frames: the output is
 * a constant-rate grid that starts at the source's first video frame, and a chunk is a run
 * of slots on that grid. Each chunk's ffmpeg shows, in each of its slots, the source frame
 * whose time is nearest at or before it (the fps filter, anchored on the same grid), so a
 * variable-rate source keeps its duration and its sync, and every chunk joins the next
 * without a frame missing or repeated (docs/how-it-works.md, "Time comes from the source's timestamps").
 */
import { type ImageSpec, imageSpec } from './images.js';
import { buildLadder, type Rendition, type Rung } from './ladder.js';
import {
  type ColourTags,
  type MediaInfo,
  type Rational,
  rationalValue,
  STANDARD_RATES,
} from './media.js';
import {
  chunkFramesByKeyframes,
  chunkSeek,
  DECODE_COST,
  readEnd,
  round6,
  seeksByIndex,
} from './seek.js';

/** Apple's HLS authoring spec: an IDR frame every 2 seconds. */
export const KEYFRAME_SECONDS = 2;

/**
 * Where the video's first frame sits on the output timeline. Not zero: with B-frames the
 * first chunk's first DTS would be negative, and the muxer would then shift that chunk alone
 * (by the encoder delay), overlapping the next chunk at the join. One second clears any delay.
 */
export const TIMELINE_ORIGIN_SECONDS = 1;

export interface ChunkSpec {
  index: number;
  /**
   * First output frame (slot on the output grid): 0 for the opening, then where the chunk
   * before ends: on the GOP grid, often the first GOP boundary after a source keyframe (see
   * chunkFramesByKeyframes).
   */
  startFrame: number;
  /** Output frames to make; null for the last chunk, which runs to the end of the source. */
  frames: number | null;
  /** `-ss` input seek (with `-noaccurate_seek`), in seconds from the file's start. */
  seekSeconds: number;
  /**
   * Where the chunk's data (all it decodes, plus a margin) ends in the file, when the MP4
   * index says: the reader asks for no more, so the source is not read past the chunk.
   */
  readEndByte?: number;
  /** `-output_ts_offset`: where the chunk's first frame sits on the output timeline. */
  offsetSeconds: number;
  /** Media sequence number of the chunk's first segment. */
  firstSegment: number;
}

export interface AudioSpec {
  bitrate: number;
  channels: 2;
  sampleRate: 48_000;
}

/** What the encode recipe needs to know of the source's streams. */
export interface SourceStreams {
  video: {
    /** ffmpeg's stream index of the main video. */
    stream: number;
    codec: string;
    /** Timestamp of the first video frame, in seconds on the file's own clock (as ffmpeg
     * sees it with -copyts): the output timeline's zero, for video and audio alike. */
    start: number;
    /** Stored size, after rotation. */
    coded?: { width: number; height: number };
    pixFmt?: string;
    colour?: ColourTags;
    fieldOrder?: string;
    /** Combed pictures that nothing flags interlaced (MediaInfo's `combed`). */
    combed?: 'tff' | 'bff';
  };
  audio: { stream: number } | null;
}

export interface Plan {
  version: 2;
  videoId: string;
  source: {
    formatName: string;
    duration: number;
    width: number;
    height: number;
    frameRate: Rational;
    hasAudio: boolean;
  } & SourceStreams;
  output: {
    frameRate: Rational;
    gopFrames: number;
    segmentFrames: number;
    /** Nominal segment length (the muxer's cut points are exact frame multiples). */
    segmentSeconds: number;
    x264Preset: string;
    /** Constant-quality target, capped per rung by maxrate. */
    crf: number;
    /** Output timestamp of the source's first video frame, for video and audio alike. */
    timelineOrigin: number;
  };
  renditions: Rendition[];
  audio: AudioSpec | null;
  chunks: ChunkSpec[];
  /** Estimated from the duration; the last chunk encodes whatever really remains. */
  estimatedFrames: number;
  images: ImageSpec;
}

export interface PlanOptions {
  segmentSeconds: number;
  chunkSegments: number;
  x264Preset: string;
  /**
   * Transcode jobs that can run at once. With fewer chunks than that, chunks are shortened
   * (down to MIN_CHUNK_SECONDS) so more workers share the video; unset, they are not.
   */
  workers?: number;
  ladder?: readonly Rung[];
  crf?: number;
  audioBitrate?: number;
  maxOutputFps?: number;
}

const sameRate = (a: Rational, b: Rational): boolean => a.num * b.den === b.num * a.den;

/**
 * The output rate for a source whose real average rate is `source`:
 * - above `max`, divided by the smallest whole number that brings it under (120 → 60,
 *   119.88 → 59.94, 100 → 50), so motion stays even;
 * - within 2% of a standard rate (23.976, 24, 25, 29.97, 30, 50, 59.94, 60), that rate;
 * - otherwise the source's own average (15 fps from a webcam stays 15), but at least 1.
 */
export function outputFrameRate(source: Rational, max = 60): Rational {
  // A slideshow of a frame every few seconds still plays at 1 fps (each frame held): the
  // grid needs whole frames per keyframe interval.
  if (!(rationalValue(source) >= 1)) return { num: 1, den: 1 };
  let divisor = 1;
  while (rationalValue(source) / divisor > max + 0.01) divisor += 1;
  const rate = { num: source.num, den: source.den * divisor };
  const fps = rationalValue(rate);
  let best: Rational | undefined;
  for (const s of STANDARD_RATES) {
    const off = Math.abs(fps / rationalValue(s) - 1);
    if (rationalValue(s) <= max + 0.01 && off < 0.02) {
      if (!best || off < Math.abs(fps / rationalValue(best) - 1)) best = s;
    }
  }
  if (best) return best;
  // A measured average such as 5391000/179953 is kept to a thousandth of a frame per second.
  if (rate.den > 1001 * divisor) return reduce({ num: Math.round(fps * 1000), den: 1000 });
  return reduce(rate);
}

function reduce(r: Rational): Rational {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(r.num, r.den) || 1;
  return { num: r.num / g, den: r.den / g };
}

/**
 * Segments in chunk `index` (from 1; chunk 0 is the opening). The first chunks after the
 * opening are short so the video is encoded, and playable, from its start (the first chunks
 * finish soonest whatever the parallelism); after them every chunk has the configured length.
 */
export const CHUNK_RAMP = [1, 1, 2] as const;
export const chunkSegmentsAt = (index: number, chunkSegments: number): number =>
  index === 0 ? 1 : Math.min(chunkSegments, CHUNK_RAMP[index - 1] ?? chunkSegments);

/**
 * The shortest chunk the planner makes to give more workers a share: below it, a job's fixed
 * cost (cold start, source open, decoding from the keyframe before it, the run-on) passes
 * ~15% of the job (the bench's chunk-length sweep: 85% of a 12 s job is encoding, 73% of a
 * 6 s one), for little gain in time to ready (an hour at 1000 workers: 50 s against 48 s).
 */
export const MIN_CHUNK_SECONDS = 12;

/**
 * Segments in a full chunk: the configured number, or fewer (down to MIN_CHUNK_SECONDS) when
 * the video would otherwise have fewer chunks than there are workers. An hour at 1000
 * workers then takes 12 s chunks, not 30 s: the last jobs, which start when the SQS event
 * source has scaled up, finish sooner.
 */
export function fullChunkSegments(options: PlanOptions, totalSegments: number): number {
  const configured = options.chunkSegments;
  if (options.workers === undefined) return configured;
  const shortest = Math.min(
    configured,
    Math.max(1, Math.ceil(MIN_CHUNK_SECONDS / options.segmentSeconds)),
  );
  const shared = Math.ceil(totalSegments / Math.max(1, options.workers));
  return Math.max(shortest, Math.min(configured, shared));
}

/**
 * How many even chunks the video after the opening is cut into, or undefined for the ramp.
 * When the ramp would make more chunks than there are workers, yet chunks of at most the
 * full length can cover the rest in one wave, the ramp's short chunks only queue up behind
 * each other and leave a short tail alone at the end (the bench's 30 s on two local workers:
 * 12 + 12 + 4 s, the 4 s running once the others are done). Even chunks keep every worker
 * busy to the end, with one ffmpeg fewer.
 */
function evenChunks(rest: number, fullFrames: number, rampFrames: number[], workers?: number) {
  if (workers === undefined || rest <= 0) return undefined;
  let ramp = 0;
  for (let covered = 0; covered < rest; ramp++) covered += rampFrames[ramp] ?? fullFrames;
  const wave = Math.ceil(rest / fullFrames);
  return ramp > workers && wave <= workers ? wave : undefined;
}

/**
 * Where a chunk's segments start, in frames from its first: one every `segmentFrames`. A
 * chunk is whole GOPs long but not always whole segments, so its last segment may be short
 * (a whole number of GOPs, like the opening). A last chunk (`frames` null) runs to wherever
 * the source ends: its starts go on to `upTo`.
 */
export function segmentStarts(
  frames: number | null,
  output: Pick<Plan['output'], 'segmentFrames'>,
  upTo = 0,
): number[] {
  const end = frames ?? upTo;
  const starts = [0];
  for (let f = output.segmentFrames; f < end; f += output.segmentFrames) starts.push(f);
  return starts;
}

/** The source time (seconds, the file's own clock) of output frame `frame`. */
export const slotTime = (plan: Plan, frame: number): number =>
  round6(plan.source.video.start + (frame * plan.output.frameRate.den) / plan.output.frameRate.num);

export function makePlan(videoId: string, info: MediaInfo, options: PlanOptions): Plan {
  const video = info.video;
  if (!video) throw new Error('makePlan needs a video stream; validateMedia first');
  const frameRate = outputFrameRate(video.frameRate, options.maxOutputFps);
  const fps = rationalValue(frameRate);
  // Round the GOP up so that a segment of whole GOPs is never shorter than its nominal length.
  const gopFrames = Math.ceil(KEYFRAME_SECONDS * fps - 1e-6);
  const segmentFrames = gopFrames * (options.segmentSeconds / KEYFRAME_SECONDS);
  if (!(segmentFrames >= 1)) throw new Error(`no whole frame in a segment at ${fps} fps`);
  // The MP4 index counts the frames exactly when they are the output's (constant rate, same
  // rate); a duration can include an edit list's empty start.
  const estimatedFrames =
    video.frames && !video.variableFrameRate && sameRate(frameRate, video.frameRate)
      ? video.frames
      : Math.max(1, Math.round(info.duration * fps));

  const chunks: ChunkSpec[] = [];
  const indexed = seeksByIndex(info.formatName);
  const seekAt = (frame: number) =>
    chunkSeek({
      keyframes: video.keyframes,
      startSeconds: round6(video.startOffset + frame / fps),
      fps,
      indexed,
      ...(video.keyframeInterval !== undefined ? { keyframeInterval: video.keyframeInterval } : {}),
    });
  const fullSegments = fullChunkSegments(options, Math.ceil(estimatedFrames / segmentFrames));
  const fullFrames = fullSegments * segmentFrames;
  const rest = estimatedFrames - gopFrames;
  const rampFrames = CHUNK_RAMP.map((_, i) => chunkSegmentsAt(i + 1, fullSegments) * segmentFrames);
  const even = evenChunks(rest, fullFrames, rampFrames, options.workers);
  // A chunk may end on the first GOP boundary at or after a source keyframe: the next chunk
  // then decodes at most a GOP (2 s) before its first frame. Every chunk stays whole GOPs
  // long, so IDRs stay every 2 s on one grid from the first frame, as in a whole-file encode.
  // Which slot shows a keyframe between two is the fps filter's rounding: the later is taken.
  const keyframeEnds = [
    ...new Set(
      (video.keyframes ?? []).map(
        (k) => Math.ceil(Math.ceil((k - video.startOffset) * fps - 1e-3) / gopFrames) * gopFrames,
      ),
    ),
  ].filter((end) => end > gopFrames);
  let startFrame = 0;
  let firstSegment = 0;
  for (let index = 0; startFrame < estimatedFrames || index === 0; index++) {
    // The opening is one segment of one keyframe interval.
    const nominal =
      index === 0
        ? gopFrames
        : even !== undefined
          ? gopFrames *
            Math.ceil((estimatedFrames - startFrame) / Math.max(1, even - index + 1) / gopFrames)
          : chunkSegmentsAt(index, fullSegments) * segmentFrames;
    const frames =
      index === 0 || !video.keyframes
        ? nominal
        : chunkFramesByKeyframes({
            nominal,
            startFrame,
            estimatedFrames,
            fps,
            // Even chunks run at once and the longest sets the time: a second longer costs a
            // second. A ramp chunk may move by a segment, as its work only moves to the next.
            ...(even !== undefined
              ? { spread: Math.floor(nominal / 5), shiftCost: 1 }
              : {
                  spread: Math.max(segmentFrames, Math.floor(nominal / 5)),
                  shiftCost: DECODE_COST,
                }),
            keyframeEnds,
            preRoll: (frame) => seekAt(frame).preRoll,
          });
    // Less than a GOP left is not worth a job, and where the estimate overstates the video by
    // a frame or two, that job would get nothing: its sound (see audio.ts) would then end
    // after the picture. The chunk runs to the end instead.
    const last = startFrame + frames > estimatedFrames - gopFrames;
    const seek = index === 0 ? undefined : seekAt(startFrame);
    chunks.push({
      index,
      startFrame,
      frames: last ? null : frames,
      seekSeconds: seek?.seekSeconds ?? 0,
      ...(last ? {} : readEnd(video.byteEnds, video.startOffset + (startFrame + frames) / fps)),
      offsetSeconds: round6(TIMELINE_ORIGIN_SECONDS + startFrame / fps),
      firstSegment,
    });
    if (last) break;
    startFrame += frames;
    firstSegment += segmentStarts(frames, { segmentFrames }).length;
  }

  const renditions = buildLadder(video, options.ladder);
  return {
    version: 2,
    videoId,
    source: {
      formatName: info.formatName,
      duration: info.duration,
      width: video.width,
      height: video.height,
      frameRate: video.frameRate,
      hasAudio: info.audio !== undefined,
      video: {
        stream: video.streamIndex,
        codec: video.codec,
        start: video.startTime,
        ...(video.coded ? { coded: video.coded } : {}),
        ...(video.pixFmt ? { pixFmt: video.pixFmt } : {}),
        ...(video.colour ? { colour: video.colour } : {}),
        ...(video.fieldOrder ? { fieldOrder: video.fieldOrder } : {}),
        ...(video.combed ? { combed: video.combed } : {}),
      },
      audio: info.audio ? { stream: info.audio.streamIndex } : null,
    },
    output: {
      frameRate,
      gopFrames,
      segmentFrames,
      segmentSeconds: options.segmentSeconds,
      x264Preset: options.x264Preset,
      crf: options.crf ?? 21,
      timelineOrigin: TIMELINE_ORIGIN_SECONDS,
    },
    renditions,
    audio: info.audio
      ? { bitrate: options.audioBitrate ?? 128_000, channels: 2, sampleRate: 48_000 }
      : null,
    chunks,
    estimatedFrames,
    images: imageSpec(renditions, video, gopFrames, segmentFrames, estimatedFrames),
  };
}
