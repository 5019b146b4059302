/**
 * Purge: remove what is left of a deleted video. Asked for by any stage that found the
 * video's tombstone after it had written (core/deletion.ts), and once more by DELETE itself
 * a while later. Only the tombstone, which only DELETE writes, lets a purge remove anything:
 * a request for a video that was not deleted is dropped.
 */
import { type DeletionDeps, removeDeleted, tombstoneOf } from '../core/deletion.js';
import type { PurgeRequest } from '../core/messages.js';

export type PurgeResult = 'purged' | 'nothing-left' | 'not-deleted';

export async function purgeDeleted(
  deps: DeletionDeps,
  request: Pick<PurgeRequest, 'videoId' | 'invalidate'>,
): Promise<PurgeResult> {
  const id = request.videoId;
  const tombstone = await tombstoneOf(deps, id);
  if (!tombstone) {
    deps.logger.warn('purge asked for a video that is not deleted', { videoId: id });
    return 'not-deleted';
  }
  const removed = await removeDeleted(
    deps,
    id,
    tombstone,
    request.invalidate
      ? { invalidate: 'always', refused: 'throw' }
      : { invalidate: 'if-output', refused: 'hand-off' },
  );
  if (removed.objects === 0) return 'nothing-left';
  deps.logger.info('deleted video purged', { videoId: id, objects: removed.objects });
  return 'purged';
}
