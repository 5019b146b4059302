import { Duration, RemovalPolicy, Size, Token } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Delivery } from './delivery.js';
import { FfmpegLayer } from './ffmpeg-layer.js';
import { Ingest } from './ingest.js';
import { Monitoring } from './monitoring.js';
import { Publish } from './publish.js';
import type { SpoolFunction, SpoolStage } from './spool-function.js';
import { Storage } from './storage.js';
import { Transcode } from './transcode.js';
import { UploadApi } from './upload-api.js';
import { MAX_RECEIVE_COUNT } from './work-queue.js';

/** x264 presets the transcoder accepts (see functions/core/config.ts). */
export type X264Preset =
  | 'ultrafast'
  | 'superfast'
  | 'veryfast'
  | 'faster'
  | 'fast'
  | 'medium'
  | 'slow';

const X264_PRESETS: readonly X264Preset[] = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
];

/** S3 caps a single PUT, and so a presigned PUT upload, at 5 GiB. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** Keyframes are forced every 2 s; segments and chunks must start on one. */
const KEYFRAME_INTERVAL_SECONDS = 2;

export interface VideoPipelineProps {
  /**
   * Largest accepted upload, in bytes. At most 5 GiB: S3's limit for a single PUT.
   * @default 5 GiB
   */
  readonly maxUploadBytes?: number;
  /**
   * Longest accepted source, in seconds; longer sources fail at ingest before any
   * transcoding is paid for.
   * @default 14400 (4 hours)
   */
  readonly maxDurationSeconds?: number;
  /**
   * HLS segment length in seconds. A multiple of 2, the forced keyframe interval.
   * @default 6
   */
  readonly segmentSeconds?: number;
  /**
   * Segments per transcode job (chunk). A job encodes `segmentSeconds * chunkSegments`
   * seconds into every rendition, so keep it well within `transcodeTimeout`.
   * @default 5
   */
  readonly chunkSegments?: number;
  /**
   * x264 speed/quality preset of every rendition.
   * @default 'veryfast'
   */
  readonly x264Preset?: X264Preset;
  /**
   * Memory of the transcode workers, 128–10240 MB. Lambda allocates vCPUs in proportion
   * (about one per 1769 MB), which is what ffmpeg's speed depends on.
   * @default 3008
   */
  readonly transcodeMemoryMb?: number;
  /**
   * Timeout of one transcode job, 1–15 minutes. The jobs queue's visibility timeout is
   * six times this.
   * @default Duration.minutes(15)
   */
  readonly transcodeTimeout?: Duration;
  /**
   * /tmp size of the transcode workers, 512–10240 MB: holds one chunk's segments.
   * @default 4096
   */
  readonly transcodeEphemeralStorageMb?: number;
  /**
   * Most transcode workers running at once (SQS event source maximum concurrency,
   * 2–1000); use it to protect the account's concurrency for other functions.
   * @default - no limit beyond the account's concurrency
   */
  readonly transcodeMaxConcurrency?: number;
  /**
   * Browser origins allowed to upload (S3 CORS), call the API and play (CloudFront CORS),
   * e.g. `['https://app.example.com']`.
   * @default ['*']
   */
  readonly allowedOrigins?: string[];
  /**
   * Days raw sources are kept under `uploads/` before S3 deletes them. State records and
   * published output are kept.
   * @default 30
   */
  readonly sourceRetentionDays?: number;
  /**
   * Days S3 and CloudFront access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
  /**
   * Steady-state requests per second of the HTTP API.
   * @default 50
   */
  readonly apiThrottleRateLimit?: number;
  /**
   * Burst request limit of the HTTP API.
   * @default 100
   */
  readonly apiThrottleBurstLimit?: number;
  /**
   * Retention of the functions' and the API's log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Notified when a dead-letter alarm fires or clears.
   * @default - the alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * CloudFront price class.
   * @default cloudfront.PriceClass.PRICE_CLASS_ALL
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * What happens to the buckets, the token secret and the log groups when the stack is
   * deleted. With DESTROY, buckets that still hold objects fail to delete.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** {@link VideoPipelineProps} with every default applied and every value checked. */
export interface ResolvedVideoPipelineProps {
  readonly maxUploadBytes: number;
  readonly maxDurationSeconds: number;
  readonly segmentSeconds: number;
  readonly chunkSegments: number;
  readonly x264Preset: X264Preset;
  readonly transcodeMemoryMb: number;
  readonly transcodeTimeout: Duration;
  readonly transcodeEphemeralStorageMb: number;
  readonly transcodeMaxConcurrency: number | undefined;
  readonly allowedOrigins: string[];
  readonly sourceRetentionDays: number;
  readonly accessLogRetentionDays: number;
  readonly apiThrottleRateLimit: number;
  readonly apiThrottleBurstLimit: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

function checkInteger(name: string, value: number, min: number, max: number, why: string) {
  if (Token.isUnresolved(value)) {
    throw new Error(`VideoPipeline: ${name} must be a concrete number, not a token (${why}).`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new Error(`VideoPipeline: ${name} must be an integer ${range}, got ${value} (${why}).`);
  }
}

/**
 * Applies the defaults of {@link VideoPipelineProps} and rejects invalid values with a
 * message naming the prop, the accepted range and the reason for it.
 */
export function resolveVideoPipelineProps(
  props: VideoPipelineProps = {},
): ResolvedVideoPipelineProps {
  const resolved: ResolvedVideoPipelineProps = {
    maxUploadBytes: props.maxUploadBytes ?? MAX_SINGLE_PUT_BYTES,
    maxDurationSeconds: props.maxDurationSeconds ?? 4 * 3600,
    segmentSeconds: props.segmentSeconds ?? 6,
    chunkSegments: props.chunkSegments ?? 5,
    x264Preset: props.x264Preset ?? 'veryfast',
    transcodeMemoryMb: props.transcodeMemoryMb ?? 3008,
    transcodeTimeout: props.transcodeTimeout ?? Duration.minutes(15),
    transcodeEphemeralStorageMb: props.transcodeEphemeralStorageMb ?? 4096,
    transcodeMaxConcurrency: props.transcodeMaxConcurrency,
    allowedOrigins: props.allowedOrigins ?? ['*'],
    sourceRetentionDays: props.sourceRetentionDays ?? 30,
    accessLogRetentionDays: props.accessLogRetentionDays ?? 90,
    apiThrottleRateLimit: props.apiThrottleRateLimit ?? 50,
    apiThrottleBurstLimit: props.apiThrottleBurstLimit ?? 100,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
  };

  checkInteger(
    'maxUploadBytes',
    resolved.maxUploadBytes,
    1,
    MAX_SINGLE_PUT_BYTES,
    'uploads are a single presigned PUT, which S3 caps at 5 GiB',
  );
  checkInteger(
    'maxDurationSeconds',
    resolved.maxDurationSeconds,
    1,
    Number.MAX_SAFE_INTEGER,
    'the longest source ingest accepts',
  );
  checkInteger(
    'segmentSeconds',
    resolved.segmentSeconds,
    KEYFRAME_INTERVAL_SECONDS,
    Number.MAX_SAFE_INTEGER,
    'the HLS segment length',
  );
  if (resolved.segmentSeconds % KEYFRAME_INTERVAL_SECONDS !== 0) {
    throw new Error(
      `VideoPipeline: segmentSeconds must be a multiple of ${KEYFRAME_INTERVAL_SECONDS}, got ` +
        `${resolved.segmentSeconds}: keyframes are forced every ${KEYFRAME_INTERVAL_SECONDS} s ` +
        'and every segment must start on one. Try 4, 6 or 10.',
    );
  }
  checkInteger(
    'chunkSegments',
    resolved.chunkSegments,
    1,
    Number.MAX_SAFE_INTEGER,
    'the number of segments one transcode job encodes',
  );
  if (!X264_PRESETS.includes(resolved.x264Preset)) {
    throw new Error(
      `VideoPipeline: x264Preset must be one of ${X264_PRESETS.join(', ')}, got ` +
        `'${resolved.x264Preset}'.`,
    );
  }
  checkInteger('transcodeMemoryMb', resolved.transcodeMemoryMb, 128, 10240, 'Lambda memory limits');
  const timeoutSeconds = resolved.transcodeTimeout.toSeconds();
  if (timeoutSeconds < 60 || timeoutSeconds > 900) {
    throw new Error(
      `VideoPipeline: transcodeTimeout must be between 1 and 15 minutes, got ` +
        `${resolved.transcodeTimeout.toHumanString()}: Lambda stops at 15 minutes, and a ` +
        'job needs at least a minute to encode a chunk; use a smaller chunkSegments for ' +
        'shorter jobs.',
    );
  }
  checkInteger(
    'transcodeEphemeralStorageMb',
    resolved.transcodeEphemeralStorageMb,
    512,
    10240,
    'Lambda /tmp size limits',
  );
  if (resolved.transcodeMaxConcurrency !== undefined) {
    checkInteger(
      'transcodeMaxConcurrency',
      resolved.transcodeMaxConcurrency,
      2,
      1000,
      'the range SQS event sources accept for maximum concurrency; omit it for no limit',
    );
  }
  if (resolved.allowedOrigins.length === 0) {
    throw new Error(
      "VideoPipeline: allowedOrigins must not be empty; use ['*'] to allow any origin or " +
        "list them, e.g. ['https://app.example.com'].",
    );
  }
  for (const origin of resolved.allowedOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new Error(
        `VideoPipeline: allowedOrigins entry '${origin}' is not an origin: use '*' or ` +
          "scheme://host[:port] without a path, e.g. 'https://app.example.com'.",
      );
    }
  }
  checkInteger(
    'sourceRetentionDays',
    resolved.sourceRetentionDays,
    1,
    Number.MAX_SAFE_INTEGER,
    'S3 lifecycle expirations are whole days',
  );
  checkInteger(
    'accessLogRetentionDays',
    resolved.accessLogRetentionDays,
    1,
    Number.MAX_SAFE_INTEGER,
    'S3 lifecycle expirations are whole days',
  );
  checkInteger(
    'apiThrottleRateLimit',
    resolved.apiThrottleRateLimit,
    1,
    Number.MAX_SAFE_INTEGER,
    'requests per second on the API stage',
  );
  checkInteger(
    'apiThrottleBurstLimit',
    resolved.apiThrottleBurstLimit,
    1,
    Number.MAX_SAFE_INTEGER,
    'burst requests on the API stage',
  );
  return resolved;
}

/**
 * The whole Spool pipeline: presigned upload API → S3 → ingest → SQS jobs → ffmpeg
 * workers → publish → CloudFront, with dead-letter handling and alarms. Reusable in any
 * CDK app; one construct per stage, wired here.
 */
export class VideoPipeline extends Construct {
  /** The props after defaults, as deployed. */
  public readonly config: ResolvedVideoPipelineProps;
  public readonly storage: Storage;
  public readonly ffmpeg: FfmpegLayer;
  public readonly delivery: Delivery;
  public readonly publish: Publish;
  public readonly transcode: Transcode;
  public readonly ingest: Ingest;
  public readonly uploadApi: UploadApi;
  public readonly monitoring: Monitoring;
  /** Every function of the pipeline, by stage. */
  public readonly functions: Readonly<Record<SpoolStage, SpoolFunction>>;

