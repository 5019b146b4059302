/**
 * Restart recovery for the local stack. local-aws-sqs keeps its queues in memory, so after a
 * stop (even kill -9) the jobs in flight are gone, while every record lives on disk in
 * s3rver. From those records this re-sends exactly what is missing: ingest for sources
 * never planned, jobs whose chunk record is absent, and publish where all jobs are done.
 * Everything it re-sends is idempotent, so a job that did finish is never done twice.
 */
import type { Deps } from '../functions/core/deps.js';
import { jobsOf } from '../functions/core/jobs.js';
import { keys, videoIdFromSourceKey } from '../functions/core/keys.js';
import type { Plan } from '../functions/core/plan.js';
import { isFinished } from '../functions/core/video-state.js';

export interface Recovery {
  ingested: number;
  jobs: number;
  publishes: number;
}

export async function recoverUnfinished(
  deps: Deps,
  ingest: (sourceKey: string) => Promise<void>,
): Promise<Recovery> {
  const { store, config } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const sources = await store.list(bucket, 'uploads/');
  const counts: Recovery = { ingested: 0, jobs: 0, publishes: 0 };
  for (const source of sources.objects) {
    const id = videoIdFromSourceKey(source.key);
    if (!id) continue;
    const finished = await isFinished(deps, id);
    if (finished.failed || finished.ready) continue;
    const [plan, enqueued] = await Promise.all([
      store.getJson<Plan>(bucket, keys.plan(id)),
      store.head(bucket, keys.enqueued(id)),
    ]);
    if (!plan || !enqueued) {
      await ingest(source.key);
      counts.ingested++;
      continue;
    }
    const missing = [];
    for (const job of jobsOf(plan)) {
      const key = job.type === 'audio' ? keys.audio(id) : keys.chunk(id, job.chunk);
      if (!(await store.head(bucket, key))) missing.push(job);
    }
    if (missing.length > 0) {
      await deps.queue.sendAll(config.JOBS_QUEUE_URL, missing);
      counts.jobs += missing.length;
    } else {
      await deps.queue.sendOrdered(
        config.PUBLISH_QUEUE_URL,
        { type: 'publish', videoId: id },
        id,
        `${id}-recovered-${Date.now()}`,
      );
      counts.publishes++;
    }
  }
  return counts;
}
