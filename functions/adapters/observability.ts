/**
 * Powertools for AWS Lambda on every handler, through middy: structured logs with the
 * request id and cold start, EMF metrics, and X-Ray traces of the handler and SDK calls.
 * Locally (POWERTOOLS_DEV) the same log lines print indented, metrics are not written and
 * tracing is off (it is on only inside Lambda).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE, type Metrics } from '../core/metrics.js';
import type { Logger as LoggerPort } from '../core/ports.js';

export const logger = new Logger({
  serviceName: METRICS_SERVICE,
  ...(process.env.SPOOL_LOG_LEVEL === 'silent' ? { logLevel: 'SILENT' as const } : {}),
});
export const metrics = new PowertoolsMetrics({
  namespace: METRICS_NAMESPACE,
  serviceName: METRICS_SERVICE,
});
/**
 * X-Ray's SDK, which the Tracer imports, tracks every promise through async hooks from the
 * moment it loads, whether tracing is on or not: an await then costs ~1.4 µs, 25 times a bare
 * one, and the local stack runs millions of them in a bench run. So it is loaded only where
 * traces are sent: inside Lambda, unless tracing is switched off. The Lambda bundles are
 * CommonJS (lib/spool-function.ts), where a plain require loads it.
 */
const tracingOn =
  typeof require === 'function' &&
  Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME) &&
  process.env.POWERTOOLS_TRACE_ENABLED !== 'false' &&
  process.env.POWERTOOLS_DEV !== 'true';

const tracer: Tracer | undefined = tracingOn
  ? new (
      require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')
    ).Tracer({ serviceName: METRICS_SERVICE })
  : undefined;

/** An AWS SDK client whose calls are subsegments of the invocation's trace, where traced. */
export const traced = <T>(client: T): T => (tracer ? tracer.captureAWSv3Client(client) : client);

/** The core's Logger port, written by Powertools. */
export const loggerPort: LoggerPort = {
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};

const UNITS = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  NoUnit: MetricUnit.NoUnit,
} as const;

/** The core's Metrics port, written as EMF by Powertools and flushed after each invocation. */
export const metricsPort: Metrics = {
  record(key, value, dimensions) {
    const { name, unit } = METRIC[key];
    metrics.addMetric(name, UNITS[unit], value);
    if (dimensions) {
      // A copy with its own dimensions, written at once (a single-metric EMF line).
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, UNITS[unit], value);
    }
  },
};

/** A middy handler with the Powertools middlewares: every Spool handler starts from this. */
export function observed<TEvent, TResult>() {
  const handler = middy<TEvent, TResult, Error, Context>().use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  if (tracer) handler.use(captureLambdaHandler(tracer, { captureResponse: false }));
  return handler.use(logMetrics(metrics, { captureColdStartMetric: true }));
}
