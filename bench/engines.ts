/**
 * The engines side by side: the same recipe, source and runs on Debian's ffmpeg 7.1 bundle
 * and on the 2018 npm builds it replaced (installed for the comparison only, never saved).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import type { Binaries } from './baseline.js';
import { num, table } from './format.js';

/** The builds Spool ran until the engine came from Debian (npm; linux-x64 only). */
export const OLD_ENGINE_PACKAGES = ['@ffmpeg-installer/linux-x64@4.1.0', 'ffprobe-static@3.1.0'];

/**
 * Installs the old builds under `dir` with `npm install --no-save` (nothing is written to
 * the project's package.json or lockfile), or says why it cannot.
 */
export function oldEngine(dir: string): Binaries | { unavailable: string } {
  if (platform() !== 'linux' || arch() !== 'x64') {
    return { unavailable: 'the 2018 npm builds exist for linux-x64 only' };
  }
  const ffmpeg = join(dir, 'node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
  const ffprobe = join(dir, 'node_modules/ffprobe-static/bin/linux/x64/ffprobe');
  if (!existsSync(ffmpeg) || !existsSync(ffprobe)) {
    const npm = process.env.npm_execpath;
    const args = ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund'];
    const result = npm
      ? spawnSync(process.execPath, [npm, ...args, ...OLD_ENGINE_PACKAGES], { stdio: 'ignore' })
      : spawnSync('npm', [...args, ...OLD_ENGINE_PACKAGES], { stdio: 'ignore' });
    if (result.status !== 0 || !existsSync(ffmpeg)) {
      return { unavailable: `npm install ${OLD_ENGINE_PACKAGES.join(' ')} failed` };
    }
  }
  return { ffmpeg, ffprobe, legacy: true };
}

export interface EngineFigures {
  playableShare: number;
  cpuRatio: number;
  ready60MinSeconds: number;
  chunkingBdRate: number;
  ratio: number;
}

/** Every figure is lower-is-better: the new engine is at least as good where it is ≤. */
const ROWS: { key: keyof EngineFigures; label: string; digits: number; scale?: number }[] = [
  { key: 'playableShare', label: 'playable_share', digits: 3 },
  { key: 'cpuRatio', label: 'cpu_ratio', digits: 3 },
  { key: 'ready60MinSeconds', label: 'ready_60min_s', digits: 1 },
  { key: 'chunkingBdRate', label: 'chunking_bdrate_pct', digits: 2, scale: 100 },
  { key: 'ratio', label: 'ratio', digits: 2 },
];

/** The verdict of one figure: `yes`, `no`, or `–` where either side was not measured. */
export function atLeastAsGood(newer: number, older: number): 'yes' | 'no' | '–' {
  if (!Number.isFinite(newer) || !Number.isFinite(older)) return '–';
  return newer <= older ? 'yes' : 'no';
}

export function enginesTable(
  names: { newer: string; older: string },
  newer: EngineFigures,
  older: EngineFigures,
): string {
  return table([
    ['figure', names.newer, names.older, 'new at least as good'],
    ...ROWS.map((r) => [
      r.label,
      num(newer[r.key] * (r.scale ?? 1), r.digits),
      num(older[r.key] * (r.scale ?? 1), r.digits),
      atLeastAsGood(newer[r.key], older[r.key]),
    ]),
  ]);
}
