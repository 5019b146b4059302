/**
 * `npm run bench`: the pipeline from upload to ready through the local stack, against the
 * limit on this machine (one ffmpeg, one decode, the same ladder and encoder settings, to
 * local disk), repeated; the quality cost of chunking on a short source; then the scale
 * model for AWS Lambda and the duration buckets. It ends with the lines of `headlineLines`.
 */
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hostEngine } from '../engine/engine.js';
import type { Plan } from '../functions/core/plan.js';
import { analyze, chunkSeconds, median, type RunFigures } from './analyze.js';
import { type Binaries, type FfmpegResult, planFor, planOptions, runBaseline } from './baseline.js';
import { bucketReport, bucketRows } from './buckets.js';
import { type EngineFigures, enginesTable, oldEngine } from './engines.js';
import { num, table } from './format.js';
import { headlineLines, perRun, runMedians, worstBdRate } from './headline.js';
import { loadBench } from './load.js';
import { ANCHORS, ASSUMPTIONS, MUX_TIME_TO_PUBLISH } from './model.js';
import { type PipelineRun, runPipeline } from './pipeline.js';
import { esBasis, PIPELINE, qualityBench, qualityReport, summarize } from './quality.js';
import { HEADLINE_WORKERS, hourOfVideo, modelReport, scaleModel } from './report.js';
import { ensureSource } from './source.js';

/**
 * Length of the default run's quality source: long enough for a join after the 2 s opening
 * (the planner cuts it 2 + 10 s), short enough to encode at four CRFs in minutes.
 */
const QUALITY_SECONDS = 12;

const HELP = `Usage: npm run bench -- [options]

  --input <file>   source to use (default: a generated 1080p30 testsrc2 clip, cached in .bench/)
  --seconds <n>    length of the generated source (default 30)
  --runs <n>       repetitions; the table shows each run and the median (default 3);
                   --runs 0 runs only the memory comparison
  --no-memory      skip the memory comparison (issue 4 item 5: 30 s and 120 s 1080p sources
                   through the pipeline, a chunk job's peak RSS and /tmp), about 2 minutes
  --no-old-engine  skip the engines side by side (the same runs and quality comparison on
                   the 2018 npm builds, installed under .bench/old-engine without saving)
  --no-quality     skip the quality comparison on a generated ${QUALITY_SECONDS} s 1080p source (the
                   pipeline as is; whole-file encodes cached in .bench/quality-cache), a few
                   minutes; chunking_bdrate_pct is then nan
  --load           instead: concurrent uploads and an API burst (see below)
  --quality        instead: chunked vs one whole-file encode per rung at 4 CRFs (bitrate vs
                   cap, PSNR, SSIM, BD-rate, SSIM dips at joins); ~15 CPU-min at 30 s
  --uploads <n>    with --load: uploads at once per batch (default 20)
  --batches <n>    with --load: batches, to see memory from one to the next (default 2)
  --rate <n>       with --load: API requests per second in the burst (default 50)
  --help           this text

Each run waits (up to 90 s) for the load average to fall to half the cores, then runs the
baseline (ONE ffmpeg: decode once, every rendition + audio to HLS on disk), then the
pipeline (a fresh local stack: POST /videos, PUT, then its log lines until ready).
Then the quality comparison, the scale model, and time to playable and to ready per source
length beside Mux's medians (the source's bucket measured here, the others modeled).
The output ends with these lines, for scripts ("nan" for a figure not measured):
  playable_share=<first playable / baseline, median over runs>
  cpu_ratio=<pipeline ffmpeg CPU-s / baseline ffmpeg CPU-s, median over runs>
  ready_60min_s=<modeled upload→ready of 60 min of 1080p at ${HEADLINE_WORKERS} Lambda workers>
  chunking_bdrate_pct=<worst rung's BD-rate, PSNR or SSIM, chunked vs whole-file, %>
  ratio=<upload→ready / baseline, median over runs>

--load: batches of concurrent uploads of short mixed clips through a fresh local stack
(every one must end ready), then 10 s of POST /videos and GET /videos/{id} at --rate.
Prints videos per minute, p50/p95/max time to ready, the stack's RSS per batch, API
latency p50/p99 and errors, with the load average of each.`;

