import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTIONS, visibilityTimeoutSeconds } from '../functions/core/topology.js';

export interface WorkQueueProps {
  /** Timeout of the function consuming the queue; sets the visibility timeout. */
  readonly consumerTimeout: Duration;
  /**
   * Deliveries before a message moves to the dead-letter queue: the settings' maxAttempts,
   * which the handlers also read, to give a job up on its last delivery.
   */
  readonly maxReceiveCount: number;
  /** Timeout of the function consuming the dead-letter queue. */
  readonly deadLetterConsumerTimeout: Duration;
  /**
   * A FIFO queue (and dead-letter queue): messages of one group are delivered one at a
   * time, in order. Senders set the deduplication id.
   * @default false
   */
  readonly fifo?: boolean;
}

/** An encrypted, TLS-only SQS queue with a dead-letter queue after `maxReceiveCount` receives. */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const fifo = props.fifo ? { fifo: true, contentBasedDeduplication: false } : {};
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      of: `the ${id} queue`,
      consumerTimeoutSeconds: props.deadLetterConsumerTimeout.toSeconds(),
      fifo: props.fifo,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifo,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(
        visibilityTimeoutSeconds(props.consumerTimeout.toSeconds()),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}

/**
 * A dead-letter queue: encrypted, TLS-only, keeping messages 14 days to be read and redriven.
 * `of` says whose dead letters it holds, for cdk-nag's acknowledgement.
 */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  props: {
    of: string;
    /** Timeout of the function that consumes it, if any. @default - the failures function */
    consumerTimeoutSeconds?: number;
    fifo?: boolean;
  },
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    ...(props.fifo ? { fifo: true, contentBasedDeduplication: false } : {}),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    visibilityTimeout: Duration.seconds(
      visibilityTimeoutSeconds(props.consumerTimeoutSeconds ?? FUNCTIONS.failures.timeoutSeconds),
    ),
  });
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      `The dead-letter queue of ${props.of}: its messages wait here, alarmed, to be read ` +
      'and redriven; a queue of its own behind it would only hide them further.',
  });
  return queue;
}
