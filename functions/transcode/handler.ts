/** SQS jobs → transcode workers. One message is one chunk (or the audio rendition). */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { HEARTBEAT_SECONDS } from '../adapters/heartbeat.js';
import { observed } from '../adapters/observability.js';
import { runtime, sqsClient } from '../adapters/runtime.js';
import { processBatch } from '../adapters/sqs-batch.js';
import { SpoolError } from '../core/errors.js';
import { describeJob } from '../core/jobs.js';
import { jobSchema } from '../core/messages.js';
import { markFailed } from '../core/video-state.js';
import { runJob } from './transcode.js';

/**
 * ffmpeg is stopped this long before the function would be: enough to log, to release the
 * message for a retry and, on the last attempt, to mark the video failed.
 */
const STOP_BEFORE_TIMEOUT_MS = 20_000;

const deps = runtime();

export const handler = observed<SQSEvent, SQSBatchResponse>().handler(
  (event: SQSEvent, context: Context) => {
    const budget = context.getRemainingTimeInMillis() - STOP_BEFORE_TIMEOUT_MS;
    const signal = AbortSignal.timeout(Math.max(1000, budget));
    return processBatch(event, {
      queue: 'jobs',
      parse: (body) => jobSchema.parse(body),
      handle: (job) => runJob(deps, job, signal),
      // Out of attempts: the video fails with the last reason rather than waiting in a DLQ.
      giveUp: async (job, error) => {
        const known = error instanceof SpoolError && error.code !== 'TRANSIENT';
        const code = known ? error.code : 'TRANSCODE_FAILED';
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
      heartbeatSeconds: HEARTBEAT_SECONDS,
      queueUrl: deps.config.JOBS_QUEUE_URL,
      sqs: sqsClient(),
      logger: deps.logger,
      metrics: deps.metrics,
    });
  },
);
