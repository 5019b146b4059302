/**
 * Issue 11 item 5: time to playable and time to ready for each of Mux's source-length
 * buckets, beside Mux's published medians. The bench's own source is measured, in the bucket
 * its length falls in; every other bucket is modeled on Lambda (bench/model.ts) at a
 * typical length for it.
 */
import { num, table } from './format.js';
import { bucketLabel, type PublishBucket } from './model.js';

export interface Timed {
  playableSeconds: number;
  readySeconds: number;
}

export interface BucketCell {
  seconds: number;
  how: 'measured' | 'modeled';
}

export interface BucketRow {
  bucket: PublishBucket;
  /** The length the row is about: the bench's own source, or the bucket's typical length. */
  sourceSeconds: number;
  /** That length is the bench's own source, measured here. */
  benchSource: boolean;
  playable: BucketCell;
  ready: BucketCell;
  /** The model's figures for that length, measured row or not. */
  modeled: Timed;
}

/** The middle of the bucket; for the open-ended last one, 1.5 times its start (60+ → 90 min). */
export function typicalSeconds(b: PublishBucket): number {
  const minutes = Number.isFinite(b.toMinutes)
    ? (b.fromMinutes + b.toMinutes) / 2
    : 1.5 * b.fromMinutes;
  return minutes * 60;
}

/** Mux's buckets include their start: a 60 s video is in 1–5 min. */
export const inBucket = (b: PublishBucket, seconds: number): boolean =>
  seconds >= b.fromMinutes * 60 && seconds < b.toMinutes * 60;

export function bucketRows(opts: {
  buckets: readonly PublishBucket[];
  /** The bench's source: its length and the medians measured on this machine. */
  measured?: { sourceSeconds: number } & Timed;
  /** The model's prediction for a source of that many seconds. */
  model: (sourceSeconds: number) => Timed;
}): BucketRow[] {
  return opts.buckets.map((bucket) => {
    const own =
      opts.measured && inBucket(bucket, opts.measured.sourceSeconds) ? opts.measured : undefined;
    const sourceSeconds = own?.sourceSeconds ?? typicalSeconds(bucket);
    const modeled = opts.model(sourceSeconds);
    // A figure the runs did not give (nothing was published early) falls back to the model.
    const cell = (key: keyof Timed): BucketCell => {
      const value = own?.[key];
      return value !== undefined && Number.isFinite(value)
        ? { seconds: value, how: 'measured' }
        : { seconds: modeled[key], how: 'modeled' };
    };
    return {
      bucket,
      sourceSeconds,
      benchSource: own !== undefined,
      playable: cell('playableSeconds'),
      ready: cell('readySeconds'),
      modeled,
    };
  });
}

/** "30 s" under a minute, "12.5 min" from there on. */
const length = (seconds: number): string =>
  seconds < 60 ? `${Number(seconds.toFixed(1))} s` : `${Number((seconds / 60).toFixed(1))} min`;
const shown = (c: BucketCell): string => `${num(c.seconds, 1)} ${c.how}`;

export function bucketReport(
  rows: BucketRow[],
  context: { cores: number; workers: number; memoryMb: number; muxSource: string },
): string {
  const header = [
    'source length',
    'length used',
    'playable s',
    'ready s',
    'Mux median s, all inputs',
    'standard input',
  ];
  const body = rows.map((r) => [
    bucketLabel(r.bucket),
    `${length(r.sourceSeconds)} (${r.benchSource ? "the bench's source" : 'typical'})`,
    shown(r.playable),
    shown(r.ready),
    num(r.bucket.medianSeconds, 1),
    num(r.bucket.standardMedianSeconds, 1),
  ]);
  const own = rows.find((r) => r.benchSource);
  return [
    '## By source length, beside Mux (issue 11 item 5)',
    '',
    table([header, ...body]),
    `measured: the bench's source through the local stack on this machine (${context.cores} cores), ` +
      'medians over runs, from the PUT completing.',
    `modeled: bench/model.ts on AWS Lambda, ${context.workers} workers of ${context.memoryMb} MB, from ` +
      'upload complete, at the middle of the bucket (90 min for 60+).',
    "Mux: median time to publish per bucket, over all inputs and over Mux's standard input " +
      `(${context.muxSource}). Mux publishes a video when it can be played and encodes the rest ` +
      'just in time, so its figure is closest to "playable".',
    ...(own
      ? [
          `The model for the bench's own ${length(own.sourceSeconds)}: playable ` +
            `${num(own.modeled.playableSeconds, 1)} s, ready ${num(own.modeled.readySeconds, 1)} s.`,
        ]
      : []),
  ].join('\n');
}
