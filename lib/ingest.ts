import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { FFMPEG_PATH, FFPROBE_PATH } from './ffmpeg-layer.js';
import { BASIC_EXECUTION_ROLE_FINDING, SpoolFunction } from './spool-function.js';
import { SOURCE_SUFFIX, UPLOADS_PREFIX } from './storage.js';
import { deadLetterQueue } from './work-queue.js';

export interface IngestProps {
  /** Its `uploads/{id}/source` objects trigger ingest; the plan is written back to it. */
  readonly uploadsBucket: s3.Bucket;
  /** Where the opening's segments and first playlists go. */
  readonly outputBucket: s3.IBucket;
  /** Ingest encodes the opening: sized like a transcode worker (Lambda's CPU follows memory). */
  readonly memorySize: number;
  /** Receives one message per planned chunk job. */
  readonly jobsQueue: sqs.IQueue;
  readonly ffmpegLayer: lambda.ILayerVersion;
  /** The engine layer's architecture. */
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Ingest stage: when a source lands in the uploads bucket, probe it with ffprobe,
 * validate it, write the plan, encode and publish the opening (its first two seconds), and
 * enqueue the other transcode jobs.
 */
export class Ingest extends Construct {
  public readonly handler: SpoolFunction;
  /**
   * S3 invokes ingest asynchronously; an event that still fails after Lambda's two
   * retries lands here (the original S3 event as the body), and the failures function
   * marks its video failed.
   */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      of: "ingest's S3 invocations",
    });
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'ingest',
      trigger: 's3',
      description: 'Spool ingest: probes an upload, plans it, plays its opening, enqueues jobs',
      memorySize: props.memorySize,
      timeout: Duration.seconds(FUNCTIONS.ingest.timeoutSeconds),
      layers: [props.ffmpegLayer],
      architecture: props.architecture,
      environment: { FFMPEG_PATH, FFPROBE_PATH },
      deadLetterQueue: this.deadLetterQueue,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.handler.grantObjects(
      props.uploadsBucket,
      {
        // The tombstone: a deleted video is not ingested (core/deletion.ts).
        read: [`${keys.records('*')}*`, keys.source('*'), keys.tombstone('*')],
        write: [
          keys.plan('*'),
          keys.enqueued('*'),
          keys.failed('*'),
          // The opening: its chunk record, and what its first publish writes.
          keys.chunk('*', 0),
          keys.playable('*'),
          keys.ready('*'),
        ],
      },
      'Ingest reads the source by byte range, writes the plan (or the failure), and encodes and publishes the opening.',
    );
    this.handler.grantObjects(
      props.outputBucket,
      { write: [`${keys.output('*')}*`] },
      "Ingest uploads the opening's segments and images and writes its first playlists.",
    );
    props.jobsQueue.grantSendMessages(this.handler);
    // Only the source object: state records written to the same bucket must not
    // re-trigger ingest.
    props.uploadsBucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(this.handler),
      { prefix: UPLOADS_PREFIX, suffix: SOURCE_SUFFIX },
    );
    // aws-cdk-lib configures the notification through a singleton custom-resource
    // function at stack level, created by the call above.
    const stack = Stack.of(this);
    for (const child of stack.node.children) {
      if (child.node.id.startsWith('BucketNotificationsHandler')) {
        Validations.of(child).acknowledge({
          id: BASIC_EXECUTION_ROLE_FINDING,
          reason:
            "aws-cdk-lib's BucketNotificationsHandler custom resource (configures the S3 " +
            'event notification at deploy time) gets AWSLambdaBasicExecutionRole only to write ' +
            'its CloudWatch logs.',
        });
      }
    }
  }
}
