/**
 * Real-world uploads, generated at test time with the ffmpeg that ships to Lambda (issue #8,
 * DESIGN.md §7): variable frame rate, rotation, non-square pixels, interlacing, HDR, full
 * range, several audio tracks, audio before or after the video, edit lists, sizes between
 * ladder rungs, cut-short files, legacy and professional containers, and a lip-sync clip.
 * Each is short and small so that the suite stays fast on two busy cores.
 *
 * `expect` says what a viewer should see, from how the file was made. The e2e suite also
 * measures each source (test/support/viewer.ts) and compares, so a fixture that is not what
 * it claims (or a measurement that is wrong) shows up before the pipeline is blamed.
 */
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FFMPEG } from './media.js';

const run = promisify(execFile);

export type Outcome =
  | 'ready'
  /** A cut-short upload: what decodes is published, or it fails fast (DESIGN.md §7). */
  | 'ready-or-decode-failed'
  | `failed:${string}`;

export interface ViewerExpectation {
  outcome: Outcome;
  /** Display size: rotation and sample aspect ratio applied (may be fractional). */
  width: number;
  height: number;
  /** Seconds, from the source's own timestamps; undefined: whatever a cut-short file holds. */
  duration?: number;
  hdr: false | 'pq' | 'hlg';
  interlaced: boolean;
  audio: boolean;
  /** Source: the main audio's first sample minus the first video frame, seconds. */
  avOffset?: number;
  /** Source: seconds from each white flash to its beep (the clip carries such marks). */
  lipSync?: number;
}

export interface Fixture {
  name: string;
  file: string;
  contentType: string;
  expect: ViewerExpectation;
}

interface Recipe extends Omit<Fixture, 'file'> {
  ext: string;
  make(file: string, dir: string): Promise<void>;
}

