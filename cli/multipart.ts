/**
 * A source above the API's multipart threshold, sent in parts (functions/upload/multipart.ts
 * is the API's side): part URLs a batch at a time, each part streamed from its range of the
 * file, a couple at once, a failed part sent again with a fresh URL, then the completion.
 * Parts the API already has (GET /videos/{id}/parts) are skipped, so a run cut short can be
 * resumed by another one.
 */
import { partRange } from '../functions/core/multipart.js';
import type { VideoView } from '../functions/core/state.js';
import type { PresignedPart } from '../functions/upload/multipart.js';
import { ApiError, putFile, type SpoolClient } from './client.js';

export interface PartOptions {
  /** Parts in flight at once. */
  concurrency?: number;
  /** Part URLs asked for per request. Small, so URLs (15 minutes at most) are fresh when used. */
  batch?: number;
  /** Tries of one part, each with a fresh URL, before the upload gives up. */
  attempts?: number;
  /** Wait before the second try; doubled for each one after. */
  retryDelayMs?: number;
  /** Told, before any part is sent, how many of the parts the API already has. */
  onResume?: (have: number, partCount: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends what is missing of video `id`'s multipart upload from `file` and completes it.
 * `onBytes` sees the bytes of the file that the API holds or is being sent, of `size` in all.
 */
export async function uploadInParts(
  client: SpoolClient,
  id: string,
  file: string,
  size: number,
  onBytes: (bytes: number) => void,
  options: PartOptions = {},
): Promise<VideoView> {
  const { concurrency = 2, batch = 10, attempts = 4, retryDelayMs = 1000 } = options;
  const listed = await client.listParts(id);
  if (listed.completed) {
    onBytes(size);
    return client.completeUpload(id);
  }
  const plan = { size, partSize: listed.partSize, partCount: listed.partCount };
  if (Math.ceil(size / plan.partSize) !== plan.partCount) {
    throw new ApiError(
      409,
      'UPLOAD_MISMATCH',
      `the upload of ${id} is planned for ${plan.partCount} parts of ${plan.partSize} bytes, which a file of ${size} bytes does not make`,
    );
  }
  // A part counts as there only with its planned length; any other is sent again.
  const have = new Set(
    listed.parts
      .filter((p) => p.partNumber <= plan.partCount)
      .filter((p) => p.size === partRange(plan, p.partNumber).size)
      .map((p) => p.partNumber),
  );
  options.onResume?.(have.size, plan.partCount);
  let done = [...have].reduce((sum, n) => sum + partRange(plan, n).size, 0);
  const inFlight = new Map<number, number>();
  const report = () => onBytes(done + [...inFlight.values()].reduce((a, b) => a + b, 0));
  report();

  const sendPart = async (first: PresignedPart) => {
    let part = first;
    for (let attempt = 1; ; attempt++) {
      try {
        await putFile(
          part,
          file,
          part.size,
          (sent) => {
            inFlight.set(part.partNumber, sent);
            report();
          },
          part.offset,
        );
        inFlight.delete(part.partNumber);
        done += part.size;
        report();
        return;
      } catch (err) {
        inFlight.delete(part.partNumber);
        report();
        if (attempt >= attempts) throw err;
        await sleep(retryDelayMs * 2 ** (attempt - 1));
        // A fresh URL: the one before may have expired while the part was failing.
        const [fresh] = (await client.presignParts(id, [part.partNumber])).parts;
        if (!fresh) throw err;
        part = fresh;
      }
    }
  };

  const missing = Array.from({ length: plan.partCount }, (_, i) => i + 1).filter(
    (n) => !have.has(n),
  );
  for (let i = 0; i < missing.length; i += batch) {
    const { parts } = await client.presignParts(id, missing.slice(i, i + batch));
    const queue = [...parts];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let part = queue.shift(); part; part = queue.shift()) await sendPart(part);
      }),
    );
  }
  return client.completeUpload(id);
}
