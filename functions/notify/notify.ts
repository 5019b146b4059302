/**
 * A state record was written → the matching `video.*` event. The event carries the video as
 * the API shows it at that moment, so a consumer needs no second call.
 */
import type { Deps } from '../core/deps.js';
import { eventOfRecordKey, type VideoEventDetail, videoEvent } from '../core/events.js';
import { ERROR_CODE_DIMENSION } from '../core/metrics.js';
import type { EventPublisher } from '../core/ports.js';
import { deriveView } from '../core/state.js';
import { outputUrl, readRecords } from '../core/video-state.js';

export interface NotifyDeps extends Deps {
  events: EventPublisher;
}

/** The event a new record makes (published), or undefined if it makes none. */
export async function notifyRecord(
  deps: NotifyDeps,
  key: string,
): Promise<VideoEventDetail | undefined> {
  const which = eventOfRecordKey(key);
  if (!which) return undefined;
  const [records, record] = await Promise.all([
    readRecords(deps, which.videoId),
    deps.store.head(deps.config.UPLOADS_BUCKET, key),
  ]);
  if (!records || !record) return undefined;
  const view = deriveView(records, (k) => outputUrl(deps, k));
  // A failure wins over everything: a video that failed is never announced ready.
  if (which.type === 'video.ready' && view.status !== 'ready') return undefined;
  const event = videoEvent(which.type, view, record.lastModified);
  await deps.events.publish([event]);
  // Counted here, where each transition is seen once per record (S3 may repeat an event).
  if (which.type === 'video.playable') {
    deps.metrics.record('videosPlayable', 1);
    deps.metrics.record('timeToPlayable', event.secondsSinceCreated);
  } else if (which.type === 'video.ready') {
    deps.metrics.record('videosReady', 1);
    deps.metrics.record('timeToReady', event.secondsSinceCreated);
  } else {
    deps.metrics.record('videosFailed', 1, {
      [ERROR_CODE_DIMENSION]: view.error?.code ?? 'UNKNOWN',
    });
  }
  deps.logger.info('event published', {
    videoId: which.videoId,
    type: which.type,
    secondsSinceCreated: event.secondsSinceCreated,
  });
  return event;
}
