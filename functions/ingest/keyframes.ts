/**
 * Finds an MP4/MOV upload's `moov` box with a few small ranged reads (it is at the start of
 * a "fast start" file, after the media otherwise) and reads the video keyframes from it.
 * Malformed boxes give `undefined` (the plan is made without keyframes); a failed read is
 * thrown, so ingest is retried and a duplicate ingest plans the same way.
 */
import { boxAt, type Mp4KeyframeIndex, parseMoov } from '../core/mp4-index.js';
import type { ObjectStore } from '../core/ports.js';

/** A moov this large would be hours of 240 fps video: more than the planner needs to read. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** Top-level boxes looked at before giving up (ftyp, free, wide, mdat, moov, uuid, …). */
const MAX_BOXES = 16;
/** One read covers the header and, in a fast-start file, usually the whole moov. */
const FIRST_READ = 256 * 1024;

type RangeReader = Pick<ObjectStore, 'getRange'>;

/** The upload could not be read: worth a retry, unlike a malformed file. */
class ReadError extends Error {}

async function read(
  store: RangeReader,
  bucket: string,
  key: string,
  from: number,
  to: number,
): Promise<Uint8Array> {
  try {
    const part = await store.getRange(bucket, key, `bytes=${from}-${to - 1}`);
    if (!part) throw new Error('the upload disappeared');
    const chunks: Buffer[] = [];
    for await (const chunk of part.body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (err) {
    throw new ReadError(`reading the upload's MP4 index: ${(err as Error).message}`);
  }
}

export async function readMp4Keyframes(
  store: RangeReader,
  bucket: string,
  key: string,
  size: number,
): Promise<Mp4KeyframeIndex | undefined> {
  try {
    let at = 0;
    let buffered = await read(store, bucket, key, 0, Math.min(size, FIRST_READ));
    let bufferedAt = 0;
    for (let i = 0; i < MAX_BOXES && at + 8 <= size; i++) {
      // The box header (16 bytes at most) must be in the buffer; fetch it if it is not.
      if (at + 16 > bufferedAt + buffered.length && at + 16 <= size) {
        buffered = await read(store, bucket, key, at, Math.min(size, at + 16));
        bufferedAt = at;
      }
      const local = at - bufferedAt;
      const view = new DataView(buffered.buffer, buffered.byteOffset, buffered.byteLength);
      // Bounded by the file's size, not the buffer's: the box itself may not be fetched yet.
      const header = boxAt(view, local, local + (size - at));
      if (!header) return undefined;
      const boxSize = header.end - local;
      if (header.type === 'moov') {
        if (boxSize > MAX_MOOV_BYTES) return undefined;
        const moov =
          local + boxSize <= buffered.length
            ? buffered.subarray(local, local + boxSize)
            : await read(store, bucket, key, at, at + boxSize);
        return parseMoov(moov, at, size);
      }
      at += boxSize;
    }
    return undefined;
  } catch (err) {
    if (err instanceof ReadError) throw err;
    return undefined; // a box that claims more bytes than there are
  }
}
