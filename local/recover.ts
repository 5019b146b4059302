/**
 * Restart recovery for the local stack. local-aws-sqs keeps its queues in memory, so after a
 * stop (even kill -9) the jobs in flight are gone, while every record lives on disk in
 * s3rver. From those records this re-sends exactly what is missing: ingest for sources
 * never planned, and otherwise what core/redrive.ts re-sends; and a purge for every deleted
 * video, which finishes a delete cut short (or its later purge, lost with the queue).
 */
import { requestPurge } from '../functions/core/deletion.js';
import type { Deps } from '../functions/core/deps.js';
import { keys, videoIdFromSourceKey, videoIdFromTombstoneKey } from '../functions/core/keys.js';
import { redriveVideo } from '../functions/core/redrive.js';
import { isFinished } from '../functions/core/video-state.js';

export interface Recovery {
  ingested: number;
  jobs: number;
  publishes: number;
  purges: number;
}

export async function recoverUnfinished(
  deps: Deps,
  ingest: (sourceKey: string) => Promise<void>,
): Promise<Recovery> {
  const sources = await deps.store.list(deps.config.UPLOADS_BUCKET, keys.uploadsPrefix);
  const counts: Recovery = { ingested: 0, jobs: 0, publishes: 0, purges: 0 };
  for (const source of sources.objects) {
    const id = videoIdFromSourceKey(source.key);
    if (!id) continue;
    const finished = await isFinished(deps, id);
    if (finished.failed || finished.ready) continue;
    const redriven = await redriveVideo(deps, id);
    if ('unplanned' in redriven) {
      await ingest(source.key);
      counts.ingested++;
    } else if ('jobs' in redriven) counts.jobs += redriven.jobs;
    else counts.publishes++;
  }
  // Locally no lifecycle rule expires tombstones: each start purges every deleted video once
  // more, which finds nothing to remove unless a delete was cut short.
  const tombstones = await deps.store.list(deps.config.UPLOADS_BUCKET, keys.tombstonePrefix);
  for (const tombstone of tombstones.objects) {
    const id = videoIdFromTombstoneKey(tombstone.key);
    if (!id) continue;
    await requestPurge(deps, id);
    counts.purges++;
  }
  return counts;
}
