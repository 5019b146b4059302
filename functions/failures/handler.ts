/** The dead-letter queues → `failed`. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { observed } from '../adapters/observability.js';
import { runtime } from '../adapters/runtime.js';
import { processBatch } from '../adapters/sqs-batch.js';
import { handleDeadLetter } from './failures.js';

const deps = runtime();

export const handler = observed<SQSEvent, SQSBatchResponse>().handler((event) =>
  processBatch(event, {
    queue: 'dead-letters',
    parse: (body) => body,
    handle: (body) => handleDeadLetter(deps, body),
    maxAttempts: deps.config.SPOOL_MAX_ATTEMPTS,
    backoffSeconds: deps.config.SPOOL_RETRY_BACKOFF_SECONDS,
    logger: deps.logger,
  }),
);
