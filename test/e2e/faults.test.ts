/**
 * Faults through `npm start`'s stack, as AWS delivers them: at least once, and with workers
 * that die. After each, the video must end `ready` with output byte-identical to an
 * undisturbed run of the same file: the same objects, no segment missing or duplicated.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/core/keys.js';
import { makeSource } from '../support/media.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';

const run = promisify(execFile);
let dir: string;
let stack: RunningStack;
let api: ApiClient;
let s3: S3Client;
let sqs: SQSClient;
let clip: string;
/** Relative output key → sha256, of the undisturbed run. */
let baseline: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-faults-'));
  stack = await startStack({
    dataDir: join(dir, 'data'),
    // One segment per chunk: a 12 s clip is two chunk jobs plus the audio job.
    env: {
      SPOOL_CHUNK_SEGMENTS: '1',
      SPOOL_RETRY_BACKOFF_SECONDS: '1',
      SPOOL_LOG_LEVEL: 'silent',
      SPOOL_WORKERS: '2',
    },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
  const local = { region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } };
  s3 = new S3Client({
    ...local,
    endpoint: stack.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  sqs = new SQSClient({ ...local, endpoint: stack.sqsEndpoint });
  // Slow enough to encode that a fault lands mid-job.
  clip = await makeSource(dir, 'clip', {
    width: 640,
    height: 360,
    rate: '25',
    seconds: 12,
    audio: true,
  });
  const id = await api.upload(clip);
  expect((await api.waitFor(id)).status).toBe('ready');
  baseline = await outputHashes(id);
  const digest = createHash('sha256')
    .update(JSON.stringify(Object.entries(baseline).sort()))
    .digest('hex');
  console.log(
    `faults: the undisturbed run wrote ${Object.keys(baseline).length} objects, digest ${digest}`,
  );
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every object a player can fetch, by key below `videos/{id}/`, with its sha256. */
async function outputHashes(id: string): Promise<Record<string, string>> {
  const prefix = keys.output(id);
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: 'spool-output', Prefix: prefix }),
  );
  const hashes: Record<string, string> = {};
  for (const o of listed.Contents ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'spool-output', Key: o.Key }));
    const body = await got.Body?.transformToByteArray();
    hashes[(o.Key ?? '').slice(prefix.length)] = createHash('sha256')
      .update(body ?? new Uint8Array())
      .digest('hex');
  }
  return hashes;
}

async function queueUrl(name: string): Promise<string> {
  return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
}

