/**
 * The events Spool publishes when a video changes state, and the webhook that carries them.
 * Each event is derived from a write-once record (`playable.json`, `ready.json`,
 * `failed.json`), so an event means exactly what the API's status says. The zod schema here
 * is the contract; `schemas/video-event.v1.json` is generated from it (npm run schemas).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { keys } from './keys.js';
import type { VideoView } from './state.js';

/** EventBridge `source` of every Spool event. */
export const EVENT_SOURCE = 'spool';
/** Bumped on a breaking change of the detail; consumers should check it. */
export const EVENT_SCHEMA_VERSION = 1;

/** Which record makes which event. */
export const EVENT_RECORDS = {
  'video.playable': 'playable.json',
  'video.ready': 'ready.json',
  'video.failed': 'failed.json',
} as const;

export type VideoEventType = keyof typeof EVENT_RECORDS;
export const VIDEO_EVENT_TYPES = Object.keys(EVENT_RECORDS) as VideoEventType[];

/** The rule every webhook endpoint's EventBridge rule matches (lib/webhooks.ts). */
export const isVideoEvent = (source: string, detailType: string): boolean =>
  source === EVENT_SOURCE && (VIDEO_EVENT_TYPES as string[]).includes(detailType);

/** `state/{id}/ready.json` → the event it makes, or undefined for any other key. */
export function eventOfRecordKey(
  key: string,
): { videoId: string; type: VideoEventType } | undefined {
  const m = /^state\/([a-z0-9]{20})\/([a-z-]+\.json)$/.exec(key);
  const [, videoId, file] = m ?? [];
  if (!videoId || keys.records(videoId) + file !== key) return undefined;
  const type = VIDEO_EVENT_TYPES.find((t) => EVENT_RECORDS[t] === file);
  return type ? { videoId, type } : undefined;
}

const rendition = z.object({
  width: z.number().int(),
  height: z.number().int(),
  bandwidth: z.number().int(),
  averageBandwidth: z.number().int().optional(),
  codecs: z.string(),
});

/** The video as `GET /videos/{id}` shows it when the event happened. */
const videoSchema = z.object({
  id: z.string().regex(/^[a-z0-9]{20}$/),
  status: z.enum(['processing', 'ready', 'failed']),
  playable: z.boolean().optional(),
  duration: z.number().optional(),
  playbackUrl: z.string().url().optional(),
  posterUrl: z.string().url().optional(),
  posterWebpUrl: z.string().url().optional(),
  storyboardUrl: z.string().url().optional(),
  captions: z.array(z.object({ language: z.string(), label: z.string() })).optional(),
  renditions: z.array(rendition).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

/** The EventBridge `detail` of a `video.*` event, and the `data` of its webhook. */
export const videoEventDetailSchema = z
  .object({
    schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
    /** Stable per video and type: the same event delivered twice has the same id. */
    eventId: z.string(),
    type: z.enum(VIDEO_EVENT_TYPES as [VideoEventType, ...VideoEventType[]]),
    /** When the record behind the event was written. */
    occurredAt: z.iso.datetime(),
    /** Seconds from the video's creation (POST /videos) to this event. */
    secondsSinceCreated: z.number().min(0),
    video: videoSchema,
  })
  .meta({
    title: 'Spool video event',
    description:
      'EventBridge detail of the video.playable, video.ready and video.failed events (source "spool"), and the data of the matching webhook.',
  });

export type VideoEventDetail = z.infer<typeof videoEventDetailSchema>;

/** The webhook request body: the event's envelope around its detail. */
export const webhookBodySchema = z.object({
  id: z.string(),
  type: z.enum(VIDEO_EVENT_TYPES as [VideoEventType, ...VideoEventType[]]),
  data: videoEventDetailSchema,
});

export type WebhookBody = z.infer<typeof webhookBodySchema>;

/** The event for a record, from the video as the API derives it. */
export function videoEvent(
  type: VideoEventType,
  view: VideoView,
  occurredAt: Date,
): VideoEventDetail {
  const { id, status } = view;
  if (status === 'awaiting_upload') throw new Error(`video ${id} has no upload yet`);
  const created = Date.parse(view.createdAt);
  return videoEventDetailSchema.parse({
    schemaVersion: EVENT_SCHEMA_VERSION,
    eventId: `${id}.${type}`,
    type,
    occurredAt: occurredAt.toISOString(),
    secondsSinceCreated: Math.max(0, (occurredAt.getTime() - created) / 1000),
    video: { ...view, status },
  });
}

/** Header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'spool-signature';
/** A signature older (or newer) than this is refused: a captured request cannot be replayed. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** HMAC-SHA256 over `${t}.${body}`: the timestamp is signed with the body. */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * What a receiver runs: true if `header` signs this exact `body` with `secret` and its
 * timestamp is within the tolerance of `now` (unix seconds).
 */
export function verifyWebhook(
  secret: string,
  header: string,
  body: string,
  now = Math.floor(Date.now() / 1000),
): boolean {
  const parts = Object.fromEntries(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(now - t) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1] ?? '', 'hex');
  const given = Buffer.from(String(parts.v1 ?? ''), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
