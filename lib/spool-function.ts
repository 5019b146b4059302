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
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Repository root: `lib/` sits directly under it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The pipeline stages that have a handler at `functions/{stage}/handler.ts`. */
export type SpoolStage = 'upload' | 'ingest' | 'transcode' | 'publish' | 'failures';

/** Wildcard actions in `grantReadWrite`'s statements (aws-cdk-lib 2.x). */
const GRANT_READ_WRITE_ACTION_GROUPS = [
  's3:Abort*',
  's3:DeleteObject*',
  's3:GetBucket*',
  's3:GetObject*',
  's3:List*',
];

/** cdk-nag's finding for the AWS-managed policy every Lambda role gets by default. */
export const BASIC_EXECUTION_ROLE_FINDING =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/** Runtime shared by every function; the esbuild target below must match it. */
export const SPOOL_RUNTIME = lambda.Runtime.NODEJS_22_X;

export interface SpoolFunctionProps {
  /** Which handler to bundle: `functions/{stage}/handler.ts`. */
  readonly stage: SpoolStage;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** @default 512 MiB (the Lambda minimum) */
  readonly ephemeralStorageSize?: Size;
  /** @default - none */
  readonly layers?: lambda.ILayerVersion[];
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
      // x264 runs faster on x86_64 than on arm64, and the layer's binaries are x86_64.
      architecture: lambda.Architecture.X86_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      layers: props.layers,
      environment: props.environment,
      deadLetterQueue: props.deadLetterQueue,
      logGroup,
      bundling: {
        // CJS: esbuild converts the ESM-only middy packages, and a bundle without a
        // package.json beside it is loaded as CommonJS by the Lambda runtime.
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // Pin the SDK to the versions in package-lock.json rather than the runtime's copy.
        bundleAwsSDK: true,
        forceDockerBundling: false,
      },
    });
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x, the runtime the handlers are bundled for (esbuild target ' +
          'node22) and tested on; move the runtime and the esbuild target together.',
      },
      {
        id: BASIC_EXECUTION_ROLE_FINDING,
        reason:
          'AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup, CreateLogStream and ' +
          'PutLogEvents, which the function needs to write to CloudWatch Logs.',
      },
    );
  }

  /**
   * `bucket.grantReadWrite(this)`, plus the acknowledgement of the wildcards it implies:
   * object keys are per video (`uploads/{id}/…`, `state/{id}/…`, `videos/{id}/…`), so
   * the grant covers `<bucket>/*`, with the action groups of aws-cdk-lib's grant.
   */
  public grantBucketReadWrite(bucket: s3.IBucket, why: string): void {
    bucket.grantReadWrite(this);
    const acknowledge = Validations.of(this);
    for (const action of GRANT_READ_WRITE_ACTION_GROUPS) {
      acknowledge.acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          `${action} is one of the action groups of aws-cdk-lib's bucket.grantReadWrite; the ` +
          "statement is limited to this stage's Spool buckets, listed in its Resource findings.",
      });
    }
    const cfnBucket = bucket.node.defaultChild;
    if (CfnResource.isCfnResource(cfnBucket)) {
      const logicalId = Stack.of(cfnBucket).getLogicalId(cfnBucket);
      acknowledge.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`,
        reason: `${why} Object keys are created per video at run time, so the grant covers the bucket's objects.`,
      });
    }
  }
}
