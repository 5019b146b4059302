import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { uploadApi } = spool.stack.pipeline;
afterAll(() => spool.dispose());

describe('UploadApi', () => {
  it.each([
    'POST /videos',
    'GET /videos',
    'GET /videos/{id}',
    'POST /videos/{id}/parts',
    'GET /videos/{id}/parts',
    'POST /videos/{id}/complete',
  ])('routes %s to the upload handler', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: logicalId(uploadApi.httpApi) },
      RouteKey: routeKey,
      Target: Match.anyValue(),
    });
  });

  it('integrates every route with the upload handler', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [logicalId(uploadApi.handler), 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles and access-logs the auto-deployed default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(uploadApi.accessLogGroup), 'Arn'] },
      },
    });
  });

  it('generates the bearer token without punctuation', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ ExcludePunctuation: true }),
    });
  });

  it('tells the handler where the token is and lets it read it', () => {
    expect(propertiesOf(template, uploadApi.handler)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          API_TOKEN_SECRET_ARN: { Ref: logicalId(uploadApi.apiTokenSecret) },
        }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(uploadApi.handler.role ?? uploadApi.handler) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: { Ref: logicalId(uploadApi.apiTokenSecret) },
          }),
        ]),
      },
    });
  });

  it('runs the handler with 512 MB for 10 seconds', () => {
    expect(propertiesOf(template, uploadApi.handler)).toMatchObject({
      MemorySize: 512,
      Timeout: 10,
    });
  });
});
