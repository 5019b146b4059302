/** The jobs a plan fans out to: one per chunk, each its picture in every rendition and its sound. */
import type { Plan } from './plan.js';

export type Job = { type: 'video-chunk'; videoId: string; chunk: number };

/** In order: the opening is wanted first. */
export function jobsOf(plan: Plan): Job[] {
  return plan.chunks.map((c) => ({ type: 'video-chunk', videoId: plan.videoId, chunk: c.index }));
}

export const jobCount = (plan: Plan): number => plan.chunks.length;

export const describeJob = (job: Job): string => `chunk ${job.chunk}`;
