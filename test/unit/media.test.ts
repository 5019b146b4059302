import { describe, expect, it } from 'vitest';
import { MediaError, type MediaErrorCode } from '../../functions/core/errors.js';
import {
  combedFields,
  type MediaInfo,
  type MediaLimits,
  normalizeProbe,
  parseOpening,
  parseRational,
  rationalValue,
  validateMedia,
} from '../../functions/core/media.js';

type Json = Record<string, unknown>;

/** An H.264 video stream as `ffprobe -print_format json -show_streams` prints it. */
function videoStream(overrides: Json = {}): Json {
  return {
    index: 0,
    codec_name: 'h264',
    codec_long_name: 'H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10',
    profile: 'High',
    codec_type: 'video',
    codec_tag_string: 'avc1',
    width: 1920,
    height: 1080,
    coded_width: 1920,
    coded_height: 1080,
    has_b_frames: 2,
    sample_aspect_ratio: '1:1',
    display_aspect_ratio: '16:9',
    pix_fmt: 'yuv420p',
    level: 40,
    r_frame_rate: '30/1',
    avg_frame_rate: '30/1',
    time_base: '1/15360',
    start_pts: 0,
    start_time: '0.000000',
    duration_ts: 153600,
    duration: '10.000000',
    bit_rate: '4990000',
    nb_frames: '300',
    disposition: { default: 1, dub: 0, original: 0, attached_pic: 0 },
    tags: { language: 'und', handler_name: 'VideoHandler', vendor_id: '[0][0][0][0]' },
    ...overrides,
  };
}

function audioStream(overrides: Json = {}): Json {
  return {
    index: 1,
    codec_name: 'aac',
    codec_type: 'audio',
    sample_fmt: 'fltp',
    sample_rate: '48000',
    channels: 2,
    channel_layout: 'stereo',
    r_frame_rate: '0/0',
    avg_frame_rate: '0/0',
    time_base: '1/48000',
    start_time: '0.000000',
    duration: '10.005333',
    disposition: { default: 1, attached_pic: 0 },
    tags: { language: 'und', handler_name: 'SoundHandler' },
    ...overrides,
  };
}

function probe(streams: Json[], format: Json = {}): Json {
  return {
    streams,
    format: {
      filename: 'https://uploads.example.com/source?X-Amz-Signature=abc',
      nb_streams: streams.length,
      nb_programs: 0,
      format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
      format_long_name: 'QuickTime / MOV',
      start_time: '0.000000',
      duration: '10.005333',
      size: '6250000',
      bit_rate: '4997333',
      probe_score: 100,
      tags: { major_brand: 'isom', encoder: 'Lavf60.3.100' },
      ...format,
    },
  };
}

function mediaInfo(overrides: Partial<MediaInfo> = {}, video: Json = {}): MediaInfo {
  return {
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: 10,
    streamCount: 2,
    mediaStreamCount: 2,
    video: {
      streamIndex: 0,
      codec: 'h264',
      width: 1920,
      height: 1080,
      frameRate: { num: 30, den: 1 },
      variableFrameRate: false,
      startOffset: 0,
      startTime: 0,
      ...video,
    },
    audio: { streamIndex: 1, codec: 'aac', channels: 2, sampleRate: 48_000 },
    ...overrides,
  };
}

const LIMITS: MediaLimits = { maxDurationSeconds: 4 * 3600 };

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof MediaError ? err.code : 'not a MediaError';
  }
  return undefined;
};

const rejects = (code: MediaErrorCode) => expect.objectContaining({ code });

