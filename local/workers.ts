import { cpus } from 'node:os';

/** The local stack's transcode pollers: one per core, at least two. */
export const localWorkers = (workers?: number): number => workers ?? Math.max(2, cpus().length);

/** The workers the planner is told of (SPOOL_TRANSCODE_MAX_CONCURRENCY): at least two. */
export const plannedWorkers = (workers: number): number => Math.max(2, workers);
