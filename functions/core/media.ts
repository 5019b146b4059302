/**
 * What Spool knows about a source, normalised from ffprobe's JSON, and the checks that run
 * before any compute is spent on it. Every upload is hostile: ffprobe's output is parsed
 * with a schema and every number is bounded.
 */
import { z } from 'zod';
import { MediaError } from './errors.js';

export interface Rational {
  num: number;
  den: number;
}

export interface MediaInfo {
  /** ffmpeg demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  formatName: string;
  /** Seconds, of the video stream when known (audio may run longer). */
  duration: number;
  streamCount: number;
  video?: {
    codec: string;
    /** Display size: after rotation and sample aspect ratio. */
    width: number;
    height: number;
    frameRate: Rational;
    /** The stream's timestamps are not on a constant-rate grid. */
    variableFrameRate: boolean;
    /** Seconds from the file's start to the first video frame (ffmpeg's `-ss` origin). */
    startOffset: number;
    /** The first frame's own timestamp, in seconds (ffprobe's stream start_time). */
    startTime: number;
    /** Keyframe times in seconds from the file's start, when the container's index says. */
    keyframes?: number[];
    /** The number of frames shown, when the container's index says. */
    frames?: number;
    /** byteEnds[i]: where the file's data for its first i seconds ends (MP4 index). */
    byteEnds?: number[];
  };
  audio?: { codec: string; channels: number; sampleRate: number };
}

/**
 * Demuxers an upload may use (ffmpeg's `-format_whitelist`). Playlists, concat lists and
 * image sequences are absent on purpose: they make ffmpeg open other files or URLs.
 */
export const ALLOWED_DEMUXERS = [
  'mov',
  'matroska',
  'avi',
  'mpegts',
  'flv',
  'ogg',
  'wav',
  'mpeg',
  'asf',
] as const;

/** Video codecs the bundled ffmpeg decodes reliably. */
const ALLOWED_VIDEO_CODECS = new Set([
  'h264',
  'hevc',
  'vp8',
  'vp9',
  'av1',
  'mpeg4',
  'mpeg2video',
  'mpeg1video',
  'mjpeg',
  'prores',
  'theora',
  'wmv3',
  'vc1',
  'dnxhd',
  'h263',
]);

const num = z.coerce.number().finite();
const ffprobeSchema = z.object({
  format: z.object({
    format_name: z.string(),
    duration: num.optional(),
    start_time: num.optional(),
  }),
  streams: z.array(
    z.object({
      codec_type: z.string().optional(),
      codec_name: z.string().optional(),
      width: num.optional(),
      height: num.optional(),
      r_frame_rate: z.string().optional(),
      avg_frame_rate: z.string().optional(),
      duration: num.optional(),
      start_time: num.optional(),
      channels: num.optional(),
      sample_rate: num.optional(),
      sample_aspect_ratio: z.string().optional(),
      disposition: z.object({ attached_pic: num.optional() }).partial().optional(),
      tags: z.record(z.string(), z.string()).optional(),
      side_data_list: z.array(z.object({ rotation: num.optional() }).passthrough()).optional(),
    }),
  ),
});

/** `30000/1001` (frame rates) or `16:15` (ffprobe's aspect ratios). */
export function parseRational(text: string | undefined): Rational | undefined {
  const m = /^(\d+)[/:](\d+)$/.exec(text ?? '');
  if (!m) return undefined;
  const r = { num: Number(m[1]), den: Number(m[2]) };
  return r.num > 0 && r.den > 0 ? r : undefined;
}

export const rationalValue = (r: Rational): number => r.num / r.den;

function rotationOf(stream: z.infer<typeof ffprobeSchema>['streams'][number]): number {
  const fromSideData = stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
  const fromTag = stream.tags?.rotate !== undefined ? Number(stream.tags.rotate) : undefined;
  const r = fromSideData ?? fromTag ?? 0;
  return Number.isFinite(r) ? ((Math.round(r) % 360) + 360) % 360 : 0;
}

