import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { TOMBSTONE_RETENTION_DAYS } from '../../lib/storage.js';
import { logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { storage } = spool.stack.pipeline;
afterAll(() => spool.dispose());

describe('Storage', () => {
  it('creates the uploads, output and access-logs buckets', () => {
    template.resourceCountIs('AWS::S3::Bucket', 3);
  });

  it('blocks every form of public access on every bucket', () => {
    template.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('encrypts every bucket with S3-managed keys', () => {
    template.allResourcesProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
  });

  it('denies non-TLS requests in every bucket policy', () => {
    template.resourcePropertiesCountIs(
      'AWS::S3::BucketPolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
      3,
    );
  });

  const abortAfterDays = (bucket: typeof storage.uploadsBucket) =>
    (
      propertiesOf(template, bucket).LifecycleConfiguration as {
        Rules: Array<{ AbortIncompleteMultipartUpload?: unknown; Prefix?: string; Status: string }>;
      }
    ).Rules.filter((rule) => rule.AbortIncompleteMultipartUpload !== undefined);

  it('keeps an incomplete multipart upload of a source resumable for 3 days, then aborts it', () => {
    expect(abortAfterDays(storage.uploadsBucket)).toEqual([
      {
        Id: 'abort-incomplete-multipart-uploads',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
        Status: 'Enabled',
      },
    ]);
  });

  it('aborts incomplete multipart uploads after a day in the other buckets', () => {
    for (const bucket of [storage.outputBucket, storage.accessLogsBucket]) {
      expect(abortAfterDays(bucket)).toEqual([
        expect.objectContaining({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ]);
    }
  });

  it('expires raw sources under uploads/ and tombstones after 30 days, and keeps the state records', () => {
    const rules = (
      propertiesOf(template, storage.uploadsBucket).LifecycleConfiguration as {
        Rules: Array<Record<string, unknown>>;
      }
    ).Rules;
    const expiring = rules.filter((rule) => rule.ExpirationInDays !== undefined);
    expect(expiring).toEqual([
      expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 30, Status: 'Enabled' }),
      expect.objectContaining({
        Prefix: 'deleted/',
        ExpirationInDays: TOMBSTONE_RETENTION_DAYS,
        Status: 'Enabled',
      }),
    ]);
  });

  it('keeps a tombstone longer than any queue keeps a message that may name its video', () => {
    // SQS keeps a message 4 days unless the queue says otherwise.
    const retentions = Object.values(template.findResources('AWS::SQS::Queue')).map(
      (q) => (q.Properties?.MessageRetentionPeriod as number | undefined) ?? 4 * 24 * 3600,
    );
    expect(TOMBSTONE_RETENTION_DAYS * 24 * 3600).toBeGreaterThan(Math.max(...retentions));
  });

  it('lets browsers PUT sources and their parts with the presigned URLs and read the ETag', () => {
    expect(propertiesOf(template, storage.uploadsBucket).CorsConfiguration).toEqual({
      CorsRules: [
        expect.objectContaining({
          AllowedMethods: expect.arrayContaining(['PUT', 'GET', 'HEAD']),
          AllowedOrigins: ['*'],
          AllowedHeaders: ['*'],
          ExposedHeaders: ['ETag'],
        }),
      ],
    });
  });

  it('logs uploads and output bucket access to the access-logs bucket', () => {
    for (const bucket of [storage.uploadsBucket, storage.outputBucket]) {
      expect(propertiesOf(template, bucket).LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logicalId(storage.accessLogsBucket) },
        LogFilePrefix: expect.any(String),
      });
    }
  });
});

describe('Storage on cdk destroy', () => {
  it('keeps every bucket by default', () => {
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('empties and deletes the buckets with removalPolicy destroy and autoDeleteObjects', () => {
    const gone = synthesizeSpool({
      pipeline: { removalPolicy: 'destroy', autoDeleteObjects: true },
    });
    try {
      const buckets = gone.template.findResources('AWS::S3::Bucket');
      for (const bucket of Object.values(buckets)) expect(bucket.DeletionPolicy).toBe('Delete');
      gone.template.resourceCountIs('Custom::S3AutoDeleteObjects', Object.keys(buckets).length);
      for (const group of Object.values(gone.template.findResources('AWS::Logs::LogGroup'))) {
        expect(group.DeletionPolicy).toBe('Delete');
      }
    } finally {
      gone.dispose();
    }
  });
});
