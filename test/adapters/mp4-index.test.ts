/**
 * The MP4 keyframe index (core/mp4-index.ts, ingest/keyframes.ts) against ffprobe, on files
 * the real ffmpeg writes: with and without B-frames, moov first or last, MOV, an edit list
 * that starts mid-GOP, fragmented MP4, and bytes mangled on purpose.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfprobeProber } from '../../functions/adapters/ffmpeg.js';
import { normalizeProbe, withKeyframes } from '../../functions/core/media.js';
import { boxAt, parseMoov } from '../../functions/core/mp4-index.js';
import { makePlan } from '../../functions/core/plan.js';
import { readMp4Keyframes } from '../../functions/ingest/keyframes.js';
import {
  FFMPEG,
  FFPROBE,
  fileRanges,
  keyframeTimes,
  mediaInfoOf,
  videoEntries,
} from '../support/media.js';

const run = promisify(execFile);
const prober = new FfprobeProber({ ffmpegPath: FFMPEG, ffprobePath: FFPROBE });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-mp4-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** x264 with B-frames, the index (moov) before the media. */
const FASTSTART = ['-c:v', 'libx264', '-preset', 'veryfast', '-movflags', '+faststart'];

async function encode(name: string, args: string[]): Promise<string> {
  const file = join(dir, name);
  await run(FFMPEG, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=30:duration=12',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000:duration=12',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    ...args,
    file,
  ]);
  return file;
}

async function indexOf(file: string) {
  const store = fileRanges(file);
  const index = await readMp4Keyframes(store, 'b', 'k', (await stat(file)).size);
  return { index, reads: store.ranges.length };
}

