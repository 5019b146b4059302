import { describe, expect, it } from 'vitest';
import { bucketReport, bucketRows, inBucket, typicalSeconds } from '../../bench/buckets.js';
import { MUX_TIME_TO_PUBLISH, type PublishBucket } from '../../bench/model.js';

/** A model that is easy to tell apart from any measurement: playable 1% and ready 10% of the length. */
const model = (seconds: number) => ({ playableSeconds: seconds / 100, readySeconds: seconds / 10 });
const bucket = (fromMinutes: number, toMinutes: number): PublishBucket => ({
  fromMinutes,
  toMinutes,
  medianSeconds: 1,
  standardMedianSeconds: 1,
});

describe('typicalSeconds', () => {
  it('is the middle of a bounded bucket', () => {
    expect(typicalSeconds(bucket(0, 1))).toBe(30);
    expect(typicalSeconds(bucket(1, 5))).toBe(180);
    expect(typicalSeconds(bucket(20, 60))).toBe(2400);
  });

  it('is 1.5 times the start of the open-ended bucket', () => {
    expect(typicalSeconds(bucket(60, Number.POSITIVE_INFINITY))).toBe(5400);
  });
});

describe('inBucket', () => {
  it('puts a length on a boundary into the bucket that starts there', () => {
    expect(inBucket(bucket(0, 1), 60)).toBe(false);
    expect(inBucket(bucket(1, 5), 60)).toBe(true);
    expect(inBucket(bucket(60, Number.POSITIVE_INFINITY), 10 * 3600)).toBe(true);
  });
});

describe('bucketRows', () => {
  it('measures the bench source’s bucket and models every other at its typical length', () => {
    const rows = bucketRows({
      buckets: MUX_TIME_TO_PUBLISH,
      measured: { sourceSeconds: 30, playableSeconds: 7.8, readySeconds: 20.1 },
      model,
    });

    expect(rows.map((r) => r.sourceSeconds)).toEqual([30, 180, 750, 2400, 5400]);
    expect(rows[0]).toMatchObject({
      benchSource: true,
      playable: { seconds: 7.8, how: 'measured' },
      ready: { seconds: 20.1, how: 'measured' },
      modeled: { playableSeconds: 0.3, readySeconds: 3 },
    });
    for (const r of rows.slice(1)) {
      expect(r.benchSource).toBe(false);
      expect(r.playable).toEqual({ seconds: r.sourceSeconds / 100, how: 'modeled' });
      expect(r.ready).toEqual({ seconds: r.sourceSeconds / 10, how: 'modeled' });
    }
  });

  it('measures a longer bench source in its own bucket', () => {
    const rows = bucketRows({
      buckets: MUX_TIME_TO_PUBLISH,
      measured: { sourceSeconds: 120, playableSeconds: 8, readySeconds: 60 },
      model,
    });

    expect(rows.map((r) => r.benchSource)).toEqual([false, true, false, false, false]);
    expect(rows[0]?.ready).toEqual({ seconds: 3, how: 'modeled' });
    expect(rows[1]).toMatchObject({ sourceSeconds: 120, ready: { seconds: 60, how: 'measured' } });
  });

  it('models a cell the runs did not measure, and keeps the one they did', () => {
    const rows = bucketRows({
      buckets: MUX_TIME_TO_PUBLISH,
      measured: { sourceSeconds: 30, playableSeconds: Number.NaN, readySeconds: 20.1 },
      model,
    });

    expect(rows[0]?.playable).toEqual({ seconds: 0.3, how: 'modeled' });
    expect(rows[0]?.ready).toEqual({ seconds: 20.1, how: 'measured' });
  });

  it('models every bucket when nothing was measured', () => {
    const rows = bucketRows({ buckets: MUX_TIME_TO_PUBLISH, model });

    expect(rows.every((r) => r.playable.how === 'modeled' && r.ready.how === 'modeled')).toBe(true);
  });
});

describe('bucketReport', () => {
  it('marks each cell and sets Mux’s medians beside them, one line per bucket', () => {
    const rows = bucketRows({
      buckets: MUX_TIME_TO_PUBLISH,
      measured: { sourceSeconds: 30, playableSeconds: 7.8, readySeconds: 20.1 },
      model,
    });

    const text = bucketReport(rows, { cores: 2, workers: 1000, memoryMb: 3008, muxSource: 'mux' });
    const line = (label: string) => text.split('\n').find((l) => l.startsWith(label)) ?? '';

    expect(line('0–1 min')).toMatch(
      /30 s \(the bench's source\)\s+7\.8 measured\s+20\.1 measured\s+2\.0\s+1\.8$/,
    );
    expect(line('5–20 min')).toMatch(
      /12\.5 min \(typical\)\s+7\.5 modeled\s+75\.0 modeled\s+9\.0\s+5\.5$/,
    );
    expect(line('60+ min')).toMatch(
      /90 min \(typical\)\s+54\.0 modeled\s+540\.0 modeled\s+93\.5\s+50\.1$/,
    );
    expect(text).toContain("The model for the bench's own 30 s: playable 0.3 s, ready 3.0 s.");
  });
});
