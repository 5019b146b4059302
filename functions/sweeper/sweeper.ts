/**
 * The sweeper: nothing stays `processing` forever. Every few minutes it looks at the videos
 * of the last days; one that has made no progress for `stuckAfterMinutes` gets its missing
 * work re-sent once, and if it is still stuck that long after, it is failed with the reason.
 */
import type { Deps } from '../core/deps.js';
import { createdAtFromIndexKey, keys, videoIdFromIndexKey } from '../core/keys.js';
import { redriveVideo } from '../core/redrive.js';
import { markFailed, readRecords } from '../core/video-state.js';

/** Older videos have been swept for days already: the scan stops at this age. */
export const SWEEP_HORIZON_MS = 7 * 24 * 3600 * 1000;

export interface SweepReport {
  /** Unfinished videos looked at. */
  unfinished: number;
  redriven: string[];
  failed: string[];
  /** Jobs waiting in the queue when the sweep began; none means none judged stalled. */
  backlog: number;
}

interface RedrivenRecord {
  at: string;
}

export async function sweep(deps: Deps): Promise<SweepReport> {
  const { store, config, clock, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const now = clock.now().getTime();
  const stuckMs = config.SPOOL_STUCK_AFTER_MINUTES * 60_000;
  const report: SweepReport = { unfinished: 0, redriven: [], failed: [], backlog: 0 };
  // Jobs waiting behind the concurrency cap are progress that has not started: while any
  // wait, no video counts as stalled (a re-drive would only lengthen the queue).
  report.backlog = await deps.queue.waiting(config.JOBS_QUEUE_URL);
  if (report.backlog > 0) return report;
  let startAfter: string | undefined;
  for (;;) {
    // The index sorts newest first, so the scan ends at the first video past the horizon.
    const page = await store.list(bucket, keys.indexPrefix, { startAfter, limit: 1000 });
    for (const entry of page.objects) {
      const id = videoIdFromIndexKey(entry.key);
      const createdAt = createdAtFromIndexKey(entry.key);
      if (!id || createdAt === undefined) continue;
      if (now - createdAt > SWEEP_HORIZON_MS) return report;
      const records = await readRecords(deps, id);
      if (!records || records.ready || records.failed) continue;
      // Waiting for its upload is not processing: the presigned URL simply expires.
      if (!records.sourceUploaded && !records.plan) continue;
      report.unfinished++;
      const idleMs = now - Math.max(records.lastChange.getTime(), createdAt);
      if (idleMs < stuckMs) continue;
      const previous = await store.getJson<RedrivenRecord>(bucket, keys.redriven(id));
      if (previous) {
        if (now - Date.parse(previous.at) < stuckMs) continue;
        await markFailed(deps, id, {
          code: 'STUCK',
          message:
            `no progress for ${config.SPOOL_STUCK_AFTER_MINUTES} minutes, even after its ` +
            'missing work was sent again',
        });
        report.failed.push(id);
        continue;
      }
      const at = new Date(now).toISOString();
      const written = await store.putJson(bucket, keys.redriven(id), { at }, { ifNoneMatch: true });
      if (written === 'exists') continue;
      const redriven = await redriveVideo(deps, id);
      if ('unplanned' in redriven) {
        // S3 invoked ingest and Lambda retried it; its dead letter would have failed the
        // video. An upload never planned after all that will not be.
        await markFailed(deps, id, {
          code: 'STUCK',
          message: `the upload was not planned within ${config.SPOOL_STUCK_AFTER_MINUTES} minutes`,
        });
        report.failed.push(id);
        continue;
      }
      logger.warn('stalled video re-driven', { videoId: id, idleMs, ...redriven });
      report.redriven.push(id);
    }
    if (!page.truncated || page.objects.length === 0) return report;
    startAfter = page.objects[page.objects.length - 1]?.key;
  }
}
