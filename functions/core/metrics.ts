/**
 * The pipeline's metrics: their names and units, written once for the functions that emit
 * them (EMF, through adapters/observability.ts) and the alarms and dashboard that read them
 * (lib/monitoring.ts).
 */
export const METRICS_NAMESPACE = 'Spool';
/** Every metric carries this `service` dimension (Powertools' default dimension). */
export const METRICS_SERVICE = 'spool';

export const METRIC = {
  /** POST /videos created a video. */
  videosCreated: { name: 'VideosCreated', unit: 'Count' },
  /** Events: a video became playable, ready, failed (failed also per `errorCode`). */
  videosPlayable: { name: 'VideosPlayable', unit: 'Count' },
  videosReady: { name: 'VideosReady', unit: 'Count' },
  videosFailed: { name: 'VideosFailed', unit: 'Count' },
  /** From POST /videos to the event, in seconds. */
  timeToPlayable: { name: 'TimeToPlayable', unit: 'Seconds' },
  timeToReady: { name: 'TimeToReady', unit: 'Seconds' },
  /** A transcode job's wall time over the media seconds it encoded. */
  encodeSecondsPerSourceSecond: { name: 'EncodeSecondsPerSourceSecond', unit: 'NoUnit' },
  /** A job, publish or webhook delivered again after a failed attempt (also per `queue`). */
  retries: { name: 'Retries', unit: 'Count' },
  /**
   * An attempt that failed for a reason other than the media (a crash of ffmpeg with no
   * verdict, a timeout, S3 or SQS errors), also per `queue`: what an operator fixes.
   */
  failedAttempts: { name: 'FailedAttempts', unit: 'Count' },
  /** A message that could not be completed reached a dead-letter queue's consumer. */
  deadLetters: { name: 'DeadLetters', unit: 'Count' },
} as const;

export type MetricKey = keyof typeof METRIC;

/** The dimension that splits `videosFailed` by reason. */
export const ERROR_CODE_DIMENSION = 'errorCode';
/** The dimension that splits `retries` and `failedAttempts` by queue (jobs, publish, …). */
export const QUEUE_DIMENSION = 'queue';

/** Where the functions record metrics; tests and tools pass {@link noMetrics}. */
export interface Metrics {
  /** Records a value of a metric; `dimensions` add a separately dimensioned copy. */
  record(metric: MetricKey, value: number, dimensions?: Record<string, string>): void;
}

export const noMetrics: Metrics = { record: () => undefined };
