/**
 * What Spool knows about a source, normalised from ffprobe's JSON, and the checks that run
 * before any compute is spent on it. Every upload is hostile: ffprobe's output is parsed
 * with a schema and every number is bounded.
 */
import { z } from 'zod';
import { MediaError } from './errors.js';
import { round6 } from './seek.js';

export interface Rational {
  num: number;
  den: number;
}

export interface MediaInfo {
  /** ffmpeg demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  formatName: string;
  /** Seconds, of the video stream when known (audio may run longer). */
  duration: number;
  /** Every stream, data and subtitle tracks included. */
  streamCount: number;
  /** Audio and video streams only. */
  mediaStreamCount: number;
  video?: {
    /** ffmpeg's stream index of the main video (`-map 0:N`): not always 0 (phones put a
     * metadata track first). */
    streamIndex: number;
    codec: string;
    /** Display size: after rotation and sample aspect ratio. */
    width: number;
    height: number;
    /** Stored size, after rotation (the pixels ffmpeg's filters get). */
    coded?: { width: number; height: number };
    /** The source's real average rate (frames over time), else its nominal rate. */
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
    /**
     * The longest time between keyframes seen in the opening packets (at least the packets'
     * span, when only one keyframe was seen), where the prober measured it.
     */
    keyframeInterval?: number;
    /** byteEnds[i]: where the file's data for its first i seconds ends (MP4 index). */
    byteEnds?: number[];
    /** ffmpeg's pixel format, e.g. `yuv420p10le`, `yuvj420p`, `bgr0`. */
    pixFmt?: string;
    /** What the stream says of its colour (ffprobe's names); undefined when unset. */
    colour?: ColourTags;
    /** ffprobe's field_order: `progressive`, `tt`, `bb`, `tb`, `bt`; undefined when unknown. */
    fieldOrder?: string;
    /**
     * The opening pass found combed pictures that nothing flags interlaced, with this field
     * first: deinterlace every frame (fieldOrder then says the same).
     */
    combed?: 'tff' | 'bff';
  };
  audio?: {
    streamIndex: number;
    codec: string;
    channels: number;
    sampleRate: number;
    /** The first sample's own timestamp, in seconds (on the same clock as video.startTime). */
    startTime?: number;
  };
}

export interface ColourTags {
  primaries?: string;
  transfer?: string;
  matrix?: string;
  /** `tv` (limited) or `pc` (full). */
  range?: string;
}

/**
 * Demuxers an upload may use (ffmpeg's `-format_whitelist`), the containers people upload:
 * MP4/MOV/3GP (`mov`), Matroska/WebM, AVI, MPEG-TS, MPEG-PS/VOB (`mpeg`), FLV, ASF/WMV, MXF,
 * Ogg, DV, IVF; WAV only so an audio-only upload is named as such. Playlists, concat lists
 * and image sequences are absent on purpose: they make ffmpeg open other files or URLs.
 * README.md, "Accepted uploads", lists these for users.
 */
export const ALLOWED_DEMUXERS = [
  'mov',
  'matroska',
  'avi',
  'mpegts',
  'mpeg',
  'flv',
  'asf',
  'mxf',
  'ogg',
  'dv',
  'ivf',
  'wav',
] as const;

/**
 * Video codecs accepted (ffprobe's names), all decoded by the bundled ffmpeg: phone, web and
 * camera codecs, broadcast and DVD MPEG-2, legacy PC codecs (MPEG-4 Part 2 and the MS-MPEG-4
 * variants, WMV 1/2/3, VC-1, H.263, Sorenson), editing intermediates (ProRes, DNxHD/HR,
 * CineForm, DV, FFV1, MJPEG) and screen recorders' VMnc.
 */
