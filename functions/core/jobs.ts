/** The jobs a plan fans out to: one per chunk, plus the audio rendition. */
import type { Plan } from './plan.js';

export type Job =
  | { type: 'video-chunk'; videoId: string; chunk: number }
  | { type: 'audio'; videoId: string };

/** Audio first: it is quick, and nothing plays until it is done; then chunks in order. */
export function jobsOf(plan: Plan): Job[] {
  const jobs: Job[] = plan.audio ? [{ type: 'audio', videoId: plan.videoId }] : [];
  for (const c of plan.chunks)
    jobs.push({ type: 'video-chunk', videoId: plan.videoId, chunk: c.index });
  return jobs;
}

export const jobCount = (plan: Plan): number => plan.chunks.length + (plan.audio ? 1 : 0);

export const describeJob = (job: Job): string =>
  job.type === 'audio' ? 'audio' : `chunk ${job.chunk}`;
