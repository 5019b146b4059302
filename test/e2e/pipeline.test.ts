/**
 * End to end through `npm start`'s stack: upload through the presigned URL, wait for ready,
 * then check what a player gets from the CloudFront stand-in with ffmpeg/ffprobe.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateHls } from '../support/hls-validator.js';
import { makeSource, type SourceSpec, sharedMedia } from '../support/media.js';
import { countRecords, expectPlayable, fetchManifest } from '../support/playable.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';

let dir: string;
let stack: RunningStack;
let api: ApiClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-e2e-'));
  // One segment per chunk, so even short clips are cut into several parallel chunk jobs.
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: { SPOOL_CHUNK_SEGMENTS: '1', SPOOL_LOG_LEVEL: 'silent' },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const generated: [string, SourceSpec][] = [
  [
    'H.264/AAC 1280x720 30 fps, 14 s',
    { width: 1280, height: 720, rate: '30', seconds: 14, audio: true },
  ],
  [
    'WebM VP8/Vorbis 480x270 25 fps',
    { width: 480, height: 270, rate: '25', seconds: 7, kind: 'webm-vp8', audio: true },
  ],
  [
    'WebM VP9 without audio, 23.976 fps',
    { width: 426, height: 240, rate: '24000/1001', seconds: 7, kind: 'webm-vp9' },
  ],
  ['odd size 256x240 at 35 fps', { width: 256, height: 240, rate: '35', seconds: 8, audio: true }],
  [
    'portrait 9:16 at 29.97 fps, 5.1 audio',
    { width: 360, height: 640, rate: '30000/1001', seconds: 7, audio: { channels: 6 } },
  ],
  ['square 480x480 at 60 fps', { width: 480, height: 480, rate: '60', seconds: 4 }],
];

describe('a clip uploaded through the presigned URL', () => {
  it.each(generated)('%s becomes a complete, frame-exact HLS ladder', async (name, spec) => {
    const file = await makeSource(dir, name.replace(/\W+/g, '-'), spec);
    const id = await api.upload(file, spec.kind?.startsWith('webm') ? 'video/webm' : 'video/mp4');
    const view = await api.waitFor(id);
    await expectPlayable(view, file, { framesCoded: true });
    // The 2 s opening, then a chunk job per 6 s segment (one segment per chunk here).
    expect(await countRecords(stack.s3Endpoint, 'spool-uploads', `state/${id}/chunks/`)).toBe(
      1 + Math.ceil((spec.seconds - 2) / 6.0001),
    );
  });

  const real: [string, string][] = [
    ['video-1080p-60fps-2s.mp4', 'video/mp4'],
    ['Big_Buck_Bunny_180_10s.webm', 'video/webm'],
  ];
  const absent = real.filter(([name]) => !sharedMedia(name)).map(([name]) => name);
  if (absent.length > 0) {
    console.warn(`skipping ${absent.join(', ')}: ../shared/media is not beside this checkout`);
  }
  it.each(real.filter(([name]) => sharedMedia(name)))(
    'real clip %s becomes a complete HLS ladder',
    async (name, type) => {
      const file = sharedMedia(name) ?? '';
      const view = await api.waitFor(await api.upload(file, type));
      await expectPlayable(view, file, { framesCoded: false });
    },
  );

  const wav = sharedMedia('audio-15s.wav');
  if (!wav) console.warn('skipping audio-15s.wav: ../shared/media is not beside this checkout');
  it.skipIf(!wav)(
    'real clip audio-15s.wav, which has no video, ends failed as NO_VIDEO_STREAM',
    async () => {
      const file = wav ?? '';
      const view = await api.waitFor(await api.upload(file, 'application/octet-stream'));
      expect(view.status).toBe('failed');
      expect(view.error?.code).toBe('NO_VIDEO_STREAM');
    },
  );
});

describe('the upload API', () => {
  it('rejects a request without the bearer token', async () => {
    const res = await api.request('GET', '/videos', undefined, '');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
  });

  it('names the bad field of an invalid body', async () => {
    const res = await api.request('POST', '/videos', {
      filename: 'a.mp4',
      contentType: 'video/mp4',
    });
    expect(res.status).toBe(400);
    expect((res.body.error as { message: string }).message).toMatch(/^size/);
  });

  it('refuses a declared size over the maximum with 413', async () => {
    const res = await api.request('POST', '/videos', {
      filename: 'big.mp4',
      contentType: 'video/mp4',
      // Over the default maxUploadBytes of 50 GiB.
      size: 50 * 1024 ** 3 + 1,
    });
    expect(res.status).toBe(413);
  });

  it('answers 404 for an unknown video', async () => {
    expect((await api.request('GET', '/videos/aaaaaaaaaaaaaaaaaaaa')).status).toBe(404);
    expect((await api.request('GET', '/videos/..%2F..%2Fetc')).status).toBe(404);
  });

  it('signs a server-chosen key that expires within 15 minutes', async () => {
    const res = await api.request('POST', '/videos', {
      filename: '../../evil name.mp4',
      contentType: 'video/mp4',
      size: 10,
    });
    const upload = res.body.upload as { url: string; expiresAt: string; method: string };
    const url = new URL(upload.url);
    expect(url.pathname).toBe(`/spool-uploads/uploads/${res.body.id}/source`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('content-length');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('content-type');
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
    expect(Date.parse(upload.expiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
    expect((await api.get(res.body.id as string)).status).toBe('awaiting_upload');
  });

  it('lists videos newest first, a page at a time', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.request('POST', '/videos', {
        filename: `${i}.mp4`,
        contentType: 'video/mp4',
        size: 1,
      });
      ids.push(r.body.id as string);
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await api.request('GET', '/videos?limit=2');
    const items = first.body.items as { id: string }[];
    expect(items.map((v) => v.id)).toEqual([ids[2], ids[1]]);
    const cursor = first.body.nextCursor as string;
    expect(cursor).toBeTruthy();
    const second = await api.request('GET', `/videos?limit=2&cursor=${cursor}`);
    expect((second.body.items as { id: string }[])[0]?.id).toBe(ids[0]);
  });
});

describe('captions uploaded with the video', () => {
  it('become a WebVTT subtitles rendition on the video clock', async () => {
    const file = await makeSource(dir, 'captioned', {
      width: 640,
      height: 360,
      rate: '30',
      seconds: 8,
      audio: true,
    });
    const srt = join(dir, 'en.srt');
    await writeFile(
      srt,
      '1\r\n00:00:01,000 --> 00:00:03,000\r\nHello <b>there</b>\r\n\r\n2\r\n00:00:05,000 --> 00:00:07,500\r\nLater on\r\n',
    );
    const id = await api.uploadWithCaptions(file, srt);
    const view = await api.waitFor(id);
    expect(view.captions).toEqual([{ language: 'en', label: 'English' }]);
    await expectPlayable(view, file, { framesCoded: true });

    const { manifest } = await fetchManifest(view.playbackUrl ?? '');
    const subs = Object.values(manifest.mediaGroups?.SUBTITLES ?? {})[0]?.English;
    expect(subs?.language).toBe('en');
    const listUrl = new URL(subs?.uri ?? '', view.playbackUrl).toString();
    const list = await fetchManifest(listUrl);
    // The opening's 2 s segment, then the rest.
    expect(list.manifest.segments?.map((s) => s.duration)).toEqual([2, 6]);
    const first = await (await fetch(new URL('sub_00000.vtt', listUrl))).text();
    // The first video frame's MPEG-TS time is LOCAL 0, so cue times are video times.
    expect(first).toMatch(/^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:00:00:00\.000\n/);
    expect(first).toContain('00:00:01.000 --> 00:00:03.000\nHello <b>there</b>');
    const second = await (await fetch(new URL('sub_00001.vtt', listUrl))).text();
    // The first cue crosses the join at 2 s: it is in both segments.
    expect(second).toContain('00:00:01.000 --> 00:00:03.000\nHello <b>there</b>');
    expect(second).toContain('00:00:05.000 --> 00:00:07.500\nLater on');
  });
});

describe('the HLS validator', () => {
  it('reports a stream that breaks the authoring rules', async () => {
    const file = await makeSource(dir, 'tamper', {
      width: 320,
      height: 240,
      rate: '25',
      seconds: 3,
      audio: true,
    });
    const view = await api.waitFor(await api.upload(file));
    const origin = new URL(view.playbackUrl ?? '');
    // A server in front of the CDN that lies: wrong type, no gzip, long-cached playlists,
    // halved bandwidth, no independent-segments tag, no I-frame playlists.
    const server = createServer(async (req, res) => {
      const upstream = await fetch(new URL(req.url ?? '/', origin));
      let body: string | Buffer = Buffer.from(await upstream.arrayBuffer());
      if (req.url?.endsWith('master.m3u8')) {
        body = body
          .toString()
          .replace('#EXT-X-INDEPENDENT-SEGMENTS\n', '')
          .replace(/BANDWIDTH=(\d+)/g, (_, n) => `BANDWIDTH=${Math.round(Number(n) / 2)}`)
          .replace(/#EXT-X-I-FRAME-STREAM-INF.*\n/g, '');
      }
      res.writeHead(upstream.status, {
        'content-type': req.url?.endsWith('.m3u8')
          ? 'text/plain'
          : (upstream.headers.get('content-type') ?? ''),
        'cache-control': 'max-age=86400',
      });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const problems = await validateHls(`http://127.0.0.1:${port}${origin.pathname}`);
      const text = problems.join('\n');
      expect(text).toContain('master: EXT-X-INDEPENDENT-SEGMENTS missing');
      expect(text).toContain('not application/vnd.apple.mpegurl');
      expect(text).toContain('not gzip-compressed');
      expect(text).toContain('is not short');
      expect(text).toMatch(/measured peak \d+ b\/s is not within 10% of BANDWIDTH/);
      expect(text).toContain('I-frame playlists for');
    } finally {
      server.close();
    }
  });
});
