import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/core/config.js';
import { ConfigError } from '../../functions/core/errors.js';

const REQUIRED = {
  UPLOADS_BUCKET: 'spool-uploads',
  OUTPUT_BUCKET: 'spool-output',
  JOBS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spool-jobs',
  PUBLISH_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spool-publish',
  PURGE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spool-purge',
  PLAYBACK_BASE_URL: 'https://d111111abcdef8.cloudfront.net',
};

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return '';
};

describe('loadConfig', () => {
  it('reads the required variables as given', () => {
    const config = loadConfig(REQUIRED);

    expect(config).toMatchObject(REQUIRED);
  });

  it('applies the documented defaults', () => {
    const config = loadConfig(REQUIRED);

    expect(config).toMatchObject({
      SPOOL_MAX_UPLOAD_BYTES: 50 * 1024 ** 3,
      SPOOL_MULTIPART_THRESHOLD_BYTES: 100 * 1024 ** 2,
      SPOOL_MULTIPART_PART_BYTES: 16 * 1024 ** 2,
      SPOOL_MAX_DURATION_SECONDS: 4 * 3600,
      SPOOL_SEGMENT_SECONDS: 6,
      SPOOL_CHUNK_SEGMENTS: 5,
      SPOOL_X264_PRESET: 'veryfast',
      SPOOL_PRESIGN_SECONDS: 900,
      SPOOL_MAX_ATTEMPTS: 5,
      SPOOL_RETRY_BACKOFF_SECONDS: 5,
    });
  });

  it('reads numbers from their environment strings', () => {
    const config = loadConfig({
      ...REQUIRED,
      SPOOL_SEGMENT_SECONDS: '4',
      SPOOL_CHUNK_SEGMENTS: '10',
    });

    expect(config.SPOOL_SEGMENT_SECONDS).toBe(4);
    expect(config.SPOOL_CHUNK_SEGMENTS).toBe(10);
  });

  it('throws a ConfigError when UPLOADS_BUCKET is missing', () => {
    const { UPLOADS_BUCKET: _, ...env } = REQUIRED;

    expect(() => loadConfig(env)).toThrow(ConfigError);
  });

  it('names the missing UPLOADS_BUCKET in the error', () => {
    const { UPLOADS_BUCKET: _, ...env } = REQUIRED;

    expect(messageOf(() => loadConfig(env))).toContain('UPLOADS_BUCKET');
  });

  it('names every bad variable at once', () => {
    const { UPLOADS_BUCKET: _, OUTPUT_BUCKET: __, ...env } = REQUIRED;

    const message = messageOf(() => loadConfig({ ...env, SPOOL_PRESIGN_SECONDS: '901' }));

    expect(message).toContain('UPLOADS_BUCKET');
    expect(message).toContain('OUTPUT_BUCKET');
    expect(message).toContain('SPOOL_PRESIGN_SECONDS');
  });

  it('gives the error the CONFIG_ERROR code', () => {
    expect(() => loadConfig({})).toThrow(expect.objectContaining({ code: 'CONFIG_ERROR' }));
  });

  it('rejects an odd segment length, which cannot hold whole 2 s GOPs', () => {
    const env = { ...REQUIRED, SPOOL_SEGMENT_SECONDS: '7' };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_SEGMENT_SECONDS');
  });

  it('rejects presigned URLs that live longer than 900 s', () => {
    const env = { ...REQUIRED, SPOOL_PRESIGN_SECONDS: '901' };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_PRESIGN_SECONDS');
  });

  it('accepts presigned URLs that live exactly 900 s', () => {
    const config = loadConfig({ ...REQUIRED, SPOOL_PRESIGN_SECONDS: '900' });

    expect(config.SPOOL_PRESIGN_SECONDS).toBe(900);
  });

  it('rejects an upload limit above the 5 TiB S3 allows an object', () => {
    const env = { ...REQUIRED, SPOOL_MAX_UPLOAD_BYTES: String(5 * 1024 ** 4 + 1) };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_MAX_UPLOAD_BYTES');
  });

  it('rejects a multipart threshold above the 5 GiB a presigned PUT allows', () => {
    const env = { ...REQUIRED, SPOOL_MULTIPART_THRESHOLD_BYTES: String(5 * 1024 ** 3 + 1) };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_MULTIPART_THRESHOLD_BYTES');
  });

  it('rejects parts smaller than the 5 MiB S3 requires of all but the last', () => {
    const env = { ...REQUIRED, SPOOL_MULTIPART_PART_BYTES: String(5 * 1024 ** 2 - 1) };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_MULTIPART_PART_BYTES');
  });

  it('rejects an unknown x264 preset', () => {
    const env = { ...REQUIRED, SPOOL_X264_PRESET: 'placebo' };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_X264_PRESET');
  });

  it('rejects a playback base that is not a URL', () => {
    const env = { ...REQUIRED, PLAYBACK_BASE_URL: 'cdn.example.com' };

    expect(messageOf(() => loadConfig(env))).toContain('PLAYBACK_BASE_URL');
  });

  it('rejects a fractional chunk size', () => {
    const env = { ...REQUIRED, SPOOL_CHUNK_SEGMENTS: '2.5' };

    expect(messageOf(() => loadConfig(env))).toContain('SPOOL_CHUNK_SEGMENTS');
  });

  it('reads the ladder from JSON, the way the construct writes it', () => {
    const config = loadConfig({
      ...REQUIRED,
      SPOOL_LADDER: '[{"shortSide":720,"bitrate":3000000},{"shortSide":360,"bitrate":800000}]',
    });
    expect(config.SPOOL_LADDER).toEqual([
      { shortSide: 720, bitrate: 3_000_000 },
      { shortSide: 360, bitrate: 800_000 },
    ]);
    expect(loadConfig(REQUIRED).SPOOL_LADDER.map((r) => r.shortSide)).toEqual([
      1080, 720, 540, 360, 234,
    ]);
  });

  it('rejects a ladder rung of odd size, or two rungs of one size', () => {
    for (const ladder of [
      '[{"shortSide":721,"bitrate":3000000}]',
      '[{"shortSide":720,"bitrate":3000000},{"shortSide":720,"bitrate":2000000}]',
      '[]',
    ]) {
      expect(messageOf(() => loadConfig({ ...REQUIRED, SPOOL_LADDER: ladder }))).toContain(
        'SPOOL_LADDER',
      );
    }
  });
});