const ALLOWED_VIDEO_CODECS: ReadonlySet<string> = new Set([
  'h264',
  'hevc',
  'vp8',
  'vp9',
  'av1',
  'mpeg1video',
  'mpeg2video',
  'mpeg4',
  'msmpeg4v1',
  'msmpeg4v2',
  'msmpeg4v3',
  'wmv1',
  'wmv2',
  'wmv3',
  'vc1',
  'h263',
  'flv1',
  'mjpeg',
  'prores',
  'dnxhd',
  'cfhd',
  'dvvideo',
  'ffv1',
  'theora',
  'vmnc',
]);

/**
 * Frame rates kept as they are when a source's real average is within 2% of one
 * (a phone's variable 29.6 fps becomes 29.97); other sources keep their own average.
 */
export const STANDARD_RATES: readonly Rational[] = [
  { num: 24000, den: 1001 },
  { num: 24, den: 1 },
  { num: 25, den: 1 },
  { num: 30000, den: 1001 },
  { num: 30, den: 1 },
  { num: 50, den: 1 },
  { num: 60000, den: 1001 },
  { num: 60, den: 1 },
];

/**
 * Matroska/WebM and FLV, what webcams, screen recorders and streams write, often state a
 * nominal rate (30) for video that delivers fewer frames (a webcam's 18.7 fps); MPEG-TS and
 * -PS, FLV and Ogg have no index to seek by, so a chunk must start decoding a whole GOP
 * early. For these the prober also reads the timestamps and key flags of this many opening
 * video packets, with no decode. MP4 needs none (ffprobe's average there is the index's
 * frame count over its duration, and the index has the keyframes).
 */
export const TIMING_PACKETS = 300;
export const measuresFrameTiming = (formatName: string): boolean =>
  /\b(matroska|webm|flv|mpegts|mpeg|ogg)\b/.test(formatName);
/** Of those, the containers whose stated frame rate is not to be trusted. */
const misstatesFrameRate = (formatName: string): boolean =>
  /\b(matroska|webm|flv)\b/.test(formatName);

/**
 * The opening pass: the first frames of the main video, decoded at ingest (see
 * parseOpening). It says where the first cleanly decodable picture is (a broadcast capture
 * that starts mid-GOP has none before its first recovery point), and whether the pictures
 * are combed where nothing flags them interlaced.
 */
export const OPENING_FRAMES = 40;
/** idet's first calls come before it has a history to judge by: not counted. */
const IDET_WARMUP_FRAMES = 5;
/** A share of judged frames that idet calls interlaced above this: the source is combed. */
const COMBED_SHARE = 0.5;

export interface OpeningFacts {
  /** The first decoded picture's timestamp (the file's own clock), if any decoded. */
  firstFrameTime?: number;
  /** idet's multi-frame calls over the opening, past its warm-up. */
  idet: { tff: number; bff: number; progressive: number; undetermined: number };
}

/** The opening pass's output: `metadata=print` lines (see recipe.openingArgs). */
export function parseOpening(text: string): OpeningFacts {
  const idet = { tff: 0, bff: 0, progressive: 0, undetermined: 0 };
  let firstFrameTime: number | undefined;
  let frame = -1;
  for (const line of text.split('\n')) {
    const head = /^frame:\s*(\d+)\s+pts:\s*\S+\s+pts_time:(\S+)/.exec(line);
    if (head) {
      frame = Number(head[1]);
      const t = Number(head[2]);
      if (firstFrameTime === undefined && Number.isFinite(t)) firstFrameTime = t;
      continue;
    }
    const call = /^lavfi\.idet\.multiple\.current_frame=(tff|bff|progressive|undetermined)$/.exec(
      line.trim(),
    );
    if (call && frame >= IDET_WARMUP_FRAMES) idet[call[1] as keyof typeof idet]++;
  }
  return { ...(firstFrameTime !== undefined ? { firstFrameTime } : {}), idet };
}

/** Which field idet sees first, where it calls most of the opening interlaced. */
export function combedFields(idet: OpeningFacts['idet'] | undefined): 'tff' | 'bff' | undefined {
  if (!idet) return undefined;
  const judged = idet.tff + idet.bff + idet.progressive;
  if (judged < 10 || (idet.tff + idet.bff) / judged <= COMBED_SHARE) return undefined;
  return idet.tff >= idet.bff ? 'tff' : 'bff';
}

