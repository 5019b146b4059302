import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct, Node } from 'constructs';
import { fromText, type SpoolSettingsInput } from '../functions/core/settings.js';
import { VideoPipeline, type VideoPipelineProps } from './video-pipeline.js';

/** Context key of the settings object (cdk.json `context.spool`, or JSON with `-c`). */
export const SETTINGS_CONTEXT_KEY = 'spool';
/** Prefix of one setting given alone, e.g. `cdk deploy -c spool:alarmEmail=ops@example.com`. */
export const SETTING_CONTEXT_PREFIX = 'spool:';

/**
 * The pipeline settings given as CDK context: the `spool` object, then single `spool:<name>`
 * keys over it. Values given as text on the command line are read as JSON where they parse.
 * Validation (and the error naming a bad or unknown setting) is the settings schema's.
 */
export function settingsFromContext(node: Node): SpoolSettingsInput {
  const whole = fromText(node.tryGetContext(SETTINGS_CONTEXT_KEY)) ?? {};
  if (typeof whole !== 'object' || Array.isArray(whole)) {
    throw new Error(
      `Spool: context '${SETTINGS_CONTEXT_KEY}' must be an object of settings, e.g. ` +
        `{"alarmEmail": "ops@example.com"}; got ${JSON.stringify(whole)}.`,
    );
  }
  const settings: Record<string, unknown> = { ...(whole as Record<string, unknown>) };
  // Every context value the app was given: cdk.json's and the command line's.
  const all = node.getAllContext() as Record<string, unknown>;
  for (const [key, value] of Object.entries(all)) {
    if (key.startsWith(SETTING_CONTEXT_PREFIX)) {
      settings[key.slice(SETTING_CONTEXT_PREFIX.length)] = fromText(value);
    }
  }
  return settings as SpoolSettingsInput;
}

export interface SpoolStackProps extends StackProps {
  /**
   * Passed to the {@link VideoPipeline}, over the settings given as context
   * ({@link settingsFromContext}). @default - the context's settings, else the defaults
   */
  readonly pipeline?: VideoPipelineProps;
}

/**
 * The deployable Spool app: one {@link VideoPipeline}, configured from props or CDK context
 * (cdk.json), and the outputs clients need.
 */
export class SpoolStack extends Stack {
  public readonly pipeline: VideoPipeline;

  constructor(scope: Construct, id: string, props: SpoolStackProps = {}) {
    super(scope, id, props);
    this.pipeline = new VideoPipeline(this, 'Pipeline', {
      ...settingsFromContext(this.node),
      ...props.pipeline,
    });
    const { uploadApi, delivery, storage } = this.pipeline;

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Spool HTTP API',
      value: uploadApi.url,
    });
    new CfnOutput(this, 'PlaybackDomain', {
      description: 'CloudFront domain serving the HLS output (a custom domain CNAMEs to it)',
      value: delivery.distribution.distributionDomainName,
    });
    new CfnOutput(this, 'PlaybackBaseUrl', {
      description: 'Prefix of every playback URL the API returns',
      value: delivery.playbackBaseUrl,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic of every Spool alarm: subscribe a pager or chat integration',
      value: this.pipeline.alarms.topic.topicArn,
    });
    new CfnOutput(this, 'EventBusName', {
      description: 'EventBridge bus of the video.playable/ready/failed events (schemas/)',
      value: this.pipeline.events.bus.eventBusName,
    });
    if (this.pipeline.webhooks) {
      new CfnOutput(this, 'WebhookSecretArn', {
        description:
          'Key webhooks are signed with: aws secretsmanager get-secret-value --secret-id <arn>',
        value: this.pipeline.webhooks.secret.secretArn,
      });
    }
    if (this.pipeline.playbackSigning) {
      new CfnOutput(this, 'PlaybackSigningKeySecretArn', {
        description:
          'Put the playback private key here: aws secretsmanager put-secret-value --secret-id <arn> --secret-string file://playback.pem',
        value: this.pipeline.playbackSigning.signingKey.secretArn,
      });
    }
    new CfnOutput(this, 'DashboardUrl', {
      description: 'CloudWatch dashboard of the pipeline',
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${this.pipeline.alarms.dashboard.dashboardName}`,
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
