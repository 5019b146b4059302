/**
 * Which engine this machine runs, and assembling it on first use. The local stack, the
 * tests, the bench and the Lambda layer all come here, so they run the same bytes.
 *
 * The lock (`engine/debian.lock.json`) pins every package by version and SHA-256. When
 * Debian has since replaced one (a security update removes the old .deb from the archive),
 * the engine is resolved again from today's archive, so a fresh clone keeps working; `npm
 * run engine:update` records the new versions in the lock.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch as hostArch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARCHES,
  assemble,
  type BundleManifest,
  bundleDir,
  cacheRoot,
  ENGINE_DIR,
  type EngineArch,
  type LockedPackage,
  readManifest,
} from './bundle.js';
import { fetchIndex, NotFoundError, resolveClosure, TRIXIE } from './debian.js';

export type { EngineArch } from './bundle.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const LOCK_PATH = join(HERE, 'debian.lock.json');
/** The package whose dependency closure is the engine (it ships ffmpeg and ffprobe). */
const ROOTS = ['ffmpeg'];

export interface EngineLock {
  readonly about: string;
  readonly suites: readonly string[];
  readonly resolvedAt: string;
  readonly arches: Partial<
    Record<EngineArch, { readonly closure: number; readonly packages: readonly LockedPackage[] }>
  >;
}

export interface Engine {
  readonly ffmpeg: string;
  readonly ffprobe: string;
  /** The bundle's directory, or undefined for binaries from FFMPEG_PATH/FFPROBE_PATH or PATH. */
  readonly dir?: string;
  readonly manifest?: BundleManifest;
  /** How the binaries were chosen, for the start-up line. */
  readonly describe: string;
}

export function readLock(path = LOCK_PATH): EngineLock {
  return JSON.parse(readFileSync(path, 'utf8')) as EngineLock;
}

function lockedPackages(arch: EngineArch, lock = readLock()): readonly LockedPackage[] {
  const entry = lock.arches[arch];
  if (!entry) throw new Error(`the engine lock has no ${arch} build: run npm run engine:update`);
  return entry.packages;
}

/** The architecture whose bundle runs on this host, or undefined where none does. */
export function hostEngineArch(): EngineArch | undefined {
  if (platform() !== 'linux') return undefined;
  if (hostArch() === 'x64') return 'x86_64';
  if (hostArch() === 'arm64') return 'arm64';
  return undefined;
}

/** Today's dependency closure of ffmpeg in Debian's archive, for one architecture. */
export async function resolveFromArchive(arch: EngineArch): Promise<LockedPackage[]> {
  const indexes = await Promise.all(TRIXIE.map((s) => fetchIndex(s, ARCHES[arch].debian)));
  return resolveClosure(indexes, ROOTS).map((p) => ({
    name: p.name,
    version: p.version,
    source: p.source,
    sourceVersion: p.sourceVersion,
    suite: p.suite,
    base: p.base,
    filename: p.filename,
    sha256: p.sha256,
    size: p.size,
  }));
}

const say = (line: string) => console.error(`spool engine: ${line}`);

/** Assembles (or finds in the cache) the bundle the lock pins for `arch`. */
export async function ensureBundle(
  arch: EngineArch,
  log: (line: string) => void = say,
  lock: EngineLock = readLock(),
): Promise<{ dir: string; manifest: BundleManifest }> {
  try {
    return await assemble(arch, lockedPackages(arch, lock), { log });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    log(
      `${err.url} is no longer in Debian's archive (replaced by an update): resolving the ` +
        `engine again from today's archive. Run npm run engine:update to record it.`,
    );
    const { used } = await assembleClosure(arch, await resolveFromArchive(arch), log);
    const bundle = await assemble(arch, used, { log });
    // Later runs under the same lock find it without asking the archive again.
    writeFileSync(
      `${bundleDir(arch, lockedPackages(arch, lock), cacheRoot())}.replaced`,
      bundle.dir,
    );
    return bundle;
  }
}

/**
 * Assembles a whole dependency closure to learn which packages put files in the bundle,
 * then drops that bundle from the cache: the one that is kept is keyed by those packages.
 */
async function assembleClosure(
  arch: EngineArch,
  closure: readonly LockedPackage[],
  log: (line: string) => void,
): Promise<{ used: LockedPackage[] }> {
  const { dir, used } = await assemble(arch, closure, { log });
  if (used.length < closure.length) rmSync(dir, { recursive: true, force: true });
  return { used };
}

