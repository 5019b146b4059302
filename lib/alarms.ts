import { Duration, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRIC,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricKey,
  QUEUE_DIMENSION,
} from '../functions/core/metrics.js';

export interface AlarmsProps {
  /** Every function, by stage: errors of each are alarmed and graphed. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The workers: throttles alarmed (the concurrency cap or the account's quota bites). */
  readonly transcode: lambda.IFunction;
  readonly jobsQueue: sqs.IQueue;
  /** Dead-letter queues by name: any message waiting there is alarmed. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly httpApi: apigw.IHttpApi;
  /** A job older than this in the jobs queue is a backlog worth a page. */
  readonly oldestJobAlarmSeconds: number;
  /** Subscribed to the alarm topic by email. @default - no subscription */
  readonly alarmEmail?: string;
  /** Also notified. @default - only the topic created here */
  readonly alarmTopic?: sns.ITopic;
}

/** Share of finished videos that failed, over an hour, that raises the alarm (percent). */
const FAILED_VIDEOS_PERCENT = 20;
/** ...once at least this many videos finished in the hour, so one bad upload does not page. */
const FAILED_VIDEOS_MIN_FINISHED = 5;

/** One of Spool's EMF metrics (core/metrics.ts), as CloudWatch stores it. */
export function spoolMetric(key: MetricKey, props: cloudwatch.MetricOptions = {}) {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: METRIC[key].name,
    dimensionsMap: { service: METRICS_SERVICE },
    period: Duration.minutes(5),
    statistic: cloudwatch.Stats.SUM,
    ...props,
  });
}

/**
 * Alarms with an SNS topic, and the one dashboard: what an operator looks at. The alarms:
 * messages in any dead-letter queue, function errors, worker throttles, the age of the oldest
 * waiting job, API 5xx, and the share of videos that failed.
 */
