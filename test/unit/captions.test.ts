import { describe, expect, it } from 'vitest';
import { parseCaptions, segmentCaptions } from '../../functions/core/captions.js';

describe('parseCaptions', () => {
  it('reads SRT with CRLF line ends and a byte-order mark', () => {
    const cues = parseCaptions('\uFEFF1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\n\r\n');
    expect(cues).toEqual([{ start: 1000, end: 2500, text: 'Hello', settings: undefined }]);
  });

  it('reads WebVTT with cue settings', () => {
    const cues = parseCaptions('WEBVTT\n\n00:01.000 --> 00:02.000 align:start\nHi\n');
    expect(cues[0]).toMatchObject({ start: 1000, end: 2000, settings: 'align:start' });
  });

  it('keeps WebVTT markup but drops any other tag', () => {
    const [cue] = parseCaptions(
      '1\n00:00:01,000 --> 00:00:02,000\n<b>bold</b> <script>x</script><font color="red">red</font>\n',
    );
    expect(cue?.text).toBe('<b>bold</b> xred');
  });

  it('drops cues that end before they start', () => {
    expect(parseCaptions('1\n00:00:05,000 --> 00:00:04,000\nBackwards\n')).toEqual([]);
  });
});

describe('segmentCaptions', () => {
  const cues = [
    { start: 1000, end: 2000, text: 'one' },
    { start: 5500, end: 6500, text: 'spans' },
    { start: 13_000, end: 13_500, text: 'late' },
  ];

  it('makes one WebVTT file per video segment, mapped to the transport stream clock', () => {
    const segments = segmentCaptions(cues, [6, 6, 2], 216_000);
    expect(segments.map((s) => [s.file, s.duration])).toEqual([
      ['sub_00000.vtt', 6],
      ['sub_00001.vtt', 6],
      ['sub_00002.vtt', 2],
    ]);
    for (const s of segments) {
      expect(s.body.startsWith('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:216000,LOCAL:00:00:00.000\n')).toBe(
        true,
      );
    }
  });

  it('repeats a cue that spans a boundary in both segments', () => {
    const [a, b, c] = segmentCaptions(cues, [6, 6, 2], 0);
    expect(a?.body).toContain('00:00:05.500 --> 00:00:06.500\nspans');
    expect(b?.body).toContain('00:00:05.500 --> 00:00:06.500\nspans');
    expect(b?.body).not.toContain('late');
    expect(c?.body).toContain('00:00:13.000 --> 00:00:13.500\nlate');
  });
});
