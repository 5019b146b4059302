/**
 * Which of a video's jobs are done: worked out here only, from the job records that exist
 * (a record is written after everything its job uploaded). Transcode asks whether to request
 * a publish, publish whether the video is complete, the API how far along it is, and the
 * sweeper and the local restart what to send again.
 */
import type { Deps } from './deps.js';
import { type Job, jobCount, jobsOf } from './jobs.js';
import { chunkIndexOfKey, keys } from './keys.js';
import type { Plan } from './plan.js';

export interface Progress {
  /** Chunk indexes with a record, ascending. */
  chunksDone: number[];
  /** Jobs with a record, and jobs in the plan. */
  done: number;
  total: number;
  /** Chunks 0 … n-1 are all done: how much of the opening can play. */
  leadingChunks: number;
  /** Jobs with no record yet. */
  missing: Job[];
}

/** From the keys of the chunk records. */
export function progressOf(plan: Plan, chunkRecordKeys: readonly string[]): Progress {
  const inPlan = new Set(plan.chunks.map((c) => c.index));
  const chunksDone = [
    ...new Set(
      chunkRecordKeys
        .map((k) => chunkIndexOfKey(plan.videoId, k))
        .filter((i): i is number => i !== undefined && inPlan.has(i)),
    ),
  ].sort((a, b) => a - b);
  const done = new Set(chunksDone);
  let leadingChunks = 0;
  while (done.has(leadingChunks)) leadingChunks++;
  const missing = jobsOf(plan).filter((j) => !done.has(j.chunk));
  const total = jobCount(plan);
  return {
    chunksDone,
    done: total - missing.length,
    total,
    leadingChunks,
    missing,
  };
}

/** One LIST of the chunk records. */
export async function readProgress(
  deps: Pick<Deps, 'store' | 'config'>,
  plan: Plan,
): Promise<Progress> {
  const chunks = await deps.store.list(deps.config.UPLOADS_BUCKET, keys.chunksPrefix(plan.videoId));
  return progressOf(
    plan,
    chunks.objects.map((o) => o.key),
  );
}
