import { type Manifest, Parser } from 'm3u8-parser';
import { describe, expect, it } from 'vitest';
import {
  AUDIO_GROUP,
  describeVariants,
  measureBandwidth,
  targetDurationOf,
  type VariantInput,
  type WrittenVariant,
  writeIframePlaylist,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../../functions/core/playlist.js';
import type { Segment } from '../../functions/core/records.js';

function parse(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

const SEGMENTS: Segment[] = [
  { file: 'seg_00000.ts', duration: 6.006, bytes: 1_500_000 },
  { file: 'seg_00001.ts', duration: 6.006, bytes: 1_800_000 },
  { file: 'seg_00002.ts', duration: 2.5025, bytes: 400_000 },
];

const segmentsOf = (...specs: [duration: number, bytes: number][]): Segment[] =>
  specs.map(([duration, bytes], i) => ({
    file: `seg_${String(i).padStart(5, '0')}.ts`,
    duration,
    bytes,
  }));

const variant = (name: string, width: number, height: number, bytes: number): VariantInput => ({
  uri: `${name}/index.m3u8`,
  width,
  height,
  frameRate: 30000 / 1001,
  video: { codecs: 'avc1.64001f', segments: segmentsOf([6, bytes], [6, bytes]) },
});

const AUDIO = { uri: 'audio/index.m3u8', audio: { codecs: 'mp4a.40.2', segments: [] } };

const WRITTEN: WrittenVariant[] = [
  {
    uri: '360p/index.m3u8',
    width: 640,
    height: 360,
    frameRate: 30000 / 1001,
    bandwidth: 900_000,
    averageBandwidth: 800_000,
    codecs: 'avc1.64001e,mp4a.40.2',
  },
  {
    uri: '720p/index.m3u8',
    width: 1280,
    height: 720,
    frameRate: 30000 / 1001,
    bandwidth: 3_200_000,
    averageBandwidth: 2_900_000,
    codecs: 'avc1.64001f,mp4a.40.2',
  },
];

describe('targetDurationOf', () => {
  it('rounds a longest segment of 6.006 s down to 6', () => {
    expect(targetDurationOf([SEGMENTS])).toBe(6);
  });

  it('rounds a longest segment of 6.5 s up to 7', () => {
    expect(targetDurationOf([segmentsOf([6, 1], [6.5, 1])])).toBe(7);
  });

  it('takes the longest segment across every list', () => {
    const lists = [segmentsOf([6, 1], [6, 1]), segmentsOf([2, 1]), segmentsOf([8.2, 1])];

    expect(targetDurationOf(lists)).toBe(8);
  });

  it('is at least 1 for very short segments', () => {
    expect(targetDurationOf([segmentsOf([0.2, 1])])).toBe(1);
  });

  it('is at least 1 when there are no segments', () => {
    expect(targetDurationOf([])).toBe(1);
  });
});

describe('writeMediaPlaylist', () => {
  it('starts with #EXTM3U', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 });

    expect(text.split('\n')[0]).toBe('#EXTM3U');
  });

  it('declares the target duration and a VOD playlist', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 });

    expect(text.split('\n')).toEqual(
      expect.arrayContaining(['#EXT-X-TARGETDURATION:6', '#EXT-X-PLAYLIST-TYPE:VOD']),
    );
  });

  it('writes each segment as an EXTINF with six decimals followed by its file', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 });

    expect(text).toContain(
      [
        '#EXTINF:6.006000,',
        'seg_00000.ts',
        '#EXTINF:6.006000,',
        'seg_00001.ts',
        '#EXTINF:2.502500,',
        'seg_00002.ts',
      ].join('\n'),
    );
  });

  it('ends with #EXT-X-ENDLIST and a newline', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 });

    expect(text.endsWith('\n#EXT-X-ENDLIST\n')).toBe(true);
  });

  it('starts the media sequence at 0 unless told otherwise', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 });

    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:0\n');
  });

  it('writes the given media sequence', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6, mediaSequence: 12 });

    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:12\n');
  });

  it('parses back to the same segments, in order', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 });

    const manifest = parse(text);

    expect(manifest.segments.map((s) => ({ uri: s.uri, duration: s.duration }))).toEqual([
      { uri: 'seg_00000.ts', duration: 6.006 },
      { uri: 'seg_00001.ts', duration: 6.006 },
      { uri: 'seg_00002.ts', duration: 2.5025 },
    ]);
  });

  it('parses back as a finished VOD playlist with its target duration', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6, mediaSequence: 3 });

    const manifest = parse(text);

    expect(manifest).toMatchObject({
      targetDuration: 6,
      mediaSequence: 3,
      playlistType: 'VOD',
      endList: true,
      independentSegments: true,
    });
  });
});

