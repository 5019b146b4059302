/**
 * Cold-start wiring: config checked once, SDK clients created once, then injected.
 * Handlers import `runtime()`; tests build their own Deps instead.
 */
import { loadConfig } from '../core/config.js';
import type { Deps, MediaDeps } from '../core/deps.js';
import { systemClock } from '../core/ports.js';
import { createS3Client, createSqsClient } from './clients.js';
import { FfmpegTranscoder, FfprobeProber, ffmpegPathsFromEnv } from './ffmpeg.js';
import { jsonLogger } from './logger.js';
import { S3Store } from './s3-store.js';
import { LoopbackSourceReader } from './source-proxy.js';
import { SqsQueue } from './sqs-queue.js';

let cached: MediaDeps | undefined;

export function runtime(): MediaDeps {
  if (cached) return cached;
  const config = loadConfig();
  const s3 = createS3Client();
  const sqs = createSqsClient();
  const paths = ffmpegPathsFromEnv();
  const store = new S3Store(s3);
  cached = {
    config,
    store,
    sources: new LoopbackSourceReader(store),
    queue: new SqsQueue(sqs),
    clock: systemClock,
    logger: jsonLogger(),
    prober: new FfprobeProber(paths),
    transcoder: new FfmpegTranscoder(paths),
  };
  return cached;
}

export const sqsClient = (() => {
  let client: ReturnType<typeof createSqsClient> | undefined;
  return () => {
    client ??= createSqsClient();
    return client;
  };
})();

export type { Deps };
