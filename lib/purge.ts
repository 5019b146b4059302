import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { SpoolFunction } from './spool-function.js';
import { WorkQueue } from './work-queue.js';

/** Where deleted videos are removed from: both buckets, and the CDN in front of one. */
export interface VideoRemovalProps {
  /** Sources, captions, state records and the listing index. */
  readonly uploadsBucket: s3.IBucket;
  /** Published output, `videos/{id}/…`. */
  readonly outputBucket: s3.IBucket;
  /** Invalidated for `/videos/{id}/*` once a video's output is gone. */
  readonly distribution: cloudfront.IDistribution;
}

/**
 * Let `fn` remove deleted videos (core/deletion.ts): read tombstones, list and delete below a
 * video's prefixes (never a tombstone: the lifecycle rule expires those), and invalidate the
 * distribution. For the API (DELETE) and the purge function only.
 */
export function allowRemovingVideos(
  fn: SpoolFunction,
  props: VideoRemovalProps,
  /** What else `fn` does in the uploads bucket (one grant per bucket), and why. */
  also: {
    readonly read?: string[];
    readonly write?: string[];
    readonly multipart?: string[];
    readonly abort?: string[];
    readonly why?: string;
  } = {},
): void {
  fn.grantObjects(
    props.uploadsBucket,
    {
      read: [keys.tombstone('*'), ...(also.read ?? [])],
      write: also.write,
      multipart: also.multipart,
      abort: also.abort,
      remove: [`${keys.upload('*')}*`, `${keys.records('*')}*`, `${keys.indexPrefix}*`],
    },
    [also.why, 'Deleting a video removes its source, captions, state records and index entry.']
      .filter(Boolean)
      .join(' '),
  );
  fn.grantObjects(
    props.outputBucket,
    { remove: [`${keys.output('*')}*`] },
    'Deleting a video removes its published output (what CloudFront serves).',
  );
  props.distribution.grantCreateInvalidation(fn);
  fn.addEnvironment('CDN_DISTRIBUTION_ID', props.distribution.distributionId);
}

export interface PurgeProps extends VideoRemovalProps {
  /** Deliveries of a request before it is dead-lettered. */
  readonly maxAttempts: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The purge stage: removes what is left of a deleted video when a stage that wrote for it
 * finds its tombstone, and once more a while after each DELETE. The stages only ask (they
 * may send to the queue); this function, which reads no upload, is the one that deletes.
 */
export class Purge extends Construct {
  /** Purge requests (standard queue: every request is a fresh look, so none is deduplicated). */
  public readonly queue: WorkQueue;
  public readonly handler: SpoolFunction;

  constructor(scope: Construct, id: string, props: PurgeProps) {
    super(scope, id);
    this.queue = new WorkQueue(this, 'Queue', {
      consumerTimeout: Duration.seconds(FUNCTIONS.purge.timeoutSeconds),
      maxReceiveCount: props.maxAttempts,
      deadLetterConsumerTimeout: Duration.seconds(FUNCTIONS.failures.timeoutSeconds),
    });
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'purge',
      trigger: 'sqs',
      description: 'Spool purge: removes what is left of a deleted video',
      memorySize: FUNCTIONS.purge.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.purge.timeoutSeconds),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    allowRemovingVideos(this.handler, props);
    this.handler.addEventSource(
      new SqsEventSource(this.queue.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
  }
}
