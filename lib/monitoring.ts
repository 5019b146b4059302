import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
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
  /** Notified when an alarm fires or clears. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Failure handling: the function that marks a video failed when one of its messages
 * is dead-lettered, and an alarm per dead-letter queue.
 */
export class Monitoring extends Construct {
  public readonly failuresHandler: SpoolFunction;
  /** One alarm per dead-letter queue, keyed like the props. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.failuresHandler = new SpoolFunction(this, 'FailuresHandler', {
      stage: 'failures',
      description: 'Spool failures: marks a video failed when its message is dead-lettered',
      memorySize: FUNCTIONS.failures.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.failures.timeoutSeconds),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.failuresHandler.grantObjects(
      props.uploadsBucket,
      { read: [`${keys.records('*')}*`], write: [keys.failed('*')] },
      'The failures function reads the records and writes the failed.json state record.',
    );
    for (const queue of Object.values(props.deadLetterQueues)) {
      this.failuresHandler.addEventSource(
        new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }),
      );
    }

    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      const alarm = new cloudwatch.Alarm(this, `${name}DeadLetterAlarm`, {
        alarmDescription:
          `Spool: messages are waiting in the ${name} dead-letter queue, so the failures ` +
          'function has not (yet) marked their videos failed. Inspect the messages and the logs.',
        // Maximum over one minute: the failures function drains the queue quickly, so a
        // single visible sample is the signal.
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) {
        const action = new cwActions.SnsAction(props.alarmTopic);
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
      alarms[name] = alarm;
    }
    this.alarms = alarms;
  }
}