  constructor(scope: Construct, id: string, props: VideoPipelineProps = {}) {
    super(scope, id);
    // Validate before creating anything: errors surface before bundling starts.
    const config = resolveVideoPipelineProps(props);
    this.config = config;
    const common = { logRetention: config.logRetention, removalPolicy: config.removalPolicy };

    this.storage = new Storage(this, 'Storage', {
      allowedOrigins: config.allowedOrigins,
      sourceRetentionDays: config.sourceRetentionDays,
      accessLogRetentionDays: config.accessLogRetentionDays,
      removalPolicy: config.removalPolicy,
    });
    const { uploadsBucket, outputBucket } = this.storage;
    this.ffmpeg = new FfmpegLayer(this, 'Ffmpeg');

    this.delivery = new Delivery(this, 'Delivery', {
      outputBucket,
      accessLogsBucket: this.storage.accessLogsBucket,
      allowedOrigins: config.allowedOrigins,
      priceClass: props.priceClass,
    });
    this.publish = new Publish(this, 'Publish', { uploadsBucket, outputBucket, ...common });
    this.transcode = new Transcode(this, 'Transcode', {
      uploadsBucket,
      outputBucket,
      publishQueue: this.publish.queue.queue,
      ffmpegLayer: this.ffmpeg.layer,
      memorySize: config.transcodeMemoryMb,
      timeout: config.transcodeTimeout,
      ephemeralStorageSize: Size.mebibytes(config.transcodeEphemeralStorageMb),
      maxConcurrency: config.transcodeMaxConcurrency,
      ...common,
    });
    this.ingest = new Ingest(this, 'Ingest', {
      uploadsBucket,
      jobsQueue: this.transcode.jobsQueue.queue,
      ffmpegLayer: this.ffmpeg.layer,
      ...common,
    });
    this.uploadApi = new UploadApi(this, 'UploadApi', {
      uploadsBucket,
      allowedOrigins: config.allowedOrigins,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      ...common,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      uploadsBucket,
      deadLetterQueues: {
        Jobs: this.transcode.jobsQueue.deadLetterQueue,
        Publish: this.publish.queue.deadLetterQueue,
        Ingest: this.ingest.deadLetterQueue,
      },
      alarmTopic: props.alarmTopic,
      ...common,
    });

    this.functions = {
      upload: this.uploadApi.handler,
      ingest: this.ingest.handler,
      transcode: this.transcode.handler,
      publish: this.publish.handler,
      failures: this.monitoring.failuresHandler,
    };

    // Every handler loads the same config schema (functions/core/config.ts) at cold
    // start. Added here rather than per stage because the queues of later stages do not
    // exist yet when earlier stages' functions are created.
    const environment: Record<string, string> = {
      UPLOADS_BUCKET: uploadsBucket.bucketName,
      OUTPUT_BUCKET: outputBucket.bucketName,
      JOBS_QUEUE_URL: this.transcode.jobsQueue.queue.queueUrl,
      PUBLISH_QUEUE_URL: this.publish.queue.queue.queueUrl,
      PLAYBACK_BASE_URL: this.delivery.playbackBaseUrl,
      SPOOL_MAX_UPLOAD_BYTES: String(config.maxUploadBytes),
      SPOOL_MAX_DURATION_SECONDS: String(config.maxDurationSeconds),
      SPOOL_SEGMENT_SECONDS: String(config.segmentSeconds),
      SPOOL_CHUNK_SEGMENTS: String(config.chunkSegments),
      SPOOL_X264_PRESET: config.x264Preset,
      // The handlers give a job up (and mark its video failed) on the delivery the queue
      // would otherwise dead-letter it.
      SPOOL_MAX_ATTEMPTS: String(MAX_RECEIVE_COUNT),
      NODE_OPTIONS: '--enable-source-maps',
    };
    for (const fn of Object.values(this.functions)) {
      for (const [key, value] of Object.entries(environment)) fn.addEnvironment(key, value);
    }
  }
}
