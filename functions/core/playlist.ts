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
  /** EVENT while the video is still growing (no ENDLIST yet); VOD when it is complete. */
  type?: 'VOD' | 'EVENT';
  /** Query parameters every URI carries on from the playlist's own URL (see below). */
  query?: readonly string[];
}

/**
 * Signed playback (core/playback.ts): relative URIs drop the playlist URL's query, which
 * holds the signature. Each named parameter is declared a variable taken from the playlist's
 * own URL (EXT-X-DEFINE QUERYPARAM) and appended to every URI as `name={$name}`, which the
 * player fills in (draft-pantos-hls-rfc8216bis §4.3, §4.4.2.3). QUERYPARAM needs protocol
 * version 11.
 */
function queryVariables(query: readonly string[]) {
  return {
    version: (base: number) => (query.length > 0 ? 11 : base),
    defines: query.map((name) => `#EXT-X-DEFINE:QUERYPARAM="${name}"`),
    uri: (uri: string) => withQueryVariables(uri, query),
  };
}

/** `uri` with `name={$name}` appended for every name. */
export function withQueryVariables(uri: string, names: readonly string[]): string {
  if (names.length === 0) return uri;
  const query = names.map((name) => `${name}={$${name}}`).join('&');
  return `${uri}${uri.includes('?') ? '&' : '?'}${query}`;
}

/** RFC 8216 §4.3.3.1: EXT-X-TARGETDURATION is the longest EXTINF rounded to an integer. */
export function targetDurationOf(segmentLists: readonly (readonly Segment[])[]): number {
  let longest = 0;
  for (const list of segmentLists) for (const s of list) longest = Math.max(longest, s.duration);
  return Math.max(1, Math.round(longest));
}

export function writeMediaPlaylist(input: MediaPlaylistInput): string {
  const type = input.type ?? 'VOD';
  const vars = queryVariables(input.query ?? []);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${vars.version(6)}`,
    ...vars.defines,
    `#EXT-X-TARGETDURATION:${input.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${input.mediaSequence ?? 0}`,
    `#EXT-X-PLAYLIST-TYPE:${type}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  // A growing playlist would start players at its live edge; this one is watched from the top.
  if (type === 'EVENT') lines.push('#EXT-X-START:TIME-OFFSET=0,PRECISE=YES');
  for (const s of input.segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, vars.uri(s.file));
  if (type === 'VOD') lines.push('#EXT-X-ENDLIST');
  lines.push('');
  return lines.join('\n');
}

/**
 * An I-frame playlist (RFC 8216 §4.3.3.6): byte ranges of the IDR frames inside the existing
 * segments, for trick play and scrubbing. Each I-frame lasts until the next one. The
 * transport stream's PAT/PMT at the start of the first segment is the initialization section.
 */
export function writeIframePlaylist(
  segments: readonly Segment[],
  query: readonly string[] = [],
): string {
  const vars = queryVariables(query);
  const frames: { file: string; offset: number; length: number; start: number }[] = [];
  let start = 0;
  for (const s of segments) {
    for (const k of s.keyframes ?? []) {
      frames.push({ file: s.file, offset: k.offset, length: k.length, start: start + k.time });
    }
    start += s.duration;
  }
  const durations = frames.map((f, i) => (frames[i + 1]?.start ?? start) - f.start);
  const first = frames[0];
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${vars.version(5)}`,
    ...vars.defines,
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.round(Math.max(0, ...durations)))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-I-FRAMES-ONLY',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  if (first && first.offset > 0) {
    lines.push(`#EXT-X-MAP:URI="${vars.uri(first.file)}",BYTERANGE="${first.offset}@0"`);
  }
  frames.forEach((f, i) => {
    lines.push(
      `#EXTINF:${(durations[i] ?? 0).toFixed(6)},`,
      `#EXT-X-BYTERANGE:${f.length}@${f.offset}`,
      vars.uri(f.file),
    );
  });
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/** Peak bitrate of an I-frame playlist: each frame's bits over the time it stands for. */
export function iframeBandwidth(segments: readonly Segment[]): BandwidthFigures {
  let bytes = 0;
  let peak = 0;
  let total = 0;
  const starts: { start: number; length: number }[] = [];
  let t = 0;
  for (const s of segments) {
    for (const k of s.keyframes ?? []) starts.push({ start: t + k.time, length: k.length });
    t += s.duration;
  }
  starts.forEach((f, i) => {
    const d = (starts[i + 1]?.start ?? t) - f.start;
    bytes += f.length;
    total += d;
    if (d > 0) peak = Math.max(peak, (f.length * 8) / Math.max(d, 1));
  });
  const average = total > 0 ? (bytes * 8) / total : 0;
  return { peak: Math.ceil(Math.max(peak, average)), average: Math.ceil(average) };
}

