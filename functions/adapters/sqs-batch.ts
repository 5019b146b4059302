/**
 * SQS event-source batches with partial failures (ReportBatchItemFailures). While a message
 * is handled, a heartbeat keeps it invisible a short window at a time; a failed message is
 * made visible again after a backoff that doubles with each attempt, instead of the queue's
 * long visibility timeout (which must cover a whole 15-minute job). On its last attempt the
 * caller decides its fate.
 */
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SpoolError } from '../core/errors.js';
import { type Metrics, QUEUE_DIMENSION } from '../core/metrics.js';
import type { Logger } from '../core/ports.js';
import { retryDelaySeconds } from '../core/topology.js';
import { startHeartbeat } from './heartbeat.js';

export interface BatchOptions<T> {
  parse: (body: unknown) => T;
  handle: (message: T, record: SQSRecord) => Promise<unknown>;
  /** Called when the last attempt fails; resolve true to consume the message. */
  giveUp?: (message: T, error: unknown) => Promise<boolean>;
  maxAttempts: number;
  /** Delay before the second attempt; doubled for each later one, up to 15 minutes. */
  backoffSeconds: number;
  /** Keep a message invisible this long at a time while it is handled (needs `sqs`). */
  heartbeatSeconds?: number;
  queueUrl?: string;
  sqs?: SQSClient;
  logger: Logger;
  /** Counts deliveries after a failed attempt and failed attempts, per `queue`. */
  metrics?: Metrics;
  /** The queue's name in metrics: `jobs`, `publish`, `webhooks`, `dead-letters`. */
  queue: string;
}

export async function processBatch<T>(
  event: SQSEvent,
  opts: BatchOptions<T>,
): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      let message: T;
      try {
        message = opts.parse(JSON.parse(record.body));
      } catch (err) {
        // A body we cannot read belongs to no video; retrying it cannot help.
        opts.logger.error('dropping an unreadable message', {
          messageId: record.messageId,
          error: String(err),
        });
        return;
      }
      const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
      const byQueue = { [QUEUE_DIMENSION]: opts.queue };
      if (attempt > 1) opts.metrics?.record('retries', 1, byQueue);
      const heartbeat =
        opts.heartbeatSeconds && opts.sqs && opts.queueUrl
          ? startHeartbeat({
              sqs: opts.sqs,
              queueUrl: opts.queueUrl,
              receiptHandle: record.receiptHandle,
              windowSeconds: opts.heartbeatSeconds,
              logger: opts.logger,
            })
          : undefined;
      try {
        await opts.handle(message, record);
        await heartbeat?.stop();
      } catch (error) {
        await heartbeat?.stop();
        opts.logger.error('message failed', {
          messageId: record.messageId,
          attempt,
          error: String(error),
          stack: (error as Error)?.stack,
        });
        // A permanent error (the media itself is bad) fails the same way on every attempt:
        // give up at once, so the video ends `failed` in seconds rather than after retries.
        const permanent = error instanceof SpoolError && error.permanent;
        if (!permanent) opts.metrics?.record('failedAttempts', 1, byQueue);
        if (
          (attempt >= opts.maxAttempts || permanent) &&
          opts.giveUp &&
          (await opts.giveUp(message, error))
        ) {
          return;
        }
        failures.push({ itemIdentifier: record.messageId });
        if (opts.sqs && opts.queueUrl && attempt < opts.maxAttempts) {
          await opts.sqs
            .send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: opts.queueUrl,
                ReceiptHandle: record.receiptHandle,
                VisibilityTimeout: retryDelaySeconds(opts.backoffSeconds, attempt),
              }),
            )
            .catch((err) =>
              opts.logger.warn('could not shorten visibility', { error: String(err) }),
            );
        }
      }
    }),
  );
  return { batchItemFailures: failures };
}

export { retryDelaySeconds };
