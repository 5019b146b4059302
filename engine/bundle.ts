/**
 * Assembles the engine: Debian's ffmpeg and ffprobe with every library they load and the
 * glibc and loader they were built for, laid out so that they run from any path with an
 * empty environment and load nothing from the host. Everything is under `ffmpeg/`, so that
 * the bundle's directory is the Lambda layer as it is (Lambda extracts it to /opt/ffmpeg,
 * clear of /opt/lib, which is on Lambda's LD_LIBRARY_PATH):
 *
 *   bin/ffmpeg, bin/ffprobe   launchers: the bundled loader, with --library-path lib
 *   libexec/ffmpeg, ffprobe   Debian's binaries, unchanged
 *   libexec/ld/ffmpeg, …      the loader again under each binary's name, so that the process
 *                             is called ffmpeg (its comm is the name of the file exec'd)
 *   lib/                      each library under the name the loader asks for, and the loader
 *   share/doc/<package>/copyright, share/doc/SOURCES   licences and the offer of source
 *   manifest.json             what went in
 *
 * Only what the loader needs at start (DT_NEEDED, followed from both binaries) goes in:
 * libraries that are only ever dlopen'ed (Mesa, LLVM, GPU drivers) are left out.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix } from 'node:path';
import { type DebEntry, debEntries } from './deb.js';
import { type DebianArch, fetchBytes, sha256 } from './debian.js';
import { EM_AARCH64, EM_X86_64, readElfDynamic } from './elf.js';

/** Lambda's names for the two architectures, and Debian's and the loader's for each. */
export type EngineArch = 'x86_64' | 'arm64';
export const ARCHES: Readonly<
  Record<EngineArch, { debian: DebianArch; triplet: string; machine: number }>
> = {
  x86_64: { debian: 'amd64', triplet: 'x86_64-linux-gnu', machine: EM_X86_64 },
  arm64: { debian: 'arm64', triplet: 'aarch64-linux-gnu', machine: EM_AARCH64 },
};

/** Bumped whenever the layout below changes, so cached bundles of the old layout are rebuilt. */
const LAYOUT_VERSION = 3;

export const BINARIES = ['ffmpeg', 'ffprobe'] as const;

/** The one folder at the bundle's root, and so the layer's folder under /opt. */
export const ENGINE_DIR = 'ffmpeg';

/** One package as the lock records it. */
export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly source: string;
  readonly sourceVersion: string;
  readonly suite: string;
  /** The archive the suite lives in (`https://deb.debian.org/debian-security`). */
  readonly base: string;
  readonly filename: string;
  readonly sha256: string;
  readonly size: number;
}

export interface BundleManifest {
  readonly arch: EngineArch;
  readonly key: string;
  /** Debian's version of the ffmpeg package, e.g. `7:7.1.6-0+deb13u1`. */
  readonly ffmpegPackageVersion: string;
  /** ffmpeg's own version, e.g. `7.1.6`. */
  readonly ffmpegVersion: string;
  readonly packages: readonly LockedPackage[];
  readonly libraries: readonly string[];
  readonly bytes: number;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPOOL_ENGINE_CACHE) return env.SPOOL_ENGINE_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'spool', 'engine');
}

/** The cache key: the layout and every package's bytes. */
export function bundleKey(arch: EngineArch, packages: readonly LockedPackage[]): string {
  const lines = packages.map((p) => `${p.name} ${p.sha256}`).sort();
  return sha256(
    Buffer.from([`layout ${LAYOUT_VERSION}`, `arch ${arch}`, ...lines].join('\n')),
  ).slice(0, 20);
}

export function bundleDir(arch: EngineArch, packages: readonly LockedPackage[], root: string) {
  return join(root, `${arch}-${bundleKey(arch, packages)}`);
}

export function readManifest(dir: string): BundleManifest | undefined {
  try {
    return JSON.parse(
      readFileSync(join(dir, ENGINE_DIR, 'manifest.json'), 'utf8'),
    ) as BundleManifest;
  } catch {
    return undefined;
  }
}

