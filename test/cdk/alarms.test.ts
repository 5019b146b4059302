import { Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { logicalId, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool({
  pipeline: {
    alarmEmail: 'ops@example.com',
    alarmTopic: sns.Topic.fromTopicArn(
      new Stack(),
      'Topic',
      'arn:aws:sns:eu-west-1:123456789012:pager',
    ),
    webhookUrls: ['https://hooks.example.com/spool'],
  },
});
const { template, stack } = spool;
const { pipeline } = stack;
const { alarms } = pipeline;
afterAll(() => spool.dispose());

type Alarm = { Properties: Record<string, unknown> };
const alarmNamed = (name: string): Alarm => {
  const alarm = alarms.alarms[name];
  if (!alarm) throw new Error(`no alarm ${name}`);
  return template.toJSON().Resources[logicalId(alarm)] as Alarm;
};

describe('Alarms', () => {
  it('mails the alarm email through an SSL-only topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(alarms.topic) },
    });
  });

  it('notifies the topic and the given one when any alarm fires and clears', () => {
    const topics = [{ Ref: logicalId(alarms.topic) }, 'arn:aws:sns:eu-west-1:123456789012:pager'];
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: topics,
      OKActions: topics,
    });
  });

  it.each([
    ['Jobs', () => pipeline.transcode.jobsQueue.deadLetterQueue],
    ['Publish', () => pipeline.publish.queue.deadLetterQueue],
    ['Ingest', () => pipeline.ingest.deadLetterQueue],
    ['Notify', () => pipeline.events.deadLetterQueue],
    ['Purge', () => pipeline.purge.queue.deadLetterQueue],
    ['Webhooks', () => pipeline.webhooks?.queue.deadLetterQueue],
    ['WebhookEvents', () => pipeline.webhooks?.undeliverable],
  ])('alarms on a message waiting in the %s dead-letter queue', (name, queue) => {
    const q = queue();
    if (!q) throw new Error('no queue');
    expect(alarmNamed(`${name}DeadLetters`).Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(q), 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when anything is dead-lettered, though the failures function drains the queues', () => {
    expect(alarmNamed('DeadLettered').Properties).toMatchObject({
      Namespace: 'Spool',
      MetricName: 'DeadLetters',
      Dimensions: [{ Name: 'service', Value: 'spool' }],
      Statistic: 'Sum',
      Threshold: 0,
    });
  });

  it('alarms on errors of every function and on throttled workers', () => {
    for (const [stage, fn] of Object.entries(pipeline.functions)) {
      const name = `${stage[0]?.toUpperCase()}${stage.slice(1)}Errors`;
      expect(alarmNamed(name).Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }],
      });
    }
    expect(alarmNamed('TranscodeThrottles').Properties).toMatchObject({
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(pipeline.transcode.handler) } }],
    });
  });

  it('alarms when the oldest job has waited longer than a job plus its retry', () => {
    expect(alarmNamed('OldestJob').Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(pipeline.transcode.jobsQueue.queue), 'QueueName'] },
        },
      ],
      Threshold: 2 * 900 + 300,
    });
  });

  it('alarms when transcode attempts fail for reasons other than the media', () => {
    expect(alarmNamed('JobFailedAttempts').Properties).toMatchObject({
      Namespace: 'Spool',
      MetricName: 'FailedAttempts',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'spool' },
        { Name: 'queue', Value: 'jobs' },
      ]),
      Threshold: 5,
    });
  });

  it('alarms on API 5xx', () => {
    expect(alarmNamed('Api5xx').Properties).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalId(pipeline.uploadApi.httpApi) } }],
    });
  });

  it('alarms when over 20% of the videos finished in an hour failed', () => {
    const { Metrics, Threshold } = alarmNamed('FailedVideos').Properties as {
      Metrics: {
        Id: string;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string } };
      }[];
      Threshold: number;
    };
    expect(Threshold).toBe(20);
    expect(Metrics.find((m) => m.Expression)?.Expression).toBe(
      'IF(ready + failed >= 5, 100 * failed / (ready + failed), 0)',
    );
    expect(
      Object.fromEntries(
        Metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat?.Metric.MetricName]),
      ),
    ).toEqual({ ready: 'VideosReady', failed: 'VideosFailed' });
  });

  it('has one dashboard graphing the pipeline and every alarm', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(
      template.toJSON().Resources[logicalId(alarms.dashboard)].Properties.DashboardBody,
    );
    for (const metric of [
      'VideosCreated',
      'TimeToPlayable',
      'TimeToReady',
      'EncodeSecondsPerSourceSecond',
      'ConcurrentExecutions',
      'ApproximateAgeOfOldestMessage',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('"type\\":\\"alarm\\"');
  });

  it('traces every function with X-Ray and names the EMF namespace the alarms read', () => {
    for (const fn of Object.values(pipeline.functions)) {
      expect(
        template.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables,
      ).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'spool', POWERTOOLS_METRICS_NAMESPACE: 'Spool' });
      expect(template.toJSON().Resources[logicalId(fn)].Properties.TracingConfig).toEqual({
        Mode: 'Active',
      });
    }
  });
});
