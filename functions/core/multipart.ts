/**
 * Resumable uploads: a source above the multipart threshold is uploaded in parts, each a
 * presigned UploadPart of an S3 multipart upload that the API started. The part plan is
 * chosen here, from the declared size alone, so the API, the client and the check before
 * completion agree on every part's number and exact length.
 */

/** S3 caps a single PUT, and so a presigned PUT upload, at 5 GiB. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** S3: every part but the last is at least 5 MiB (CompleteMultipartUpload: EntityTooSmall). */
export const MIN_PART_BYTES = 5 * 1024 ** 2;
/** S3: one part is at most 5 GiB. */
export const MAX_PART_BYTES = 5 * 1024 ** 3;
/** S3: part numbers run from 1 to 10,000. */
export const MAX_PARTS = 10_000;
/** S3: one object is at most 5 TiB, however it is uploaded. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;
/**
 * Days after which S3 aborts a multipart upload that was never completed, and deletes its
 * parts (the uploads bucket's lifecycle rule): how long a client can come back and resume.
 */
export const ABANDONED_UPLOAD_DAYS = 3;
/** Most part URLs presigned by one request, so one call's work (and response) stays small. */
export const MAX_PARTS_PER_REQUEST = 100;

const MIB = 1024 ** 2;

/** How a source of `size` bytes is cut: parts of `partSize`, the last one shorter or equal. */
export interface PartPlan {
  size: number;
  partSize: number;
  partCount: number;
}

/** Sizes above the threshold are uploaded in parts; so is anything S3 cannot take in one PUT. */
export const isMultipart = (size: number, thresholdBytes: number): boolean =>
  size > Math.min(thresholdBytes, MAX_SINGLE_PUT_BYTES);

/**
 * Parts of the preferred size, unless that would take more than 10,000 of them: then the
 * smallest whole number of MiB that fits the source into 10,000 parts.
 */
export function planParts(size: number, preferredPartBytes: number): PartPlan {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_OBJECT_BYTES) {
    throw new RangeError(`size must be a whole number of bytes from 1 to ${MAX_OBJECT_BYTES}`);
  }
  if (preferredPartBytes < MIN_PART_BYTES || preferredPartBytes > MAX_PART_BYTES) {
    throw new RangeError(`the part size must be from ${MIN_PART_BYTES} to ${MAX_PART_BYTES} bytes`);
  }
  const fitting = Math.ceil(Math.ceil(size / MAX_PARTS) / MIB) * MIB;
  const partSize = Math.max(preferredPartBytes, fitting);
  return { size, partSize, partCount: Math.ceil(size / partSize) };
}

/** Where part `partNumber` (1-based) starts in the source, and its exact length. */
export function partRange(plan: PartPlan, partNumber: number): { offset: number; size: number } {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
    throw new RangeError(`part number must be from 1 to ${plan.partCount}`);
  }
  const offset = (partNumber - 1) * plan.partSize;
  return { offset, size: Math.min(plan.partSize, plan.size - offset) };
}

/** A part as S3 lists it (ListParts). */
export interface UploadedPart {
  partNumber: number;
  size: number;
  etag: string;
}

export interface PartCheck {
  /** The parts to complete with, in order: exactly 1…partCount, each of its planned size. */
  parts: UploadedPart[];
  /** Planned parts S3 does not have. */
  missing: number[];
  /** Parts S3 has with another length than planned (a client sent the wrong bytes). */
  wrongSize: { partNumber: number; size: number; expected: number }[];
}

/**
 * Whether the uploaded parts make the planned source: every planned part present, each of
 * its planned length. Parts outside the plan are left out (S3 discards parts that a
 * completion does not name).
 */
export function checkParts(plan: PartPlan, uploaded: readonly UploadedPart[]): PartCheck {
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  const check: PartCheck = { parts: [], missing: [], wrongSize: [] };
  for (let n = 1; n <= plan.partCount; n++) {
    const part = byNumber.get(n);
    const expected = partRange(plan, n).size;
    if (!part) check.missing.push(n);
    else if (part.size !== expected)
      check.wrongSize.push({ partNumber: n, size: part.size, expected });
    else check.parts.push(part);
  }
  return check;
}

/** "1, 2, 3 and 12 more": a list of part numbers short enough for an error message. */
export function listNumbers(numbers: readonly number[], shown = 10): string {
  const head = numbers.slice(0, shown).join(', ');
  return numbers.length > shown ? `${head} and ${numbers.length - shown} more` : head;
}
