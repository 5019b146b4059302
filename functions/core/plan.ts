/**
 * The transcoding plan: which renditions, at what frame rate, cut into which chunks.
 * It is a pure function of the probe and the config, so a duplicate ingest writes the same
 * bytes and the plan stays "exactly one per video" even where S3 cannot refuse a second write.
 */
import { buildLadder, type Rendition, type Rung } from './ladder.js';
import { type MediaInfo, type Rational, rationalValue } from './media.js';

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
  /** First output frame of the chunk; a whole multiple of the segment length. */
  startFrame: number;
  /** Frames to encode; null for the last chunk, which runs to the end of the source. */
  frames: number | null;
  /** `-ss` input seek, in seconds from the file's start: a quarter frame before the chunk's
   * first frame, or just past a known keyframe (see chunkSeek). */
  seekSeconds: number;
  /**
   * Set when the source's keyframes are known: the seek is aimed to land exactly on the last
   * keyframe at or before the chunk's first frame (`-noaccurate_seek`), and the filter graph
   * drops the frames before that first frame, whose times (from the seek point) are below
   * this. Unset: ffmpeg's own accurate seek, which may start a keyframe earlier.
   */
  trimSeconds?: number;
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

export interface Plan {
  version: 1;
  videoId: string;
  source: {
    formatName: string;
    duration: number;
    width: number;
    height: number;
    frameRate: Rational;
    hasAudio: boolean;
  };
  output: {
    frameRate: Rational;
    /** Resample to the output rate with the fps filter (variable-rate or >60 fps sources). */
    resample: boolean;
    gopFrames: number;
    segmentFrames: number;
    /** Nominal segment length (the muxer's cut points are exact frame multiples). */
    segmentSeconds: number;
    x264Preset: string;
    /** Constant-quality target, capped per rung by maxrate. */
    crf: number;
    /** Output timestamp of the source's start, for video and audio alike. */
    timelineOrigin: number;
  };
  renditions: Rendition[];
  audio: AudioSpec | null;
  chunks: ChunkSpec[];
  /** Estimated from duration × rate; the last chunk encodes whatever really remains. */
  estimatedFrames: number;
  images: ImageSpec;
}

/** Poster and storyboard, made by the chunk workers from the frames they already decode. */
export interface ImageSpec {
  poster: { width: number; height: number };
  storyboard: {
    /** A thumbnail every this many frames: whole GOPs dividing a segment, so every chunk
     * (a whole number of segments) starts on the thumbnail grid. */
    intervalFrames: number;
    width: number;
    height: number;
    /** Thumbnails per row of a chunk's sprite sheet. */
    columns: number;
  };
}

/** Enough thumbnails to scrub smoothly, few enough that the sheets stay small. */
const MAX_THUMBNAILS = 600;
/** Storyboard thumbnails are this tall (wide, for portrait video). */
const THUMBNAIL_SHORT_SIDE = 90;
/** Posters are no larger than 720p: a still needs no more. */
const POSTER_MAX_SHORT_SIDE = 720;

export function imageSpec(
  renditions: readonly Rendition[],
  source: { width: number; height: number },
  gopFrames: number,
  segmentFrames: number,
  estimatedFrames: number,
): ImageSpec {
  const poster =
    renditions.find((r) => Math.min(r.width, r.height) <= POSTER_MAX_SHORT_SIDE) ??
    renditions[renditions.length - 1];
  const gopsPerSegment = segmentFrames / gopFrames;
  let gops = 1;
  for (let k = 1; k <= gopsPerSegment; k++) {
    if (gopsPerSegment % k !== 0) continue;
    gops = k;
    if (estimatedFrames / (k * gopFrames) <= MAX_THUMBNAILS) break;
  }
  const portrait = source.height > source.width;
  const long = even(
    (THUMBNAIL_SHORT_SIDE * Math.max(source.width, source.height)) /
      Math.min(source.width, source.height),
  );
  return {
    poster: { width: poster?.width ?? source.width, height: poster?.height ?? source.height },
    storyboard: {
      intervalFrames: gops * gopFrames,
      width: portrait ? THUMBNAIL_SHORT_SIDE : long,
      height: portrait ? long : THUMBNAIL_SHORT_SIDE,
      columns: 5,
    },
  };
}

