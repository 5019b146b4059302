import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { SpoolStack } from '../../../lib/spool-stack.js';
import type { VideoPipelineProps } from '../../../lib/video-pipeline.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};

export interface SynthOptions {
  readonly pipeline?: VideoPipelineProps;
  /**
   * Bundle the handlers with esbuild, as `cdk synth` does. Off by default: bundling does
   * not change the template, and skipping it keeps these tests fast.
   */
  readonly bundle?: boolean;
}

export interface SynthesizedSpool {
  readonly app: App;
  readonly stack: SpoolStack;
  readonly template: Template;
  /** Path of the synthesized CloudFormation template. */
  readonly templatePath: string;
  /** Deletes the cloud assembly directory. */
  dispose(): void;
}

/**
 * Synthesizes the Spool stack with the feature flags of cdk.json, so the tests assert
 * what `cdk synth` produces. Call once per test file: synthesis is the slow part.
 */
export function synthesizeSpool(options: SynthOptions = {}): SynthesizedSpool {
  const outdir = mkdtempSync(join(tmpdir(), 'spool-cdk-test-'));
  const app = new App({
    outdir,
    context: {
      ...cdkJson.context,
      // Reference the ffmpeg layer's staging directory instead of copying ~150 MB.
      'aws:cdk:disable-asset-staging': true,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stack = new SpoolStack(app, 'Spool', { pipeline: options.pipeline });
  const template = Template.fromStack(stack);
  const templatePath = app.synth().getStackArtifact(stack.artifactId).templateFullPath;
  return {
    app,
    stack,
    template,
    templatePath,
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The logical id a construct (or its default child) gets in the template. */
export function logicalId(construct: IConstruct): string {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!element || !CfnElement.isCfnElement(element)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  return Stack.of(element).getLogicalId(element);
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` for a construct. */
export function arnOf(construct: IConstruct): { 'Fn::GetAtt': [string, string] } {
  return { 'Fn::GetAtt': [logicalId(construct), 'Arn'] };
}

/** The properties of one resource, by construct. */
export function propertiesOf(template: Template, construct: IConstruct): Record<string, unknown> {
  const resource = template.toJSON().Resources?.[logicalId(construct)] as
    | { Properties?: Record<string, unknown> }
    | undefined;
  if (!resource) throw new Error(`${construct.node.path} is not in the template`);
  return resource.Properties ?? {};
}

/** The S3 notifications that invoke `fn`, each as its sorted filter: `prefix=… suffix=…`. */
export function notificationFiltersOf(template: Template, fn: IConstruct): string[] {
  const configs = Object.values(template.findResources('Custom::S3BucketNotifications')).flatMap(
    (n) =>
      (n.Properties?.NotificationConfiguration?.LambdaFunctionConfigurations ?? []) as {
        Events: string[];
        LambdaFunctionArn: unknown;
        Filter: { Key: { FilterRules: { Name: string; Value: string }[] } };
      }[],
  );
  const arn = JSON.stringify(arnOf(fn));
  return configs
    .filter((c) => JSON.stringify(c.LambdaFunctionArn) === arn)
    .map((c) =>
      [
        ...c.Events,
        ...c.Filter.Key.FilterRules.map((r) => `${r.Name.toLowerCase()}=${r.Value}`).sort(),
      ].join(' '),
    )
    .sort();
}
