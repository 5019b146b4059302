/**
 * The scale model: what the measured figures predict on AWS Lambda. Pure functions of the
 * constants below and of what the bench measured on this machine; no I/O.
 */

/** AWS Lambda, x86_64, us-east-1, first pricing tier. */
export const LAMBDA = {
  /** USD per GB-second of duration (x86, first 6 billion GB-s a month). */
  priceGbSecond: 0.0000166667,
  /** USD per request ($0.20 per million). */
  pricePerRequest: 0.2 / 1e6,
  priceSource:
    'https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html ' +
    '($0.00001667/GB-s, $0.20/1M requests; tiered figure $0.0000166667 for the first ' +
    '6 billion GB-s/month per https://cloudchipr.com/blog/aws-lambda-pricing, 2024 guide; ' +
    'stored copies read 2026-11-22, neither page dated by the store)',
  /** About one vCPU per 1769 MB, up to 6 vCPUs at 10240 MB. */
  mbPerVcpu: 1769,
  maxVcpus: 6,
  maxMemoryMb: 10_240,
  /** The hard limit on one invocation. */
  timeoutSeconds: 900,
  /** SQS event source: 5 concurrent batches at first, then up to 300 more per minute. */
  sqsInitialConcurrency: 5,
  sqsRampPerMinute: 300,
  sqsScalingSource: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html',
} as const;

/** What the model assumes where the bench cannot measure it. */
export const ASSUMPTIONS = {
  /**
   * First invocation on a new instance: Node init + the ffmpeg layer (no provisioned
   * concurrency). Billed since 2025-08-01:
   * https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase
   */
  coldStartSeconds: 1.5,
  /** Warm invocations add nothing beyond the measured per-job overhead. */
  warmStartSeconds: 0,
  /** Memory of publish (lib/publish.ts); ingest is sized like the transcode workers. */
  publishMemoryMb: 512,
  /** Default transcode memory (lib/video-pipeline.ts transcodeMemoryMb). */
  transcodeMemoryMb: 3008,
  /** Source bitrate, Mb/s, of "1080p" in the predictions (a phone or camera upload). */
  sourceMbps: 8,
} as const;

/** Published anchors the model is compared with. */
export const ANCHORS = {
  muxSource:
    'https://mux.com/blog/how-to-transcode-video-100x-faster-or-a-gordian-knot-cut (2023-04-27)',
} as const;

/** One of Mux's source-duration buckets and its published medians. */
export interface PublishBucket {
  fromMinutes: number;
  /** Exclusive; infinite for the last bucket (60+). */
  toMinutes: number;
  /** Median time to publish, all inputs, seconds. */
  medianSeconds: number;
  /**
   * The same over "standard input" only: the common profile by resolution (up to 2K), codec
   * (H.264), frame rate and bitrate, 82% of Mux's uploads. The bench's source is one.
   */
  standardMedianSeconds: number;
}

/**
 * Mux's median time to publish by source duration (ANCHORS.muxSource). "Publish" is when
 * the video is ready for playback: Mux encodes just in time, so that comes before a full
 * encode of every rendition. The tables do not say where the clock starts.
 */
export const MUX_TIME_TO_PUBLISH: readonly PublishBucket[] = [
  { fromMinutes: 0, toMinutes: 1, medianSeconds: 2.0, standardMedianSeconds: 1.8 },
  { fromMinutes: 1, toMinutes: 5, medianSeconds: 3.3, standardMedianSeconds: 2.6 },
  { fromMinutes: 5, toMinutes: 20, medianSeconds: 9.0, standardMedianSeconds: 5.5 },
  { fromMinutes: 20, toMinutes: 60, medianSeconds: 46.4, standardMedianSeconds: 26.7 },
  {
    fromMinutes: 60,
    toMinutes: Number.POSITIVE_INFINITY,
    medianSeconds: 93.5,
    standardMedianSeconds: 50.1,
  },
];

/** "0–1 min", …, "60+ min". */
export const bucketLabel = (b: PublishBucket): string =>
  Number.isFinite(b.toMinutes) ? `${b.fromMinutes}–${b.toMinutes} min` : `${b.fromMinutes}+ min`;

/** Figures measured by the bench (medians over runs). */
export interface Measured {
  /** Seconds of 1080p source encoded into the whole ladder per vCPU-second. */
  throughputPerVcpu: number;
  /** A chunk job's time outside ffmpeg: source open, segment uploads, probes, records. */
  jobOverheadSeconds: number;
  /** Upload complete → plan written (S3 event, ffprobe over HTTP ranges, plan). */
  probePlanSeconds: number;
  /** The opening done (in ingest) → first queued job running (SendMessageBatch, queue, poller). */
  dispatchSeconds: number;
  /** Last job done → published (publish message, playlists, master, ready record). */
  publishSeconds: number;
  /** The opening done → published by ingest itself (playlists, master, playable record). */
  openingPublishSeconds: number;
}

export interface Scenario {
  sourceSeconds: number;
  concurrency: number;
  /** Length of a full chunk. */
  chunkSeconds: number;
  /** Every chunk's length in order, if not all full (the planner's short opening chunks). */
  chunkLengths?: number[];
  memoryMb?: number;
}

export interface Prediction extends Required<Omit<Scenario, 'chunkLengths'>> {
  vcpus: number;
  chunks: number;
  /** One full chunk job (picture and sound), warm, seconds. */
  chunkJobSeconds: number;
  /** Upload complete → ready: publish after the last job. */
  readySeconds: number;
  /**
   * Upload complete → first playable: ingest (warm) probes, plans, encodes the opening with
   * its own vCPUs and publishes it, with no queue hop.
   */
  playableSeconds: number;
  gbSeconds: number;
  requests: number;
  usd: number;
  /** The chunk job would not fit in one invocation. */
  overTimeout: boolean;
}

