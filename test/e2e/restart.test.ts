/**
 * `kill -9` the local stack mid-transcode and start it again: the video still finishes,
 * frame-exact, from the records on disk (DESIGN.md §3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSource } from '../support/media.js';
import { countRecords, expectPlayable, storedPlan } from '../support/playable.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';

/** A 40 s source through the whole pipeline: several minutes on a busy 2-core machine. */
const LONG_MS = 300_000;

let dir: string;
let stack: RunningStack | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-restart-'));
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

it(
  'finishes a video after kill -9 and a restart mid-transcode',
  async () => {
    const source = await makeSource(dir, 'long', {
      width: 854,
      height: 480,
      rate: '30',
      seconds: 36,
      audio: true,
    });
    const env = {
      SPOOL_CHUNK_SEGMENTS: '1',
      SPOOL_WORKERS: '1',
      // A slower preset, so the kill lands while chunks are still being encoded.
      SPOOL_X264_PRESET: 'medium',
      SPOOL_LOG_LEVEL: 'silent',
    };
    const dataDir = join(dir, 'data');
    stack = await startStack({ dataDir, env });
    let api = new ApiClient(stack.baseUrl, stack.token);
    const id = await api.upload(source);
    const midway = await api.waitFor(
      id,
      (v) => v.status !== 'processing' || v.progress > 0.1,
      LONG_MS,
    );
    expect(midway.status).toBe('processing');
    // Six-second chunks, give or take one where the source's keyframes make that cheaper.
    const chunks = (await storedPlan(stack.s3Endpoint, id)).chunks.length;
    expect(chunks).toBeGreaterThanOrEqual(3);
    const doneBefore = await countRecords(stack.s3Endpoint, 'spool-uploads', `state/${id}/chunks/`);
    expect(doneBefore).toBeLessThan(chunks);

    await stack.stop(true);
    stack = await startStack({ dataDir, env: { ...env, SPOOL_X264_PRESET: 'ultrafast' } });
    api = new ApiClient(stack.baseUrl, stack.token);
    const view = await api.waitFor(id, undefined, LONG_MS);
    await expectPlayable(view, source, { framesCoded: true });
    expect(await countRecords(stack.s3Endpoint, 'spool-uploads', `state/${id}/chunks/`)).toBe(
      chunks,
    );
  },
  LONG_MS + 20_000,
);
