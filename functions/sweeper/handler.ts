/** A schedule (EventBridge, every few minutes) → the sweeper. */
import { observed } from '../adapters/observability.js';
import { runtime } from '../adapters/runtime.js';
import { sweep } from './sweeper.js';

const deps = runtime();

export const handler = observed<unknown, unknown>().handler(async () => {
  const report = await sweep(deps);
  deps.logger.info('swept', {
    unfinished: report.unfinished,
    redriven: report.redriven.length,
    failed: report.failed.length,
  });
  return report;
});