describe('normalizeProbe', () => {
  it('reads the container, duration, stream count, video and audio of an MP4', () => {
    const info = normalizeProbe(probe([videoStream(), audioStream()]));

    expect(info).toEqual({
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
      duration: 10,
      streamCount: 2,
      mediaStreamCount: 2,
      video: {
        streamIndex: 0,
        codec: 'h264',
        width: 1920,
        height: 1080,
        coded: { width: 1920, height: 1080 },
        frameRate: { num: 30, den: 1 },
        variableFrameRate: false,
        startOffset: 0,
        startTime: 0,
        pixFmt: 'yuv420p',
      },
      audio: { streamIndex: 1, codec: 'aac', channels: 2, sampleRate: 48_000, startTime: 0 },
    });
  });

  it('takes the default video and audio streams, wherever they are, over the first ones', () => {
    // A phone's metadata track first; a broadcast capture's second audio marked default.
    const info = normalizeProbe(
      probe([
        { index: 0, codec_type: 'data', codec_name: 'unknown' },
        audioStream({ index: 1, disposition: { default: 0 } }),
        audioStream({ index: 2, channels: 6, disposition: { default: 1 } }),
        videoStream({ index: 3 }),
      ]),
    );

    expect(info.video?.streamIndex).toBe(3);
    expect(info.audio).toMatchObject({ streamIndex: 2, channels: 6 });
    expect(info.mediaStreamCount).toBe(3);
  });

  it("never takes a motion photo's one-frame still for the video, even when it comes first", () => {
    const still = videoStream({ index: 0, codec_name: 'hevc', nb_frames: '1', width: 4032 });
    const info = normalizeProbe(
      probe([still, videoStream({ index: 1, nb_frames: '90', disposition: { default: 1 } })]),
    );

    expect(info.video?.streamIndex).toBe(1);
  });

  it('refuses a stream index that is not a plain stream number (it goes on the command line)', () => {
    expect(() => normalizeProbe(probe([videoStream({ index: 1.5 })]))).toThrow(MediaError);
    expect(() => normalizeProbe(probe([videoStream({ index: -1 })]))).toThrow(MediaError);
  });

  it('takes the first audio stream when none is marked default', () => {
    const info = normalizeProbe(
      probe([
        videoStream({ disposition: { default: 0 } }),
        audioStream({ index: 1, disposition: { default: 0 }, tags: { language: 'eng' } }),
        audioStream({ index: 2, disposition: { default: 0 }, tags: { language: 'spa' } }),
      ]),
    );

    expect(info.audio?.streamIndex).toBe(1);
  });

  it("takes a webcam's real average from its packet timestamps when the container overstates it", () => {
    // 30 fps stated; 21 packets over 2 s (20 frames after the first): 10 fps really.
    const packets = Array.from({ length: 21 }, (_, i) => ({ stream_index: 0, pts_time: i / 10 }));
    const info = normalizeProbe({
      ...probe([videoStream({ r_frame_rate: '30/1', avg_frame_rate: '30/1' })], {
        format_name: 'matroska,webm',
      }),
      packets,
    });

    expect(info.video?.frameRate).toEqual({ num: 10000, den: 1000 });
    expect(info.video?.variableFrameRate).toBe(true);
  });

  it("keeps a transport stream's stated rate whatever its opening packets say", () => {
    const packets = Array.from({ length: 21 }, (_, i) => ({ stream_index: 0, pts_time: i / 10 }));
    const info = normalizeProbe({ ...probe([videoStream()], { format_name: 'mpegts' }), packets });

    expect(info.video?.frameRate).toEqual({ num: 30, den: 1 });
  });

  it('measures the longest GOP of a transport stream from its opening packets', () => {
    // A keyframe every 2 s, then one 4 s gap, at 25 fps.
    const keys = new Set([0, 2, 4, 8]);
    const packets = Array.from({ length: 250 }, (_, i) => ({
      stream_index: 0,
      pts_time: i / 25,
      flags: keys.has(i / 25) ? 'K_' : '__',
    }));
    const info = normalizeProbe({ ...probe([videoStream()], { format_name: 'mpegts' }), packets });

    expect(info.video?.keyframeInterval).toBe(4);
  });

  it('takes the whole window for the GOP when it holds a single keyframe', () => {
    const packets = Array.from({ length: 100 }, (_, i) => ({
      stream_index: 0,
      pts_time: i / 25,
      flags: i === 0 ? 'K_' : '__',
    }));
    const info = normalizeProbe({ ...probe([videoStream()], { format_name: 'mpegts' }), packets });

    expect(info.video?.keyframeInterval).toBe(3.96);
  });

  it('keeps the stated rate when the packets agree with it, or are too few to say', () => {
    const agree = Array.from({ length: 30 }, (_, i) => ({ stream_index: 0, pts_time: i / 30 }));
    const few = [0, 1, 2].map((i) => ({ stream_index: 0, pts_time: i }));

    for (const packets of [agree, few]) {
      const info = normalizeProbe({ ...probe([videoStream()]), packets });
      expect(info.video?.frameRate).toEqual({ num: 30, den: 1 });
    }
  });

  it('reads colour tags, pixel format and field order, leaving out what is unknown', () => {
    const info = normalizeProbe(
      probe([
        videoStream({
          pix_fmt: 'yuv420p10le',
          color_primaries: 'bt2020',
          color_transfer: 'arib-std-b67',
          color_space: 'bt2020nc',
          color_range: 'unknown',
          field_order: 'tt',
        }),
      ]),
    );

    expect(info.video).toMatchObject({
      pixFmt: 'yuv420p10le',
      colour: { primaries: 'bt2020', transfer: 'arib-std-b67', matrix: 'bt2020nc' },
      fieldOrder: 'tt',
    });
    expect(info.video?.colour?.range).toBeUndefined();
  });

  it('takes the duration of the video stream over that of the container', () => {
    const info = normalizeProbe(
      probe([videoStream({ duration: '9.5' }), audioStream()], { duration: '12' }),
    );

    expect(info.duration).toBe(9.5);
  });

  it('falls back to the container duration when the stream has none, as in Matroska', () => {
    const video = videoStream();
    delete video.duration;

    const info = normalizeProbe(probe([video], { format_name: 'matroska,webm', duration: '12.3' }));

    expect(info.duration).toBe(12.3);
  });

  it('swaps width and height for a 90 degree rotation in the display matrix', () => {
    const rotated = videoStream({
      side_data_list: [
        {
          side_data_type: 'Display Matrix',
          displaymatrix: '\n00000000:            0       65536           0\n',
          rotation: -90,
        },
      ],
    });

    const info = normalizeProbe(probe([rotated, audioStream()]));

    expect(info.video).toMatchObject({ width: 1080, height: 1920 });
  });

  it('swaps width and height for a rotate tag of 270', () => {
    const rotated = videoStream({ tags: { rotate: '270', language: 'und' } });

    const info = normalizeProbe(probe([rotated]));

    expect(info.video).toMatchObject({ width: 1080, height: 1920 });
  });

  it('keeps width and height for a rotation of 180', () => {
    const rotated = videoStream({
      side_data_list: [{ side_data_type: 'Display Matrix', rotation: 180 }],
    });

    const info = normalizeProbe(probe([rotated]));

    expect(info.video).toMatchObject({ width: 1920, height: 1080 });
  });

  it('ignores side data entries that carry no rotation', () => {
    const stream = videoStream({
      side_data_list: [{ side_data_type: 'Ambient viewing environment' }],
    });

    const info = normalizeProbe(probe([stream]));

    expect(info.video).toMatchObject({ width: 1920, height: 1080 });
  });

  it('stretches non-square pixels to the display width (720x576 at SAR 16:15 is 768 wide)', () => {
    const pal = videoStream({
      codec_name: 'mpeg2video',
      width: 720,
      height: 576,
      sample_aspect_ratio: '16:15',
      display_aspect_ratio: '4:3',
      r_frame_rate: '25/1',
      avg_frame_rate: '25/1',
    });
    const info = normalizeProbe(probe([pal], { format_name: 'mpeg' }));
    expect(info.video).toMatchObject({ width: 768, height: 576 });
  });

  it('treats an unknown sample aspect ratio (0:1) as square pixels', () => {
    const info = normalizeProbe(probe([videoStream({ sample_aspect_ratio: '0:1' })]));

    expect(info.video).toMatchObject({ width: 1920, height: 1080 });
  });

  it('ignores cover art: an M4A with an attached picture has no video', () => {
    const cover = videoStream({
      index: 1,
      codec_name: 'mjpeg',
      width: 600,
      height: 600,
      r_frame_rate: '90000/1',
      avg_frame_rate: '0/0',
      disposition: { default: 0, attached_pic: 1 },
    });

    const info = normalizeProbe(probe([audioStream({ index: 0 }), cover]));

    expect(info.video).toBeUndefined();
    expect(info.audio).toMatchObject({ codec: 'aac', channels: 2, sampleRate: 48_000 });
  });

  it('finds the real video stream behind a cover art stream', () => {
    const cover = videoStream({ codec_name: 'png', disposition: { attached_pic: 1 } });

    const info = normalizeProbe(
      probe([cover, videoStream({ index: 1, width: 1280, height: 720 })]),
    );

    expect(info.video).toMatchObject({ codec: 'h264', width: 1280, height: 720 });
  });

  it('reports a source without audio as having none', () => {
    const info = normalizeProbe(probe([videoStream()]));

    expect(info.audio).toBeUndefined();
    expect(info.streamCount).toBe(1);
  });

  it('keeps an exact NTSC frame rate as a constant rate', () => {
    const ntsc = videoStream({ r_frame_rate: '30000/1001', avg_frame_rate: '30000/1001' });

    const info = normalizeProbe(probe([ntsc]));

    expect(info.video).toMatchObject({
      frameRate: { num: 30000, den: 1001 },
      variableFrameRate: false,
    });
  });

  it('takes the real frame rate when the average differs only by rounding', () => {
    const stream = videoStream({ r_frame_rate: '30000/1001', avg_frame_rate: '2997/100' });

    const info = normalizeProbe(probe([stream]));

    expect(info.video).toMatchObject({
      frameRate: { num: 30000, den: 1001 },
      variableFrameRate: false,
    });
  });

  it('detects a variable frame rate when the average differs from the real rate', () => {
    const phone = videoStream({ r_frame_rate: '60/1', avg_frame_rate: '5391000/179953' });

    const info = normalizeProbe(probe([phone]));

    expect(info.video?.variableFrameRate).toBe(true);
    expect(info.video?.frameRate).toEqual({ num: 5391000, den: 179953 });
  });

  it('treats a stream without an average frame rate as variable', () => {
    const info = normalizeProbe(probe([videoStream({ avg_frame_rate: '0/0' })]));

    expect(info.video).toMatchObject({ frameRate: { num: 30, den: 1 }, variableFrameRate: true });
  });

  it('measures the video start offset from the start of the container', () => {
    const ts = videoStream({ start_time: '1.433333' });

    const info = normalizeProbe(probe([ts], { format_name: 'mpegts', start_time: '1.400000' }));

    expect(info.video?.startOffset).toBeCloseTo(0.033333, 6);
  });

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['a string', 'not json at all'],
    ['a number', 42],
    ['an array', []],
    ['streams that are not a list', { format: { format_name: 'mov' }, streams: 'x' }],
    ['a format without a name', { format: {}, streams: [] }],
  ])('rejects %s as unreadable media', (_label, raw) => {
    expect(() => normalizeProbe(raw)).toThrow(rejects('UNREADABLE_MEDIA'));
  });

  it('rejects a width that is not a number as unreadable media', () => {
    const raw = probe([videoStream({ width: 'wide' })]);

    expect(() => normalizeProbe(raw)).toThrow(rejects('UNREADABLE_MEDIA'));
  });

  it('throws a MediaError for unreadable media', () => {
    expect(() => normalizeProbe(null)).toThrow(MediaError);
  });
});