/** Re-resolves every architecture from today's archive and writes the lock. */
export async function updateLock(log: (line: string) => void = say): Promise<EngineLock> {
  const arches: Record<string, { closure: number; packages: LockedPackage[] }> = {};
  for (const arch of Object.keys(ARCHES) as EngineArch[]) {
    const closure = await resolveFromArchive(arch);
    const { used } = await assembleClosure(arch, closure, log);
    await assemble(arch, used, { log });
    arches[arch] = { closure: closure.length, packages: used };
    log(`${arch}: ${closure.length} packages in the closure, ${used.length} put files in it`);
  }
  const lock: EngineLock = {
    about:
      "Spool's engine: the Debian packages each architecture's bundle is assembled from " +
      '(engine/README.md). Written by npm run engine:update; do not edit by hand.',
    suites: TRIXIE.map((s) => s.name),
    resolvedAt: new Date().toISOString().slice(0, 10),
    arches,
  };
  writeFileSync(LOCK_PATH, `${JSON.stringify(lock, null, 2)}\n`);
  return lock;
}

/**
 * The bundle for the lock's packages if it is already in the cache, without touching the
 * network: its own folder, or the one assembled from today's archive when Debian had
 * replaced some of them (remembered beside it, as `<folder>.replaced`).
 */
export function cachedBundle(arch: EngineArch, lock: EngineLock = readLock()): string | undefined {
  try {
    const dir = bundleDir(arch, lockedPackages(arch, lock), cacheRoot());
    if (readManifest(dir)) return dir;
    const replaced = readFileSync(`${dir}.replaced`, 'utf8').trim();
    return readManifest(replaced) ? replaced : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bundle for `arch`, assembling it first when it is not cached. Synchronous, for CDK
 * constructs and test set-up: the assembly runs in a child process.
 */
export function bundleSync(arch: EngineArch): { dir: string; manifest: BundleManifest } {
  const found = cachedBundle(arch);
  if (!found) {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(HERE, 'cli.ts'), 'assemble', arch],
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: join(HERE, '..') },
    );
    if (result.status !== 0) {
      throw new Error(`assembling the ${arch} engine failed (exit ${result.status})`);
    }
  }
  const dir = cachedBundle(arch);
  const manifest = dir ? readManifest(dir) : undefined;
  if (!dir || !manifest) throw new Error(`the ${arch} engine is not in ${cacheRoot()}`);
  return { dir, manifest };
}

const FFMPEG_7 = /ffmpeg version n?(\d+)\./;

/**
 * The binaries this machine runs: FFMPEG_PATH/FFPROBE_PATH when both are set (the bench's
 * old-engine comparison), else the bundle on Linux, else an ffmpeg ≥ 7 from PATH (macOS).
 */
export function hostEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  if (env.FFMPEG_PATH && env.FFPROBE_PATH) {
    return { ffmpeg: env.FFMPEG_PATH, ffprobe: env.FFPROBE_PATH, describe: 'FFMPEG_PATH' };
  }
  const arch = hostEngineArch();
  if (arch) {
    const { dir, manifest } = bundleSync(arch);
    return {
      ffmpeg: join(dir, ENGINE_DIR, 'bin', 'ffmpeg'),
      ffprobe: join(dir, ENGINE_DIR, 'bin', 'ffprobe'),
      dir,
      manifest,
      describe: `Debian ffmpeg ${manifest.ffmpegPackageVersion} (${arch} bundle)`,
    };
  }
  const version = spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' });
  const major = Number(FFMPEG_7.exec(version.stdout ?? '')?.[1] ?? 0);
  if (version.status !== 0 || major < 7) {
    throw new Error(
      `Spool runs Debian's ffmpeg 7.1 bundle on Linux; on ${platform()} it needs ffmpeg ≥ 7 ` +
        'and ffprobe on PATH (macOS: `brew install ffmpeg`), or FFMPEG_PATH and FFPROBE_PATH. ' +
        (version.status === 0 ? `PATH has ffmpeg ${major}.` : 'PATH has no ffmpeg.'),
    );
  }
  return { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', describe: `ffmpeg ${major} from PATH` };
}
