/**
 * Resumable uploads, the API's side (the part plan is core/multipart.ts). POST /videos
 * starts an S3 multipart upload for a source above the threshold; the client then asks for
 * part URLs as it goes (POST /videos/{id}/parts), lists the parts that arrived to resume
 * after a failure (GET /videos/{id}/parts) and completes (POST /videos/{id}/complete).
 *
 * The client only ever names its video: the object key comes from the video id, and the S3
 * upload id from a record that only the API reads. Part URLs are presigned on demand, not
 * all at once: each lives at most 15 minutes while a large upload takes hours, and 10,000
 * of them would not fit in one Lambda response (6 MB).
 */
import { z } from 'zod';
import type { Deps } from '../core/deps.js';
import { InvalidInputError, NotFoundError, UploadError } from '../core/errors.js';
import { isVideoId, keys } from '../core/keys.js';
import {
  ABANDONED_UPLOAD_DAYS,
  checkParts,
  listNumbers,
  MAX_PARTS,
  MAX_PARTS_PER_REQUEST,
  partRange,
  planParts,
  type UploadedPart,
} from '../core/multipart.js';
import { playbackView } from '../core/playback.js';
import type { MultipartRecord } from '../core/records.js';
import type { VideoView } from '../core/state.js';
import { readRecords } from '../core/video-state.js';
import { parseBody } from './parse.js';

/** POST /videos/{id}/parts: the parts to presign, a bounded batch of distinct numbers. */
export const presignPartsSchema = z.object({
  partNumbers: z
    .array(z.number().int().min(1).max(MAX_PARTS))
    .min(1)
    .max(MAX_PARTS_PER_REQUEST)
    .refine((n) => new Set(n).size === n.length, 'must not repeat a part number'),
});

/** What POST /videos returns for a source that comes in parts. */
export const multipartUploadSchema = z
  .object({
    partSize: z
      .int()
      .positive()
      .describe('Bytes of every part but the last; part n starts at (n - 1) × partSize.'),
    partCount: z.int().min(1).max(MAX_PARTS),
    expiresAt: z.iso
      .datetime()
      .describe(
        'Resume before this: S3 discards the parts of an upload left incomplete for longer.',
      ),
  })
  .meta({ id: 'MultipartUpload' });

export type MultipartUpload = z.infer<typeof multipartUploadSchema>;

