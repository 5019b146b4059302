/**
 * Audio is encoded in the chunk jobs, each its own stretch, and the stretches join
 * sample-exactly. AAC codes overlapping windows of 2048 samples, one frame (1024 samples)
 * apart, and its encoder starts with a frame of priming. So each chunk:
 * - cuts on the 1024-sample grid of the video's timeline (every chunk uses the same grid),
 *   a little after its first video frame (AUDIO_LAG_SECONDS);
 * - feeds its encoder from two frames before its first cut (pre-roll) to two frames past its
 *   last (post-roll), so the frames it keeps were coded from the same samples, in the same
 *   windows, as one whole-file encode would code them;
 * - keeps only the frames that start inside its stretch (chunk 0 also keeps the priming).
 * Played one after another, the kept frames decode like the whole-file encode: measured on a
 * tone with noise, the error at a join is that of anywhere else (without the pre-roll it was
 * 2-4 times more: a click), with the same length and no drift.
 */
import type { Plan } from './plan.js';

/** Samples in an AAC-LC frame. */
export const AAC_FRAME = 1024;
/** Frames the encoder runs before the first kept one, and after the last. */
export const AUDIO_PREROLL_SAMPLES = 2 * AAC_FRAME;
export const AUDIO_POSTROLL_SAMPLES = 2 * AAC_FRAME;
/**
 * Each chunk's sound starts this long after its picture (on the grid). A chunk's decode starts
 * at the keyframe at or before its first frame, and in MP4 its audio at that keyframe's time,
 * which may be the chunk's first frame itself; the source decoder's first frame after a seek
 * is incomplete, and the encoder wants its pre-roll before the cut. Cutting the sound a little
 * later than the picture costs nothing (the audio rendition has its own playlist) and spares
 * decoding a GOP earlier only for the sake of the audio.
 */
export const AUDIO_LAG_SECONDS = 0.15;

/** ceil(n / d) AAC frames, in samples; in BigInt, as n passes 2^53 on long videos. */
const ceilToFrame = (n: bigint, d: bigint): number =>
  Number(((n + d - 1n) / d) * BigInt(AAC_FRAME));

/**
 * Where the sound of the stretch that starts at output frame `frame` starts: the first
 * frame boundary at or after AUDIO_LAG_SECONDS past that frame's time (0 for frame 0).
 */
export function audioCut(plan: Pick<Plan, 'output' | 'audio'>, frame: number): number {
  if (frame <= 0) return 0;
  const { num, den } = plan.output.frameRate;
  const rate = plan.audio?.sampleRate ?? 48_000;
  // Exact integer arithmetic, in samples × frames per second.
  const lag = BigInt(Math.round(AUDIO_LAG_SECONDS * rate)) * BigInt(num);
  return ceilToFrame(BigInt(frame) * BigInt(den) * BigInt(rate) + lag, BigInt(num * AAC_FRAME));
}

/** Where the sound ends when the picture ends at output frame `frame`: at a frame boundary. */
export function audioEnd(plan: Pick<Plan, 'output' | 'audio'>, frame: number): number {
  const { num, den } = plan.output.frameRate;
  const rate = plan.audio?.sampleRate ?? 48_000;
  return ceilToFrame(BigInt(frame) * BigInt(den) * BigInt(rate), BigInt(num * AAC_FRAME));
}

/** One audio segment to write: AAC frames [first, first + count) of the chunk's encode. */
export interface AudioSegmentCut {
  /** Index of the chunk's video segment it goes with. */
  segment: number;
  first: number;
  count: number;
  /** Timeline sample of its first frame (may be -1024: the priming of the first chunk). */
  startSample: number;
}

/**
 * Which of the chunk encoder's frames make which segment. `encodedFrom` is the timeline
 * sample the encoder started at; `frames` how many it wrote; `videoSegments` the chunk's
 * video segment lengths in output frames (audio segments end where they do, on the grid);
 * `endSample` where the chunk's audio ends on the timeline.
 */
export function audioSegmentCuts(args: {
  plan: Pick<Plan, 'output' | 'audio'>;
  startFrame: number;
  encodedFrom: number;
  frames: number;
  videoSegments: readonly number[];
  endSample: number;
  keepPriming: boolean;
}): AudioSegmentCut[] {
  const ptsOf = (j: number) => args.encodedFrom + (j - 1) * AAC_FRAME;
  const indexAt = (sample: number) => Math.max(0, (sample - args.encodedFrom) / AAC_FRAME + 1);
  const start = audioCut(args.plan, args.startFrame);
  const first = args.keepPriming ? 0 : indexAt(start);
  let last = first;
  while (last < args.frames && ptsOf(last) < args.endSample) last++;
  const cuts: AudioSegmentCut[] = [];
  let at = first;
  let frame = args.startFrame;
  args.videoSegments.forEach((length, i) => {
    frame += length;
    const end =
      i === args.videoSegments.length - 1
        ? last
        : Math.min(last, indexAt(audioCut(args.plan, frame)));
    if (end > at) cuts.push({ segment: i, first: at, count: end - at, startSample: ptsOf(at) });
    at = Math.max(at, end);
  });
  return cuts;
}
