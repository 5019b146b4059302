/**
 * Hostile and broken uploads end `failed` with a specific code, touch nothing else, and do
 * not hold up a good video processed beside them (DESIGN.md §5, security).
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-hostile-'));
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: { SPOOL_LOG_LEVEL: 'silent', SPOOL_RETRY_BACKOFF_SECONDS: '1' },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const outputKeys = (id: string) => outputKeyCount(stack, id);

async function file(name: string, body: string | Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, body);
  return p;
}

describe('a hostile or broken upload', () => {
  it('of random bytes fails as UNREADABLE_MEDIA', async () => {
    const id = await api.upload(await file('noise.mp4', randomBytes(200_000)));
    const v = await api.waitFor(id);
    expect(v.status).toBe('failed');
    expect(v.error?.code).toBe('UNREADABLE_MEDIA');
    expect(await outputKeys(id)).toBe(0);
  });

  it('that is an HLS playlist pointing at local files never makes ffmpeg read them', async () => {
    // The classic SSRF/file-read: a playlist disguised as AVI, naming file:// and http URLs.
    const playlist = [
      '#EXTM3U',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXTINF:10.0,',
      'file:///etc/passwd',
      '#EXTINF:10.0,',
      'http://169.254.169.254/latest/meta-data/',
      '#EXT-X-ENDLIST',
    ].join('\n');
    const id = await api.upload(await file('evil.avi', playlist), 'video/x-msvideo');
    const v = await api.waitFor(id);
    expect(v.status).toBe('failed');
    expect(['UNREADABLE_MEDIA', 'UNSUPPORTED_CONTAINER']).toContain(v.error?.code);
    expect(JSON.stringify(v.error)).not.toMatch(/root:|passwd|127\.0\.0\.1|\/tmp\//);
    expect(await outputKeys(id)).toBe(0);
  });

  it('with no video stream fails as NO_VIDEO_STREAM', async () => {
    const wav = join(dir, 'tone.wav');
    await run(FFMPEG, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=3', wav]);
    const v = await api.waitFor(await api.upload(wav, 'video/x-wav'));
    expect(v.error?.code).toBe('NO_VIDEO_STREAM');
  });

  it('whose size differs from the declared size fails as SIZE_MISMATCH', async () => {
    const src = await makeSource(dir, 'sized', { width: 320, height: 240, rate: '25', seconds: 2 });
    const v = await api.waitFor(await api.upload(src, 'video/mp4', 1234));
    expect(v.error?.code).toBe('SIZE_MISMATCH');
  });

  it('that is truncated mid-stream fails with a specific code instead of hanging', async () => {
    // The index after the media, as a camera writes it: the cut loses the index.
    const src = await makeSource(dir, 'whole', {
      width: 320,
      height: 240,
      rate: '25',
      seconds: 4,
      faststart: false,
    });
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(src);
    const cut = await file('cut.mp4', bytes.subarray(0, Math.floor(bytes.length / 2)));
    const v = await api.waitFor(await api.upload(cut));
    expect(v.status).toBe('failed');
    expect(v.error?.code).toMatch(/^(UNREADABLE_MEDIA|DECODE_FAILED)$/);
  });

  it('does not hold up a good video uploaded beside it', async () => {
    const good = await makeSource(dir, 'good', {
      width: 320,
      height: 240,
      rate: '25',
      seconds: 3,
      audio: true,
    });
    const bad = await file('bad.mp4', randomBytes(50_000));
    const [goodId, badId] = await Promise.all([api.upload(good), api.upload(bad)]);
    const [g, b] = await Promise.all([api.waitFor(goodId), api.waitFor(badId)]);
    expect(g.status).toBe('ready');
    expect(b.status).toBe('failed');
  });
});