const ff = async (args: string[]): Promise<void> => {
  await run(FFMPEG, ['-v', 'error', '-nostdin', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
};

const testsrc = (size: string, rate: string, seconds: number): string[] => [
  '-f',
  'lavfi',
  '-i',
  `testsrc=size=${size}:rate=${rate}:duration=${seconds}`,
];

/** A continuous tone (the "voice" of clips without marks). */
const tone = (seconds: number, layout = 'stereo', volumeDb = -12): string[] => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${seconds},volume=${volumeDb}dB,aformat=channel_layouts=${layout}`,
];

/**
 * 1 kHz beeps of 100 ms at the given times, silence between. aevalsrc evaluates every sample,
 * so an onset is exact (a volume filter would switch per 1024-sample frame, 21 ms).
 */
const beeps = (times: number[], seconds: number): string[] => {
  const gate = times.map((t) => `between(t,${t},${t + 0.1})`).join('+');
  const ch = `0.5*sin(2*PI*1000*t)*(${gate})`;
  return ['-f', 'lavfi', '-i', `aevalsrc='${ch}|${ch}':s=48000:d=${seconds}`];
};

/** White full frames at the given frame numbers (the "clap" a viewer sees). */
const flashes = (frames: number[]): string =>
  `drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='${frames.map((n) => `eq(n,${n})`).join('+')}'`;

const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const aac = ['-c:a', 'aac', '-b:a', '128k'];
const faststart = ['-movflags', '+faststart'];

/** Frames of a 1001-denominator rate, in seconds. */
const ntsc = (frames: number, fps: number): number => (frames * 1001) / (fps * 1000);

/** Keep the first `fraction` of a file's bytes: an upload cut short. */
async function truncate(file: string, fraction: number): Promise<void> {
  const bytes = await readFile(file);
  await writeFile(file, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

/**
 * A legacy or professional container: 2 s of 480x360 (or as given) with a tone. `avOffset`:
 * where the muxer puts the audio against the video (ASF and FLV start the video late).
 */
function legacy(
  name: string,
  ext: string,
  contentType: string,
  codecArgs: string[],
  { size = '480x360', avOffset = 0 } = {},
): Recipe {
  const [w, h] = size.split('x').map(Number);
  return {
    name,
    ext,
    contentType,
    expect: {
      outcome: 'ready',
      width: w ?? 0,
      height: h ?? 0,
      duration: 2,
      hdr: false,
      interlaced: false,
      audio: true,
      avOffset,
    },
    make: (file) => ff([...testsrc(size, '25', 2), ...tone(2), ...codecArgs, file]),
  };
}

const SDR = { hdr: false, interlaced: false } as const;

const RECIPES: Recipe[] = [
  {
    // A phone or webcam that drops frames under load: irregular runs missing, the survivors
    // keep their times (-fps_mode vfr), so avg_frame_rate (24.5) is not r_frame_rate (30).
    // Flashes and beeps show whether the kept frames stay at their times.
    name: 'vfr-dropped-frames-mp4',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 480,
      height: 270,
      duration: 4,
      ...SDR,
      audio: true,
      avOffset: 0,
      lipSync: 0,
    },
    make: (file) =>
      ff([
        ...testsrc('480x270', '30', 4),
        ...beeps([1.5, 3], 4),
        '-filter_complex',
        `[0:v]${flashes([45, 90])},select='not(between(n,20,34)+between(n,60,64)+between(n,70,71))',format=yuv420p[v]`,
        '-map',
        '[v]',
        '-map',
        '1:a',
        '-fps_mode',
        'vfr',
        ...x264,
        ...aac,
        ...faststart,
        file,
      ]),
  },
  {
    // The same in WebM, where the muxer still declares 30 fps (r and avg alike): the
    // container's nominal rate lies about the 22.5 frames a second it holds.
    name: 'vfr-dropped-frames-webm',
    ext: 'webm',
    contentType: 'video/webm',
    expect: { outcome: 'ready', width: 426, height: 240, duration: 4, ...SDR, audio: false },
    make: (file) =>
      ff([
        ...testsrc('426x240', '30', 4),
        '-vf',
        "select='not(between(n,10,24)+between(n,50,53)+between(n,80,99))'",
        '-fps_mode',
        'vfr',
        '-c:v',
        'libvpx-vp9',
        '-pix_fmt',
        'yuv420p',
        '-b:v',
        '300k',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        file,
      ]),
  },
  {
    // A browser's MediaRecorder writes WebM as a live stream: no duration, no cues. Only the
    // packets' timestamps say how long it is.
    name: 'webm-no-duration-mediarecorder',
    ext: 'webm',
    contentType: 'video/webm',
    expect: { outcome: 'ready', width: 640, height: 360, duration: 4, ...SDR, audio: true },
    make: (file) =>
      ff([
        ...testsrc('640x360', '30', 4),
        ...tone(4),
        ...['-c:v', 'libvpx', '-b:v', '500k', '-deadline', 'realtime', '-cpu-used', '8'],
        ...['-c:a', 'libopus', '-f', 'webm', '-live', '1', file],
      ]),
  },
  {
    // Nearly constant 60 fps with three 5 ms jumps (a capture card's clock slipping): the
    // time base must be fine enough to keep them (settb and -enc_time_base).
    name: 'cfr60-timestamp-gaps',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: { outcome: 'ready', width: 640, height: 360, duration: 3.015, ...SDR, audio: false },
    make: (file) =>
      ff([
        ...testsrc('640x360', '60', 3),
        '-vf',
        "settb=1/6000,setpts='PTS+(gte(N,40)+gte(N,90)+gte(N,150))*0.005/TB'",
        '-fps_mode',
        'passthrough',
        '-enc_time_base',
        '1/6000',
        '-video_track_timescale',
        '6000',
        ...x264,
        ...faststart,
        file,
      ]),
  },
  {
    // Stored landscape, displayed portrait through the display matrix (as phones record).
    name: 'rotation-90',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 360,
      height: 640,
      duration: 3,
      ...SDR,
      audio: true,
      avOffset: 0,
    },
    make: async (file, dir) => {
      const stored = join(dir, 'rotation-90-stored.mp4');
      await ff([...testsrc('640x360', '30', 3), ...tone(3), ...x264, ...aac, stored]);
      // A display matrix of -90° is what a phone held upright writes (the old `rotate=90` tag).
      await ff(['-display_rotation:v:0', '-90', '-i', stored, '-c', 'copy', ...faststart, file]);
      await rm(stored);
    },
  },
  {
    // NTSC DVD widescreen: 720x480 with 32:27 pixels displays as 16:9 (853.3x480).
    name: 'sar-ntsc-16x9',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: (720 * 32) / 27,
      height: 480,
      duration: ntsc(90, 30),
      ...SDR,
      audio: true,
      avOffset: 0,
    },
    make: (file) =>
      ff([
        ...testsrc('720x480', '30000/1001', ntsc(90, 30)),
        ...tone(ntsc(90, 30)),
        '-vf',
        'setsar=32/27',
        ...x264,
        ...aac,
        ...faststart,
        file,
      ]),
  },
  {
    // PAL 4:3: 720x576 with 16:15 pixels displays as 768x576.
    name: 'sar-pal-4x3',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: { outcome: 'ready', width: 768, height: 576, duration: 3, ...SDR, audio: false },
    make: (file) =>
      ff([...testsrc('720x576', '25', 3), '-vf', 'setsar=16/15', ...x264, ...faststart, file]),
  },
  {
    // 25i from 50p: each frame weaves two moments, and the pattern moves 8 px a field
    // sideways, so every vertical edge combs. x264 codes it as interlaced (flagged TFF).
    // 360 lines is a rung, so the top rendition is not rescaled vertically: rescaling
    // smears the comb until idet no longer sees it, deinterlaced or not.
    name: 'interlaced-h264-mp4',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 640,
      height: 360,
      duration: 3,
      hdr: false,
      interlaced: true,
      audio: true,
      avOffset: 0,
    },
    make: (file) =>
      ff([
        ...testsrc('1280x360', '50', 3),
        ...tone(3),
        '-vf',
        "crop=640:360:x='mod(n*8,640)':y=0,tinterlace=interleave_top,setfield=tff",
        ...x264,
        '-flags',
        '+ildct+ilme',
        '-x264opts',
        'tff=1',
        ...aac,
        ...faststart,
        file,
      ]),
  },
  {
    // Broadcast 480i: MPEG-2 in TS, 720x480 with 8:9 pixels (4:3), top field first, AC-3.
    name: 'interlaced-mpeg2-ts',
    ext: 'ts',
    contentType: 'video/mp2t',
    expect: {
      outcome: 'ready',
      width: 640,
      height: 480,
      duration: ntsc(90, 30),
      hdr: false,
      interlaced: true,
      audio: true,
      avOffset: 0,
    },
    make: (file) =>
      ff([
        ...testsrc('1280x480', '60000/1001', ntsc(180, 60)),
        ...tone(ntsc(90, 30)),
        '-vf',
        "crop=720:480:x='mod(n*8,560)':y=0,tinterlace=interleave_top,setfield=tff,setsar=8/9",
        '-c:v',
        'mpeg2video',
        '-b:v',
        '4M',
        '-flags',
        '+ilme+ildct',
        '-top',
        '1',
        '-c:a',
        'ac3',
        '-b:a',
        '192k',
        '-f',
        'mpegts',
        file,
      ]),
  },
  hdr('hdr-hlg-hevc', 'arib-std-b67'),
  hdr('hdr-pq-hevc', 'smpte2084'),
  {
    // A webcam or MJPEG-era camera: full-range BT.601 (yuvj420p, smpte170m tags). Black is
    // 0 and white 255 here, so a missed range conversion shows in the levels.
    name: 'full-range-bt601',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: { outcome: 'ready', width: 480, height: 360, duration: 2, ...SDR, audio: false },
    make: (file) =>
      ff([
        ...testsrc('480x360', '25', 2),
        '-vf',
        'scale=out_range=full:out_color_matrix=bt601,format=yuvj420p',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-color_range',
        'pc',
        '-colorspace',
        'smpte170m',
        '-color_primaries',
        'smpte170m',
        '-color_trc',
        'smpte170m',
        ...faststart,
        file,
      ]),
  },
  {
    // Two audio tracks: first a quiet Spanish stereo one that is not default, then the
    // default English 5.1 one, 30 dB louder: the output must carry the default track.
    name: 'multi-audio-mkv',
    ext: 'mkv',
    contentType: 'video/x-matroska',
    expect: {
      outcome: 'ready',
      width: 640,
      height: 360,
      duration: 3,
      ...SDR,
      audio: true,
      avOffset: 0,
    },
    make: (file) =>
      ff([
        ...testsrc('640x360', '25', 3),
        ...tone(3, 'stereo', -40),
        ...tone(3, '5.1', -10),
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-map',
        '2:a',
        ...x264,
        '-c:a:0',
        'aac',
        '-c:a:1',
        'ac3',
        '-metadata:s:a:0',
        'language=spa',
        '-metadata:s:a:1',
        'language=eng',
        '-disposition:a:0',
        '0',
        '-disposition:a:1',
        'default',
        file,
      ]),
  },
  {
    // Audio that starts half a second after the video (a recorder that opens its
    // microphone late), in sync where both run: flashes and beeps coincide.
    name: 'audio-late-mp4',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 480,
      height: 270,
      duration: 4,
      ...SDR,
      audio: true,
      avOffset: 0.5,
      lipSync: 0,
    },
    make: (file) =>
      ff([
        ...testsrc('480x270', '30', 4),
        '-itsoffset',
        '0.5',
        ...beeps([0.5, 2], 3.5),
        '-filter_complex',
        `[0:v]${flashes([30, 75])},format=yuv420p[v]`,
        '-map',
        '[v]',
        '-map',
        '1:a',
        ...x264,
        ...aac,
        ...faststart,
        file,
      ]),
  },
  {
    // Audio that starts 0.4 s before the video (a camera's audio pre-roll), in MPEG-TS as
    // broadcast captures have it; in sync where both run.
    name: 'audio-early-ts',
    ext: 'ts',
    contentType: 'video/mp2t',
    expect: {
      outcome: 'ready',
      width: 480,
      height: 270,
      duration: 4,
      ...SDR,
      audio: true,
      avOffset: -0.4,
      lipSync: 0,
    },
    make: (file) =>
      ff([
        '-itsoffset',
        '0.4',
        ...testsrc('480x270', '30', 4),
        ...beeps([1.4, 2.9], 4.4),
        '-filter_complex',
        `[0:v]${flashes([30, 75])},format=yuv420p[v]`,
        '-map',
        '[v]',
        '-map',
        '1:a',
        ...x264,
        ...aac,
        '-f',
        'mpegts',
        file,
      ]),
  },
  {
    // Audio that ends 1.5 s before the video: the output lasts as long as the video.
    name: 'audio-shorter-than-video',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 480,
      height: 270,
      duration: 4,
      ...SDR,
      audio: true,
      avOffset: 0,
    },
    make: (file) =>
      ff([...testsrc('480x270', '30', 4), ...tone(2.5), ...x264, ...aac, ...faststart, file]),
  },
  {
    // A trim without re-encoding (-ss with -c copy) of a B-frame source: the MP4 keeps the
    // GOP from the keyframe at 1.0 s and an edit list that starts presentation at 1.5 s.
    name: 'edit-list-bframes',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 640,
      height: 360,
      duration: 3.5,
      ...SDR,
      audio: true,
      avOffset: 0,
    },
    make: async (file, dir) => {
      const whole = join(dir, 'edit-list-whole.mp4');
      await ff([
        ...testsrc('640x360', '30', 5),
        ...tone(5),
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-bf',
        '3',
        '-g',
        '30',
        '-pix_fmt',
        'yuv420p',
        ...aac,
        whole,
      ]);
      await ff(['-ss', '1.5', '-i', whole, '-c', 'copy', file]);
      await rm(whole);
    },
  },
  size('size-720x480', 720, 480),
  size('size-480x270', 480, 270),
  size('size-642x642', 642, 642),
  size('size-portrait-480x854', 480, 854),
  {
    // Cut short: Matroska has no index up front, so the file simply ends early.
    name: 'truncated-mkv',
    ext: 'mkv',
    contentType: 'video/x-matroska',
    expect: {
      outcome: 'ready-or-decode-failed',
      width: 640,
      height: 360,
      ...SDR,
      audio: true,
    },
    make: async (file) => {
      await ff([...testsrc('640x360', '25', 6), ...tone(6), ...x264, ...aac, file]);
      await truncate(file, 0.6);
    },
  },
  {
    // Cut short with the index first: the moov promises 6 s, the media stops at ~60%.
    name: 'truncated-faststart-mp4',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready-or-decode-failed',
      width: 640,
      height: 360,
      ...SDR,
      audio: true,
    },
    make: async (file) => {
      await ff([...testsrc('640x360', '25', 6), ...tone(6), ...x264, ...aac, ...faststart, file]);
      await truncate(file, 0.6);
    },
  },
  legacy('mpeg2-program-stream', 'mpg', 'video/mpeg', [
    '-c:v',
    'mpeg2video',
    '-b:v',
    '2M',
    '-c:a',
    'mp2',
    '-f',
    'vob',
  ]),
  legacy(
    'asf-wmv2',
    'wmv',
    'video/x-ms-wmv',
    ['-c:v', 'wmv2', '-b:v', '1M', '-c:a', 'wmav2', '-f', 'asf'],
    // ffmpeg 7.1's asf muxer starts the audio 43 ms after the video (4.x: 43 ms before).
    { avOffset: 0.043 },
  ),
  legacy(
    'flv-sorenson',
    'flv',
    'video/x-flv',
    ['-c:v', 'flv', '-b:v', '1M', '-c:a', 'libmp3lame', '-ar', '44100', '-f', 'flv'],
    { avOffset: -0.025 },
  ),
  // XDCAM-style MXF: MPEG-2 4:2:2 with PCM (DNxHD needs 720p or larger at 60-90 Mb/s: 20 MB
  // for two seconds, too big for a fast suite).
  legacy(
    'mxf-mpeg2-422',
    'mxf',
    'application/mxf',
    ['-c:v', 'mpeg2video', '-b:v', '4M', '-pix_fmt', 'yuv422p', '-c:a', 'pcm_s16le', '-f', 'mxf'],
    { size: '640x360' },
  ),
  legacy('ogg-theora', 'ogv', 'video/ogg', [
    '-c:v',
    'libtheora',
    '-q:v',
    '6',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'libvorbis',
    '-f',
    'ogg',
  ]),
  legacy('avi-mjpeg', 'avi', 'video/x-msvideo', [
    '-c:v',
    'mjpeg',
    '-q:v',
    '5',
    '-pix_fmt',
    'yuvj420p',
    '-c:a',
    'pcm_s16le',
    '-f',
    'avi',
  ]),
  legacy('mov-prores-422', 'mov', 'video/quicktime', [
    '-c:v',
    'prores_ks',
    '-profile:v',
    '2',
    '-pix_fmt',
    'yuv422p10le',
    '-c:a',
    'pcm_s16le',
    '-f',
    'mov',
  ]),
  // FFV1 keeps testsrc's RGB (bgr0), as archival masters often are.
  legacy('mkv-ffv1-rgb', 'mkv', 'video/x-matroska', [
    '-c:v',
    'ffv1',
    '-c:a',
    'flac',
    '-f',
    'matroska',
  ]),
  {
    // The lip-sync clip: white flashes at 1.0, 3.0 and 4.5 s, each with a beep, but the
    // audio is deliberately 0.3 s late. The output must keep exactly that distance.
    name: 'lip-sync-offset-300ms',
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 640,
      height: 360,
      duration: 6,
      ...SDR,
      audio: true,
      avOffset: 0.3,
      lipSync: 0.3,
    },
    make: (file) =>
      ff([
        ...testsrc('640x360', '30', 6),
        '-itsoffset',
        '0.3',
        ...beeps([1, 3, 4.5], 5.7),
        '-filter_complex',
        `[0:v]${flashes([30, 90, 135])},format=yuv420p[v]`,
        '-map',
        '[v]',
        '-map',
        '1:a',
        ...x264,
        ...aac,
        ...faststart,
        file,
      ]),
  },
];

/**
 * 10-bit HEVC HDR made from testsrc's SDR picture (reference white at BT.2408's 203 nits),
 * tagged both in the bitstream (x265) and in the container, as phones and graders write it.
 */
function hdr(name: string, transfer: 'arib-std-b67' | 'smpte2084'): Recipe {
  const pq = transfer === 'smpte2084';
  const x265 = [
    'log-level=error',
    'colorprim=bt2020',
    `transfer=${transfer}`,
    'colormatrix=bt2020nc',
    // HDR10 carries its mastering display and light levels (SMPTE ST 2086, CTA-861.3).
    ...(pq
      ? [
          'master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)',
          'max-cll=1000,400',
        ]
      : []),
  ].join(':');
  return {
    name,
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: {
      outcome: 'ready',
      width: 640,
      height: 360,
      duration: 2,
      hdr: pq ? 'pq' : 'hlg',
      interlaced: false,
      audio: false,
    },
    make: (file) =>
      ff([
        ...testsrc('640x360', '25', 2),
        '-vf',
        `format=yuv420p,zscale=tin=709:min=709:pin=709:rin=tv:t=${transfer}:m=2020_ncl:p=2020:r=tv:npl=203,format=yuv420p10le`,
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-x265-params',
        x265,
        '-color_primaries',
        'bt2020',
        '-color_trc',
        transfer,
        '-colorspace',
        'bt2020nc',
        '-color_range',
        'tv',
        '-tag:v',
        'hvc1',
        ...faststart,
        file,
      ]),
  };
}

/** A size between ladder rungs: the top rung must be the source's own size. */
function size(name: string, width: number, height: number): Recipe {
  return {
    name,
    ext: 'mp4',
    contentType: 'video/mp4',
    expect: { outcome: 'ready', width, height, duration: 2, ...SDR, audio: false },
    make: (file) => ff([...testsrc(`${width}x${height}`, '30', 2), ...x264, ...faststart, file]),
  };
}

/** Every fixture's name, known without generating anything (for test collection). */
export const REAL_WORLD_FIXTURES: readonly string[] = RECIPES.map((r) => r.name);

/**
 * Writes the fixtures into `dir` (two ffmpegs at a time: the machine has two cores) and
 * returns them. `only` limits the set by name.
 */
export async function makeRealWorldFixtures(
  dir: string,
  only?: readonly string[],
): Promise<Fixture[]> {
  const recipes = RECIPES.filter((r) => !only || only.includes(r.name));
  const fixtures: Fixture[] = [];
  const queue = [...recipes];
  const worker = async () => {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const file = join(dir, `${r.name}.${r.ext}`);
      await r.make(file, dir);
      fixtures.push({ name: r.name, file, contentType: r.contentType, expect: r.expect });
    }
  };
  await Promise.all([worker(), worker()]);
  return recipes.flatMap((r) => fixtures.find((f) => f.name === r.name) ?? []);
}