const INTERLACED_ORDERS = new Set(['tt', 'bb', 'tb', 'bt']);

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
      // Goes into ffmpeg's -map and filter graph: a plain stream number only.
      index: z.coerce.number().int().min(0).max(9999).optional(),
      nb_frames: num.optional(),
      duration: num.optional(),
      start_time: num.optional(),
      channels: num.optional(),
      sample_rate: num.optional(),
      sample_aspect_ratio: z.string().optional(),
      pix_fmt: z.string().optional(),
      color_primaries: z.string().optional(),
      color_transfer: z.string().optional(),
      color_space: z.string().optional(),
      color_range: z.string().optional(),
      field_order: z.string().optional(),
      disposition: z
        .object({ default: num.optional(), attached_pic: num.optional() })
        .partial()
        .optional(),
      tags: z.record(z.string(), z.string()).optional(),
      side_data_list: z.array(z.object({ rotation: num.optional() }).passthrough()).optional(),
    }),
  ),
  /** Opening video packets, where the prober measured the real rate (see TIMING_PACKETS). */
  packets: z
    .array(
      z.object({
        stream_index: num.optional(),
        pts_time: num.optional(),
        dts_time: num.optional(),
        flags: z.string().max(8).optional(),
      }),
    )
    .max(10 * TIMING_PACKETS)
    .optional(),
  /** The opening pass over the main video, where the prober ran it (OpeningFacts). */
  opening: z
    .object({
      firstFrameTime: num.optional(),
      idet: z.object({ tff: num, bff: num, progressive: num, undetermined: num }),
    })
    .optional(),
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

type ProbedStream = z.infer<typeof ffprobeSchema>['streams'][number];

/** The stream marked default, else the first: what a player would pick. */
const mainOf = (streams: ProbedStream[]): ProbedStream | undefined =>
  streams.find((s) => s.disposition?.default === 1) ?? streams[0];

/** ffprobe says `unknown` (or nothing) for an unset tag. */
const tag = (value: string | undefined): string | undefined =>
  value && value !== 'unknown' ? value : undefined;

function colourOf(stream: ProbedStream): ColourTags | undefined {
  const colour: ColourTags = {
    primaries: tag(stream.color_primaries),
    transfer: tag(stream.color_transfer),
    matrix: tag(stream.color_space),
    range: tag(stream.color_range),
  };
  return Object.values(colour).some((v) => v !== undefined) ? colour : undefined;
}

/**
 * Frames per second from the packets' timestamps: (n - 1) frames over the time from the
 * first to the last, to a thousandth. Undefined with too few packets to say.
 */
function measuredRate(packets: Packet[] | undefined, stream: number): Rational | undefined {
  const times = [
    ...new Set(
      (packets ?? [])
        .filter((p) => (p.stream_index ?? stream) === stream)
        .map((p) => p.pts_time ?? p.dts_time)
        .filter((t): t is number => t !== undefined),
    ),
  ].sort((a, b) => a - b);
  const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
  if (times.length < 8 || !(span > 0)) return undefined;
  const fps = Math.round(((times.length - 1) / span) * 1000);
  return fps > 0 ? { num: fps, den: 1000 } : undefined;
}

type Packet = { stream_index?: number; pts_time?: number; dts_time?: number; flags?: string };

/** The longest gap between keyframes among the packets (see MediaInfo keyframeInterval). */
function keyframeIntervalOf(packets: Packet[] | undefined, stream: number): number | undefined {
  const mine = (packets ?? []).filter((p) => (p.stream_index ?? stream) === stream);
  const time = (p: Packet) => p.pts_time ?? p.dts_time;
  const all = mine.map(time).filter((t): t is number => t !== undefined);
  if (all.length < 2) return undefined;
  const keys = mine
    .filter((p) => p.flags?.includes('K'))
    .map(time)
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const span = Math.max(...all) - Math.min(...all);
  if (keys.length < 2) return round6(span);
  let longest = 0;
  for (let i = 1; i < keys.length; i++)
    longest = Math.max(longest, (keys[i] ?? 0) - (keys[i - 1] ?? 0));
  return round6(longest);
}

