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
  /** The audio job's record exists (true when the plan has no audio). */
  audioDone: boolean;
  /** Jobs with a record, and jobs in the plan. */
  done: number;
  total: number;
  /** Chunks 0 … n-1 are all done: how much of the opening can play. */
  leadingChunks: number;
  /** Jobs with no record yet. */
  missing: Job[];
}

/** From the keys of the chunk records and whether the audio record exists. */
export function progressOf(
  plan: Plan,
  chunkRecordKeys: readonly string[],
  audioRecord: boolean,
): Progress {
  const inPlan = new Set(plan.chunks.map((c) => c.index));
  const chunksDone = [
    ...new Set(
      chunkRecordKeys
        .map((k) => chunkIndexOfKey(plan.videoId, k))
        .filter((i): i is number => i !== undefined && inPlan.has(i)),
    ),
  ].sort((a, b) => a - b);
  const done = new Set(chunksDone);
  const audioDone = !plan.audio || audioRecord;
  let leadingChunks = 0;
  while (done.has(leadingChunks)) leadingChunks++;
  const missing = jobsOf(plan).filter((j) =>
    j.type === 'audio' ? !audioDone : !done.has(j.chunk),
  );
  const total = jobCount(plan);
  return {
    chunksDone,
    audioDone,
    done: total - missing.length,
    total,
    leadingChunks,
    missing,
  };
}

/** One LIST of the chunk records and one HEAD of the audio record. */
export async function readProgress(
  deps: Pick<Deps, 'store' | 'config'>,
  plan: Plan,
): Promise<Progress> {
  const bucket = deps.config.UPLOADS_BUCKET;
  const [chunks, audio] = await Promise.all([
    deps.store.list(bucket, keys.chunksPrefix(plan.videoId)),
    plan.audio ? deps.store.head(bucket, keys.audio(plan.videoId)) : Promise.resolve(undefined),
  ]);
  return progressOf(
    plan,
    chunks.objects.map((o) => o.key),
    audio !== undefined,
  );
}
