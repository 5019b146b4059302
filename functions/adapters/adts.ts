/** ADTS, the framing ffmpeg's AAC encoder writes raw: a 7- or 9-byte header per frame. */

/** The frames of an ADTS stream, in order; stops at the first byte that is not a frame. */
export function adtsFrames(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (at + 7 <= bytes.length) {
    if (bytes[at] !== 0xff || ((bytes[at + 1] ?? 0) & 0xf6) !== 0xf0) break;
    const length =
      (((bytes[at + 3] ?? 0) & 0x03) << 11) |
      ((bytes[at + 4] ?? 0) << 3) |
      ((bytes[at + 5] ?? 0) >> 5);
    if (length < 7 || at + length > bytes.length) break;
    frames.push(bytes.subarray(at, at + length));
    at += length;
  }
  return frames;
}
