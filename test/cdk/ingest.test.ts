import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import {
  arnOf,
  logicalId,
  notificationFiltersOf,
  propertiesOf,
  synthesizeSpool,
} from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { ingest, transcode } = spool.stack.pipeline;
afterAll(() => spool.dispose());

describe('Ingest', () => {
  it('is notified of objects created at uploads/{id}/source only', () => {
    expect(notificationFiltersOf(template, ingest.handler)).toEqual([
      's3:ObjectCreated:* prefix=uploads/ suffix=/source',
    ]);
  });

  it('is notified when a multipart upload of a source completes, as when a PUT does', () => {
    // S3 sends ObjectCreated:CompleteMultipartUpload (or :Put) once per new source; the
    // filter's event type must cover both. A wildcard matches any name after its prefix.
    const [events] = notificationFiltersOf(template, ingest.handler).map((f) => f.split(' ')[0]);
    const covers = (name: string) =>
      events === name || (events?.endsWith('*') && name.startsWith(events.slice(0, -1)));
    expect(covers('s3:ObjectCreated:CompleteMultipartUpload')).toBe(true);
    expect(covers('s3:ObjectCreated:Put')).toBe(true);
  });

  it('probes and encodes the opening with the layer, sized like a transcode worker', () => {
    const props = propertiesOf(template, ingest.handler);
    expect(props).toMatchObject({
      MemorySize: 3008,
      Timeout: 120,
      Layers: [{ Ref: logicalId(spool.stack.pipeline.ffmpegLayer) }],
      Environment: {
        Variables: expect.objectContaining({
          FFPROBE_PATH: '/opt/ffmpeg/bin/ffprobe',
          FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
        }),
      },
    });
  });

  it('takes its own memory when ingestMemoryMb is set, the workers keeping theirs', () => {
    const big = synthesizeSpool({ pipeline: { ingestMemoryMb: 10240 } });
    try {
      const { ingest: i, transcode: t } = big.stack.pipeline;
      expect(propertiesOf(big.template, i.handler).MemorySize).toBe(10240);
      expect(propertiesOf(big.template, t.handler).MemorySize).toBe(3008);
    } finally {
      big.dispose();
    }
  });

  it('may send messages to the jobs queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(ingest.handler.role ?? ingest.handler) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            // One statement for every queue it may send to (the purge queue too).
            Resource: Match.arrayWith([arnOf(transcode.jobsQueue.queue)]),
          }),
        ]),
      },
    });
  });

  it('dead-letters S3 events that still fail after the async retries', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Spool ingest'),
      DeadLetterConfig: { TargetArn: arnOf(ingest.deadLetterQueue) },
    });
  });
});
