import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import type { SpoolFunction } from '../../lib/spool-function.js';
import { SpoolStack } from '../../lib/spool-stack.js';
import {
  resolveVideoPipelineProps,
  VideoPipeline,
  type VideoPipelineProps,
} from '../../lib/video-pipeline.js';
import { logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template, stack } = spool;
const { pipeline } = stack;
afterAll(() => spool.dispose());

type Variables = Record<string, unknown>;
const variablesOf = (fn: SpoolFunction): Variables =>
  (propertiesOf(template, fn).Environment as { Variables: Variables }).Variables;

describe('VideoPipeline', () => {
  it.each(Object.entries(pipeline.functions))(
    'configures the %s function from the shared environment',
    (_stage, fn) => {
      expect(variablesOf(fn)).toMatchObject({
        UPLOADS_BUCKET: { Ref: logicalId(pipeline.storage.uploadsBucket) },
        OUTPUT_BUCKET: { Ref: logicalId(pipeline.storage.outputBucket) },
        JOBS_QUEUE_URL: { Ref: logicalId(pipeline.transcode.jobsQueue.queue) },
        PUBLISH_QUEUE_URL: { Ref: logicalId(pipeline.publish.queue.queue) },
        PURGE_QUEUE_URL: { Ref: logicalId(pipeline.purge.queue.queue) },
        PLAYBACK_BASE_URL: {
          'Fn::Join': [
            '',
            [
              'https://',
              { 'Fn::GetAtt': [logicalId(pipeline.delivery.distribution), 'DomainName'] },
            ],
          ],
        },
        SPOOL_MAX_UPLOAD_BYTES: String(50 * 1024 ** 3),
        SPOOL_MULTIPART_THRESHOLD_BYTES: String(100 * 1024 ** 2),
        SPOOL_MULTIPART_PART_BYTES: String(16 * 1024 ** 2),
        SPOOL_MAX_DURATION_SECONDS: '14400',
        SPOOL_SEGMENT_SECONDS: '6',
        SPOOL_CHUNK_SEGMENTS: '5',
        SPOOL_X264_PRESET: 'veryfast',
        NODE_OPTIONS: '--enable-source-maps',
      });
    },
  );

  it('gives the ffmpeg paths only to the functions that spawn ffmpeg', () => {
    const withFfmpeg = Object.entries(pipeline.functions)
      .filter(([, fn]) => 'FFMPEG_PATH' in variablesOf(fn))
      .map(([stage]) => stage)
      .sort();
    expect(withFfmpeg).toEqual(['ingest', 'transcode']);
  });

  it("runs every function on Node.js 24: ffmpeg on the engine layer's x86_64, the rest on arm64", () => {
    for (const [stage, fn] of Object.entries(pipeline.functions)) {
      const ffmpeg = stage === 'ingest' || stage === 'transcode';
      expect(propertiesOf(template, fn), stage).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: [ffmpeg ? 'x86_64' : 'arm64'],
      });
    }
  });

  it('keeps function logs for a month', () => {
    for (const fn of Object.values(pipeline.functions)) {
      const logGroup = propertiesOf(template, fn).LoggingConfig as { LogGroup: unknown };
      expect(logGroup.LogGroup).toEqual({ Ref: expect.any(String) });
      const id = (logGroup.LogGroup as { Ref: string }).Ref;
      expect(template.toJSON().Resources[id].Properties.RetentionInDays).toBe(30);
    }
  });

  it('outputs the API URL, the playback domain and the token secret', () => {
    for (const output of [
      'ApiUrl',
      'PlaybackDomain',
      'ApiTokenSecretArn',
      'UploadsBucketName',
      'OutputBucketName',
    ]) {
      template.hasOutput(output, {});
    }
    template.hasOutput('ApiTokenSecretArn', {
      Value: { Ref: logicalId(pipeline.uploadApi.apiTokenSecret) },
    });
  });
});