/** Waits until a queue has no message waiting or in flight. */
async function drained(name: string): Promise<void> {
  const url = await queueUrl(name);
  for (const end = Date.now() + 60_000; Date.now() < end; ) {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    if (
      Number(a?.ApproximateNumberOfMessages) + Number(a?.ApproximateNumberOfMessagesNotVisible) ===
      0
    ) {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not drain`);
}

/** PIDs of the ffmpeg processes this test's stack runs (its children only). */
async function stackEncoders(): Promise<number[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,ppid=,args=']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(
      ([, ppid, cmd, ...args]) =>
        Number(ppid) === stack.proc.pid && /ffmpeg$/.test(cmd ?? '') && args.includes('libx264'),
    )
    .map(([pid]) => Number(pid));
}

describe('faults', () => {
  it('a job stopped at a (simulated) Lambda timeout is retried to the same output', async () => {
    // A second stack whose first two transcode invocations get 21 s: their ffmpeg is stopped
    // a second in, as the kill timer does 20 s before a real timeout.
    const timed = await startStack({
      dataDir: join(dir, 'timeouts'),
      env: {
        SPOOL_CHUNK_SEGMENTS: '1',
        SPOOL_RETRY_BACKOFF_SECONDS: '1',
        SPOOL_WORKERS: '2',
        SPOOL_SIMULATE_TIMEOUTS: '2',
        // Logged, to show the jobs were in fact stopped at the time limit.
        SPOOL_LOG_LEVEL: 'info',
      },
    });
    try {
      const other = new ApiClient(timed.baseUrl, timed.token);
      const id = await other.upload(clip);
      expect((await other.waitFor(id)).status).toBe('ready');
      expect(timed.output()).toContain("stopped at the function's time limit");
      const otherS3 = s3;
      s3 = new S3Client({
        region: 'us-east-1',
        endpoint: timed.s3Endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      try {
        expect(await outputHashes(id)).toEqual(baseline);
      } finally {
        s3 = otherS3;
      }
    } finally {
      await timed.stop();
    }
  }, 300_000);

  it('a duplicate S3 event leaves one plan and the same output', async () => {
    const id = await api.upload(clip);
    // A copy onto itself is a second ObjectCreated event for the same source.
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'spool-uploads',
        Key: keys.source(id),
        CopySource: `spool-uploads/${keys.source(id)}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'video/mp4',
      }),
    );
    expect((await api.waitFor(id)).status).toBe('ready');
    expect(await outputHashes(id)).toEqual(baseline);
  }, 300_000);

  it('the same file PUT twice to the presigned URL (a client retry) gives the same output', async () => {
    const body = await readFile(clip);
    const created = await api.request('POST', '/videos', {
      filename: 'clip.mp4',
      contentType: 'video/mp4',
      size: body.length,
    });
    const { id, upload } = created.body as {
      id: string;
      upload: { url: string; headers: Record<string, string> };
    };
    for (let i = 0; i < 2; i++) {
      const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
      expect(put.ok).toBe(true);
    }
    expect((await api.waitFor(id)).status).toBe('ready');
    expect(await outputHashes(id)).toEqual(baseline);
  }, 300_000);

  it('a chunk job whose ffmpeg is killed mid-encode is retried to the same output', async () => {
    const id = await api.upload(clip);
    let killed: number | undefined;
    for (const end = Date.now() + 60_000; !killed && Date.now() < end; ) {
      const [pid] = await stackEncoders();
      if (pid) {
        process.kill(pid, 'SIGKILL');
        killed = pid;
      } else await new Promise((r) => setTimeout(r, 20));
    }
    expect(killed, 'no chunk encoder was seen to kill').toBeDefined();
    const view = await api.waitFor(id);
    expect(view.status).toBe('ready');
    expect(await outputHashes(id)).toEqual(baseline);
  }, 300_000);

  it('s3rver restarted mid-job: the jobs retry their way to the same output', async () => {
    const id = await api.upload(clip);
    let encoding = false;
    for (const end = Date.now() + 60_000; !encoding && Date.now() < end; ) {
      encoding = (await stackEncoders()).length > 0;
      if (!encoding) await new Promise((r) => setTimeout(r, 20));
    }
    expect(encoding, 'no chunk encoder was seen: the restart would not be mid-job').toBe(true);
    const restarts = stack.output().split('s3rver restarted').length;
    stack.proc.kill('SIGUSR2');
    const view = await api.waitFor(id);
    expect(stack.output().split('s3rver restarted').length).toBe(restarts + 1);
    expect(view.status, JSON.stringify(view.error)).toBe('ready');
    expect(await outputHashes(id)).toEqual(baseline);
  }, 300_000);

  it('jobs and a publish delivered again after the video is ready change nothing', async () => {
    const id = await api.upload(clip);
    expect((await api.waitFor(id)).status).toBe('ready');
    const before = await s3.send(
      new ListObjectsV2Command({ Bucket: 'spool-output', Prefix: keys.output(id) }),
    );
    const jobs = await queueUrl('spool-jobs');
    for (const body of [
      { type: 'video-chunk', videoId: id, chunk: 0 },
      { type: 'video-chunk', videoId: id, chunk: 1 },
    ]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: jobs, MessageBody: JSON.stringify(body) }));
    }
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl('spool-publish.fifo'),
        MessageBody: JSON.stringify({ type: 'publish', videoId: id }),
        MessageGroupId: id,
        MessageDeduplicationId: `${id}-again`,
      }),
    );
    await drained('spool-jobs');
    await drained('spool-publish.fifo');
    const after = await s3.send(
      new ListObjectsV2Command({ Bucket: 'spool-output', Prefix: keys.output(id) }),
    );
    // Nothing rewritten: the same keys, each with the time it was first written.
    expect(after.Contents?.map((o) => [o.Key, o.LastModified?.getTime()])).toEqual(
      before.Contents?.map((o) => [o.Key, o.LastModified?.getTime()]),
    );
    expect(await outputHashes(id)).toEqual(baseline);
    expect((await api.waitFor(id)).status).toBe('ready');
  }, 300_000);

  it('a poison job that fails every attempt fails its video with the reason, and only it', async () => {
    // A job for a video that has no plan (a message from nowhere): it fails, transiently,
    // every time. A good video goes through beside it.
    const created = await api.request('POST', '/videos', {
      filename: 'never.mp4',
      contentType: 'video/mp4',
      size: 1000,
    });
    const poisoned = created.body.id as string;
    const started = Date.now();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl('spool-jobs'),
        MessageBody: JSON.stringify({ type: 'video-chunk', videoId: poisoned, chunk: 0 }),
      }),
    );
    const good = await api.upload(clip);
    const view = await api.waitFor(poisoned, (v) => v.status === 'failed');
    expect(view.error).toEqual({
      code: 'TRANSCODE_FAILED',
      message: 'chunk 0 failed after 5 attempts: internal error',
    });
    // Five attempts, 1 + 2 + 4 + 8 s of backoff apart: well within two minutes.
    expect(Date.now() - started).toBeLessThan(120_000);
    expect((await api.waitFor(good)).status).toBe('ready');
    expect(await outputHashes(good)).toEqual(baseline);
  }, 300_000);
});
