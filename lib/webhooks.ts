import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE, VIDEO_EVENT_TYPES } from '../functions/core/events.js';
import { RUNTIME_SETTINGS } from '../functions/core/settings.js';
import { FUNCTIONS, WEBHOOK_ATTEMPTS } from '../functions/core/topology.js';
import { SpoolFunction } from './spool-function.js';
import { deadLetterQueue, WorkQueue } from './work-queue.js';

export interface WebhooksProps {
  /** The bus the `video.*` events are published on. */
  readonly bus: events.IEventBus;
  /** Endpoints, by index: each gets its own rule, so each is retried on its own. */
  readonly urls: readonly string[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Webhooks: one EventBridge rule per endpoint puts each `video.*` event on a queue, and a
 * function POSTs it signed with HMAC-SHA256 (timestamp and body). EventBridge's API
 * destinations cannot compute a per-request signature (their connections send a fixed key),
 * so the signing is ours; retries are the queue's: a doubling backoff over WEBHOOK_ATTEMPTS
 * deliveries, then the dead-letter queue, which is alarmed and can be redriven.
 */
export class Webhooks extends Construct {
  public readonly secret: secretsmanager.Secret;
  public readonly queue: WorkQueue;
  public readonly handler: SpoolFunction;
  public readonly rules: events.Rule[];
  /**
   * Events EventBridge could not put on the queue (in its own shape, not a delivery's): kept
   * apart from failed deliveries so that redriving those never mixes the two.
   */
  public readonly undeliverable: sqs.Queue;

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'Spool webhook signing key (HMAC-SHA256; spool-signature header)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Every receiver verifies with this key; rotating it breaks them all at once, so it is ' +
        'rotated by hand (put-secret-value) together with the receivers.',
    });
    this.queue = new WorkQueue(this, 'Queue', {
      consumerTimeout: Duration.seconds(FUNCTIONS.webhooks.timeoutSeconds),
      deadLetterConsumerTimeout: Duration.seconds(FUNCTIONS.failures.timeoutSeconds),
      maxReceiveCount: WEBHOOK_ATTEMPTS,
    });
    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'webhooks',
      trigger: 'sqs',
      description: 'Spool webhooks: POSTs video.* events, signed, to the configured endpoints',
      memorySize: FUNCTIONS.webhooks.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.webhooks.timeoutSeconds),
      environment: {
        WEBHOOK_SECRET_ARN: this.secret.secretArn,
        WEBHOOKS_QUEUE_URL: this.queue.queue.queueUrl,
        [RUNTIME_SETTINGS.webhookUrls]: JSON.stringify(props.urls),
      },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.secret.grantRead(this.handler);
    this.undeliverable = deadLetterQueue(this, 'Undeliverable', {
      of: "the webhook rules' targets",
    });
    Validations.of(this.undeliverable).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is the dead-letter queue of the webhook rules' SQS targets (EventBridge " +
        'DeadLetterConfig), which cdk-nag does not recognise as a redrive source.',
    });
    // Its own backoff: it sets the visibility of a delivery that failed.
    this.queue.queue.grant(this.handler, 'sqs:ChangeMessageVisibility');
    this.handler.addEventSource(
      new SqsEventSource(this.queue.queue, { batchSize: 1, reportBatchItemFailures: true }),
    );
    this.rules = props.urls.map(
      (_url, endpoint) =>
        new events.Rule(this, `Endpoint${endpoint}`, {
          eventBus: props.bus,
          description: `Spool: video.* events to webhook endpoint ${endpoint}`,
          eventPattern: { source: [EVENT_SOURCE], detailType: [...VIDEO_EVENT_TYPES] },
          targets: [
            new targets.SqsQueue(this.queue.queue, {
              // The shape functions/webhooks reads: which endpoint, and the event's detail.
              message: events.RuleTargetInput.fromObject({
                endpoint,
                detail: events.EventField.fromPath('$.detail'),
              }),
              deadLetterQueue: this.undeliverable,
              retryAttempts: 185,
              maxEventAge: Duration.hours(24),
            }),
          ],
        }),
    );
  }
}
