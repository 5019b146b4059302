/**
 * Dead letters: a job, publish request or ingest event that could not be completed (a
 * crash or a timeout, every attempt) marks its video failed, so nothing waits forever.
 */
import type { Deps } from '../core/deps.js';
import { describeJob } from '../core/jobs.js';
import { decodeS3Key, videoIdFromSourceKey } from '../core/keys.js';
import { deadLetterSchema } from '../core/messages.js';
import { markFailed } from '../core/video-state.js';

/** The body of an S3 event, as Lambda's async dead-letter queue for ingest delivers it. */
function s3Keys(body: unknown): string[] {
  const records = (body as { Records?: { s3?: { object?: { key?: string } } }[] })?.Records;
  if (!Array.isArray(records)) return [];
  return records
    .map((r) => r.s3?.object?.key)
    .filter((k): k is string => typeof k === 'string')
    .map(decodeS3Key);
}

export async function handleDeadLetter(deps: Deps, body: unknown): Promise<string | undefined> {
  const parsed = deadLetterSchema.safeParse(body);
  if (parsed.success) {
    const msg = parsed.data;
    const what = msg.type === 'publish' ? 'publishing' : describeJob(msg);
    deps.metrics.record('deadLetters', 1);
    await markFailed(deps, msg.videoId, {
      code: msg.type === 'publish' ? 'PUBLISH_FAILED' : 'JOB_ABANDONED',
      message: `${what} did not complete after repeated attempts (timeout or crash)`,
    });
    return msg.videoId;
  }
  for (const key of s3Keys(body)) {
    const id = videoIdFromSourceKey(key);
    if (!id) continue;
    deps.metrics.record('deadLetters', 1);
    await markFailed(deps, id, {
      code: 'INGEST_FAILED',
      message: 'the upload could not be probed and planned after repeated attempts',
    });
    return id;
  }
  deps.logger.error('unrecognised dead letter', { body });
  return undefined;
}
