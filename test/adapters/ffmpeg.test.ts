/**
 * The ffmpeg adapter with the real binaries on generated media: sources that are awkward in
 * ways real uploads are (variable frame rate, high frame rate, rotation), cut into chunks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodesPerHostFromEnv,
  FfmpegTranscoder,
  FfprobeProber,
  safeReason,
} from '../../functions/adapters/ffmpeg.js';
import { avcCodecString, scanKeyframes } from '../../functions/adapters/ts-scan.js';
import { MediaError } from '../../functions/core/errors.js';
import { normalizeProbe, rationalValue } from '../../functions/core/media.js';
import { makePlan, type Plan } from '../../functions/core/plan.js';
import { encoderThreads, inputGuards } from '../../functions/core/recipe.js';
import {
  codeMismatches,
  FFMPEG,
  FFPROBE,
  frameCodes,
  frameTimes,
  makeSource,
  mediaInfoOf,
  SHARED_MEDIA,
  sharedMedia,
} from '../support/media.js';

const run = promisify(execFile);
const paths = { ffmpegPath: FFMPEG, ffprobePath: FFPROBE };
const prober = new FfprobeProber(paths);
const transcoder = new FfmpegTranscoder(paths);
let dir: string;

/** Non-IDR I frames, B frames and an edit list, at 1 fps (../shared/media's README). */
const ONE_FPS_CLIP = 'h264_444_iibbibb_editlist_1fps.mp4';
const oneFps = sharedMedia(ONE_FPS_CLIP);
if (!oneFps)
  console.warn(`skipping the ${ONE_FPS_CLIP} test: ${SHARED_MEDIA} is not beside this checkout`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-ffmpeg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function generate(name: string, filter: string, extra: string[] = []): Promise<string> {
  const file = join(dir, name);
  await run(FFMPEG, ['-v', 'error', '-y', '-f', 'lavfi', '-i', filter, ...extra, file]);
  return file;
}

async function planFor(file: string): Promise<Plan> {
  const info = normalizeProbe(await prober.probe(file));
  return makePlan('a'.repeat(20), info, {
    segmentSeconds: 6,
    chunkSegments: 1,
    x264Preset: 'ultrafast',
  });
}

/** Encode every chunk, join each rendition's segments in order, as publish does. */
async function encodeAll(file: string, plan: Plan): Promise<Record<string, string>> {
  const joined: Record<string, Buffer[]> = {};
  for (const chunk of plan.chunks) {
    const workDir = join(dir, `${file.split('/').pop()}-${chunk.index}`);
    const out = await transcoder.encodeVideoChunk({
      input: file,
      plan,
      chunk: chunk.index,
      workDir,
    });
    for (const [name, r] of Object.entries(out.renditions)) {
      const parts = joined[name] ?? [];
      joined[name] = parts;
      for (const s of r.segments) parts.push(await readFile(join(r.dir, s.file)));
    }
  }
  const files: Record<string, string> = {};
  for (const [name, parts] of Object.entries(joined)) {
    files[name] = join(dir, `${file.split('/').pop()}-${name}.ts`);
    await writeFile(files[name], Buffer.concat(parts));
  }
  return files;
}

/** 20 s of 640x360 at 30 fps with the given keyframes: big enough that the top rung's
 * bitrate keeps the frame-code band sharp. */
const keyedSource = (name: string, keyframes: string[]) =>
  makeSource(dir, name, {
    width: 640,
    height: 360,
    rate: '30',
    seconds: 20,
    x264: ['-preset', 'veryfast', ...keyframes],
  });

describe('FfmpegTranscoder', () => {
  it('turns a variable-frame-rate source into a constant-rate ladder of the same duration', async () => {
    // Every fifth frame dropped with -fps_mode vfr: timestamps jump, 24 fps on average.
    const file = await generate('vfr.mp4', 'testsrc2=size=320x240:rate=30:duration=13', [
      '-vf',
      "select='not(eq(mod(n,5),4))'",
      '-fps_mode',
      'vfr',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]);
    const plan = await planFor(file);
    expect(rationalValue(plan.output.frameRate)).toBe(24);
    expect(plan.chunks.length).toBe(3);
    const out = await encodeAll(file, plan);
    const fps = rationalValue(plan.output.frameRate);
    for (const joined of Object.values(out)) {
      const times = await frameTimes(joined);
      expect(Math.abs(times.length / fps - 13)).toBeLessThanOrEqual(2 / fps);
      const steps = times.slice(1).map((t, n) => t - (times[n] ?? 0));
      expect(steps.filter((d) => Math.abs(d - 1 / fps) > 1.5e-3)).toEqual([]);
    }
  });

  it("plans a WebM webcam clip at its real rate, not its container's, for the same duration", async () => {
    // Matroska states 30 fps for video that really carries 24 (every fifth frame dropped).
    const file = await generate('vfr.webm', 'testsrc2=size=320x240:rate=30:duration=8', [
      '-vf',
      "select='not(eq(mod(n,5),4))'",
      '-fps_mode',
      'vfr',
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
    ]);
    const plan = await planFor(file);
    expect(rationalValue(plan.output.frameRate)).toBe(24);
    const out = await encodeAll(file, plan);
    const times = await frameTimes(Object.values(out)[0] ?? '');
    expect(Math.abs(times.length / 24 - 8)).toBeLessThanOrEqual(1 / 24 + 1e-6);
  });

  it.each([
    ['exactly on the chunk boundaries', 90],
    ['two seconds before each boundary', 120],
  ])(
    'seeks to a known keyframe %s and keeps every frame, in order (B-frames)',
    async (_what, every) => {
      const file = await keyedSource(`keyed-${every}`, [
        '-g',
        '250',
        '-force_key_frames',
        `expr:eq(mod(n,${every}),0)`,
      ]);
      const info = await mediaInfoOf(file);
      expect(info.video?.keyframes?.length).toBeGreaterThan(3);
      const plan = makePlan('k'.repeat(20), info, {
        segmentSeconds: 6,
        chunkSegments: 1,
        x264Preset: 'ultrafast',
      });
      for (const c of plan.chunks.slice(1)) {
        // Aimed past the keyframe at or before the chunk's first frame by ffmpeg's back-off.
        const first = c.startFrame / 30;
        const keyframe = Math.floor(first / (every / 30)) * (every / 30);
        expect(c.seekSeconds).toBeCloseTo(keyframe + 3 / 23 + 0.25 / 30, 5);
      }
      const out = await encodeAll(file, plan);
      const top = out[plan.renditions[0]?.name ?? ''] ?? '';
      const source = await frameCodes(file);
      const codes = await frameCodes(top);
      expect(codes.length).toBe(source.length);
      expect(codeMismatches(codes, source)).toEqual([]);
    },
  );

  it('ends a chunk off the segment grid: a short last segment of whole GOPs', async () => {
    // Keyframes only at 0 and at frame 335 (11.17 s). Two even chunks on two workers meet at
    // the first GOP boundary after it (12 s): the second decodes 25 frames before its first.
    const file = await keyedSource('odd-join', [
      '-g',
      '1000',
      '-sc_threshold',
      '0',
      '-force_key_frames',
      'expr:eq(n,0)+eq(n,335)',
    ]);
    const info = await mediaInfoOf(file);
    const plan = makePlan('o'.repeat(20), info, {
      segmentSeconds: 6,
      chunkSegments: 5,
      x264Preset: 'ultrafast',
      workers: 2,
    });
    expect(plan.chunks.map((c) => c.frames)).toEqual([60, 300, null]);
    const outputs = [];
    for (const chunk of plan.chunks) {
      outputs.push(
        await transcoder.encodeVideoChunk({
          input: file,
          plan,
          chunk: chunk.index,
          workDir: join(dir, `odd-join-${chunk.index}`),
        }),
      );
    }
    const top = plan.renditions[0]?.name ?? '';
    const own = outputs[1]?.renditions[top]?.segments ?? [];
    // 300 frames: a 6 s segment and a 4 s one, timed by their frames; the run-on is not the
    // chunk's. The short one is two GOPs.
    expect(own.map((s) => s.file)).toEqual(['seg_00001.ts', 'seg_00002.ts']);
    expect(own.map((s) => Math.round(s.duration * 30))).toEqual([180, 120]);
    expect(own[1]?.keyframes?.map((k) => k.time)).toEqual([0, 2]);
    expect(outputs[2]?.renditions[top]?.segments[0]?.file).toBe('seg_00003.ts');
    // Joined, every frame is the source's, in order.
    const joined = join(dir, 'odd-join-top.ts');
    const parts = [];
    for (const [i, out] of outputs.entries()) {
      const r = out.renditions[top];
      for (const s of r?.segments ?? []) parts.push(await readFile(join(r?.dir ?? '', s.file)));
      expect(out.frames).toBe(plan.chunks[i]?.frames ?? 600 - 360);
    }
    await writeFile(joined, Buffer.concat(parts));
    const codes = await frameCodes(joined);
    const source = await frameCodes(file);
    expect(codes.length).toBe(source.length);
    expect(codeMismatches(codes, source)).toEqual([]);
  });

  it.skipIf(!oneFps)(
    'keeps every frame of a last chunk that seeks to an I frame that is not an IDR',
    async () => {
      // Two workers, each chunk on one core: the last chunk (frames 8-11) seeks to the I
      // frame at 8 s. ffmpeg 4.0 held back frames 10-11 there and showed 9 in their place
      // unless told +showall; ffmpeg 7.1 decodes them without it.
      const file = oneFps ?? '';
      const plan = makePlan('n'.repeat(20), await mediaInfoOf(file), {
        segmentSeconds: 6,
        chunkSegments: 1,
        x264Preset: 'ultrafast',
        workers: 2,
      });
      expect(plan.chunks.map((c) => c.frames)).toEqual([2, 6, null]);
      const shared = new FfmpegTranscoder(paths, { encodesPerHost: 2 });
      const parts = [];
      const top = plan.renditions[0];
      for (const chunk of plan.chunks) {
        const out = await shared.encodeVideoChunk({
          input: file,
          plan,
          chunk: chunk.index,
          workDir: join(dir, `one-fps-${chunk.index}`),
        });
        const r = out.renditions[top?.name ?? ''];
        for (const s of r?.segments ?? []) parts.push(await readFile(join(r?.dir ?? '', s.file)));
      }
      const joined = join(dir, 'one-fps.ts');
      await writeFile(joined, Buffer.concat(parts));
      // Each output frame against the source's frame at that time: a frame shown in another's
      // place scores far under the rest (ffmpeg 4.0: 18 dB against 24.7; on ffmpeg 7.1 the
      // right frames score 57-63, as the 4:4:4 source's chroma survives the scaler).
      const stats = join(dir, 'one-fps-psnr.log');
      await run(FFMPEG, [
        ...['-v', 'error', '-i', joined, '-i', file, '-filter_complex'],
        `[1:v]scale=${top?.width}:${top?.height},format=yuv420p[r];[0:v][r]psnr=stats_file=${stats}`,
        ...['-f', 'null', '-'],
      ]);
      const psnr = (await readFile(stats, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => Number(/psnr_avg:(\S+)/.exec(l)?.[1]));
      expect(psnr.length).toBe(12);
      const best = Math.max(...psnr);
      expect(psnr.filter((p) => !(p > best - 10))).toEqual([]);
    },
  );

  it('gives a chunk planned past the last frame no segments, not an empty one', async () => {
    const file = await generate('short.mp4', 'testsrc2=size=320x240:rate=30:duration=2', [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]);
    // A duration that overstates the video by two seconds (enough for a chunk after the
    // opening): the last chunk starts at its end.
    const info = normalizeProbe(await prober.probe(file));
    const plan = makePlan(
      'e'.repeat(20),
      { ...info, duration: 4 },
      {
        segmentSeconds: 2,
        chunkSegments: 1,
        x264Preset: 'ultrafast',
      },
    );
    const past = plan.chunks.at(-1);
    expect(past?.startFrame).toBe(60);
    const out = await transcoder.encodeVideoChunk({
      input: file,
      plan,
      chunk: past?.index ?? 0,
      workDir: join(dir, 'past-the-end'),
    });
    expect(out.frames).toBe(0);
    for (const r of Object.values(out.renditions)) expect(r.segments).toEqual([]);
  });

  it('reports the frames a chunk really got when the file ends before it (a cut-short upload)', async () => {
    const whole = await makeSource(dir, 'cut-source', {
      width: 320,
      height: 240,
      rate: '30',
      seconds: 6,
    });
    // The index first, then only the first half of the media: the index promises 6 s.
    const bytes = await readFile(whole);
    const cut = join(dir, 'cut-short.mp4');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    // A plan made for the whole file (say, from a header that overstated it), run on the cut one.
    const info = await mediaInfoOf(whole);
    expect(info.video?.frames).toBe(180);
    // Planned on the nominal grid (the keyframes could let chunk 1 run to the end).
    if (!info.video) throw new Error('no video');
    const { keyframes: _keyframes, ...video } = info.video;
    const plan = makePlan(
      'c'.repeat(20),
      { ...info, video },
      {
        segmentSeconds: 2,
        chunkSegments: 1,
        x264Preset: 'ultrafast',
      },
    );
    const late = plan.chunks.find((c) => c.frames !== null && c.startFrame >= 60);
    const out = await transcoder.encodeVideoChunk({
      input: cut,
      plan,
      chunk: late?.index ?? 0,
      workDir: join(dir, 'cut-chunk'),
    });
    // The use case decides what that means (publish ends the video there).
    expect(out.frames).toBeLessThan(late?.frames ?? 0);
  });

  it('starts each chunk of an MPEG-TS with 10 s GOPs on its own frame, not a frozen one', async () => {
    // x264's default GOP (250 frames) in a transport stream, which has no index to seek by.
    const file = await generate('long-gop.ts', 'testsrc2=size=320x240:rate=25:duration=20', [
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts'],
    ]);
    const plan = await planFor(file);
    expect(plan.chunks.length).toBe(4);

    const out = await encodeAll(file, plan);

    // testsrc2 changes every frame: a frame shown twice is a picture frozen at a join.
    const { stdout } = await run(FFMPEG, [
      '-v',
      'error',
      '-i',
      Object.values(out)[0] ?? '',
      '-f',
      'framemd5',
      '-',
    ]);
    const hashes = stdout
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(',').at(-1));
    expect(hashes.length).toBe(500);
    expect(hashes.filter((h, i) => i > 0 && h === hashes[i - 1]).length).toBe(0);
  });

  it('deinterlaces a broadcast capture whose picture size changes mid-stream', async () => {
    // An HD-sized programme, then a small ad break: two interlaced MPEG-2 TS runs back to back.
    // (Timestamps run on across the join, as in one recording.)
    const part = (size: string, name: string, offset: number) =>
      generate(name, `testsrc2=size=${size}:rate=25:duration=8`, [
        ...['-vf', 'tinterlace=4', '-c:v', 'mpeg2video', '-flags', '+ilme+ildct', '-top', '1'],
        ...['-output_ts_offset', String(offset), '-f', 'mpegts'],
      ]);
    const joined = join(dir, 'size-change.ts');
    await writeFile(
      joined,
      Buffer.concat([
        await readFile(await part('720x576', 'programme.ts', 0)),
        await readFile(await part('320x240', 'ad.ts', 8)),
      ]),
    );
    const plan = await planFor(joined);
    expect(plan.chunks.length).toBeGreaterThan(1);

    const out = await encodeAll(joined, plan);

    // Every output frame of both runs, at the output rate (tinterlace halves the 25 fps).
    const times = await frameTimes(Object.values(out)[0] ?? '');
    const fps = rationalValue(plan.output.frameRate);
    expect(Math.abs(times.length / fps - 16)).toBeLessThanOrEqual(1 / fps + 1e-6);
  });

  it('halves a 120 fps source to 60 fps without losing time', async () => {
    const file = await generate('hfr.mp4', 'testsrc2=size=320x240:rate=120:duration=3', [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]);
    const plan = await planFor(file);
    expect(rationalValue(plan.output.frameRate)).toBe(60);
    const out = await encodeAll(file, plan);
    const times = await frameTimes(Object.values(out)[0] ?? '');
    expect(times.length).toBe(180);
  });

  it('encodes a phone video with rotation metadata upright, at its display size', async () => {
    const landscape = await generate('landscape.mp4', 'testsrc2=size=640x360:rate=30:duration=2', [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]);
    // A remux is what writes the display matrix, as a phone does.
    const file = join(dir, 'rotated.mp4');
    await run(FFMPEG, [
      '-v',
      'error',
      '-y',
      '-display_rotation:v:0',
      '-90',
      '-i',
      landscape,
      '-c',
      'copy',
      file,
    ]);
    const plan = await planFor(file);
    expect(plan.source).toMatchObject({ width: 360, height: 640 });
    const out = await encodeAll(file, plan);
    const { stdout } = await run(FFPROBE, [
      '-v',
      'error',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      out['360p'] ?? '',
    ]);
    expect(stdout.trim().split('\n')[0]).toBe('360,640');
  });

  it('reports a source that cannot be decoded as a media error, with no path or URL in it', async () => {
    const file = join(dir, 'garbage.mp4');
    await writeFile(file, Buffer.alloc(4096, 7));
    const plan = await planFor(join(dir, 'hfr.mp4'));
    const err = await transcoder
      .encodeVideoChunk({ input: file, plan, chunk: 0, workDir: join(dir, 'garbage') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).message).not.toContain(dir);
  });

  it('starts no encode when the time is already up, and says the job timed out', async () => {
    // A start slowed by a busy machine can use up a job's time before ffmpeg is spawned.
    const file = await generate('late.mp4', 'testsrc2=size=160x120:rate=30:duration=2', [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
    ]);
    const plan = await planFor(file);
    const started = Date.now();
    const err = await transcoder
      .encodeVideoChunk({
        input: file,
        plan,
        chunk: 0,
        workDir: join(dir, 'late'),
        signal: AbortSignal.abort(),
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'JOB_TIMED_OUT', permanent: false });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('FfprobeProber', () => {
  it('refuses a playlist disguised as a video instead of following it', async () => {
    const file = join(dir, 'evil.avi');
    await writeFile(file, `#EXTM3U\n#EXTINF:1,\nfile://${join(dir, 'hfr.mp4')}\n#EXT-X-ENDLIST\n`);
    const err = await prober.probe(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
  });

  it('allows only the transport of the URL it is given', () => {
    expect(inputGuards('http://127.0.0.1:9/x')).toEqual(
      expect.arrayContaining(['-protocol_whitelist', 'http,tcp']),
    );
    expect(inputGuards('/tmp/source.mp4')).toEqual(
      expect.arrayContaining(['-protocol_whitelist', 'file']),
    );
    expect(inputGuards('/tmp/a').join(' ')).not.toMatch(/\bhls\b|concat|image2/);
  });

  it('keeps presigned URLs and paths out of error messages', () => {
    const reason = safeReason(
      'ffmpeg version 4\nhttp://127.0.0.1:4000/abc/source?X-Amz-Signature=deadbeef: Invalid data found when processing input\n',
    );
    expect(reason).toBe('<source> Invalid data found when processing input');
  });
});

describe('scanKeyframes', () => {
  it('finds the same keyframes, at the same bytes, as ffprobe', async () => {
    const file = await generate('gop.mp4', 'testsrc2=size=320x240:rate=30:duration=6', [
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '60',
    ]);
    const ts = join(dir, 'gop.ts');
    await run(FFMPEG, ['-v', 'error', '-y', '-i', file, '-c', 'copy', '-f', 'mpegts', ts]);
    const { stdout } = await run(FFPROBE, [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts_time,pos,flags',
      '-of',
      'json',
      ts,
    ]);
    const packets = (
      JSON.parse(stdout) as { packets: { pts_time: string; pos: string; flags: string }[] }
    ).packets;
    const expected = packets
      .filter((p) => p.flags.includes('K'))
      .map((p) => Number(p.pos) - (Number(p.pos) % 188));
    const scan = scanKeyframes(await readFile(ts));
    expect(scan.keyframes.map((k) => k.offset)).toEqual(expected);
    expect(scan.keyframes.map((k) => k.time)).toEqual([0, 2, 4]);
    expect(scan.firstTime).toBeCloseTo(Math.min(...packets.map((p) => Number(p.pts_time))), 5);
  });

  it('refuses bytes that are not a transport stream', () => {
    expect(() => scanKeyframes(Buffer.alloc(376, 1))).toThrow(/not a transport stream/);
  });
});

describe('avcCodecString', () => {
  // x264 writes these SPS bytes: profile_idc, constraint flags, level_idc (RFC 6381).
  it.each([
    ['high', '4.0', 'avc1.640028'],
    ['main', '3.1', 'avc1.4d401f'],
    ['baseline', '3.0', 'avc1.42c01e'],
  ])(
    'reads %s profile, level %s, from the segment SPS as ffprobe sees it',
    async (profile, level, expected) => {
      const file = await generate(
        `sps-${profile}.mp4`,
        'testsrc2=size=320x240:rate=30:duration=1',
        [
          '-c:v',
          'libx264',
          '-preset',
          'veryfast',
          '-profile:v',
          profile,
          '-level',
          level,
          '-pix_fmt',
          'yuv420p',
        ],
      );
      const ts = join(dir, `sps-${profile}.ts`);
      await run(FFMPEG, ['-v', 'error', '-y', '-i', file, '-c', 'copy', '-f', 'mpegts', ts]);
      const { stdout } = await run(FFPROBE, [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=profile,level',
        '-of',
        'json',
        ts,
      ]);
      const stream = (JSON.parse(stdout) as { streams: { profile: string; level: number }[] })
        .streams[0];
      const codecs = avcCodecString(await readFile(ts));
      expect(codecs).toBe(expected);
      expect(Number.parseInt(codecs?.slice(9, 11) ?? '', 16)).toBe(stream?.level);
      expect(stream?.profile.toLowerCase()).toContain(
        profile === 'baseline' ? 'baseline' : profile,
      );
    },
  );

  it('finds no SPS in a stream without video', () => {
    // A lone PAT packet: a transport stream, but no video PES at all.
    const packet = Buffer.alloc(188, 0xff);
    packet.set([0x47, 0x40, 0x00, 0x10, 0x00]);
    expect(avcCodecString(packet)).toBeUndefined();
  });
});

describe('encoderThreads', () => {
  it('shares one and a half threads per core across the rungs, never fewer than two on more cores', () => {
    expect(encoderThreads(5, 2)).toBe(2);
    expect(encoderThreads(5, 6)).toBe(2);
    expect(encoderThreads(2, 6)).toBe(5);
    expect(encoderThreads(1, 2)).toBe(3);
  });

  it('takes the encodes sharing the machine from the environment, 1 unless set well', () => {
    expect(encodesPerHostFromEnv({})).toBe(1);
    expect(encodesPerHostFromEnv({ SPOOL_ENCODES_PER_HOST: '4' })).toBe(4);
    expect(encodesPerHostFromEnv({ SPOOL_ENCODES_PER_HOST: '0' })).toBe(1);
    expect(encodesPerHostFromEnv({ SPOOL_ENCODES_PER_HOST: 'two' })).toBe(1);
  });

  it("runs each encoder in ffmpeg's own thread when the encode has one core", () => {
    expect(encoderThreads(5, 1)).toBe(1);
    expect(encoderThreads(1, 1)).toBe(1);
  });
});
