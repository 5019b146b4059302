/**
 * Keeps a message invisible while its job runs, a short window at a time. A worker that
 * crashes or runs out of memory stops beating, so its job is visible again within one window
 * instead of after the queue's visibility timeout (which must cover a whole 15-minute job).
 */
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../core/ports.js';

/**
 * The window of a running job: a crashed worker's job is retried about this long after its
 * last beat. Long enough that a beat or two may fail without a duplicate delivery.
 */
export const HEARTBEAT_SECONDS = 90;

export interface Heartbeat {
  /** Stops beating; resolves once no visibility change is in flight. */
  stop(): Promise<void>;
}

export function startHeartbeat(args: {
  sqs: SQSClient;
  queueUrl: string;
  receiptHandle: string;
  /** Visibility set at each beat; a beat comes every third of it. */
  windowSeconds: number;
  logger: Logger;
}): Heartbeat {
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const beat = () => {
    if (stopped) return;
    inFlight = args.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: args.queueUrl,
          ReceiptHandle: args.receiptHandle,
          VisibilityTimeout: args.windowSeconds,
        }),
      )
      .catch((err: unknown) =>
        // A missed beat costs at most a duplicate delivery: jobs are idempotent.
        args.logger.warn('heartbeat failed', { error: String(err) }),
      );
  };
  beat();
  const timer = setInterval(beat, (args.windowSeconds * 1000) / 3);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
