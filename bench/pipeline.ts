/**
 * One measured pass through the local stack, started exactly as the end-to-end tests start it
 * (`npm start`'s entry point as a child process) but with its logs on: upload through the
 * API, then follow the stack's log lines (milestones) and ask the API every 10 s, while /proc
 * is sampled for the RSS and CPU of the stack and of every ffmpeg it runs.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiClient, startStack } from '../test/support/stack.js';
import { argAfter, type ChildProc, isTranscode, isVideoEncode, ProcSampler } from './procfs.js';

// How often the log lines are looked at (in this process: no load on the stack).
const POLL_MS = 100;
/**
 * Ask the API every this many polls (10 s). Each GET /videos/{id} costs the stack about
 * seven S3 requests: every 2 s, that was some 40% of a 30 s run's S3 requests.
 */
const API_EVERY = 100;

/** A `job done` log line of the transcode handler. */
export interface JobLog {
  job: string;
  /** Epoch ms when the handler logged it (the job's end) and when it started (end − ms). */
  end: number;
  start: number;
  ms: number;
  sourceBytesRead: number;
}

export interface FfmpegRun {
  label: string;
  /** `-segment_start_number` of a video encode: the first segment of its chunk. */
  firstSegment?: number;
  firstSeen: number;
  lastSeen: number;
  peakRssMb: number;
  cpuSeconds: number;
}

export interface PipelineRun {
  videoId: string;
  sourceBytes: number;
  /** Epoch ms: POST /videos sent, PUT answered (the upload is complete). */
  postAt: number;
  uploadedAt: number;
  /** Epoch ms of each milestone (undefined when never seen). */
  plannedAt?: number;
  chunk0RecordAt?: number;
  masterAt?: number;
  readyAt: number;
  /** The first early publish (`playable` log line) and the final one (`published`). */
  playableAt?: number;
  publishedAt?: number;
  status: string;
  jobs: JobLog[];
  ffmpeg: FfmpegRun[];
  /** CPU seconds of all the transcodes, exact (each FfmpegRun's figure is sampled). */
  ffmpegCpuSeconds: number;
  /** ffprobe processes (ingest's probe, the workers' codec and keyframe scans). */
  ffprobe: { firstSeen: number; lastSeen: number }[];
  stackPeakRssMb: number;
  /** CPU seconds of the stack's node process itself: API, s3rver, SQS, handlers, pollers. */
  stackCpuSeconds: number;
  tmpPeakBytes: number;
  /** The largest one job's work dir grew to. */
  tmpJobPeakBytes: number;
  /** Log lines with level warn/error, for the report (retries, failures). */
  problems: string[];
}

/** A Powertools log entry (its time is `timestamp`; `time` from before it). */
interface LogLine {
  level?: string;
  message?: string;
  timestamp?: string;
  time?: string;
  job?: string;
  ms?: number;
  sourceBytesRead?: number;
  videoId?: string;
}

