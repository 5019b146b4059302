import { afterAll, describe, expect, it } from 'vitest';
import { arnOf, logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { purge, monitoring } = spool.stack.pipeline;
afterAll(() => spool.dispose());

describe('Purge', () => {
  it('moves a purge request that fails five times to its dead-letter queue', () => {
    expect(propertiesOf(template, purge.queue.queue)).toMatchObject({
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(purge.queue.deadLetterQueue),
        maxReceiveCount: 5,
      },
      SqsManagedSseEnabled: true,
    });
  });

  it('takes every request as it comes: a standard queue, nothing deduplicated', () => {
    expect(propertiesOf(template, purge.queue.queue).FifoQueue).toBeUndefined();
  });

  it('consumes the purge queue and reports failed items individually', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(purge.queue.queue),
      FunctionName: { Ref: logicalId(purge.handler) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('hides a received request for the purge timeout plus a minute', () => {
    const visibility = propertiesOf(template, purge.queue.queue).VisibilityTimeout;
    expect(visibility).toBe(Number(propertiesOf(template, purge.handler).Timeout) + 60);
  });

  it('leaves its dead letters for an operator: the failures function does not drain them', () => {
    const drained = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))
      .filter((m) =>
        JSON.stringify(m.Properties.FunctionName).includes(logicalId(monitoring.failuresHandler)),
      )
      .map((m) => JSON.stringify(m.Properties.EventSourceArn));
    expect(drained.length).toBeGreaterThan(0);
    expect(drained).not.toContain(JSON.stringify(arnOf(purge.queue.deadLetterQueue)));
  });

  it('runs with 256 MB for one minute', () => {
    expect(propertiesOf(template, purge.handler)).toMatchObject({ MemorySize: 256, Timeout: 60 });
  });
});
