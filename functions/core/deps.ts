import type { SpoolConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { PolicySigner } from './playback.js';
import type {
  Clock,
  Logger,
  MediaProber,
  MessageQueue,
  ObjectStore,
  SourceReader,
  Transcoder,
} from './ports.js';

/** What every use case is given: its ports, never a module-level client. */
export interface Deps {
  config: SpoolConfig;
  store: ObjectStore;
  queue: MessageQueue;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Signs playback URLs (core/playback.ts); set where `signedPlayback` is on. */
  playbackSigner?: () => Promise<PolicySigner>;
}

export interface MediaDeps extends Deps {
  prober: MediaProber;
  transcoder: Transcoder;
  /** How ffmpeg reaches a stored source (byte ranges, never a whole download). */
  sources: SourceReader;
}
