/**
 * Cold-start wiring: config checked once, SDK clients created once, then injected.
 * Handlers import `runtime()`; tests build their own Deps instead.
 */
import { loadConfig } from '../core/config.js';
import type { Deps, MediaDeps } from '../core/deps.js';
import type { CdnCache } from '../core/ports.js';
import { systemClock } from '../core/ports.js';
import { CloudFrontCache, noCdnCache } from './cdn.js';
import { createCloudFrontClient, createS3Client, createSqsClient } from './clients.js';
import {
  encodesPerHostFromEnv,
  FfmpegTranscoder,
  FfprobeProber,
  ffmpegPathsFromEnv,
} from './ffmpeg.js';
import { loggerPort, metricsPort, traced } from './observability.js';
import { playbackSignerFromEnv } from './playback-signer.js';
import { S3Store } from './s3-store.js';
import { LoopbackSourceReader } from './source-proxy.js';
import { SqsQueue } from './sqs-queue.js';

let cached: MediaDeps | undefined;

export function runtime(): MediaDeps {
  if (cached) return cached;
  const config = loadConfig();
  // Traced: each S3 and SQS call is a subsegment of the invocation's X-Ray trace.
  const s3 = traced(createS3Client());
  const sqs = traced(sqsClient());
  const paths = ffmpegPathsFromEnv();
  const store = new S3Store(s3);
  cached = {
    config,
    store,
    sources: new LoopbackSourceReader(store),
    queue: new SqsQueue(sqs),
    clock: systemClock,
    logger: loggerPort,
    metrics: metricsPort,
    prober: new FfprobeProber(paths),
    transcoder: new FfmpegTranscoder(paths, { encodesPerHost: encodesPerHostFromEnv() }),
    ...(config.SPOOL_SIGNED_PLAYBACK ? { playbackSigner: playbackSignerFromEnv(config) } : {}),
  };
  return cached;
}

/** One SQS client per cold start, shared by the queue port and the batch handling. */
export const sqsClient = (() => {
  let client: ReturnType<typeof createSqsClient> | undefined;
  return () => {
    client ??= traced(createSqsClient());
    return client;
  };
})();

export type { Deps };

/**
 * The CDN of the functions that delete: CloudFront when the pipeline names its distribution
 * (lib/video-pipeline.ts sets it for them), else nothing to invalidate (the local stack).
 */
export function cdnCache(config: Pick<Deps['config'], 'CDN_DISTRIBUTION_ID'>): CdnCache {
  if (!config.CDN_DISTRIBUTION_ID) return noCdnCache;
  return new CloudFrontCache(traced(createCloudFrontClient()), config.CDN_DISTRIBUTION_ID);
}
