import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { logicalId, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template } = spool;
const { delivery, storage } = spool.stack.pipeline;
afterAll(() => spool.dispose());

interface Statement {
  Effect: string;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function outputBucketStatements(): Statement[] {
  const policies = Object.values(
    template.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: logicalId(storage.outputBucket) } },
    }),
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.PolicyDocument.Statement as Statement[];
}

describe('Delivery', () => {
  it('reads the output bucket through an S3 origin access control that signs every request', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: [
          Match.objectLike({
            OriginAccessControlId: { 'Fn::GetAtt': [Match.anyValue(), 'Id'] },
            S3OriginConfig: { OriginAccessIdentity: '' },
          }),
        ],
      },
    });
  });

  it('uses no legacy origin access identity', () => {
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
  });

  it('lets only this distribution read the output bucket', () => {
    const allows = outputBucketStatements().filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: {
        StringEquals: {
          'AWS:SourceArn': expect.objectContaining({
            'Fn::Join': expect.arrayContaining([
              expect.arrayContaining([{ Ref: logicalId(delivery.distribution) }]),
            ]),
          }),
        },
      },
    });
  });

  it('redirects HTTP to HTTPS and compresses responses', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          Compress: true,
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
        }),
      },
    });
  });

  it('sends CORS headers that let players on any origin fetch playlists and segments', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        CorsConfig: Match.objectLike({
          AccessControlAllowMethods: { Items: ['GET', 'HEAD', 'OPTIONS'] },
          AccessControlAllowOrigins: { Items: ['*'] },
          AccessControlAllowCredentials: false,
          OriginOverride: true,
        }),
      },
    });
  });

  it('caches HLS objects without cookies or query strings in the key', () => {
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        ParametersInCacheKeyAndForwardedToOrigin: {
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'none' },
          EnableAcceptEncodingGzip: true,
          EnableAcceptEncodingBrotli: true,
        },
      }),
    });
  });

  it('writes standard logs to the access-logs bucket', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Logging: {
          Bucket: { 'Fn::GetAtt': [logicalId(storage.accessLogsBucket), 'RegionalDomainName'] },
        },
      },
    });
  });
});

describe('Delivery under a custom domain', () => {
  const custom = synthesizeSpool({
    pipeline: {
      customDomain: {
        domainName: 'video.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234',
      },
    },
  });
  afterAll(() => custom.dispose());
  const { delivery: d, functions } = custom.stack.pipeline;

  it('serves the name with the certificate, TLS 1.2 at least', () => {
    const config = (
      custom.template.toJSON().Resources[logicalId(d.distribution)].Properties as {
        DistributionConfig: Record<string, unknown>;
      }
    ).DistributionConfig;
    expect(config.Aliases).toEqual(['video.example.com']);
    expect(config.ViewerCertificate).toEqual({
      AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234',
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
  });

  it('gives the API playback URLs on that name', () => {
    const vars = (
      custom.template.toJSON().Resources[logicalId(functions.upload)].Properties as {
        Environment: { Variables: Record<string, unknown> };
      }
    ).Environment.Variables;
    expect(vars.PLAYBACK_BASE_URL).toBe('https://video.example.com');
  });
});
