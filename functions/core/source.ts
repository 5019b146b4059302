/** Trusting what ffmpeg made from a source only when every read of it succeeded. */
import { SpoolError, TransientError } from './errors.js';
import type { OpenSource } from './ports.js';

/**
 * Waits for `work` (ffmpeg reading `source`). If a read from storage failed meanwhile, that
 * failure wins over whatever `work` gave: ffmpeg took the short read for the end of the file,
 * so a "success" is a silently truncated output and an error is not the media's fault.
 */
export async function fromSource<T>(source: OpenSource, work: Promise<T>): Promise<T> {
  const settled = await work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const failure = source.failure();
  if (failure instanceof SpoolError) throw failure;
  if (failure)
    throw new TransientError(`reading the upload from storage failed: ${failure.message}`);
  if ('error' in settled) throw settled.error;
  return settled.value;
}
