import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { SpoolFunction } from './spool-function.js';
import { WorkQueue } from './work-queue.js';

export interface PublishProps {
  /** Holds the chunk records the playlists are built from, and receives `ready.json`. */
  readonly uploadsBucket: s3.IBucket;
  /** Receives the media and master playlists. */
  readonly outputBucket: s3.IBucket;
  /** Deliveries of a message before it is dead-lettered. */
  readonly maxAttempts: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Publishing stage: once a video's last transcode job is done, a message on the publish
 * queue makes this function write the playlists and mark the video ready.
 */
export class Publish extends Construct {
  /**
   * Publish requests, FIFO grouped by video: a video's publishes never run concurrently (an
   * early EVENT publish could otherwise overwrite the final VOD playlists).
   */
  public readonly queue: WorkQueue;
  public readonly handler: SpoolFunction;

  constructor(scope: Construct, id: string, props: PublishProps) {
    super(scope, id);
    this.queue = new WorkQueue(this, 'Queue', {
      consumerTimeout: Duration.seconds(FUNCTIONS.publish.timeoutSeconds),
      maxReceiveCount: props.maxAttempts,
      deadLetterConsumerTimeout: Duration.seconds(FUNCTIONS.failures.timeoutSeconds),
      fifo: true,
    });
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'publish',
      trigger: 'sqs',
      description: 'Spool publish: writes HLS playlists and marks the video ready',
      memorySize: FUNCTIONS.publish.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.publish.timeoutSeconds),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.handler.grantObjects(
      props.uploadsBucket,
      {
        read: [`${keys.records('*')}*`, keys.caption('*', '*'), keys.tombstone('*')],
        write: [keys.playable('*'), keys.ready('*'), keys.failed('*')],
      },
      'Publish lists and reads the job records and the captions, and writes playable/ready.',
    );
    this.handler.grantObjects(
      props.outputBucket,
      { write: [`${keys.output('*')}*`] },
      'Publish writes the master, media, I-frame and subtitle playlists of a video.',
    );
    this.handler.addEventSource(
      new SqsEventSource(this.queue.queue, {
        // One request per invocation: a batch's records run concurrently, and one video's
        // publishes must not; it also keeps each publish inside the function timeout.
        batchSize: 1,
        reportBatchItemFailures: true,
      }),
    );
  }
}
