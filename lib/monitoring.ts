import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { SpoolFunction } from './spool-function.js';

export interface MonitoringProps {
  /** Holds the state records; the failures function writes `failed.json` there. */
  readonly uploadsBucket: s3.IBucket;
  /** Dead-letter queues the failures function drains, keyed by a name for the alarm id. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Failure handling: the function that marks a video failed when one of its messages is
 * dead-lettered (the alarms on those queues are in alarms.ts).
 */
export class Monitoring extends Construct {
  public readonly failuresHandler: SpoolFunction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.failuresHandler = new SpoolFunction(this, 'FailuresHandler', {
      stage: 'failures',
      trigger: 'sqs',
      description: 'Spool failures: marks a video failed when its message is dead-lettered',
      memorySize: FUNCTIONS.failures.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.failures.timeoutSeconds),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.failuresHandler.grantObjects(
      props.uploadsBucket,
      { read: [`${keys.records('*')}*`, keys.tombstone('*')], write: [keys.failed('*')] },
      'The failures function reads the records and writes the failed.json state record.',
    );
    for (const queue of Object.values(props.deadLetterQueues)) {
      this.failuresHandler.addEventSource(
        new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }),
      );
    }
  }
}
