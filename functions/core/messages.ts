/** Queue message bodies, parsed at the edge with a schema (SQS bodies are untrusted text). */
import { z } from 'zod';
import type { Job } from './jobs.js';

const videoId = z.string().regex(/^[a-z0-9]{20}$/);

export const jobSchema = z.object({
  type: z.literal('video-chunk'),
  videoId,
  chunk: z.number().int().min(0).max(100_000),
}) satisfies z.ZodType<Job>;

export const publishSchema = z.object({ type: z.literal('publish'), videoId });
export type PublishRequest = z.infer<typeof publishSchema>;

/**
 * Remove what is left of a deleted video (functions/purge); with `invalidate`, also invalidate
 * its CDN paths whatever is found (an invalidation CloudFront refused earlier).
 */
export const purgeSchema = z.object({
  type: z.literal('purge'),
  videoId,
  invalidate: z.literal(true).optional(),
});
export type PurgeRequest = z.infer<typeof purgeSchema>;

/** Anything that can reach a dead-letter queue. */
export const deadLetterSchema = z.union([jobSchema, publishSchema]);
