/**
 * End to end through `npm start`'s stack: upload through the presigned URL, wait for ready,
 * then check what a player gets from the CloudFront stand-in with ffmpeg/ffprobe.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSource, type SourceSpec, sharedMedia } from '../support/media.js';
import { countRecords, expectPlayable } from '../support/playable.js';
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
    // Several chunk jobs whenever the source is longer than one chunk (one 6 s segment here).
    expect(await countRecords(stack.s3Endpoint, 'spool-uploads', `state/${id}/chunks/`)).toBe(
      Math.ceil(spec.seconds / 6.0001),
    );
  });

  const real: [string, string][] = [
    ['video-1080p-60fps-2s.mp4', 'video/mp4'],
    ['Big_Buck_Bunny_180_10s.webm', 'video/webm'],
  ];
  it.each(real)('real clip %s becomes a complete HLS ladder', async (name, type) => {
    const file = sharedMedia(name);
    if (!file) {
      console.warn(`skipping ${name}: ../shared/media is not beside this checkout`);
      return;
    }
    const view = await api.waitFor(await api.upload(file, type));
    await expectPlayable(view, file, { framesCoded: false });
  });
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
      size: 6 * 1024 ** 3,
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
