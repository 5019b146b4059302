/**
 * Audio encoded in the chunk jobs joins sample-exactly: the chunks' audio segments, played
 * one after another through one decoder (as a player does), sound like one whole-file encode
 * at the same settings. No click at a join, no gap, no drift.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegTranscoder } from '../../functions/adapters/ffmpeg.js';
import { audioCut } from '../../functions/core/audio.js';
import { makePlan, type Plan } from '../../functions/core/plan.js';
import { FFMPEG, FFPROBE, mediaInfoOf } from '../support/media.js';

const run = promisify(execFile);
const transcoder = new FfmpegTranscoder({ ffmpegPath: FFMPEG, ffprobePath: FFPROBE });
let dir: string;
let source: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-audio-joins-'));
  source = join(dir, 'source.mp4');
  // A tone under noise: every sample differs from the last, so a click, a gap or a shift
  // of one sample shows. x264's default GOP (250 frames) puts keyframes off the chunk grid.
  await run(FFMPEG, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=20'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=20'],
    ...['-f', 'lavfi', '-i', 'anoisesrc=color=pink:sample_rate=44100:amplitude=0.1:duration=20'],
    ...['-filter_complex', '[1][2]amix=inputs=2,aformat=channel_layouts=stereo[a]'],
    ...['-map', '0:v', '-map', '[a]', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-c:a', 'aac', '-b:a', '192k', '-movflags', '+faststart', source],
  ]);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every chunk of `plan` encoded; the audio segments joined in order, decoded by one decoder. */
async function decodedAudio(plan: Plan, name: string): Promise<Float32Array> {
  const parts: Buffer[] = [];
  for (const chunk of plan.chunks) {
    const out = await transcoder.encodeVideoChunk({
      input: source,
      plan,
      chunk: chunk.index,
      workDir: join(dir, `${name}-${chunk.index}`),
    });
    for (const s of out.audio?.segments ?? []) {
      parts.push(await readFile(join(out.audio?.dir ?? '', s.file)));
    }
  }
  const ts = join(dir, `${name}.ts`);
  const pcm = join(dir, `${name}.f32`);
  await writeFile(ts, Buffer.concat(parts));
  await run(FFMPEG, ['-v', 'error', '-y', '-i', ts, '-ac', '1', '-f', 'f32le', pcm]);
  const bytes = await readFile(pcm);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

const maxDiff = (a: Float32Array, b: Float32Array, from: number, to: number): number => {
  let max = 0;
  for (let i = Math.max(0, from); i < Math.min(to, a.length, b.length); i++) {
    max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  }
  return max;
};

describe('audio encoded by the chunk jobs', () => {
  it('decodes like one whole-file encode: same length, and no click at any join', async () => {
    const info = await mediaInfoOf(source);
    const options = { segmentSeconds: 6, chunkSegments: 1, x264Preset: 'ultrafast' };
    const chunked = makePlan('a'.repeat(20), info, options);
    expect(chunked.chunks.length).toBeGreaterThanOrEqual(3);
    const first = chunked.chunks[0];
    if (!first) throw new Error('no chunks');
    const whole: Plan = { ...chunked, chunks: [{ ...first, frames: null }] };

    const [a, b] = [await decodedAudio(chunked, 'chunked'), await decodedAudio(whole, 'whole')];
    // The same number of samples: nothing lost or doubled at a join, so no drift after it.
    expect(a.length).toBe(b.length);

    // Codec noise between two encodes of the same sound, away from any join…
    const joins = chunked.chunks.slice(1).map((c) => audioCut(chunked, c.startFrame) + 1024);
    const window = 2048;
    const far: number[] = [];
    for (let at = window; at + window < a.length; at += 4 * window) {
      if (joins.every((j) => Math.abs(j - at) > 4 * window))
        far.push(maxDiff(a, b, at - window, at + window));
    }
    far.sort((x, y) => x - y);
    const typical = far[Math.floor(far.length * 0.9)] ?? 0;
    expect(typical).toBeGreaterThan(0);
    // …and at each join (the decoded stream starts with the encoder's 1024 priming samples),
    // no more than that: a click, a gap or a shifted sample would be many times it.
    for (const j of joins) {
      const atJoin = maxDiff(a, b, j - window, j + window);
      expect(atJoin, `join at sample ${j}: ${atJoin} against ${typical} elsewhere`).toBeLessThan(
        1.5 * typical,
      );
    }
  }, 240_000);
});