/** Thumbnails a chunk's sheet has room for (the last chunk's length is an estimate). */
export function sheetCapacity(plan: Plan, chunk: ChunkSpec): number {
  const { intervalFrames } = plan.images.storyboard;
  const frames = chunk.frames ?? Math.max(1, plan.estimatedFrames - chunk.startFrame);
  // The last chunk gets a spare row in case the duration was underestimated.
  return (
    Math.ceil(frames / intervalFrames) +
    (chunk.frames === null ? plan.images.storyboard.columns : 0)
  );
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

export interface PlanOptions {
  segmentSeconds: number;
  chunkSegments: number;
  x264Preset: string;
  ladder?: readonly Rung[];
  crf?: number;
  audioBitrate?: number;
  maxOutputFps?: number;
}

/** Output rate: the source's, halved (thirded, …) until it is at most `max` fps. */
export function outputFrameRate(source: Rational, max = 60): Rational {
  let divisor = 1;
  while (rationalValue(source) / divisor > max + 0.01) divisor += 1;
  // Keep the rational exact (30000/1001 stays NTSC), reduced by the divisor.
  return { num: source.num, den: source.den * divisor };
}

/**
 * Segments in chunk `index`. The first chunks are short so the opening of the video is
 * encoded, and playable, first (the first chunks finish soonest whatever the parallelism);
 * after them every chunk has the configured length.
 */
export const CHUNK_RAMP = [1, 1, 2] as const;
export const chunkSegmentsAt = (index: number, chunkSegments: number): number =>
  Math.min(chunkSegments, CHUNK_RAMP[index] ?? chunkSegments);

/**
 * ffmpeg backs a seek off by 3/23 s when the video has B-frames (its DTS-before-PTS guess),
 * then starts decoding at the last keyframe before that: every frame from there to the
 * chunk's first one is decoded and thrown away.
 */
const SEEK_BACKOFF_SECONDS = 3 / 23;

/** Seconds of video a chunk starting at `startSeconds` decodes before its first frame. */
export function preRollSeconds(
  keyframes: number[],
  seekSeconds: number,
  startSeconds: number,
): number {
  const i = lastAtOrBefore(keyframes, seekSeconds - SEEK_BACKOFF_SECONDS);
  return Math.max(0, startSeconds - (keyframes[i] ?? 0));
}

/** Index of the last of the (ascending) keyframes at or before `t`; -1 if none. */
function lastAtOrBefore(keyframes: number[], t: number): number {
  let lo = 0;
  let hi = keyframes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((keyframes[mid] ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Keyframes at least this far apart can be landed on exactly: aimed past a keyframe by the
 * back-off plus a quarter frame, a seek stays short of the next one whatever the reorder
 * delay between its decode and presentation times (a few frames).
 */
const LANDING_MARGIN_SECONDS = 1;

/**
 * How a chunk whose first frame is at `startSeconds` (from the file's start) seeks. With the
 * keyframes known, the seek is aimed just past the last keyframe at or before that frame, so
 * ffmpeg starts decoding there and not a keyframe earlier; the frames between the keyframe
 * and the chunk's first are dropped by time (`trimSeconds`, half a frame early for rounding).
 * Otherwise ffmpeg's accurate seek, a quarter frame early: it keeps the boundary frame despite
 * timestamp rounding, and never the one before it.
 */
export function chunkSeek(
  keyframes: number[] | undefined,
  startSeconds: number,
  fps: number,
): { seekSeconds: number; trimSeconds?: number; preRoll: number } {
  const accurate = round6(startSeconds - 0.25 / fps);
  if (keyframes) {
    const i = lastAtOrBefore(keyframes, startSeconds + 1e-6);
    const at = keyframes[i];
    const next = keyframes[i + 1] ?? Number.POSITIVE_INFINITY;
    if (at !== undefined && at >= 0 && next - at >= LANDING_MARGIN_SECONDS) {
      const seekSeconds = round6(at + SEEK_BACKOFF_SECONDS + 0.25 / fps);
      return {
        seekSeconds,
        trimSeconds: round6(startSeconds - seekSeconds - 0.5 / fps),
        preRoll: Math.max(0, startSeconds - at),
      };
    }
  }
  return {
    seekSeconds: accurate,
    preRoll: preRollSeconds(keyframes ?? [], accurate, startSeconds),
  };
}

/**
 * A chunk's length, in segments, when the source's keyframes are known: within one segment
 * (or a fifth) of the nominal length, the end whose next chunk decodes least before its
 * first frame (a source with 8 s GOPs cut every 6 s would otherwise decode, and throw away,
 * up to a GOP per chunk). A shift must save a second of decoding to be worth a longer or
 * shorter chunk; ending the video costs nothing.
 */
export function chunkSegmentsByKeyframes(args: {
  nominal: number;
  startFrame: number;
  segmentFrames: number;
  estimatedFrames: number;
  preRoll: (frame: number) => number;
}): number {
  const { nominal, startFrame, segmentFrames, estimatedFrames } = args;
  const spread = Math.max(1, Math.round(nominal / 5));
  const cost = (segments: number) => {
    const end = startFrame + segments * segmentFrames;
    const shift = segments === nominal ? 0 : 1;
    return (end >= estimatedFrames ? 0 : args.preRoll(end)) + shift;
  };
  let best = nominal;
  for (let segments = Math.max(1, nominal - spread); segments <= nominal + spread; segments++) {
    if (cost(segments) < cost(best)) best = segments;
  }
  return best;
}

/**
 * Data beyond a chunk's last frame that its reader still gets: the decoder and the B-frame
 * reordering look a few frames ahead, and audio and video are interleaved in the file.
 */
const READ_MARGIN_SECONDS = 2;

function readEnd(byteEnds: number[] | undefined, endSeconds: number): { readEndByte?: number } {
  if (!byteEnds) return {};
  const slot = Math.ceil(endSeconds + READ_MARGIN_SECONDS);
  // At the table's end the chunk reads to the end of the file anyway.
  return slot < byteEnds.length - 1 ? { readEndByte: byteEnds[slot] } : {};
}

export function makePlan(videoId: string, info: MediaInfo, options: PlanOptions): Plan {
  const video = info.video;
  if (!video) throw new Error('makePlan needs a video stream; validateMedia first');
  const frameRate = outputFrameRate(video.frameRate, options.maxOutputFps);
  const fps = rationalValue(frameRate);
  // Round the GOP up so that a segment of whole GOPs is never shorter than its nominal length.
  const gopFrames = Math.ceil(KEYFRAME_SECONDS * fps - 1e-6);
  const segmentFrames = gopFrames * (options.segmentSeconds / KEYFRAME_SECONDS);
  const resample =
    video.variableFrameRate ||
    frameRate.num !== video.frameRate.num ||
    frameRate.den !== video.frameRate.den;
  // The index counts the frames exactly; a duration can include an edit list's empty start.
  const estimatedFrames =
    video.frames && !resample ? video.frames : Math.max(1, Math.round(info.duration * fps));

  const chunks: ChunkSpec[] = [];
  // Exact landing needs the output frames to be the source's frames (no fps filter between).
  const keyframes = video.keyframes && !resample ? video.keyframes : undefined;
  const seekAt = (frame: number) =>
    chunkSeek(keyframes, round6(video.startOffset + frame / fps), fps);
  let startFrame = 0;
  for (let index = 0; startFrame < estimatedFrames || index === 0; index++) {
    const nominal = chunkSegmentsAt(index, options.chunkSegments);
    const segments =
      index === 0 || !video.keyframes
        ? nominal
        : chunkSegmentsByKeyframes({
            nominal,
            startFrame,
            segmentFrames,
            estimatedFrames,
            preRoll: (frame) =>
              keyframes
                ? seekAt(frame).preRoll
                : preRollSeconds(
                    video.keyframes ?? [],
                    seekAt(frame).seekSeconds,
                    round6(video.startOffset + frame / fps),
                  ),
          });
    const frames = segmentFrames * segments;
    const last = startFrame + frames >= estimatedFrames;
    const seek = seekAt(startFrame);
    chunks.push({
      index,
      startFrame,
      frames: last ? null : frames,
      seekSeconds: index === 0 ? 0 : seek.seekSeconds,
      ...(index > 0 && seek.trimSeconds !== undefined ? { trimSeconds: seek.trimSeconds } : {}),
      ...(last ? {} : readEnd(video.byteEnds, video.startOffset + (startFrame + frames) / fps)),
      offsetSeconds: round6(TIMELINE_ORIGIN_SECONDS + video.startOffset + startFrame / fps),
      firstSegment: startFrame / segmentFrames,
    });
    startFrame += frames;
  }

  const renditions = buildLadder(video, options.ladder);
  return {
    version: 1,
    videoId,
    source: {
      formatName: info.formatName,
      duration: info.duration,
      width: video.width,
      height: video.height,
      frameRate: video.frameRate,
      hasAudio: info.audio !== undefined,
    },
    output: {
      frameRate,
      resample,
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

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/** The jobs a plan fans out to: one per chunk, plus the audio rendition. */
export type Job =
  | { type: 'video-chunk'; videoId: string; chunk: number }
  | { type: 'audio'; videoId: string };

/** Audio first: it is quick, and nothing plays until it is done; then chunks in order. */
export function jobsOf(plan: Plan): Job[] {
  const jobs: Job[] = plan.audio ? [{ type: 'audio', videoId: plan.videoId }] : [];
  for (const c of plan.chunks)
    jobs.push({ type: 'video-chunk', videoId: plan.videoId, chunk: c.index });
  return jobs;
}

export const jobCount = (plan: Plan): number => plan.chunks.length + (plan.audio ? 1 : 0);

export const describeJob = (job: Job): string =>
  job.type === 'audio' ? 'audio' : `chunk ${job.chunk}`;
