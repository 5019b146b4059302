/**
 * Ingest: an uploaded source → probe (over a presigned GET; ffprobe reads byte ranges) →
 * validate → plan → encode and publish the opening → enqueue every other job. Idempotent: a
 * duplicate S3 event finds the plan, the opening's record or the enqueued marker and does
 * no work twice.
 */
import { stopIfDeleted, unlessDeleted } from '../core/deletion.js';
import type { MediaDeps } from '../core/deps.js';
import { MediaError, VideoDeletedError } from '../core/errors.js';
import { jobsOf } from '../core/jobs.js';
import { keys, videoIdFromSourceKey } from '../core/keys.js';
import { isMp4Family, normalizeProbe, validateMedia, withKeyframes } from '../core/media.js';
import { makePlan, type Plan } from '../core/plan.js';
import type { VideoRecord } from '../core/records.js';
import { fromSource } from '../core/source.js';
import { isFinished, markFailed } from '../core/video-state.js';
import { publishVideo } from '../publish/publish.js';
import { encodeChunk } from '../transcode/transcode.js';
import { readMp4Keyframes } from './keyframes.js';

export type IngestResult = 'planned' | 'already-planned' | 'ignored' | 'failed' | 'deleted';

export async function ingestUpload(
  deps: MediaDeps,
  key: string,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const id = videoIdFromSourceKey(key);
  if (!id) {
    deps.logger.warn('ignoring an object that is not a source upload', { key });
    return 'ignored';
  }
  // The source of a deleted video can still arrive, through a URL issued before the delete:
  // the first look finds the tombstone and has the upload purged.
  return unlessDeleted(deps, id, () => ingestVideo(deps, id, signal));
}

async function ingestVideo(
  deps: MediaDeps,
  id: string,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const { store, config, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const video = await store.getJson<VideoRecord>(bucket, keys.video(id));
  if (!video) {
    // Only POST /videos hands out upload URLs; anything else is not ours to process.
    logger.warn('ignoring an upload with no video record', { videoId: id });
    return 'ignored';
  }
  const finished = await isFinished(deps, id);
  if (finished.failed || finished.ready) return 'already-planned';
  if (await store.head(bucket, keys.enqueued(id))) return 'already-planned';

  try {
    let plan = await store.getJson<Plan>(bucket, keys.plan(id));
    if (!plan) {
      const stored = await store.head(bucket, keys.source(id));
      if (!stored) return 'ignored';
      // S3 enforces the signed length on AWS; checked again here for any other path in.
      if (stored.size > config.SPOOL_MAX_UPLOAD_BYTES) {
        throw new MediaError(
          'UPLOAD_TOO_LARGE',
          `the upload is over ${config.SPOOL_MAX_UPLOAD_BYTES} bytes`,
        );
      }
      if (stored.size !== video.size) {
        throw new MediaError(
          'SIZE_MISMATCH',
          `the upload is ${stored.size} bytes but ${video.size} were declared`,
        );
      }
      const source = await deps.sources.open(bucket, keys.source(id));
      const raw = await fromSource(source, deps.prober.probe(source.url)).finally(() =>
        source.close(),
      );
      let info = normalizeProbe(raw);
      // Every limit is checked here, on the probe, before any job is paid for.
      validateMedia(info, {
        maxDurationSeconds: config.SPOOL_MAX_DURATION_SECONDS,
        maxPixels: config.SPOOL_MAX_PIXELS,
        maxFrameRate: config.SPOOL_MAX_FRAME_RATE,
        maxStreams: config.SPOOL_MAX_STREAMS,
      });
      // MP4/MOV say where their keyframes are: the planner cuts chunks where little
      // decoding before a chunk's first frame is thrown away.
      if (isMp4Family(info.formatName)) {
        info = withKeyframes(
          info,
          await readMp4Keyframes(store, bucket, keys.source(id), stored.size),
        );
      }
      const candidate = makePlan(id, info, {
        segmentSeconds: config.SPOOL_SEGMENT_SECONDS,
        chunkSegments: config.SPOOL_CHUNK_SEGMENTS,
        workers: config.SPOOL_TRANSCODE_MAX_CONCURRENCY,
        x264Preset: config.SPOOL_X264_PRESET,
        ladder: config.SPOOL_LADDER,
      });
      const written = await store.putJson(bucket, keys.plan(id), candidate, { ifNoneMatch: true });
      // Lost a race with a duplicate event: the plan already written is the one that counts.
      plan =
        written === 'created'
          ? candidate
          : ((await store.getJson<Plan>(bucket, keys.plan(id))) ?? candidate);
      logger.info('planned', {
        videoId: id,
        duration: info.duration,
        chunks: plan.chunks.length,
        renditions: plan.renditions.map((r) => r.name),
      });
    }
    const opened = await playOpening(deps, plan, signal);
    // No jobs for a video deleted while its opening was made.
    await stopIfDeleted(deps, id);
    const jobs = jobsOf(plan).filter((j) => !opened || j.chunk !== 0);
    await deps.queue.sendAll(config.JOBS_QUEUE_URL, jobs);
    await store.putJson(bucket, keys.enqueued(id), { jobs: jobs.length });
    return 'planned';
  } catch (err) {
    if (err instanceof MediaError) {
      await markFailed(deps, id, { code: err.code, message: err.message });
      return 'failed';
    }
    throw err;
  }
}

/**
 * The opening (chunk 0, one keyframe interval) is encoded here and published at once, so the
 * video plays seconds after its upload: no queue hop, no second cold start. It runs before
 * the other jobs are sent, so it has the worker's every core and no other publish can race
 * this one. If it cannot be done here (a timeout, a storage error), it becomes a job like
 * the others; media the opening cannot decode fails the video, as a job would.
 */
async function playOpening(deps: MediaDeps, plan: Plan, signal?: AbortSignal): Promise<boolean> {
  try {
    await encodeChunk(deps, plan, 0, signal);
    await publishVideo(deps, plan.videoId);
    return true;
  } catch (err) {
    if (err instanceof MediaError || err instanceof VideoDeletedError) throw err;
    deps.logger.warn('the opening is left to a transcode job', {
      videoId: plan.videoId,
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
}
