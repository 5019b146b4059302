/**
 * The local stack: stand-ins for S3, SQS, CloudFront and API Gateway, wired to the same
 * handler modules Lambda runs, with the same event shapes and delivery semantics.
 */

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { Context, S3Event, SQSEvent } from 'aws-lambda';
import { hostEngine } from '../engine/engine.js';
import { SqsQueue } from '../functions/adapters/sqs-queue.js';
import { EVENT_RECORDS, isVideoEvent, type VideoEventDetail } from '../functions/core/events.js';
import { keys } from '../functions/core/keys.js';
import { keyFingerprint } from '../functions/core/playback.js';
import {
  ingestMemoryMb,
  resolveSettings,
  settingsFromEnvironment,
} from '../functions/core/settings.js';
import {
  ASYNC_INVOKE_ATTEMPTS,
  FUNCTIONS,
  SWEEP_EVERY_MINUTES,
  visibilityTimeoutSeconds,
  WEBHOOK_ATTEMPTS,
} from '../functions/core/topology.js';
import { createApiServer } from './api.js';
import { startCdn } from './cdn.js';
import { LOCAL_FILES } from './data-dir.js';
import { serveDemo } from './demo/serve.js';
import { startEventBus } from './events.js';
import { recoverUnfinished } from './recover.js';
import { encodeS3Key, startS3 } from './s3.js';
import { type Poller, pollQueue, type SqsHandler, startSqs } from './sqs.js';
import { localWorkers, plannedWorkers } from './workers.js';

export interface LocalStackOptions {
  port: number;
  dataDir: string;
  token?: string;
  /** Concurrent transcode workers (Lambda's concurrency, locally). */
  workers?: number;
}

export interface LocalStack {
  baseUrl: string;
  playbackUrl: string;
  token: string;
  tokenGenerated: boolean;
  /** Key the local webhooks are signed with (HMAC-SHA256). */
  webhookSecret: string;
  webhookUrls: string[];
  /** The CDN serves signed URLs only (SPOOL_SIGNED_PLAYBACK), signed with PLAYBACK_KEY_FILE. */
  signedPlayback: boolean;
  dataDir: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  close(): Promise<void>;
}

const UPLOADS_BUCKET = 'spool-uploads';
const OUTPUT_BUCKET = 'spool-output';

const log = (message: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ level: 'info', message, ...fields, time: new Date() }));

/** The engine that ships to Lambda (engine/), unless FFMPEG_PATH and FFPROBE_PATH say. */
export function defaultBinaries(): { ffmpeg: string; ffprobe: string } {
  const { ffmpeg, ffprobe } = hostEngine();
  return { ffmpeg, ffprobe };
}

/** The local playback signing key (PEM, PKCS#8), in the data dir: the operator's key on AWS. */
export const PLAYBACK_KEY_FILE = 'playback-key.pem';

/**
 * Signed playback's key pair, made once and kept like the API token, so a restart does not
 * void the playback URLs already handed out. Its id stands in for the one CloudFront gives a
 * public key (14 characters from K).
 */
async function loadPlaybackKey(dataDir: string) {
  const file = join(dataDir, PLAYBACK_KEY_FILE);
  let privateKeyPem = await readFile(file, 'utf8').catch(() => '');
  if (!privateKeyPem) {
    ({ privateKey: privateKeyPem } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }));
    await writeFile(file, privateKeyPem, { mode: 0o600 });
  }
  const publicKey: KeyObject = createPublicKey(createPrivateKey(privateKeyPem));
  const fingerprint = keyFingerprint(publicKey);
  return {
    privateKeyPem,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint,
    keyPairId: `K${fingerprint.slice(0, 13).toUpperCase()}`,
  };
}

