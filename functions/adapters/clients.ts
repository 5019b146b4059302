/**
 * SDK clients, created once per cold start and injected into the core.
 * `SPOOL_S3_ENDPOINT`, `SPOOL_SQS_ENDPOINT` and `SPOOL_EVENTS_ENDPOINT` point them at the local
 * stand-ins; everything else about a client is the same locally and on AWS.
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Checksums only where an S3 API requires them, on AWS as locally. With the SDK's default
 * (WHEN_SUPPORTED), a presigned PUT carries `x-amz-checksum-crc32=AAAAAA==`, the CRC32 of
 * an empty body, and S3 would reject every real upload as BadDigest. s3rver also stores
 * the SDK's aws-chunked trailer framing inside streamed bodies.
 */
export const S3_CHECKSUMS: Pick<
  S3ClientConfig,
  'requestChecksumCalculation' | 'responseChecksumValidation'
> = {
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
};

export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.SPOOL_S3_ENDPOINT;
  if (!endpoint) return new S3Client({ ...S3_CHECKSUMS });
  return new S3Client({
    ...S3_CHECKSUMS,
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  const endpoint = env.SPOOL_SQS_ENDPOINT;
  if (!endpoint) return new SQSClient({});
  return new SQSClient({
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export function createEventBridgeClient(env: NodeJS.ProcessEnv = process.env): EventBridgeClient {
  const endpoint = env.SPOOL_EVENTS_ENDPOINT;
  if (!endpoint) return new EventBridgeClient({});
  return new EventBridgeClient({
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** CloudFront's API is global; the SDK finds its endpoint from any region. */
export const createCloudFrontClient = (): CloudFrontClient => new CloudFrontClient({});
