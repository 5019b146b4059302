import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { FFMPEG_PATH, type FfmpegLayer } from '../../lib/ffmpeg-layer.js';
import { arnOf, logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { transcode, publish } = spool.stack.pipeline;
const ffmpeg = spool.stack.pipeline.ffmpeg as FfmpegLayer;
afterAll(() => spool.dispose());

describe('Transcode', () => {
  it('moves a job to the dead-letter queue after five receives', () => {
    expect(propertiesOf(template, transcode.jobsQueue.queue)).toMatchObject({
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(transcode.jobsQueue.deadLetterQueue),
        maxReceiveCount: 5,
      },
    });
  });

  it('keeps dead-lettered jobs for 14 days', () => {
    expect(propertiesOf(template, transcode.jobsQueue.deadLetterQueue)).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('encrypts both queues and denies non-TLS access to them', () => {
    for (const queue of [transcode.jobsQueue.queue, transcode.jobsQueue.deadLetterQueue]) {
      expect(propertiesOf(template, queue)).toMatchObject({ SqsManagedSseEnabled: true });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('hides a received job for the transcode timeout plus a minute (the heartbeat does the rest)', () => {
    // Lambda refuses a visibility timeout below the function's; a crashed job must not wait
    // hours (AWS's six-times rule gave 5,400 s): its heartbeat stops and it is back in 90 s.
    const visibility = propertiesOf(template, transcode.jobsQueue.queue).VisibilityTimeout;
    const timeout = propertiesOf(template, transcode.handler).Timeout;
    expect(visibility).toBe(Number(timeout) + 60);
  });

  it('consumes one job per invocation, at most 20 at once, reporting failures per item', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(transcode.jobsQueue.queue),
      FunctionName: { Ref: logicalId(transcode.handler) },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // The default cap leaves the rest of the account's concurrency to the API and ingest.
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('runs with 3008 MB, 4096 MB of /tmp and a 15-minute timeout by default', () => {
    expect(propertiesOf(template, transcode.handler)).toMatchObject({
      MemorySize: 3008,
      EphemeralStorage: { Size: 4096 },
      Timeout: 900,
      Architectures: ['x86_64'],
      Runtime: 'nodejs24.x',
    });
  });

  it('has ffmpeg and ffprobe from the layer', () => {
    expect(propertiesOf(template, transcode.handler)).toMatchObject({
      Layers: [{ Ref: logicalId(ffmpeg.layer) }],
      Environment: {
        Variables: expect.objectContaining({
          FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
          FFPROBE_PATH: '/opt/ffmpeg/bin/ffprobe',
        }),
      },
    });
  });

  it('may send publish requests', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(transcode.handler.role ?? transcode.handler) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            // One statement for every queue it may send to (the purge queue too).
            Resource: Match.arrayWith([arnOf(publish.queue.queue)]),
          }),
        ]),
      },
    });
  });
});

describe('FfmpegLayer', () => {
  it('is an x86_64 layer by default, whose description names Debian and the version', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: ['nodejs24.x'],
      LicenseInfo: 'GPL-3.0-or-later',
      Description: Match.stringLikeRegexp('^ffmpeg 7\\.1\\.\\d+ \\+ ffprobe from Debian trixie'),
    });
  });

  it('stages executable ffmpeg/bin/ffmpeg and ffprobe, which Lambda extracts to /opt/ffmpeg', () => {
    expect(FFMPEG_PATH).toBe('/opt/ffmpeg/bin/ffmpeg');
    for (const binary of ['ffmpeg', 'ffprobe']) {
      const launcher = statSync(join(ffmpeg.stagingDirectory, 'ffmpeg', 'bin', binary));
      expect(launcher.mode & 0o777).toBe(0o755);
      const real = statSync(join(ffmpeg.stagingDirectory, 'ffmpeg', 'libexec', binary));
      expect(real.size).toBeGreaterThan(100_000);
    }
  });

  it('fits in Lambda with room for the function code (250 MB unzipped in all)', () => {
    expect(ffmpeg.manifest.bytes).toBeLessThan(235_000_000);
  });

  it("carries every package's copyright file and the offer of source", () => {
    for (const pkg of ffmpeg.manifest.packages) {
      const copyright = join(ffmpeg.stagingDirectory, 'ffmpeg/share/doc', pkg.name, 'copyright');
      expect(statSync(copyright).size, pkg.name).toBeGreaterThan(0);
    }
    const sources = readFileSync(join(ffmpeg.stagingDirectory, 'ffmpeg/share/doc/SOURCES'), 'utf8');
    expect(sources).toContain(`ffmpeg\t${ffmpeg.manifest.ffmpegPackageVersion}\tffmpeg\t`);
  });
});

describe('ffmpegArchitecture arm64', () => {
  const arm = synthesizeSpool({ pipeline: { ffmpegArchitecture: 'arm64' } });
  afterAll(() => arm.dispose());

  it('builds an arm64 layer and runs ingest and transcode on arm64 with it', () => {
    arm.template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      Description: Match.stringLikeRegexp('arm64$'),
    });
    const { transcode: t, ingest } = arm.stack.pipeline;
    for (const fn of [t.handler, ingest.handler]) {
      expect(propertiesOf(arm.template, fn)).toMatchObject({
        Architectures: ['arm64'],
        Layers: [{ Ref: logicalId((arm.stack.pipeline.ffmpeg as FfmpegLayer).layer) }],
      });
    }
  });
});

describe('Transcode with custom sizing', () => {
  const custom = synthesizeSpool({
    pipeline: {
      transcodeMemoryMb: 10240,
      transcodeEphemeralStorageMb: 10240,
      transcodeTimeoutSeconds: 600,
      transcodeMaxConcurrency: 50,
    },
  });
  const customTranscode = custom.stack.pipeline.transcode;
  afterAll(() => custom.dispose());

  it('uses the configured memory, /tmp size and timeout', () => {
    expect(propertiesOf(custom.template, customTranscode.handler)).toMatchObject({
      MemorySize: 10240,
      EphemeralStorage: { Size: 10240 },
      Timeout: 600,
    });
  });

  it('derives the visibility timeout from the configured timeout', () => {
    expect(propertiesOf(custom.template, customTranscode.jobsQueue.queue)).toMatchObject({
      VisibilityTimeout: 660,
    });
  });

  it('caps concurrent workers at transcodeMaxConcurrency', () => {
    custom.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(customTranscode.jobsQueue.queue),
      ScalingConfig: { MaximumConcurrency: 50 },
    });
  });
});

describe("ffmpeg of a team's own", () => {
  const arn = 'arn:aws:lambda:eu-west-1:123456789012:layer:ffmpeg7:3';

  it.each([
    ['the ffmpegLayer prop', { ffmpegLayer: 'prop' as const }],
    ['the ffmpegLayerArn setting (CDK context)', { ffmpegLayerArn: arn }],
  ])('runs the workers on a layer given by %s, and builds none', (_how, given) => {
    const own = synthesizeSpool({
      pipeline:
        'ffmpegLayer' in given
          ? {
              ffmpegLayer: lambda.LayerVersion.fromLayerVersionArn(
                new Stack(new App(), 'Elsewhere'),
                'Own',
                arn,
              ),
            }
          : given,
    });
    try {
      own.template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
      const { transcode: t, ingest } = own.stack.pipeline;
      for (const fn of [t.handler, ingest.handler]) {
        expect(propertiesOf(own.template, fn).Layers).toEqual([arn]);
      }
    } finally {
      own.dispose();
    }
  });
});