async function loadToken(dataDir: string, given?: string, name: string = LOCAL_FILES.token) {
  if (given) return { token: given, generated: false };
  // Kept in the data dir so a restart does not invalidate the token a client already has.
  const file = join(dataDir, name);
  const saved = await readFile(file, 'utf8').catch(() => '');
  if (saved.trim()) return { token: saved.trim(), generated: true };
  const token = randomBytes(24).toString('base64url');
  await writeFile(file, token, { mode: 0o600 });
  return { token, generated: true };
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(join(dataDir, 's3'), { recursive: true });
  const { token, generated } = await loadToken(dataDir, opts.token);
  // Webhooks are signed as on AWS; the key is made once and kept like the API token.
  const webhookKey = await loadToken(dataDir, process.env.SPOOL_WEBHOOK_SECRET, 'webhook-secret');
  // The same settings schema as the CDK app's; here it reads the SPOOL_* variables. With
  // signed playback the stack plays the operator: its own key pair, the public half trusted.
  const given = settingsFromEnvironment(process.env);
  const playbackKey = given.signedPlayback === true ? await loadPlaybackKey(dataDir) : undefined;
  const settings = resolveSettings(
    playbackKey ? { ...given, playbackPublicKeys: [playbackKey.publicKeyPem] } : given,
    'environment',
  );
  // As on AWS: a message gets this many deliveries before its dead-letter queue.
  const MAX_RECEIVE = settings.maxAttempts;
  const transcodeTimeout = settings.transcodeTimeoutSeconds;
  let ready = false;
  const closers: (() => Promise<void>)[] = [];

  // The API comes up first so /healthz can answer 503 until everything else is up.
  let apiHandler: SqsHandlerLike | undefined;
  const api = createApiServer(
    (event, ctx) => {
      if (!apiHandler) throw new Error('starting');
      return apiHandler(event, ctx);
    },
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/healthz') {
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ready ? 'ok' : 'starting' }));
        return true;
      }
      // The demo page at / and its assets.
      return serveDemo(req, res, token);
    },
  );
  await listen(api, opts.port);
  const baseUrl = `http://localhost:${opts.port}`;
  closers.push(() => closeServer(api));

  // Visibility timeouts as on AWS (core/topology.ts): the consumer's timeout plus a margin.
  const dlqVisibility = visibilityTimeoutSeconds(FUNCTIONS.failures.timeoutSeconds);
  const sqsServer = await startSqs([
    { name: 'spool-jobs-dlq', visibilityTimeout: dlqVisibility },
    { name: 'spool-jobs', visibilityTimeout: visibilityTimeoutSeconds(transcodeTimeout) },
    // FIFO, grouped by video: one publish at a time per video, in the order asked.
    { name: 'spool-publish-dlq.fifo', visibilityTimeout: dlqVisibility, fifo: true },
    {
      name: 'spool-publish.fifo',
      visibilityTimeout: visibilityTimeoutSeconds(FUNCTIONS.publish.timeoutSeconds),
      fifo: true,
    },
    { name: 'spool-purge-dlq', visibilityTimeout: dlqVisibility },
    {
      name: 'spool-purge',
      visibilityTimeout: visibilityTimeoutSeconds(FUNCTIONS.purge.timeoutSeconds),
    },
    { name: 'spool-webhooks-dlq', visibilityTimeout: dlqVisibility },
    {
      name: 'spool-webhooks',
      visibilityTimeout: visibilityTimeoutSeconds(FUNCTIONS.webhooks.timeoutSeconds),
    },
  ]);
  closers.push(() => sqsServer.close());

  // Everything the handlers read from the environment, as the CDK stack sets it on AWS.
  const bins = defaultBinaries();
  process.env.FFMPEG_PATH = bins.ffmpeg;
  process.env.FFPROBE_PATH = bins.ffprobe;
  process.env.SPOOL_SQS_ENDPOINT = sqsServer.endpoint;
  // The planner sizes chunks for the workers there are: here, the local pollers'.
  const workers = localWorkers(opts.workers);
  process.env.SPOOL_TRANSCODE_MAX_CONCURRENCY = String(plannedWorkers(workers));
  // The pollers share this machine's cores: chunks that run beside others get a share each.
  process.env.SPOOL_ENCODES_PER_HOST = String(workers);
  process.env.SPOOL_API_TOKEN = token;
  process.env.UPLOADS_BUCKET = UPLOADS_BUCKET;
  process.env.OUTPUT_BUCKET = OUTPUT_BUCKET;
  process.env.AWS_REGION ??= 'us-east-1';
  // Powertools' local mode: log lines indented for reading, no EMF metrics, no tracing.
  process.env.POWERTOOLS_DEV ??= 'true';

  const { createSqsClient, createS3Client } = await import('../functions/adapters/clients.js');
  const sqs = createSqsClient();
  const sqsQueue = new SqsQueue(sqs);
  const queueUrl = async (name: string) =>
    (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
  process.env.JOBS_QUEUE_URL = await queueUrl('spool-jobs');
  process.env.PUBLISH_QUEUE_URL = await queueUrl('spool-publish.fifo');
  process.env.WEBHOOKS_QUEUE_URL = await queueUrl('spool-webhooks');
  process.env.PURGE_QUEUE_URL = await queueUrl('spool-purge');
  process.env.SPOOL_WEBHOOK_SECRET = webhookKey.token;
  if (playbackKey) {
    // As the CDK app sets them on the API: the key's id by fingerprint, the key as a secret.
    process.env.PLAYBACK_KEY_IDS = JSON.stringify({
      [playbackKey.fingerprint]: playbackKey.keyPairId,
    });
    process.env.SPOOL_PLAYBACK_PRIVATE_KEY = playbackKey.privateKeyPem;
  }

  // EventBridge: each event is printed, and the rule of each webhook endpoint puts it on the
  // webhooks queue in the shape the deployed rule's input transformer gives it.
  const bus = await startEventBus({
    onEvent: async (event) => {
      const detail = event.detail as VideoEventDetail;
      console.log(
        `event ${event.detailType} ${detail.video?.id} ${detail.video?.status}` +
          ` after ${detail.secondsSinceCreated?.toFixed(1)} s` +
          (detail.video?.error ? ` (${detail.video.error.code})` : ''),
      );
      if (!isVideoEvent(event.source, event.detailType)) return;
      await sqsQueue.sendAll(
        process.env.WEBHOOKS_QUEUE_URL ?? '',
        settings.webhookUrls.map((_url, endpoint) => ({ endpoint, detail })),
      );
    },
  });
  closers.push(() => bus.close());
  process.env.SPOOL_EVENTS_ENDPOINT = bus.endpoint;
  process.env.EVENT_BUS_NAME = 'spool';

  // S3 notifications are delivered like Lambda's async invocations: retried twice, then
  // handed to the dead-letter handler (for ingest, the failures function, as on AWS).
  let ingestHandler: ((e: S3Event) => Promise<void>) | undefined;
  let notifyHandler: ((e: S3Event) => Promise<void>) | undefined;
  let failuresHandler: SqsHandler | undefined;
  const invokeAsync = async (
    name: string,
    handler: () => ((e: S3Event) => Promise<void>) | undefined,
    event: S3Event,
    onDead?: (e: S3Event) => Promise<unknown>,
  ) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const fn = handler();
        if (!fn) throw new Error(`${name} handler not loaded`);
        await fn(event);
        return;
      } catch (err) {
        log(`${name} failed`, { attempt, error: String(err) });
        if (attempt >= ASYNC_INVOKE_ATTEMPTS) {
          await onDead?.(event);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  };
  const invokeIngest = (event: S3Event) =>
    invokeAsync(
      'ingest',
      () => ingestHandler,
      event,
      async (e) => failuresHandler?.(asSqsEvent(e)),
    );
  // On AWS the event would wait in notify's dead-letter queue (alarmed); here it is printed.
  const invokeNotify = (event: S3Event) =>
    invokeAsync(
      'notify',
      () => notifyHandler,
      event,
      async (e) => log('notify dead-lettered', { keys: e.Records.map((r) => r.s3.object.key) }),
    );

  const s3 = await startS3({
    directory: join(dataDir, 's3'),
    buckets: [UPLOADS_BUCKET, OUTPUT_BUCKET],
    notify: [
      {
        bucket: UPLOADS_BUCKET,
        prefix: keys.uploadsPrefix,
        suffix: keys.sourceSuffix,
        handler: (event) => void invokeIngest(event),
      },
      // The records that make events, as lib/events.ts filters them.
      ...Object.values(EVENT_RECORDS).map((file) => ({
        bucket: UPLOADS_BUCKET,
        prefix: keys.statePrefix,
        suffix: `/${file}`,
        handler: (event: S3Event) => void invokeNotify(event),
      })),
    ],
  });
  closers.push(() => s3.close());
  process.env.SPOOL_S3_ENDPOINT = s3.endpoint;
  // Fault tests send SIGUSR2 to restart s3rver under the running pipeline.
  process.on('SIGUSR2', () => {
    log('restarting s3rver');
    void s3.restart().then(
      () => log('s3rver restarted'),
      (err: unknown) => log('s3rver restart failed', { error: String(err) }),
    );
  });

  const cdn = await startCdn({
    s3: createS3Client(),
    bucket: OUTPUT_BUCKET,
    trustedKeys: playbackKey && new Map([[playbackKey.keyPairId, playbackKey.publicKey]]),
  });
  closers.push(() => closeServer(cdn.server));
  process.env.PLAYBACK_BASE_URL = cdn.url;

  // The handler modules read their config at import (cold start), so import them now.
  const [upload, ingest, transcode, publish, failures, sweeper, notify, webhooks, purge] =
    await Promise.all([
      import('../functions/upload/handler.js'),
      import('../functions/ingest/handler.js'),
      import('../functions/transcode/handler.js'),
      import('../functions/publish/handler.js'),
      import('../functions/failures/handler.js'),
      import('../functions/sweeper/handler.js'),
      import('../functions/notify/handler.js'),
      import('../functions/webhooks/handler.js'),
      import('../functions/purge/handler.js'),
    ]);
  // Each invocation gets a context like Lambda's, with its function's time limit. For fault
  // tests, SPOOL_SIMULATE_TIMEOUTS=n gives the first n transcode invocations 21 s, so their
  // ffmpeg is stopped a second in, as at a Lambda timeout.
  let timeoutsLeft = Number(process.env.SPOOL_SIMULATE_TIMEOUTS ?? 0);
  const ctx = (name: keyof typeof FUNCTIONS | 'transcode') => {
    const simulated = name === 'transcode' && timeoutsLeft-- > 0;
    return lambdaContext(
      name,
      name === 'transcode' ? (simulated ? 21 : transcodeTimeout) : FUNCTIONS[name].timeoutSeconds,
      name === 'transcode'
        ? settings.transcodeMemoryMb
        : name === 'ingest'
          ? ingestMemoryMb(settings)
          : FUNCTIONS[name].memoryMb,
    );
  };
  apiHandler = (e) => upload.handler(e, ctx('upload'));
  ingestHandler = (e) => ingest.handler(e, ctx('ingest'));
  failuresHandler = (e: SQSEvent) => failures.handler(e, ctx('failures'));
  notifyHandler = (e) => notify.handler(e, ctx('notify'));

  const onError = (err: unknown) => log('poller error', { error: String(err) });
  const pollers: Poller[] = await Promise.all([
    pollQueue(sqs, 'spool-jobs', (e) => transcode.handler(e, ctx('transcode')), {
      concurrency: workers,
      batchSize: 1,
      onError,
      deadLetter: { name: 'spool-jobs-dlq', maxReceiveCount: MAX_RECEIVE },
    }),
    pollQueue(sqs, 'spool-publish.fifo', (e) => publish.handler(e, ctx('publish')), {
      concurrency: 1,
      // One at a time: a batch's messages run concurrently, and publishes of a video must not.
      batchSize: 1,
      onError,
      deadLetter: { name: 'spool-publish-dlq.fifo', maxReceiveCount: MAX_RECEIVE },
    }),
    pollQueue(sqs, 'spool-webhooks', (e) => webhooks.handler(e, ctx('webhooks')), {
      concurrency: 2,
      batchSize: 1,
      onError,
      deadLetter: { name: 'spool-webhooks-dlq', maxReceiveCount: WEBHOOK_ATTEMPTS },
    }),
    pollQueue(sqs, 'spool-purge', (e) => purge.handler(e, ctx('purge')), {
      concurrency: 1,
      batchSize: 1,
      onError,
      deadLetter: { name: 'spool-purge-dlq', maxReceiveCount: MAX_RECEIVE },
    }),
    pollQueue(sqs, 'spool-jobs-dlq', (e) => failures.handler(e, ctx('failures')), {
      concurrency: 1,
      batchSize: 10,
      onError,
    }),
    pollQueue(sqs, 'spool-publish-dlq.fifo', (e) => failures.handler(e, ctx('failures')), {
      concurrency: 1,
      batchSize: 10,
      onError,
    }),
  ]);
  closers.unshift(async () => {
    await Promise.all(pollers.map((p) => p.stop()));
  });

  const { runtime } = await import('../functions/adapters/runtime.js');
  const recovered = await recoverUnfinished(runtime(), async (key) => {
    void invokeIngest(sourceEvent(encodeS3Key(key)));
  });
  if (recovered.ingested + recovered.jobs + recovered.publishes + recovered.purges > 0) {
    log('resumed unfinished videos', { ...recovered });
  }

  // EventBridge's schedule, in miniature.
  const sweeps = setInterval(() => {
    sweeper.handler({}, ctx('sweeper')).catch((err: unknown) => onError(err));
  }, SWEEP_EVERY_MINUTES * 60_000);
  sweeps.unref();
  closers.unshift(async () => clearInterval(sweeps));

  ready = true;
  return {
    baseUrl,
    playbackUrl: cdn.url,
    token,
    tokenGenerated: generated,
    webhookSecret: webhookKey.token,
    webhookUrls: settings.webhookUrls,
    signedPlayback: settings.signedPlayback,
    dataDir,
    s3Endpoint: s3.endpoint,
    sqsEndpoint: sqsServer.endpoint,
    close: async () => {
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}

type SqsHandlerLike = Parameters<typeof createApiServer>[0];

/** What Lambda passes a handler: its name, a request id and the time it has left. */
function lambdaContext(name: string, timeoutSeconds: number, memoryMb: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `spool-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:spool-${name}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/spool-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function sourceEvent(key: string): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'spool-ingest',
          bucket: { name: UPLOADS_BUCKET, ownerIdentity: { principalId: 'local' }, arn: '' },
          object: { key, size: 0, eTag: '', sequencer: '0' },
        },
      },
    ],
  };
}

/** What Lambda's async dead-letter queue would hold: the original event as the body. */
const asSqsEvent = (event: S3Event): SQSEvent => ({
  Records: [
    {
      messageId: randomBytes(8).toString('hex'),
      receiptHandle: '',
      body: JSON.stringify(event),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:spool-ingest-dlq',
      awsRegion: 'us-east-1',
    },
  ],
});

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