export interface BandwidthFigures {
  /** Peak segment bitrate, bits per second (RFC 8216 §4.3.4.2 BANDWIDTH). */
  peak: number;
  /** Total bits over total duration (AVERAGE-BANDWIDTH). */
  average: number;
}

/**
 * Measured from the segments as written, container overhead included. RFC 8216 §4.3.4.2:
 * the peak is the largest bit rate of any run of contiguous segments lasting between 0.5 and
 * 1.5 target durations (so a short tail segment is judged with its neighbour, not alone).
 */
export function measureBandwidth(
  segments: readonly Segment[],
  targetDuration = targetDurationOf([segments]),
): BandwidthFigures {
  let bytes = 0;
  let seconds = 0;
  for (const s of segments) {
    bytes += s.bytes;
    seconds += s.duration;
  }
  const average = seconds > 0 ? (bytes * 8) / seconds : 0;
  let peak = 0;
  for (let i = 0; i < segments.length; i++) {
    let b = 0;
    let d = 0;
    for (let j = i; j < segments.length; j++) {
      b += segments[j]?.bytes ?? 0;
      d += segments[j]?.duration ?? 0;
      if (d > 1.5 * targetDuration) break;
      if (d >= 0.5 * targetDuration) peak = Math.max(peak, (b * 8) / d);
    }
  }
  // A video shorter than half a target duration has no qualifying run: its whole is its peak.
  return { peak: Math.ceil(Math.max(peak, average)), average: Math.ceil(average) };
}

export interface VariantInput {
  uri: string;
  iframesUri?: string;
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
  /** The variant's I-frame playlist, when its segments carry keyframe positions. */
  iframes?: { uri: string; bandwidth: number; averageBandwidth: number; codecs: string };
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
      const hasKeyframes = v.video.segments.some((s) => (s.keyframes?.length ?? 0) > 0);
      const i = iframeBandwidth(v.video.segments);
      return {
        iframes:
          v.iframesUri && hasKeyframes
            ? {
                uri: v.iframesUri,
                bandwidth: i.peak,
                averageBandwidth: i.average,
                codecs: v.video.codecs,
              }
            : undefined,
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

export const SUBTITLE_GROUP = 'subs';

export interface SubtitleInput {
  uri: string;
  language: string;
  name: string;
}

/**
 * An HLS quoted-string may hold neither a double quote nor a line break (RFC 8216 4.2);
 * records written before the API checked labels may still carry them.
 */
function quotedString(text: string): string {
  return text.replace(/"/g, "'").replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ');
}

export function writeMasterPlaylist(
  variants: readonly WrittenVariant[],
  audio: { uri: string; channels: number } | null,
  subtitles: readonly SubtitleInput[] = [],
  query: readonly string[] = [],
): string {
  const vars = queryVariables(query);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${vars.version(6)}`,
    ...vars.defines,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  if (audio) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="Main",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels}",URI="${vars.uri(audio.uri)}"`,
    );
  }
  for (const sub of subtitles) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="${SUBTITLE_GROUP}",NAME="${quotedString(sub.name)}",LANGUAGE="${quotedString(sub.language)}",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="${quotedString(vars.uri(sub.uri))}"`,
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
    if (subtitles.length > 0) attrs.push(`SUBTITLES="${SUBTITLE_GROUP}"`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, vars.uri(v.uri));
  }
  for (const v of variants) {
    if (!v.iframes) continue;
    lines.push(
      `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=${v.iframes.bandwidth},AVERAGE-BANDWIDTH=${v.iframes.averageBandwidth},CODECS="${v.iframes.codecs}",RESOLUTION=${v.width}x${v.height},URI="${vars.uri(v.iframes.uri)}"`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