const REPO = resolve(import.meta.dirname, '..');
const BENCH_DIR = join(REPO, '.bench');

function binaries(): Binaries {
  const { ffmpeg, ffprobe } = hostEngine();
  return { ffmpeg, ffprobe };
}

const say = (text: string) => process.stderr.write(`[bench] ${text}\n`);

interface RunResult {
  /** 1-minute load average when the run started: other work on the machine skews it. */
  load: number;
  baseline: FfmpegResult;
  figures: RunFigures;
}

async function benchRuns(
  bins: Binaries,
  file: string,
  plan: Plan,
  runs: number,
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (let i = 1; i <= runs; i++) {
    const load = await settle(availableParallelism());
    say(`run ${i}/${runs}: baseline (one ffmpeg)…`);
    const baseline = await runBaseline(bins, plan, file, join(BENCH_DIR, 'baseline-out'));
    say(`run ${i}/${runs}: baseline ${num(baseline.seconds)} s; pipeline…`);
    const run = await pipelineOnce(file, bins);
    const figures = analyze(run, plan);
    say(`run ${i}/${runs}: upload→ready ${num(figures.readySeconds)} s`);
    for (const p of run.problems) say(`  log: ${p}`);
    results.push({ load, baseline, figures });
  }
  return results;
}

/** A load average over half the cores: a busy machine, whose times skew the figures. */
const busyLoad = (cores: number): number => cores / 2;

/** The longest wait for the machine to settle before a run. */
const SETTLE_MAX_MS = 90_000;

/**
 * Waits, up to SETTLE_MAX_MS, for the 1-minute load average to fall to half the cores, and
 * returns it. The run before leaves its own two cores' worth in that average for a minute
 * or so (it was 2.0 at the start of a run that followed one begun at 0.1): without the wait,
 * the busy warning and the load column would show the bench itself, not the neighbours.
 */
async function settle(cores: number): Promise<number> {
  const started = Date.now();
  let load = loadavg()[0] ?? 0;
  while (load > busyLoad(cores) && Date.now() - started < SETTLE_MAX_MS) {
    await new Promise((r) => setTimeout(r, 5000));
    load = loadavg()[0] ?? 0;
  }
  const waited = Math.round((Date.now() - started) / 1000);
  if (waited > 0) say(`waited ${waited} s for the load average to settle: ${num(load, 1)}`);
  return load;
}

/** Times on a busy machine say more about the neighbours than about Spool: say so. */
function busyWarning(results: RunResult[], cores: number): string[] {
  const busy = results.filter((r) => r.load > busyLoad(cores));
  if (busy.length === 0) return [];
  return [
    `WARNING: ${busy.length} of ${results.length} run(s) started at a load average over ${busyLoad(cores)} ` +
      `(${busy.map((r) => num(r.load, 1)).join(', ')}) on ${cores} cores: the machine is busy, so ` +
      'the times and their ratio are skewed; the CPU-seconds ratio is the steadier figure.',
  ];
}

