/** Poster and storyboard, made by the chunk workers from the frames they already decode. */
import type { Rendition } from './ladder.js';
import type { ChunkSpec, Plan } from './plan.js';

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

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

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

/**
 * The chunk that makes the poster: the first after the opening (whose two seconds are often a
 * fade-in, and too few to choose from), or the opening when it is the whole video.
 */
export const posterChunk = (plan: Pick<Plan, 'chunks'>): number => (plan.chunks.length > 1 ? 1 : 0);

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
