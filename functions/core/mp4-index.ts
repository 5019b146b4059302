/**
 * Keyframe times of an MP4/MOV source, read from its `moov` box: the sample tables say where
 * every sync sample is without reading any of the media. The planner uses them to put chunk
 * boundaries where a chunk's seek lands close to its first frame (less decoding thrown away).
 *
 * Every upload is hostile: all reads are bounds-checked, and anything unexpected (fragmented
 * files, several edits, absurd counts) gives `undefined`, which plans without keyframes.
 */

export interface Mp4KeyframeIndex {
  /** Presentation time of the video track's first frame, in seconds (ffmpeg's start_time). */
  start: number;
  /** Frames the edit list shows (all of them without one) whose data is in the file. */
  frames: number;
  /**
   * Set when the file ends before the data of some frames it indexes (a cut-short upload):
   * the presentation time, in seconds, where the last frame present ends.
   */
  end?: number;
  /**
   * byteEnds[i]: where the file's data for the first i seconds ends (the end of the last
   * sample, of any track, due before i s). Only when the moov comes before all the media,
   * so that a reader that stops there still has the index.
   */
  byteEnds?: number[];
  /** Presentation times of the video track's sync samples, in seconds, ascending (those an
   * edit list hides are before the start). */
  keyframes: number[];
}

/** Two million frames: over 4 h at 120 fps, past any duration the pipeline accepts. */
const MAX_SAMPLES = 2_000_000;

interface Box {
  type: string;
  /** Offsets of the box's payload (after its header) and its end, in the buffer. */
  body: number;
  end: number;
}

/** Reads the header of the box at `at`; undefined if it does not fit in `end`. */
export function boxAt(view: DataView, at: number, end: number): Box | undefined {
  if (at + 8 > end) return undefined;
  let size = view.getUint32(at);
  const type = String.fromCharCode(
    view.getUint8(at + 4),
    view.getUint8(at + 5),
    view.getUint8(at + 6),
    view.getUint8(at + 7),
  );
  let body = at + 8;
  if (size === 1) {
    if (at + 16 > end) return undefined;
    size = Number(view.getBigUint64(at + 8));
    body = at + 16;
  } else if (size === 0) {
    size = end - at;
  }
  if (size < body - at || at + size > end) return undefined;
  return { type, body, end: at + size };
}

function children(view: DataView, box: Box, offset = 0): Box[] {
  const boxes: Box[] = [];
  for (let at = box.body + offset; at < box.end; ) {
    const child = boxAt(view, at, box.end);
    if (!child) break;
    boxes.push(child);
    at = child.end;
  }
  return boxes;
}

const find = (view: DataView, box: Box | undefined, type: string): Box | undefined =>
  box ? children(view, box).find((b) => b.type === type) : undefined;

/** A box's entry count, refused when the entries could not fit in the box. */
function entries(view: DataView, box: Box, entrySize: number, headerSize = 8): number {
  const count = view.getUint32(box.body + 4);
  if (box.body + headerSize + count * entrySize > box.end) throw new Error('truncated table');
  return count;
}

/**
 * A track's edit list, in track ticks. Only the common shapes: an optional leading empty
 * edit, then one edit that plays the media from media_time at normal rate. `shift` maps a
 * sample's time onto ffmpeg's timeline; the shown stretch is [delay, delay + shownTicks)
 * (shownTicks 0: to the end). Undefined for anything else (left to ffmpeg).
 */