function mainTable(results: RunResult[], baselineThroughput: number[]): string {
  const rows: [string, (r: RunResult, i: number) => number | undefined, number][] = [
    ['upload→ready s', perRun.readySeconds, 1],
    ['baseline (one ffmpeg) s', (r) => r.baseline.seconds, 1],
    ['ratio', perRun.ratio, 2],
    ['first chunk record s', (r) => r.figures.chunk0Seconds, 1],
    ['first playable (master.m3u8) s', perRun.playableSeconds, 1],
    ['first playable / baseline', perRun.playableShare, 2],
    ['peak RSS stack MB', (r) => r.figures.stackPeakRssMb, 0],
    ['peak RSS per ffmpeg MB (max)', (r) => r.figures.ffmpegPeakRssMb, 0],
    ['peak RSS baseline ffmpeg MB', (r) => r.baseline.peakRssMb, 0],
    ['S3 bytes read / source byte', (r) => r.figures.bytesReadPerSourceByte, 2],
    ['  upload (POST + PUT) s', (r) => r.figures.uploadSeconds, 1],
    ['  probe + plan s', (r) => r.figures.probePlanSeconds, 2],
    ['  plan → opening encoded (in ingest) s', (r) => r.figures.openingSeconds, 2],
    ['  opening → first queued job s', (r) => r.figures.dispatchSeconds, 2],
    ['  chunk 0 done → playable s', (r) => r.figures.firstPublishSeconds, 2],
    ['  last job → published s', (r) => r.figures.publishSeconds, 2],
    ['  CPU s, pipeline ffmpeg (all jobs)', (r) => r.figures.ffmpegCpuSeconds, 1],
    ['  CPU s, baseline ffmpeg', (r) => r.baseline.cpuSeconds, 1],
    ['  CPU s, stack node process', (r) => r.figures.stackCpuSeconds, 1],
    ['  pipeline ffmpeg CPU / baseline CPU', perRun.cpuRatio, 2],
    [
      '  cores busy, pipeline (ffmpeg + stack)',
      (r) => (r.figures.ffmpegCpuSeconds + r.figures.stackCpuSeconds) / r.figures.readySeconds,
      2,
    ],
    ['  cores busy, baseline', (r) => r.baseline.cpuSeconds / r.baseline.seconds, 2],
    ['  load average at the start (1 min)', (r) => r.load, 1],
    ['  ffmpeg processes at once (max)', (r) => r.figures.maxConcurrentFfmpeg, 0],
    ['  peak /tmp, one job MB', (r) => r.figures.tmpJobPeakMb, 0],
    ['  peak /tmp, all jobs MB', (r) => r.figures.tmpPeakMb, 0],
    ['  ladder s per CPU-s, pipeline chunks', (r) => r.figures.throughputPerVcpu, 3],
    ['  ladder s per CPU-s, baseline', (_r, i) => baselineThroughput[i], 3],
  ];
  const header = ['', ...results.map((_, i) => `run ${i + 1}`), 'median'];
  const body = rows.map(([label, get, digits]) => {
    const values = results.map((r, i) => get(r, i));
    return [
      label,
      ...values.map((v) => num(v, digits)),
      num(median(values.filter((v): v is number => v !== undefined)), digits),
    ];
  });
  return table([header, ...body]);
}

function jobsTable(figures: RunFigures): string {
  const header = [
    'job',
    'source s',
    'waited s',
    'job s',
    'ffmpeg s',
    'before s',
    'after s',
    'encodes at once',
    'peak RSS MB',
    'S3 MB read',
  ];
  const rows = [...figures.jobs]
    .sort((a, b) => a.waitSeconds - b.waitSeconds)
    .map((j) => [
      j.job,
      num(j.sourceSeconds),
      num(j.waitSeconds),
      num(j.jobSeconds),
      num(j.ffmpegSeconds),
      num(j.preSeconds),
      num(j.postSeconds),
      num(j.concurrency),
      num(j.peakRssMb, 0),
      num(j.bytesRead / 1e6, 1),
    ]);
  return table([header, ...rows]);
}

const CONTENT_TYPES: Record<string, string> = {
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.ts': 'video/mp2t',
};

/** One pipeline pass; once more if the stack was stopped from outside (a shared machine). */
async function pipelineOnce(file: string, bins?: Binaries): Promise<PipelineRun> {
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'video/mp4';
  // Another engine: the stack takes it from FFMPEG_PATH and FFPROBE_PATH (engine/engine.ts).
  const env: Record<string, string> = bins?.legacy
    ? { FFMPEG_PATH: bins.ffmpeg, FFPROBE_PATH: bins.ffprobe }
    : {};
  for (let attempt = 1; ; attempt++) {
    try {
      const run = await runPipeline({ file, contentType, workDir: join(BENCH_DIR, 'run'), env });
      if (run.status !== 'ready') throw new Error(`the video ended ${run.status}`);
      return run;
    } catch (err) {
      if (attempt >= 2 || !String(err).includes('the local stack exited')) throw err;
      say(`the local stack exited during the run (${String(err).split('\n')[0]}); again…`);
    }
  }
}

