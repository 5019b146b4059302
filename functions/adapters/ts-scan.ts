/**
 * Finds the IDR frames of an MPEG-TS segment by reading its packet headers: the PES packets
 * that start on a transport packet flagged random-access (ffmpeg's muxer flags keyframes so).
 * In-process and linear in the file's size, where ffprobe would cost a process per segment.
 * The same walk reads the codec string (profile and level) from the stream's SPS.
 */
import type { Keyframe } from '../core/records.js';

const PACKET = 188;
const SYNC = 0x47;

interface PesStart {
  offset: number;
  pts: number;
  key: boolean;
}

/** Video PES starts in file order, with their PTS (90 kHz) and random-access flag. */
function videoPesStarts(ts: Uint8Array): PesStart[] {
  const starts: PesStart[] = [];
  for (let at = 0; at + PACKET <= ts.length; at += PACKET) {
    if (ts[at] !== SYNC) throw new Error(`not a transport stream: no sync byte at ${at}`);
    const b1 = ts[at + 1] ?? 0;
    if (!(b1 & 0x40)) continue; // not the start of a payload unit
    const control = ((ts[at + 3] ?? 0) >> 4) & 0x3;
    let payload = at + 4;
    let randomAccess = false;
    if (control & 0x2) {
      const length = ts[at + 4] ?? 0;
      if (length > 0) randomAccess = ((ts[at + 5] ?? 0) & 0x40) !== 0;
      payload += 1 + length;
    }
    if (!(control & 0x1)) continue;
    // A PES header: 00 00 01, then a video stream id (0xE0–0xEF).
    if (ts[payload] !== 0 || ts[payload + 1] !== 0 || ts[payload + 2] !== 1) continue;
    const streamId = ts[payload + 3] ?? 0;
    if ((streamId & 0xf0) !== 0xe0) continue;
    if (((ts[payload + 7] ?? 0) & 0x80) === 0) continue; // no PTS
    const p = payload + 9;
    const pts =
      (((ts[p] ?? 0) >> 1) & 0x07) * 2 ** 30 +
      (ts[p + 1] ?? 0) * 2 ** 22 +
      (((ts[p + 2] ?? 0) >> 1) & 0x7f) * 2 ** 15 +
      (ts[p + 3] ?? 0) * 2 ** 7 +
      (((ts[p + 4] ?? 0) >> 1) & 0x7f);
    starts.push({ offset: at, pts, key: randomAccess });
  }
  return starts;
}

/**
 * IDR frames of a segment: time from the segment's first presentation time, and the byte
 * range from the frame's first transport packet to the next video frame's (RFC 8216 §4.3.3.6).
 * `frames` counts the video frames (ffmpeg's muxer puts each in a PES packet of its own).
 */
export function scanKeyframes(ts: Uint8Array): {
  keyframes: Keyframe[];
  firstTime: number;
  frames: number;
} {
  const starts = videoPesStarts(ts);
  if (starts.length === 0) return { keyframes: [], firstTime: 0, frames: 0 };
  const first = Math.min(...starts.map((s) => s.pts));
  const keyframes = starts.flatMap((s, i) => {
    if (!s.key) return [];
    const end = starts[i + 1]?.offset ?? ts.length - (ts.length % PACKET);
    return [
      {
        time: Math.round(((s.pts - first) / 90_000) * 1e6) / 1e6,
        offset: s.offset,
        length: end - s.offset,
      },
    ];
  });
  return { keyframes, firstTime: first / 90_000, frames: starts.length };
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * RFC 6381 `avc1.PPCCLL` of the first H.264 sequence parameter set in a segment: profile_idc,
 * the constraint flags and level_idc, the three bytes after the SPS NAL header, exactly as
 * the encoder wrote them. Undefined when the segment has no SPS (not H.264, or not a keyframe).
 */
export function avcCodecString(ts: Uint8Array): string | undefined {
  // Gather the payload of the first video PES packet: it opens with the IDR's access unit,
  // whose parameter sets come before the first slice.
  let pid: number | undefined;
  const bytes: number[] = [];
  for (let at = 0; at + PACKET <= ts.length && bytes.length < 4096; at += PACKET) {
    if (ts[at] !== SYNC) throw new Error(`not a transport stream: no sync byte at ${at}`);
    const b1 = ts[at + 1] ?? 0;
    const packetPid = ((b1 & 0x1f) << 8) | (ts[at + 2] ?? 0);
    const start = (b1 & 0x40) !== 0;
    const control = ((ts[at + 3] ?? 0) >> 4) & 0x3;
    if (!(control & 0x1)) continue;
    let payload = at + 4 + (control & 0x2 ? 1 + (ts[at + 4] ?? 0) : 0);
    if (pid === undefined) {
      if (!start || ts[payload] !== 0 || ts[payload + 1] !== 0 || ts[payload + 2] !== 1) continue;
      if (((ts[payload + 3] ?? 0) & 0xf0) !== 0xe0) continue;
      pid = packetPid;
      payload += 9 + (ts[payload + 8] ?? 0); // past the PES header
    } else if (packetPid !== pid) {
      continue;
    } else if (start) {
      break; // the next PES: the first one had no SPS
    }
    for (let i = payload; i < at + PACKET; i++) bytes.push(ts[i] ?? 0);
  }
  for (let i = 0; i + 6 < bytes.length; i++) {
    if (bytes[i] !== 0 || bytes[i + 1] !== 0 || bytes[i + 2] !== 1) continue;
    if (((bytes[i + 3] ?? 0) & 0x1f) !== 7) continue;
    return `avc1.${hex2(bytes[i + 4] ?? 0)}${hex2(bytes[i + 5] ?? 0)}${hex2(bytes[i + 6] ?? 0)}`;
  }
  return undefined;
}
