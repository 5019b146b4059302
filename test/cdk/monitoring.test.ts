import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { arnOf, logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { monitoring, transcode, publish, ingest } = spool.stack.pipeline;
afterAll(() => spool.dispose());

const deadLetterQueues = {
  jobs: transcode.jobsQueue.deadLetterQueue,
  publish: publish.queue.deadLetterQueue,
  ingest: ingest.deadLetterQueue,
};

describe('Monitoring', () => {
  it.each(Object.entries(deadLetterQueues))(
    'marks videos failed from the %s dead-letter queue, reporting failed items individually',
    (_name, queue) => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(queue),
        FunctionName: { Ref: logicalId(monitoring.failuresHandler) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    },
  );

  it.each(Object.entries(deadLetterQueues))(
    'alarms as soon as a message is visible in the %s dead-letter queue',
    (_name, queue) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(queue), 'QueueName'] } },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
      });
    },
  );

  it('runs the failures handler with 256 MB for 30 seconds', () => {
    expect(propertiesOf(template, monitoring.failuresHandler)).toMatchObject({
      MemorySize: 256,
      Timeout: 30,
    });
  });

  it('leaves the alarms without actions when no topic is given', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
  });
});

describe('Monitoring with an alarm topic', () => {
  const withTopic = synthesizeSpool({
    pipeline: {
      alarmTopic: sns.Topic.fromTopicArn(
        new Stack(),
        'Topic',
        'arn:aws:sns:eu-west-1:123456789012:spool-alarms',
      ),
    },
  });
  afterAll(() => withTopic.dispose());

  it('notifies the topic when an alarm fires and when it clears', () => {
    withTopic.template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:spool-alarms'],
      OKActions: ['arn:aws:sns:eu-west-1:123456789012:spool-alarms'],
    });
  });
});
