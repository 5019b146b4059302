import { afterAll, describe, expect, it } from 'vitest';
import { arnOf, logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { publish } = spool.stack.pipeline;
afterAll(() => spool.dispose());

describe('Publish', () => {
  it('moves a publish request to the dead-letter queue after five receives', () => {
    expect(propertiesOf(template, publish.queue.queue)).toMatchObject({
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(publish.queue.deadLetterQueue),
        maxReceiveCount: 5,
      },
      SqsManagedSseEnabled: true,
    });
  });

  it('hides a received request for the publish timeout plus a minute, no more', () => {
    const visibility = propertiesOf(template, publish.queue.queue).VisibilityTimeout;
    const timeout = propertiesOf(template, publish.handler).Timeout;
    expect(visibility).toBe(Number(timeout) + 60);
  });

  it('consumes the publish queue and reports failed items individually', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(publish.queue.queue),
      FunctionName: { Ref: logicalId(publish.handler) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it("serialises a video's publishes on FIFO queues, taking one request at a time", () => {
    expect(propertiesOf(template, publish.queue.queue)).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
    });
    expect(propertiesOf(template, publish.queue.deadLetterQueue)).toMatchObject({
      FifoQueue: true,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(publish.queue.queue),
      BatchSize: 1,
    });
  });

  it('runs with 512 MB for one minute', () => {
    expect(propertiesOf(template, publish.handler)).toMatchObject({ MemorySize: 512, Timeout: 60 });
  });
});
