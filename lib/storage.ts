import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { ABANDONED_UPLOAD_DAYS } from '../functions/core/multipart.js';

/** Key prefix and suffix of raw sources (core/keys.ts): the lifecycle rule and the S3
 * notification filter match only these keys. */
export const UPLOADS_PREFIX = keys.uploadsPrefix;
export const SOURCE_SUFFIX = keys.sourceSuffix;

/**
 * Days a deleted video's tombstone is kept (core/deletion.ts). It must outlive every message
 * that can still name the video: dead-letter queues keep theirs 14 days (work-queue.ts), and
 * a job or publish request lives far less. After that only the tombstone's id and times were
 * left, and then nothing.
 */
export const TOMBSTONE_RETENTION_DAYS = 30;

export interface StorageProps {
  /** Browser origins allowed to PUT sources (presigned) and read uploads. */
  readonly allowedOrigins: string[];
  /** Days a raw source is kept under `uploads/` before S3 deletes it. */
  readonly sourceRetentionDays: number;
  /** Days S3 and CloudFront access logs are kept. */
  readonly accessLogRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
  /** Empty the buckets when the stack is destroyed (needs RemovalPolicy.DESTROY). */
  readonly autoDeleteObjects: boolean;
}

/**
 * The pipeline's buckets: raw uploads and state records, published HLS output, and the
 * access logs of both (plus CloudFront's). All private, encrypted and TLS-only.
 */
export class Storage extends Construct {
  /**
   * Raw sources at `uploads/{id}/source`, write-once state records under `state/`, the
   * listing index under `index/` and deleted videos' tombstones under `deleted/`.
   */
  public readonly uploadsBucket: s3.Bucket;
  /** Published HLS under `videos/{id}/`; read only by CloudFront through OAC. */
  public readonly outputBucket: s3.Bucket;
  /** S3 server access logs of the other buckets and CloudFront standard logs. */
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    const abortIncompleteMultipart: s3.LifecycleRule = {
      id: 'abort-incomplete-multipart-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    };

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging still delivers through a bucket ACL grant.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [
        abortIncompleteMultipart,
        { id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays) },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log destination of the uploads and output buckets and of ' +
        'CloudFront; logging it into itself would log every log delivery.',
    });

    this.uploadsBucket = new s3.Bucket(this, 'UploadsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'uploads-bucket/',
      // Browsers PUT sources (or their parts) straight to S3 with the presigned URLs of the
      // API, and read each part's ETag.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: props.allowedOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [
        {
          // Sources above the multipart threshold come in parts. An upload left incomplete
          // stays resumable this long (GET /videos/{id}/parts), then its parts are deleted
          // rather than billed for ever.
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(ABANDONED_UPLOAD_DAYS),
        },
        {
          // Only the raw sources expire; the `state/` records are what GET /videos reads.
          id: 'expire-raw-sources',
          prefix: UPLOADS_PREFIX,
          expiration: Duration.days(props.sourceRetentionDays),
        },
        {
          id: 'expire-tombstones',
          prefix: keys.tombstonePrefix,
          expiration: Duration.days(TOMBSTONE_RETENTION_DAYS),
        },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });

    this.outputBucket = new s3.Bucket(this, 'OutputBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'output-bucket/',
      // Answers CORS preflights that CloudFront forwards (CORS_S3_ORIGIN request policy);
      // the response headers policy sets the CORS headers on the actual responses.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: props.allowedOrigins,
          allowedHeaders: ['*'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [abortIncompleteMultipart],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
    });
  }
}