function editOf(
  view: DataView,
  trak: Box,
  timescale: number,
  movieTimescale: number,
): { shift: number; delay: number; shownTicks: number } | undefined {
  const elst = find(view, find(view, trak, 'edts'), 'elst');
  if (!elst) return { shift: 0, delay: 0, shownTicks: 0 };
  const v1 = view.getUint8(elst.body) === 1;
  const n = entries(view, elst, v1 ? 20 : 12);
  if (n > 2) return undefined;
  const edits: { duration: number; mediaTime: number }[] = [];
  for (let i = 0, at = elst.body + 8; i < n; i++, at += v1 ? 20 : 12) {
    edits.push(
      v1
        ? { duration: Number(view.getBigUint64(at)), mediaTime: Number(view.getBigInt64(at + 8)) }
        : { duration: view.getUint32(at), mediaTime: view.getInt32(at + 4) },
    );
  }
  const empty = edits[0]?.mediaTime === -1 ? edits.shift() : undefined;
  if (edits.length > 1) return undefined;
  const delay = empty ? (empty.duration / movieTimescale) * timescale : 0;
  return {
    shift: delay - (edits[0]?.mediaTime ?? 0),
    delay,
    shownTicks: ((edits[0]?.duration ?? 0) / movieTimescale) * timescale,
  };
}

/** Decode times (track ticks) of every sample, from stts; undefined if there are none. */
function decodeTimes(view: DataView, stts: Box): Float64Array | undefined {
  const count = entries(view, stts, 8);
  let samples = 0;
  for (let i = 0, at = stts.body + 8; i < count; i++, at += 8) samples += view.getUint32(at);
  if (samples === 0 || samples > MAX_SAMPLES) return undefined; // 0: fragmented (moof)
  const times = new Float64Array(samples);
  let t = 0;
  let n = 0;
  for (let i = 0, at = stts.body + 8; i < count; i++, at += 8) {
    const run = view.getUint32(at);
    const delta = view.getUint32(at + 4);
    for (let s = 0; s < run; s++, n++, t += delta) times[n] = t;
  }
  return times;
}

/** The timescale of an mvhd or mdhd box (its field sits later in a version-1 box). */
const timescaleOf = (view: DataView, box: Box): number =>
  view.getUint32(box.body + (view.getUint8(box.body) === 1 ? 20 : 12));

const VIDE = 0x76696465;
const SOUN = 0x736f756e;

/** The moov's tracks with a handler, a sample table and a timescale (others are skipped). */
function tracksOf(view: DataView, moov: Box) {
  const tracks: { trak: Box; handler: number; stbl: Box | undefined; timescale: number }[] = [];
  for (const trak of children(view, moov).filter((b) => b.type === 'trak')) {
    const mdia = find(view, trak, 'mdia');
    const hdlr = find(view, mdia, 'hdlr');
    if (!hdlr || hdlr.body + 12 > hdlr.end) continue;
    const mdhd = find(view, mdia, 'mdhd');
    tracks.push({
      trak,
      handler: view.getUint32(hdlr.body + 8),
      stbl: find(view, find(view, mdia, 'minf'), 'stbl'),
      timescale: mdhd ? timescaleOf(view, mdhd) : 0,
    });
  }
  return tracks;
}

