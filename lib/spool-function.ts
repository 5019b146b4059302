import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CfnResource,
  type Duration,
  type RemovalPolicy,
  type Size,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/core/metrics.js';

/** Repository root: `lib/` sits directly under it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The pipeline stages that have a handler at `functions/{stage}/handler.ts`. */
export type SpoolStage =
  | 'upload'
  | 'ingest'
  | 'transcode'
  | 'publish'
  | 'failures'
  | 'sweeper'
  | 'notify'
  | 'webhooks'
  | 'purge';

/** cdk-nag's finding for the AWS-managed policy every Lambda role gets by default. */
export const BASIC_EXECUTION_ROLE_FINDING =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/** Runtime shared by every function; the esbuild target below must match it. */
export const SPOOL_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface SpoolFunctionProps {
  /** Which handler to bundle: `functions/{stage}/handler.ts`. */
  readonly stage: SpoolStage;
  /**
   * What invokes it: an SQS event source or the HTTP API (synchronously: failures stay with
   * the queue or the caller), or S3 notifications and a schedule (asynchronously).
   */
  readonly trigger: 'sqs' | 'http' | 's3' | 'schedule';
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** @default 512 MiB (the Lambda minimum) */
  readonly ephemeralStorageSize?: Size;
  /** @default - none */
  readonly layers?: lambda.ILayerVersion[];
  /**
   * Functions that run ffmpeg take the engine layer's; the rest run on arm64 (Graviton),
   * which Lambda bills about 20% lower per GB-second than x86_64.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /** Dead-letter queue for failed asynchronous invocations. @default - none */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Stage-specific variables; the pipeline adds the shared ones with `addEnvironment`. */
  readonly environment?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A Spool handler bundled from TypeScript by the local esbuild (no Docker), with its
 * own log group. Every stage's function is one of these so they share runtime,
 * architecture and bundling settings.
 */
export class SpoolFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: SpoolFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    super(scope, id, {
      entry: join(PROJECT_ROOT, 'functions', props.stage, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: SPOOL_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      layers: props.layers,
      environment: {
        // Powertools (adapters/observability.ts): the EMF namespace the alarms read.
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      deadLetterQueue: props.deadLetterQueue,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      bundling: {
        // CJS: esbuild converts the ESM-only middy packages, and a bundle without a
        // package.json beside it is loaded as CommonJS by the Lambda runtime.
        format: OutputFormat.CJS,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // Pin the SDK to the versions in package-lock.json rather than the runtime's copy.
        bundleAwsSDK: true,
        forceDockerBundling: false,
      },
    });
    const pinned =
      'Pinned to nodejs24.x, the runtime the handlers are bundled for (esbuild target ' +
      'node24) and tested on; move the runtime and the esbuild target together.';
    const acknowledge = Validations.of(this);
    acknowledge.acknowledge(
      { id: 'AwsSolutions-L1', reason: pinned },
      { id: 'Serverless-LambdaLatestVersion', reason: pinned },
      {
        id: BASIC_EXECUTION_ROLE_FINDING,
        reason:
          'AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup, CreateLogStream and ' +
          'PutLogEvents, which the function needs to write to CloudWatch Logs.',
      },
    );
    // Active tracing adds xray:PutTraceSegments and PutTelemetryRecords on '*'.
    acknowledge.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no ' +
        'resource-level permissions, so their statement names every resource.',
    });
    if (props.trigger === 'sqs') {
      const viaQueue =
        'Invoked synchronously by an SQS event source mapping: a message that fails every ' +
        "attempt is moved by the queue's redrive policy to its dead-letter queue.";
      acknowledge.acknowledge(
        { id: 'Serverless-LambdaDLQ', reason: viaQueue },
        {
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason: `SQS event source mappings take no on-failure destination. ${viaQueue}`,
        },
      );
    } else if (props.trigger === 'http') {
      acknowledge.acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously by API Gateway: an error is answered to the client (5xx, ' +
          'alarmed); there is no event to dead-letter.',
      });
    } else if (props.trigger === 'schedule') {
      acknowledge.acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked by a schedule whose events carry nothing: a failed run is made up by the ' +
          'next one, minutes later, so there is nothing to dead-letter.',
      });
    }
  }

  /**
   * Object access by key pattern, and nothing more: `s3:GetObject` (also HEAD) on `read`,
   * `s3:PutObject` on `write`, `s3:DeleteObject` on `remove`, and with reads or removes
   * `s3:ListBucket` on the bucket (without which S3 answers a missing key with 403 instead of
   * 404, and by which a delete finds a video's keys). Records and segments are written once;
   * only deleting a video removes them. Patterns come from core/keys.ts
   * (`keys.failed('*')` → `state/*\/failed.json`). `multipart` adds
   * `s3:ListMultipartUploadParts` (ListParts); starting, uploading parts of and completing a
   * multipart upload all come with `s3:PutObject` on the key, in `write`. `abort` adds
   * `s3:AbortMultipartUpload`, which discards an open upload and its parts.
   */
  public grantObjects(
    bucket: s3.IBucket,
    access: {
      read?: string[];
      write?: string[];
      remove?: string[];
      multipart?: string[];
      abort?: string[];
    },
    why: string,
  ): void {
    const acknowledge = Validations.of(this);
    const bucketId = logicalIdOf(bucket);
    const statements: Array<[string, string[] | undefined]> = [
      ['s3:GetObject', access.read],
      ['s3:PutObject', access.write],
      ['s3:DeleteObject', access.remove],
      ['s3:ListMultipartUploadParts', access.multipart],
      ['s3:AbortMultipartUpload', access.abort],
    ];
    for (const [action, patterns] of statements) {
      if (!patterns || patterns.length === 0) continue;
      this.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [action],
          resources: patterns.map((p) => bucket.arnForObjects(p)),
        }),
      );
      for (const pattern of patterns) {
        acknowledge.acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
          reason: `${why} Keys hold the video id, made at run time: ${action} is limited to ${pattern}.`,
        });
      }
    }
    if ((access.read?.length ?? 0) + (access.remove?.length ?? 0) > 0) {
      this.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      );
    }
  }
}

function logicalIdOf(bucket: s3.IBucket): string {
  const cfn = bucket.node.defaultChild;
  if (!CfnResource.isCfnResource(cfn)) throw new Error(`${bucket.node.path} is not a bucket here`);
  return Stack.of(cfn).getLogicalId(cfn);
}