describe('the MP4 keyframe index', () => {
  it.each([
    [
      'B-frames, an edit list, moov first',
      'bframes.mp4',
      ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '75', '-movflags', '+faststart'],
    ],
    [
      'no B-frames, moov last',
      'plain.mp4',
      ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '48'],
    ],
    [
      'a QuickTime MOV with scene-cut keyframes',
      'clip.mov',
      ['-c:v', 'libx264', '-preset', 'veryfast', '-keyint_min', '10', '-sc_threshold', '80'],
    ],
  ])('reads the keyframes ffprobe finds: %s', async (_what, name, args) => {
    const file = await encode(name, args);
    const { index, reads } = await indexOf(file);
    const expected = await keyframeTimes(file);
    expect(expected.length).toBeGreaterThan(1);
    expect(index?.keyframes.length).toBe(expected.length);
    for (const [i, k] of (index?.keyframes ?? []).entries()) {
      expect(k).toBeCloseTo(expected[i] ?? Number.NaN, 5);
    }
    // A few small reads, not the file: the header, the boxes' headers, the moov.
    expect(reads).toBeLessThanOrEqual(4);
    const info = withKeyframes(normalizeProbe(await prober.probe(file)), index);
    expect(info.video?.keyframes).toHaveLength(expected.length);
    expect(index?.frames).toBe(360); // 12 s at 30 fps
  });

  it('keeps the keyframe an edit list hides: decoding the first frames starts there', async () => {
    const source = await encode('long-gop.mp4', [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      '120',
    ]);
    const cut = join(dir, 'cut.mp4');
    // A stream copy from 1.5 s keeps the samples from the keyframe at 0, and an edit list
    // hides the first 1.5 s of them.
    await run(FFMPEG, ['-v', 'error', '-y', '-ss', '1.5', '-i', source, '-c', 'copy', cut]);
    const info = withKeyframes(normalizeProbe(await prober.probe(cut)), (await indexOf(cut)).index);
    // ffprobe flags the hidden samples D (discard); the shown keyframes are K without it.
    const shown = (await videoEntries(cut, 'packet=pts_time,flags'))
      .filter((l) => /,K_*$/.test(l))
      .map((l) => Number(l.split(',')[0]));
    expect(shown).toEqual([2.5, 6.5]);
    expect(info.video?.keyframes).toEqual([-1.5, ...shown]);
  });

  it('counts the frames an empty edit delays, where the duration includes the delay', async () => {
    const video = await encode('v-only.mp4', ['-an', '-c:v', 'libx264', '-preset', 'veryfast']);
    const delayed = join(dir, 'delayed.mp4');
    // Video 0.5 s after the audio: the muxer writes an empty edit before the video's media.
    await run(FFMPEG, [
      '-v',
      'error',
      '-y',
      '-itsoffset',
      '0.5',
      '-i',
      video,
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000:duration=12.5',
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      delayed,
    ]);
    const info = await mediaInfoOf(delayed);
    expect(info.video?.startOffset).toBeCloseTo(0.5, 3);
    // The video's own length: ffprobe 7 leaves the empty edit out (its start is startOffset).
    expect(info.duration).toBeCloseTo(12, 1);
    expect(info.video?.frames).toBe(360);
    expect(info.video?.keyframes?.[0]).toBeCloseTo(0.5, 3);
    const plan = makePlan('d'.repeat(20), info, {
      segmentSeconds: 6,
      chunkSegments: 1,
      x264Preset: 'veryfast',
    });
    expect(plan.estimatedFrames).toBe(360);
    expect(plan.chunks.every((c) => c.startFrame < 360)).toBe(true);
  });

  it('counts only the frames whose data is in a cut-short upload, and where they end', async () => {
    const whole = await encode('whole.mp4', FASTSTART);
    const bytes = await readFile(whole);
    const cut = join(dir, 'cut-short.mp4');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    // What a player decodes of the cut file: the frames present.
    const decoded = (await videoEntries(cut, 'frame=pts_time')).filter((l) => l.trim());

    const info = await mediaInfoOf(cut);

    expect(info.video?.frames).toBeLessThan(360);
    expect(Math.abs((info.video?.frames ?? 0) - decoded.length)).toBeLessThanOrEqual(2);
    // Up to the last frame present in presentation order (B-frames before it may be lost).
    expect(Math.abs(info.duration - (info.video?.frames ?? 0) / 30)).toBeLessThanOrEqual(3 / 30);
    // The whole file's index is untouched.
    expect((await indexOf(whole)).index?.end).toBeUndefined();
  });

  it('throws when the upload cannot be read, so ingest retries instead of planning otherwise', async () => {
    const failing = {
      getRange: async () => {
        throw new Error('SlowDown: please reduce your request rate');
      },
    };
    await expect(readMp4Keyframes(failing, 'b', 'k', 1000)).rejects.toThrow(/SlowDown/);
  });

  it('says where the data of each second ends, when the moov comes first', async () => {
    const file = await encode('bounds.mp4', FASTSTART);
    const { index } = await indexOf(file);
    const ends = index?.byteEnds ?? [];
    expect(ends.length).toBe(14); // 12 s, one slot per second, plus one past the end
    const { size } = await stat(file);
    expect(ends.at(-1)).toBeLessThanOrEqual(size);
    for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThanOrEqual(ends[i - 1] ?? 0);
    // Every packet, audio or video, decoded before second i ends at or before ends[i].
    const { stdout } = await run(FFPROBE, [
      '-v',
      'error',
      '-show_entries',
      'packet=dts_time,pos,size',
      '-of',
      'csv=p=0',
      file,
    ]);
    const packets = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(',').map(Number))
      .filter((p) => p.every((x) => Number.isFinite(x)));
    expect(packets.length).toBeGreaterThan(700);
    for (const [dts = 0, size = 0, pos = 0] of packets) {
      const slot = Math.max(0, Math.floor(dts) + 1);
      expect(pos + size).toBeLessThanOrEqual(ends[Math.min(slot, ends.length - 1)] ?? 0);
    }
    // A moov after the media: a reader that stopped early would not have the index.
    const last = await encode('moov-last.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast']);
    expect((await indexOf(last)).index?.byteEnds).toBeUndefined();
  });

  it('gives nothing for a fragmented MP4, whose samples are not in the moov', async () => {
    const file = await encode('frag.mp4', [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-movflags',
      'frag_keyframe+empty_moov',
    ]);
    expect((await indexOf(file)).index).toBeUndefined();
  });

  it('never throws on mangled bytes, and refuses a moov that claims to be huge', async () => {
    const file = await encode('fuzz.mp4', FASTSTART);
    const bytes = await readFile(file);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ftyp = boxAt(view, 0, bytes.length);
    const moov = boxAt(view, ftyp?.end ?? 0, bytes.length);
    expect(moov?.type).toBe('moov');
    const box = bytes.subarray(ftyp?.end ?? 0, moov?.end ?? 0);
    expect(parseMoov(box)?.keyframes.length).toBeGreaterThan(0);

    // Deterministic "random" damage: flip bytes all over the moov, 500 times.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 500; i++) {
      const damaged = Buffer.from(box);
      for (let j = 0; j < 8; j++) damaged[next() % damaged.length] = next() % 256;
      const result = parseMoov(damaged);
      if (result) expect(result.keyframes.every((k) => Number.isFinite(k))).toBe(true);
    }
    expect(parseMoov(Buffer.from('not an mp4 at all'))).toBeUndefined();

    // A moov header that says 1 TB: not read, not allocated.
    const huge = Buffer.alloc(64);
    huge.write('ftyp', 4);
    huge.writeUInt32BE(16, 0);
    huge.writeUInt32BE(1, 16);
    huge.write('moov', 20);
    huge.writeBigUInt64BE(2n ** 40n, 24);
    const hugeFile = join(dir, 'huge.mp4');
    await writeFile(hugeFile, huge);
    expect((await indexOf(hugeFile)).index).toBeUndefined();
  });
});
