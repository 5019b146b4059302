/**
 * Where a chunk's ffmpeg starts reading, and how much it decodes only to throw away.
 * A chunk's first output frame is a time on the video's output grid; the frame shown then
 * is the last source frame at or before it, which may lie anywhere before (a variable-rate
 * source can hold one frame for seconds). Decoding must start at a keyframe no later than
 * that frame, and should start no earlier than it must.
 */

/**
 * ffmpeg backs a seek off by 3/23 s when the video has B-frames (its DTS-before-PTS guess),
 * then starts decoding at the last keyframe before that: every frame from there to the
 * chunk's first one is decoded and thrown away.
 */
const SEEK_BACKOFF_SECONDS = 3 / 23;

/**
 * Keyframes at least this far apart can be landed on exactly: aimed past a keyframe by the
 * back-off plus a quarter frame, a seek stays short of the next one whatever the reorder
 * delay between its decode and presentation times (a few frames).
 */
const LANDING_MARGIN_SECONDS = 1;

/**
 * Containers whose demuxer seeks by an index to a keyframe at or before the target. Others
 * (MPEG-TS and -PS, FLV, Ogg) seek by bisecting timestamps and may land after a keyframe,
 * so their chunks seek this much earlier: broadcast GOPs are well under it.
 */
const INDEXED_CONTAINERS = /\b(mov|mp4|matroska|webm|avi|asf|mxf|ivf)\b/;
const UNINDEXED_MARGIN_SECONDS = 2;
/**
 * ffmpeg's MPEG-TS seek takes any packet for a keyframe, so decoding starts at the next
 * real one: a chunk seeks back its source's longest measured GOP (plus half a second), up
 * to this, so that keyframe is before the chunk's first frame.
 */
const MAX_UNINDEXED_MARGIN_SECONDS = 30;

export const seeksByIndex = (formatName: string): boolean => INDEXED_CONTAINERS.test(formatName);

/** Index of the last of the (ascending) keyframes at or before `t`; -1 if none. */
function lastAtOrBefore(keyframes: readonly number[], t: number): number {
  let lo = 0;
  let hi = keyframes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((keyframes[mid] ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Seconds of video a chunk starting at `startSeconds` decodes before its first frame. */
export function preRollSeconds(
  keyframes: readonly number[],
  seekSeconds: number,
  startSeconds: number,
): number {
  const i = lastAtOrBefore(keyframes, seekSeconds - SEEK_BACKOFF_SECONDS);
  return Math.max(0, startSeconds - (keyframes[i] ?? 0));
}

/**
 * How a chunk whose first output frame is at `startSeconds` (from the file's start, like
 * `-ss`) seeks. ffmpeg is always told `-noaccurate_seek`: the fps filter, anchored on the
 * video's grid, picks the frame shown at each output time from whatever was decoded.
 * With the keyframes known, the seek is aimed just past the last keyframe at or before the
 * chunk's start, so ffmpeg starts decoding there and not a keyframe earlier. Otherwise a
 * quarter frame early in an indexed container, or a GOP early in one that seeks by
 * bisection.
 */
export function chunkSeek(args: {
  keyframes: readonly number[] | undefined;
  startSeconds: number;
  fps: number;
  indexed: boolean;
  /** The source's longest GOP, where the probe measured it. */
  keyframeInterval?: number;
}): { seekSeconds: number; preRoll: number } {
  const { keyframes, startSeconds, fps } = args;
  if (keyframes) {
    const i = lastAtOrBefore(keyframes, startSeconds + 1e-6);
    const at = keyframes[i];
    const next = keyframes[i + 1] ?? Number.POSITIVE_INFINITY;
    if (at !== undefined && at >= 0 && next - at >= LANDING_MARGIN_SECONDS) {
      return {
        seekSeconds: round6(at + SEEK_BACKOFF_SECONDS + 0.25 / fps),
        preRoll: Math.max(0, startSeconds - at),
      };
    }
  }
  const margin = args.indexed
    ? 0.25 / fps
    : Math.min(
        MAX_UNINDEXED_MARGIN_SECONDS,
        Math.max(UNINDEXED_MARGIN_SECONDS, (args.keyframeInterval ?? 0) + 0.5),
      );
  const seekSeconds = Math.max(0, round6(startSeconds - margin));
  return {
    seekSeconds,
    preRoll: keyframes ? preRollSeconds(keyframes, seekSeconds, startSeconds) : margin,
  };
}

/**
 * Decoding a frame costs about a tenth of encoding it into the ladder (the bench's 1080p
 * source: 4.6 ms against 47-56 ms), so moving a chunk's end by a second is worth it when it
 * saves the next chunk more than ten seconds of decoding.
 */
export const DECODE_COST = 0.1;

/**
 * A chunk's length, in frames, when the source's keyframes are known: the nominal length, or,
 * within `spread` frames of its end, an end just past a source keyframe (`keyframeEnds`: the
 * first GOP boundary at or after each), where the next chunk decodes at most a GOP before
 * its first frame. A source with 8.33 s GOPs cut every 6 s would otherwise decode up to a
 * GOP of its own per chunk. Moving the end costs `shiftCost` per second (in seconds of
 * encoding); ending the video costs nothing.
 */
export function chunkFramesByKeyframes(args: {
  nominal: number;
  startFrame: number;
  estimatedFrames: number;
  fps: number;
  spread: number;
  shiftCost: number;
  keyframeEnds: readonly number[];
  preRoll: (frame: number) => number;
}): number {
  const { nominal, startFrame, estimatedFrames, fps, spread } = args;
  const target = startFrame + nominal;
  const cost = (end: number) =>
    end >= estimatedFrames
      ? 0
      : DECODE_COST * args.preRoll(end) + (args.shiftCost * Math.abs(end - target)) / fps;
  let best = target;
  for (const end of args.keyframeEnds) {
    if (end < target - spread || end <= startFrame) continue;
    if (end > target + spread) break;
    if (cost(end) < cost(best)) best = end;
  }
  return best - startFrame;
}

/**
 * Data beyond a chunk's last frame that its reader still gets: the decoder and the B-frame
 * reordering look a few frames ahead, and audio and video are interleaved in the file.
 */
const READ_MARGIN_SECONDS = 2;

/** Where a chunk ending at `endSeconds` may stop reading, when the MP4 index says. */
export function readEnd(
  byteEnds: readonly number[] | undefined,
  endSeconds: number,
): { readEndByte?: number } {
  if (!byteEnds) return {};
  const slot = Math.ceil(endSeconds + READ_MARGIN_SECONDS);
  // At the table's end the chunk reads to the end of the file anyway.
  return slot < byteEnds.length - 1 ? { readEndByte: byteEnds[slot] } : {};
}

export const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
