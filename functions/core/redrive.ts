/**
 * Re-sending what a video is missing, from its write-once records: the jobs whose record is
 * absent, or the publish once every job is done. Everything re-sent is idempotent, so a job
 * that did finish is never done twice. Used by the sweeper and by the local stack's restart.
 */
import type { Deps } from './deps.js';
import { keys } from './keys.js';
import type { Plan } from './plan.js';
import { readProgress } from './progress.js';

export type Redriven = { jobs: number } | { publish: true } | { unplanned: true };

export async function redriveVideo(deps: Deps, id: string): Promise<Redriven> {
  const { store, config } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const [plan, enqueued] = await Promise.all([
    store.getJson<Plan>(bucket, keys.plan(id)),
    store.head(bucket, keys.enqueued(id)),
  ]);
  // Planning is ingest's, which S3 re-invokes on its own; the caller decides what then.
  if (!plan || !enqueued) return { unplanned: true };
  const { missing } = await readProgress(deps, plan);
  if (missing.length > 0) {
    await deps.queue.sendAll(config.JOBS_QUEUE_URL, missing);
    return { jobs: missing.length };
  }
  await deps.queue.sendOrdered(
    config.PUBLISH_QUEUE_URL,
    { type: 'publish', videoId: id },
    id,
    `${id}-redriven-${deps.clock.now().getTime()}`,
  );
  return { publish: true };
}
