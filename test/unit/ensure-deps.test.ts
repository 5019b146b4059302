import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { depsState } from '../../scripts/ensure-deps.mjs';

const SCRIPT = new URL('../../scripts/ensure-deps.mjs', import.meta.url).pathname;

type Entry = { version?: string; optional?: boolean; devOptional?: boolean; link?: boolean };
const lockfile = (packages: Record<string, Entry>) =>
  JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages });

const root = { '': { version: '1.0.0' } };
const lock = lockfile({
  ...root,
  'node_modules/zod': { version: '4.6.7' },
  'node_modules/a/node_modules/zod': { version: '3.25.0' },
  'node_modules/@esbuild/darwin-arm64': { version: '0.28.2', optional: true },
});
/** What npm writes after installing `lock` on Linux: no root entry, no macOS binary. */
const installed = lockfile({
  'node_modules/zod': { version: '4.6.7' },
  'node_modules/a/node_modules/zod': { version: '3.25.0' },
});

/** Every package `installed` lists is on disk. */
const onDisk = (path: string) => path in JSON.parse(installed).packages;
const everywhere = () => true;

describe('depsState', () => {
  it('is fresh when every package is installed at the locked version', () => {
    expect(depsState(lock, installed, onDisk)).toEqual({ fresh: true });
  });

  it('is stale when node_modules (or its record of the install) is missing', () => {
    expect(depsState(lock, undefined, onDisk)).toEqual({
      fresh: false,
      reason: 'node_modules is missing',
    });
  });

  it('is stale when the lockfile pins another version, naming both', () => {
    const bumped = lock.replace('"4.6.7"', '"4.7.0"');
    expect(depsState(bumped, installed, onDisk)).toEqual({
      fresh: false,
      reason: 'zod 4.6.7 is installed, the lockfile has 4.7.0',
    });
  });

  it('compares nested copies of a package too', () => {
    const bumped = lock.replace('"3.25.0"', '"3.25.1"');
    expect(depsState(bumped, installed, onDisk)).toMatchObject({ fresh: false });
  });

  it('is stale when the lockfile gains a package that is not installed', () => {
    const added = lockfile({ ...JSON.parse(lock).packages, 'node_modules/ajv': { version: '8' } });
    expect(depsState(added, installed, onDisk)).toEqual({
      fresh: false,
      reason: 'ajv is not installed',
    });
  });

  it('lets an optional package for another platform be absent', () => {
    // `lock` has a macOS esbuild binary that `installed` lacks.
    expect(depsState(lock, installed, onDisk)).toEqual({ fresh: true });
    const dev = lockfile({ ...root, 'node_modules/fsevents': { version: '2', devOptional: true } });
    expect(depsState(dev, lockfile({}), onDisk)).toEqual({ fresh: true });
  });

  it('ignores the project itself, linked folders, and packages installed beyond the lockfile', () => {
    const withLink = lockfile({
      '': { version: '2.0.0' },
      'packages/cli': { version: '1.0.0' },
      'node_modules/zod': { version: '4.6.7' },
    });
    const more = lockfile({
      'node_modules/zod': { version: '4.6.7' },
      'node_modules/@ffmpeg-installer/linux-x64': { version: '4.1.0' },
    });
    expect(depsState(withLink, more, onDisk)).toEqual({ fresh: true });
  });

  it('is stale when a package the record lists is not on disk', () => {
    // `npm install --package-lock-only` rewrites the record without installing anything.
    const notZod = (path: string) => onDisk(path) && path !== 'node_modules/zod';
    expect(depsState(lock, installed, notZod)).toEqual({
      fresh: false,
      reason: 'zod is missing from node_modules',
    });
  });

  it('is stale when the record of the install cannot be read', () => {
    expect(depsState(lock, '{"packages": {', onDisk)).toMatchObject({ fresh: false });
  });

  it("judges this repository's lockfile fresh against itself as npm would record it", () => {
    const text = readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8');
    const { packages } = JSON.parse(text) as { packages: Record<string, Entry> };
    const onThisMachine = Object.fromEntries(
      Object.entries(packages).filter(([path, e]) => path !== '' && !e.optional),
    );
    expect(depsState(text, lockfile(onThisMachine), everywhere)).toEqual({ fresh: true });
    const [first] = Object.keys(onThisMachine);
    const older = { ...onThisMachine, [first ?? '']: { version: '0.0.0-old' } };
    expect(depsState(text, lockfile(older), everywhere)).toMatchObject({ fresh: false });
  });
});

/**
 * The script as `npm start` and `npm test` run it, on a project whose one dependency is a
 * local tarball, so `npm ci` installs it without the network.
 */
describe('scripts/ensure-deps.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-ensure-deps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function pinDependency(version: string): void {
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'dep', version }));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: src,
      encoding: 'utf8',
    }).trim();
    const integrity = `sha512-${createHash('sha512')
      .update(readFileSync(join(dir, tarball)))
      .digest('base64')}`;
    const spec = `file:${tarball}`;
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { dep: spec } }),
    );
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        name: 'app',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'app', version: '1.0.0', dependencies: { dep: spec } },
          'node_modules/dep': { version, resolved: spec, integrity },
        },
      }),
    );
  }

  const run = (cwd = dir) => {
    const result = spawnSync(process.execPath, [SCRIPT], { cwd, encoding: 'utf8' });
    return { status: result.status, output: result.stdout + result.stderr };
  };
  const installedVersion = (cwd = dir) =>
    JSON.parse(readFileSync(join(cwd, 'node_modules/dep/package.json'), 'utf8')).version;

  it('installs a missing node_modules, saying so, then does nothing while it matches', () => {
    pinDependency('1.0.0');
    const first = run();
    expect(first.status).toBe(0);
    expect(first.output).toContain('spool: node_modules missing or stale');
    expect(first.output).toContain('running npm ci');
    expect(installedVersion()).toBe('1.0.0');

    const second = run();
    expect(second).toEqual({ status: 0, output: '' });
  });

  it('reinstalls when the lockfile moves on, naming what changed', () => {
    pinDependency('1.0.1');
    const result = run();
    expect(result.status).toBe(0);
    expect(result.output).toContain('dep 1.0.0 is installed, the lockfile has 1.0.1');
    expect(installedVersion()).toBe('1.0.1');
  });

  it('reinstalls a package that is gone from disk though npm still lists it', () => {
    rmSync(join(dir, 'node_modules/dep'), { recursive: true });
    const result = run();
    expect(result.status).toBe(0);
    expect(result.output).toContain('dep is missing from node_modules');
    expect(installedVersion()).toBe('1.0.1');
  });

  it('leaves a node_modules that links to another checkout alone', () => {
    const other = mkdtempSync(join(dir, 'checkout-'));
    symlinkSync(join(dir, 'node_modules'), join(other, 'node_modules'));
    pinDependency('1.0.2');
    writeFileSync(join(other, 'package-lock.json'), readFileSync(join(dir, 'package-lock.json')));

    const result = run(other);
    expect(result.status).toBe(0);
    expect(result.output).toContain('not reinstalling it');
    expect(installedVersion()).toBe('1.0.1');
  });
});