export const vcpusFor = (memoryMb: number): number =>
  Math.min(LAMBDA.maxVcpus, memoryMb / LAMBDA.mbPerVcpu);

/** Workers the SQS event source runs `t` seconds after the first message, at most `cap`. */
export const workersAt = (t: number, cap: number): number =>
  Math.min(cap, Math.floor(LAMBDA.sqsInitialConcurrency + (LAMBDA.sqsRampPerMinute / 60) * t));

/**
 * List scheduling of jobs (in queue order) onto workers that appear as the event source
 * scales up; each worker's first job pays a cold start. Returns each job's end time and how
 * many workers (cold starts) it took.
 */
export function schedule(durations: number[], cap: number): { ends: number[]; workers: number } {
  const free: number[] = []; // time each existing worker becomes free
  const ends: number[] = [];
  for (const d of durations) {
    // The earliest of: an existing worker freeing up, or a new worker the ramp allows.
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      if (best < 0 || (free[i] ?? 0) < (free[best] ?? 0)) best = i;
    }
    const nextNew = free.length < cap ? newWorkerTime(free.length, cap) : Number.POSITIVE_INFINITY;
    const reuse = best >= 0 ? (free[best] ?? 0) : Number.POSITIVE_INFINITY;
    if (nextNew <= reuse) {
      const end = nextNew + ASSUMPTIONS.coldStartSeconds + d;
      free.push(end);
      ends.push(end);
    } else {
      const end = reuse + ASSUMPTIONS.warmStartSeconds + d;
      free[best] = end;
      ends.push(end);
    }
  }
  return { ends, workers: free.length };
}

/** When the event source allows the (n+1)-th worker. */
function newWorkerTime(n: number, cap: number): number {
  if (n < Math.min(cap, LAMBDA.sqsInitialConcurrency)) return 0;
  return ((n + 1 - LAMBDA.sqsInitialConcurrency) * 60) / LAMBDA.sqsRampPerMinute;
}

export function predict(m: Measured, s: Scenario): Prediction {
  const memoryMb = s.memoryMb ?? ASSUMPTIONS.transcodeMemoryMb;
  const vcpus = vcpusFor(memoryMb);
  const encode = (seconds: number) =>
    seconds / (m.throughputPerVcpu * vcpus) + m.jobOverheadSeconds;
  const lengths =
    s.chunkLengths ??
    Array.from({ length: Math.max(1, Math.ceil(s.sourceSeconds / s.chunkSeconds)) }, (_, i) =>
      Math.min(s.chunkSeconds, s.sourceSeconds - i * s.chunkSeconds),
    );
  const chunks = lengths.length;
  // Each chunk job encodes its stretch of the audio too: the throughput measured includes it.
  // Ingest (sized like a worker) encodes the opening itself, then sends the other jobs.
  const openingDone = m.probePlanSeconds + encode(lengths[0] ?? 0);
  const videoJobs = lengths.slice(1).map(encode);
  // In queue order: SQS hands jobs out roughly in the order they were sent.
  const { ends, workers } = schedule(videoJobs, s.concurrency);
  const before = openingDone + m.dispatchSeconds;
  const lastJob = ends.length > 0 ? before + Math.max(...ends) : openingDone;

  // Lambda bills the init phase of on-demand functions too: every cold start is paid for.
  const transcodeSeconds =
    encode(lengths[0] ?? 0) +
    videoJobs.reduce((a, b) => a + b, 0) +
    workers * ASSUMPTIONS.coldStartSeconds;
  const gbSeconds =
    (transcodeSeconds * memoryMb) / 1024 +
    (m.probePlanSeconds * memoryMb) / 1024 +
    (m.publishSeconds * ASSUMPTIONS.publishMemoryMb) / 1024;
  const requests = chunks + 2; // chunk jobs, ingest, publish
  return {
    sourceSeconds: s.sourceSeconds,
    concurrency: s.concurrency,
    chunkSeconds: s.chunkSeconds,
    memoryMb,
    vcpus,
    chunks,
    chunkJobSeconds: encode(s.chunkSeconds),
    readySeconds: lastJob + m.publishSeconds,
    playableSeconds: openingDone + m.openingPublishSeconds,
    gbSeconds,
    requests,
    usd: gbSeconds * LAMBDA.priceGbSecond + requests * LAMBDA.pricePerRequest,
    overTimeout: encode(s.chunkSeconds) + ASSUMPTIONS.coldStartSeconds > LAMBDA.timeoutSeconds,
  };
}

/** Longest source ONE invocation could take end to end (probe, encode, publish) in 15 min. */
export function singleLambdaMaxSeconds(m: Measured, memoryMb: number): number {
  const budget =
    LAMBDA.timeoutSeconds -
    ASSUMPTIONS.coldStartSeconds -
    m.probePlanSeconds -
    m.jobOverheadSeconds -
    m.publishSeconds;
  return Math.max(0, budget * m.throughputPerVcpu * vcpusFor(memoryMb));
}

/** Longest chunk a worker of `memoryMb` can encode inside the 15-minute limit. */
export function maxChunkSeconds(m: Measured, memoryMb: number): number {
  const budget = LAMBDA.timeoutSeconds - ASSUMPTIONS.coldStartSeconds - m.jobOverheadSeconds;
  return Math.max(0, budget * m.throughputPerVcpu * vcpusFor(memoryMb));
}
