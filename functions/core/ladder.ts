/**
 * The adaptive-bitrate ladder. Rungs are sized on the source's short side so portrait and
 * square video keep their shape, and a source is never upscaled.
 */
export interface Rung {
  /** Short side in pixels (the "720" of 720p). */
  shortSide: number;
  /** Target (and cap) video bitrate, bits per second. */
  bitrate: number;
}

/** After Apple's HLS Authoring Specification's H.264 ladder, trimmed to five rungs. */
export const DEFAULT_LADDER: readonly Rung[] = [
  { shortSide: 1080, bitrate: 6_000_000 },
  { shortSide: 720, bitrate: 3_000_000 },
  { shortSide: 540, bitrate: 2_000_000 },
  { shortSide: 360, bitrate: 730_000 },
  { shortSide: 234, bitrate: 145_000 },
];

export interface Rendition {
  /** Folder name and label, e.g. `720p`. */
  name: string;
  width: number;
  height: number;
  /** Video bitrate cap (maxrate); the VBV buffer is twice this. */
  bitrate: number;
}

/** Largest even number ≤ n (4:2:0 chroma needs even dimensions). */
const floorEven = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
const roundEven = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

export function buildLadder(
  source: { width: number; height: number },
  rungs: readonly Rung[] = DEFAULT_LADDER,
): Rendition[] {
  const portrait = source.height > source.width;
  const short = Math.min(source.width, source.height);
  const long = Math.max(source.width, source.height);
  const aspect = long / short;

  const sized = (shortSide: number, bitrate: number): Rendition => {
    const s = Math.min(floorEven(shortSide), floorEven(short));
    const l = Math.min(roundEven(s * aspect), floorEven(long));
    return {
      name: `${s}p`,
      width: portrait ? s : l,
      height: portrait ? l : s,
      bitrate,
    };
  };

  const sorted = [...rungs].sort((a, b) => b.shortSide - a.shortSide);
  const fitting = sorted.filter((r) => r.shortSide <= short);
  const below = fitting[0];
  const above = sorted.filter((r) => r.shortSide > short).at(-1);
  if (below && above && short - below.shortSide >= 2) {
    // Between two rungs (a 480-line DVD, a 576-line PAL source, a 642x642 clip): the top
    // rung is the source's own size, so nobody sees less than was uploaded. Its bitrate is
    // interpolated by pixel count between its neighbours'. A rung just below it (within
    // 15%) would look the same and is left out.
    const t = (short ** 2 - below.shortSide ** 2) / (above.shortSide ** 2 - below.shortSide ** 2);
    const bitrate = Math.round(below.bitrate + t * (above.bitrate - below.bitrate));
    const rest = below.shortSide >= short * 0.85 ? fitting.slice(1) : fitting;
    return [sized(short, bitrate), ...rest.map((r) => sized(r.shortSide, r.bitrate))];
  }
  if (fitting.length > 0) return fitting.map((r) => sized(r.shortSide, r.bitrate));

  // Smaller than every rung: one rendition at the source's own size, with the smallest
  // rung's bitrate scaled to its area (but never below 64 kb/s, where H.264 falls apart).
  const smallest = [...rungs].sort((a, b) => a.shortSide - b.shortSide)[0];
  if (!smallest) throw new Error('the ladder has no rungs');
  const area = (short * long) / (smallest.shortSide * smallest.shortSide * aspect);
  return [sized(short, Math.max(64_000, Math.round(smallest.bitrate * Math.min(1, area))))];
}
