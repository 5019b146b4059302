/**
 * DELETE /videos/{id} end to end through `npm start`'s stack: a ready video, and one deleted
 * while its jobs run, leave nothing that names them in either bucket but their tombstone,
 * and answer 404 afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSource } from '../support/media.js';
import { countRecords } from '../support/playable.js';
import {
  ApiClient,
  keysNaming,
  messagesIn,
  type RunningStack,
  startStack,
  until,
} from '../support/stack.js';

let dir: string;
let stack: RunningStack;
let api: ApiClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-delete-'));
  // One segment per chunk, so a clip is many jobs; one worker, so they run one at a time and
  // a delete finds some done, one under way and the rest waiting.
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: { SPOOL_CHUNK_SEGMENTS: '1', SPOOL_WORKERS: '1', SPOOL_LOG_LEVEL: 'silent' },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** What every video leaves once deleted: its tombstone, outside the video's prefixes. */
const onlyTombstone = (id: string) => [`spool-uploads/deleted/${id}`];

describe('DELETE /videos/{id}', () => {
  it('removes a ready video from both buckets and the CDN, and answers 404 after', async () => {
    const file = await makeSource(dir, 'ready', {
      width: 320,
      height: 240,
      rate: '25',
      seconds: 6,
      audio: true,
    });
    const id = await api.upload(file);
    const view = await api.waitFor(id);
    expect(view.status).toBe('ready');
    const before = await keysNaming(stack, id);
    expect(before).toEqual(
      expect.arrayContaining([
        `spool-uploads/uploads/${id}/source`,
        `spool-uploads/state/${id}/video.json`,
        `spool-uploads/state/${id}/ready.json`,
        `spool-output/videos/${id}/master.m3u8`,
      ]),
    );
    expect(before.filter((k) => k.startsWith('spool-uploads/index/'))).toHaveLength(1);
    expect(before.filter((k) => k.endsWith('.ts')).length).toBeGreaterThan(0);

    expect(await api.delete(id)).toEqual({ status: 204, body: '' });

    expect(await keysNaming(stack, id)).toEqual(onlyTombstone(id));
    const got = await api.request('GET', `/videos/${id}`);
    expect(got).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.any(String) } },
    });
    const listed = await api.request('GET', '/videos?limit=100');
    expect(listed.status).toBe(200);
    expect((listed.body.items as { id: string }[]).map((v) => v.id)).not.toContain(id);
    // The CloudFront stand-in reads through to the bucket: the playlist is gone there too.
    expect((await fetch(view.playbackUrl ?? '')).status).toBe(404);
    // A second DELETE finds nothing more to remove, and says it is done.
    expect((await api.delete(id)).status).toBe(204);
  });

  it('stops the jobs of a video deleted while it is processed, and nothing they write stays', async () => {
    const file = await makeSource(dir, 'long', {
      width: 480,
      height: 270,
      rate: '25',
      seconds: 40,
      audio: true,
    });
    const id = await api.upload(file);
    // The opening (ingest's) and the first job are done: ingest has sent all the jobs, and
    // the worker is on the next of six.
    await until(
      'two chunks done',
      async () =>
        (await countRecords(stack.s3Endpoint, 'spool-uploads', `state/${id}/chunks/`)) >= 2,
    );
    const view = await api.get(id);
    expect(view).toMatchObject({ status: 'processing', playable: true });

    expect((await api.delete(id)).status).toBe(204);

    // Every job, publish and purge the delete left behind has run (a message is counted
    // while it is handled; a stage asks for its purge before its own message goes).
    await until(
      'the queues drain',
      async () =>
        (await messagesIn(stack, ['spool-jobs', 'spool-publish.fifo', 'spool-purge'])) === 0,
    );
    expect(await keysNaming(stack, id)).toEqual(onlyTombstone(id));
    expect((await api.request('GET', `/videos/${id}`)).status).toBe(404);
  });

  it('answers 404 for an unknown id, 400 for a malformed one and 401 without the token', async () => {
    const unknown = await api.delete('abcdefghij0123456789');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({
      error: { code: 'NOT_FOUND', message: expect.any(String) },
    });
    for (const bad of ['not-an-id', 'ABCDEFGHIJ0123456789', '../state', 'abcdefghij01234567890']) {
      const res = await api.delete(bad);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error.code).toBe('INVALID_INPUT');
    }
    expect((await api.delete('abcdefghij0123456789', '')).status).toBe(401);
  });
});