describe('VideoPipeline with custom encoding settings', () => {
  const custom = synthesizeSpool({
    pipeline: {
      segmentSeconds: 4,
      chunkSegments: 10,
      x264Preset: 'fast',
      maxUploadBytes: 1024 ** 3,
      maxDurationSeconds: 600,
      allowedOrigins: ['https://app.example.com'],
    },
  });
  afterAll(() => custom.dispose());

  it('passes the settings to every function', () => {
    for (const fn of Object.values(custom.stack.pipeline.functions)) {
      expect(propertiesOf(custom.template, fn)).toMatchObject({
        Environment: {
          Variables: expect.objectContaining({
            SPOOL_SEGMENT_SECONDS: '4',
            SPOOL_CHUNK_SEGMENTS: '10',
            SPOOL_X264_PRESET: 'fast',
            SPOOL_MAX_UPLOAD_BYTES: String(1024 ** 3),
            SPOOL_MAX_DURATION_SECONDS: '600',
          }),
        },
      });
    }
  });

  it('allows only the configured origins to upload, call the API and play', () => {
    const origins = ['https://app.example.com'];
    custom.template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [
          Match.objectLike({ AllowedMethods: Match.arrayWith(['PUT']), AllowedOrigins: origins }),
        ],
      },
    });
    custom.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        CorsConfig: Match.objectLike({ AccessControlAllowOrigins: { Items: origins } }),
      },
    });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({ AllowOrigins: origins }),
    });
  });
});

describe('VideoPipeline props validation', () => {
  const invalid: Array<[string, VideoPipelineProps, RegExp]> = [
    ['chunkSegments below 1', { chunkSegments: 0 }, /chunkSegments: Too small.*>=1/],
    [
      'fractional chunkSegments',
      { chunkSegments: 1.5 },
      /chunkSegments: Invalid input: expected int/,
    ],
    [
      'segmentSeconds not a multiple of 2',
      { segmentSeconds: 5 },
      /segmentSeconds: must be a multiple of 2/,
    ],
    [
      'transcodeMemoryMb below 128',
      { transcodeMemoryMb: 64 },
      /transcodeMemoryMb: Too small.*>=128/,
    ],
    [
      'transcodeMemoryMb above 10240',
      { transcodeMemoryMb: 10241 },
      /transcodeMemoryMb: Too big.*<=10240/,
    ],
    [
      'transcodeTimeoutSeconds above 15 minutes',
      { transcodeTimeoutSeconds: 901 },
      /transcodeTimeoutSeconds: Too big.*<=900/,
    ],
    [
      'transcodeTimeoutSeconds below a minute',
      { transcodeTimeoutSeconds: 30 },
      /transcodeTimeoutSeconds: Too small.*>=60/,
    ],
    [
      'transcodeEphemeralStorageMb below 512',
      { transcodeEphemeralStorageMb: 256 },
      /transcodeEphemeralStorageMb: Too small/,
    ],
    [
      'transcodeMaxConcurrency of 1',
      { transcodeMaxConcurrency: 1 },
      /transcodeMaxConcurrency: Too small.*>=2/,
    ],
    [
      'maxUploadBytes above 5 TiB, the most S3 holds in one object',
      { maxUploadBytes: 5 * 1024 ** 4 + 1 },
      /maxUploadBytes: Too big/,
    ],
    [
      'multipartThresholdBytes above 5 GiB, the most one PUT uploads',
      { multipartThresholdBytes: 5 * 1024 ** 3 + 1 },
      /multipartThresholdBytes: Too big/,
    ],
    [
      'multipartPartBytes below the 5 MiB S3 requires',
      { multipartPartBytes: 5 * 1024 ** 2 - 1 },
      /multipartPartBytes: Too small/,
    ],
    ['an unknown x264Preset', { x264Preset: 'placebo' as never }, /x264Preset: Invalid option/],
    ['no allowedOrigins', { allowedOrigins: [] }, /allowedOrigins: use \['\*'\] for any origin/],
    [
      'an allowedOrigins entry with a path',
      { allowedOrigins: ['https://example.com/app'] },
      /allowedOrigins.0: must be '\*' or scheme/,
    ],
    ['sourceRetentionDays of 0', { sourceRetentionDays: 0 }, /sourceRetentionDays: Too small/],
    ['fewer than 5 attempts', { maxAttempts: 4 }, /maxAttempts: Too small.*>=5/],
    [
      'a log retention CloudWatch does not offer',
      { logRetentionDays: 31 },
      /logRetentionDays: must be one of/,
    ],
    ['an alarm email that is not one', { alarmEmail: 'ops' }, /alarmEmail: Invalid email/],
    [
      'a plain-HTTP webhook',
      { webhookUrls: ['http://hooks.example.com/spool'] },
      /webhookUrls.0: must be an https/,
    ],
    [
      'emptying retained buckets',
      { autoDeleteObjects: true },
      /autoDeleteObjects: needs removalPolicy 'destroy'/,
    ],
    [
      'a certificate outside us-east-1',
      {
        customDomain: {
          domainName: 'video.example.com',
          certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
        },
      },
      /customDomain.certificateArn: an ACM certificate ARN in us-east-1/,
    ],
    ['an unknown setting', { segmentLength: 6 } as never, /Unrecognized key: "segmentLength"/],
  ];

  it.each(invalid)('rejects %s', (_case, props, message) => {
    expect(() => resolveVideoPipelineProps(props)).toThrow(message);
  });

  it('rejects invalid props before creating any resource', () => {
    const scope = new Stack(new App(), 'Invalid');
    expect(() => new VideoPipeline(scope, 'Pipeline', { chunkSegments: 0 })).toThrow(
      /Spool VideoPipeline props: chunkSegments/,
    );
    expect(scope.node.findAll().filter(CfnResource.isCfnResource)).toHaveLength(0);
  });

  it('applies the documented defaults', () => {
    expect(resolveVideoPipelineProps()).toMatchObject({
      maxUploadBytes: 50 * 1024 ** 3,
      multipartThresholdBytes: 100 * 1024 ** 2,
      multipartPartBytes: 16 * 1024 ** 2,
      maxDurationSeconds: 4 * 3600,
      segmentSeconds: 6,
      chunkSegments: 5,
      x264Preset: 'veryfast',
      transcodeMemoryMb: 3008,
      transcodeTimeoutSeconds: 900,
      transcodeEphemeralStorageMb: 4096,
      transcodeMaxConcurrency: 20,
      maxAttempts: 5,
      allowedOrigins: ['*'],
      sourceRetentionDays: 30,
      removalPolicy: 'retain',
      autoDeleteObjects: false,
      webhookUrls: [],
    });
  });
});

