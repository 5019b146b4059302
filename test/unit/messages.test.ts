import { describe, expect, it } from 'vitest';
import {
  deadLetterSchema,
  jobSchema,
  publishSchema,
  purgeSchema,
} from '../../functions/core/messages.js';

const ID = 'k3x9q2m7p4z8r1t6w5y0';

describe('jobSchema', () => {
  it('parses a video chunk job', () => {
    const job = { type: 'video-chunk', videoId: ID, chunk: 3 };

    expect(jobSchema.parse(job)).toEqual(job);
  });

  it('refuses the whole-source audio job that chunk jobs replaced', () => {
    expect(jobSchema.safeParse({ type: 'audio', videoId: ID }).success).toBe(false);
  });

  it('parses chunk 0', () => {
    expect(jobSchema.safeParse({ type: 'video-chunk', videoId: ID, chunk: 0 }).success).toBe(true);
  });

  it('drops fields it does not know', () => {
    const parsed = jobSchema.parse({ type: 'video-chunk', videoId: ID, chunk: 2, bucket: 'x' });

    expect(parsed).toEqual({ type: 'video-chunk', videoId: ID, chunk: 2 });
  });

  it.each([
    ['a path traversal', '../../etc/passwd'],
    ['upper case', 'K3X9Q2M7P4Z8R1T6W5Y0'],
    ['too short', 'abc'],
  ])('rejects a video id that is %s', (_label, videoId) => {
    expect(jobSchema.safeParse({ type: 'video-chunk', videoId, chunk: 1 }).success).toBe(false);
  });

  it('rejects a negative chunk', () => {
    expect(jobSchema.safeParse({ type: 'video-chunk', videoId: ID, chunk: -1 }).success).toBe(
      false,
    );
  });

  it('rejects a fractional chunk', () => {
    expect(jobSchema.safeParse({ type: 'video-chunk', videoId: ID, chunk: 1.5 }).success).toBe(
      false,
    );
  });

  it('rejects a chunk given as a string', () => {
    expect(jobSchema.safeParse({ type: 'video-chunk', videoId: ID, chunk: '1' }).success).toBe(
      false,
    );
  });

  it('rejects a chunk job without a chunk', () => {
    expect(jobSchema.safeParse({ type: 'video-chunk', videoId: ID }).success).toBe(false);
  });

  it('rejects an unknown job type', () => {
    expect(jobSchema.safeParse({ type: 'poster', videoId: ID }).success).toBe(false);
  });

  it('rejects a publish request as a job', () => {
    expect(jobSchema.safeParse({ type: 'publish', videoId: ID }).success).toBe(false);
  });
});

describe('publishSchema', () => {
  it('parses a publish request', () => {
    expect(publishSchema.parse({ type: 'publish', videoId: ID })).toEqual({
      type: 'publish',
      videoId: ID,
    });
  });

  it('rejects a bad video id', () => {
    expect(publishSchema.safeParse({ type: 'publish', videoId: 'x' }).success).toBe(false);
  });
});

describe('deadLetterSchema', () => {
  it.each([
    { type: 'video-chunk', videoId: ID, chunk: 2 },
    { type: 'publish', videoId: ID },
  ])('parses a dead $type message', (message) => {
    expect(deadLetterSchema.parse(message)).toEqual(message);
  });

  it('rejects anything else', () => {
    expect(deadLetterSchema.safeParse({ type: 'delete', videoId: ID }).success).toBe(false);
  });
});

describe('purgeSchema', () => {
  it('parses a purge request, and one that must invalidate', () => {
    expect(purgeSchema.parse({ type: 'purge', videoId: ID })).toEqual({
      type: 'purge',
      videoId: ID,
    });
    expect(purgeSchema.parse({ type: 'purge', videoId: ID, invalidate: true })).toEqual({
      type: 'purge',
      videoId: ID,
      invalidate: true,
    });
  });

  it.each([
    ['a path traversal', { type: 'purge', videoId: '../../state' }],
    ['a prefix of every video', { type: 'purge', videoId: '' }],
    ['another type', { type: 'publish', videoId: ID }],
    ['invalidate false', { type: 'purge', videoId: ID, invalidate: false }],
  ])('rejects %s', (_label, body) => {
    expect(purgeSchema.safeParse(body).success).toBe(false);
  });
});
