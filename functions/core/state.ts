/**
 * A video's status, derived from which write-once records exist. Pure: the upload API
 * gathers the records and this decides what a client sees.
 */
import { z } from 'zod';
import { errorBodySchema } from './errors.js';
import { jobCount } from './jobs.js';
import { keys, VIDEO_ID_PATTERN } from './keys.js';
import type { Plan } from './plan.js';
import type { FailedRecord, ReadyRecord, VideoRecord } from './records.js';

export const videoStatusSchema = z.enum(['awaiting_upload', 'processing', 'ready', 'failed']);
export type VideoStatus = z.infer<typeof videoStatusSchema>;

/**
 * A video as `GET /videos/{id}` shows it. The schema is the contract: `deriveView` is typed by
 * it, and the OpenAPI document (schemas/openapi.json) is generated from it.
 */
export const videoViewSchema = z
  .object({
    id: z.string().regex(VIDEO_ID_PATTERN),
    status: videoStatusSchema,
    progress: z.number().min(0).max(1),
    playable: z
      .boolean()
      .optional()
      .describe('The opening of the video plays already (its playlist grows until `ready`).'),
    duration: z.number().min(0).optional().describe('Seconds.'),
    playbackUrl: z.url().optional().describe('The HLS master playlist.'),
    playbackExpiresAt: z.iso
      .datetime()
      .optional()
      .describe('With signed playback: when the signature on the URLs here stops opening them.'),
    posterUrl: z.url().optional().describe('A representative frame, JPEG.'),
    posterWebpUrl: z.url().optional().describe('The same frame, WebP.'),
    storyboardUrl: z
      .url()
      .optional()
      .describe('WebVTT cues with `#xywh=` sprite fragments, for scrub previews.'),
    captions: z.array(z.object({ language: z.string(), label: z.string() })).optional(),
    renditions: z
      .array(
        z.object({
          width: z.number().int(),
          height: z.number().int(),
          bandwidth: z.number().int(),
          averageBandwidth: z.number().int(),
          codecs: z.string(),
        }),
      )
      .optional(),
    error: errorBodySchema.optional().describe('Why the video failed.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Video' });

export type VideoView = z.infer<typeof videoViewSchema>;

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