/** The video track's sample tables → keyframe times, as ffmpeg's mov demuxer presents them. */
function videoTrack(
  view: DataView,
  moov: Box,
  movieTimescale: number,
  fileSize: number | undefined,
): Mp4KeyframeIndex | undefined {
  for (const track of tracksOf(view, moov)) {
    const { trak, handler, stbl, timescale } = track;
    if (handler !== VIDE) continue;
    const stts = find(view, stbl, 'stts');
    if (!stbl || !stts || !timescale) return undefined;

    const edit = editOf(view, trak, timescale, movieTimescale);
    if (!edit) return undefined;
    const { shift, delay, shownTicks } = edit;

    // Presentation times in track ticks: decode times from stts, plus the ctts offsets.
    const dts = decodeTimes(view, stts);
    if (!dts) return undefined;
    const samples = dts.length;
    const pts = Float64Array.from(dts);
    const ctts = find(view, stbl, 'ctts');
    if (ctts) {
      const runs = entries(view, ctts, 8);
      let sample = 0;
      for (let i = 0, at = ctts.body + 8; i < runs && sample < samples; i++, at += 8) {
        const run = view.getUint32(at);
        // Signed in practice, whatever the box version says.
        const offset = view.getInt32(at + 4);
        for (let s = 0; s < run && sample < samples; s++, sample++)
          pts[sample] = (pts[sample] ?? 0) + offset;
      }
    }

    const stss = find(view, stbl, 'stss');
    let sync: Uint32Array;
    if (stss) {
      const n = entries(view, stss, 4);
      if (n > samples) return undefined;
      sync = new Uint32Array(n);
      let kept = 0;
      for (let i = 0, at = stss.body + 8; i < n; i++, at += 4) {
        const number = view.getUint32(at); // 1-based
        if (number >= 1 && number <= samples) sync[kept++] = number - 1;
      }
      sync = sync.subarray(0, kept);
    } else {
      sync = Uint32Array.from({ length: samples }, (_, i) => i); // no table: all are sync
    }
    const seconds = (ticks: number) => Math.round(((ticks + shift) / timescale) * 1e6) / 1e6;
    // ffmpeg shows only what the edit list plays: from the empty edit's end, for the edit's
    // duration. The first frame shown is the stream's start.
    const shown = (ticks: number) =>
      ticks + shift >= delay - 0.5 && (shownTicks <= 0 || ticks + shift < delay + shownTicks - 0.5);
    // A cut-short upload indexes frames whose data is not in the file.
    const extents = fileSize === undefined ? undefined : trackExtents(view, track, movieTimescale);
    const present = (i: number) => !extents || (extents.end[i] ?? 0) <= (fileSize ?? 0);
    let start = Number.POSITIVE_INFINITY;
    let frames = 0;
    let shownFrames = 0;
    let last = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < samples; i++) {
      const ticks = pts[i] ?? 0;
      if (!shown(ticks)) continue;
      shownFrames += 1;
      start = Math.min(start, seconds(ticks));
      if (!present(i)) continue;
      frames += 1;
      last = Math.max(last, seconds(ticks));
    }
    if (frames === 0) return undefined;
    // Keyframes the edit list hides (before the start) stay: decoding can start there.
    const keyframes = [...new Set(Array.from(sync, (i) => seconds(pts[i] ?? 0)))];
    keyframes.sort((a, b) => a - b);
    if (frames === shownFrames) return { start, frames, keyframes };
    const frameSeconds = samples > 1 ? ((dts[1] ?? 0) - (dts[0] ?? 0)) / timescale : 0;
    return {
      start,
      frames,
      keyframes: keyframes.filter((k) => k <= last),
      end: Math.round((last + frameSeconds) * 1e6) / 1e6,
    };
  }
  return undefined;
}

/**
 * Byte offset and decode time (seconds) of every sample of one track, from stsz, stsc and
 * stco/co64; undefined if a table is missing or inconsistent.
 */
function trackExtents(
  view: DataView,
  track: { trak: Box; stbl: Box | undefined; timescale: number },
  movieTimescale: number,
): { time: Float64Array; start: Float64Array; end: Float64Array } | undefined {
  const { trak, stbl, timescale } = track;
  const stts = find(view, stbl, 'stts');
  const stsz = find(view, stbl, 'stsz');
  const stsc = find(view, stbl, 'stsc');
  const stco = find(view, stbl, 'stco') ?? find(view, stbl, 'co64');
  if (!timescale || !stts || !stsz || !stsc || !stco) return undefined;
  const edit = editOf(view, trak, timescale, movieTimescale);
  const dts = decodeTimes(view, stts);
  if (!edit || !dts) return undefined;
  const samples = dts.length;

  const fixedSize = view.getUint32(stsz.body + 4);
  if (view.getUint32(stsz.body + 8) !== samples) return undefined;
  if (fixedSize === 0 && stsz.body + 12 + samples * 4 > stsz.end) return undefined;
  const sizeOf = (i: number) => fixedSize || view.getUint32(stsz.body + 12 + i * 4);

  const wide = stco.type === 'co64';
  const chunks = entries(view, stco, wide ? 8 : 4);
  const chunkOffset = (c: number) =>
    wide ? Number(view.getBigUint64(stco.body + 8 + c * 8)) : view.getUint32(stco.body + 8 + c * 4);
  const runs = entries(view, stsc, 12);

  const time = new Float64Array(samples);
  const start = new Float64Array(samples);
  const end = new Float64Array(samples);
  let sample = 0;
  for (let r = 0; r < runs && sample < samples; r++) {
    const at = stsc.body + 8 + r * 12;
    const first = view.getUint32(at) - 1; // 1-based chunk numbers
    const perChunk = view.getUint32(at + 4);
    const last = r + 1 < runs ? view.getUint32(at + 12) - 1 : chunks;
    if (first < 0 || last > chunks || last < first || perChunk === 0) return undefined;
    for (let c = first; c < last && sample < samples; c++) {
      let offset = chunkOffset(c);
      for (let k = 0; k < perChunk && sample < samples; k++, sample++) {
        const size = sizeOf(sample);
        time[sample] = ((dts[sample] ?? 0) + edit.shift) / timescale;
        start[sample] = offset;
        end[sample] = offset + size;
        offset += size;
      }
    }
  }
  return sample === samples ? { time, start, end } : undefined;
}

