import { z } from 'zod';
import { ConfigError } from './errors.js';
import { fromText, RUNTIME_SETTINGS, type RuntimeSettingName, settingSchema } from './settings.js';

/** Where the pipeline's resources are: set by the CDK construct (lib/) and the local stack. */
const topologySchema = z.object({
  /** Bucket holding raw uploads (`uploads/{id}/source`) and state records (`state/{id}/…`). */
  UPLOADS_BUCKET: z.string().min(1),
  /** Bucket holding published HLS output (`videos/{id}/…`), served by CloudFront. */
  OUTPUT_BUCKET: z.string().min(1),
  /** SQS queue of transcode jobs (video chunks and the audio rendition). */
  JOBS_QUEUE_URL: z.string().min(1),
  /** SQS queue of publish requests, sent when a video's last job completes. */
  PUBLISH_QUEUE_URL: z.string().min(1),
  /** SQS queue of purge requests: what is left of a deleted video is removed (functions/purge). */
  PURGE_QUEUE_URL: z.string().min(1),
  /**
   * The CloudFront distribution to invalidate when a video is deleted: set for the functions
   * that delete. Unset locally, where the static server caches nothing.
   */
  CDN_DISTRIBUTION_ID: z.string().min(1).optional(),
  /** Base URL that serves the output bucket (CloudFront domain, or the local static server). */
  PLAYBACK_BASE_URL: z.string().url(),
  /** SQS queue of webhook deliveries (its consumer sets the retry backoff on it). */
  WEBHOOKS_QUEUE_URL: z.string().min(1).optional(),
  /**
   * Signed playback: CloudFront's id of each public key of the key group, by
   * core/playback.ts keyFingerprint; the API signs with the id of the key it holds.
   */
  PLAYBACK_KEY_IDS: z.preprocess(fromText, z.record(z.string(), z.string().min(1))).optional(),
  /** EventBridge bus that receives the `video.*` events. */
  EVENT_BUS_NAME: z.string().min(1).default('default'),
});

type RuntimeShape = {
  [K in RuntimeSettingName as (typeof RUNTIME_SETTINGS)[K]]: ReturnType<typeof settingSchema<K>>;
};

/** The runtime settings under their variable names, with the defaults and checks of settings.ts. */
const runtimeShape = Object.fromEntries(
  Object.entries(RUNTIME_SETTINGS).map(([name, variable]) => [
    variable,
    settingSchema(name as RuntimeSettingName),
  ]),
) as RuntimeShape;

/** Everything a handler reads from the environment, once at cold start. */
export const envSchema = topologySchema.extend(runtimeShape);

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
