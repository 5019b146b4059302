/**
 * What the functions write to CloudWatch through Powertools: JSON log lines with the request
 * id and cold start, and EMF metrics in the Spool namespace that the alarms read.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE } from '../../functions/core/metrics.js';

const lines: string[] = [];
let observability: typeof import('../../functions/adapters/observability.js');

beforeAll(async () => {
  // As in Lambda: an on-demand instance, no dev mode, metrics on.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('SPOOL_LOG_LEVEL', '');
  vi.resetModules();
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.trimStart().startsWith('{')) {
      lines.push(...text.split('\n').filter((l) => l.trim()));
      return true;
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  });
  observability = await import('../../functions/adapters/observability.js');
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const context = {
  functionName: 'spool-notify',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:spool-notify',
  memoryLimitInMB: '256',
  awsRequestId: 'req-123',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

describe('observability', () => {
  it('logs JSON with the request id and cold start, and writes EMF metrics', async () => {
    const { observed, loggerPort, metricsPort } = observability;
    const handler = observed<Record<string, never>, string>().handler(async () => {
      loggerPort.info('video failed', { videoId: 'v1' });
      metricsPort.record('videosFailed', 1, { errorCode: 'DECODE_FAILED' });
      metricsPort.record('timeToReady', 12.5);
      return 'ok';
    });
    expect(await handler({}, context)).toBe('ok');
    const json = lines.map((l) => JSON.parse(l) as Record<string, unknown>);

    const log = json.find((j) => j.message === 'video failed');
    expect(log).toMatchObject({
      level: 'INFO',
      service: 'spool',
      videoId: 'v1',
      function_request_id: 'req-123',
      cold_start: true,
      function_name: 'spool-notify',
    });

    const emf = json.filter((j) => j._aws);
    const metric = (name: string, dims: string[]) =>
      emf.find((j) => {
        const m = (
          j._aws as {
            CloudWatchMetrics: {
              Namespace: string;
              Dimensions: string[][];
              Metrics: { Name: string }[];
            }[];
          }
        ).CloudWatchMetrics[0];
        return (
          m?.Namespace === METRICS_NAMESPACE &&
          m.Metrics.some((x) => x.Name === name) &&
          JSON.stringify([...(m.Dimensions[0] ?? [])].sort()) === JSON.stringify(dims)
        );
      });
    expect(metric('VideosFailed', ['service'])).toMatchObject({
      service: 'spool',
      VideosFailed: 1,
    });
    expect(metric('VideosFailed', ['errorCode', 'service'])).toMatchObject({
      errorCode: 'DECODE_FAILED',
      VideosFailed: 1,
    });
    expect(metric('TimeToReady', ['service'])).toMatchObject({ TimeToReady: 12.5 });
    expect(metric('ColdStart', ['function_name', 'service'])).toBeDefined();
  });
});