/** A .deb from the cache or the archive, checked against its SHA-256. */
async function debBytes(pkg: LockedPackage, root: string): Promise<Buffer> {
  const cached = join(root, 'debs', `${pkg.sha256}.deb`);
  if (existsSync(cached)) return readFileSync(cached);
  const bytes = await fetchBytes(`${pkg.base}/${pkg.filename}`);
  if (sha256(bytes) !== pkg.sha256) {
    throw new Error(`${pkg.filename}: SHA-256 differs from the one recorded for it`);
  }
  mkdirSync(join(root, 'debs'), { recursive: true });
  writeFileSync(`${cached}.${process.pid}`, bytes);
  renameSync(`${cached}.${process.pid}`, cached);
  return bytes;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Everything the packages put on disk, as one tree: path → entry and the package it came from. */
type Tree = Map<string, DebEntry & { readonly pkg: string }>;

const keepBytes = (path: string) =>
  /(^|\/)[^/]*\.so(\.|$)/.test(path) ||
  /^usr\/bin\/(ffmpeg|ffprobe)$/.test(path) ||
  /^usr\/share\/doc\/[^/]+\/copyright$/.test(path);

/** The path a link-free walk ends at, following symlinks and merged-/usr's aliases. */
function resolvePath(tree: Tree, path: string, depth = 0): string | undefined {
  if (depth > 40) return undefined;
  const normal = posix.normalize(path).replace(/^\/+/, '');
  // Merged /usr: /lib, /lib64, /bin are links to usr/… that base-files makes, not packages.
  const aliased = normal.replace(/^(lib|lib64|bin|sbin)(\/|$)/, 'usr/$1$2');
  for (const candidate of [normal, aliased]) {
    // Resolve links in each directory component too.
    const parts = candidate.split('/');
    let at = '';
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      const next = at === '' ? (parts[i] as string) : `${at}/${parts[i]}`;
      const entry = tree.get(next);
      if (entry?.type === 'symlink' && entry.linkname) {
        const target = entry.linkname.startsWith('/')
          ? entry.linkname
          : posix.join(posix.dirname(next), entry.linkname);
        const rest = parts.slice(i + 1).join('/');
        const resolved = resolvePath(tree, rest ? `${target}/${rest}` : target, depth + 1);
        if (resolved) return resolved;
        ok = false;
        break;
      }
      at = next;
    }
    if (ok && tree.get(at)?.type === 'file') return at;
  }
  return undefined;
}

interface Closure {
  /** Name the loader asks for → path in the tree. */
  readonly libraries: Map<string, string>;
  readonly interpreter: string;
}

/** Follows DT_NEEDED from the binaries through the tree, as the loader would. */
function loadClosure(tree: Tree, triplet: string, machine: number): Closure {
  const libraries = new Map<string, string>();
  const searchDirs = [`usr/lib/${triplet}`, 'usr/lib', `lib/${triplet}`, 'lib'];
  const byBasename = new Map<string, string[]>();
  for (const path of tree.keys()) {
    const base = posix.basename(path);
    byBasename.set(base, [...(byBasename.get(base) ?? []), path]);
  }
  let interpreter: string | undefined;
  const queue: { path: string }[] = BINARIES.map((b) => ({ path: `usr/bin/${b}` }));
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { path } = queue.shift() as { path: string };
    if (seen.has(path)) continue;
    seen.add(path);
    const data = tree.get(path)?.data;
    if (!data) throw new Error(`${path}: not in the packages`);
    const elf = readElfDynamic(data);
    if (elf.machine !== machine) throw new Error(`${path}: built for machine ${elf.machine}`);
    if (elf.interpreter) {
      const found = resolvePath(tree, elf.interpreter);
      if (!found) throw new Error(`${path}: interpreter ${elf.interpreter} not in the packages`);
      interpreter = found;
      libraries.set(posix.basename(elf.interpreter), found);
    }
    const origin = posix.dirname(path);
    const dirs = [...elf.runpath.map((p) => p.replace('$ORIGIN', `/${origin}`)), ...searchDirs];
    for (const name of elf.needed) {
      if (libraries.has(name)) continue;
      let found: string | undefined;
      for (const dir of dirs) {
        found = resolvePath(tree, `${dir}/${name}`);
        if (found) break;
      }
      // An alternative (libblas.so.3 and the like) is a link that update-alternatives makes
      // at install time, not one the package ships: take the library from its own folder.
      found ??= (byBasename.get(name) ?? [])
        .map((p) => resolvePath(tree, p))
        .find((p) => p !== undefined);
      if (!found) throw new Error(`${path} needs ${name}, which no package in the closure has`);
      libraries.set(name, found);
      queue.push({ path: found });
    }
  }
  if (!interpreter) throw new Error('the binaries name no interpreter');
  return { libraries, interpreter };
}

