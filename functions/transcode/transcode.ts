/**
 * A transcode job: one chunk of the video into every rendition and its stretch of the audio, then a
 * write-once record. The record is written only after every segment is uploaded, so its
 * presence means the chunk is complete; a redelivered job that finds it does nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopIfDeleted, unlessDeleted } from '../core/deletion.js';
import type { MediaDeps } from '../core/deps.js';
import { MediaError } from '../core/errors.js';
import { describeJob, type Job } from '../core/jobs.js';
import { keys } from '../core/keys.js';
import type { PublishRequest } from '../core/messages.js';
import type { Plan } from '../core/plan.js';
import { readProgress } from '../core/progress.js';
import type { ChunkRecord, RenditionOutput } from '../core/records.js';
import { fromSource } from '../core/source.js';
import { isFinished } from '../core/video-state.js';

/** Segments are immutable once written: players and CDNs may cache them for a year. */
export const SEGMENT_CACHE = 'public, max-age=31536000, immutable';

export type JobResult = 'encoded' | 'already-done' | 'skipped' | 'deleted';

/**
 * Uploads segments as the transcoder finishes them, a few at a time: enough to fill the
 * pipe while ffmpeg keeps encoding, few enough to bound open files and memory.
 */
function segmentUploader(deps: MediaDeps, videoId: string) {
  const uploaded = new Set<string>();
  const queue: (() => Promise<void>)[] = [];
  /** Every upload asked for, to wait for them all when the job ends, however it ends. */
  const asked: Promise<void>[] = [];
  let active = 0;
  const next = () => {
    while (active < 4 && queue.length > 0) {
      const task = queue.shift();
      if (!task) break;
      active++;
      void task().finally(() => {
        active--;
        next();
      });
    }
  };
  const upload = (rendition: string, file: string, path: string): Promise<void> => {
    const key = keys.segment(videoId, rendition, file);
    if (uploaded.has(key)) return Promise.resolve();
    uploaded.add(key);
    const done = new Promise<void>((resolve, reject) => {
      queue.push(() =>
        deps.store
          .putFile(deps.config.OUTPUT_BUCKET, key, path, {
            contentType: 'video/mp2t',
            cacheControl: SEGMENT_CACHE,
          })
          .then(resolve, (err: unknown) => {
            uploaded.delete(key);
            reject(err);
          }),
      );
      next();
    });
    asked.push(done);
    return done;
  };
  return {
    upload,
    /** Upload whatever the listener did not see (it is optional for a transcoder). */
    rest: (rendition: string, output: RenditionOutput & { dir: string }) =>
      Promise.all(output.segments.map((s) => upload(rendition, s.file, join(output.dir, s.file)))),
    /**
     * Wait until no upload is under way. A job that failed half-way must not end while its
     * uploads go on: its files are about to be removed, and a segment landing after the job
     * has given up would land after any look at the video's tombstone (core/deletion.ts).
     */
    settled: () => Promise.allSettled(asked),
  };
}

