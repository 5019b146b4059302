/** From one pipeline run's raw timings to the figures in the table and the model's inputs. */
import type { Plan } from '../functions/core/plan.js';
import type { PipelineRun } from './pipeline.js';

export interface JobFigures {
  job: string;
  /** Seconds of source this job encodes. */
  sourceSeconds: number;
  jobSeconds: number;
  /** ffmpeg's own lifetime (sampled every 100 ms), and the job's time before/after it. */
  ffmpegSeconds?: number;
  preSeconds?: number;
  postSeconds?: number;
  /** Seconds from the plan being written to this job starting. */
  waitSeconds: number;
  peakRssMb?: number;
  /** ffmpeg's user + system CPU seconds. */
  cpuSeconds?: number;
  /** Bytes the job's source reader fetched from S3. */
  bytesRead: number;
  /** Mean number of video encodes running while this one ran (this one included). */
  concurrency?: number;
}

export interface RunFigures {
  uploadSeconds: number;
  readySeconds: number;
  chunk0Seconds?: number;
  masterSeconds?: number;
  probePlanSeconds?: number;
  /** Plan written → the opening (chunk 0, encoded by ingest) done. */
  openingSeconds?: number;
  /** The opening done → the first queued job running (SendMessageBatch, queue, poller). */
  dispatchSeconds?: number;
  publishSeconds?: number;
  /** Chunk 0 done → the first early publish logged `playable`. */
  firstPublishSeconds?: number;
  stackPeakRssMb: number;
  stackCpuSeconds: number;
  /** CPU seconds of every transcode ffmpeg (the chunks' encodes and audio muxes). */
  ffmpegCpuSeconds: number;
  ffmpegPeakRssMb: number;
  tmpPeakMb: number;
  tmpJobPeakMb: number;
  bytesReadPerSourceByte: number;
  maxConcurrentFfmpeg: number;
  ffprobeCount: number;
  jobs: JobFigures[];
  /**
   * Seconds of source encoded into the whole ladder per CPU-second of the chunk jobs' ffmpeg
   * (decode, filters, every x264): per vCPU-second on Lambda if ffmpeg keeps its vCPUs busy.
   * Measured in CPU time, so other load on this machine does not skew it.
   */
  throughputPerVcpu?: number;
  /** Mean job time outside ffmpeg (video jobs). */
  jobOverheadSeconds?: number;
}

const s = (ms: number) => ms / 1000;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] ?? Number.NaN) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

/** Seconds of source in chunk `index` of the plan. */
export function chunkSeconds(plan: Plan, index: number): number {
  const spec = plan.chunks[index];
  if (!spec) return 0;
  const fps = plan.output.frameRate.num / plan.output.frameRate.den;
  return (spec.frames ?? Math.max(0, plan.estimatedFrames - spec.startFrame)) / fps;
}

