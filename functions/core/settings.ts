/**
 * Every setting a team can change without editing code: one schema, with its defaults and
 * validation, read by the CDK construct (props, or CDK context / cdk.json), by the
 * functions at cold start (the runtime subset, from the environment) and by the local stack.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_LADDER } from './ladder.js';
import {
  MAX_OBJECT_BYTES,
  MAX_PART_BYTES,
  MAX_SINGLE_PUT_BYTES,
  MIN_PART_BYTES,
} from './multipart.js';
import { retryDelaySeconds, visibilityTimeoutSeconds } from './topology.js';

/** Keyframes are forced every 2 s; segments and chunks must start on one. */
export const KEYFRAME_INTERVAL_SECONDS = 2;

export const X264_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
] as const;

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);

/** An origin as browsers send it: `*`, or scheme://host[:port] without a path. */
const origin = z
  .string()
  .refine(
    (o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o),
    "must be '*' or scheme://host[:port] without a path, e.g. 'https://app.example.com'",
  );

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** A webhook endpoint: HTTPS, or plain HTTP to this machine (the local stack's receivers). */
const webhookUrl = z.string().refine((u) => {
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https:// URL (http:// only to localhost)');

/** CloudFront takes RSA 2048 public keys, PEM-encoded, and at most 5 in a key group. */
const MAX_PLAYBACK_KEYS = 5;
const rsa2048PublicKey = z.string().refine((pem) => {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails?.modulusLength === 2048;
  } catch {
    return false;
  }
}, "must be an RSA 2048 public key in PEM ('-----BEGIN PUBLIC KEY-----…'), as `openssl rsa -pubout` writes it");

export const settingsSchema = z
  .object({
    /**
     * Largest accepted upload, in bytes. Above the multipart threshold (and always above
     * 5 GiB, S3's single-PUT limit) it comes in parts; S3 caps an object at 5 TiB.
     */
    maxUploadBytes: int(1, MAX_OBJECT_BYTES).default(50 * 1024 ** 3),
    /**
     * Uploads larger than this come as a resumable multipart upload (parts presigned on
     * demand); smaller ones as one presigned PUT. At most 5 GiB, S3's single-PUT limit.
     */
    multipartThresholdBytes: int(MIN_PART_BYTES, MAX_SINGLE_PUT_BYTES).default(100 * 1024 ** 2),
    /**
     * Size of each part of a multipart upload but the last (at least S3's 5 MiB); larger
     * for a source that would otherwise need more than S3's 10,000 parts.
     */
    multipartPartBytes: int(MIN_PART_BYTES, MAX_PART_BYTES).default(16 * 1024 ** 2),
    /** Longest accepted source, in seconds; longer ones fail at ingest, before any encode. */
    maxDurationSeconds: int(1).default(4 * 3600),
    /** Largest picture accepted, in pixels (width × height); larger fail before any encode. */
    maxPixels: int(64 * 64, 7680 * 4320).default(7680 * 4320),
    /** Highest source frame rate accepted (frames per second). */
    maxFrameRate: int(1, 1000).default(240),
    /** Most audio and video streams in one upload. */
    maxStreams: int(1, 64).default(16),
    /** HLS segment length; a multiple of the 2 s keyframe interval. */
    segmentSeconds: int(KEYFRAME_INTERVAL_SECONDS)
      .refine(
        (n) => n % KEYFRAME_INTERVAL_SECONDS === 0,
        'must be a multiple of 2, the forced keyframe interval (try 4, 6 or 10)',
      )
      .default(6),
    /** Segments per transcode job (chunk): the unit of parallelism and of a job's run time. */
    chunkSegments: int(1).default(5),
    /**
     * The ABR ladder: rungs by short side (the 720 of 720p) and video bitrate cap (bit/s).
     * A source is never upscaled; one between rungs tops out at its own size.
     */
    ladder: z
      .array(
        z
          .object({
            shortSide: int(64, 4320).refine((n) => n % 2 === 0, 'must be even (4:2:0 chroma)'),
            bitrate: int(64_000, 100_000_000),
          })
          .strict(),
      )
      .min(1)
      .max(8)
      .refine(
        (rungs) => new Set(rungs.map((r) => r.shortSide)).size === rungs.length,
        'each rung needs its own shortSide',
      )
      .default(DEFAULT_LADDER.map((r) => ({ ...r }))),
    /** x264 speed/quality preset of every rendition. */
    x264Preset: z.enum(X264_PRESETS).default('veryfast'),
    /** Lifetime of presigned URLs (upload PUT, workers' source GETs); S3 allows 15 minutes here. */
    presignSeconds: int(1, 900).default(900),
    /** Deliveries of a job before it is given up: the queues' maxReceiveCount. */
    maxAttempts: int(5, 10).default(5),
    /** First retry delay of a failed job; it doubles with every attempt, up to 15 minutes. */
    retryBackoffSeconds: int(0, 900).default(5),
    /**
     * A video with no progress for this long is re-driven once, then failed (the sweeper).
     * At least as long as a job's every attempt could take, so the sweeper never acts on
     * a job that is still being retried.
     */
    stuckAfterMinutes: int(5, 24 * 60).default(90),
    /**
     * Memory of the transcode workers, and of ingest (it encodes the opening); Lambda gives
     * about one vCPU per 1769 MB.
     */
    transcodeMemoryMb: int(128, 10240).default(3008),
    /**
     * Memory of ingest, which encodes the opening while the viewer waits: more vCPUs make the
     * first playable sooner (the bench models ~1.5 s at 10240 MB, ~3 s at 3008). Unset, it is
     * transcodeMemoryMb; new AWS accounts are often held to 3008 MB until they ask for more.
     */
    ingestMemoryMb: int(128, 10240).optional(),
    /** Timeout of one transcode job: Lambda's limit is 15 minutes. */
    transcodeTimeoutSeconds: int(60, 900).default(900),
    /** /tmp of the transcode workers: holds one chunk's segments. */
    transcodeEphemeralStorageMb: int(512, 10240).default(4096),
    /**
     * Most transcode workers at once (SQS event source maximum concurrency), so transcoding
     * never takes the concurrency the API and ingest need.
     */
    transcodeMaxConcurrency: int(2, 1000).default(20),
    /** Browser origins allowed to upload, call the API and play. */
    allowedOrigins: z.array(origin).min(1, "use ['*'] for any origin").default(['*']),
    /** Days raw sources are kept under `uploads/`; state records and output are kept. */
    sourceRetentionDays: int(1).default(30),
    /** Days S3 and CloudFront access logs are kept. */
    accessLogRetentionDays: int(1).default(90),
    /** Steady requests per second, and burst, of the HTTP API. */
    apiThrottleRateLimit: int(1).default(50),
    apiThrottleBurstLimit: int(1).default(100),
    /** Retention of the functions' and the API's log groups, in days. */
    logRetentionDays: z
      .number()
      .refine(
        (d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
        `must be one of CloudWatch's periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      )
      .default(30),
    /**
     * What `cdk destroy` does to the buckets, secrets and log groups: keep them, or delete
     * them. With `destroy`, `autoDeleteObjects` also empties the buckets first.
     */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    autoDeleteObjects: z.boolean().default(false),
    /** Subscribed (by email) to every alarm; the address must confirm the subscription. */
    alarmEmail: z.email().optional(),
    /** Receive `video.*` events, signed with HMAC-SHA256, retried with backoff. */
    webhookUrls: z.array(webhookUrl).max(5).default([]),
    /**
     * The architecture of the functions that run ffmpeg (ingest, transcode) and of their
     * engine layer. x86_64 until both are measured on AWS (engine/README.md says how); every
     * other function runs on arm64.
     */
    ffmpegArchitecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
    /**
     * Run ffmpeg from this Lambda layer (for `ffmpegArchitecture`, with ffmpeg/bin/ffmpeg and
     * ffmpeg/bin/ffprobe) instead of the one assembled from Debian's packages.
     */
    ffmpegLayerArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]+:\d+$/,
        'a Lambda layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)',
      )
      .optional(),
    /** CloudFront price class: which edge locations serve the video. */
    priceClass: z
      .enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All'])
      .default('PriceClass_All'),
    /**
     * Serve playback from your own name. The certificate must be in ACM in us-east-1
     * (CloudFront's region) and cover the name; point a CNAME at the distribution.
     */
    customDomain: z
      .object({
        domainName: z.string().regex(/^(?!-)[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+$/i, 'a DNS name'),
        certificateArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[\w-]+$/,
            'an ACM certificate ARN in us-east-1 (CloudFront only uses certificates there)',
          ),
      })
      .strict()
      .optional(),
    /**
     * Private playback: CloudFront serves a playlist or a segment only to a request signed
     * with a key of `playbackPublicKeys`, and the API returns playback URLs signed for one
     * video that expire after `signedPlaybackSeconds` (README "Private playback").
     */
    signedPlayback: z.boolean().default(false),
    /**
     * Lifetime of a signed playback URL. CloudFront checks it on every segment request, so
     * it must cover a whole viewing, pauses included; a player past it asks the API again.
     */
    signedPlaybackSeconds: int(60, 7 * 24 * 3600).default(6 * 3600),
    /**
     * With `signedPlayback`: the public halves of the signing key pairs (RSA 2048, PEM), the
     * key group CloudFront trusts. Two while a key is being rotated. The private key goes in
     * the secret the stack creates, never in a setting.
     */
    playbackPublicKeys: z.array(rsa2048PublicKey).max(MAX_PLAYBACK_KEYS).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.signedPlayback && s.playbackPublicKeys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['playbackPublicKeys'],
        message:
          'signedPlayback needs the public key CloudFront checks signatures with: `openssl genrsa -out playback.pem 2048 && openssl rsa -in playback.pem -pubout` (README "Private playback")',
      });
    }
    if (!s.signedPlayback && s.playbackPublicKeys.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['playbackPublicKeys'],
        message: 'are only used with signedPlayback: true',
      });
    }
    if (new Set(s.playbackPublicKeys.map((k) => k.trim())).size < s.playbackPublicKeys.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['playbackPublicKeys'],
        message: 'each key must differ',
      });
    }
    // Every attempt of a job may run its whole timeout (plus the visibility margin), with the
    // backoff between: until then the job is being retried, not stalled.
    const retrying = jobRetrySeconds(s);
    if (s.stuckAfterMinutes * 60 < retrying) {
      ctx.addIssue({
        code: 'custom',
        path: ['stuckAfterMinutes'],
        message: `must be at least ${Math.ceil(retrying / 60)} minutes: ${s.maxAttempts} attempts of up to transcodeTimeoutSeconds, with their backoff, or a job still being retried would count as stalled`,
      });
    }
    if (s.autoDeleteObjects && s.removalPolicy !== 'destroy') {
      ctx.addIssue({
        code: 'custom',
        path: ['autoDeleteObjects'],
        message: "needs removalPolicy 'destroy': retained buckets are never emptied",
      });
    }
  });

/**
 * The longest a job can be retried before it is given up: every attempt running its whole
 * timeout plus the visibility margin, and the doubling backoff between them.
 */
export function jobRetrySeconds(s: {
  maxAttempts: number;
  transcodeTimeoutSeconds: number;
  retryBackoffSeconds: number;
}): number {
  let total = 0;
  for (let attempt = 1; attempt <= s.maxAttempts; attempt++) {
    total += visibilityTimeoutSeconds(s.transcodeTimeoutSeconds);
    if (attempt < s.maxAttempts) total += retryDelaySeconds(s.retryBackoffSeconds, attempt);
  }
  return total;
}

/** What a team may give: every field optional. */
export type SpoolSettingsInput = z.input<typeof settingsSchema>;
/** Every setting, defaults applied and checked. */
export type SpoolSettings = z.output<typeof settingsSchema>;

/** Ingest's memory: its own setting, or the workers'. */
export const ingestMemoryMb = (s: Pick<SpoolSettings, 'ingestMemoryMb' | 'transcodeMemoryMb'>) =>
  s.ingestMemoryMb ?? s.transcodeMemoryMb;

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Applies the defaults and checks every value; the error names each bad setting and why. */
export function resolveSettings(input: unknown = {}, source = 'settings'): SpoolSettings {
  const parsed = settingsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new SettingsError(`Spool ${source}: ${problems.join('; ')}`);
}

/**
 * The settings the functions read, and the environment variable each travels in. The CDK
 * construct and the local stack set them with {@link settingsEnvironment}; the functions
 * parse them back with the same schema (functions/core/config.ts).
 */
export const RUNTIME_SETTINGS = {
  maxUploadBytes: 'SPOOL_MAX_UPLOAD_BYTES',
  multipartThresholdBytes: 'SPOOL_MULTIPART_THRESHOLD_BYTES',
  multipartPartBytes: 'SPOOL_MULTIPART_PART_BYTES',
  maxDurationSeconds: 'SPOOL_MAX_DURATION_SECONDS',
  maxPixels: 'SPOOL_MAX_PIXELS',
  maxFrameRate: 'SPOOL_MAX_FRAME_RATE',
  maxStreams: 'SPOOL_MAX_STREAMS',
  segmentSeconds: 'SPOOL_SEGMENT_SECONDS',
  chunkSegments: 'SPOOL_CHUNK_SEGMENTS',
  // Ingest plans shorter chunks when a video has fewer than this many (core/plan.ts).
  transcodeMaxConcurrency: 'SPOOL_TRANSCODE_MAX_CONCURRENCY',
  ladder: 'SPOOL_LADDER',
  x264Preset: 'SPOOL_X264_PRESET',
  presignSeconds: 'SPOOL_PRESIGN_SECONDS',
  maxAttempts: 'SPOOL_MAX_ATTEMPTS',
  retryBackoffSeconds: 'SPOOL_RETRY_BACKOFF_SECONDS',
  stuckAfterMinutes: 'SPOOL_STUCK_AFTER_MINUTES',
  webhookUrls: 'SPOOL_WEBHOOK_URLS',
  signedPlayback: 'SPOOL_SIGNED_PLAYBACK',
  signedPlaybackSeconds: 'SPOOL_SIGNED_PLAYBACK_SECONDS',
} as const satisfies Partial<Record<keyof SpoolSettings, string>>;

export type RuntimeSettingName = keyof typeof RUNTIME_SETTINGS;

/**
 * Runtime settings of an option that is off are not sent (the functions take the default):
 * a deployment that leaves the option off has the template it had before the option existed.
 */
const SENT_ONLY_WITH: Partial<Record<RuntimeSettingName, (s: SpoolSettings) => boolean>> = {
  signedPlayback: (s) => s.signedPlayback,
  signedPlaybackSeconds: (s) => s.signedPlayback,
};

/** Environment variables carrying the runtime settings: numbers as digits, lists as JSON. */
export function settingsEnvironment(settings: SpoolSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, variable] of Object.entries(RUNTIME_SETTINGS)) {
    if (SENT_ONLY_WITH[name as RuntimeSettingName]?.(settings) === false) continue;
    const value = settings[name as RuntimeSettingName];
    env[variable] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return env;
}

/**
 * A value given as text (an environment variable, `cdk -c name=value`): JSON where it parses
 * as JSON (numbers, booleans, lists, objects), else the text itself.
 */
export function fromText(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The runtime settings an environment gives (unset ones take their defaults). */
export function settingsFromEnvironment(env: NodeJS.ProcessEnv): SpoolSettingsInput {
  const input: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(RUNTIME_SETTINGS)) {
    if (env[variable] !== undefined) input[name] = fromText(env[variable]);
  }
  return input as SpoolSettingsInput;
}

/** The schema of one setting, for reading it from an environment variable. */
export const settingSchema = <K extends keyof SpoolSettings>(name: K) =>
  z.preprocess(fromText, settingsSchema.shape[name]);
