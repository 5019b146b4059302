/** A config for use-case tests: the topology of a memory store and queue, defaults else. */
import { loadConfig, type SpoolConfig } from '../../functions/core/config.js';

export function testConfig(extra: Record<string, string> = {}): SpoolConfig {
  return loadConfig({
    UPLOADS_BUCKET: 'up',
    OUTPUT_BUCKET: 'out',
    JOBS_QUEUE_URL: 'jobs',
    PUBLISH_QUEUE_URL: 'publish.fifo',
    PURGE_QUEUE_URL: 'purge',
    PLAYBACK_BASE_URL: 'https://cdn.example.com',
    ...extra,
  });
}