/** trackExtents of the audio and video tracks; undefined if any is unreadable. */
function sampleExtents(view: DataView, moov: Box, movieTimescale: number) {
  const extents: { time: Float64Array; start: Float64Array; end: Float64Array }[] = [];
  for (const track of tracksOf(view, moov)) {
    if (track.handler !== VIDE && track.handler !== SOUN) continue;
    const e = trackExtents(view, track, movieTimescale);
    if (!e) return undefined;
    extents.push(e);
  }
  return extents.length > 0 ? extents : undefined;
}

/** The byteEnds table (see Mp4KeyframeIndex), or undefined when the moov is not first. */
function byteEndsOf(
  view: DataView,
  moov: Box,
  movieTimescale: number,
  moovEnd: number,
): number[] | undefined {
  const extents = sampleExtents(view, moov, movieTimescale);
  if (!extents) return undefined;
  let seconds = 0;
  for (const e of extents) {
    for (let i = 0; i < e.time.length; i++) {
      if ((e.start[i] ?? 0) < moovEnd) return undefined; // media before (or in) the moov
      seconds = Math.max(seconds, e.time[i] ?? 0);
    }
  }
  if (seconds > 24 * 3600) return undefined;
  const ends = new Array<number>(Math.ceil(seconds) + 2).fill(0);
  for (const e of extents) {
    for (let i = 0; i < e.time.length; i++) {
      const slot = Math.max(0, Math.floor(e.time[i] ?? 0) + 1);
      ends[slot] = Math.max(ends[slot] ?? 0, e.end[i] ?? 0);
    }
  }
  for (let i = 1; i < ends.length; i++) ends[i] = Math.max(ends[i] ?? 0, ends[i - 1] ?? 0);
  return ends;
}

/**
 * Parses a `moov` box (the whole box, header included) found at `offset` in the file (for
 * byteEnds: only a moov that ends before the media gives them).
 */
export function parseMoov(
  bytes: Uint8Array,
  offset?: number,
  fileSize?: number,
): Mp4KeyframeIndex | undefined {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const moov = boxAt(view, 0, bytes.byteLength);
    if (moov?.type !== 'moov') return undefined;
    if (find(view, moov, 'mvex')) return undefined; // fragmented MP4
    const mvhd = find(view, moov, 'mvhd');
    if (!mvhd) return undefined;
    const movieTimescale = timescaleOf(view, mvhd);
    if (!movieTimescale) return undefined;
    const index = videoTrack(view, moov, movieTimescale, fileSize);
    if (!index || offset === undefined) return index;
    const byteEnds = byteEndsOf(view, moov, movieTimescale, offset + bytes.byteLength);
    return byteEnds ? { ...index, byteEnds } : index;
  } catch {
    return undefined; // out-of-bounds read: a malformed box
  }
}
