/** SQS publish requests → playlists and `ready`. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { observed } from '../adapters/observability.js';
import { runtime, sqsClient } from '../adapters/runtime.js';
import { processBatch } from '../adapters/sqs-batch.js';
import { publishSchema } from '../core/messages.js';
import { markFailed } from '../core/video-state.js';
import { publishVideo } from './publish.js';

const deps = runtime();

export const handler = observed<SQSEvent, SQSBatchResponse>().handler((event) =>
  processBatch(event, {
    queue: 'publish',
    parse: (body) => publishSchema.parse(body),
    handle: (msg) => publishVideo(deps, msg.videoId),
    giveUp: async (msg) => {
      await markFailed(deps, msg.videoId, {
        code: 'PUBLISH_FAILED',
        message: `publishing failed after ${deps.config.SPOOL_MAX_ATTEMPTS} attempts`,
      });
      return true;
    },
    maxAttempts: deps.config.SPOOL_MAX_ATTEMPTS,
    backoffSeconds: deps.config.SPOOL_RETRY_BACKOFF_SECONDS,
    queueUrl: deps.config.PUBLISH_QUEUE_URL,
    sqs: sqsClient(),
    logger: deps.logger,
    metrics: deps.metrics,
  }),
);
