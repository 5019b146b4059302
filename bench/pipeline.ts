/**
 * One measured pass through the local stack, started exactly as the end-to-end tests start it
 * (`npm start`'s entry point as a child process) but with its logs on: upload through the
 * API, then poll (every 250 ms) the API, the state records and the output bucket, while
 * /proc is sampled for the RSS of the stack and of every ffmpeg it runs.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ApiClient, startStack } from '../test/support/stack.js';
import { argAfter, type ChildProc, isTranscode, isVideoEncode, ProcSampler } from './procfs.js';

const UPLOADS = 'spool-uploads';
const OUTPUT = 'spool-output';
// Every poll is a few S3 requests the stack must serve, charged to the pipeline: 250 ms keeps
// that small and still times a 20 s run to about 1%.
const POLL_MS = 250;

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
  /** `-start_number` of a video encode: the first segment of its chunk. */
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
  audioRecordAt?: number;
  masterAt?: number;
  readyAt: number;
  /** The first early publish (`playable` log line) and the final one (`published`). */
  playableAt?: number;
  publishedAt?: number;
  status: string;
  jobs: JobLog[];
  ffmpeg: FfmpegRun[];
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

interface LogLine {
  level?: string;
  message?: string;
  time?: string;
  job?: string;
  ms?: number;
  sourceBytesRead?: number;
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
  stack.proc.stdout?.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not one of ours
      }
    }
  });
  const sampler = new ProcSampler(stack.proc.pid ?? -1, { dir: tmpDir }).start();
  const s3 = new S3Client({
    endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const exists = (bucket: string, key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      () => false,
    );

  try {
    const api = new ApiClient(stack.baseUrl, stack.token);
    const sourceBytes = (await stat(opts.file)).size;
    const postAt = Date.now();
    const videoId = await api.upload(opts.file, opts.contentType ?? 'video/mp4');
    const uploadedAt = Date.now();

    // Milestones are found with HEADs (cheap for the stack); the API, which derives a status
    // from several S3 reads per call, is asked only once a second: polled every 100 ms it
    // costs the stack about a fifth of a core, which would be charged to the pipeline.
    type Milestone = 'chunk0' | 'audio' | 'master' | 'ready' | 'failed';
    const seen: Partial<Record<Milestone, number>> = {};
    const watch: [Milestone, string, string][] = [
      ['chunk0', UPLOADS, `state/${videoId}/chunks/00000.json`],
      ['audio', UPLOADS, `state/${videoId}/audio.json`],
      ['master', OUTPUT, `videos/${videoId}/master.m3u8`],
      ['ready', UPLOADS, `state/${videoId}/ready.json`],
      ['failed', UPLOADS, `state/${videoId}/failed.json`],
    ];
    const deadline = uploadedAt + (opts.timeoutMs ?? 30 * 60_000);
    for (let tick = 0; seen.ready === undefined && seen.failed === undefined; tick++) {
      const started = Date.now();
      await Promise.all(
        watch
          .filter(([name]) => seen[name] === undefined)
          .map(async ([name, bucket, key]) => {
            if (await exists(bucket, key)) seen[name] = Date.now();
          }),
      );
      if (tick % 4 === 3) {
        const view = await api.get(videoId);
        if (view.status === 'failed') seen.failed ??= Date.now();
      }
      if (stack.proc.exitCode !== null || stack.proc.signalCode !== null) {
        throw new Error(`the local stack exited (${stack.proc.exitCode ?? stack.proc.signalCode})`);
      }
      if (Date.now() > deadline) throw new Error(`video ${videoId} not ready in time`);
      await sleep(Math.max(0, POLL_MS - (Date.now() - started)));
    }
    const readyAt = seen.ready ?? seen.failed ?? Date.now();
    const { status } = await api.get(videoId);
    // Whatever appeared in the last interval is there now.
    for (const [name, bucket, key] of watch) {
      if (seen[name] === undefined && (await exists(bucket, key))) seen[name] = readyAt;
    }
    // `published` is logged just after ready.json is written: give the pipe a moment.
    for (let i = 0; i < 40 && !lines.some((l) => l.message === 'published'); i++) await sleep(50);

    const at = (l: LogLine | undefined) => (l?.time ? Date.parse(l.time) : undefined);
    const jobs: JobLog[] = lines
      .filter((l) => l.message === 'job done')
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
    return {
      videoId,
      sourceBytes,
      postAt,
      uploadedAt,
      plannedAt: at(lines.find((l) => l.message === 'planned')),
      chunk0RecordAt: seen.chunk0,
      audioRecordAt: seen.audio,
      masterAt: seen.master,
      readyAt,
      playableAt: at(lines.find((l) => l.message === 'playable')),
      publishedAt: at(lines.find((l) => l.message === 'published')),
      status,
      jobs,
      ffmpeg: samples.children.filter(isTranscode).map(describeFfmpeg),
      ffprobe: samples.children
        .filter((p) => p.comm === 'ffprobe')
        .map((p) => ({ firstSeen: p.firstSeen, lastSeen: p.lastSeen })),
      stackPeakRssMb: samples.rootHwmKb / 1024,
      stackCpuSeconds: samples.rootCpuSeconds,
      tmpPeakBytes: samples.dirPeakBytes,
      tmpJobPeakBytes: samples.subdirPeakBytes,
      problems: lines
        .filter((l) => l.level === 'warn' || l.level === 'error')
        .map((l) => JSON.stringify(l).slice(0, 300)),
    };
  } catch (err) {
    const tail = stack.output().slice(-3000);
    throw new Error(
      `${err instanceof Error ? err.message : err}\n--- stack output (tail) ---\n${tail}`,
    );
  } finally {
    sampler.stop();
    s3.destroy();
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
  if (!isVideoEncode(p)) return { label: 'audio', ...base };
  const start = Number(argAfter(p, '-start_number'));
  return { label: 'video', ...(Number.isFinite(start) ? { firstSegment: start } : {}), ...base };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
