import { Duration, type RemovalPolicy, type Size } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { FFMPEG_PATH, FFPROBE_PATH } from './ffmpeg-layer.js';
import { SpoolFunction } from './spool-function.js';
import { WorkQueue } from './work-queue.js';

export interface TranscodeProps {
  /** Sources (read by byte range through the SDK) and write-once chunk records. */
  readonly uploadsBucket: s3.IBucket;
  /** Receives the HLS segments, the poster and the storyboard images (write only). */
  readonly outputBucket: s3.IBucket;
  /** Where the worker that finishes a video's last job asks for it to be published. */
  readonly publishQueue: sqs.IQueue;
  readonly ffmpegLayer: lambda.ILayerVersion;
  /** The engine layer's architecture. */
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly ephemeralStorageSize: Size;
  /** Upper bound on concurrent workers; undefined leaves it to account concurrency. */
  readonly maxConcurrency?: number;
  /** Deliveries of a message before it is dead-lettered. */
  readonly maxAttempts: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Transcoding stage: the jobs queue (one message per chunk) and the
 * ffmpeg workers that consume it, one job per invocation.
 */
export class Transcode extends Construct {
  /** Transcode jobs, enqueued by ingest. */
  public readonly jobsQueue: WorkQueue;
  public readonly handler: SpoolFunction;

  constructor(scope: Construct, id: string, props: TranscodeProps) {
    super(scope, id);
    this.jobsQueue = new WorkQueue(this, 'JobsQueue', {
      consumerTimeout: props.timeout,
      maxReceiveCount: props.maxAttempts,
      deadLetterConsumerTimeout: Duration.seconds(FUNCTIONS.failures.timeoutSeconds),
    });
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'transcode',
      trigger: 'sqs',
      description: 'Spool transcode: encodes one chunk into every rendition with ffmpeg',
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      layers: [props.ffmpegLayer],
      architecture: props.architecture,
      environment: { FFMPEG_PATH, FFPROBE_PATH },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // The worker decodes hostile uploads: it may read them and the records, and write only
    // its own records and the segments. It cannot delete or overwrite a published playlist;
    // finding a video deleted, it asks the purge function (which checks the tombstone).
    this.handler.grantObjects(
      props.uploadsBucket,
      {
        read: [`${keys.records('*')}*`, keys.source('*'), keys.tombstone('*')],
        write: [`${keys.chunksPrefix('*')}*`, keys.failed('*')],
      },
      'Transcode reads byte ranges of the source and writes its write-once job records.',
    );
    this.handler.grantObjects(
      props.outputBucket,
      {
        write: [
          // Segments only (*.ts): the playlists (*.m3u8) are publish's to write.
          keys.segment('*', '*', '*.ts'),
          keys.poster('*', 'jpg'),
          keys.poster('*', 'webp'),
          keys.storyboardImage('*', '*.jpg'),
        ],
      },
      'Transcode uploads the HLS segments, the poster and the storyboard images.',
    );
    props.publishQueue.grantSendMessages(this.handler);
    this.handler.addEventSource(
      new SqsEventSource(this.jobsQueue.queue, {
        // A job is minutes of ffmpeg: one per invocation so a failure retries only itself.
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );
  }
}
