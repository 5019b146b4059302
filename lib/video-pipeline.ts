import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  ingestMemoryMb,
  RUNTIME_SETTINGS,
  resolveSettings,
  type SpoolSettings,
  type SpoolSettingsInput,
  settingsEnvironment,
} from '../functions/core/settings.js';
import { Alarms } from './alarms.js';
import { Delivery } from './delivery.js';
import { Events } from './events.js';
import { FfmpegLayer, LAMBDA_ARCHITECTURE } from './ffmpeg-layer.js';
import { Ingest } from './ingest.js';
import { Monitoring } from './monitoring.js';
import { PlaybackSigning } from './playback-signing.js';
import { Publish } from './publish.js';
import { Purge } from './purge.js';
import type { SpoolFunction, SpoolStage } from './spool-function.js';
import { Storage } from './storage.js';
import { Sweeper } from './sweeper.js';
import { Transcode } from './transcode.js';
import { UploadApi } from './upload-api.js';
import { Webhooks } from './webhooks.js';

/**
 * The pipeline's settings (functions/core/settings.ts: defaults and validation, shared with
 * the functions and the local stack), plus the objects only a CDK app can pass.
 */
export interface VideoPipelineProps extends SpoolSettingsInput {
  /**
   * ffmpeg and ffprobe for the workers: a layer for `ffmpegArchitecture` with
   * `ffmpeg/bin/ffmpeg` and `ffmpeg/bin/ffprobe` (Lambda mounts it at /opt).
   * @default - the `ffmpegLayerArn` setting, else the engine assembled from Debian's packages
   * (FfmpegLayer)
   */
  readonly ffmpegLayer?: lambda.ILayerVersion;
  /** Publish the `video.*` events to this bus. @default - a bus is created */
  readonly eventBus?: events.IEventBus;
  /**
   * Notified when an alarm fires or clears, besides `alarmEmail`.
   * @default - a topic is created; it has a subscriber only with `alarmEmail`
   */
  readonly alarmTopic?: sns.ITopic;
}

/** {@link VideoPipelineProps}' settings with every default applied and every value checked. */
export function resolveVideoPipelineProps(props: VideoPipelineProps = {}): SpoolSettings {
  const { alarmTopic: _topic, eventBus: _bus, ffmpegLayer: _layer, ...settings } = props;
  return resolveSettings(settings, 'VideoPipeline props');
}

/**
 * The whole Spool pipeline: presigned upload API → S3 → ingest → SQS jobs → ffmpeg
 * workers → publish → CloudFront, with dead-letter handling and alarms. Reusable in any
 * CDK app; one construct per stage, wired here.
 */
export class VideoPipeline extends Construct {
  /** The props after defaults, as deployed. */
  public readonly config: SpoolSettings;
  public readonly storage: Storage;
  /** The layer built from the npm packages; undefined when a team brings its own. */
  public readonly ffmpeg?: FfmpegLayer;
  /** The layer the transcode and ingest functions run ffmpeg and ffprobe from. */
  public readonly ffmpegLayer: lambda.ILayerVersion;
  public readonly delivery: Delivery;
  public readonly publish: Publish;
  /** Removes what is left of deleted videos. */
  public readonly purge: Purge;
  public readonly transcode: Transcode;
  public readonly ingest: Ingest;
  public readonly uploadApi: UploadApi;
  public readonly monitoring: Monitoring;
  public readonly sweeper: Sweeper;
  /** The alarm topic, the alarms and the dashboard. */
  public readonly alarms: Alarms;
  /** Every function of the pipeline, by stage. */
  public readonly functions: Readonly<
    Record<Exclude<SpoolStage, 'webhooks'>, SpoolFunction> & { webhooks?: SpoolFunction }
  >;
  public readonly events: Events;
  /** Present when `webhookUrls` lists endpoints. */
  public readonly webhooks?: Webhooks;
  /** Present with `signedPlayback`: the key group playback is checked against, the signing key. */
  public readonly playbackSigning?: PlaybackSigning;

