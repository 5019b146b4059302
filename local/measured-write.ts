/** The stand-in's way of writing a body: to a temporary name, counting its bytes and MD5. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Stream `source` into `partial`, returning its length and MD5 (hex). A body cut off midway
 * leaves no `partial` behind; the caller renames it into place only once it is whole.
 */
export async function writeMeasured(
  source: NodeJS.ReadableStream,
  partial: string,
): Promise<{ size: number; md5: string }> {
  const md5 = createHash('md5');
  let size = 0;
  try {
    await pipeline(
      source,
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      }),
      createWriteStream(partial),
    );
  } catch (err) {
    await unlink(partial).catch(() => undefined);
    throw err;
  }
  return { size, md5: md5.digest('hex') };
}