export class Alarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Spool alarms',
      enforceSSL: true,
    });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and states only, no video data; CloudWatch ' +
        'cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer ' +
        'key would add a KMS key to every deployment for no confidentiality gain.',
    });
    if (props.alarmEmail) {
      const email = new subscriptions.EmailSubscription(props.alarmEmail);
      this.topic.addSubscription(email);
      for (const child of this.topic.node.children) {
        Validations.of(child).acknowledge({
          id: 'Serverless-SNSRedrivePolicy',
          reason:
            'An email of an alarm notification: one that cannot be delivered is not worth ' +
            'redriving later, since the alarm state stays on the dashboard and in CloudWatch.',
        });
      }
    }
    const actions = [this.topic, ...(props.alarmTopic ? [props.alarmTopic] : [])].map(
      (t) => new cwActions.SnsAction(t),
    );

    const alarms: Record<string, cloudwatch.Alarm> = {};
    const alarm = (name: string, options: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, name, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(...actions);
      created.addOkAction(...actions);
      alarms[name] = created;
    };

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(`${name}DeadLetters`, {
        alarmDescription:
          `Spool: messages are waiting in the ${name} dead-letter queue. Read them and the ` +
          "function's logs; redrive them once the cause is fixed.",
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    // The failures function drains the job, publish and ingest dead-letter queues within
    // seconds, so their depth alone would say only that it is broken: count arrivals too.
    alarm('DeadLettered', {
      alarmDescription:
        'Spool: a job, publish or upload could not be completed after every attempt (a crash ' +
        'or timeout) and its video was failed. See the failures function’s logs.',
      metric: spoolMetric('deadLetters'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    for (const [stage, fn] of Object.entries(props.functions)) {
      alarm(`${stage[0]?.toUpperCase()}${stage.slice(1)}Errors`, {
        alarmDescription: `Spool: the ${stage} function failed (crashed, timed out or threw).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    alarm('TranscodeThrottles', {
      alarmDescription:
        "Spool: transcode invocations are throttled: the account's concurrency is exhausted. " +
        'Lower transcodeMaxConcurrency or raise the quota.',
      metric: props.transcode.metricThrottles({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('JobFailedAttempts', {
      alarmDescription:
        'Spool: transcode attempts are failing for reasons other than the media (timeouts, ' +
        'ffmpeg crashes, S3 or SQS errors). They are retried; see the transcode logs.',
      metric: spoolMetric('failedAttempts', {
        dimensionsMap: { service: METRICS_SERVICE, [QUEUE_DIMENSION]: 'jobs' },
        period: Duration.minutes(15),
      }),
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('OldestJob', {
      alarmDescription:
        `Spool: a transcode job has waited over ${props.oldestJobAlarmSeconds / 60} minutes. ` +
        'The workers are behind (the concurrency cap) or not consuming.',
      metric: props.jobsQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: props.oldestJobAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('Api5xx', {
      alarmDescription: 'Spool: the API answered with server errors (5xx).',
      metric: props.httpApi.metricServerError({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    const hour = { period: Duration.hours(1) };
    alarm('FailedVideos', {
      alarmDescription:
        `Spool: over ${FAILED_VIDEOS_PERCENT}% of the videos finished in the last hour failed ` +
        `(with at least ${FAILED_VIDEOS_MIN_FINISHED} finished). The VideosFailed metric's ` +
        'errorCode dimension says why.',
      metric: new cloudwatch.MathExpression({
        expression: `IF(ready + failed >= ${FAILED_VIDEOS_MIN_FINISHED}, 100 * failed / (ready + failed), 0)`,
        usingMetrics: {
          ready: spoolMetric('videosReady', hour),
          failed: spoolMetric('videosFailed', hour),
        },
        period: Duration.hours(1),
        label: 'Failed videos (%)',
      }),
      threshold: FAILED_VIDEOS_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.alarms = alarms;

    const fns = Object.entries(props.functions);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Videos',
            left: (['videosCreated', 'videosPlayable', 'videosReady', 'videosFailed'] as const).map(
              (k) => spoolMetric(k, { label: METRIC[k].name }),
            ),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Seconds from upload request to playable / ready (p50, p90)',
            left: (['timeToPlayable', 'timeToReady'] as const).flatMap((k) =>
              (['p50', 'p90'] as const).map((statistic) =>
                spoolMetric(k, { statistic, label: `${METRIC[k].name} ${statistic}` }),
              ),
            ),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Encode seconds per source second (avg, max)',
            left: [cloudwatch.Stats.AVERAGE, cloudwatch.Stats.MAXIMUM].map((statistic) =>
              spoolMetric('encodeSecondsPerSourceSecond', { statistic }),
            ),
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Jobs waiting and in flight',
            left: [
              props.jobsQueue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' }),
              props.jobsQueue.metricApproximateNumberOfMessagesNotVisible({ label: 'in flight' }),
            ],
            right: [props.jobsQueue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)' })],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Transcode workers',
            left: [
              props.transcode.metric('ConcurrentExecutions', {
                statistic: cloudwatch.Stats.MAXIMUM,
                label: 'concurrent',
              }),
            ],
            right: [
              props.transcode.metricThrottles({ label: 'throttles' }),
              spoolMetric('retries', {
                dimensionsMap: { service: METRICS_SERVICE, [QUEUE_DIMENSION]: 'jobs' },
                label: 'retries',
              }),
              spoolMetric('failedAttempts', {
                dimensionsMap: { service: METRICS_SERVICE, [QUEUE_DIMENSION]: 'jobs' },
                label: 'failed attempts',
              }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'API',
            left: [
              props.httpApi.metricCount({ label: 'requests' }),
              props.httpApi.metricServerError({ label: '5xx' }),
              props.httpApi.metricClientError({ label: '4xx' }),
            ],
            right: [props.httpApi.metricLatency({ statistic: 'p90', label: 'latency p90' })],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Function errors',
            left: fns.map(([stage, fn]) => fn.metricErrors({ label: stage })),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Dead letters',
            left: [
              ...Object.entries(props.deadLetterQueues).map(([name, q]) =>
                q.metricApproximateNumberOfMessagesVisible({ label: name }),
              ),
              spoolMetric('deadLetters', { label: 'failed by the failures function' }),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(alarms),
            width: 24,
          }),
        ],
      ],
    });
  }
}
