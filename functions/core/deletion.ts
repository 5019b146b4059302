/**
 * Deleting a video while its jobs may still be running. No stage can be stopped from the
 * outside, and S3 cannot make a write depend on another key, so deletion is a protocol:
 *
 * 1. DELETE writes the video's tombstone (`deleted/{id}`) before anything else.
 * 2. It then lists and deletes everything under the video's prefixes in both buckets.
 * 3. Every stage that writes for a video looks at the tombstone before its work (a deleted
 *    video costs no compute) and again after its last write. A look that finds it asks for a
 *    purge (functions/purge) and ends the work as `deleted`: terminal, never retried.
 *
 * Why nothing written survives: take any write W. If the look after W finds no tombstone,
 * the tombstone came later, so the listing of step 2 began after W and deletes it. If the
 * look finds it, the purge it asks for lists after W and deletes it. A worker that died
 * between W and its look is retried or dead-lettered, and the retry or the failures function
 * looks first (markFailed is guarded too). S3 lists are strongly consistent after writes.
 *
 * The tombstone stays after the purge (a lifecycle rule expires it, lib/storage.ts) and only
 * DELETE writes it, so a purge request (which any worker may send) can only ever remove a
 * video that was deleted.
 */
import type { Deps } from './deps.js';
import { VideoDeletedError } from './errors.js';
import { keys } from './keys.js';
import type { PurgeRequest } from './messages.js';
import type { CdnCache } from './ports.js';

/** `deleted/{id}`: what a purge needs once the video's own records are gone. */
export interface Tombstone {
  deletedAt: string;
  /** The video's creation time, which names its entry in the listing index. */
  createdAt?: string;
}

/** Where one bucket holds a video: whole prefixes to list, and single keys. */
export interface Footprint {
  bucket: string;
  prefixes: string[];
  keys: string[];
}

/**
 * Everything a video owns, in the order a purge removes it: the raw upload first, then what
 * viewers fetch, then the records (a purge that stops half-way is finished by the next one,
 * which the tombstone still directs). Prefixes end in `/` and ids are fixed-length, so no
 * prefix holds another video's keys.
 */
export function footprintOf(
  config: Pick<Deps['config'], 'UPLOADS_BUCKET' | 'OUTPUT_BUCKET'>,
  id: string,
  tombstone: Pick<Tombstone, 'createdAt'>,
): Footprint[] {
  const created = tombstone.createdAt ? Date.parse(tombstone.createdAt) : Number.NaN;
  return [
    { bucket: config.UPLOADS_BUCKET, prefixes: [keys.upload(id)], keys: [] },
    { bucket: config.OUTPUT_BUCKET, prefixes: [keys.output(id)], keys: [] },
    {
      bucket: config.UPLOADS_BUCKET,
      prefixes: [keys.records(id)],
      keys: Number.isNaN(created) ? [] : [keys.index(id, created)],
    },
  ];
}

/** The CDN paths of a video's output: one wildcard, which CloudFront bills as one path. */
export const cdnPathsOf = (id: string): string[] => [`/${keys.output(id)}*`];

export interface PurgeReport {
  /**
   * Objects found below the video's prefixes and deleted. The index entry is deleted by its
   * name, whether or not it is still there, and is not counted.
   */
  objects: number;
  /** Of them, objects a viewer could have fetched through the CDN. */
  output: number;
}

/** List and delete everything of a deleted video. Idempotent: a second run finds nothing. */
export async function purgeVideo(
  deps: Pick<Deps, 'store' | 'config'>,
  id: string,
  tombstone: Tombstone,
): Promise<PurgeReport> {
  const report: PurgeReport = { objects: 0, output: 0 };
  for (const place of footprintOf(deps.config, id, tombstone)) {
    const listed = await Promise.all(
      place.prefixes.map((prefix) => deps.store.list(place.bucket, prefix)),
    );
    const found = listed.flatMap((l) => l.objects.map((o) => o.key));
    const doomed = [...found, ...place.keys];
    if (doomed.length === 0) continue;
    await deps.store.deleteObjects(place.bucket, doomed);
    report.objects += found.length;
    if (place.bucket === deps.config.OUTPUT_BUCKET) report.output += found.length;
  }
  return report;
}

