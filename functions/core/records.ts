/**
 * Write-once state records (DESIGN.md §4). A video's status is derived from which of these
 * exist; no record is ever updated in place, so concurrent workers never race on a document.
 */
import type { ErrorBody } from './errors.js';

/** Written by POST /videos. */
export interface VideoRecord {
  id: string;
  createdAt: string;
  filename: string;
  contentType: string;
  size: number;
  /** Caption sidecars the client said it would upload with the video. */
  captions?: CaptionSpec[];
}

/**
 * `state/{id}/multipart.json`, written by POST /videos when the source comes in parts: the
 * S3 upload id (never shown to the client, which names only its video) and the part plan.
 */
export interface MultipartRecord {
  uploadId: string;
  size: number;
  partSize: number;
  partCount: number;
  /** When the upload began; S3 discards its parts some days later if it is not completed. */
  createdAt: string;
}

export interface CaptionSpec {
  /** BCP 47 language tag; also the caption's key. */
  language: string;
  label: string;
  format: 'srt' | 'vtt';
  size: number;
}

export interface Segment {
  /** File name relative to the rendition's folder, e.g. `seg_00003.ts`. */
  file: string;
  /** Seconds, as measured by the muxer. */
  duration: number;
  bytes: number;
  /** Video only: where each IDR frame sits in the file, for the I-frame playlist. */
  keyframes?: Keyframe[];
}

export interface Keyframe {
  /** Seconds from the segment's start. */
  time: number;
  /** Byte range of the frame's transport-stream packets. */
  offset: number;
  length: number;
}

/** One chunk's storyboard sprite sheet (`storyboard/{file}`). */
export interface SpriteSheet {
  file: string;
  /** Thumbnails on the sheet, row by row. */
  count: number;
}

export interface RenditionOutput {
  segments: Segment[];
  /** RFC 6381 codec string of what was actually encoded, e.g. `avc1.64001f`. */
  codecs: string;
}

/** What a transcoder returns for one chunk (paths are local, in the job's work dir). */
export interface ChunkOutput {
  frames: number;
  renditions: Record<string, RenditionOutput & { dir: string }>;
  /** Local path of the sprite sheet, with the thumbnail count. */
  storyboard?: SpriteSheet & { path: string };
  /** The poster chunk only (images.ts posterChunk): local paths of the poster images. */
  poster?: { jpeg: string; webp: string };
  /** Presentation time of the chunk's first frame in the transport stream, seconds. */
  firstFrameTime?: number;
  /** The audio rendition's segments for the chunk's stretch, when the video has sound. */
  audio?: RenditionOutput & { dir: string };
}

/** `state/{id}/chunks/{n}.json`: one chunk's segments in every rendition, already uploaded. */
export interface ChunkRecord {
  chunk: number;
  frames: number;
  renditions: Record<string, RenditionOutput>;
  storyboard?: SpriteSheet;
  /** The poster chunk only. */
  poster?: boolean;
  firstFrameTime?: number;
  /** The audio rendition's segments for the chunk's stretch (core/audio.ts). */
  audio?: RenditionOutput;
}

export interface RenditionSummary {
  name: string;
  width: number;
  height: number;
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  frameRate: number;
}

/** `state/{id}/ready.json`: written last by publish, so `ready` implies playable. */
export interface ReadyRecord {
  duration: number;
  renditions: RenditionSummary[];
  /** Output-relative paths of the images, when they were made. */
  poster?: { jpeg: string; webp: string };
  storyboard?: string;
  captions?: { language: string; label: string }[];
}

/** `state/{id}/playable.json`: written once, when the opening of the video first plays. */
export interface PlayableRecord {
  chunks: number;
}

/** `state/{id}/failed.json`. */
export interface FailedRecord {
  error: ErrorBody;
}
