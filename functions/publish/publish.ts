/**
 * Publish: join every chunk's segments into one media playlist per rendition, write the
 * multivariant playlist with measured bandwidths, then `ready.json`. Idempotent: the same
 * records always produce the same bytes, and a finished video is left alone.
 */

import { MAX_CAPTION_BYTES, parseCaptions, segmentCaptions } from '../core/captions.js';
import type { Deps } from '../core/deps.js';
import { keys } from '../core/keys.js';
import { rationalValue } from '../core/media.js';
import { jobCount, type Plan } from '../core/plan.js';
import {
  describeVariants,
  targetDurationOf,
  writeIframePlaylist,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../core/playlist.js';
import type {
  AudioRecord,
  ChunkRecord,
  ReadyRecord,
  Segment,
  VideoRecord,
} from '../core/records.js';
import { writeStoryboardVtt } from '../core/storyboard.js';
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

  const text = (key: string, body: string, contentType = M3U8) =>
    store.putObject(out, key, body, { contentType, cacheControl: PLAYLIST_CACHE });
  const video = await store.getJson<VideoRecord>(bucket, keys.video(videoId));
  const subtitles = await publishCaptions(deps, videoId, video, lists[0] ?? [], present[0]);
  const fps = rationalValue(plan.output.frameRate);
  const storyboardSheets = present.some((c) => c.storyboard);

  await Promise.all([
    ...plan.renditions.flatMap((r, i) => [
      text(
        keys.mediaPlaylist(videoId, r.name),
        writeMediaPlaylist({ segments: lists[i] ?? [], targetDuration: target }),
      ),
      text(keys.iframePlaylist(videoId, r.name), writeIframePlaylist(lists[i] ?? [])),
    ]),
    storyboardSheets
      ? text(
          keys.storyboardVtt(videoId),
          writeStoryboardVtt(
            present.map((c) => c.storyboard),
            plan.images.storyboard,
            fps,
            (lists[0] ?? []).reduce((t, s) => t + s.duration, 0),
          ),
          'text/vtt',
        )
      : undefined,
    audio
      ? store.putObject(
          out,
          keys.mediaPlaylist(videoId, 'audio'),
          writeMediaPlaylist({ segments: audio.segments, targetDuration: target }),
          { contentType: M3U8, cacheControl: PLAYLIST_CACHE },
        )
      : undefined,
  ]);

  const variants = describeVariants(
    plan.renditions
      .map((r, i) => ({
        uri: `${r.name}/index.m3u8`,
        iframesUri: `${r.name}/iframes.m3u8`,
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
    writeMasterPlaylist(
      variants,
      audio ? { uri: 'audio/index.m3u8', channels: 2 } : null,
      subtitles.map((c) => ({
        uri: `subs/${c.language}/index.m3u8`,
        language: c.language,
        name: c.label,
      })),
    ),
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
    poster: present.find((c) => c.chunk === 0)?.poster
      ? { jpeg: 'poster.jpg', webp: 'poster.webp' }
      : undefined,
    storyboard: storyboardSheets ? 'storyboard/storyboard.vtt' : undefined,
    captions: subtitles.length > 0 ? subtitles : undefined,
  };
  await store.putJson(bucket, keys.ready(videoId), ready, { ifNoneMatch: true });
  logger.info('published', { videoId, renditions: ready.renditions.length, duration });
  return 'published';
}

/** MPEG-TS runs on a 90 kHz clock. */
const TS_CLOCK = 90_000;

/**
 * Caption sidecars uploaded with the video become WebVTT subtitle renditions. A sidecar that
 * is missing or unreadable is left out (logged): captions never fail a video.
 */
async function publishCaptions(
  deps: Deps,
  videoId: string,
  video: VideoRecord | undefined,
  videoSegments: readonly Segment[],
  firstChunk: ChunkRecord | undefined,
): Promise<{ language: string; label: string }[]> {
  const { store, config, logger } = deps;
  const published: { language: string; label: string }[] = [];
  for (const caption of video?.captions ?? []) {
    const key = keys.caption(videoId, caption.language);
    const head = await store.head(config.UPLOADS_BUCKET, key);
    if (!head) continue;
    try {
      if (head.size > MAX_CAPTION_BYTES) throw new Error('caption file too large');
      const cues = parseCaptions((await store.getText(config.UPLOADS_BUCKET, key)) ?? '');
      const start = (firstChunk?.firstFrameTime ?? 0) * TS_CLOCK;
      const segments = segmentCaptions(
        cues,
        videoSegments.map((s) => s.duration),
        start,
      );
      await Promise.all(
        segments.map((s) =>
          store.putObject(
            config.OUTPUT_BUCKET,
            keys.subtitleSegment(videoId, caption.language, s.file),
            s.body,
            {
              contentType: 'text/vtt',
              cacheControl: PLAYLIST_CACHE,
            },
          ),
        ),
      );
      await store.putObject(
        config.OUTPUT_BUCKET,
        keys.subtitlePlaylist(videoId, caption.language),
        writeMediaPlaylist({
          segments: segments.map((s) => ({
            file: s.file,
            duration: s.duration,
            bytes: s.body.length,
          })),
          targetDuration: targetDurationOf([videoSegments]),
        }),
        { contentType: M3U8, cacheControl: PLAYLIST_CACHE },
      );
      published.push({ language: caption.language, label: caption.label });
    } catch (err) {
      logger.warn('captions left out', { videoId, language: caption.language, error: String(err) });
    }
  }
  return published;
}

const firstCodecs = (chunks: ChunkRecord[], name: string): string =>
  chunks.map((c) => c.renditions[name]?.codecs).find((c) => c) ?? 'avc1.640028';