describe('validateMedia', () => {
  it('accepts a 1080p H.264 MP4 of ten seconds', () => {
    expect(() => validateMedia(mediaInfo(), LIMITS)).not.toThrow();
  });

  it('accepts what normalizeProbe reads from a Matroska file', () => {
    const info = normalizeProbe(
      probe([videoStream({ codec_name: 'vp9' })], { format_name: 'matroska,webm' }),
    );

    expect(() => validateMedia(info, LIMITS)).not.toThrow();
  });

  it.each(['hls', 'concat', 'image2', 'image2pipe', 'mp3', 'tty'])(
    'rejects the %s demuxer as an unsupported container',
    (formatName) => {
      expect(() => validateMedia(mediaInfo({ formatName }), LIMITS)).toThrow(
        rejects('UNSUPPORTED_CONTAINER'),
      );
    },
  );

  it('rejects more audio and video streams than the limit', () => {
    expect(() =>
      validateMedia(mediaInfo({ streamCount: 17, mediaStreamCount: 17 }), LIMITS),
    ).toThrow(rejects('TOO_MANY_STREAMS'));
  });

  it('does not count data, timecode and subtitle tracks against the media stream limit', () => {
    expect(() =>
      validateMedia(mediaInfo({ streamCount: 20, mediaStreamCount: 2 }), LIMITS),
    ).not.toThrow();
  });

  it('rejects hundreds of streams of any kind', () => {
    expect(() =>
      validateMedia(mediaInfo({ streamCount: 300, mediaStreamCount: 2 }), LIMITS),
    ).toThrow(rejects('TOO_MANY_STREAMS'));
  });

  it.each(['wmv2', 'cfhd', 'msmpeg4v3', 'dvvideo', 'vmnc', 'ffv1'])(
    'accepts the %s codec (legacy, pro and screen-recorder uploads)',
    (codec) => {
      expect(() => validateMedia(mediaInfo({}, { codec }), LIMITS)).not.toThrow();
    },
  );

  it.each(['mxf', 'mpeg', 'asf', 'dv'])('accepts the %s container', (formatName) => {
    expect(() => validateMedia(mediaInfo({ formatName }), LIMITS)).not.toThrow();
  });

  it('names what it found when it refuses a codec', () => {
    expect(() => validateMedia(mediaInfo({}, { codec: 'gif' }), LIMITS)).toThrow(/'gif'/);
  });

  it('accepts exactly the stream limit', () => {
    expect(() =>
      validateMedia(mediaInfo({ streamCount: 3 }), { ...LIMITS, maxStreams: 3 }),
    ).not.toThrow();
  });

  it('rejects an audio-only upload with cover art as having no video stream', () => {
    const cover = videoStream({ codec_name: 'mjpeg', disposition: { attached_pic: 1 } });
    const info = normalizeProbe(probe([audioStream({ index: 0 }), cover]));

    expect(codeOf(() => validateMedia(info, LIMITS))).toBe('NO_VIDEO_STREAM');
  });

  it('rejects a video codec that is not accepted', () => {
    expect(() => validateMedia(mediaInfo({}, { codec: 'gif' }), LIMITS)).toThrow(
      rejects('UNSUPPORTED_CODEC'),
    );
  });

  it('rejects a 16000x16000 frame as too large', () => {
    expect(() => validateMedia(mediaInfo({}, { width: 16000, height: 16000 }), LIMITS)).toThrow(
      rejects('RESOLUTION_TOO_LARGE'),
    );
  });

  it('accepts an 8K UHD frame', () => {
    expect(() => validateMedia(mediaInfo({}, { width: 7680, height: 4320 }), LIMITS)).not.toThrow();
  });

  it('rejects a frame narrower than 16 pixels', () => {
    expect(() => validateMedia(mediaInfo({}, { width: 8, height: 720 }), LIMITS)).toThrow(
      rejects('RESOLUTION_TOO_LARGE'),
    );
  });

  it('rejects 1000 fps as too high a frame rate', () => {
    const info = normalizeProbe(
      probe([videoStream({ r_frame_rate: '1000/1', avg_frame_rate: '1000/1' })]),
    );

    expect(codeOf(() => validateMedia(info, LIMITS))).toBe('FRAME_RATE_TOO_HIGH');
  });

  it('accepts 240 fps', () => {
    const info = mediaInfo({}, { frameRate: { num: 240, den: 1 } });

    expect(() => validateMedia(info, LIMITS)).not.toThrow();
  });

  it('rejects a source longer than the duration limit', () => {
    const info = mediaInfo({ duration: 4 * 3600 + 1 });

    expect(() => validateMedia(info, LIMITS)).toThrow(rejects('DURATION_TOO_LONG'));
  });

  it('rejects a zero duration as unreadable media', () => {
    expect(() => validateMedia(mediaInfo({ duration: 0 }), LIMITS)).toThrow(
      rejects('UNREADABLE_MEDIA'),
    );
  });

  it('rejects a probe without any duration as unreadable media', () => {
    const video = videoStream();
    delete video.duration;
    const raw = probe([video]);
    delete (raw.format as Json).duration;

    const info = normalizeProbe(raw);

    expect(codeOf(() => validateMedia(info, LIMITS))).toBe('UNREADABLE_MEDIA');
  });

  it('checks the container before anything else', () => {
    const info = mediaInfo({ formatName: 'hls', streamCount: 100, video: undefined });

    expect(codeOf(() => validateMedia(info, LIMITS))).toBe('UNSUPPORTED_CONTAINER');
  });
});

