/** The scale-model section of the bench output. */

import type { MediaInfo } from '../functions/core/media.js';
import { MIN_CHUNK_SECONDS, makePlan } from '../functions/core/plan.js';
import { median, type RunFigures, chunkSeconds as secondsOfChunk } from './analyze.js';
import { num, table } from './format.js';
import {
  ANCHORS,
  ASSUMPTIONS,
  bucketLabel,
  LAMBDA,
  type Measured,
  MUX_TIME_TO_PUBLISH,
  maxChunkSeconds,
  type Prediction,
  predict,
  singleLambdaMaxSeconds,
  vcpusFor,
} from './model.js';

const f = num;

const med = (runs: RunFigures[], get: (r: RunFigures) => number | undefined): number =>
  median(runs.map(get).filter((v): v is number => v !== undefined));

export function measuredInputs(runs: RunFigures[], baselineThroughput: number[]): Measured {
  const pipeline = med(runs, (r) => r.throughputPerVcpu);
  return {
    throughputPerVcpu: Number.isFinite(pipeline) ? pipeline : median(baselineThroughput),
    jobOverheadSeconds: med(runs, (r) => r.jobOverheadSeconds) || 0,
    probePlanSeconds: med(runs, (r) => r.probePlanSeconds) || 0,
    dispatchSeconds: med(runs, (r) => r.dispatchSeconds) || 0,
    publishSeconds: med(runs, (r) => r.publishSeconds) || 0,
    openingPublishSeconds: med(runs, (r) => r.firstPublishSeconds) || 0,
  };
}

/**
 * The jobs the pipeline's own planner makes of a `seconds`-long 1080p30 source: the chunk
 * lengths (it opens with shorter chunks so the first segments are ready sooner).
 */
export function plannedJobs(
  seconds: number,
  segmentSeconds: number,
  chunkSegments: number,
  workers?: number,
): { chunkLengths: number[] } {
  const info: MediaInfo = {
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: seconds,
    streamCount: 2,
    mediaStreamCount: 2,
    video: {
      streamIndex: 0,
      codec: 'h264',
      width: 1920,
      height: 1080,
      frameRate: { num: 30, den: 1 },
      variableFrameRate: false,
      startOffset: 0,
      startTime: 0,
    },
    audio: { streamIndex: 1, codec: 'aac', channels: 2, sampleRate: 48_000 },
  };
  const plan = makePlan('model0000000000000000', info, {
    segmentSeconds,
    chunkSegments,
    x264Preset: 'veryfast',
    ...(workers === undefined ? {} : { workers }),
  });
  return { chunkLengths: plan.chunks.map((c) => secondsOfChunk(plan, c.index)) };
}

/** The model fed with this bench's measurements. */
export interface ScaleModel {
  measured: Measured;
  /** Seconds of source per CPU-second of the one-process baseline (median), for comparison. */
  baselineThroughput: number;
  segmentSeconds: number;
  chunkSegments: number;
  /**
   * A 1080p source of `sourceSeconds` cut as the pipeline's planner cuts it for `concurrency`
   * workers (so shorter chunks when there are more workers than chunks), on that many
   * workers; or with full chunks of exactly `segments` segments.
   */
  predict(
    sourceSeconds: number,
    concurrency: number,
    options?: { segments?: number; memoryMb?: number },
  ): Prediction;
}

export function scaleModel(opts: {
  runs: RunFigures[];
  segmentSeconds: number;
  chunkSegments: number;
  baselineThroughput: number[];
}): ScaleModel {
  const measured = measuredInputs(opts.runs, opts.baselineThroughput);
  const { segmentSeconds, chunkSegments } = opts;
  return {
    measured,
    baselineThroughput: median(opts.baselineThroughput),
    segmentSeconds,
    chunkSegments,
    predict: (sourceSeconds, concurrency, options = {}) => {
      const planned = plannedJobs(
        sourceSeconds,
        segmentSeconds,
        options.segments ?? chunkSegments,
        options.segments === undefined ? concurrency : undefined,
      );
      // The full chunk: the longest the planner made.
      const full = Math.max(...planned.chunkLengths);
      return predict(measured, {
        sourceSeconds,
        concurrency,
        chunkSeconds: options.segments === undefined ? full : segmentSeconds * options.segments,
        ...planned,
        ...(options.memoryMb ? { memoryMb: options.memoryMb } : {}),
      });
    },
  };
}