export async function runPipeline(opts: {
  file: string;
  contentType?: string;
  workDir: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<PipelineRun> {
  const dataDir = join(opts.workDir, 'data');
  // The workers' mkdtemp(tmpdir()) lands here, so /tmp use is this stack's alone.
  const tmpDir = join(opts.workDir, 'tmp');
  await rm(opts.workDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });

  const stack = await startStack({
    dataDir,
    // Logs on: the `planned`, `job done` and `published` lines are the timings.
    env: { SPOOL_LOG_LEVEL: 'info', TMPDIR: tmpDir, ...opts.env },
  });
  const lines: LogLine[] = [];
  let partial = '';
  // Locally Powertools prints each log entry indented over several lines (POWERTOOLS_DEV):
  // an entry runs from a line that is "{" to one that is "}". One-line JSON is taken as well.
  let entry: string[] | undefined;
  const take = (json: string) => {
    try {
      lines.push(JSON.parse(json) as LogLine);
    } catch {
      // not one of ours
    }
  };
  stack.proc.stdout?.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (entry) {
        entry.push(line);
        if (line === '}') {
          take(entry.join('\n'));
          entry = undefined;
        }
      } else if (line === '{') entry = [line];
      else if (line.startsWith('{')) take(line);
    }
  });
  const sampler = new ProcSampler(stack.proc.pid ?? -1, { dir: tmpDir }).start();

  try {
    const api = new ApiClient(stack.baseUrl, stack.token);
    const sourceBytes = (await stat(opts.file)).size;
    // The stack's CPU is counted from here: its start-up (module loading) is not the pipeline's.
    const cpuAtPost = sampler.rootCpu();
    const reapedAtPost = sampler.reapedCpu();
    const postAt = Date.now();
    const videoId = await api.upload(opts.file, opts.contentType ?? 'video/mp4');
    const uploadedAt = Date.now();

    // Milestones come from the stack's own log lines (each stamped when it happened), so the
    // bench puts no load on the system it measures: polling S3 for them every 250 ms cost
    // the stack's s3rver ~0.5 CPU-s a run. The API is asked every 10 s only to notice a
    // stack that stopped making progress.
    const ours = (l: LogLine) => l.videoId === undefined || l.videoId === videoId;
    const logged = (message: string, job?: string) =>
      lines.find((l) => l.message === message && ours(l) && (job === undefined || l.job === job));
    const deadline = uploadedAt + (opts.timeoutMs ?? 30 * 60_000);
    for (let tick = 1; !logged('published') && !logged('video failed'); tick++) {
      await sleep(POLL_MS);
      if (tick % API_EVERY === 0) {
        const view = await api.get(videoId);
        if (view.status === 'failed') break;
      }
      if (stack.proc.exitCode !== null || stack.proc.signalCode !== null) {
        throw new Error(`the local stack exited (${stack.proc.exitCode ?? stack.proc.signalCode})`);
      }
      if (Date.now() > deadline) throw new Error(`video ${videoId} not ready in time`);
    }
    const { status } = await api.get(videoId);

    const at = (l: LogLine | undefined) => {
      const stamp = l?.timestamp ?? l?.time;
      return stamp ? Date.parse(stamp) : undefined;
    };
    const readyAt = at(logged('published')) ?? at(logged('video failed')) ?? Date.now();
    const jobs: JobLog[] = lines
      .filter((l) => l.message === 'job done' && ours(l))
      .map((l) => {
        const end = at(l) ?? 0;
        const ms = l.ms ?? 0;
        return {
          job: l.job ?? '?',
          end,
          start: end - ms,
          ms,
          sourceBytesRead: l.sourceBytesRead ?? 0,
        };
      });
    const samples = sampler.stop();
    // Every child has exited by now: the exact CPU of all of them, less what the samples saw
    // of the ones that are not transcodes (ffprobe, capability checks; they are short, so the
    // figure leans high, never low).
    const others = samples.children.filter((p) => !isTranscode(p));
    const ffmpegCpuSeconds =
      sampler.reapedCpu() - reapedAtPost - others.reduce((a, p) => a + p.cpuSeconds, 0);
    return {
      videoId,
      sourceBytes,
      postAt,
      uploadedAt,
      plannedAt: at(lines.find((l) => l.message === 'planned')),
      // A job's record is written just before its `job done` line; the first publish (the
      // `playable` line, or `published` when nothing was published early) writes master.m3u8.
      chunk0RecordAt: at(logged('job done', 'chunk 0')),
      masterAt: at(logged('playable')) ?? at(logged('published')),
      readyAt,
      playableAt: at(lines.find((l) => l.message === 'playable')),
      publishedAt: at(lines.find((l) => l.message === 'published')),
      status,
      jobs,
      ffmpeg: samples.children.filter(isTranscode).map(describeFfmpeg),
      ffmpegCpuSeconds,
      ffprobe: samples.children
        .filter((p) => p.comm === 'ffprobe')
        .map((p) => ({ firstSeen: p.firstSeen, lastSeen: p.lastSeen })),
      stackPeakRssMb: samples.rootHwmKb / 1024,
      stackCpuSeconds: samples.rootCpuSeconds - cpuAtPost,
      tmpPeakBytes: samples.dirPeakBytes,
      tmpJobPeakBytes: samples.subdirPeakBytes,
      problems: lines
        .filter((l) => /^(warn|error)$/i.test(l.level ?? ''))
        .map((l) => JSON.stringify(l).slice(0, 300)),
    };
  } catch (err) {
    const tail = stack.output().slice(-3000);
    throw new Error(
      `${err instanceof Error ? err.message : err}\n--- stack output (tail) ---\n${tail}`,
    );
  } finally {
    sampler.stop();
    await stack.stop();
    await rm(opts.workDir, { recursive: true, force: true });
  }
}

function describeFfmpeg(p: ChildProc): FfmpegRun {
  const base = {
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    peakRssMb: p.hwmKb / 1024,
    cpuSeconds: p.cpuSeconds,
  };
  // The short ffmpeg that wraps a chunk's audio segments in MPEG-TS.
  if (!isVideoEncode(p)) return { label: 'mux', ...base };
  const start = Number(argAfter(p, '-segment_start_number'));
  return { label: 'video', ...(Number.isFinite(start) ? { firstSegment: start } : {}), ...base };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