/** Normalise ffprobe JSON. Throws UNREADABLE_MEDIA if it is not what ffprobe prints for media. */
export function normalizeProbe(raw: unknown): MediaInfo {
  const parsed = ffprobeSchema.safeParse(raw);
  if (!parsed.success) throw new MediaError('UNREADABLE_MEDIA', 'the upload is not a media file');
  const { format, streams } = parsed.data;
  const formatStart = format.start_time ?? 0;

  // Cover art is a one-frame "video" stream in MP3/M4A; it is not the video. Data, subtitle
  // and timecode tracks are neither video nor audio, and are ignored.
  const pictures = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  // A motion photo's still is a one-frame video track beside the real one.
  const moving = pictures.filter((s) => s.nb_frames !== 1);
  const v = mainOf(moving.length > 0 ? moving : pictures);
  const a = mainOf(streams.filter((s) => s.codec_type === 'audio'));
  const indexOf = (s: ProbedStream) => s.index ?? streams.indexOf(s);

  let video: MediaInfo['video'];
  /** Seconds from the video's first packet to its first whole picture. */
  let late = 0;
  if (v?.width && v.height) {
    const rotation = rotationOf(v);
    const sar = parseRational(v.sample_aspect_ratio) ?? { num: 1, den: 1 };
    // Non-square pixels: display width is the coded width stretched by the SAR.
    let width = Math.round((v.width * sar.num) / sar.den);
    let height = v.height;
    const turned = rotation === 90 || rotation === 270;
    if (turned) [width, height] = [height, width];
    const coded = turned
      ? { width: v.height, height: v.width }
      : { width: v.width, height: v.height };
    const avg = parseRational(v.avg_frame_rate);
    const real = parseRational(v.r_frame_rate);
    // Only where containers misstate the rate: broadcast TS is constant-rate, and a few
    // damaged opening packets there must not lower it.
    const measured = misstatesFrameRate(format.format_name)
      ? measuredRate(parsed.data.packets, indexOf(v))
      : undefined;
    const stated = avg ?? real ?? { num: 30, den: 1 };
    // Fewer frames than the container states: its timestamps say the real average.
    const frameRate =
      measured && rationalValue(measured) < 0.9 * rationalValue(stated) ? measured : stated;
    const variableFrameRate =
      frameRate === measured ||
      !avg ||
      !real ||
      Math.abs(rationalValue(avg) / rationalValue(real) - 1) > 0.002;
    const statedOrder = tag(v.field_order);
    const opening = parsed.data.opening;
    // Combed pictures that nothing flags (a container that says progressive, or says
    // nothing): each frame's own flag cannot be trusted to say which to deinterlace.
    const combed = INTERLACED_ORDERS.has(statedOrder ?? '')
      ? undefined
      : combedFields(opening?.idet);
    const fieldOrder = combed ? (combed === 'tff' ? 'tt' : 'bb') : statedOrder;
    // A capture that starts mid-GOP: its video starts at the first picture that decodes
    // whole, not at the first packet (the ones before show grey, broken pictures).
    const statedStart = v.start_time ?? formatStart;
    late =
      opening?.firstFrameTime !== undefined && opening.firstFrameTime > statedStart + 1e-3
        ? round6(opening.firstFrameTime - statedStart)
        : 0;
    const keyframeInterval = keyframeIntervalOf(parsed.data.packets, indexOf(v));
    const colour = colourOf(v);
    video = {
      streamIndex: indexOf(v),
      codec: v.codec_name ?? 'unknown',
      width,
      height,
      coded,
      frameRate: variableFrameRate ? frameRate : real,
      variableFrameRate,
      startOffset: Math.max(0, round6(statedStart + late - formatStart)),
      startTime: round6(statedStart + late),
      ...(v.pix_fmt ? { pixFmt: v.pix_fmt } : {}),
      ...(colour ? { colour } : {}),
      ...(fieldOrder ? { fieldOrder } : {}),
      ...(combed ? { combed } : {}),
      ...(keyframeInterval !== undefined ? { keyframeInterval } : {}),
    };
  }

  return {
    formatName: format.format_name,
    duration: Math.max(0, round6((v?.duration ?? format.duration ?? 0) - late)),
    streamCount: streams.length,
    mediaStreamCount: streams.filter((s) => s.codec_type === 'video' || s.codec_type === 'audio')
      .length,
    video,
    audio: a
      ? {
          streamIndex: indexOf(a),
          codec: a.codec_name ?? 'unknown',
          channels: a.channels ?? 0,
          sampleRate: a.sample_rate ?? 0,
          ...(a.start_time !== undefined ? { startTime: a.start_time } : {}),
        }
      : undefined,
  };
}