/** Normalise ffprobe JSON. Throws UNREADABLE_MEDIA if it is not what ffprobe prints for media. */
export function normalizeProbe(raw: unknown): MediaInfo {
  const parsed = ffprobeSchema.safeParse(raw);
  if (!parsed.success) throw new MediaError('UNREADABLE_MEDIA', 'the upload is not a media file');
  const { format, streams } = parsed.data;
  const formatStart = format.start_time ?? 0;

  // Cover art is a one-frame "video" stream in MP3/M4A; it is not the video.
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const a = streams.find((s) => s.codec_type === 'audio');

  let video: MediaInfo['video'];
  if (v?.width && v.height) {
    const rotation = rotationOf(v);
    const sar = parseRational(v.sample_aspect_ratio) ?? { num: 1, den: 1 };
    // Non-square pixels: display width is the coded width stretched by the SAR.
    let width = Math.round((v.width * sar.num) / sar.den);
    let height = v.height;
    if (rotation === 90 || rotation === 270) [width, height] = [height, width];
    const avg = parseRational(v.avg_frame_rate);
    const real = parseRational(v.r_frame_rate);
    const frameRate = avg ?? real ?? { num: 30, den: 1 };
    const variableFrameRate =
      !avg || !real || Math.abs(rationalValue(avg) / rationalValue(real) - 1) > 0.002;
    video = {
      codec: v.codec_name ?? 'unknown',
      width,
      height,
      frameRate: variableFrameRate ? frameRate : real,
      variableFrameRate,
      startOffset: Math.max(0, (v.start_time ?? formatStart) - formatStart),
      startTime: v.start_time ?? formatStart,
    };
  }

  return {
    formatName: format.format_name,
    duration: v?.duration ?? format.duration ?? 0,
    streamCount: streams.length,
    video,
    audio: a
      ? {
          codec: a.codec_name ?? 'unknown',
          channels: a.channels ?? 0,
          sampleRate: a.sample_rate ?? 0,
        }
      : undefined,
  };
}

export interface MediaLimits {
  maxDurationSeconds: number;
  /** Pixels per frame; default 8K UHD. */
  maxPixels?: number;
  maxFrameRate?: number;
  maxStreams?: number;
}

/** Reject a source before compute is spent on it. */
export function validateMedia(info: MediaInfo, limits: MediaLimits): void {
  const maxPixels = limits.maxPixels ?? 7680 * 4320;
  const maxFrameRate = limits.maxFrameRate ?? 240;
  const maxStreams = limits.maxStreams ?? 16;
  const demuxers = info.formatName.split(',');
  if (!demuxers.some((d) => (ALLOWED_DEMUXERS as readonly string[]).includes(d))) {
    throw new MediaError('UNSUPPORTED_CONTAINER', `container '${info.formatName}' is not accepted`);
  }
  if (info.streamCount > maxStreams) {
    throw new MediaError('TOO_MANY_STREAMS', `the upload has more than ${maxStreams} streams`);
  }
  const { video } = info;
  if (!video) throw new MediaError('NO_VIDEO_STREAM', 'the upload has no video stream');
  if (!ALLOWED_VIDEO_CODECS.has(video.codec)) {
    throw new MediaError('UNSUPPORTED_CODEC', `video codec '${video.codec}' is not accepted`);
  }
  if (video.width < 16 || video.height < 16 || video.width * video.height > maxPixels) {
    throw new MediaError(
      'RESOLUTION_TOO_LARGE',
      `resolution ${video.width}x${video.height} is outside 16x16 to ${maxPixels} pixels`,
    );
  }
  const fps = rationalValue(video.frameRate);
  if (!(fps > 0) || fps > maxFrameRate) {
    throw new MediaError('FRAME_RATE_TOO_HIGH', `frame rate ${fps.toFixed(2)} is not accepted`);
  }
  if (!(info.duration > 0)) {
    throw new MediaError('UNREADABLE_MEDIA', 'the duration of the upload could not be read');
  }
  if (info.duration > limits.maxDurationSeconds) {
    throw new MediaError(
      'DURATION_TOO_LONG',
      `duration ${Math.round(info.duration)} s is over the limit of ${limits.maxDurationSeconds} s`,
    );
  }
}

/** ffmpeg's mov demuxer (MP4, MOV, M4V, 3GP): the files whose moov box ingest can index. */
export const isMp4Family = (formatName: string): boolean => /\bmov\b|\bmp4\b/.test(formatName);

/**
 * Adds keyframe times read from the container's index, in the probe's terms (seconds from the
 * file's start, like `-ss`). They are used only if the index and ffprobe agree on when the
 * video starts: a disagreement means the index was read differently from how ffmpeg reads
 * it (an edit list, say), and then the plan goes without.
 */
export function withKeyframes(
  info: MediaInfo,
  index: { start: number; keyframes: number[]; frames?: number; byteEnds?: number[] } | undefined,
): MediaInfo {
  const video = info.video;
  if (!video || !index || index.keyframes.length === 0) return info;
  if (Math.abs(index.start - video.startTime) > 0.002) return info;
  const fileStart = video.startTime - video.startOffset;
  const keyframes = index.keyframes.map((k) => Math.round((k - fileStart) * 1e6) / 1e6);
  // The byte table is indexed by seconds of the file's own timeline: usable as is only when
  // that starts at 0, as it nearly always does.
  const byteEnds = Math.abs(fileStart) < 1e-3 ? index.byteEnds : undefined;
  return {
    ...info,
    video: {
      ...video,
      keyframes,
      ...(index.frames ? { frames: index.frames } : {}),
      ...(byteEnds ? { byteEnds } : {}),
    },
  };
}
