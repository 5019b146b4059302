/**
 * Publish: join the chunks' segments into one media playlist per rendition and write the
 * multivariant playlist with measured bandwidths.
 *
 * While chunks are still being encoded, the leading run of finished chunks (sound included)
 * is published as EVENT playlists, so the video plays before it is finished; players start
 * at its beginning (EXT-X-START) and follow it as it grows. When every job is done the
 * playlists become VOD with EXT-X-ENDLIST, I-frame playlists, subtitles, and `ready.json`.
 * Publish requests for one video are serialised (a FIFO queue, grouped by video), and each
 * run publishes exactly what the records say at that moment, so they can arrive in any order
 * and any number of times.
 */
import { MAX_CAPTION_BYTES, parseCaptions, segmentCaptions } from '../core/captions.js';
import { unlessDeleted } from '../core/deletion.js';
import type { Deps } from '../core/deps.js';
import { keys } from '../core/keys.js';
import { rationalValue } from '../core/media.js';
import type { Plan } from '../core/plan.js';
import { playlistQueryParams } from '../core/playback.js';
import {
  describeVariants,
  targetDurationOf,
  writeIframePlaylist,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../core/playlist.js';
import { readProgress } from '../core/progress.js';
import type {
  ChunkRecord,
  PlayableRecord,
  ReadyRecord,
  Segment,
  VideoRecord,
} from '../core/records.js';
import { writeStoryboardVtt } from '../core/storyboard.js';
import { isFinished } from '../core/video-state.js';

/** VOD playlists never change again; short caching still lets a re-publish show. */
export const PLAYLIST_CACHE = 'public, max-age=60';
/** EVENT playlists grow every few seconds: players must see each new version. */
export const GROWING_PLAYLIST_CACHE = 'public, max-age=1';
const M3U8 = 'application/vnd.apple.mpegurl';

export type PublishResult =
  | 'published'
  | 'playable'
  | 'already-published'
  | 'not-ready'
  | 'skipped'
  | 'deleted';

/**
 * Chunks 0..k-1 with none missing: what can be played from the start. A chunk with fewer
 * frames than its plan is where the source really ends (a container that overstated its
 * duration, a cut-short upload): the run stops there, and `ended` says so.
 */
export function leadingRun(
  chunks: readonly ChunkRecord[],
  plan?: Pick<Plan, 'chunks'>,
): { run: ChunkRecord[]; ended: boolean } {
  const run: ChunkRecord[] = [];
  for (const c of [...chunks].sort((a, b) => a.chunk - b.chunk)) {
    if (c.chunk !== run.length) break;
    run.push(c);
    const planned = plan?.chunks[c.chunk]?.frames ?? null;
    if (planned !== null && c.frames < planned) return { run, ended: true };
  }
  return { run, ended: false };
}

/**
 * Publish what the records say, unless the video is deleted: a playlist written while it was
 * deleted is purged (core/deletion.ts).
 */
export function publishVideo(deps: Deps, videoId: string): Promise<PublishResult> {
  return unlessDeleted(deps, videoId, () => publishRecords(deps, videoId));
}

async function publishRecords(deps: Deps, videoId: string): Promise<PublishResult> {
  const { store, config, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const finished = await isFinished(deps, videoId);
  if (finished.failed) return 'skipped';
  if (finished.ready) return 'already-published';
  const plan = await store.getJson<Plan>(bucket, keys.plan(videoId));
  if (!plan) return 'not-ready';

  const progress = await readProgress(deps, plan);
  const chunks = await Promise.all(
    progress.chunksDone.map((i) => store.getJson<ChunkRecord>(bucket, keys.chunk(videoId, i))),
  );
  const all = chunks.filter((c): c is ChunkRecord => c !== undefined);
  const { run: present, ended } = leadingRun(all, plan);
  // Complete from the records actually read (a listed record that could not be read is
  // not done). The chunks after the source's real end have nothing to add.
  const complete = all.length === plan.chunks.length || ended;
  if (present.length === 0) return 'not-ready';

  // Each chunk brings its picture in every rendition and its stretch of the sound.
  const segmentsOf = (name: string): Segment[] =>
    present.flatMap((c) => c.renditions[name]?.segments ?? []);
  const lists = plan.renditions.map((r) => segmentsOf(r.name));
  const audioSegments = present.flatMap((c) => c.audio?.segments ?? []);
  const videoSegments = lists[0] ?? [];
  const hasAudio = plan.audio !== null;
  // One target duration for every rendition, audio included (HLS authoring spec).
  const target = targetDurationOf(hasAudio ? [...lists, audioSegments] : lists);
  const type = complete ? 'VOD' : 'EVENT';
  const cacheControl = complete ? PLAYLIST_CACHE : GROWING_PLAYLIST_CACHE;
  const out = config.OUTPUT_BUCKET;
  // With signed playback every URI carries the signature on (core/playback.ts).
  const query = playlistQueryParams(config);
  const text = (key: string, body: string, contentType = M3U8) =>
    store.putObject(out, key, body, { contentType, cacheControl });
  const fps = rationalValue(plan.output.frameRate);
  const duration = videoSegments.reduce((t, s) => t + s.duration, 0);
  const video = complete
    ? await store.getJson<VideoRecord>(bucket, keys.video(videoId))
    : undefined;
  const subtitles = complete
    ? await publishCaptions(deps, videoId, video, videoSegments, present[0])
    : [];
  const storyboardSheets = present.some((c) => c.storyboard);

  await Promise.all([
    ...plan.renditions.flatMap((r, i) => [
      text(
        keys.mediaPlaylist(videoId, r.name),
        writeMediaPlaylist({ segments: lists[i] ?? [], targetDuration: target, type, query }),
      ),
      complete
        ? text(keys.iframePlaylist(videoId, r.name), writeIframePlaylist(lists[i] ?? [], query))
        : undefined,
    ]),
    storyboardSheets
      ? text(
          keys.storyboardVtt(videoId),
          writeStoryboardVtt(
            present.map((c) => c.storyboard),
            present.map((c) => plan.chunks[c.chunk]?.startFrame ?? 0),
            plan.images.storyboard,
            fps,
            duration,
          ),
          'text/vtt',
        )
      : undefined,
    hasAudio
      ? text(
          keys.mediaPlaylist(videoId, 'audio'),
          writeMediaPlaylist({ segments: audioSegments, targetDuration: target, type, query }),
        )
      : undefined,
  ]);

  const variants = describeVariants(
    plan.renditions
      .map((r, i) => ({
        uri: `${r.name}/index.m3u8`,
        iframesUri: complete ? `${r.name}/iframes.m3u8` : undefined,
        width: r.width,
        height: r.height,
        frameRate: fps,
        video: { segments: lists[i] ?? [], codecs: firstCodecs(present, r.name) },
      }))
      .filter((v) => v.video.segments.length > 0),
    hasAudio
      ? {
          uri: 'audio/index.m3u8',
          audio: { codecs: present[0]?.audio?.codecs ?? 'mp4a.40.2', segments: audioSegments },
        }
      : null,
  );
  // The multivariant playlist goes last: a player that can fetch it finds every list it names.
  await text(
    keys.master(videoId),
    writeMasterPlaylist(
      variants,
      hasAudio ? { uri: 'audio/index.m3u8', channels: 2 } : null,
      subtitles.map((c) => ({
        uri: `subs/${c.language}/index.m3u8`,
        language: c.language,
        name: c.label,
      })),
      query,
    ),
  );

  // The first publish marks the video playable, whether its playlists are growing or whole:
  // every video announces `video.playable` once, before `video.ready`.
  const first = await store.putJson(
    bucket,
    keys.playable(videoId),
    { chunks: present.length } satisfies PlayableRecord,
    { ifNoneMatch: true },
  );
  if (!complete) {
    logger.info('playable', { videoId, chunks: present.length, of: plan.chunks.length, first });
    return 'playable';
  }

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
    poster: present.some((c) => c.poster) ? { jpeg: 'poster.jpg', webp: 'poster.webp' } : undefined,
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
          query: playlistQueryParams(config),
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

/** Each chunk reports its renditions' codecs, read from the SPS (every chunk is encoded alike). */
const firstCodecs = (chunks: ChunkRecord[], name: string): string =>
  chunks.map((c) => c.renditions[name]?.codecs).find((c) => c) ?? 'avc1.640028';
