/**
 * The pipeline's shape, read alike by the CDK constructs (lib/) and the local stack (local/):
 * each function's memory and time limit, and how long a queue hides a received message.
 * The transcode worker's size is a setting (settings.ts).
 */
export const FUNCTIONS = {
  upload: { memoryMb: 512, timeoutSeconds: 10 },
  // Ingest's memory is the transcode workers' (settings.ts): it encodes the opening.
  ingest: { timeoutSeconds: 120 },
  publish: { memoryMb: 512, timeoutSeconds: 60 },
  failures: { memoryMb: 256, timeoutSeconds: 30 },
  sweeper: { memoryMb: 512, timeoutSeconds: 300 },
  notify: { memoryMb: 256, timeoutSeconds: 30 },
  webhooks: { memoryMb: 256, timeoutSeconds: 30 },
  purge: { memoryMb: 256, timeoutSeconds: 60 },
} as const;

/**
 * Deliveries of a webhook before it is dead-lettered: with the doubling backoff from 5 s
 * (capped at 15 minutes) that is about 35 minutes of retries.
 */
export const WEBHOOK_ATTEMPTS = 10;

/** Lambda's asynchronous invocations (S3 notifications): the first try and two retries. */
export const ASYNC_INVOKE_ATTEMPTS = 3;

/** How often the sweeper (functions/sweeper) looks for stalled videos. */
export const SWEEP_EVERY_MINUTES = 5;

/**
 * A received message stays hidden for its consumer's timeout plus this margin. Lambda needs
 * at least the timeout; a running transcode job is kept hidden by its heartbeat instead
 * (adapters/heartbeat.ts), so a crashed one returns within minutes, not after this.
 */
const VISIBILITY_MARGIN_SECONDS = 60;

export const visibilityTimeoutSeconds = (consumerTimeoutSeconds: number): number =>
  consumerTimeoutSeconds + VISIBILITY_MARGIN_SECONDS;

/** Seconds before attempt `attempt + 1`: `first`, doubled per attempt, at most 15 minutes. */
export function retryDelaySeconds(first: number, attempt: number): number {
  return Math.min(900, Math.max(1, first * 2 ** (attempt - 1)));
}
