import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { SpoolStack } from '../lib/spool-stack.js';

const app = new App();

// Environment-agnostic: synthesizes offline without credentials; the account and region
// come from the CLI profile at deploy time.
// Settings come from context: the `spool` object in cdk.json, or `-c spool:<name>=<value>`
// (functions/core/settings.ts lists them).
new SpoolStack(app, 'Spool', {
  description: 'Spool: serverless video processing (upload, chunked ffmpeg, HLS on CloudFront)',
});

// Fails synthesis on any unacknowledged AWS Solutions or Serverless finding (cdk-nag 3 packs
// are policy validation plugins); every acknowledgement carries its reason by its resource.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
