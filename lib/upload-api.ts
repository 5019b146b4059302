import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { keys } from '../functions/core/keys.js';
import { FUNCTIONS } from '../functions/core/topology.js';
import { ROUTE_KEYS, ROUTES, splitRouteKey } from '../functions/upload/routes.js';
import { allowRemovingVideos, type VideoRemovalProps } from './purge.js';
import { SpoolFunction } from './spool-function.js';

export interface UploadApiProps extends VideoRemovalProps {
  /** Presigned PUT target for sources; also holds the state records the API reads. */
  readonly uploadsBucket: s3.IBucket;
  /** Origins allowed to call the API from a browser (`*` for any). */
  readonly allowedOrigins: string[];
  /** Steady-state request rate of the default stage, per second. */
  readonly throttleRateLimit: number;
  /** Burst request limit of the default stage. */
  readonly throttleBurstLimit: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Upload stage: the HTTP API (the routes of functions/upload/routes.ts: `POST /videos`,
 * `GET /videos`, `GET /videos/{id}`, `DELETE /videos/{id}`, a multipart upload's
 * `/videos/{id}/parts` and `/videos/{id}/complete`, `GET /openapi.json`), its handler, and
 * the bearer token the handler checks requests against.
 */
export class UploadApi extends Construct {
  public readonly httpApi: apigw.HttpApi;
  /** The `$default` stage, throttled and access-logged. */
  public readonly stage: apigw.HttpStage;
  public readonly handler: SpoolFunction;
  /** The API's bearer token (generated). Read it with `aws secretsmanager get-secret-value`. */
  public readonly apiTokenSecret: secretsmanager.Secret;
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: UploadApiProps) {
    super(scope, id);

    this.apiTokenSecret = new secretsmanager.Secret(this, 'ApiToken', {
      description: 'Spool API bearer token (Authorization: Bearer <token>)',
      generateSecretString: {
        passwordLength: 48,
        // The token travels in an HTTP header and in shell commands: keep it [A-Za-z0-9].
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.apiTokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A static bearer token shared with API clients; rotating it breaks every client at ' +
        'once, so it is rotated by hand (put-secret-value) and picked up by the handler on ' +
        'its next cold start.',
    });

    this.handler = new SpoolFunction(this, 'Handler', {
      stage: 'upload',
      trigger: 'http',
      description: 'Spool API: creates uploads (presigned PUT), reports and deletes videos',
      memorySize: FUNCTIONS.upload.memoryMb,
      timeout: Duration.seconds(FUNCTIONS.upload.timeoutSeconds),
      environment: { API_TOKEN_SECRET_ARN: this.apiTokenSecret.secretArn },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.apiTokenSecret.grantRead(this.handler);
    // DELETE writes the tombstone, then removes the video from both buckets and the CDN.
    allowRemovingVideos(this.handler, props, {
      // Status: every record, and whether the source has arrived (HEAD).
      read: [`${keys.records('*')}*`, keys.source('*')],
      // The presigned PUTs are signed with this role, so it may write what they upload
      // (a source's multipart upload too: its start, parts and completion).
      write: [
        keys.source('*'),
        keys.caption('*', '*'),
        keys.video('*'),
        keys.multipart('*'),
        `${keys.indexPrefix}*`,
        keys.tombstone('*'),
      ],
      // A multipart upload's parts so far: for resuming clients, and checked before completing.
      multipart: [keys.source('*')],
      // DELETE of a video still coming in parts discards its parts at once.
      abort: [keys.source('*')],
      why: 'The API presigns the source and caption PUTs, runs multipart uploads of sources (and aborts one when its video is deleted), writes the video, index and tombstone records and reads state.',
    });

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Spool video API',
      // Created below instead, to configure throttling and access logs.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.allowedOrigins,
        allowMethods: [
          ...new Set(ROUTE_KEYS.map((key) => apigw.CorsHttpMethod[splitRouteKey(key).method])),
          apigw.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        // JSON, so Logs Insights queries it like the functions' Powertools lines. HTTP APIs
        // have their own $context variables (no identity.caller/user, as REST APIs have).
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('Handler', this.handler);
    for (const key of ROUTE_KEYS) {
      const { method, path } = splitRouteKey(key);
      const created = this.httpApi.addRoutes({
        path,
        methods: [apigw.HttpMethod[method]],
        integration,
      });
      for (const route of created) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: ROUTES[key].auth
            ? 'The route requires Authorization: Bearer <token>, which the handler checks ' +
              'against the generated Secrets Manager token (DESIGN.md section 2) so the same ' +
              'auth contract holds locally and on AWS; missing or wrong tokens get a 401.'
            : 'A public route by design: it serves the API reference (OpenAPI), which ' +
              'describes the routes and holds no data; every other route requires the token.',
        });
      }
    }
  }

  /** Base URL of the API, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  public get url(): string {
    return this.stage.url;
  }
}