/** Workers of the headline figures: the default concurrency limit of an AWS account. */
export const HEADLINE_WORKERS = 1000;

/** An hour of 1080p at 1000 workers: issue 11's "ready ≤ 60 s" (the `ready_60min_s` line). */
export const hourOfVideo = (model: ScaleModel): Prediction => model.predict(3600, HEADLINE_WORKERS);

export function modelReport(model: ScaleModel): string {
  const m = model.measured;
  const { segmentSeconds, chunkSegments } = model;
  const chunkSeconds = segmentSeconds * chunkSegments;
  const mem = ASSUMPTIONS.transcodeMemoryMb;
  const out: string[] = [
    '## Scale model: AWS Lambda (bench/model.ts)',
    '',
    'Measured here (medians):',
    `  ladder encode ${f(m.throughputPerVcpu, 3)} source-s per CPU-s in the chunk jobs' ffmpeg ` +
      `(${f(model.baselineThroughput, 3)} in the one-process baseline)`,
    `  chunk-job time outside ffmpeg ${f(m.jobOverheadSeconds, 2)} s; probe+plan ${f(m.probePlanSeconds, 2)} s; ` +
      `opening done→first job ${f(m.dispatchSeconds, 2)} s; opening done→published ${f(m.openingPublishSeconds, 2)} s; ` +
      `last job→published ${f(m.publishSeconds, 2)} s`,
    `Lambda: ${mem} MB = ${f(mem / LAMBDA.mbPerVcpu, 2)} vCPU (1 per ${LAMBDA.mbPerVcpu} MB, max ${LAMBDA.maxVcpus} at ${LAMBDA.maxMemoryMb} MB); ` +
      `$${LAMBDA.priceGbSecond}/GB-s + $${(LAMBDA.pricePerRequest * 1e6).toFixed(2)}/1M requests (x86, us-east-1)`,
    `  price: ${LAMBDA.priceSource}`,
    '',
  ];

  const rows = [
    [
      'source',
      'workers',
      'chunk s',
      'chunks',
      'chunk job s',
      'ready s',
      'playable s',
      'GB-s',
      'USD',
    ],
  ];
  for (const minutes of [1, 10, 60]) {
    for (const concurrency of [100, 1000]) {
      const p = model.predict(minutes * 60, concurrency);
      rows.push([
        `${minutes} min`,
        String(concurrency),
        f(p.chunkSeconds, 0),
        String(p.chunks),
        f(p.chunkJobSeconds),
        f(p.readySeconds),
        f(p.playableSeconds),
        f(p.gbSeconds, 0),
        `$${p.usd.toFixed(3)}`,
      ]);
    }
  }
  out.push(
    `1080p, chunks of ${chunkSeconds} s, or down to ${MIN_CHUNK_SECONDS} s where workers outnumber them ` +
      `(after the planner's opening ones: ` +
      `${plannedJobs(3600, segmentSeconds, chunkSegments)
        .chunkLengths.slice(0, 5)
        .map((c) => f(c, 0))
        .join(', ')}, … s), ${mem} MB workers, times from upload complete:`,
    table(rows),
    '  each chunk job encodes its picture in every rung and its stretch of the sound',
    '',
  );

  const sweep = [
    [
      'chunk s',
      'jobs',
      'job s',
      'encode share',
      'ready s @100',
      'ready s @1000',
      'playable s',
      'USD',
    ],
  ];
  for (const L of [6, 12, 30, 60, 120, 300]) {
    const segments = Math.max(1, Math.round(L / segmentSeconds));
    const a = model.predict(3600, 100, { segments });
    const b = model.predict(3600, HEADLINE_WORKERS, { segments });
    const encode = L / (m.throughputPerVcpu * a.vcpus);
    sweep.push([
      `${L}${a.overTimeout ? ' (>15 min)' : ''}`,
      String(a.chunks),
      f(a.chunkJobSeconds),
      `${f((100 * encode) / (encode + m.jobOverheadSeconds + ASSUMPTIONS.coldStartSeconds), 0)}%`,
      f(a.readySeconds),
      f(b.readySeconds),
      f(b.playableSeconds),
      `$${b.usd.toFixed(3)}`,
    ]);
  }
  out.push(`Chunk length, 60 min source, ${mem} MB workers:`, table(sweep), '');

  const hour = hourOfVideo(model);
  const big = model.predict(3600, HEADLINE_WORKERS, { memoryMb: LAMBDA.maxMemoryMb });
  out.push(
    `First playable (warm ingest; its length does not matter): ${f(hour.playableSeconds)} s ` +
      `with ingest at ${mem} MB, ${f(big.playableSeconds)} s at ${LAMBDA.maxMemoryMb} MB (ingestMemoryMb) ` +
      `(probe+plan ${f(m.probePlanSeconds)} s, the 2 s opening's encode at ${f(vcpusFor(mem), 1)} or ` +
      `${f(vcpusFor(LAMBDA.maxMemoryMb), 1)} vCPUs, its publish ${f(m.openingPublishSeconds)} s; a cold ingest adds ` +
      `~${ASSUMPTIONS.coldStartSeconds} s).`,
    '',
  );
  const one = (mb: number) => singleLambdaMaxSeconds(m, mb) / 60;
  const p1 = model.predict(60, HEADLINE_WORKERS);
  out.push(
    'Anchors:',
    `  Mux, median time to publish (playable; Mux encodes just in time), all inputs: ` +
      `${MUX_TIME_TO_PUBLISH.map((b) => `${f(b.medianSeconds, 1)} s for ${bucketLabel(b)}`).join(', ')} ` +
      `(${ANCHORS.muxSource}); the duration-bucket table below sets them beside Spool's.`,
    `  Spool predicted at ${HEADLINE_WORKERS} workers: 60 min → ready ${f(hour.readySeconds)} s, playable ` +
      `${f(hour.playableSeconds)} s; 1 min → ready ${f(p1.readySeconds)} s, playable ${f(p1.playableSeconds)} s.`,
    `  One Lambda doing everything within ${LAMBDA.timeoutSeconds / 60} min (no chunks): at most ${f(one(mem))} min of 1080p ` +
      `at ${mem} MB, ${f(one(LAMBDA.maxMemoryMb))} min at ${LAMBDA.maxMemoryMb} MB (if x264 scaled linearly to ` +
      `${LAMBDA.maxVcpus} vCPUs), ready after ~15 min; the longest chunk one worker can take: ${f(maxChunkSeconds(m, mem) / 60)} min at ${mem} MB.`,
    '',
    'Assumptions: ffmpeg keeps every vCPU it gets busy, at the CPU-time throughput measured on',
    "this machine (its cores may be faster or slower than Lambda's); every new worker pays a",
    `${ASSUMPTIONS.coldStartSeconds} s cold start (billed), warm ones none; the SQS event source starts ${LAMBDA.sqsInitialConcurrency} workers and adds`,
    `${LAMBDA.sqsRampPerMinute}/min (${LAMBDA.sqsScalingSource}), up to the worker cap,`,
    "which the account's concurrency limit (1000 by default, often less on new accounts) must allow;",
    `SQS hand-off, segment uploads and publish as measured locally (publish independent of length);`,
    'ingest and publish at 1024 and 512 MB; S3, SQS, CloudFront and transfer costs not included.',
    'Chunk length: every job pays a fixed cost (cold start, source open, seek and decode from the',
    'previous keyframe, probes, record writes), a larger share of a short chunk; long chunks leave',
    'workers idle (fewer jobs than workers), delay the first playable segment and must finish',
    'within 15 minutes. With enough workers, ready ≈ fixed costs + scale-up + one chunk job, so',
    'the best chunk is the shortest whose fixed cost stays small: 12-30 s at 3008 MB.',
  );
  return out.join('\n');
}
