import { Duration, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface DeliveryProps {
  /** The HLS output; CloudFront reads it through Origin Access Control. */
  readonly outputBucket: s3.IBucket;
  /** Standard-log destination. */
  readonly accessLogsBucket: s3.IBucket;
  /** Origins whose players may fetch playlists and segments (`*` for any). */
  readonly allowedOrigins: string[];
  /** @default PriceClass.PRICE_CLASS_ALL */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * Serve under this name with this ACM certificate (us-east-1). Point a CNAME (or alias
   * record) for the name at the distribution's domain. @default - the *.cloudfront.net name
   */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
  /**
   * Private playback: every request must carry a URL signed with a key of one of these
   * groups (CloudFront checks it before its cache). @default - public playback
   */
  readonly trustedKeyGroups?: cloudfront.IKeyGroup[];
}

/** Delivery stage: a CloudFront distribution serving the output bucket to HLS players. */
export class Delivery extends Construct {
  public readonly distribution: cloudfront.Distribution;
  /** `https://{custom or distribution domain}`: prefix of every playback and poster URL. */
  public readonly playbackBaseUrl: string;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);

    // Published objects never change (write-once keys per video), so cache them long;
    // players send no cookies or query strings that would change the response.
    const cachePolicy = new cloudfront.CachePolicy(this, 'HlsCachePolicy', {
      comment: 'Spool HLS: immutable playlists and segments',
      defaultTtl: Duration.days(1),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.days(365),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      // Playlists are text and compress well; segments are already compressed.
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    // hls.js and other MSE players fetch with XHR/fetch from the page's origin.
    const responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'CorsPolicy', {
      comment: 'Spool HLS: CORS for browser players',
      corsBehavior: {
        accessControlAllowCredentials: false,
        accessControlAllowHeaders: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD', 'OPTIONS'],
        accessControlAllowOrigins: props.allowedOrigins,
        accessControlExposeHeaders: ['Content-Length', 'Content-Range', 'ETag'],
        accessControlMaxAge: Duration.hours(1),
        originOverride: true,
      },
      securityHeadersBehavior: {
        contentTypeOptions: { override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Spool HLS delivery',
      defaultBehavior: {
        // OAC (not the legacy OAI): the bucket policy allows only this distribution.
        origin: origins.S3BucketOrigin.withOriginAccessControl(props.outputBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
        cachePolicy,
        // Forwards Origin and the Access-Control-Request-* headers so S3 answers preflights.
        originRequestPolicy: cloudfront.OriginRequestPolicy.CORS_S3_ORIGIN,
        responseHeadersPolicy,
        compress: true,
        // The only behaviour, so it serves every playlist and segment: all of them signed.
        ...(props.trustedKeyGroups ? { trustedKeyGroups: props.trustedKeyGroups } : {}),
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.customDomain
        ? {
            domainNames: [props.customDomain.domainName],
            certificate: acm.Certificate.fromCertificateArn(
              this,
              'Certificate',
              props.customDomain.certificateArn,
            ),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_ALL,
      enableLogging: true,
      logBucket: props.accessLogsBucket,
      logFilePrefix: 'cloudfront/',
    });
    this.playbackBaseUrl = `https://${
      props.customDomain?.domainName ?? this.distribution.distributionDomainName
    }`;

    const acknowledge = Validations.of(this.distribution);
    if (!props.customDomain) {
      acknowledge.acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, for which ' +
          'CloudFront does not let you choose the minimum viewer TLS version; viewers are ' +
          'redirected to HTTPS and the origin is S3 over HTTPS. With customDomain, TLS 1.2 ' +
          '(TLSv1.2_2021) is the minimum.',
      });
    }
    acknowledge.acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Spool serves public VOD renditions to any viewer; geo restrictions are a ' +
          'product decision for the embedding app, not a default of the pipeline.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves only static, immutable HLS objects from a private ' +
          'bucket via OAC (GET/HEAD/OPTIONS); a WAF web ACL adds cost without protecting ' +
          'any dynamic origin.',
      },
    );
  }
}
