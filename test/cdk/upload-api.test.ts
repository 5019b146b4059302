import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/upload/routes.js';
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
    'DELETE /videos/{id}',
    'POST /videos/{id}/parts',
    'GET /videos/{id}/parts',
    'POST /videos/{id}/complete',
    'GET /openapi.json',
  ])('routes %s to the upload handler', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: logicalId(uploadApi.httpApi) },
      RouteKey: routeKey,
      Target: Match.anyValue(),
    });
  });

  it('has a route for each entry of the route table, and no other', () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r.Properties as { RouteKey: string }).RouteKey,
    );
    expect(routeKeys.sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('lets browsers call every method the routes use, DELETE included', () => {
    const { CorsConfiguration } = propertiesOf(template, uploadApi.httpApi) as {
      CorsConfiguration: { AllowMethods: string[] };
    };
    expect(CorsConfiguration.AllowMethods.sort()).toEqual(['DELETE', 'GET', 'OPTIONS', 'POST']);
  });

  it('tells the handler which distribution to invalidate and lets it, on that one only', () => {
    const distribution = logicalId(spool.stack.pipeline.delivery.distribution);
    expect(propertiesOf(template, uploadApi.handler)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({ CDN_DISTRIBUTION_ID: { Ref: distribution } }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(uploadApi.handler.role ?? uploadApi.handler) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'cloudfront:CreateInvalidation',
            Resource: {
              'Fn::Join': ['', Match.arrayWith([':distribution/', { Ref: distribution }])],
            },
          }),
        ]),
      },
    });
  });

  it('lets the handler ask for a purge', () => {
    const purgeQueue = spool.stack.pipeline.purge.queue.queue;
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(uploadApi.handler.role ?? uploadApi.handler) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [logicalId(purgeQueue), 'Arn'] },
          }),
        ]),
      },
    });
    expect(propertiesOf(template, uploadApi.handler)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({ PURGE_QUEUE_URL: { Ref: logicalId(purgeQueue) } }),
      },
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
