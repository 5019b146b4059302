/**
 * HLS playlist writing (RFC 8216). Segment lists from every chunk are joined into one media
 * playlist per rendition; the multivariant playlist advertises measured bandwidths.
 */
import type { RenditionOutput, Segment } from './records.js';

/** Segment URIs are relative to the media playlist, which sits beside them. */
export interface MediaPlaylistInput {
  segments: readonly Segment[];
  targetDuration: number;
  mediaSequence?: number;
}

/** RFC 8216 §4.3.3.1: EXT-X-TARGETDURATION is the longest EXTINF rounded to an integer. */
export function targetDurationOf(segmentLists: readonly (readonly Segment[])[]): number {
  let longest = 0;
  for (const list of segmentLists) for (const s of list) longest = Math.max(longest, s.duration);
  return Math.max(1, Math.round(longest));
}

export function writeMediaPlaylist(input: MediaPlaylistInput): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${input.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${input.mediaSequence ?? 0}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  for (const s of input.segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.file);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export interface BandwidthFigures {
  /** Peak segment bitrate, bits per second (RFC 8216 §4.3.4.2 BANDWIDTH). */
  peak: number;
  /** Total bits over total duration (AVERAGE-BANDWIDTH). */
  average: number;
}

/** Measured from the segments as written (container overhead included, as the spec asks). */
export function measureBandwidth(segments: readonly Segment[]): BandwidthFigures {
  let bytes = 0;
  let seconds = 0;
  let peak = 0;
  for (const s of segments) {
    bytes += s.bytes;
    seconds += s.duration;
    // A very short tail segment has a noisy rate; it still counts, but against at least 1 s.
    if (s.duration > 0) peak = Math.max(peak, (s.bytes * 8) / Math.max(s.duration, 1));
  }
  const average = seconds > 0 ? (bytes * 8) / seconds : 0;
  return { peak: Math.ceil(Math.max(peak, average)), average: Math.ceil(average) };
}

export interface VariantInput {
  uri: string;
  width: number;
  height: number;
  frameRate: number;
  video: RenditionOutput;
}

export interface AudioInput {
  uri: string;
  audio: RenditionOutput;
}

export interface WrittenVariant {
  uri: string;
  width: number;
  height: number;
  frameRate: number;
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
}

/** Figures per variant: video plus the audio that plays with it. */
export function describeVariants(
  variants: readonly VariantInput[],
  audio: AudioInput | null,
): WrittenVariant[] {
  const a = audio ? measureBandwidth(audio.audio.segments) : { peak: 0, average: 0 };
  return variants
    .map((v) => {
      const m = measureBandwidth(v.video.segments);
      return {
        uri: v.uri,
        width: v.width,
        height: v.height,
        frameRate: v.frameRate,
        bandwidth: m.peak + a.peak,
        averageBandwidth: m.average + a.average,
        codecs: audio ? `${v.video.codecs},${audio.audio.codecs}` : v.video.codecs,
      };
    })
    .sort((x, y) => x.bandwidth - y.bandwidth);
}

export const AUDIO_GROUP = 'aac';

export function writeMasterPlaylist(
  variants: readonly WrittenVariant[],
  audio: { uri: string; channels: number } | null,
): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:4', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="Main",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels}",URI="${audio.uri}"`,
    );
  }
  for (const v of variants) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth}`,
      `AVERAGE-BANDWIDTH=${v.averageBandwidth}`,
      `CODECS="${v.codecs}"`,
      `RESOLUTION=${v.width}x${v.height}`,
      `FRAME-RATE=${v.frameRate.toFixed(3)}`,
    ];
    if (audio) attrs.push(`AUDIO="${AUDIO_GROUP}"`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  lines.push('');
  return lines.join('\n');
}
