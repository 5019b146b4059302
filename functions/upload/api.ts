/**
 * The upload API's use cases: create a video (and its presigned PUT), read one, list them,
 * delete one.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { MAX_CAPTION_BYTES } from '../core/captions.js';
import {
  type DeletionDeps,
  removeDeleted,
  requestPurge,
  type Tombstone,
  tombstoneOf,
} from '../core/deletion.js';
import type { Deps } from '../core/deps.js';
import { InvalidInputError, NotFoundError, PayloadTooLargeError } from '../core/errors.js';
import { isVideoId, keys, VIDEO_ID_PATTERN, videoIdFromIndexKey } from '../core/keys.js';
import { isMultipart } from '../core/multipart.js';
import { playbackView } from '../core/playback.js';
import type { VideoRecord } from '../core/records.js';
import { type VideoView, videoViewSchema } from '../core/state.js';
import { readRecords } from '../core/video-state.js';
import { abortOpenUpload, multipartUploadSchema, startMultipartUpload } from './multipart.js';
import { parseBody } from './parse.js';

/**
 * Text a person typed, kept as metadata or shown in a player's menu: any script, emoji
 * sequences and direction marks, but no control characters or line breaks (a newline in a
 * label would start a new playlist tag) and no bidi overrides (which make a name read as
 * something else).
 */
const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(
      /^[^\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]*$/u,
      'must not contain control characters, line breaks or direction overrides',
    );

const captionSchema = z.object({
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag such as en or pt-BR'),
  label: displayText(64).optional(),
  format: z.enum(['srt', 'vtt']),
  size: z.number().int().positive().max(MAX_CAPTION_BYTES),
});

export const createVideoSchema = z.object({
  filename: displayText(255).describe('Kept as metadata only; the server chooses the key.'),
  // Any media type, or none: the probe decides what the upload is (an MXF comes as
  // application/mxf, many clients send application/octet-stream). Only its shape is checked,
  // since it is signed into the upload URL as a header. Upper case is spelt out rather than
  // given as the `i` flag, which a JSON Schema `pattern` cannot carry into the API reference.
  contentType: z
    .string()
    .regex(
      /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/,
      'must be a media type such as video/mp4',
    )
    .max(127)
    .default('application/octet-stream'),
  size: z.number().int().positive().describe('Exact length in bytes; the upload URL signs it.'),
  captions: z
    .array(captionSchema)
    .max(8)
    .refine((c) => new Set(c.map((x) => x.language)).size === c.length, 'languages must differ')
    .optional()
    .describe('Caption sidecars to upload with the video, one per language.'),
});

const presignedUploadSchema = z.object({
  url: z.url(),
  method: z.literal('PUT'),
  headers: z
    .record(z.string(), z.string())
    .describe('Send these headers with the PUT; the URL signs them.'),
  expiresAt: z.iso.datetime(),
});

/**
 * The answer to `POST /videos`: `upload` for a source up to the multipart threshold,
 * `multipart` for a larger one, never both.
 */
export const createdVideoSchema = z
  .object({
    id: z.string().regex(VIDEO_ID_PATTERN),
    upload: presignedUploadSchema
      .optional()
      .describe('Sources up to the multipart threshold: one presigned PUT.'),
    multipart: multipartUploadSchema
      .optional()
      .describe(
        'Larger sources: a resumable upload in parts. Ask for part URLs with ' +
          '`POST /videos/{id}/parts`, then `POST /videos/{id}/complete`.',
      ),
    captions: z
      .array(z.object({ language: z.string(), upload: presignedUploadSchema }))
      .optional()
      .describe('One upload per declared caption sidecar; upload them before the video.'),
  })
  .meta({ id: 'CreatedVideo' });

export type CreatedVideo = z.infer<typeof createdVideoSchema>;

const CAPTION_TYPES = { srt: 'application/x-subrip', vtt: 'text/vtt' } as const;

const newId = (): string => {
  // 20 base-32 characters (100 random bits); lower case so it is safe in any URL or key.
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => alphabet[b % 32]).join('');
};

