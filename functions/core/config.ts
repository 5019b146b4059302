import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Every tunable of the pipeline, read from the environment once at cold start.
 * The same names are set by the CDK constructs (lib/) and by the local stack (local/).
 */
const positiveInt = z.coerce.number().int().positive();

export const envSchema = z.object({
  /** Bucket holding raw uploads (`uploads/{id}/source`) and state records (`state/{id}/…`). */
  UPLOADS_BUCKET: z.string().min(1),
  /** Bucket holding published HLS output (`videos/{id}/…`), served by CloudFront. */
  OUTPUT_BUCKET: z.string().min(1),
  /** SQS queue of transcode jobs (video chunks and the audio rendition). */
  JOBS_QUEUE_URL: z.string().min(1),
  /** SQS queue of publish requests, sent when a video's last job completes. */
  PUBLISH_QUEUE_URL: z.string().min(1),
  /** Base URL that serves the output bucket (CloudFront domain, or the local static server). */
  PLAYBACK_BASE_URL: z.string().url(),
  /** Largest accepted upload. S3 caps a single presigned PUT at 5 GiB. */
  SPOOL_MAX_UPLOAD_BYTES: positiveInt.max(5 * 1024 ** 3).default(5 * 1024 ** 3),
  /** Longest accepted source, in seconds. */
  SPOOL_MAX_DURATION_SECONDS: positiveInt.default(4 * 3600),
  /** HLS segment length; IDR frames are every 2 s so this must be a multiple of 2. */
  SPOOL_SEGMENT_SECONDS: positiveInt
    .refine((n) => n % 2 === 0, 'must be a multiple of the 2 s keyframe interval')
    .default(6),
  /** Segments per chunk job: the unit of parallelism (and of Lambda run time). */
  SPOOL_CHUNK_SEGMENTS: positiveInt.default(5),
  /** x264 preset: the speed/quality trade-off of every rendition. */
  SPOOL_X264_PRESET: z
    .enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'])
    .default('veryfast'),
  /** Lifetime of presigned URLs (upload PUT and the workers' source GETs), at most 15 minutes. */
  SPOOL_PRESIGN_SECONDS: positiveInt.max(900).default(900),
  /** Deliveries of a job before it is given up; equals the queues' maxReceiveCount. */
  SPOOL_MAX_ATTEMPTS: positiveInt.max(10).default(3),
  /** Wait before a failed job is retried, times the attempt number. */
  SPOOL_RETRY_BACKOFF_SECONDS: z.coerce.number().int().min(0).max(900).default(10),
});

export type SpoolConfig = z.infer<typeof envSchema>;

/** Parse and check the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SpoolConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}
