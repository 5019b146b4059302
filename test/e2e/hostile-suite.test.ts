/**
 * The hostile-input suite: every case is made at test time, uploaded (or requested) through
 * `npm start`'s stack as a client would, and must end as expected: a 4xx from the API, or a
 * video that ends `failed` with its code (before any encode, for the limits) or `ready`.
 * Files that point elsewhere must reach neither a local file (a FIFO canary, which shows any
 * open) nor a local HTTP server (a canary that counts requests). It prints one summary line.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FFMPEG, makeSource } from '../support/media.js';
import { ApiClient, outputKeyCount, type RunningStack, startStack } from '../support/stack.js';

const run = promisify(execFile);
let dir: string;
let stack: RunningStack;
let api: ApiClient;
let canaryServer: Server;
let canaryUrl: string;
let canaryHits = 0;
let fifo: string;
let fifoOpened = false;
let fifoWatch: NodeJS.Timeout;

/** Limits of this stack, smaller than the defaults so breaking them is cheap. */
const LIMITS = {
  SPOOL_MAX_UPLOAD_BYTES: String(20 * 1024 * 1024),
  SPOOL_MAX_DURATION_SECONDS: '600',
  SPOOL_MAX_PIXELS: String(1920 * 1080),
  SPOOL_MAX_FRAME_RATE: '120',
  SPOOL_MAX_STREAMS: '8',
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-hostile-suite-'));
  canaryServer = createServer((_req, res) => {
    canaryHits++;
    res.end('canary');
  });
  await new Promise<void>((r) => canaryServer.listen(0, '127.0.0.1', () => r()));
  canaryUrl = `http://127.0.0.1:${(canaryServer.address() as AddressInfo).port}/canary`;
  // A FIFO: opening it for writing without blocking succeeds only while someone has it open
  // for reading, so polling shows whether anything ever opened it.
  fifo = join(dir, 'canary.fifo');
  await run('mkfifo', [fifo]);
  fifoWatch = setInterval(() => {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      fifoOpened = true;
    } catch {
      // ENXIO: no reader, as it should be.
    }
  }, 20);
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: { SPOOL_LOG_LEVEL: 'silent', SPOOL_RETRY_BACKOFF_SECONDS: '1', ...LIMITS },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  clearInterval(fifoWatch);
  await stack?.stop();
  canaryServer?.closeAllConnections();
  await new Promise<void>((r) => (canaryServer ? canaryServer.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

const outputKeys = (id: string) => outputKeyCount(stack, id);

const ffmpeg = async (name: string, args: string[]): Promise<string> => {
  const out = join(dir, name);
  await run(FFMPEG, ['-v', 'error', '-y', ...args, out]);
  return out;
};
const bytes = async (name: string, body: string | Uint8Array): Promise<string> => {
  const out = join(dir, name);
  await writeFile(out, body);
  return out;
};
const lavfi = (source: string) => ['-f', 'lavfi', '-i', source];
/** `frames` black frames of `size` at `rate` (a rational, such as 1/36000 for a lie). */
const blank = (name: string, size: string, rate: string, frames: number, extra: string[] = []) =>
  ffmpeg(name, [
    ...lavfi(`color=black:s=${size}:r=${rate}`),
    '-frames:v',
    String(frames),
    ...extra,
  ]);
/** One second of a tiny video with `count` silent audio streams. */
const withStreams = (name: string, count: number, codecs: string[]) =>
  ffmpeg(name, [
    ...lavfi('color=black:s=64x64:r=25:d=1'),
    ...lavfi('anullsrc=r=8000:cl=mono'),
    '-map',
    '0:v',
    ...Array.from({ length: count }, () => ['-map', '1:a']).flat(),
    ...codecs,
    '-shortest',
  ]);
/** Refused on the probe, before any job: the video ends failed with one of `codes`. */
const refused = (...codes: string[]): Outcome => ({ status: 'failed', codes, beforeCompute: true });

/** A MOV of MJPEG frames whose every header says `size`×`size` (the pictures are 64×64). */
async function lyingMov(name: string, size: number): Promise<string> {
  const small = await ffmpeg(`${name}-small.mov`, [
    ...lavfi('color=black:s=64x64:r=25'),
    '-frames:v',
    '5',
    '-c:v',
    'mjpeg',
  ]);
  const b = Buffer.from(await readFile(small));
  const entry = b.indexOf('jpeg') - 4;
  b.writeUInt16BE(size, entry + 32);
  b.writeUInt16BE(size, entry + 34);
  for (let at = b.indexOf(Buffer.from([0xff, 0xc0])); at >= 0; ) {
    b.writeUInt16BE(size, at + 5);
    b.writeUInt16BE(size, at + 7);
    at = b.indexOf(Buffer.from([0xff, 0xc0]), at + 2);
  }
  return bytes(`${name}.mov`, b);
}

type Outcome =
  | { api: number }
  | { status: 'failed'; codes: string[]; beforeCompute?: boolean }
  | { status: 'ready' };

interface Case {
  name: string;
  expect: Outcome;
  /** An upload: the file, its declared type and (if it lies) size. */
  upload?: () => Promise<{ file: string; contentType?: string; declaredSize?: number }>;
  /** A request to POST /videos that the API must refuse. */
  request?: () => unknown;
  /** Extra check of the finished video. */
  check?: (id: string) => Promise<void>;
}

const clip = (name: string) =>
  makeSource(dir, name, { width: 320, height: 240, rate: '25', seconds: 2, audio: true });

const CASES: Case[] = [
  // Malformed or wrong files.
  {
    name: 'zero bytes',
    request: () => ({ filename: 'empty.mp4', contentType: 'video/mp4', size: 0 }),
    expect: { api: 400 },
  },
  {
    name: 'random bytes',
    upload: async () => ({ file: await bytes('noise.mp4', randomBytes(100_000)) }),
    expect: refused('UNREADABLE_MEDIA'),
  },
  {
    name: 'text named .mp4',
    upload: async () => ({ file: await bytes('notes.mp4', 'just some text\n'.repeat(500)) }),
    expect: refused('UNREADABLE_MEDIA'),
  },
  {
    name: 'a PDF named .mp4',
    upload: async () => ({
      file: await bytes(
        'doc.mp4',
        '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
      ),
    }),
    expect: refused('UNREADABLE_MEDIA'),
  },
  {
    name: 'a PNG named .mp4',
    upload: async () => {
      const png = await ffmpeg('image.png', [...lavfi('testsrc=s=320x240'), '-frames:v', '1']);
      return { file: await bytes('image-png.mp4', await readFile(png)) };
    },
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'a JPEG named .mp4',
    upload: async () => {
      const jpg = await ffmpeg('image.jpg', [...lavfi('testsrc=s=320x240'), '-frames:v', '1']);
      return { file: await bytes('image-jpg.mp4', await readFile(jpg)) };
    },
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'an MP4 with no moov (the index was never written)',
    upload: async () => {
      const whole = await makeSource(dir, 'nomoov-src', {
        width: 320,
        height: 240,
        rate: '25',
        seconds: 3,
        faststart: false,
      });
      const b = await readFile(whole);
      const moov = b.indexOf('moov') - 4;
      return { file: await bytes('nomoov.mp4', b.subarray(0, moov)) };
    },
    expect: refused('UNREADABLE_MEDIA'),
  },
  {
    name: 'an MP4 whose mdat is cut short (plays what arrived)',
    upload: async () => {
      const whole = await makeSource(dir, 'cut-src', {
        width: 320,
        height: 240,
        rate: '25',
        seconds: 4,
        audio: true,
      });
      const b = await readFile(whole);
      return { file: await bytes('cut.mp4', b.subarray(0, Math.floor(b.length * 0.6))) };
    },
    expect: { status: 'ready' },
  },
  {
    name: 'an MP4 whose moov is cut in half',
    upload: async () => {
      const whole = await makeSource(dir, 'moovcut-src', {
        width: 320,
        height: 240,
        rate: '25',
        seconds: 3,
        faststart: false,
      });
      const b = await readFile(whole);
      const moov = b.indexOf('moov') - 4;
      return { file: await bytes('moovcut.mp4', b.subarray(0, moov + (b.length - moov) / 2)) };
    },
    expect: refused('UNREADABLE_MEDIA'),
  },
  // Headers that lie, and limits.
  {
    name: 'headers claiming 16384x16384',
    upload: async () => ({ file: await lyingMov('lie16384', 16384) }),
    expect: refused('NO_VIDEO_STREAM'),
  },
  {
    name: 'headers claiming 16000x16000',
    upload: async () => ({ file: await lyingMov('lie16000', 16000) }),
    expect: refused('RESOLUTION_TOO_LARGE'),
  },
  {
    name: '8K at 240 fps',
    upload: async () => ({
      file: await blank('8k240.mp4', '7680x4320', '240', 3, ['-c:v', 'mpeg4']),
    }),
    expect: refused('RESOLUTION_TOO_LARGE'),
  },
  {
    name: 'over the pixel limit (2560x1440 against 1920x1080)',
    upload: async () => ({ file: await blank('1440p.mp4', '2560x1440', '25', 2) }),
    expect: refused('RESOLUTION_TOO_LARGE'),
  },
  {
    name: 'over the frame-rate limit (200 fps against 120)',
    upload: async () => ({ file: await blank('200fps.mp4', '64x64', '200', 20) }),
    expect: refused('FRAME_RATE_TOO_HIGH'),
  },
  {
    name: '20 hours at 1 frame per 10 h (a duration that lies)',
    upload: async () => ({ file: await blank('20h.mp4', '64x64', '1/36000', 3) }),
    expect: refused('DURATION_TOO_LONG'),
  },
  {
    name: 'over the duration limit (11 min against 10)',
    upload: async () => ({ file: await blank('11min.mp4', '64x64', '1/60', 12) }),
    expect: refused('DURATION_TOO_LONG'),
  },
  {
    name: 'a hundred and fifty audio streams',
    // MPEG-TS: Matroska stops short of this many tracks.
    upload: async () => ({
      file: await withStreams('streams.ts', 150, ['-c:v', 'libx264', '-c:a', 'mp2']),
      contentType: 'video/mp2t',
    }),
    expect: refused('TOO_MANY_STREAMS'),
  },
  {
    name: 'over the stream limit (10 audio tracks against 8)',
    upload: async () => ({ file: await withStreams('ten.mkv', 10, ['-c:a', 'pcm_s16le']) }),
    expect: refused('TOO_MANY_STREAMS'),
  },
  {
    name: 'dimensions that change mid-stream (320x240, then 640x480)',
    upload: async () => {
      const a = await ffmpeg('part-a.ts', [
        ...lavfi('testsrc=s=320x240:r=25:d=2'),
        '-c:v',
        'libx264',
        '-g',
        '25',
      ]);
      const b = await ffmpeg('part-b.ts', [
        ...lavfi('testsrc=s=640x480:r=25:d=2'),
        '-c:v',
        'libx264',
        '-g',
        '25',
        '-output_ts_offset',
        '2',
      ]);
      const joined = Buffer.concat([await readFile(a), await readFile(b)]);
      return { file: await bytes('resize.ts', joined), contentType: 'video/mp2t' };
    },
    expect: { status: 'ready' },
  },
  // Files that point elsewhere.
  {
    name: 'an HLS playlist naming a local file',
    upload: async () => ({
      file: await bytes(
        'file.m3u8.mp4',
        `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://${fifo}\n#EXT-X-ENDLIST\n`,
      ),
    }),
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'an HLS playlist naming a local HTTP server',
    upload: async () => ({
      file: await bytes(
        'http.m3u8.mp4',
        `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${canaryUrl}\n#EXT-X-ENDLIST\n`,
      ),
    }),
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'an ffconcat list naming /etc/passwd and a local file',
    upload: async () => ({
      file: await bytes(
        'list.ffconcat.mp4',
        `ffconcat version 1.0\nfile /etc/passwd\nfile '${fifo}'\n`,
      ),
    }),
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'an ffconcat list naming a local HTTP server',
    upload: async () => ({
      file: await bytes('http.ffconcat.mp4', `ffconcat version 1.0\nfile '${canaryUrl}'\n`),
    }),
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'an HLS playlist disguised as AVI (file:///etc/passwd and the canary)',
    upload: async () => ({
      file: await bytes(
        'hls.avi',
        `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n${canaryUrl}\n#EXT-X-ENDLIST\n`,
      ),
      contentType: 'video/x-msvideo',
    }),
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  {
    name: 'an HLS playlist inside a real AVI',
    upload: async () => {
      const avi = await ffmpeg('real.avi', [...lavfi('testsrc=s=64x64:r=5:d=1'), '-c:v', 'mjpeg']);
      const playlist = `#EXTM3U\n#EXTINF:1,\n${canaryUrl}\n#EXTINF:1,\nfile://${fifo}\n#EXT-X-ENDLIST\n`;
      return {
        file: await bytes(
          'hls-in.avi',
          Buffer.concat([await readFile(avi), Buffer.from(playlist)]),
        ),
        contentType: 'video/x-msvideo',
      };
    },
    expect: { status: 'ready' },
  },
  {
    name: 'an SDP naming a local RTP port',
    upload: async () => ({
      file: await bytes(
        'stream.sdp.mp4',
        'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n',
      ),
    }),
    expect: refused('UNSUPPORTED_CONTAINER'),
  },
  // Bad upload requests.
  {
    name: 'a PUT larger than the declared size',
    upload: async () => {
      const file = await clip('bigger');
      const size = (await readFile(file)).length;
      return { file, declaredSize: size - 1000 };
    },
    expect: refused('SIZE_MISMATCH'),
  },
  {
    name: 'a declared size over the upload limit',
    request: () => ({ filename: 'huge.mp4', contentType: 'video/mp4', size: 21 * 1024 * 1024 }),
    expect: { api: 413 },
  },
  {
    name: 'a content type with a header injected',
    request: () => ({
      filename: 'a.mp4',
      contentType: 'video/mp4\r\nx-amz-acl: public-read',
      size: 1000,
    }),
    expect: { api: 400 },
  },
  {
    name: 'a filename with a newline',
    request: () => ({ filename: 'a\nb.mp4', contentType: 'video/mp4', size: 1000 }),
    expect: { api: 400 },
  },
  {
    name: 'a caption label with a newline and a playlist tag',
    request: () => ({
      filename: 'a.mp4',
      size: 1000,
      captions: [
        { language: 'en', format: 'srt', size: 100, label: 'en\n#EXT-X-STREAM-INF:BANDWIDTH=1' },
      ],
    }),
    expect: { api: 400 },
  },
  {
    name: 'a caption language that is a path',
    request: () => ({
      filename: 'a.mp4',
      size: 1000,
      captions: [{ language: '../../x', format: 'srt', size: 100 }],
    }),
    expect: { api: 400 },
  },
  {
    name: 'a negative size',
    request: () => ({ filename: 'a.mp4', contentType: 'video/mp4', size: -5 }),
    expect: { api: 400 },
  },
  {
    name: 'a body that is not JSON',
    request: () => '{"filename": "a.mp4", "size": ',
    expect: { api: 400 },
  },
  {
    name: 'a filename with ../, quotes and non-ASCII (kept as metadata; the key is ours)',
    upload: async () => ({ file: await clip('named') }),
    expect: { status: 'ready' },
    check: async (id) => {
      expect(id).toMatch(/^[a-z0-9]{20}$/);
    },
  },
];

interface Result {
  name: string;
  ok: boolean;
  got: string;
}

const results: Result[] = [];

async function runCase(c: Case): Promise<Result> {
  if (c.request) {
    const body = c.request();
    const res = await api.request('POST', '/videos', body);
    const want = (c.expect as { api: number }).api;
    return { name: c.name, ok: res.status === want, got: `HTTP ${res.status}` };
  }
  if (!c.upload) throw new Error(`case ${c.name} has nothing to do`);
  const { file, contentType, declaredSize } = await c.upload();
  const filename = c.name.startsWith('a filename with') ? `../../"évil" 名前.mp4` : undefined;
  const id = await api.upload(file, contentType ?? 'video/mp4', declaredSize, filename);
  const view = await api.waitFor(id);
  const got = view.status === 'failed' ? `failed ${view.error?.code}` : view.status;
  let ok: boolean;
  if ('api' in c.expect) ok = false;
  else if (c.expect.status === 'ready') ok = view.status === 'ready';
  else {
    ok = view.status === 'failed' && c.expect.codes.includes(view.error?.code ?? '');
    // Limits and unreadable files are refused on the probe: nothing was encoded or stored.
    if (ok && c.expect.beforeCompute) ok = (await outputKeys(id)) === 0;
    // No failure message leaks a path or a file's content.
    if (ok) ok = !/root:|\/etc\/|\/tmp\/|127\.0\.0\.1/.test(JSON.stringify(view.error));
  }
  if (ok && c.check) await c.check(id);
  return { name: c.name, ok, got };
}

describe('the hostile-input suite', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it('ends every case as expected, and nothing reaches a local file or server', async () => {
    // A few at a time, as uploads arrive: each also shows it does not hold up the others.
    const queue = [...CASES];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) results.push(await runCase(c));
      }),
    );
    const expected = results.filter((r) => r.ok).length;
    console.log(results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.got}`).join('\n'));
    console.log(`hostile inputs: ${results.length} tried, ${expected} ended as expected`);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect({ canaryHits, fifoOpened }).toEqual({ canaryHits: 0, fifoOpened: false });
  }, 600_000);
});
