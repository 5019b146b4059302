/**
 * Caption sidecars (SRT or WebVTT, as uploaded) → an HLS WebVTT subtitles rendition:
 * segments on the video's segment boundaries, each carrying the X-TIMESTAMP-MAP that ties
 * its cue times to the transport stream's clock (RFC 8216 §3.5).
 */
import { formatTimestamp, type NodeCue, parseSync } from 'subtitle';
import { MediaError } from './errors.js';

export interface Cue {
  /** Milliseconds from the start of the video. */
  start: number;
  end: number;
  text: string;
  settings?: string;
}

/** Sidecars larger than this are refused: captions for hours of video fit in far less. */
export const MAX_CAPTION_BYTES = 2 * 1024 * 1024;

export function parseCaptions(text: string): Cue[] {
  let nodes: ReturnType<typeof parseSync>;
  try {
    nodes = parseSync(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new MediaError('UNREADABLE_MEDIA', 'the captions are not valid SRT or WebVTT');
  }
  const cues = nodes
    .filter((n): n is NodeCue => n.type === 'cue')
    .map((n) => ({
      start: n.data.start,
      end: n.data.end,
      // Cue text is shown by players as markup: keep WebVTT's tags, drop anything else.
      text: n.data.text.replace(/<(?!\/?(b|i|u|c|v|lang|ruby|rt)\b)[^>]*>/gi, ''),
      settings: n.data.settings,
    }))
    .filter((c) => Number.isFinite(c.start) && c.end > c.start);
  return cues.sort((a, b) => a.start - b.start);
}

export interface SubtitleSegment {
  file: string;
  duration: number;
  body: string;
}

/**
 * One WebVTT file per video segment. A cue that spans a boundary appears in both segments,
 * as the HLS spec allows; players de-duplicate by timing.
 * @param mpegtsStart 90 kHz PTS of the video's first frame (LOCAL 00:00:00.000).
 */
export function segmentCaptions(
  cues: readonly Cue[],
  segmentDurations: readonly number[],
  mpegtsStart: number,
): SubtitleSegment[] {
  const header = `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${Math.round(mpegtsStart)},LOCAL:00:00:00.000\n`;
  let start = 0;
  return segmentDurations.map((duration, i) => {
    const from = start * 1000;
    const to = (start + duration) * 1000;
    start += duration;
    const inside = cues.filter((c) => c.start < to && c.end > from);
    const body = [
      header,
      ...inside.map(
        (c) =>
          `${formatTimestamp(c.start, { format: 'WebVTT' })} --> ${formatTimestamp(c.end, { format: 'WebVTT' })}${c.settings ? ` ${c.settings}` : ''}\n${c.text}\n`,
      ),
    ].join('\n');
    return { file: `sub_${String(i).padStart(5, '0')}.vtt`, duration, body };
  });
}
