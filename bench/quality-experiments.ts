/**
 * `npx tsx bench/quality-experiments.ts [--input f | --noisy] [--seconds n] [--only "a;b"]`:
 * the quality bench (`npm run bench -- --quality`) with x264 options tried on the chunked
 * encodes only, to bring the joins level with one whole-file encode. The whole-file figures
 * are measured once per source and reused (x264 is deterministic with one thread, as the bench runs it; cached in .bench/). Prints
 * one table per variant, then a summary. `--json <file>` also writes every per-frame figure,
 * `--from-json <file>` prints the report of such a file again, `--frames` adds the per-frame
 * SSIM difference around each join. `--noisy` uses testsrc2 with temporal noise instead.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hostEngine } from '../engine/engine.js';
import type { Binaries } from './baseline.js';
import { num, table } from './format.js';
import {
  type ChunkedVariant,
  esBasis,
  joinFrames,
  PIPELINE,
  type QualityResult,
  qualityBench,
  qualityReport,
  summarize,
} from './quality.js';
import { ensureSource } from './source.js';

const REPO = resolve(import.meta.dirname, '..');
const BENCH_DIR = join(REPO, '.bench');

/** x264 options for chunks after the first (chunk 0 starts where the whole file does). */
const afterFirst =
  (params: string): ChunkedVariant['args'] =>
  ({ chunk }) =>
    chunk.index > 0 ? ['-x264-params', params] : [];

export const VARIANTS: ChunkedVariant[] = [
  PIPELINE,
  { name: 'vbv-init=0.5', args: afterFirst('vbv-init=0.5') },
  { name: 'tail 15', tailFrames: 15 },
  { name: 'tail 5', tailFrames: 5 },
  { name: 'lead 60', leadFrames: 60 },
  { name: 'lead 15', leadFrames: 15 },
  // With MB-tree, x264 gives every frame of a CRF encode the same base quantiser, and a
  // keyframe after the first the P frames' quantiser / ipratio (1.4); the very first frame
  // does not get that division. A zone on frame 0 with b=1.4 gives it.
  { name: 'zone b=1.4', args: afterFirst('zones=0,0,b=1.4') },
  { name: 'zone b=1.4 + tail 15', args: afterFirst('zones=0,0,b=1.4'), tailFrames: 15 },
  {
    name: 'zone b=1.4 + tail 15 + vbv-init=0.5',
    args: afterFirst('zones=0,0,b=1.4:vbv-init=0.5'),
    tailFrames: 15,
  },
  {
    name: 'zone b=1.4 + tail 15 + vbv-init=0.7',
    args: afterFirst('zones=0,0,b=1.4:vbv-init=0.7'),
    tailFrames: 15,
  },
  { name: 'lead 60 + tail 15', leadFrames: 60, tailFrames: 15 },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      input: { type: 'string' },
      noisy: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '30' },
      only: { type: 'string' },
      json: { type: 'string' },
      'from-json': { type: 'string' },
      frames: { type: 'boolean', default: false },
    },
  });
  const { ffmpeg, ffprobe } = hostEngine();
  const bins: Binaries = { ffmpeg, ffprobe };
  let result: QualityResult;
  if (values['from-json']) {
    result = JSON.parse(await readFile(values['from-json'], 'utf8')) as QualityResult;
    // The variants' functions are not in the JSON: match them by name for esBasis.
    for (const r of result.runs) {
      r.variant = VARIANTS.find((v) => v.name === r.variant.name) ?? r.variant;
    }
  } else {
    const seconds = Number(values.seconds);
    const file = values.input
      ? resolve(values.input)
      : await ensureSource({
          ffmpeg: bins.ffmpeg,
          dir: join(BENCH_DIR, 'sources'),
          seconds,
          noisy: values.noisy,
        });
    const only = values.only?.split(';').map((s) => s.trim());
    const variants = only ? VARIANTS.filter((v) => only.includes(v.name)) : VARIANTS;
    result = await qualityBench({
      bins,
      file,
      dir: join(BENCH_DIR, 'quality-experiments'),
      variants,
      reuseWhole: true,
    });
    if (values.json) await writeFile(values.json, JSON.stringify(result));
  }
  console.log(qualityReport(result));

  // One line per variant and rung: what the targets look at.
  const rows = [
    [
      'variant',
      'rung',
      'BD PSNR',
      'BD SSIM',
      'H.264 Mb/s',
      'cap',
      'Δ vs whole',
      'join ΔSSIM',
      'worst',
    ],
  ];
  for (const run of result.runs) {
    for (const s of summarize(
      result.plan,
      result.whole,
      run.encodes,
      esBasis(run.variant),
      result.nudged,
    )) {
      rows.push([
        run.variant.name,
        s.name,
        `${num(s.bdPsnr * 100, 2)}%`,
        `${num(s.bdSsim * 100, 2)}%`,
        num(s.chunkedEs / 1e6, 3),
        num(s.cap / 1e6, 3),
        `${num((s.chunkedEs / s.wholeEs - 1) * 100, 2)}%`,
        num(-s.dip.drop, 4),
        num(-s.worstDrop, 4),
      ]);
    }
  }
  console.log(`\n## Summary (at CRF ${result.plan.output.crf}; BD-rate over all four points)\n`);
  console.log(table(rows));
  if (values.frames) console.log(`\n${aroundJoins(result)}`);
}

/** Per-frame ΔSSIM (chunked − whole-file) from 5 before to 25 after each join, at the plan's CRF. */
function aroundJoins(result: QualityResult): string {
  const { plan } = result;
  const whole = result.whole.find((e) => e.crf === plan.output.crf);
  const lines: string[] = [];
  for (const run of result.runs) {
    const chunked = run.encodes.find((e) => e.crf === plan.output.crf);
    for (const [i, r] of plan.renditions.entries()) {
      for (const j of joinFrames(plan)) {
        const c = chunked?.rungs[i]?.ssim ?? [];
        const w = whole?.rungs[i]?.ssim ?? [];
        const d = Array.from({ length: 31 }, (_, k) => {
          const f = j - 5 + k;
          return Math.round(((c[f] ?? 0) - (w[f] ?? 0)) * 1e4);
        });
        lines.push(`${run.variant.name} ${r.name} @${j} (ΔSSIM×1e4, -5..+25): ${d.join(' ')}`);
      }
    }
  }
  return lines.join('\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
