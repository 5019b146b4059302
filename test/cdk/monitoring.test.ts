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

  it('runs the failures handler with 256 MB for 30 seconds', () => {
    expect(propertiesOf(template, monitoring.failuresHandler)).toMatchObject({
      MemorySize: 256,
      Timeout: 30,
    });
  });
});

describe('Sweeper', () => {
  const { sweeper } = spool.stack.pipeline;

  it('runs every five minutes, with no retry of a missed run', () => {
    expect(propertiesOf(template, sweeper.schedule)).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        expect.objectContaining({
          Arn: arnOf(sweeper.handler),
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
  });

  it('may look at the backlog of the jobs queue and re-send to it and to publish', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(
        logicalId(sweeper.handler.role?.node.defaultChild ?? sweeper.handler),
      ),
    );
    const statements = policies.flatMap(
      (p) =>
        p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const on = (action: string) =>
      statements
        .filter((s) => [s.Action].flat().includes(action))
        .flatMap((s) => [s.Resource].flat());
    const { transcode, publish } = spool.stack.pipeline;
    expect(on('sqs:GetQueueAttributes')).toContainEqual(arnOf(transcode.jobsQueue.queue));
    expect(on('sqs:SendMessage')).toEqual(
      expect.arrayContaining([arnOf(transcode.jobsQueue.queue), arnOf(publish.queue.queue)]),
    );
  });
});
