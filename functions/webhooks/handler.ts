/** The webhooks queue (fed by an EventBridge rule per endpoint) → signed POSTs. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { observed } from '../adapters/observability.js';
import { runtime, sqsClient } from '../adapters/runtime.js';
import { webhookSecret } from '../adapters/secrets.js';
import { processBatch } from '../adapters/sqs-batch.js';
import { WEBHOOK_ATTEMPTS } from '../core/topology.js';
import { deliver, deliverySchema } from './webhooks.js';

const deps = runtime();

export const handler = observed<SQSEvent, SQSBatchResponse>().handler(async (event) => {
  const secret = await webhookSecret();
  return processBatch(event, {
    queue: 'webhooks',
    parse: (body) => deliverySchema.parse(body),
    handle: (delivery) =>
      deliver(
        {
          urls: deps.config.SPOOL_WEBHOOK_URLS,
          secret,
          logger: deps.logger,
          fetch,
          now: () => deps.clock.now(),
        },
        delivery,
      ),
    // No giveUp: after its last attempt a delivery waits in the dead-letter queue (alarmed),
    // from where it can be redriven once the receiver is back.
    maxAttempts: WEBHOOK_ATTEMPTS,
    backoffSeconds: deps.config.SPOOL_RETRY_BACKOFF_SECONDS,
    queueUrl: deps.config.WEBHOOKS_QUEUE_URL,
    sqs: sqsClient(),
    logger: deps.logger,
    metrics: deps.metrics,
  });
});
