/**
 * A video's status, derived from which write-once records exist. Pure: the upload API
 * gathers the records and this decides what a client sees.
 */
import type { ErrorBody } from './errors.js';
import { jobCount } from './jobs.js';
import { keys } from './keys.js';
import type { Plan } from './plan.js';
import type { FailedRecord, ReadyRecord, RenditionSummary, VideoRecord } from './records.js';

export type VideoStatus = 'awaiting_upload' | 'processing' | 'ready' | 'failed';

export interface VideoView {
  id: string;
  status: VideoStatus;
  progress: number;
  /** The opening of the video plays already (its playlist grows until `ready`). */
  playable?: boolean;
  duration?: number;
  playbackUrl?: string;
  /** With signed playback: when the signature on the URLs here stops opening them. */
  playbackExpiresAt?: string;
  posterUrl?: string;
  posterWebpUrl?: string;
  /** WebVTT cues with `#xywh=` sprite fragments, for scrub previews. */
  storyboardUrl?: string;
  captions?: { language: string; label: string }[];
  renditions?: Omit<RenditionSummary, 'name' | 'frameRate'>[];
  error?: ErrorBody;
  createdAt: string;
  updatedAt: string;
}

export interface VideoRecords {
  video: VideoRecord;
  /** Last-modified time of the newest record seen, for `updatedAt`. */
  lastChange: Date;
  sourceUploaded: boolean;
  plan?: Plan;
  /** Chunk and audio records present. */
  completedJobs: number;
  /** The leading chunks are published as a growing (EVENT) playlist. */
  playable?: boolean;
  ready?: ReadyRecord;
  failed?: FailedRecord;
}

/** Share of the progress bar given to probing and planning, before any job completes. */
const PLANNED = 0.05;

/** `urlOf` turns an output key (`videos/{id}/master.m3u8`) into the URL players fetch. */
export function deriveView(r: VideoRecords, urlOf: (key: string) => string): VideoView {
  const base = {
    id: r.video.id,
    createdAt: r.video.createdAt,
    updatedAt: new Date(
      Math.max(r.lastChange.getTime(), Date.parse(r.video.createdAt)),
    ).toISOString(),
  };
  // failed wins over everything: a video that failed mid-way never turns ready.
  if (r.failed) return { ...base, status: 'failed', progress: 1, error: r.failed.error };
  if (r.ready) {
    const out = keys.output(r.video.id);
    const { poster, storyboard, captions } = r.ready;
    return {
      ...base,
      status: 'ready',
      progress: 1,
      playable: true,
      duration: r.ready.duration,
      playbackUrl: urlOf(`${out}master.m3u8`),
      ...(poster
        ? { posterUrl: urlOf(out + poster.jpeg), posterWebpUrl: urlOf(out + poster.webp) }
        : {}),
      ...(storyboard ? { storyboardUrl: urlOf(out + storyboard) } : {}),
      ...(captions && captions.length > 0 ? { captions } : {}),
      renditions: r.ready.renditions.map((x) => ({
        width: x.width,
        height: x.height,
        bandwidth: x.bandwidth,
        averageBandwidth: x.averageBandwidth,
        codecs: x.codecs,
      })),
    };
  }
  if (!r.sourceUploaded && !r.plan) return { ...base, status: 'awaiting_upload', progress: 0 };
  if (!r.plan) return { ...base, status: 'processing', progress: 0 };
  const total = jobCount(r.plan);
  const done = Math.min(r.completedJobs, total);
  // Publishing is the last step, so a finished set of jobs still shows just under 1.
  const progress = PLANNED + (1 - PLANNED) * 0.99 * (done / total);
  return {
    ...base,
    status: 'processing',
    progress: Math.round(progress * 1000) / 1000,
    duration: r.plan.source.duration,
    ...(r.playable ? { playable: true, playbackUrl: urlOf(keys.master(r.video.id)) } : {}),
  };
}