export interface MediaLimits {
  maxDurationSeconds: number;
  /** Pixels per frame; default 8K UHD. */
  maxPixels?: number;
  maxFrameRate?: number;
  /** Audio and video streams. */
  maxStreams?: number;
  /** All streams: phones and editing suites add data, timecode and subtitle tracks, but not
   * hundreds. */
  maxAllStreams?: number;
}

/** Reject a source before compute is spent on it. */
export function validateMedia(info: MediaInfo, limits: MediaLimits): void {
  const maxPixels = limits.maxPixels ?? 7680 * 4320;
  const maxFrameRate = limits.maxFrameRate ?? 240;
  const maxStreams = limits.maxStreams ?? 16;
  const demuxers = info.formatName.split(',');
  if (!demuxers.some((d) => (ALLOWED_DEMUXERS as readonly string[]).includes(d))) {
    throw new MediaError(
      'UNSUPPORTED_CONTAINER',
      `container '${info.formatName}' is not accepted (see "Accepted uploads" in the README)`,
    );
  }
  const maxAllStreams = limits.maxAllStreams ?? 64;
  if (info.mediaStreamCount > maxStreams || info.streamCount > maxAllStreams) {
    throw new MediaError(
      'TOO_MANY_STREAMS',
      `the upload has more than ${maxStreams} audio and video streams or ${maxAllStreams} streams in all`,
    );
  }
  const { video } = info;
  if (!video) throw new MediaError('NO_VIDEO_STREAM', 'the upload has no video stream');
  if (!ALLOWED_VIDEO_CODECS.has(video.codec)) {
    throw new MediaError(
      'UNSUPPORTED_CODEC',
      `video codec '${video.codec}' is not accepted (see "Accepted uploads" in the README)`,
    );
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
  index:
    | { start: number; keyframes: number[]; frames?: number; end?: number; byteEnds?: number[] }
    | undefined,
): MediaInfo {
  const video = info.video;
  if (!video || !index) return info;
  if (Math.abs(index.start - video.startTime) > 0.002) return info;
  const fileStart = video.startTime - video.startOffset;
  // An index with no sync sample table entries (some encoders write an empty one) still
  // counts the frames; the plan then goes without keyframes.
  const keyframes =
    index.keyframes.length > 0
      ? index.keyframes.map((k) => Math.round((k - fileStart) * 1e6) / 1e6)
      : undefined;
  // The byte table is indexed by seconds of the file's own timeline: usable as is only when
  // that starts at 0, as it nearly always does.
  const byteEnds = Math.abs(fileStart) < 1e-3 ? index.byteEnds : undefined;
  // A cut-short upload: the video lasts as far as its frames' data goes, not as the header says.
  const duration =
    index.end !== undefined
      ? Math.min(info.duration, round6(index.end - index.start))
      : info.duration;
  return {
    ...info,
    duration,
    video: {
      ...video,
      ...(keyframes ? { keyframes } : {}),
      ...(index.frames ? { frames: index.frames } : {}),
      ...(byteEnds ? { byteEnds } : {}),
    },
  };
}
