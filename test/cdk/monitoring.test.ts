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
