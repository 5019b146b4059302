/**
 * The small typed family of errors Spool knows. Each has a stable `code` that clients
 * and the `failed` status see; `message` is always safe to show (no paths, no stack).
 * Anything else that is thrown is an internal error and is reported as such.
 */
import { z } from 'zod';

export abstract class SpoolError extends Error {
  abstract readonly code: string;
  /** HTTP status when the error reaches the API. */
  readonly httpStatus: number = 500;
  /** A permanent error fails the video at once; a transient one is retried by SQS. */
  readonly permanent: boolean = true;
}

/** A request body or parameter failed validation (400). */
export class InvalidInputError extends SpoolError {
  readonly code = 'INVALID_INPUT';
  override readonly httpStatus = 400;
}

export class UnauthorizedError extends SpoolError {
  readonly code = 'UNAUTHORIZED';
  override readonly httpStatus = 401;
}

export class NotFoundError extends SpoolError {
  readonly code = 'NOT_FOUND';
  override readonly httpStatus = 404;
}

export class PayloadTooLargeError extends SpoolError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  override readonly httpStatus = 413;
}

/**
 * A request that a multipart upload's state does not allow (409): completing it with parts
 * missing, asking for part URLs once it is complete, or anything after S3 discarded it.
 */
export type UploadErrorCode = 'UPLOAD_INCOMPLETE' | 'UPLOAD_COMPLETED' | 'UPLOAD_EXPIRED';

export class UploadError extends SpoolError {
  readonly code: UploadErrorCode;
  override readonly httpStatus = 409;
  constructor(code: UploadErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A misconfigured deployment: fail fast at cold start with the variable named. */
export class ConfigError extends SpoolError {
  readonly code = 'CONFIG_ERROR';
}

/**
 * The upload is not media Spool can process. `code` narrows the reason so a client can tell
 * "not a video" from "too long" without parsing the message.
 */
export type MediaErrorCode =
  | 'UNREADABLE_MEDIA'
  | 'NO_VIDEO_STREAM'
  | 'UNSUPPORTED_CONTAINER'
  | 'UNSUPPORTED_CODEC'
  | 'DURATION_TOO_LONG'
  | 'RESOLUTION_TOO_LARGE'
  | 'FRAME_RATE_TOO_HIGH'
  | 'TOO_MANY_STREAMS'
  | 'SIZE_MISMATCH'
  | 'UPLOAD_TOO_LARGE'
  | 'DECODE_FAILED';

export class MediaError extends SpoolError {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A dependency (S3, SQS, the network) failed in a way that a retry may fix. */
export class TransientError extends SpoolError {
  readonly code = 'TRANSIENT';
  override readonly permanent = false;
}

/**
 * A job was stopped at its function's time limit. Retried like a transient error (a slow
 * neighbour may have caused it); after the last attempt the video fails with this code.
 */
export class TimedOutError extends SpoolError {
  readonly code = 'JOB_TIMED_OUT';
  override readonly permanent = false;
}

/**
 * The upload is gone from storage (its retention ran out, or it was deleted) while work was
 * still to be done on it: no retry can bring it back.
 */
export class SourceMissingError extends SpoolError {
  readonly code = 'SOURCE_MISSING';
}

/**
 * The video was deleted while work on it was under way (core/deletion.ts). The work ends
 * there, and is not retried: the video and everything written for it are gone.
 */
export class VideoDeletedError extends SpoolError {
  readonly code = 'VIDEO_DELETED';
  override readonly httpStatus = 404;
}

/** The shape every failure takes on the wire and in `failed.json`. */
export const errorBodySchema = z.object({
  code: z.string().describe('Stable: clients branch on it.'),
  message: z.string().describe('Safe to show to a person; not meant to be parsed.'),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** What a client sees of anything thrown that is not a `SpoolError`. */
export const INTERNAL_ERROR: ErrorBody = { code: 'INTERNAL', message: 'internal error' };

export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof SpoolError) return { code: err.code, message: err.message };
  return { ...INTERNAL_ERROR };
}
