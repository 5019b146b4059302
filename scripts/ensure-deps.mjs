/**
 * Runs first in `npm start` and `npm test`: when node_modules is missing, or does not hold
 * what package-lock.json pins, it runs `npm ci` (and says so), so that a fresh clone needs no
 * separate install step. Plain Node with no dependencies, since it runs before any are
 * installed; when they are in place it reads two JSON files and stats each package (some
 * 30 ms in all).
 *
 * What is installed is read from node_modules/.package-lock.json, the "hidden lockfile" that
 * npm 7 and later writes after every install (`npm ci` included): one entry per package in
 * node_modules, under the same key and with the same version as in package-lock.json. Every
 * install updates it, so it is more reliable than a marker file of our own, which an
 * `npm install` run by hand would leave stale. It can claim too much, though:
 * `npm install --package-lock-only` rewrites it without installing anything. So each package
 * it lists must also be on disk (one stat each, some 15 ms for this project's ~300; reading
 * every package.json instead takes ~120 ms).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Whether the installed packages match the lockfile. Pure.
 *
 * A package the lockfile marks optional may be absent (npm skips one built for another
 * platform, such as an esbuild binary for macOS); packages installed beyond the lockfile
 * (`npm install --no-save`) are allowed, since they change nothing that the lockfile pins.
 *
 * @param {string} lockText the text of package-lock.json
 * @param {string | undefined} installedText the text of node_modules/.package-lock.json, or
 *   undefined when there is none (no node_modules, or no install finished in it)
 * @param {(path: string) => boolean} isOnDisk whether a package's folder (a key of the
 *   lockfile, such as `node_modules/zod`) exists
 * @returns {{ fresh: true } | { fresh: false, reason: string }}
 */
export function depsState(lockText, installedText, isOnDisk) {
  if (installedText === undefined) return { fresh: false, reason: 'node_modules is missing' };
  const wanted = packagesOf(lockText);
  let installed;
  try {
    installed = packagesOf(installedText);
  } catch {
    return { fresh: false, reason: 'node_modules/.package-lock.json is unreadable' };
  }
  for (const [path, entry] of Object.entries(wanted)) {
    // Only node_modules/… is installed: the root entry is this project itself, and a linked
    // folder (a workspace, a file: dependency) is its own source.
    if (!path.startsWith('node_modules/')) continue;
    const name = path.replace(/^.*node_modules\//, '');
    const have = installed[path];
    if (!have) {
      if (entry.optional || entry.devOptional) continue;
      return { fresh: false, reason: `${name} is not installed` };
    }
    if (have.version !== entry.version) {
      return {
        fresh: false,
        reason: `${name} ${have.version} is installed, the lockfile has ${entry.version}`,
      };
    }
    if (!isOnDisk(path)) return { fresh: false, reason: `${name} is missing from node_modules` };
  }
  return { fresh: true };
}

/** @returns {Record<string, { version?: string, optional?: boolean, devOptional?: boolean }>} */
function packagesOf(text) {
  return JSON.parse(text).packages ?? {};
}

const readOrUndefined = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const isLink = (path) => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

function check(root) {
  return depsState(
    readFileSync(join(root, 'package-lock.json'), 'utf8'),
    readOrUndefined(join(root, 'node_modules', '.package-lock.json')),
    (path) => existsSync(join(root, path)),
  );
}

function main() {
  // npm runs scripts in the package's root, whichever folder it was called from.
  const root = process.cwd();
  const state = check(root);
  if (state.fresh) return;
  const modules = join(root, 'node_modules');
  if (isLink(modules)) {
    // A node_modules shared with another checkout (a git worktree, say): `npm ci` would empty
    // the other checkout's folder, so leave it to whoever owns it.
    console.log(
      `spool: node_modules is stale (${state.reason}), but it is a link to ` +
        `${realpathSync(modules)}: not reinstalling it. Run npm ci there, or replace the link.`,
    );
    return;
  }
  console.log(`spool: node_modules missing or stale (${state.reason}), running npm ci…`);
  // The npm that runs this script (npm_execpath), so `npm test` installs with itself.
  const npm = process.env.npm_execpath;
  const args = ['ci', '--no-audit', '--no-fund'];
  const result = npm
    ? spawnSync(process.execPath, [npm, ...args], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`spool: npm ci failed (${result.error ?? `exit ${result.status}`})`);
    process.exit(result.status || 1);
  }
  const after = check(root);
  if (!after.fresh) console.log(`spool: still stale after npm ci (${after.reason})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
