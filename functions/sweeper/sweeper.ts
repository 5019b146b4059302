/**
 * The sweeper: nothing stays `processing` forever. Every few minutes it looks at the videos
 * of the last two days; one that has made no progress for `stuckAfterMinutes` gets its
 * missing work re-sent once, and if it is still stuck that long after, it is failed with the
 * reason. The bound is at least as long as a job's every retry (settings.ts), so the sweeper
 * only acts where a message was lost or a video fell through every other net.
 */
import { unlessDeleted } from '../core/deletion.js';
import type { Deps } from '../core/deps.js';
import { createdAtFromIndexKey, keys, videoIdFromIndexKey } from '../core/keys.js';
import { redriveVideo } from '../core/redrive.js';
import { isFinished, markFailed, readRecords } from '../core/video-state.js';

/**
 * Videos older than this are not looked at: by then any stalled one has been re-driven and
 * failed many sweeps ago (the bound is hours, not days).
 */
export const SWEEP_HORIZON_MS = 2 * 24 * 3600 * 1000;
/** Videos judged at once: a sweep of thousands of videos stays within its function's time. */
const CONCURRENCY = 16;

export interface SweepReport {
  /** Videos in the horizon, and the unfinished ones among them. */
  looked: number;
  unfinished: number;
  redriven: string[];
  failed: string[];
  /** Jobs waiting in the queue when the sweep began. */
  backlog: number;
}

interface RedrivenRecord {
  at: string;
}

export async function sweep(deps: Deps): Promise<SweepReport> {
  const { store, config, clock, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const now = clock.now().getTime();
  const backlog = await deps.queue.waiting(config.JOBS_QUEUE_URL);
  // Jobs waiting behind the concurrency cap are work not yet started: while any wait, a video
  // gets twice as long before it counts as stalled (a re-drive would only lengthen the queue).
  const stuckMs = config.SPOOL_STUCK_AFTER_MINUTES * 60_000 * (backlog > 0 ? 2 : 1);
  const report: SweepReport = { looked: 0, unfinished: 0, redriven: [], failed: [], backlog };

  const videos: { id: string; createdAt: number }[] = [];
  let startAfter: string | undefined;
  // The index sorts newest first, so the listing ends at the first video past the horizon.
  listing: for (;;) {
    const page = await store.list(bucket, keys.indexPrefix, { startAfter, limit: 1000 });
    for (const entry of page.objects) {
      const id = videoIdFromIndexKey(entry.key);
      const createdAt = createdAtFromIndexKey(entry.key);
      if (!id || createdAt === undefined) continue;
      if (now - createdAt > SWEEP_HORIZON_MS) break listing;
      videos.push({ id, createdAt });
    }
    if (!page.truncated || page.objects.length === 0) break;
    startAfter = page.objects[page.objects.length - 1]?.key;
  }
  report.looked = videos.length;

  const judge = async (video: { id: string; createdAt: number }) => {
    // Two HEADs settle most videos: the finished ones.
    const finished = await isFinished(deps, video.id);
    if (finished.ready || finished.failed) return;
    // What it writes for a video deleted meanwhile is purged (core/deletion.ts).
    await unlessDeleted(deps, video.id, () => judgeUnfinished(video));
  };
  const judgeUnfinished = async ({ id, createdAt }: { id: string; createdAt: number }) => {
    const records = await readRecords(deps, id);
    if (!records || records.ready || records.failed) return;
    // Waiting for its upload is not processing: the presigned URL simply expires.
    if (!records.sourceUploaded && !records.plan) return;
    report.unfinished++;
    const idleMs = now - Math.max(records.lastChange.getTime(), createdAt);
    if (idleMs < stuckMs) return;
    const minutes = Math.round(stuckMs / 60_000);
    const previous = await store.getJson<RedrivenRecord>(bucket, keys.redriven(id));
    if (previous) {
      if (now - Date.parse(previous.at) < stuckMs) return;
      await markFailed(deps, id, {
        code: 'STUCK',
        message: `no progress for ${minutes} minutes, even after its missing work was sent again`,
      });
      report.failed.push(id);
      return;
    }
    const at = new Date(now).toISOString();
    const written = await store.putJson(bucket, keys.redriven(id), { at }, { ifNoneMatch: true });
    if (written === 'exists') return;
    const redriven = await redriveVideo(deps, id);
    if ('unplanned' in redriven) {
      // S3 invoked ingest and Lambda retried it; its dead letter would have failed the
      // video. An upload never planned after all that will not be.
      await markFailed(deps, id, {
        code: 'STUCK',
        message: `the upload was not planned within ${minutes} minutes`,
      });
      report.failed.push(id);
      return;
    }
    logger.warn('stalled video re-driven', { videoId: id, idleMs, ...redriven });
    report.redriven.push(id);
  };
  for (let i = 0; i < videos.length; i += CONCURRENCY) {
    await Promise.all(videos.slice(i, i + CONCURRENCY).map(judge));
  }
  return report;
}
