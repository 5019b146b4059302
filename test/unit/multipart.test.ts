import { describe, expect, it } from 'vitest';
import {
  checkParts,
  isMultipart,
  listNumbers,
  MAX_OBJECT_BYTES,
  MAX_PART_BYTES,
  MAX_PARTS,
  MIN_PART_BYTES,
  partRange,
  planParts,
} from '../../functions/core/multipart.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('isMultipart', () => {
  it('uploads a source of exactly the threshold in one PUT, and one byte more in parts', () => {
    expect(isMultipart(100 * MiB, 100 * MiB)).toBe(false);
    expect(isMultipart(100 * MiB + 1, 100 * MiB)).toBe(true);
  });

  it('always uploads more than 5 GiB in parts, whatever the threshold says', () => {
    expect(isMultipart(5 * GiB + 1, 10 * GiB)).toBe(true);
    expect(isMultipart(5 * GiB, 10 * GiB)).toBe(false);
  });
});

describe('planParts', () => {
  it('cuts a source into parts of the preferred size, the last one shorter', () => {
    expect(planParts(12 * MiB + 345, 5 * MiB)).toEqual({
      size: 12 * MiB + 345,
      partSize: 5 * MiB,
      partCount: 3,
    });
  });

  it('makes no empty last part when the size is a whole number of parts', () => {
    expect(planParts(10 * MiB, 5 * MiB).partCount).toBe(2);
  });

  it('grows the parts, in whole MiB, when the preferred size would need over 10,000', () => {
    const plan = planParts(200 * GiB, 16 * MiB);
    expect(plan.partSize).toBe(21 * MiB);
    expect(plan.partSize % MiB).toBe(0);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(planParts(200 * GiB, 20 * MiB + 1).partSize).toBe(21 * MiB);
  });

  it('fits the largest object S3 holds into 10,000 parts of at most 5 GiB', () => {
    const plan = planParts(MAX_OBJECT_BYTES, MIN_PART_BYTES);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize).toBeLessThanOrEqual(MAX_PART_BYTES);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(MAX_OBJECT_BYTES);
  });

  it.each([0, -1, 1.5, Number.NaN, MAX_OBJECT_BYTES + 1, 2 ** 60])(
    'refuses the size %d',
    (size) => {
      expect(() => planParts(size, MIN_PART_BYTES)).toThrow(RangeError);
    },
  );

  it('refuses a part size S3 would not take', () => {
    expect(() => planParts(100 * MiB, MIN_PART_BYTES - 1)).toThrow(RangeError);
    expect(() => planParts(100 * MiB, MAX_PART_BYTES + 1)).toThrow(RangeError);
  });
});

describe('partRange', () => {
  const plan = planParts(12 * MiB + 345, 5 * MiB);

  it('gives each part its offset and exact length, the last the remainder', () => {
    expect([1, 2, 3].map((n) => partRange(plan, n))).toEqual([
      { offset: 0, size: 5 * MiB },
      { offset: 5 * MiB, size: 5 * MiB },
      { offset: 10 * MiB, size: 2 * MiB + 345 },
    ]);
  });

  it.each([0, 4, -1, 1.5, Number.NaN])('refuses the part number %d', (n) => {
    expect(() => partRange(plan, n)).toThrow(RangeError);
  });
});

describe('checkParts', () => {
  const plan = planParts(12 * MiB, 5 * MiB);
  const part = (partNumber: number, size: number) => ({
    partNumber,
    size,
    etag: `"e${partNumber}"`,
  });

  it('completes with every planned part, in order', () => {
    const check = checkParts(plan, [part(3, 2 * MiB), part(1, 5 * MiB), part(2, 5 * MiB)]);
    expect(check.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(check.missing).toEqual([]);
    expect(check.wrongSize).toEqual([]);
  });

  it('names the parts that are missing', () => {
    expect(checkParts(plan, [part(2, 5 * MiB)]).missing).toEqual([1, 3]);
  });

  it('names a part of another length than planned', () => {
    expect(
      checkParts(plan, [part(1, 5 * MiB), part(2, 4 * MiB), part(3, 2 * MiB)]).wrongSize,
    ).toEqual([{ partNumber: 2, size: 4 * MiB, expected: 5 * MiB }]);
  });

  it('leaves out parts beyond the plan', () => {
    const check = checkParts(plan, [
      part(1, 5 * MiB),
      part(2, 5 * MiB),
      part(3, 2 * MiB),
      part(4, 1),
    ]);
    expect(check.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
  });
});

describe('listNumbers', () => {
  it('lists a few numbers and counts the rest', () => {
    expect(listNumbers([1, 2, 3])).toBe('1, 2, 3');
    expect(listNumbers([1, 2, 3, 4, 5], 2)).toBe('1, 2 and 3 more');
  });
});
