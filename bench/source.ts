/** The bench's input: a generated 1080p30 H.264/AAC source, cached under `.bench/sources`. */
import { spawn } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Run a binary to completion; reject with the tail of its stderr if it fails. */
export function runBinary(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${bin} exited ${code}:\n${err}`)),
    );
  });
}

/**
 * `testsrc2` (moving pattern, counters) at 1920x1080, 30 fps, with a 440 Hz stereo tone.
 * x264 veryfast with its default GOP (250 frames), as a camera or an editor would write it:
 * a chunk that starts mid-GOP has to decode from the previous keyframe, as with real uploads.
 */
export async function ensureSource(opts: {
  ffmpeg: string;
  dir: string;
  seconds: number;
  /** Temporal noise, as camera grain: the upper rungs then hit their caps. */
  noisy?: boolean;
}): Promise<string> {
  const name = `${opts.noisy ? 'noisy-' : ''}testsrc2-1080p30-${opts.seconds}s.mp4`;
  const file = join(opts.dir, name);
  if (await exists(file)) return file;
  await mkdir(opts.dir, { recursive: true });
  const partial = `${file}.partial.mp4`;
  process.stderr.write(
    `generating a ${opts.seconds} s ${opts.noisy ? 'noisy ' : ''}1080p source: ${file}\n`,
  );
  await runBinary(opts.ffmpeg, [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1920x1080:rate=30:duration=${opts.seconds}${opts.noisy ? ',noise=alls=12:allf=t+u' : ''}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${opts.seconds}`,
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    partial,
  ]);
  await rename(partial, file);
  return file;
}