/** One part's presigned PUT; its body must be exactly `size` bytes from `offset`. */
export const presignedPartSchema = z
  .object({
    partNumber: z.int().min(1).max(MAX_PARTS),
    url: z.url(),
    method: z.literal('PUT'),
    headers: z
      .record(z.string(), z.string())
      .describe('Send these headers with the PUT; the URL signs them.'),
    offset: z.int().nonnegative().describe("Where the part's bytes start in the source."),
    size: z.int().positive().describe('Exactly this many bytes: the URL signs the length.'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'PresignedPart' });

export type PresignedPart = z.infer<typeof presignedPartSchema>;

/** The answer to POST /videos/{id}/parts: one presigned PUT per part asked for. */
export const presignedPartsSchema = z
  .object({ parts: z.array(presignedPartSchema) })
  .meta({ id: 'PresignedParts' });

export type PresignedParts = z.infer<typeof presignedPartsSchema>;

/** The answer to GET /videos/{id}/parts. */
export const uploadedPartsSchema = z
  .object({
    ...multipartUploadSchema.shape,
    completed: z
      .boolean()
      .describe('The upload was completed (or S3 is completing it): nothing is left to send.'),
    parts: z
      .array(
        z.object({
          partNumber: z.int().min(1).max(MAX_PARTS),
          size: z.int().nonnegative(),
          etag: z.string(),
        }) satisfies z.ZodType<UploadedPart>,
      )
      .describe('The parts S3 holds, by number, with their size and ETag (empty once completed).'),
  })
  .meta({ id: 'UploadedParts' });

export type UploadedParts = z.infer<typeof uploadedPartsSchema>;

const DAY_MS = 86_400_000;

const resumableUntil = (r: MultipartRecord): string =>
  new Date(Date.parse(r.createdAt) + ABANDONED_UPLOAD_DAYS * DAY_MS).toISOString();

const summary = (r: MultipartRecord): MultipartUpload => ({
  partSize: r.partSize,
  partCount: r.partCount,
  expiresAt: resumableUntil(r),
});

/**
 * Whether S3 may have discarded the upload: only the lifecycle rule aborts one, and not
 * before this age. A younger upload that S3 no longer knows was completed, perhaps by a
 * request still running (S3 can take a while to join many parts).
 */
const mayBeDiscarded = (deps: Deps, r: MultipartRecord): boolean =>
  deps.clock.now().getTime() >= Date.parse(resumableUntil(r));

const expired = () =>
  new UploadError(
    'UPLOAD_EXPIRED',
    `the upload was left incomplete for over ${ABANDONED_UPLOAD_DAYS} days and its parts are gone: create the video again`,
  );

/** Called by POST /videos: the S3 upload starts now, its id is kept in a write-once record. */
export async function startMultipartUpload(
  deps: Deps,
  id: string,
  input: { size: number; contentType: string },
): Promise<MultipartUpload> {
  const bucket = deps.config.UPLOADS_BUCKET;
  const plan = planParts(input.size, deps.config.SPOOL_MULTIPART_PART_BYTES);
  const uploadId = await deps.store.createMultipartUpload(bucket, keys.source(id), {
    contentType: input.contentType,
  });
  const record: MultipartRecord = {
    uploadId,
    ...plan,
    createdAt: deps.clock.now().toISOString(),
  };
  await deps.store.putJson(bucket, keys.multipart(id), record, { ifNoneMatch: true });
  return summary(record);
}

async function multipartOf(deps: Deps, id: string): Promise<MultipartRecord> {
  const record = isVideoId(id)
    ? await deps.store.getJson<MultipartRecord>(deps.config.UPLOADS_BUCKET, keys.multipart(id))
    : undefined;
  if (!record) throw new NotFoundError('no such video, or it is not uploaded in parts');
  return record;
}

const isUploaded = async (deps: Deps, id: string): Promise<boolean> =>
  (await deps.store.head(deps.config.UPLOADS_BUCKET, keys.source(id))) !== undefined;

/** POST /videos/{id}/parts `{"partNumbers": [..]}`: a presigned PUT for each. */
export async function presignParts(deps: Deps, id: string, body: unknown): Promise<PresignedParts> {
  const { partNumbers } = parseBody(presignPartsSchema, body);
  const record = await multipartOf(deps, id);
  const beyond = partNumbers.filter((n) => n > record.partCount);
  if (beyond.length > 0) {
    throw new InvalidInputError(
      `partNumbers: this upload has parts 1 to ${record.partCount}, not ${listNumbers(beyond)}`,
    );
  }
  if (await isUploaded(deps, id)) {
    throw new UploadError('UPLOAD_COMPLETED', 'the upload is complete: there is nothing to send');
  }
  const expiresIn = deps.config.SPOOL_PRESIGN_SECONDS;
  const expiresAt = new Date(deps.clock.now().getTime() + expiresIn * 1000).toISOString();
  const parts = await Promise.all(
    partNumbers.map(async (partNumber): Promise<PresignedPart> => {
      const { offset, size } = partRange(record, partNumber);
      const url = await deps.store.presignUploadPart(deps.config.UPLOADS_BUCKET, keys.source(id), {
        uploadId: record.uploadId,
        partNumber,
        contentLength: size,
        expiresIn,
      });
      // Content-Length is signed: HTTP clients set it from the body themselves.
      return { partNumber, url, method: 'PUT', headers: {}, offset, size, expiresAt };
    }),
  );
  return { parts };
}

/** GET /videos/{id}/parts: what has arrived, so a client sends only the rest. */
export async function listUploadedParts(deps: Deps, id: string): Promise<UploadedParts> {
  const record = await multipartOf(deps, id);
  const parts = await deps.store.listParts(
    deps.config.UPLOADS_BUCKET,
    keys.source(id),
    record.uploadId,
  );
  if (parts) {
    return {
      ...summary(record),
      completed: false,
      parts: parts.filter((p) => p.partNumber <= record.partCount),
    };
  }
  if (!mayBeDiscarded(deps, record) || (await isUploaded(deps, id))) {
    return { ...summary(record), completed: true, parts: [] };
  }
  throw expired();
}

/**
 * POST /videos/{id}/complete: S3 joins the parts it lists, once each planned part is there
 * with its planned length; the source's ObjectCreated event then starts ingest. Completing
 * again answers the same, and does nothing. If the function times out while S3 joins a
 * large upload, S3 still finishes it, and the client's retry finds it done.
 */
export async function completeUpload(deps: Deps, id: string): Promise<VideoView> {
  const record = await multipartOf(deps, id);
  const bucket = deps.config.UPLOADS_BUCKET;
  const key = keys.source(id);
  if (!(await isUploaded(deps, id))) {
    const listed = await deps.store.listParts(bucket, key, record.uploadId);
    // Gone: completed by a request that raced this one, or discarded.
    if (!listed && mayBeDiscarded(deps, record) && !(await isUploaded(deps, id))) {
      throw expired();
    }
    if (listed) {
      const { parts, missing, wrongSize } = checkParts(record, listed);
      if (missing.length > 0) {
        throw new UploadError('UPLOAD_INCOMPLETE', `parts missing: ${listNumbers(missing)}`);
      }
      const [wrong] = wrongSize;
      if (wrong) {
        throw new UploadError(
          'UPLOAD_INCOMPLETE',
          `part ${wrong.partNumber} is ${wrong.size} bytes, not ${wrong.expected}: send it again`,
        );
      }
      const result = await deps.store.completeMultipartUpload(bucket, key, record.uploadId, parts);
      if (result === 'invalid-parts') {
        throw new UploadError(
          'UPLOAD_INCOMPLETE',
          'a part was sent again while the upload was being completed: complete it again',
        );
      }
      if (result === 'gone' && mayBeDiscarded(deps, record) && !(await isUploaded(deps, id))) {
        throw expired();
      }
      if (result === 'completed') {
        deps.logger.info('multipart upload completed', { videoId: id, parts: parts.length });
      }
    }
  }
  const records = await readRecords(deps, id);
  if (!records) throw new NotFoundError('no such video');
  return playbackView(deps, records);
}

/**
 * For DELETE /videos/{id}: a source still coming in parts has its upload aborted, so its
 * parts stop costing storage now rather than when the lifecycle rule runs, and a part sent
 * after the delete is refused (NoSuchUpload). Best effort: that rule aborts the upload
 * within ABANDONED_UPLOAD_DAYS anyway, so a failure here is logged and the delete goes on.
 * Called before the delete removes the video's records, one of which names the upload.
 */
export async function abortOpenUpload(
  deps: Pick<Deps, 'store' | 'config' | 'logger'>,
  id: string,
): Promise<void> {
  const bucket = deps.config.UPLOADS_BUCKET;
  const record = await deps.store.getJson<MultipartRecord>(bucket, keys.multipart(id));
  if (!record) return;
  try {
    const result = await deps.store.abortMultipartUpload(bucket, keys.source(id), record.uploadId);
    if (result === 'aborted') deps.logger.info('multipart upload aborted', { videoId: id });
  } catch (err) {
    deps.logger.warn('multipart upload not aborted: the lifecycle rule will', {
      videoId: id,
      error: String(err),
    });
  }
}
