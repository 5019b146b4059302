/** S3 ObjectCreated → ingest. Thin: decode each record's key, run the use case. */
import type { Context, S3Event } from 'aws-lambda';
import { observed } from '../adapters/observability.js';
import { runtime } from '../adapters/runtime.js';
import { decodeS3Key } from '../core/keys.js';
import { ingestUpload } from './ingest.js';

/** The opening's ffmpeg stops this long before the function would (it then becomes a job). */
const STOP_BEFORE_TIMEOUT_MS = 20_000;

const deps = runtime();

export const handler = observed<S3Event, void>().handler(async (event, context: Context) => {
  const budget = context.getRemainingTimeInMillis() - STOP_BEFORE_TIMEOUT_MS;
  const signal = AbortSignal.timeout(Math.max(1000, budget));
  for (const record of event.Records) {
    if (record.s3.bucket.name !== deps.config.UPLOADS_BUCKET) continue;
    // An error here is retried by Lambda's async invocation (twice), then logged.
    await ingestUpload(deps, decodeS3Key(record.s3.object.key), signal);
  }
});
