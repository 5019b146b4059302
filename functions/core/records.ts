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
}

export interface Segment {
  /** File name relative to the rendition's folder, e.g. `seg_00003.ts`. */
  file: string;
  /** Seconds, as measured by the muxer. */
  duration: number;
  bytes: number;
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
}

export interface AudioOutput extends RenditionOutput {
  dir: string;
}

/** `state/{id}/chunks/{n}.json`: one chunk's segments in every rendition, already uploaded. */
export interface ChunkRecord {
  chunk: number;
  frames: number;
  renditions: Record<string, RenditionOutput>;
}

/** `state/{id}/audio.json`. */
export type AudioRecord = RenditionOutput;

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
}

/** `state/{id}/failed.json`. */
export interface FailedRecord {
  error: ErrorBody;
}
