/**
 * `npm run bench -- --load`: many uploads at once through `npm start`'s stack, then a burst
 * of API requests at a fixed rate. Every upload must end ready. Prints throughput, time to
 * ready, the stack's memory from one batch to the next, API latency and error counts, each
 * with the load average it was measured at. Figures only: nothing here is a pass/fail timing.
 */
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeSource, type SourceSpec } from '../test/support/media.js';
import { ApiClient, startStack } from '../test/support/stack.js';
import { median } from './analyze.js';
import { num, table } from './format.js';

/** Short clips of the kinds people upload, cycled through the batch. */
const KINDS: [string, SourceSpec, string][] = [
  ['h264-aac', { width: 640, height: 360, rate: '30', seconds: 4, audio: true }, 'video/mp4'],
  [
    'vp8-vorbis',
    { width: 480, height: 270, rate: '25', seconds: 4, kind: 'webm-vp8', audio: true },
    'video/webm',
  ],
  [
    'portrait',
    { width: 360, height: 640, rate: '30000/1001', seconds: 4, audio: true },
    'video/mp4',
  ],
  [
    'vp9-silent',
    { width: 426, height: 240, rate: '24000/1001', seconds: 4, kind: 'webm-vp9' },
    'video/webm',
  ],
];

const say = (text: string) => process.stderr.write(`[load] ${text}\n`);
const load1 = () => loadavg()[0] ?? 0;

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Resident memory (VmRSS) of a process, in MB. */
async function rssMb(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const { readFile } = await import('node:fs/promises');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Batch {
  seconds: number;
  toReady: number[];
  failed: string[];
  rssAfterMb: number;
  peakRssMb: number;
  load: number;
}

export async function loadBench(opts: {
  dir: string;
  uploads: number;
  batches: number;
  rate: number;
  burstSeconds: number;
}): Promise<string> {
  await rm(opts.dir, { recursive: true, force: true });
  await mkdir(opts.dir, { recursive: true });
  const clips = await Promise.all(
    KINDS.map(async ([name, spec, type]) => ({
      name,
      type,
      file: await makeSource(opts.dir, name, spec),
    })),
  );
  const stack = await startStack({
    dataDir: join(opts.dir, 'data'),
    env: { SPOOL_LOG_LEVEL: 'warn' },
  });
  const api = new ApiClient(stack.baseUrl, stack.token);
  const pid = stack.proc.pid;
  const batches: Batch[] = [];
  try {
    for (let b = 0; b < opts.batches; b++) {
      const load = load1();
      let peak = 0;
      const sampler = setInterval(() => {
        void rssMb(pid).then((mb) => {
          if (mb > peak) peak = mb;
        });
      }, 100);
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: opts.uploads }, async (_, i) => {
          const clip = clips[i % clips.length];
          if (!clip) throw new Error('no clip');
          const t0 = Date.now();
          const id = await api.upload(clip.file, clip.type);
          const view = await api.waitFor(id, undefined, 600_000);
          return {
            id,
            status: view.status,
            error: view.error?.code,
            seconds: (Date.now() - t0) / 1000,
          };
        }),
      );
      clearInterval(sampler);
      const batch: Batch = {
        seconds: (Date.now() - started) / 1000,
        toReady: results.filter((r) => r.status === 'ready').map((r) => r.seconds),
        failed: results
          .filter((r) => r.status !== 'ready')
          .map((r) => `${r.id} ${r.status} ${r.error}`),
        rssAfterMb: await rssMb(pid),
        peakRssMb: peak,
        load,
      };
      batches.push(batch);
      say(
        `batch ${b + 1}: ${batch.toReady.length}/${opts.uploads} ready in ${num(batch.seconds)} s`,
      );
    }

    // A burst of API requests at a fixed rate: creating videos and reading them back.
    const burstLoad = load1();
    const latencies: number[] = [];
    let errors = 0;
    const ids: string[] = [];
    const pending: Promise<void>[] = [];
    const total = opts.rate * opts.burstSeconds;
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / opts.rate;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      pending.push(
        (async () => {
          const start = performance.now();
          const create = i % 2 === 0 || ids.length === 0;
          const res = create
            ? await api.request('POST', '/videos', {
                filename: 'x.mp4',
                contentType: 'video/mp4',
                size: 1000,
              })
            : await api.request('GET', `/videos/${ids[i % ids.length]}`);
          latencies.push(performance.now() - start);
          if (create && res.status === 201) ids.push(res.body.id as string);
          if (res.status !== (create ? 201 : 200)) errors++;
        })().catch(() => {
          errors++;
        }),
      );
    }
    await Promise.all(pending);
    const achieved = total / ((Date.now() - t0) / 1000);

    const errorLines = stack
      .output()
      .split('\n')
      .filter((l) => /"level":"ERROR"|"level":"error"/.test(l)).length;
    const all = batches.flatMap((b) => b.toReady);
    const lines = [
      `Load: ${opts.batches} batches of ${opts.uploads} concurrent uploads (${KINDS.map((k) => k[0]).join(', ')}, 4 s each), then ${opts.burstSeconds} s of API requests at ${opts.rate}/s.`,
      '',
      table([
        [
          'batch',
          'ready',
          'failed',
          'wall s',
          'videos/min',
          'p50 s',
          'p95 s',
          'max s',
          'peak RSS MB',
          'RSS after MB',
          'load 1m',
        ],
        ...batches.map((b, i) => [
          String(i + 1),
          String(b.toReady.length),
          String(b.failed.length),
          num(b.seconds),
          num((b.toReady.length / b.seconds) * 60),
          num(median(b.toReady)),
          num(percentile(b.toReady, 95)),
          num(b.toReady.length > 0 ? Math.max(...b.toReady) : NaN),
          num(b.peakRssMb, 0),
          num(b.rssAfterMb, 0),
          num(b.load, 2),
        ]),
      ]),
      '',
      `all batches: ${all.length}/${opts.uploads * opts.batches} ready; time to ready p50 ${num(median(all))} s, p95 ${num(percentile(all, 95))} s, max ${num(all.length > 0 ? Math.max(...all) : NaN)} s`,
      `memory: RSS after the last batch / after the first = ${num((batches.at(-1)?.rssAfterMb ?? NaN) / (batches[0]?.rssAfterMb ?? NaN), 2)}`,
      `API: ${total} requests at ${num(achieved)}/s (asked ${opts.rate}/s), latency p50 ${num(percentile(latencies, 50))} ms, p99 ${num(percentile(latencies, 99))} ms, max ${num(Math.max(...latencies))} ms, ${errors} errors (load 1m ${num(burstLoad, 2)})`,
      `error log lines: ${errorLines}`,
      ...batches.flatMap((b) => b.failed.map((f) => `not ready: ${f}`)),
    ];
    // Every upload must end ready: a run where one did not is a failed run.
    if (batches.some((b) => b.failed.length > 0) || errors > 0) process.exitCode = 1;
    return lines.join('\n');
  } finally {
    await stack.stop();
  }
}
