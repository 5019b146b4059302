import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { VideoPipeline, type VideoPipelineProps } from './video-pipeline.js';

export interface SpoolStackProps extends StackProps {
  /** Passed to the {@link VideoPipeline}. @default - the pipeline's defaults */
  readonly pipeline?: VideoPipelineProps;
}

/** The deployable Spool app: one {@link VideoPipeline} and the outputs clients need. */
export class SpoolStack extends Stack {
  public readonly pipeline: VideoPipeline;

  constructor(scope: Construct, id: string, props: SpoolStackProps = {}) {
    super(scope, id, props);
    this.pipeline = new VideoPipeline(this, 'Pipeline', props.pipeline);
    const { uploadApi, delivery, storage } = this.pipeline;

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Spool HTTP API',
      value: uploadApi.url,
    });
    new CfnOutput(this, 'PlaybackDomain', {
      description: 'CloudFront domain serving the HLS output',
      value: delivery.distribution.distributionDomainName,
    });
    new CfnOutput(this, 'ApiTokenSecretArn', {
      description:
        'Secret holding the API bearer token: aws secretsmanager get-secret-value --secret-id <arn>',
      value: uploadApi.apiTokenSecret.secretArn,
    });
    new CfnOutput(this, 'UploadsBucketName', { value: storage.uploadsBucket.bucketName });
    new CfnOutput(this, 'OutputBucketName', { value: storage.outputBucket.bucketName });
  }
}
