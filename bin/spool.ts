import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SpoolStack } from '../lib/spool-stack.js';

const app = new App();

// Environment-agnostic: synthesizes offline without credentials; the account and region
// come from the CLI profile at deploy time.
new SpoolStack(app, 'Spool', {
  description: 'Spool: serverless video processing (upload, chunked ffmpeg, HLS on CloudFront)',
});

// Fails synthesis on any unacknowledged AWS Solutions finding (cdk-nag 3 is a policy
// validation plugin); every acknowledgement carries its reason next to the resource.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
