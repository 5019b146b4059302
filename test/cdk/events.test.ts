import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import {
  arnOf,
  logicalId,
  notificationFiltersOf,
  propertiesOf,
  synthesizeSpool,
} from './support/spool-app.js';

const spool = synthesizeSpool({
  pipeline: { webhookUrls: ['https://hooks.example.com/a', 'https://hooks.example.com/b'] },
});
const { template, stack } = spool;
const { pipeline } = stack;
afterAll(() => spool.dispose());

describe('Events', () => {
  it('publishes to its own bus, from the playable, ready and failed records only', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    expect(notificationFiltersOf(template, pipeline.events.handler)).toEqual([
      's3:ObjectCreated:* prefix=state/ suffix=/failed.json',
      's3:ObjectCreated:* prefix=state/ suffix=/playable.json',
      's3:ObjectCreated:* prefix=state/ suffix=/ready.json',
    ]);
    expect(propertiesOf(template, pipeline.events.handler)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          EVENT_BUS_NAME: { Ref: logicalId(pipeline.events.bus) },
        }),
      },
      DeadLetterConfig: { TargetArn: arnOf(pipeline.events.deadLetterQueue) },
    });
  });

  it('lets only the notify function put events on the bus', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'events:PutEvents',
            Resource: arnOf(pipeline.events.bus),
          }),
        ]),
      },
      Roles: [
        {
          Ref: logicalId(
            pipeline.events.handler.role?.node.defaultChild ?? pipeline.events.handler,
          ),
        },
      ],
    });
  });
});

describe('Webhooks', () => {
  const webhooks = pipeline.webhooks;
  if (!webhooks) throw new Error('webhooks not created for two endpoints');

  it('has one rule per endpoint, putting {endpoint, detail} on the queue', () => {
    const rules = Object.values(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventBusName: { Ref: logicalId(pipeline.events.bus) } },
      }),
    );
    expect(rules).toHaveLength(2);
    rules.forEach((rule, endpoint) => {
      expect(rule.Properties.EventPattern).toEqual({
        source: ['spool'],
        'detail-type': ['video.playable', 'video.ready', 'video.failed'],
      });
      const [target] = rule.Properties.Targets;
      expect(target.Arn).toEqual(arnOf(webhooks.queue.queue));
      expect(target.InputTransformer).toEqual({
        InputPathsMap: { detail: '$.detail' },
        InputTemplate: `{"endpoint":${endpoint},"detail":<detail>}`,
      });
      // EventBridge keeps trying to reach the queue, then dead-letters the event.
      expect(target.DeadLetterConfig).toEqual({ Arn: arnOf(webhooks.undeliverable) });
      expect(target.RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 86400,
        MaximumRetryAttempts: 185,
      });
    });
  });

  it('retries a delivery 10 times before its dead-letter queue', () => {
    expect(propertiesOf(template, webhooks.queue.queue)).toMatchObject({
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(webhooks.queue.deadLetterQueue),
        maxReceiveCount: 10,
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(webhooks.queue.queue),
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('signs with a generated secret that only the webhooks function reads', () => {
    expect(propertiesOf(template, webhooks.handler)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          WEBHOOK_SECRET_ARN: { Ref: logicalId(webhooks.secret) },
          SPOOL_WEBHOOK_URLS: '["https://hooks.example.com/a","https://hooks.example.com/b"]',
        }),
      },
    });
    // The URLs may carry tokens: no other function has them.
    for (const [stage, fn] of Object.entries(pipeline.functions)) {
      if (stage === 'webhooks') continue;
      const vars = (propertiesOf(template, fn).Environment as { Variables: object }).Variables;
      expect(vars).not.toHaveProperty('SPOOL_WEBHOOK_URLS');
    }
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes(
        JSON.stringify({ Ref: logicalId(webhooks.secret) }),
      ),
    );
    expect(readers).toHaveLength(1);
  });
});

describe('without webhook endpoints', () => {
  const plain = synthesizeSpool();
  afterAll(() => plain.dispose());

  it('creates no webhook resources', () => {
    expect(plain.stack.pipeline.webhooks).toBeUndefined();
    plain.template.resourceCountIs('AWS::Events::Rule', 1); // the sweeper's schedule
  });
});