const launcher = (binary: string) => `#!/bin/sh
# Spool's engine: Debian's ${binary} run by the loader and libraries beside it, nothing from
# the host. --library-path replaces LD_LIBRARY_PATH and --inhibit-cache skips ld.so.cache.
self=$0
case $self in */*) ;; *) self=$(command -v -- "$self") || exit 127 ;; esac
# Through any links to this script, to the bundle it lives in.
while [ -L "$self" ]; do
  link=$(readlink -- "$self") || exit 127
  case $link in /*) self=$link ;; *) self=\${self%/*}/$link ;; esac
done
root=$(cd -- "\${self%/*}/.." && pwd -P) || exit 127
unset LD_PRELOAD LD_AUDIT
# The Vulkan and VA-API loaders would read the host's driver lists if they were ever asked.
export VK_DRIVER_FILES="$root/share/no-drivers" VK_ICD_FILENAMES="$root/share/no-drivers"
export LIBVA_DRIVERS_PATH="$root/share/no-drivers" GCONV_PATH="$root/share/no-drivers"
exec "$root/libexec/ld/${binary}" --library-path "$root/lib" --inhibit-cache --argv0 "$0" \\
  "$root/libexec/${binary}" "$@"
`;

const SOURCES_HEADER = `Spool's engine: ffmpeg and ffprobe with the libraries they load, taken unchanged from
Debian's binary packages. ffmpeg as Debian builds it is licensed under the GPL (version 3
or later, as libcdio, which libavdevice loads, requires); each package's copyright file is
in share/doc/<package>/copyright.

The corresponding source of every package is Debian's source package of the name and
version below, from the same archive (${'https://deb.debian.org/debian'} and
https://deb.debian.org/debian-security, and for any version no longer there,
https://snapshot.debian.org). The maintainers of Spool will also provide a copy on request,
for three years from the release that ships this bundle.

binary package\tversion\tsource package\tsource version
`;

/**
 * Assembles a bundle from `packages` into the cache, unless one with the same key is there.
 * Returns its directory and the packages that put files in it (`used`): for a full
 * dependency closure, what the lock records.
 */