/** A pipeline pass already made (the main runs' last one), reused for that length. */
interface DoneRun {
  seconds: number;
  plan: Plan;
  figures: RunFigures;
}

async function memoryMode(bins: Binaries, done?: DoneRun): Promise<string> {
  const lines = ['', '## Memory vs source length (issue 4, item 5)', ''];
  const rows = [
    [
      'source',
      'chunks',
      'peak RSS chunk job MB',
      'excl. chunk 0',
      'peak /tmp one job MB',
      'per s of longest chunk',
      '/tmp all jobs MB',
      'upload→ready s',
    ],
  ];
  const perJob: string[] = [];
  const peaks: { rss: number; rest: number; tmp: number }[] = [];
  for (const seconds of [30, 120]) {
    const file = await ensureSource({
      ffmpeg: bins.ffmpeg,
      dir: join(BENCH_DIR, 'sources'),
      seconds,
    });
    const plan = done?.seconds === seconds ? done.plan : await planFor(bins, file);
    let f = done?.seconds === seconds ? done.figures : undefined;
    if (!f) {
      say(`memory: ${seconds} s source through the pipeline…`);
      f = analyze(await pipelineOnce(file), plan);
    }
    const video = f.jobs;
    const rss = Math.max(0, ...video.map((j) => j.peakRssMb ?? 0));
    const rest = Math.max(
      0,
      ...video.filter((j) => j.job !== 'chunk 0').map((j) => j.peakRssMb ?? 0),
    );
    peaks.push({ rss, rest, tmp: f.tmpJobPeakMb });
    rows.push([
      `${seconds} s`,
      String(plan.chunks.length),
      num(rss, 0),
      num(rest, 0),
      num(f.tmpJobPeakMb, 0),
      num(f.tmpJobPeakMb / Math.max(...plan.chunks.map((c) => chunkSeconds(plan, c.index))), 2),
      num(f.tmpPeakMb, 0),
      num(f.readySeconds),
    ]);
    perJob.push(
      `  ${seconds} s, job (source s): peak RSS MB — ` +
        [...video]
          .sort((x, y) => x.job.localeCompare(y.job, 'en', { numeric: true }))
          .map(
            (j) =>
              `${j.job.replace('chunk ', '#')} (${num(j.sourceSeconds, 0)}): ${num(j.peakRssMb, 0)}`,
          )
          .join(', '),
    );
  }
  lines.push(table(rows), ...perJob);
  const [a, b] = peaks;
  if (a && b) {
    const within = (r: number) => (Math.abs(r - 1) <= 0.15 ? 'within' : 'NOT within');
    lines.push(
      `chunk-job peak RSS, 120 s / 30 s: ${num(b.rss / a.rss, 2)} (${within(b.rss / a.rss)} ±15%); ` +
        `excluding chunk 0 (it also makes the poster): ${num(b.rest / a.rest, 2)}; ` +
        `one job's peak /tmp: ${num(b.tmp / a.tmp, 2)} (it follows the longest chunk's length, not the source's)`,
    );
  }
  return lines.join('\n');
}

/**
 * The quality comparison of the default run: the pipeline as is against whole-file encodes,
 * on a generated source short enough to keep the run to minutes (its chunks: the 2 s
 * opening, then the rest). The whole-file encodes do not change from run to run, so they
 * come from the cache once made.
 */
