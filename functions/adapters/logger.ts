/** One JSON line per event: what CloudWatch Logs Insights queries best. */
import type { Logger } from '../core/ports.js';

export function jsonLogger(base: Record<string, unknown> = {}): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (process.env.SPOOL_LOG_LEVEL === 'silent') return;
    const line = JSON.stringify({ level, message, ...base, ...fields, time: new Date() });
    if (level === 'error') console.error(line);
    else console.log(line);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