type LookDeps = Pick<Deps, 'store' | 'config' | 'queue' | 'logger'>;

export async function tombstoneOf(
  deps: Pick<Deps, 'store' | 'config'>,
  id: string,
): Promise<Tombstone | undefined> {
  return deps.store.getJson<Tombstone>(deps.config.UPLOADS_BUCKET, keys.tombstone(id));
}

/**
 * Ask the purge function to remove what is left of a deleted video, now or after a delay;
 * with `invalidate`, to invalidate its CDN paths in any case.
 */
export async function requestPurge(
  deps: Pick<Deps, 'queue' | 'config'>,
  id: string,
  opts: { delaySeconds?: number; invalidate?: true } = {},
): Promise<void> {
  const request: PurgeRequest = {
    type: 'purge',
    videoId: id,
    ...(opts.invalidate ? { invalidate: true } : {}),
  };
  await deps.queue.sendAll(
    deps.config.PURGE_QUEUE_URL,
    [request],
    opts.delaySeconds ? { delaySeconds: opts.delaySeconds } : {},
  );
}

/**
 * Look at the video's tombstone. If it is there, ask for a purge (this stage may have
 * written since the delete listed) and stop the work with a VideoDeletedError.
 */
export async function stopIfDeleted(deps: LookDeps, id: string): Promise<void> {
  if (!(await deps.store.head(deps.config.UPLOADS_BUCKET, keys.tombstone(id)))) return;
  await requestPurge(deps, id);
  deps.logger.info('video deleted: work stopped', { videoId: id });
  throw new VideoDeletedError('the video was deleted');
}

/**
 * A stage's work on one video, between two looks at its tombstone: one before (no work for
 * a deleted video) and one after its last write (a write that raced the delete is purged).
 * A deleted video ends the work as `deleted`, wherever inside it was found; so does work
 * that failed because of the delete (its source or plan gone under it), rather than being
 * retried or failing a video that no longer exists.
 */
export async function unlessDeleted<T>(
  deps: LookDeps,
  id: string,
  work: () => Promise<T>,
): Promise<T | 'deleted'> {
  const deleted = async (): Promise<boolean> => {
    try {
      await stopIfDeleted(deps, id);
      return false;
    } catch (err) {
      if (err instanceof VideoDeletedError) return true;
      throw err;
    }
  };
  if (await deleted()) return 'deleted';
  let result: T;
  try {
    result = await work();
  } catch (err) {
    if (err instanceof VideoDeletedError) return 'deleted';
    // A look that fails itself leaves the work's own error to be retried.
    if (await deleted().catch(() => false)) return 'deleted';
    throw err;
  }
  return (await deleted()) ? 'deleted' : result;
}

export interface DeletionDeps extends Deps {
  cdn: CdnCache;
}

/**
 * Purge a deleted video and make the CDN forget it, after the objects are gone (an edge that
 * refetches then finds nothing to cache again).
 *
 * `invalidate`: `'always'` for DELETE (an earlier, interrupted attempt may have removed the
 * output already) and for a purge asked to; `'if-output'` for the purges the stages ask for,
 * which invalidate only when they removed something viewable.
 *
 * CloudFront refuses an invalidation while 15 with wildcards are in progress. A refused one
 * is `handed-off`: asked of the purge queue as a purge that must invalidate, which SQS
 * retries with backoff and then dead-letters (alarmed). That purge itself `throw`s instead,
 * so its retries carry the need to invalidate, which a second look could not see.
 */
export async function removeDeleted(
  deps: Pick<DeletionDeps, 'store' | 'config' | 'cdn' | 'queue' | 'logger'>,
  id: string,
  tombstone: Tombstone,
  opts: { invalidate: 'always' | 'if-output'; refused: 'hand-off' | 'throw' },
): Promise<PurgeReport> {
  const report = await purgeVideo(deps, id, tombstone);
  if (opts.invalidate === 'if-output' && report.output === 0) return report;
  try {
    await deps.cdn.invalidate(cdnPathsOf(id));
  } catch (err) {
    if (opts.refused === 'throw') throw err;
    deps.logger.warn('invalidation refused: handed to the purge queue', {
      videoId: id,
      error: err instanceof Error ? err.message : String(err),
    });
    await requestPurge(deps, id, { invalidate: true });
  }
  return report;
}
