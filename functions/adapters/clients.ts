/**
 * SDK clients, created once per cold start and injected into the core.
 * `SPOOL_S3_ENDPOINT` / `SPOOL_SQS_ENDPOINT` point them at the local stand-ins.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.SPOOL_S3_ENDPOINT;
  if (!endpoint) return new S3Client({});
  return new S3Client({
    endpoint,
    region: env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates the SDK's default CRC32 trailers: streamed bodies would be stored with
    // the aws-chunked framing in them. Checksums only where the API requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
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