export function analyze(run: PipelineRun, plan: Plan): RunFigures {
  const t0 = run.uploadedAt;
  const videos = run.ffmpeg.filter((f) => f.label === 'video');
  const concurrencyOf = (f: { firstSeen: number; lastSeen: number }) => {
    const span = f.lastSeen - f.firstSeen;
    if (span <= 0) return 1;
    // Integrate, over f's lifetime, how many video encodes overlap it.
    const overlap = sum(
      videos.map((g) =>
        Math.max(0, Math.min(f.lastSeen, g.lastSeen) - Math.max(f.firstSeen, g.firstSeen)),
      ),
    );
    return Math.max(1, overlap / span);
  };

  const jobs: JobFigures[] = run.jobs.map((j) => {
    const chunk = /^chunk (\d+)$/.exec(j.job)?.[1];
    const index = chunk === undefined ? undefined : Number(chunk);
    const proc =
      index === undefined
        ? undefined
        : videos.find((f) => f.firstSegment === plan.chunks[index]?.firstSegment);
    const fig: JobFigures = {
      job: j.job,
      sourceSeconds: index === undefined ? plan.source.duration : chunkSeconds(plan, index),
      jobSeconds: s(j.ms),
      bytesRead: j.sourceBytesRead,
      waitSeconds: run.plannedAt ? s(j.start - run.plannedAt) : Number.NaN,
    };
    if (proc) {
      fig.ffmpegSeconds = s(proc.lastSeen - proc.firstSeen);
      fig.preSeconds = s(proc.firstSeen - j.start);
      fig.postSeconds = s(j.end - proc.lastSeen);
      fig.peakRssMb = proc.peakRssMb;
      fig.cpuSeconds = proc.cpuSeconds;
      if (proc.label === 'video') fig.concurrency = concurrencyOf(proc);
    }
    return fig;
  });

  const videoJobs = jobs.filter((j) => j.ffmpegSeconds);
  const chunkJobs = jobs.filter((j) => j.job.startsWith('chunk '));
  const cpuSeconds = sum(videoJobs.map((j) => j.cpuSeconds ?? 0));

  // The most transcodes alive at once, from the sampled lifetimes.
  const edges = run.ffmpeg.flatMap((f) => [
    [f.firstSeen, 1],
    [f.lastSeen + 1, -1],
  ]) as [number, number][];
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let alive = 0;
  let maxAlive = 0;
  for (const [, d] of edges) {
    alive += d;
    maxAlive = Math.max(maxAlive, alive);
  }

  const lastEnd = Math.max(...run.jobs.map((j) => j.end));
  // Ingest encodes the opening (chunk 0) itself, then sends the other jobs.
  const opening = run.jobs.find((j) => j.job === 'chunk 0');
  const queued = run.jobs.filter((j) => j !== opening);
  const firstStart = Math.min(...queued.map((j) => j.start));
  return {
    uploadSeconds: s(run.uploadedAt - run.postAt),
    readySeconds: s(run.readyAt - t0),
    chunk0Seconds: run.chunk0RecordAt !== undefined ? s(run.chunk0RecordAt - t0) : undefined,
    masterSeconds: run.masterAt ? s(run.masterAt - t0) : undefined,
    probePlanSeconds: run.plannedAt ? s(run.plannedAt - t0) : undefined,
    openingSeconds: opening && run.plannedAt ? s(opening.end - run.plannedAt) : undefined,
    dispatchSeconds: opening && queued.length ? s(firstStart - opening.end) : undefined,
    publishSeconds: run.publishedAt && run.jobs.length ? s(run.publishedAt - lastEnd) : undefined,
    firstPublishSeconds: firstPublish(run),
    stackPeakRssMb: run.stackPeakRssMb,
    stackCpuSeconds: run.stackCpuSeconds,
    ffmpegCpuSeconds: run.ffmpegCpuSeconds,
    ffmpegPeakRssMb: Math.max(0, ...run.ffmpeg.map((f) => f.peakRssMb)),
    tmpPeakMb: run.tmpPeakBytes / 1024 / 1024,
    tmpJobPeakMb: run.tmpJobPeakBytes / 1024 / 1024,
    bytesReadPerSourceByte: sum(run.jobs.map((j) => j.sourceBytesRead)) / run.sourceBytes,
    maxConcurrentFfmpeg: maxAlive,
    ffprobeCount: run.ffprobe.length,
    jobs,
    // The exact CPU of every transcode where the samples saw a process for every chunk job.
    throughputPerVcpu:
      run.ffmpegCpuSeconds > 0 && videoJobs.length === chunkJobs.length
        ? sum(chunkJobs.map((j) => j.sourceSeconds)) / run.ffmpegCpuSeconds
        : cpuSeconds > 0
          ? sum(videoJobs.map((j) => j.sourceSeconds)) / cpuSeconds
          : undefined,
    jobOverheadSeconds: videoJobs.length
      ? sum(videoJobs.map((j) => j.jobSeconds - (j.ffmpegSeconds ?? 0))) / videoJobs.length
      : undefined,
  };
}

/** From the opening job (chunk 0, picture and sound) being done to the first `playable` publish. */
function firstPublish(run: PipelineRun): number | undefined {
  const opening = run.jobs.filter((j) => j.job === 'chunk 0');
  if (!run.playableAt || opening.length === 0) return undefined;
  return s(run.playableAt - Math.max(...opening.map((j) => j.end)));
}