describe('measureBandwidth', () => {
  it('reports the average as total bits over total seconds', () => {
    const figures = measureBandwidth(segmentsOf([6, 750_000], [6, 1_500_000]));

    expect(figures.average).toBe(1_500_000);
  });

  it('reports the peak as the bits per second of the busiest segment', () => {
    const figures = measureBandwidth(segmentsOf([6, 750_000], [6, 1_500_000]));

    expect(figures.peak).toBe(2_000_000);
  });

  it('never reports a peak below the average', () => {
    // A zero-length segment has no rate of its own, but its bytes still count in the average.
    const figures = measureBandwidth(segmentsOf([6, 600], [0, 1_000_000]));

    expect(figures.peak).toBeGreaterThanOrEqual(figures.average);
  });

  it('judges a short tail segment together with its neighbour (RFC 8216 peak window)', () => {
    // Target 6 s: runs of 3 to 9 s count. The 0.1 s tail alone would be 16 Mb/s.
    const figures = measureBandwidth(segmentsOf([6, 600_000], [0.1, 200_000]));

    expect(figures.peak).toBe(Math.ceil((800_000 * 8) / 6.1));
  });

  it('takes the busiest run of segments as the peak', () => {
    const figures = measureBandwidth(segmentsOf([6, 300_000], [6, 900_000], [6, 300_000]));

    expect(figures.peak).toBe(Math.ceil((900_000 * 8) / 6));
    expect(figures.average).toBe(Math.ceil((1_500_000 * 8) / 18));
  });

  it('rounds the figures up to whole bits per second', () => {
    const figures = measureBandwidth(segmentsOf([3, 1000]));

    expect(figures).toEqual({ peak: 2667, average: 2667 });
  });

  it('reports zero for no segments', () => {
    expect(measureBandwidth([])).toEqual({ peak: 0, average: 0 });
  });
});

describe('describeVariants', () => {
  it('adds the audio bandwidth to every variant', () => {
    const audio = { ...AUDIO, audio: { ...AUDIO.audio, segments: segmentsOf([6, 96_000]) } };
    const variants = [variant('360p', 640, 360, 450_000), variant('720p', 1280, 720, 1_500_000)];

    const written = describeVariants(variants, audio);

    expect(written.map((v) => [v.bandwidth, v.averageBandwidth])).toEqual([
      [600_000 + 128_000, 600_000 + 128_000],
      [2_000_000 + 128_000, 2_000_000 + 128_000],
    ]);
  });

  it('joins the video and audio codecs as "video,audio"', () => {
    const written = describeVariants([variant('360p', 640, 360, 450_000)], AUDIO);

    expect(written[0]?.codecs).toBe('avc1.64001f,mp4a.40.2');
  });

  it('lists only the video codec when there is no audio', () => {
    const written = describeVariants([variant('360p', 640, 360, 450_000)], null);

    expect(written[0]?.codecs).toBe('avc1.64001f');
    expect(written[0]?.bandwidth).toBe(600_000);
  });

  it('sorts the variants by ascending bandwidth', () => {
    const variants = [
      variant('720p', 1280, 720, 1_500_000),
      variant('234p', 416, 234, 100_000),
      variant('360p', 640, 360, 450_000),
    ];

    const written = describeVariants(variants, null);

    expect(written.map((v) => v.uri)).toEqual([
      '234p/index.m3u8',
      '360p/index.m3u8',
      '720p/index.m3u8',
    ]);
  });

  it('carries each variant uri, size and frame rate through', () => {
    const written = describeVariants([variant('720p', 1280, 720, 1_500_000)], null);

    expect(written[0]).toMatchObject({
      uri: '720p/index.m3u8',
      width: 1280,
      height: 720,
      frameRate: 30000 / 1001,
    });
  });
});

