/** SQS purge requests → what is left of a deleted video is removed. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { observed } from '../adapters/observability.js';
import { cdnCache, runtime, sqsClient } from '../adapters/runtime.js';
import { processBatch } from '../adapters/sqs-batch.js';
import { purgeSchema } from '../core/messages.js';
import { purgeDeleted } from './purge.js';

const base = runtime();
const deps = { ...base, cdn: cdnCache(base.config) };

export const handler = observed<SQSEvent, SQSBatchResponse>().handler((event) =>
  processBatch(event, {
    queue: 'purge',
    parse: (body) => purgeSchema.parse(body),
    handle: (msg) => purgeDeleted(deps, msg),
    // No giveUp: a purge that fails every attempt waits, alarmed, in its dead-letter queue.
    maxAttempts: deps.config.SPOOL_MAX_ATTEMPTS,
    backoffSeconds: deps.config.SPOOL_RETRY_BACKOFF_SECONDS,
    queueUrl: deps.config.PURGE_QUEUE_URL,
    sqs: sqsClient(),
    logger: deps.logger,
    metrics: deps.metrics,
  }),
);
