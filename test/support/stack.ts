/** Runs `npm start`'s entry point as a child process, the way a user runs it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { VideoView } from '../../functions/core/state.js';

export const REPO = resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export interface RunningStack {
  baseUrl: string;
  token: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM and wait; or SIGKILL the whole process (kill -9) when `hard`. */
  stop(hard?: boolean): Promise<void>;
}

export async function startStack(opts: {
  dataDir: string;
  port?: number;
  env?: Record<string, string>;
}): Promise<RunningStack> {
  const port = opts.port ?? (await freePort());
  const proc = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '--import', 'tsx', 'local/start.ts'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: String(port),
        SPOOL_DATA_DIR: opts.dataDir,
        SPOOL_API_TOKEN: 'test-token',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a hard stop takes its ffmpeg children too (like kill -9
      // of a terminal's foreground job).
      detached: true,
    },
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    out += d;
  });
  const started = Date.now();
  // Wait for the whole banner: the lines after "ready at" (token, s3 endpoint) can arrive in
  // a later chunk of output on a busy machine.
  while (!/ready at[\s\S]*\n\s*sqs:\s+\S+/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`local stack exited:\n${out}`);
    if (Date.now() - started > 30_000) {
      proc.kill('SIGKILL');
      throw new Error(`local stack not ready in 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pick = (re: RegExp) => re.exec(out)?.[1] ?? '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    baseUrl: pick(/ready at (\S+)/),
    token: pick(/API token:\s+(\S+)/),
    s3Endpoint: pick(/s3:\s+(\S+)/),
    sqsEndpoint: pick(/sqs:\s+(\S+)/),
    proc,
    output: () => out,
    stop: async (hard = false) => {
      if (proc.exitCode === null && proc.pid) {
        if (hard) process.kill(-proc.pid, 'SIGKILL');
        else proc.kill('SIGTERM');
      }
      await exited;
    },
  };
}

/** GET /videos/{id}: the view the API derives (functions/core/state.ts), as JSON. */
export type { VideoView } from '../../functions/core/state.js';

interface PresignedUpload {
  url: string;
  headers: Record<string, string>;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request(method: string, path: string, body?: unknown, token = this.token) {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /**
   * POST /videos then PUT the file to the presigned URL (or, above the multipart threshold,
   * its parts), as a client app does.
   */
  async upload(
    file: string,
    contentType = 'video/mp4',
    declaredSize?: number,
    filename = file.split('/').pop(),
  ): Promise<string> {
    const { size } = await stat(file);
    const created = await this.request('POST', '/videos', {
      filename,
      contentType,
      size: declaredSize ?? size,
    });
    if (created.status !== 201) throw new Error(`POST /videos: ${JSON.stringify(created)}`);
    if (created.body.multipart) {
      const { partCount } = created.body.multipart as { partCount: number };
      await this.uploadInParts(created.body.id as string, file, partCount);
      return created.body.id as string;
    }
    const upload = created.body.upload as { url: string; headers: Record<string, string> };
    const put = await fetch(upload.url, {
      method: 'PUT',
      headers: upload.headers,
      body: await readFile(file),
    });
    if (!put.ok) throw new Error(`PUT: ${put.status}`);
    return created.body.id as string;
  }

  /** A source above the multipart threshold: every part, read from disk in turn, then complete. */
  async uploadInParts(id: string, file: string, partCount: number): Promise<void> {
    const handle = await open(file);
    try {
      for (let first = 1; first <= partCount; first += 100) {
        const partNumbers = Array.from(
          { length: Math.min(100, partCount - first + 1) },
          (_, i) => first + i,
        );
        const res = await this.request('POST', `/videos/${id}/parts`, { partNumbers });
        if (res.status !== 200) throw new Error(`POST parts: ${JSON.stringify(res)}`);
        for (const part of res.body.parts as (PresignedUpload & {
          offset: number;
          size: number;
        })[]) {
          const body = Buffer.alloc(part.size);
          await handle.read(body, 0, part.size, part.offset);
          const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body });
          if (!put.ok) throw new Error(`PUT part: ${put.status}`);
        }
      }
    } finally {
      await handle.close();
    }
    const done = await this.request('POST', `/videos/${id}/complete`);
    if (done.status !== 200) throw new Error(`POST complete: ${JSON.stringify(done)}`);
  }

  /**
   * POST /videos declaring one English SRT sidecar, PUT the captions, then the video (its
   * upload starts processing, so the captions go first). Throws on any non-success status.
   */
  async uploadWithCaptions(file: string, srt: string, contentType = 'video/mp4'): Promise<string> {
    const created = await this.request('POST', '/videos', {
      filename: file.split('/').pop(),
      contentType,
      size: (await stat(file)).size,
      captions: [{ language: 'en', label: 'English', format: 'srt', size: (await stat(srt)).size }],
    });
    if (created.status !== 201) throw new Error(`POST /videos: ${JSON.stringify(created)}`);
    const body = created.body as unknown as {
      id: string;
      upload: PresignedUpload;
      captions?: { language: string; upload: PresignedUpload }[];
    };
    const caption = body.captions?.[0];
    if (!caption) throw new Error('POST /videos returned no caption upload');
    for (const [upload, path] of [
      [caption.upload, srt],
      [body.upload, file],
    ] as const) {
      const status = await this.putTo(upload, path);
      if (status !== 200) throw new Error(`PUT ${path}: HTTP ${status}`);
    }
    return body.id;
  }

  /** PUT a file to a presigned upload from POST /videos (the video's, or a caption's). */
  async putTo(upload: PresignedUpload, file: string): Promise<number> {
    const res = await fetch(upload.url, {
      method: 'PUT',
      headers: upload.headers,
      body: await readFile(file),
    });
    return res.status;
  }

  /** DELETE /videos/{id}: the status and the raw body (a 204 has none). */
  async delete(id: string, token = this.token): Promise<{ status: number; body: string }> {
    const res = await fetch(`${this.baseUrl}/videos/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: await res.text() };
  }

  async get(id: string): Promise<VideoView> {
    const res = await this.request('GET', `/videos/${id}`);
    if (res.status !== 200) {
      throw Object.assign(
        new Error(`GET /videos/${id}: ${res.status} ${JSON.stringify(res.body)}`),
        {
          status: res.status,
        },
      );
    }
    return res.body as unknown as VideoView;
  }

  /** Poll until the video is ready or failed (or `until` holds). */
  async waitFor(
    id: string,
    until: (v: VideoView) => boolean = (v) => v.status === 'ready' || v.status === 'failed',
    timeoutMs = 120_000,
  ): Promise<VideoView> {
    const started = Date.now();
    for (;;) {
      // A poll that gets a 5xx or no answer at all (a dropped connection) polls again, as a
      // client would; a 4xx is the answer.
      const v = await this.get(id).catch((err: Error & { status?: number; cause?: unknown }) => {
        const transient = err.status === undefined || err.status >= 500;
        if (!transient || Date.now() - started > timeoutMs) throw err;
        console.warn(`retrying a poll: ${err.message} ${String(err.cause ?? '')}`);
        return undefined;
      });
      if (v && until(v)) return v;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`video ${id} still ${v?.status} after ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** An S3 client of the local stack's s3rver. */
async function localS3(stack: Pick<RunningStack, 's3Endpoint'>) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

/** Objects in the output bucket below `videos/{id}/`: zero for a video refused before work. */
export async function outputKeyCount(stack: Pick<RunningStack, 's3Endpoint'>, id: string) {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const s3 = await localS3(stack);
  const res = await s3.send(
    new ListObjectsV2Command({ Bucket: 'spool-output', Prefix: `videos/${id}/` }),
  );
  return res.KeyCount ?? 0;
}

/**
 * Every key in both of the local stack's buckets that names the video, as `bucket/key`,
 * sorted: its upload, records, index entry, output and tombstone, wherever they are.
 */
export async function keysNaming(
  stack: Pick<RunningStack, 's3Endpoint'>,
  id: string,
): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const s3 = await localS3(stack);
  const found: string[] = [];
  for (const bucket of ['spool-uploads', 'spool-output']) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key?.includes(id)) found.push(`${bucket}/${o.Key}`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return found.sort();
}

/**
 * Messages waiting in or being handled from the local stack's queues; a message sent with a
 * delay is not counted until it shows.
 */
export async function messagesIn(
  stack: Pick<RunningStack, 'sqsEndpoint'>,
  queues: readonly string[],
): Promise<number> {
  const { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } = await import(
    '@aws-sdk/client-sqs'
  );
  const sqs = new SQSClient({
    endpoint: stack.sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let total = 0;
  for (const name of queues) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    total +=
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return total;
}

/** Poll `check` until it holds; throw with `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 300_000,
): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
