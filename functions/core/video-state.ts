/** Reading a video's records from the store: shared by the API, ingest, workers and publish. */
import { unlessDeleted } from './deletion.js';
import type { Deps } from './deps.js';
import { keys } from './keys.js';
import type { Plan } from './plan.js';
import { progressOf } from './progress.js';
import type { FailedRecord, ReadyRecord, VideoRecord } from './records.js';
import type { VideoRecords } from './state.js';

/** Absolute URL of an output key, on the CDN (CloudFront, or its local stand-in). */
export const outputUrl = (deps: Pick<Deps, 'config'>, key: string): string => {
  const base = deps.config.PLAYBACK_BASE_URL;
  return new URL(key, base.endsWith('/') ? base : `${base}/`).toString();
};

export async function readRecords(
  deps: Pick<Deps, 'store' | 'config'>,
  id: string,
): Promise<VideoRecords | undefined> {
  const bucket = deps.config.UPLOADS_BUCKET;
  const { store } = deps;
  const [video, deleted] = await Promise.all([
    store.getJson<VideoRecord>(bucket, keys.video(id)),
    store.head(bucket, keys.tombstone(id)),
  ]);
  // A deleted video is gone from the moment its tombstone is written, before its records.
  if (!video || deleted) return undefined;
  const [failed, ready, plan, source, chunks, playable] = await Promise.all([
    store.getJson<FailedRecord>(bucket, keys.failed(id)),
    store.getJson<ReadyRecord>(bucket, keys.ready(id)),
    store.getJson<Plan>(bucket, keys.plan(id)),
    store.head(bucket, keys.source(id)),
    store.list(bucket, keys.chunksPrefix(id)),
    store.head(bucket, keys.playable(id)),
  ]);
  const times = [source, ...chunks.objects].map((o) => o?.lastModified.getTime() ?? 0);
  return {
    video,
    lastChange: new Date(Math.max(0, ...times)),
    sourceUploaded: source !== undefined,
    plan,
    completedJobs: plan
      ? progressOf(
          plan,
          chunks.objects.map((o) => o.key),
        ).done
      : 0,
    playable: playable !== undefined,
    ready,
    failed,
  };
}

/**
 * Record a video as failed. Write-once: the first failure's reason is the one kept. A deleted
 * video is not failed: it is gone (core/deletion.ts), and what its work left is purged.
 */
export async function markFailed(
  deps: Pick<Deps, 'store' | 'config' | 'logger' | 'queue'>,
  id: string,
  error: { code: string; message: string },
): Promise<void> {
  await unlessDeleted(deps, id, async () => {
    const result = await deps.store.putJson(
      deps.config.UPLOADS_BUCKET,
      keys.failed(id),
      { error } satisfies FailedRecord,
      { ifNoneMatch: true },
    );
    deps.logger.warn('video failed', {
      videoId: id,
      errorCode: error.code,
      reason: error.message,
      record: result,
    });
  });
}

export async function isFinished(deps: Pick<Deps, 'store' | 'config'>, id: string) {
  const bucket = deps.config.UPLOADS_BUCKET;
  const [failed, ready] = await Promise.all([
    deps.store.head(bucket, keys.failed(id)),
    deps.store.head(bucket, keys.ready(id)),
  ]);
  return { failed: failed !== undefined, ready: ready !== undefined };
}
