import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_RECORDS } from '../functions/core/events.js';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { SpoolFunction } from './spool-function.js';
import { deadLetterQueue } from './work-queue.js';

export interface EventsProps {
  /** Its `playable.json`, `ready.json` and `failed.json` records trigger the events. */
  readonly uploadsBucket: s3.Bucket;
  /** Publish to this bus instead of a new one. @default - a bus is created */
  readonly eventBus?: events.IEventBus;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Events stage: when a video becomes playable, ready or failed (a write-once record lands in
 * the uploads bucket), the notify function publishes `video.*` to EventBridge (schemas/).
 */
export class Events extends Construct {
  public readonly bus: events.IEventBus;
  public readonly handler: SpoolFunction;
  /** Record events whose notify still failed after Lambda's two retries (alarmed). */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventsProps) {
    super(scope, id);
    this.bus =
      props.eventBus ?? new events.EventBus(this, 'Bus', { description: 'Spool video.* events' });
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', {
      of: "notify's S3 invocations",
    });
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'notify',
      trigger: 's3',
      description: 'Spool notify: publishes video.playable/ready/failed to EventBridge',
      memorySize: FUNCTIONS.notify.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.notify.timeoutSeconds),
      environment: { EVENT_BUS_NAME: this.bus.eventBusName },
      deadLetterQueue: this.deadLetterQueue,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.handler.grantObjects(
      props.uploadsBucket,
      { read: [`${keys.records('*')}*`, keys.source('*'), keys.tombstone('*')] },
      'Notify reads the records of the video whose state changed, to describe it in the event.',
    );
    this.bus.grantPutEventsTo(this.handler);
    for (const file of Object.values(EVENT_RECORDS)) {
      props.uploadsBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.LambdaDestination(this.handler),
        { prefix: keys.statePrefix, suffix: `/${file}` },
      );
    }
  }
}
