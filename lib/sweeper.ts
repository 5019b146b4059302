import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS, SWEEP_EVERY_MINUTES } from '../functions/core/topology.js';
import { SpoolFunction } from './spool-function.js';

export interface SweeperProps {
  /** The index and state records it reads; it writes `redriven.json` and `failed.json`. */
  readonly uploadsBucket: s3.IBucket;
  /** Where it re-sends a stalled video's missing jobs (and reads the backlog). */
  readonly jobsQueue: sqs.IQueue;
  /** Where it re-asks for the publish of a video whose jobs are all done. */
  readonly publishQueue: sqs.IQueue;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The sweeper (functions/sweeper): on a schedule, re-drives or fails any video that has made
 * no progress for `stuckAfterMinutes`, so none stays `processing` for ever.
 */
export class Sweeper extends Construct {
  public readonly handler: SpoolFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'sweeper',
      trigger: 'schedule',
      description: 'Spool sweeper: re-drives, then fails, videos stalled in processing',
      memorySize: FUNCTIONS.sweeper.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.sweeper.timeoutSeconds),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.handler.grantObjects(
      props.uploadsBucket,
      {
        read: [
          `${keys.records('*')}*`,
          keys.source('*'),
          `${keys.indexPrefix}*`,
          keys.tombstone('*'),
        ],
        write: [keys.redriven('*'), keys.failed('*')],
      },
      'The sweeper lists the index, reads the records and writes redriven.json or failed.json.',
    );
    props.jobsQueue.grantSendMessages(this.handler);
    props.publishQueue.grantSendMessages(this.handler);
    // The backlog check: while jobs wait, no video is judged stalled.
    props.jobsQueue.grant(this.handler, 'sqs:GetQueueAttributes');
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Spool: look for stalled videos',
      schedule: events.Schedule.rate(Duration.minutes(SWEEP_EVERY_MINUTES)),
      // A missed sweep is made up by the next one: no retries, no dead letters needed.
      targets: [new targets.LambdaFunction(this.handler, { retryAttempts: 0 })],
    });
    Validations.of(this.schedule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'A schedule event carries nothing to redo: a sweep that could not be invoked is made ' +
        'up by the next one, five minutes later.',
    });
  }
}
