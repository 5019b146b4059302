/** A schedule (EventBridge, every few minutes) → the sweeper. */
import middy from '@middy/core';
import { runtime } from '../adapters/runtime.js';
import { sweep } from './sweeper.js';

const deps = runtime();

export const handler = middy().handler(async () => {
  const report = await sweep(deps);
  deps.logger.info('swept', {
    unfinished: report.unfinished,
    redriven: report.redriven.length,
    failed: report.failed.length,
  });
  return report;
});