describe('writeMasterPlaylist', () => {
  it('starts with #EXTM3U and declares independent segments', () => {
    const text = writeMasterPlaylist(WRITTEN, { uri: 'audio/index.m3u8', channels: 2 });

    const lines = text.split('\n');
    expect(lines[0]).toBe('#EXTM3U');
    expect(lines).toContain('#EXT-X-INDEPENDENT-SEGMENTS');
  });

  it('declares the audio rendition group when there is audio', () => {
    const text = writeMasterPlaylist(WRITTEN, { uri: 'audio/index.m3u8', channels: 2 });

    expect(text).toContain(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="Main",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"\n`,
    );
  });

  it('points every variant at the audio group when there is audio', () => {
    const text = writeMasterPlaylist(WRITTEN, { uri: 'audio/index.m3u8', channels: 2 });

    const streamInfs = text.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    expect(streamInfs).toHaveLength(2);
    for (const line of streamInfs) expect(line).toContain(`AUDIO="${AUDIO_GROUP}"`);
  });

  it('has no audio group or AUDIO attribute without audio', () => {
    const text = writeMasterPlaylist(WRITTEN, null);

    expect(text).not.toContain('#EXT-X-MEDIA:');
    expect(text).not.toContain('AUDIO=');
  });

  it('writes the bandwidths, codecs, resolution and a three-decimal frame rate', () => {
    const text = writeMasterPlaylist(WRITTEN, null);

    expect(text).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=3200000,AVERAGE-BANDWIDTH=2900000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970\n720p/index.m3u8\n',
    );
  });

  it('parses back to the same variants with their attributes', () => {
    const text = writeMasterPlaylist(WRITTEN, { uri: 'audio/index.m3u8', channels: 2 });

    const manifest = parse(text);

    expect(manifest.playlists).toHaveLength(2);
    expect(manifest.playlists?.[1]).toMatchObject({
      uri: '720p/index.m3u8',
      attributes: {
        BANDWIDTH: 3_200_000,
        CODECS: 'avc1.64001f,mp4a.40.2',
        RESOLUTION: { width: 1280, height: 720 },
        'FRAME-RATE': 29.97,
        AUDIO: AUDIO_GROUP,
      },
    });
    expect(Number(manifest.playlists?.[1]?.attributes['AVERAGE-BANDWIDTH'])).toBe(2_900_000);
  });

  it('parses back with the audio rendition in its group', () => {
    const text = writeMasterPlaylist(WRITTEN, { uri: 'audio/index.m3u8', channels: 2 });

    const manifest = parse(text);

    expect(manifest.independentSegments).toBe(true);
    expect(manifest.mediaGroups?.AUDIO[AUDIO_GROUP]?.Main).toMatchObject({
      default: true,
      autoselect: true,
      uri: 'audio/index.m3u8',
    });
  });

  it('parses back without an audio group or AUDIO attribute when there is no audio', () => {
    const text = writeMasterPlaylist(WRITTEN, null);

    const manifest = parse(text);

    expect(manifest.mediaGroups?.AUDIO).toEqual({});
    expect(manifest.playlists?.map((p) => p.attributes.AUDIO)).toEqual([undefined, undefined]);
  });
});

describe('writeIframePlaylist', () => {
  const segments = [
    {
      file: 'seg_00000.ts',
      duration: 6,
      bytes: 1000,
      keyframes: [
        { time: 0, offset: 564, length: 9400 },
        { time: 2, offset: 40000, length: 9000 },
        { time: 4, offset: 80000, length: 8000 },
      ],
    },
    {
      file: 'seg_00001.ts',
      duration: 2,
      bytes: 500,
      keyframes: [{ time: 0, offset: 564, length: 7000 }],
    },
  ];

  it('lists every IDR frame as a byte range lasting until the next one', () => {
    const parser = new Parser();
    parser.push(writeIframePlaylist(segments));
    parser.end();
    const m = parser.manifest as unknown as {
      iFramesOnly: boolean;
      segments: { uri: string; duration: number; byterange: { offset: number; length: number } }[];
    };
    expect(m.iFramesOnly).toBe(true);
    expect(
      m.segments.map((s) => [s.uri, s.duration, s.byterange.offset, s.byterange.length]),
    ).toEqual([
      ['seg_00000.ts', 2, 564, 9400],
      ['seg_00000.ts', 2, 40000, 9000],
      ['seg_00000.ts', 2, 80000, 8000],
      ['seg_00001.ts', 2, 564, 7000],
    ]);
  });

  it('declares the PAT/PMT before the first frame as the initialization section', () => {
    expect(writeIframePlaylist(segments)).toContain(
      '#EXT-X-MAP:URI="seg_00000.ts",BYTERANGE="564@0"',
    );
  });
});

describe('writeMasterPlaylist with untrusted subtitle names', () => {
  it('keeps every name inside its quoted string, on its own line', () => {
    const text = writeMasterPlaylist(WRITTEN, null, [
      {
        uri: 'subs/en/index.m3u8',
        language: 'en',
        name: 'English"\n#EXT-X-STREAM-INF:BANDWIDTH=1\r\nhttps://evil.example/x.m3u8',
      },
    ]);
    const lines = text.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF'))).toHaveLength(WRITTEN.length);
    expect(lines.some((l) => l.startsWith('https://'))).toBe(false);
    const media = lines.find((l) => l.includes('TYPE=SUBTITLES')) ?? '';
    expect(media).toMatch(
      /NAME="English' #EXT-X-STREAM-INF:BANDWIDTH=1 https:\/\/evil\.example\/x\.m3u8"/,
    );
  });
});
