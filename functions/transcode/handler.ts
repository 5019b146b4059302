/** SQS jobs → transcode workers. One message is one chunk (or the audio rendition). */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { runtime, sqsClient } from '../adapters/runtime.js';
import { processBatch } from '../adapters/sqs-batch.js';
import { MediaError, SpoolError } from '../core/errors.js';
import { describeJob } from '../core/jobs.js';
import { jobSchema } from '../core/messages.js';
import { markFailed } from '../core/video-state.js';
import { runJob } from './transcode.js';

const deps = runtime();

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) =>
  processBatch(event, {
    parse: (body) => jobSchema.parse(body),
    handle: (job) => runJob(deps, job),
    // Out of attempts: the video fails with the last reason rather than waiting in a DLQ.
    giveUp: async (job, error) => {
      const code = error instanceof MediaError ? error.code : 'TRANSCODE_FAILED';
      const reason = error instanceof SpoolError ? error.message : 'internal error';
      const attempts =
        error instanceof SpoolError && error.permanent
          ? ''
          : ` after ${deps.config.SPOOL_MAX_ATTEMPTS} attempts`;
      await markFailed(deps, job.videoId, {
        code,
        message: `${describeJob(job)} failed${attempts}: ${reason}`,
      });
      return true;
    },
    maxAttempts: deps.config.SPOOL_MAX_ATTEMPTS,
    backoffSeconds: deps.config.SPOOL_RETRY_BACKOFF_SECONDS,
    queueUrl: deps.config.JOBS_QUEUE_URL,
    sqs: sqsClient(),
    logger: deps.logger,
  }),
);
