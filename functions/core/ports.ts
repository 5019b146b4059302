/**
 * The ports the core needs from the outside world. Handlers pass real adapters
 * (functions/adapters); tests pass the same adapters against local stand-ins, or fakes.
 */

import type { VideoEventDetail } from './events.js';
import type { UploadedPart } from './multipart.js';
import type { Plan } from './plan.js';
import type { ChunkOutput } from './records.js';

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectStore {
  getJson<T>(bucket: string, key: string): Promise<T | undefined>;
  getText(bucket: string, key: string): Promise<string | undefined>;
  /**
   * Write a JSON record. With `ifNoneMatch`, the write only happens if the key is absent
   * (S3 conditional write); returns 'exists' if another writer got there first.
   */
  putJson(
    bucket: string,
    key: string,
    value: unknown,
    opts?: { ifNoneMatch?: boolean },
  ): Promise<'created' | 'exists'>;
  putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    opts: { contentType: string; cacheControl?: string },
  ): Promise<void>;
  putFile(
    bucket: string,
    key: string,
    path: string,
    opts: { contentType: string; cacheControl?: string },
  ): Promise<void>;
  head(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** Delete these keys (batched as the store allows); a key already absent is no error. */
  deleteObjects(bucket: string, keys: readonly string[]): Promise<void>;
  list(
    bucket: string,
    prefix: string,
    opts?: { startAfter?: string; limit?: number },
  ): Promise<{ objects: StoredObject[]; truncated: boolean }>;
  presignPut(
    bucket: string,
    key: string,
    opts: { contentType: string; contentLength: number; expiresIn: number },
  ): Promise<string>;
  /** A byte range (`bytes=a-b`, HTTP syntax) of an object, streamed; undefined if absent. */
  getRange(bucket: string, key: string, range?: string): Promise<RangeBody | undefined>;
  /** Start a multipart upload of `key`; returns its upload id, which stays server-side. */
  createMultipartUpload(
    bucket: string,
    key: string,
    opts: { contentType: string },
  ): Promise<string>;
  /** A presigned UploadPart whose length is signed: S3 refuses a part of any other size. */
  presignUploadPart(
    bucket: string,
    key: string,
    opts: { uploadId: string; partNumber: number; contentLength: number; expiresIn: number },
  ): Promise<string>;
  /** Every part uploaded so far, by number; undefined once the upload is completed or aborted. */
  listParts(bucket: string, key: string, uploadId: string): Promise<UploadedPart[] | undefined>;
  /**
   * Join the parts into the object. 'gone': the upload was completed or aborted already;
   * 'invalid-parts': a part is not as listed (it was sent again meanwhile).
   */
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ): Promise<'completed' | 'gone' | 'invalid-parts'>;
  /** Discard an upload and its parts; 'gone' if it was completed or aborted already. */
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<'aborted' | 'gone'>;
}

export interface RangeBody {
  body: NodeJS.ReadableStream & { destroy(): void };
  contentLength: number;
  /** `bytes a-b/total` when a range was asked for. */
  contentRange?: string;
}

/**
 * Gives ffmpeg a URL for one stored object. Bytes are fetched on demand (ranges), never the
 * whole object; `bytesRead` counts what was actually fetched.
 */
export interface SourceReader {
  open(bucket: string, key: string): Promise<OpenSource>;
}

export interface OpenSource {
  url: string;
  bytesRead(): number;
  /**
   * Why a read from storage failed after its retries, if one did. ffmpeg sees such a read end
   * early and takes it for the end of the file, so output made from it cannot be trusted.
   */
  failure(): Error | undefined;
  close(): Promise<void>;
}

export interface MessageQueue {
  /**
   * Send messages (JSON-serialised), batching as the queue allows; throws if any fails.
   * `delaySeconds` (at most 900, as SQS allows) hides them that long after they are sent.
   */
  sendAll(
    queueUrl: string,
    messages: readonly object[],
    opts?: { delaySeconds?: number },
  ): Promise<void>;
  /**
   * Send to a FIFO queue: messages of one group are handled one at a time, in order; a
   * second message with the same deduplication id within five minutes is dropped.
   */
  sendOrdered(
    queueUrl: string,
    message: object,
    group: string,
    deduplicationId: string,
  ): Promise<void>;
  /** Messages waiting to be received (approximate, as SQS counts them). */
  waiting(queueUrl: string): Promise<number>;
}

export interface MediaProber {
  /** Raw `ffprobe -show_format -show_streams` JSON for a URL or path. */
  probe(input: string): Promise<unknown>;
}

export interface Transcoder {
  /** Encode one chunk of the source into every rendition, from a single decode. */
  encodeVideoChunk(args: {
    input: string;
    plan: Plan;
    chunk: number;
    workDir: string;
    onSegment?: SegmentListener;
    /** false: ignore the plan's read bound (the retry when it fell short). */
    bounded?: boolean;
    /** Aborted when the job's time is up: the encode stops with a TimedOutError. */
    signal?: AbortSignal;
  }): Promise<ChunkOutput>;
}

/**
 * Called once for each segment file as soon as the muxer has closed it, while encoding goes
 * on, so uploads overlap the encode. The transcoder waits for the returned promises.
 */
export type SegmentListener = (rendition: string, file: string, path: string) => Promise<void>;

/** Where `video.*` events go: EventBridge on AWS, the local stack's bus stand-in locally. */
export interface EventPublisher {
  publish(events: readonly VideoEventDetail[]): Promise<void>;
}

/**
 * The CDN in front of the output bucket. CloudFront on AWS; locally the static server caches
 * nothing, so there is nothing to invalidate.
 */
export interface CdnCache {
  /** Stop serving cached copies of these paths (`/videos/{id}/*`); returns once requested. */
  invalidate(paths: readonly string[]): Promise<void>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
