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
});
