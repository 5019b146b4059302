/**
 * Publish: join every chunk's segments into one media playlist per rendition, write the
 * multivariant playlist with measured bandwidths, then `ready.json`. Idempotent: the same
 * records always produce the same bytes, and a finished video is left alone.
 */
import type { Deps } from '../core/deps.js';
import { keys } from '../core/keys.js';
import { rationalValue } from '../core/media.js';
import { jobCount, type Plan } from '../core/plan.js';
import {
  describeVariants,
  targetDurationOf,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../core/playlist.js';
import type { AudioRecord, ChunkRecord, ReadyRecord, Segment } from '../core/records.js';
import { isFinished } from '../core/video-state.js';

/** Playlists are final once written (VOD), but short caching keeps a re-publish visible. */
export const PLAYLIST_CACHE = 'public, max-age=60';
const M3U8 = 'application/vnd.apple.mpegurl';

export type PublishResult = 'published' | 'already-published' | 'not-ready' | 'skipped';

export async function publishVideo(deps: Deps, videoId: string): Promise<PublishResult> {
  const { store, config, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const finished = await isFinished(deps, videoId);
  if (finished.failed) return 'skipped';
  if (finished.ready) return 'already-published';
  const plan = await store.getJson<Plan>(bucket, keys.plan(videoId));
  if (!plan) return 'not-ready';

  const chunkKeys = (await store.list(bucket, keys.chunksPrefix(videoId))).objects.map(
    (o) => o.key,
  );
  const [chunks, audio] = await Promise.all([
    Promise.all(chunkKeys.map((k) => store.getJson<ChunkRecord>(bucket, k))),
    plan.audio ? store.getJson<AudioRecord>(bucket, keys.audio(videoId)) : undefined,
  ]);
  const present = chunks.filter((c): c is ChunkRecord => c !== undefined);
  if (present.length + (audio ? 1 : 0) < jobCount(plan)) return 'not-ready';
  present.sort((a, b) => a.chunk - b.chunk);

  const segmentsOf = (name: string): Segment[] =>
    present.flatMap((c) => c.renditions[name]?.segments ?? []);
  const lists = plan.renditions.map((r) => segmentsOf(r.name));
  // One target duration for every rendition, audio included (HLS authoring spec).
  const target = targetDurationOf(audio ? [...lists, audio.segments] : lists);
  const out = config.OUTPUT_BUCKET;

  await Promise.all([
    ...plan.renditions.map((r, i) =>
      store.putObject(
        out,
        keys.mediaPlaylist(videoId, r.name),
        writeMediaPlaylist({ segments: lists[i] ?? [], targetDuration: target }),
        { contentType: M3U8, cacheControl: PLAYLIST_CACHE },
      ),
    ),
    audio
      ? store.putObject(
          out,
          keys.mediaPlaylist(videoId, 'audio'),
          writeMediaPlaylist({ segments: audio.segments, targetDuration: target }),
          { contentType: M3U8, cacheControl: PLAYLIST_CACHE },
        )
      : undefined,
  ]);

  const fps = rationalValue(plan.output.frameRate);
  const variants = describeVariants(
    plan.renditions
      .map((r, i) => ({
        uri: `${r.name}/index.m3u8`,
        width: r.width,
        height: r.height,
        frameRate: fps,
        video: { segments: lists[i] ?? [], codecs: firstCodecs(present, r.name) },
      }))
      .filter((v) => v.video.segments.length > 0),
    audio ? { uri: 'audio/index.m3u8', audio } : null,
  );
  // The multivariant playlist goes last: a player that can fetch it finds every list it names.
  await store.putObject(
    out,
    keys.master(videoId),
    writeMasterPlaylist(variants, audio ? { uri: 'audio/index.m3u8', channels: 2 } : null),
    { contentType: M3U8, cacheControl: PLAYLIST_CACHE },
  );

  const duration = (lists[0] ?? []).reduce((t, s) => t + s.duration, 0);
  const ready: ReadyRecord = {
    duration: Math.round(duration * 1000) / 1000,
    renditions: variants.map((v) => ({
      name: v.uri.split('/')[0] ?? '',
      width: v.width,
      height: v.height,
      bandwidth: v.bandwidth,
      averageBandwidth: v.averageBandwidth,
      codecs: v.codecs,
      frameRate: v.frameRate,
    })),
  };
  await store.putJson(bucket, keys.ready(videoId), ready, { ifNoneMatch: true });
  logger.info('published', { videoId, renditions: ready.renditions.length, duration });
  return 'published';
}

const firstCodecs = (chunks: ChunkRecord[], name: string): string =>
  chunks.map((c) => c.renditions[name]?.codecs).find((c) => c) ?? 'avc1.640028';
