/**
 * A transcode job: one chunk of video into every rendition (or the audio rendition), then a
 * write-once record. The record is written only after every segment is uploaded, so its
 * presence means the chunk is complete; a redelivered job that finds it does nothing twice.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaDeps } from '../core/deps.js';
import { MediaError } from '../core/errors.js';
import { describeJob, type Job } from '../core/jobs.js';
import { keys } from '../core/keys.js';
import type { PublishRequest } from '../core/messages.js';
import type { Plan } from '../core/plan.js';
import { readProgress } from '../core/progress.js';
import type {
  AudioProgressRecord,
  AudioRecord,
  ChunkRecord,
  RenditionOutput,
  Segment,
} from '../core/records.js';
import { fromSource } from '../core/source.js';
import { isFinished } from '../core/video-state.js';

/** Segments are immutable once written: players and CDNs may cache them for a year. */
export const SEGMENT_CACHE = 'public, max-age=31536000, immutable';

export type JobResult = 'encoded' | 'already-done' | 'skipped';

/**
 * Uploads segments as the transcoder finishes them, a few at a time: enough to fill the
 * pipe while ffmpeg keeps encoding, few enough to bound open files and memory.
 */
function segmentUploader(deps: MediaDeps, videoId: string) {
  const uploaded = new Set<string>();
  const queue: (() => Promise<void>)[] = [];
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
    return new Promise<void>((resolve, reject) => {
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
  };
  return {
    upload,
    /** Upload whatever the listener did not see (it is optional for a transcoder). */
    rest: (rendition: string, output: RenditionOutput & { dir: string }) =>
      Promise.all(output.segments.map((s) => upload(rendition, s.file, join(output.dir, s.file)))),
  };
}

const strip = ({ segments, codecs }: RenditionOutput): RenditionOutput => ({ segments, codecs });

/**
 * `signal` aborts when the job's time is up (the function's remaining time, less a margin):
 * ffmpeg is stopped and the job fails with a TimedOutError, to be retried.
 */
export async function runJob(deps: MediaDeps, job: Job, signal?: AbortSignal): Promise<JobResult> {
  const { store, config, logger } = deps;
  const bucket = config.UPLOADS_BUCKET;
  const id = job.videoId;
  const finished = await isFinished(deps, id);
  // A failed video spends no more compute; a ready one has nothing left to do.
  if (finished.failed || finished.ready) return 'skipped';
  const plan = await store.getJson<Plan>(bucket, keys.plan(id));
  if (!plan) throw new Error(`no plan for video ${id}`);
  const recordKey = job.type === 'audio' ? keys.audio(id) : keys.chunk(id, job.chunk);

  let result: JobResult = 'already-done';
  /** Seconds of media the job encoded, for the encode-speed metric. */
  let mediaSeconds = 0;
  if (!(await store.head(bucket, recordKey))) {
    const started = Date.now();
    const workDir = await mkdtemp(join(tmpdir(), 'spool-'));
    const source = await deps.sources.open(bucket, keys.source(id));
    const input = source.url;
    const read = <T>(work: Promise<T>) => fromSource(source, work);
    try {
      const uploader = segmentUploader(deps, id);
      if (job.type === 'audio') {
        const progress = audioProgress(deps, plan);
        let out = await read(
          deps.transcoder.encodeAudio({
            input,
            plan,
            workDir,
            signal,
            onSegment: async (rendition, file, path, duration) => {
              await uploader.upload(rendition, file, path);
              await progress.uploaded(file, duration, (await stat(path)).size);
            },
          }),
        );
        await progress.settled();
        let up = uploader;
        const until = videoLengthIfNotPlanned(plan, out.videoEnd);
        if (until !== undefined) {
          // The file holds less (a cut-short upload) or more video than its container said:
          // the sound must end with the picture, not run on in silence or stop early.
          logger.info('audio cut to the video', { videoId: id, seconds: until });
          up = segmentUploader(deps, id);
          out = await read(deps.transcoder.encodeAudio({ input, plan, workDir, until, signal }));
        }
        await up.rest('audio', out);
        await store.putJson(bucket, recordKey, strip(out) satisfies AudioRecord);
        mediaSeconds = out.segments.reduce((sum, s) => sum + s.duration, 0);
      } else {
        const encode = (bounded: boolean) => {
          const up = bounded ? uploader : segmentUploader(deps, id);
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
        await Promise.all([
          ...Object.entries(out.renditions).map(([name, r]) => up.rest(name, r)),
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
        };
        await store.putJson(bucket, recordKey, record);
        mediaSeconds = (out.frames * plan.output.frameRate.den) / plan.output.frameRate.num;
      }
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
      await source.close();
      // /tmp is shared by every invocation of a warm Lambda: leave nothing behind.
      await rm(workDir, { recursive: true, force: true });
    }
  }
  await requestPublish(deps, plan, job);
  return result;
}

/**
 * The video's real length in seconds when the file's video ends more than a frame from
 * where the plan expected (`videoEnd` on the source's clock); undefined when the plan was
 * right or nothing was logged.
 */
export function videoLengthIfNotPlanned(
  plan: Plan,
  videoEnd: number | undefined,
): number | undefined {
  if (videoEnd === undefined) return undefined;
  const fps = plan.output.frameRate.num / plan.output.frameRate.den;
  const real = videoEnd - plan.source.video.start;
  return real > 0 && Math.abs(real - plan.estimatedFrames / fps) > 1 / fps ? real : undefined;
}

/**
 * The audio job covers the whole source, so on a long video it would hold back the first
 * playable segment until it ends. As its segments are uploaded it records how far it got
 * and asks for a publish each time it passes a chunk boundary, so the opening plays as soon
 * as both the first chunk and the audio under it exist.
 */
function audioProgress(deps: MediaDeps, plan: Plan) {
  const { store, config } = deps;
  const id = plan.videoId;
  const fps = plan.output.frameRate.num / plan.output.frameRate.den;
  const boundaries = plan.chunks.slice(1).map((c) => c.startFrame / fps);
  const done = new Map<number, Segment>();
  let listed = 0;
  let covered = 0;
  let writes = Promise.resolve();
  return {
    uploaded(file: string, duration: number, bytes: number): Promise<void> {
      done.set(Number(/(\d+)/.exec(file)?.[1]), { file, duration, bytes });
      // Only the unbroken run from the first segment counts (uploads finish out of order).
      const segments: Segment[] = [];
      for (let n = 0; done.has(n); n++) segments.push(done.get(n) as Segment);
      if (segments.length <= listed || segments.some((s) => !Number.isFinite(s.duration))) {
        return writes;
      }
      listed = segments.length;
      const end = segments.reduce((t, s) => t + s.duration, 0);
      const crossed = boundaries.filter((b) => b <= end + 0.05).length + 1;
      const ask = crossed > covered;
      covered = Math.max(covered, crossed);
      writes = writes.then(async () => {
        await store.putJson(config.UPLOADS_BUCKET, keys.audioProgress(id), {
          segments,
        } satisfies AudioProgressRecord);
        if (ask) {
          const request: PublishRequest = { type: 'publish', videoId: id };
          await deps.queue.sendOrdered(
            config.PUBLISH_QUEUE_URL,
            request,
            id,
            `${id}-audio-${crossed}`,
          );
        }
      });
      return writes;
    },
    settled: () => writes,
  };
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
  const grewPlayable =
    progress.audioDone && leading > 0 && (job.type === 'audio' || job.chunk < leading);
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