async function chunkingQuality(bins: Binaries): Promise<{ report: string; worstBdRate: number }> {
  const file = await ensureSource({
    ffmpeg: bins.ffmpeg,
    dir: join(BENCH_DIR, 'sources'),
    seconds: QUALITY_SECONDS,
  });
  say(`quality: chunked vs whole-file on ${file}…`);
  const result = await qualityBench({
    bins,
    file,
    dir: join(BENCH_DIR, 'quality'),
    variants: [PIPELINE],
    reuseWhole: true,
  });
  const [run] = result.runs;
  if (!run) throw new Error('the quality comparison measured no variant');
  return {
    report: qualityReport(result),
    worstBdRate: worstBdRate(
      summarize(result.plan, result.whole, run.encodes, esBasis(run.variant), result.nudged),
    ),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      input: { type: 'string' },
      seconds: { type: 'string', default: '30' },
      runs: { type: 'string', default: '3' },
      memory: { type: 'boolean', default: true },
      'old-engine': { type: 'boolean', default: true },
      load: { type: 'boolean', default: false },
      // Unset: the default run includes the comparison; --quality: only it; --no-quality: without it.
      quality: { type: 'boolean' },
      uploads: { type: 'string', default: '20' },
      batches: { type: 'string', default: '2' },
      rate: { type: 'string', default: '50' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.load) {
    const report = await loadBench({
      dir: join(BENCH_DIR, 'load'),
      uploads: Number(values.uploads),
      batches: Number(values.batches),
      rate: Number(values.rate),
      burstSeconds: 10,
    });
    console.log(report);
    return;
  }
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new Error('--seconds must be a whole number ≥ 1');
  if (!Number.isInteger(runs) || runs < (values.memory ? 0 : 1)) {
    throw new Error('--runs must be a whole number ≥ 1 (or 0 for the memory comparison only)');
  }

  const bins = binaries();
  const cores = availableParallelism();
  if (values.quality === true) {
    const file = values.input
      ? resolve(values.input)
      : await ensureSource({ ffmpeg: bins.ffmpeg, dir: join(BENCH_DIR, 'sources'), seconds });
    console.log(qualityReport(await qualityBench({ bins, file, dir: join(BENCH_DIR, 'quality') })));
    return;
  }
  if (runs === 0) {
    console.log((await memoryMode(bins)).trimStart());
    return;
  }
  const file = values.input
    ? resolve(values.input)
    : await ensureSource({ ffmpeg: bins.ffmpeg, dir: join(BENCH_DIR, 'sources'), seconds });
  const plan = await planFor(bins, file);
  say(
    `${file}: ${num(plan.source.duration)} s ${plan.source.width}x${plan.source.height}, ` +
      `${plan.chunks.length} chunk(s), ${plan.renditions.map((r) => r.name).join(' ')}` +
      `${plan.audio ? ' + audio' : ''}; ${cores} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  );

  const results = await benchRuns(bins, file, plan, runs);
  const baselineThroughput = results.map((r) => plan.source.duration / r.baseline.cpuSeconds);
  const medians = runMedians(results);
  const opts = planOptions();
  const last = results.at(-1);
  if (!last) throw new Error('no runs');

  const out: string[] = [
    `# Spool bench: ${num(plan.source.duration)} s ${plan.source.width}x${plan.source.height} source, ` +
      `${plan.chunks.length} chunk job(s) (${plan.chunks.map((c) => num(chunkSeconds(plan, c.index), 0)).join('+')} s)` +
      `${plan.audio ? ' + audio' : ''}, ${runs} run(s), ${cores} cores`,
    '',
    'Times are from the PUT completing, taken from the stack\'s log lines. "first chunk',
    'record": state/{id}/chunks/00000.json (picture and sound of the opening) is written;',
    '"master.m3u8": the first publish wrote videos/{id}/master.m3u8 (a player can start then).',
    '',
    mainTable(results, baselineThroughput),
    ...busyWarning(results, cores),
    '',
    "S3 bytes read counts the workers' source reads (the `job done` lines); ingest's probe is not logged.",
    '',
    `Jobs of run ${results.length} (times from the plan being written; "before"/"after" = job time outside ffmpeg):`,
    jobsTable(last.figures),
  ];
  if (values.memory) {
    // The main runs' source is one of the two lengths when it is the generated 30 s clip.
    const reuse = values.input ? undefined : { seconds, plan, figures: last.figures };
    out.push(await memoryMode(bins, reuse));
  }
  let chunkingBdRate = Number.NaN;
  if (values.quality === false) {
    out.push('', 'Quality comparison skipped (--no-quality).');
  } else {
    const quality = await chunkingQuality(bins);
    chunkingBdRate = quality.worstBdRate;
    out.push('', quality.report);
  }
  const model = scaleModel({
    runs: results.map((r) => r.figures),
    segmentSeconds: opts.segmentSeconds,
    chunkSegments: opts.chunkSegments,
    baselineThroughput,
  });
  const newFigures: EngineFigures = {
    playableShare: medians.playableShare,
    cpuRatio: medians.cpuRatio,
    ready60MinSeconds: hourOfVideo(model).readySeconds,
    chunkingBdRate,
    ratio: medians.ratio,
  };
  if (values['old-engine']) {
    out.push('', await enginesSideBySide(file, plan, runs, newFigures, values.quality));
  }
  const buckets = bucketRows({
    buckets: MUX_TIME_TO_PUBLISH,
    measured: {
      sourceSeconds: plan.source.duration,
      playableSeconds: medians.playableSeconds,
      readySeconds: medians.readySeconds,
    },
    model: (sourceSeconds) => model.predict(sourceSeconds, HEADLINE_WORKERS),
  });
  out.push(
    '',
    modelReport(model),
    '',
    bucketReport(buckets, {
      cores,
      workers: HEADLINE_WORKERS,
      memoryMb: ASSUMPTIONS.transcodeMemoryMb,
      muxSource: ANCHORS.muxSource,
    }),
    '',
    ...headlineLines(newFigures),
  );
  console.log(out.join('\n'));
}

/**
 * The same runs and quality comparison on the 2018 npm builds, beside the engine's figures.
 * Each engine's ratios are to its own baseline (one ffmpeg of that engine).
 */
async function enginesSideBySide(
  file: string,
  plan: Plan,
  runs: number,
  newer: EngineFigures,
  quality: boolean | undefined,
): Promise<string> {
  const old = oldEngine(join(BENCH_DIR, 'old-engine'));
  if ('unavailable' in old) return `Engines side by side skipped: ${old.unavailable}.`;
  say('the same runs on the 2018 npm builds (ffmpeg 4.1 snapshot, ffprobe 4.0.2)…');
  const results = await benchRuns(old, file, plan, runs);
  const medians = runMedians(results);
  const opts = planOptions();
  const model = scaleModel({
    runs: results.map((r) => r.figures),
    segmentSeconds: opts.segmentSeconds,
    chunkSegments: opts.chunkSegments,
    baselineThroughput: results.map((r) => plan.source.duration / r.baseline.cpuSeconds),
  });
  const bdRate = quality === false ? Number.NaN : (await chunkingQuality(old)).worstBdRate;
  const engine = hostEngine();
  const loads = results.map((r) => num(r.load, 1)).join(', ');
  return [
    `Engines side by side: the same recipe and ${runs} run(s) of the same source on each (load average at the old engine's runs: ${loads}):`,
    enginesTable({ newer: engine.describe, older: '2018 npm builds' }, newer, {
      playableShare: medians.playableShare,
      cpuRatio: medians.cpuRatio,
      ready60MinSeconds: hourOfVideo(model).readySeconds,
      chunkingBdRate: bdRate,
      ratio: medians.ratio,
    }),
    `old baseline (one ffmpeg): ${results.map((r) => num(r.baseline.seconds)).join(', ')} s, ` +
      `${results.map((r) => num(r.baseline.cpuSeconds)).join(', ')} CPU-s`,
  ].join('\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
