import { describe, expect, it } from 'vitest';
import { createVideoSchema } from '../../functions/upload/api.js';

describe('createVideoSchema', () => {
  const body = { filename: 'clip', size: 1000 };

  it.each(['video/mp4', 'application/mxf', 'application/octet-stream', 'video/x-ms-wmv'])(
    'accepts the content type %s: the probe, not the type, decides what the upload is',
    (contentType) => {
      expect(createVideoSchema.safeParse({ ...body, contentType }).success).toBe(true);
    },
  );

  it('takes an upload with no content type as application/octet-stream', () => {
    expect(createVideoSchema.parse(body).contentType).toBe('application/octet-stream');
  });

  it.each(['video/mp4\r\nx-amz-acl: public-read', 'video', 'video/mp4; codecs=avc1', ''])(
    'refuses %j, which is not a bare media type (it is signed into the URL as a header)',
    (contentType) => {
      expect(createVideoSchema.safeParse({ ...body, contentType }).success).toBe(false);
    },
  );

  const caption = { language: 'en', format: 'srt', size: 100 };

  it.each([
    'English\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://evil.example/x.m3u8',
    'Eng\rlish',
    'Eng\u2028lish',
    'Eng\u0000lish',
    'Eng\u202Elish',
  ])('refuses the caption label %j: it would break out of its playlist tag', (label) => {
    const parsed = createVideoSchema.safeParse({ ...body, captions: [{ ...caption, label }] });
    expect(parsed.success).toBe(false);
  });

  it.each([
    'Français',
    'العربية',
    '\u200Fעברית\u200F',
    '日本語 (字幕)',
    '👨\u200D👩\u200D👧 family',
    'Director\'s "cut"',
    '../../etc/passwd',
  ])('accepts the caption label %j: any script, quotes and slashes are only text', (label) => {
    expect(
      createVideoSchema.safeParse({ ...body, captions: [{ ...caption, label }] }).success,
    ).toBe(true);
  });

  it.each(['clip\nname.mp4', 'clip\u0007.mp4'])('refuses the filename %j', (filename) => {
    expect(createVideoSchema.safeParse({ ...body, filename }).success).toBe(false);
  });
});
