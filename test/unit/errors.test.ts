import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  InvalidInputError,
  MediaError,
  NotFoundError,
  PayloadTooLargeError,
  SpoolError,
  TransientError,
  toErrorBody,
  UnauthorizedError,
} from '../../functions/core/errors.js';

describe('the error family', () => {
  it.each([
    { error: new InvalidInputError('bad'), code: 'INVALID_INPUT', httpStatus: 400 },
    { error: new UnauthorizedError('no'), code: 'UNAUTHORIZED', httpStatus: 401 },
    { error: new NotFoundError('gone'), code: 'NOT_FOUND', httpStatus: 404 },
    { error: new PayloadTooLargeError('big'), code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
    { error: new ConfigError('env'), code: 'CONFIG_ERROR', httpStatus: 500 },
  ])('gives $code the HTTP status $httpStatus', ({ error, code, httpStatus }) => {
    expect(error).toMatchObject({ code, httpStatus });
  });

  it('makes every error an Error and a SpoolError', () => {
    const error = new NotFoundError('gone');

    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(SpoolError);
  });

  it('gives a MediaError the code it was made with', () => {
    const error = new MediaError('DURATION_TOO_LONG', 'too long');

    expect(error).toMatchObject({ code: 'DURATION_TOO_LONG', message: 'too long' });
  });

  it('makes errors permanent by default', () => {
    expect(new MediaError('UNREADABLE_MEDIA', 'x').permanent).toBe(true);
  });

  it('makes a TransientError retryable', () => {
    expect(new TransientError('S3 throttled').permanent).toBe(false);
  });
});

describe('toErrorBody', () => {
  it('passes on the code and safe message of a Spool error', () => {
    const body = toErrorBody(new MediaError('NO_VIDEO_STREAM', 'the upload has no video stream'));

    expect(body).toEqual({ code: 'NO_VIDEO_STREAM', message: 'the upload has no video stream' });
  });

  it('hides the message of any other error', () => {
    const body = toErrorBody(new Error('ENOENT: /tmp/job-123/source.mp4'));

    expect(body).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });

  it('hides a thrown value that is not an error', () => {
    expect(toErrorBody('boom')).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });
});