describe('parseRational', () => {
  it('reads an exact fraction', () => {
    expect(parseRational('30000/1001')).toEqual({ num: 30000, den: 1001 });
  });

  it.each(['0/0', '30/0', '0/1', '-30/1', '29.97/1', '30', '', undefined])('rejects %s', (text) => {
    expect(parseRational(text)).toBeUndefined();
  });
});

describe('rationalValue', () => {
  it('divides the numerator by the denominator', () => {
    expect(rationalValue({ num: 24000, den: 1001 })).toBeCloseTo(23.976, 3);
  });
});

describe('the opening pass', () => {
  const printed = (calls: string[], firstTime = 5.48) =>
    calls
      .map(
        (call, n) =>
          `frame:${n}    pts:${n * 3600}  pts_time:${(firstTime + n * 0.04).toFixed(2)}\n` +
          `lavfi.idet.repeated.current_frame=neither\nlavfi.idet.multiple.current_frame=${call}\n`,
      )
      .join('');

  it("reads the first decoded picture's time and idet's calls after its warm-up", () => {
    const facts = parseOpening(
      printed([...Array(5).fill('tff'), ...Array(20).fill('progressive')]),
    );
    expect(facts.firstFrameTime).toBeCloseTo(5.48, 6);
    expect(facts.idet).toEqual({ tff: 0, bff: 0, progressive: 20, undetermined: 0 });
  });

  it('calls a source combed when idet calls most judged frames interlaced', () => {
    expect(combedFields({ tff: 3, bff: 20, progressive: 5, undetermined: 9 })).toBe('bff');
    expect(combedFields({ tff: 8, bff: 2, progressive: 12, undetermined: 0 })).toBeUndefined();
    // Too few judged frames to say.
    expect(combedFields({ tff: 5, bff: 0, progressive: 0, undetermined: 30 })).toBeUndefined();
  });

  it("deinterlaces combed pictures the container calls progressive, with idet's field first", () => {
    const opening = parseOpening(printed(Array(30).fill('bff'), 0));
    const info = normalizeProbe({
      ...probe([videoStream({ field_order: 'progressive' })]),
      opening,
    });
    expect(info.video).toMatchObject({ fieldOrder: 'bb', combed: 'bff' });
  });

  it("leaves a source the container flags interlaced to its frames' own flags", () => {
    const opening = parseOpening(printed(Array(30).fill('tff'), 0));
    const info = normalizeProbe({ ...probe([videoStream({ field_order: 'tt' })]), opening });
    expect(info.video?.fieldOrder).toBe('tt');
    expect(info.video?.combed).toBeUndefined();
  });

  it('starts a capture that begins mid-GOP at its first whole picture, and shortens it', () => {
    const opening = parseOpening(printed(Array(30).fill('progressive'), 1.72));
    const info = normalizeProbe({
      ...probe([videoStream({ start_time: '0.500000', duration: '9.500000' })], {
        start_time: '0.000000',
      }),
      opening,
    });
    expect(info.video).toMatchObject({ startTime: 1.72, startOffset: 1.72 });
    expect(info.duration).toBeCloseTo(8.28, 6);
  });
});