/** Like Promise.all, but rejects only once every promise has settled. */
async function allOrFirstError(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const strip = ({ segments, codecs }: RenditionOutput): RenditionOutput => ({ segments, codecs });

/**
 * `signal` aborts when the job's time is up (the function's remaining time, less a margin):
 * ffmpeg is stopped and the job fails with a TimedOutError, to be retried.
 */
export async function runJob(deps: MediaDeps, job: Job, signal?: AbortSignal): Promise<JobResult> {
  const { store, config } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const id = job.videoId;
  // A deleted video spends no more compute, and what this job wrote while it was deleted is
  // purged (core/deletion.ts).
  return unlessDeleted(deps, id, async () => {
    const finished = await isFinished(deps, id);
    // A failed video spends no more compute; a ready one has nothing left to do.
    if (finished.failed || finished.ready) return 'skipped';
    const plan = await store.getJson<Plan>(bucket, keys.plan(id));
    if (!plan) throw new Error(`no plan for video ${id}`);
    const result = await encodeChunk(deps, plan, job.chunk, signal);
    await requestPublish(deps, plan, job);
    return result;
  });
}

/**
 * Encode chunk `chunk` of `plan` (every rendition, its audio, its images), upload it and write
 * its record, unless the record exists. Ingest runs the opening through here as well.
 */
export async function encodeChunk(
  deps: MediaDeps,
  plan: Plan,
  chunk: number,
  signal?: AbortSignal,
): Promise<JobResult> {
  const { store, config, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const id = plan.videoId;
  const job: Job = { type: 'video-chunk', videoId: id, chunk };
  const recordKey = keys.chunk(id, chunk);

  let result: JobResult = 'already-done';
  /** Seconds of media the job encoded, for the encode-speed metric. */
  let mediaSeconds = 0;
  if (!(await store.head(bucket, recordKey))) {
    const started = Date.now();
    const workDir = await mkdtemp(join(tmpdir(), 'spool-'));
    const source = await deps.sources.open(bucket, keys.source(id));
    const input = source.url;
    const read = <T>(work: Promise<T>) => fromSource(source, work);
    const uploader = segmentUploader(deps, id);
    const uploaders = [uploader];
    try {
      const encode = (bounded: boolean) => {
        const up = bounded ? uploader : segmentUploader(deps, id);
        if (up !== uploader) uploaders.push(up);
        return read(
          deps.transcoder.encodeVideoChunk({
            input,
            plan,
            chunk: job.chunk,
            workDir,
            onSegment: up.upload,
            bounded,
            signal,
          }),
        ).then((out) => ({ out, up }));
      };
      let { out, up } = await encode(true);
      const planned = plan.chunks[job.chunk]?.frames ?? null;
      if (planned !== null && out.frames < planned && plan.chunks[job.chunk]?.readEndByte) {
        // A read bound from the index that fell short (it never should): encode the chunk
        // again, reading to the end of the file.
        ({ out, up } = await encode(false));
      }
      // Fewer frames than planned means the source ends in this chunk (a duration that
      // overstated it, or a cut-short upload): publish plays what decoded up to here.
      // Nothing at all from the first chunk means nothing decodes.
      if (job.chunk === 0 && out.frames === 0) {
        throw new MediaError('DECODE_FAILED', 'no picture could be decoded from the upload');
      }
      // Deleted while it encoded: the images and the record are not worth writing.
      await stopIfDeleted(deps, id);
      const images: [string, string, string][] = [];
      if (out.storyboard) {
        images.push([
          out.storyboard.path,
          keys.storyboardImage(id, out.storyboard.file),
          'image/jpeg',
        ]);
      }
      if (out.poster) {
        images.push([out.poster.jpeg, keys.poster(id, 'jpg'), 'image/jpeg']);
        images.push([out.poster.webp, keys.poster(id, 'webp'), 'image/webp']);
      }
      // Every write ends before the job does, even when one fails (see settled above).
      await allOrFirstError([
        ...Object.entries(out.renditions).map(([name, r]) => up.rest(name, r)),
        ...(out.audio ? [up.rest('audio', out.audio)] : []),
        ...images.map(([path, key, contentType]) =>
          store.putFile(config.OUTPUT_BUCKET, key, path, {
            contentType,
            cacheControl: SEGMENT_CACHE,
          }),
        ),
      ]);
      const record: ChunkRecord = {
        chunk: job.chunk,
        frames: out.frames,
        renditions: Object.fromEntries(
          Object.entries(out.renditions).map(([name, r]) => [name, strip(r)]),
        ),
        storyboard: out.storyboard
          ? { file: out.storyboard.file, count: out.storyboard.count }
          : undefined,
        poster: out.poster ? true : undefined,
        firstFrameTime: out.firstFrameTime,
        ...(out.audio ? { audio: strip(out.audio) } : {}),
      };
      await store.putJson(bucket, recordKey, record);
      mediaSeconds = (out.frames * plan.output.frameRate.den) / plan.output.frameRate.num;
      result = 'encoded';
      const seconds = (Date.now() - started) / 1000;
      if (mediaSeconds > 0) {
        deps.metrics.record('encodeSecondsPerSourceSecond', seconds / mediaSeconds);
      }
      logger.info('job done', {
        videoId: id,
        job: describeJob(job),
        ms: Date.now() - started,
        sourceBytesRead: source.bytesRead(),
      });
    } finally {
      await Promise.all(uploaders.map((u) => u.settled()));
      await source.close();
      // /tmp is shared by every invocation of a warm Lambda: leave nothing behind.
      await rm(workDir, { recursive: true, force: true });
    }
  }
  return result;
}

/**
 * Ask for a publish when this job moved the video forward for a viewer: when every job is
 * done, or when the leading run of chunks (with the audio) grew, so the opening plays early.
 * Records are written before this check and S3 lists are strongly consistent, so the last of
 * any set of racing workers sees every record; the deduplication id (the count of finished
 * jobs) lets SQS drop the copies racing workers send for the same state.
 */
export async function requestPublish(deps: MediaDeps, plan: Plan, job: Job): Promise<boolean> {
  const progress = await readProgress(deps, plan);
  const finished = progress.done;
  const leading = progress.leadingChunks;
  const complete = progress.missing.length === 0;
  const grewPlayable = leading > 0 && job.chunk < leading;
  if (!complete && !grewPlayable) return false;
  const request: PublishRequest = { type: 'publish', videoId: plan.videoId };
  await deps.queue.sendOrdered(
    deps.config.PUBLISH_QUEUE_URL,
    request,
    plan.videoId,
    `${plan.videoId}-${finished}`,
  );
  return true;
}
