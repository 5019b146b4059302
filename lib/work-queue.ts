import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { visibilityTimeoutSeconds } from '../functions/core/topology.js';

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
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...fifo,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(
        visibilityTimeoutSeconds(props.deadLetterConsumerTimeout.toSeconds()),
      ),
    });
    acknowledgeDeadLetterQueue(this.deadLetterQueue, `the ${id} queue`);
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

/** cdk-nag asks every queue for a redrive policy; a dead-letter queue is where redrive ends. */
export function acknowledgeDeadLetterQueue(queue: sqs.IQueue, of: string): void {
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      `The dead-letter queue of ${of}: its messages wait here, alarmed, to be read and ` +
      'redriven; a queue of its own behind it would only hide them further.',
  });
}
