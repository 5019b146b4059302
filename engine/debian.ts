/**
 * Debian's package archive, read the way apt reads it, without apt: the suites' Release
 * files, their Packages indexes (checked against the Release's SHA-256), and a resolver that
 * follows Depends and Pre-Depends (never Recommends) from a root package, as
 * `apt-get install --no-install-recommends` does on an empty system.
 */
import { createHash } from 'node:crypto';
import { xz } from '@napi-rs/lzma';

/** Where Debian publishes a suite. Later suites in a list win (security updates last). */
export interface Suite {
  readonly name: string;
  readonly base: string;
}

/** Debian's trixie with its point-release and security updates, newest last. */
export const TRIXIE: readonly Suite[] = [
  { name: 'trixie', base: 'https://deb.debian.org/debian' },
  { name: 'trixie-updates', base: 'https://deb.debian.org/debian' },
  { name: 'trixie-security', base: 'https://deb.debian.org/debian-security' },
];

export type DebianArch = 'amd64' | 'arm64';

export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  /** The source package (for the offer of source), without its version in brackets. */
  readonly source: string;
  readonly sourceVersion: string;
  readonly depends: readonly (readonly string[])[];
  readonly provides: readonly string[];
  /** Path of the .deb under the suite's base, e.g. `pool/main/f/ffmpeg/ffmpeg_….deb`. */
  readonly filename: string;
  readonly sha256: string;
  readonly size: number;
  readonly suite: string;
  readonly base: string;
}

/** Control-file stanzas (deb822): `Field: value`, continuation lines start with a space. */
export function parseStanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let field: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      field = undefined;
    } else if (line.startsWith(' ') || line.startsWith('\t')) {
      if (field) current.set(field, `${current.get(field)}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      field = line.slice(0, colon);
      current.set(field, line.slice(colon + 1).trim());
    }
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}

/** `a (>= 1) | b:any, c` → [['a','b'],['c']]: names only (one release is consistent). */
export function parseDepends(value: string | undefined): string[][] {
  if (!value) return [];
  return value
    .split(',')
    .map((group) =>
      group
        .split('|')
        .map((alt) => alt.trim().split(/[\s(]/)[0]?.replace(/:.*$/, '') ?? '')
        .filter((n) => n !== ''),
    )
    .filter((g) => g.length > 0);
}

export function packagesFromIndex(text: string, suite: Suite): DebianPackage[] {
  return parseStanzas(text).map((s) => {
    const name = s.get('Package') ?? '';
    const version = s.get('Version') ?? '';
    // `Source: ffmpeg (7:7.1.6-0+deb13u1)` when the binary's version differs, else the name.
    const sourceField = s.get('Source') ?? name;
    const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(sourceField);
    return {
      name,
      version,
      source: m?.[1] ?? name,
      sourceVersion: m?.[2] ?? version,
      depends: [...parseDepends(s.get('Pre-Depends')), ...parseDepends(s.get('Depends'))],
      provides: parseDepends(s.get('Provides')).flat(),
      filename: s.get('Filename') ?? '',
      sha256: s.get('SHA256') ?? '',
      size: Number(s.get('Size') ?? 0),
      suite: suite.name,
      base: suite.base,
    };
  });
}

export async function fetchBytes(url: string): Promise<Buffer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      if (res.status === 404) throw new NotFoundError(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      lastError = err;
      await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
    }
  }
  throw lastError;
}

export class NotFoundError extends Error {
  constructor(readonly url: string) {
    super(`${url}: not found (HTTP 404)`);
  }
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A suite's Packages index for one architecture, checked against its Release file. */
export async function fetchIndex(suite: Suite, arch: DebianArch): Promise<DebianPackage[]> {
  const release = (await fetchBytes(`${suite.base}/dists/${suite.name}/Release`)).toString();
  const path = `main/binary-${arch}/Packages.xz`;
  const line = (parseStanzas(release)[0]?.get('SHA256') ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((parts) => parts[2] === path);
  if (!line) throw new Error(`${suite.name}'s Release does not list ${path}`);
  const compressed = await fetchBytes(`${suite.base}/dists/${suite.name}/${path}`);
  if (sha256(compressed) !== line[0]) {
    throw new Error(`${suite.name}/${path}: SHA-256 differs from the Release file's`);
  }
  const text = Buffer.from(await xz.decompress(compressed)).toString();
  return packagesFromIndex(text, suite);
}

/**
 * The packages a root needs, each from the newest suite that has it. Like apt with no
 * recommends: the first alternative of each dependency that exists (a real package first,
 * then a package that provides it).
 */
export function resolveClosure(
  indexes: readonly (readonly DebianPackage[])[],
  roots: readonly string[],
): DebianPackage[] {
  const byName = new Map<string, DebianPackage>();
  for (const index of indexes) for (const p of index) byName.set(p.name, p);
  const providers = new Map<string, DebianPackage[]>();
  for (const p of byName.values()) {
    for (const v of p.provides) providers.set(v, [...(providers.get(v) ?? []), p]);
  }
  const chosen = new Map<string, DebianPackage>();
  const queue = [...roots];
  const pick = (name: string) => byName.get(name) ?? providers.get(name)?.[0];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    const pkg = pick(name);
    if (!pkg) throw new Error(`no package named or providing ${name}`);
    if (chosen.has(pkg.name)) continue;
    chosen.set(pkg.name, pkg);
    for (const group of pkg.depends) {
      // Already satisfied by something chosen? Then the first alternative is not needed.
      if (group.some((alt) => chosen.has(alt) || chosen.has(pick(alt)?.name ?? ''))) continue;
      const alt = group.find((a) => pick(a) !== undefined);
      if (!alt) throw new Error(`${pkg.name}: nothing satisfies ${group.join(' | ')}`);
      queue.push(alt);
    }
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}