export async function assemble(
  arch: EngineArch,
  packages: readonly LockedPackage[],
  options: { root?: string; log?: (line: string) => void } = {},
): Promise<{ dir: string; manifest: BundleManifest; used: LockedPackage[] }> {
  const root = options.root ?? cacheRoot();
  const log = options.log ?? (() => {});
  const target = bundleDir(arch, packages, root);
  const existing = readManifest(target);
  if (existing) return { dir: target, manifest: existing, used: [...existing.packages] };

  const started = Date.now();
  const total = packages.reduce((n, p) => n + p.size, 0);
  log(`assembling ${arch} from ${packages.length} Debian packages (${mib(total)} of .debs)`);
  const tree: Tree = new Map();
  await mapLimit(packages, 6, async (pkg) => {
    const entries = await debEntries(await debBytes(pkg, root), keepBytes);
    for (const e of entries) {
      if (e.type === 'directory' && tree.has(e.path)) continue;
      tree.set(e.path, { ...e, pkg: pkg.name });
    }
  });

  const { triplet, machine } = ARCHES[arch];
  const { libraries, interpreter } = loadClosure(tree, triplet, machine);
  const usedNames = new Set<string>();
  for (const b of BINARIES) usedNames.add((tree.get(`usr/bin/${b}`) as { pkg: string }).pkg);
  for (const path of libraries.values()) usedNames.add((tree.get(path) as { pkg: string }).pkg);
  // A package's doc folder may be a link to another's (libatomic1's to gcc-14-base's): the
  // package that holds the copyright file goes in too.
  const copyrights = new Map<string, string>();
  for (const name of usedNames) {
    const path = resolvePath(tree, `usr/share/doc/${name}/copyright`);
    if (!path) throw new Error(`${name}: no copyright file`);
    copyrights.set(name, path);
  }
  for (const path of copyrights.values()) usedNames.add((tree.get(path) as { pkg: string }).pkg);
  const used = packages.filter((p) => usedNames.has(p.name));

  const partialRoot = `${target}.partial-${process.pid}`;
  const partial = join(partialRoot, ENGINE_DIR);
  rmSync(partialRoot, { recursive: true, force: true });
  for (const d of ['bin', 'libexec/ld', 'lib', 'share/doc', 'share/no-drivers']) {
    mkdirSync(join(partial, d), { recursive: true });
  }
  let bytes = 0;
  const write = (path: string, data: Buffer | string, mode: number) => {
    writeFileSync(join(partial, path), data, { mode });
    bytes += Buffer.byteLength(data);
  };
  const loader = tree.get(interpreter)?.data as Buffer;
  for (const b of BINARIES) {
    write(`libexec/${b}`, tree.get(`usr/bin/${b}`)?.data as Buffer, 0o755);
    write(`libexec/ld/${b}`, loader, 0o755);
    write(`bin/${b}`, launcher(b), 0o755);
  }
  for (const [name, path] of [...libraries].sort()) {
    write(`lib/${name}`, tree.get(path)?.data as Buffer, 0o755);
  }
  for (const p of used) {
    const copyright =
      copyrights.get(p.name) ?? resolvePath(tree, `usr/share/doc/${p.name}/copyright`);
    const data = copyright ? tree.get(copyright)?.data : undefined;
    if (!data) throw new Error(`${p.name}: no copyright file`);
    mkdirSync(join(partial, 'share/doc', p.name), { recursive: true });
    write(`share/doc/${p.name}/copyright`, data, 0o644);
  }
  write(
    'share/doc/SOURCES',
    SOURCES_HEADER +
      used.map((p) => `${p.name}\t${p.version}\t${p.source}\t${p.sourceVersion}\n`).join(''),
    0o644,
  );
  const ffmpegPkg = used.find((p) => p.name === 'ffmpeg');
  if (!ffmpegPkg) throw new Error('the ffmpeg package is not among the packages');
  const manifest: BundleManifest = {
    arch,
    key: bundleKey(arch, packages),
    ffmpegPackageVersion: ffmpegPkg.version,
    ffmpegVersion: upstreamVersion(ffmpegPkg.version),
    packages: used,
    libraries: [...libraries.keys()].sort(),
    bytes,
  };
  write('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  // Another process may have assembled the same bundle meanwhile: its copy is as good.
  if (readManifest(target)) {
    rmSync(partialRoot, { recursive: true, force: true });
    return { dir: target, manifest, used };
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(partialRoot, target);
  log(
    `assembled ${arch}: ${used.length} packages, ${libraries.size} libraries, ${mib(bytes)} ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s → ${target}`,
  );
  return { dir: target, manifest, used };
}

/** `7:7.1.6-0+deb13u1` → `7.1.6`: no epoch, no Debian revision. */
export function upstreamVersion(debianVersion: string): string {
  return debianVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