export async function createVideo(deps: Deps, body: unknown): Promise<CreatedVideo> {
  const input = parseBody(createVideoSchema, body);
  const max = deps.config.SPOOL_MAX_UPLOAD_BYTES;
  if (input.size > max) {
    throw new PayloadTooLargeError(`size ${input.size} is over the maximum of ${max} bytes`);
  }
  const id = newId();
  const now = deps.clock.now();
  const bucket = deps.config.UPLOADS_BUCKET;
  const record: VideoRecord = {
    id,
    createdAt: now.toISOString(),
    // The filename is kept as metadata only; the object key is always ours.
    filename: input.filename,
    contentType: input.contentType,
    size: input.size,
    captions: input.captions?.map((c) => ({ ...c, label: c.label ?? c.language })),
  };
  await deps.store.putJson(bucket, keys.video(id), record, { ifNoneMatch: true });
  await deps.store.putJson(bucket, keys.index(id, now.getTime()), { id });
  const expiresIn = deps.config.SPOOL_PRESIGN_SECONDS;
  const expiresAt = new Date(now.getTime() + expiresIn * 1000).toISOString();
  // Above the threshold the source comes in parts, resumably; else in one presigned PUT.
  const source: Pick<CreatedVideo, 'upload' | 'multipart'> = isMultipart(
    input.size,
    deps.config.SPOOL_MULTIPART_THRESHOLD_BYTES,
  )
    ? { multipart: await startMultipartUpload(deps, id, input) }
    : {
        upload: {
          url: await deps.store.presignPut(bucket, keys.source(id), {
            contentType: input.contentType,
            contentLength: input.size,
            expiresIn,
          }),
          method: 'PUT',
          // Content-Length is signed too; HTTP clients set it from the body themselves.
          headers: { 'Content-Type': input.contentType },
          expiresAt,
        },
      };
  const captions = await Promise.all(
    (record.captions ?? []).map(async (c) => {
      const contentType = CAPTION_TYPES[c.format];
      const captionUrl = await deps.store.presignPut(bucket, keys.caption(id, c.language), {
        contentType,
        contentLength: c.size,
        expiresIn,
      });
      return {
        language: c.language,
        upload: {
          url: captionUrl,
          method: 'PUT' as const,
          headers: { 'Content-Type': contentType },
          expiresAt,
        },
      };
    }),
  );
  deps.logger.info('video created', {
    videoId: id,
    size: input.size,
    captions: captions.length,
    parts: source.multipart?.partCount,
  });
  deps.metrics.record('videosCreated', 1);
  return {
    id,
    ...source,
    ...(captions.length > 0 ? { captions } : {}),
  };
}

export async function getVideo(deps: Deps, id: string): Promise<VideoView> {
  if (!isVideoId(id)) throw new NotFoundError('no such video');
  const records = await readRecords(deps, id);
  if (!records) throw new NotFoundError('no such video');
  return playbackView(deps, records);
}

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Videos per page.'),
  cursor: z.string().max(200).optional().describe('`nextCursor` of the page before.'),
});

/** The answer to `GET /videos`. */
export const videoPageSchema = z
  .object({
    items: z.array(videoViewSchema),
    nextCursor: z
      .string()
      .optional()
      .describe('Pass as `cursor` for the next page; absent on the last page.'),
  })
  .meta({ id: 'VideoPage' });

export type VideoPage = z.infer<typeof videoPageSchema>;

/** Newest first: index keys sort by inverted creation time. The cursor is the last index key. */
export async function listVideos(deps: Deps, query: unknown): Promise<VideoPage> {
  const { limit, cursor } = parseBody(listQuerySchema, query);
  let startAfter: string | undefined;
  if (cursor) {
    startAfter = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!videoIdFromIndexKey(startAfter)) throw new InvalidInputError('cursor: invalid');
  }
  const page = await deps.store.list(deps.config.UPLOADS_BUCKET, keys.indexPrefix, {
    startAfter,
    limit,
  });
  const ids = page.objects.map((o) => videoIdFromIndexKey(o.key)).filter((x) => x !== undefined);
  const views = await Promise.all(
    ids.map(async (id) => {
      const records = await readRecords(deps, id);
      return records ? playbackView(deps, records) : undefined;
    }),
  );
  const last = page.objects.at(-1)?.key;
  return {
    items: views.filter((v) => v !== undefined),
    nextCursor: page.truncated && last ? Buffer.from(last).toString('base64url') : undefined,
  };
}

/**
 * A second purge this long after a delete (the longest delay SQS allows), for what no stage
 * watches: a caption PUT through a URL issued before the delete, which lives at most
 * `presignSeconds` (900 at most, so it has expired by then).
 */
export const BACKSTOP_PURGE_SECONDS = 900;

/**
 * DELETE /videos/{id}: the tombstone first, then every object of the video in both buckets,
 * then the CDN's copies (core/deletion.ts says why this order leaves nothing behind). A video
 * deleted before is purged again, which finishes a delete that stopped half-way.
 */
export async function deleteVideo(deps: DeletionDeps, id: string): Promise<void> {
  if (!isVideoId(id)) throw new InvalidInputError('id: must be a video id');
  const bucket = deps.config.UPLOADS_BUCKET;
  const [video, earlier] = await Promise.all([
    deps.store.getJson<VideoRecord>(bucket, keys.video(id)),
    tombstoneOf(deps, id),
  ]);
  if (!video && !earlier) throw new NotFoundError('no such video');
  let tombstone: Tombstone | undefined = earlier;
  if (!tombstone) {
    tombstone = { deletedAt: deps.clock.now().toISOString(), createdAt: video?.createdAt };
    // Conditional: of two racing DELETEs the first tombstone stays (both name the same video).
    await deps.store.putJson(bucket, keys.tombstone(id), tombstone, { ifNoneMatch: true });
  }
  // Sent before the purge, so that even a DELETE cut short here is finished in the end.
  await requestPurge(deps, id, { delaySeconds: BACKSTOP_PURGE_SECONDS });
  await abortOpenUpload(deps, id);
  const removed = await removeDeleted(deps, id, tombstone, {
    invalidate: 'always',
    refused: 'hand-off',
  });
  deps.logger.info('video deleted', {
    videoId: id,
    objects: removed.objects,
    again: earlier !== undefined,
  });
}