  constructor(scope: Construct, id: string, props: VideoPipelineProps = {}) {
    super(scope, id);
    // Validate before creating anything: errors surface before bundling starts.
    const config = resolveVideoPipelineProps(props);
    this.config = config;
    const removalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const common = { logRetention: config.logRetentionDays as logs.RetentionDays, removalPolicy };

    this.storage = new Storage(this, 'Storage', {
      allowedOrigins: config.allowedOrigins,
      sourceRetentionDays: config.sourceRetentionDays,
      accessLogRetentionDays: config.accessLogRetentionDays,
      removalPolicy,
      autoDeleteObjects: config.autoDeleteObjects,
    });
    const { uploadsBucket, outputBucket } = this.storage;
    // A team's own build, or the engine assembled from Debian's packages (engine/).
    if (props.ffmpegLayer) this.ffmpegLayer = props.ffmpegLayer;
    else if (config.ffmpegLayerArn) {
      this.ffmpegLayer = lambda.LayerVersion.fromLayerVersionArn(
        this,
        'FfmpegLayer',
        config.ffmpegLayerArn,
      );
    } else {
      this.ffmpeg = new FfmpegLayer(this, 'Ffmpeg', { architecture: config.ffmpegArchitecture });
      this.ffmpegLayer = this.ffmpeg.layer;
    }

    if (config.signedPlayback) {
      this.playbackSigning = new PlaybackSigning(this, 'PlaybackSigning', {
        publicKeys: config.playbackPublicKeys,
        removalPolicy,
      });
    }
    this.delivery = new Delivery(this, 'Delivery', {
      outputBucket,
      accessLogsBucket: this.storage.accessLogsBucket,
      allowedOrigins: config.allowedOrigins,
      priceClass: config.priceClass as cloudfront.PriceClass,
      customDomain: config.customDomain,
      trustedKeyGroups: this.playbackSigning && [this.playbackSigning.keyGroup],
    });
    const removal = {
      uploadsBucket,
      outputBucket,
      distribution: this.delivery.distribution,
    };
    this.purge = new Purge(this, 'Purge', {
      ...removal,
      maxAttempts: config.maxAttempts,
      ...common,
    });
    this.publish = new Publish(this, 'Publish', {
      uploadsBucket,
      outputBucket,
      maxAttempts: config.maxAttempts,
      ...common,
    });
    this.transcode = new Transcode(this, 'Transcode', {
      uploadsBucket,
      outputBucket,
      publishQueue: this.publish.queue.queue,
      ffmpegLayer: this.ffmpegLayer,
      architecture: LAMBDA_ARCHITECTURE[config.ffmpegArchitecture],
      memorySize: config.transcodeMemoryMb,
      timeout: Duration.seconds(config.transcodeTimeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(config.transcodeEphemeralStorageMb),
      maxConcurrency: config.transcodeMaxConcurrency,
      maxAttempts: config.maxAttempts,
      ...common,
    });
    this.ingest = new Ingest(this, 'Ingest', {
      uploadsBucket,
      outputBucket,
      memorySize: ingestMemoryMb(config),
      jobsQueue: this.transcode.jobsQueue.queue,
      ffmpegLayer: this.ffmpegLayer,
      architecture: LAMBDA_ARCHITECTURE[config.ffmpegArchitecture],
      ...common,
    });
    this.uploadApi = new UploadApi(this, 'UploadApi', {
      ...removal,
      allowedOrigins: config.allowedOrigins,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      ...common,
    });
    // The API hands out the signed playback URLs.
    this.playbackSigning?.grantSign(this.uploadApi.handler);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      uploadsBucket,
      deadLetterQueues: {
        Jobs: this.transcode.jobsQueue.deadLetterQueue,
        Publish: this.publish.queue.deadLetterQueue,
        Ingest: this.ingest.deadLetterQueue,
      },
      ...common,
    });

    this.events = new Events(this, 'Events', {
      uploadsBucket,
      eventBus: props.eventBus,
      ...common,
    });
    if (config.webhookUrls.length > 0) {
      this.webhooks = new Webhooks(this, 'Webhooks', {
        bus: this.events.bus,
        urls: config.webhookUrls,
        ...common,
      });
    }

    this.sweeper = new Sweeper(this, 'Sweeper', {
      uploadsBucket,
      jobsQueue: this.transcode.jobsQueue.queue,
      publishQueue: this.publish.queue.queue,
      ...common,
    });

    this.functions = {
      upload: this.uploadApi.handler,
      ingest: this.ingest.handler,
      transcode: this.transcode.handler,
      publish: this.publish.handler,
      failures: this.monitoring.failuresHandler,
      sweeper: this.sweeper.handler,
      notify: this.events.handler,
      purge: this.purge.handler,
      ...(this.webhooks ? { webhooks: this.webhooks.handler } : {}),
    };
    // A stage that finds a video deleted after it wrote asks for a purge (core/deletion.ts);
    // DELETE asks for a later one. Only the purge function and the API may delete.
    for (const fn of [
      this.uploadApi.handler,
      this.ingest.handler,
      this.transcode.handler,
      this.publish.handler,
      this.monitoring.failuresHandler,
      this.sweeper.handler,
    ]) {
      this.purge.queue.queue.grantSendMessages(fn);
    }

    this.alarms = new Alarms(this, 'Alarms', {
      functions: this.functions,
      transcode: this.transcode.handler,
      jobsQueue: this.transcode.jobsQueue.queue,
      deadLetterQueues: {
        Jobs: this.transcode.jobsQueue.deadLetterQueue,
        Publish: this.publish.queue.deadLetterQueue,
        Ingest: this.ingest.deadLetterQueue,
        Notify: this.events.deadLetterQueue,
        Purge: this.purge.queue.deadLetterQueue,
        ...(this.webhooks
          ? {
              Webhooks: this.webhooks.queue.deadLetterQueue,
              WebhookEvents: this.webhooks.undeliverable,
            }
          : {}),
      },
      httpApi: this.uploadApi.httpApi,
      // SQS counts a job's age from its first send, through its attempts: two whole attempts
      // and a backoff is a retry; beyond that the workers are behind.
      oldestJobAlarmSeconds: 2 * config.transcodeTimeoutSeconds + 300,
      alarmEmail: config.alarmEmail,
      alarmTopic: props.alarmTopic,
    });

    // Every handler loads the same config schema (functions/core/config.ts) at cold
    // start. Added here rather than per stage because the queues of later stages do not
    // exist yet when earlier stages' functions are created.
    const environment: Record<string, string> = {
      UPLOADS_BUCKET: uploadsBucket.bucketName,
      OUTPUT_BUCKET: outputBucket.bucketName,
      JOBS_QUEUE_URL: this.transcode.jobsQueue.queue.queueUrl,
      PUBLISH_QUEUE_URL: this.publish.queue.queue.queueUrl,
      PURGE_QUEUE_URL: this.purge.queue.queue.queueUrl,
      PLAYBACK_BASE_URL: this.delivery.playbackBaseUrl,
      ...settingsEnvironment(config),
      NODE_OPTIONS: '--enable-source-maps',
    };
    // Webhook URLs often carry a token: only the function that calls them gets them.
    delete environment[RUNTIME_SETTINGS.webhookUrls];
    for (const fn of Object.values(this.functions)) {
      for (const [key, value] of Object.entries(environment)) fn.addEnvironment(key, value);
    }
  }
}