describe('settings from CDK context', () => {
  const synthWith = (context: Record<string, unknown>) =>
    new SpoolStack(new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } }), 'Spool');

  it('reads the spool object of cdk.json and single spool:<name> keys over it', () => {
    const stack = synthWith({
      spool: { segmentSeconds: 4, allowedOrigins: ['https://app.example.com'] },
      // What `cdk deploy -c spool:chunkSegments=3` passes: text.
      'spool:chunkSegments': '3',
      'spool:alarmEmail': 'ops@example.com',
      'spool:ladder': '[{"shortSide":720,"bitrate":3000000},{"shortSide":360,"bitrate":800000}]',
    });
    expect(stack.pipeline.config).toMatchObject({
      segmentSeconds: 4,
      chunkSegments: 3,
      alarmEmail: 'ops@example.com',
      allowedOrigins: ['https://app.example.com'],
    });
    const env = propertiesOf(Template.fromStack(stack), stack.pipeline.transcode.handler)
      .Environment as { Variables: Record<string, unknown> };
    expect(env.Variables).toMatchObject({
      SPOOL_SEGMENT_SECONDS: '4',
      SPOOL_CHUNK_SEGMENTS: '3',
      SPOOL_LADDER: '[{"shortSide":720,"bitrate":3000000},{"shortSide":360,"bitrate":800000}]',
    });
  });

  it('takes the settings object as JSON text from the command line', () => {
    const stack = synthWith({
      spool: `{"maxAttempts": 7, "stuckAfterMinutes": 125, "removalPolicy": "destroy"}`,
    });
    expect(stack.pipeline.config).toMatchObject({ maxAttempts: 7, removalPolicy: 'destroy' });
  });

  it('names a bad context setting the way the props check does', () => {
    expect(() => synthWith({ 'spool:segmentSeconds': '5' })).toThrow(
      /segmentSeconds: must be a multiple of 2/,
    );
    expect(() => synthWith({ 'spool:segmentSecs': '6' })).toThrow(
      /Unrecognized key: "segmentSecs"/,
    );
  });
});
