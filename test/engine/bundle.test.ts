/**
 * The engine as it ships: the bundle the tests, the local stack and the Lambda layer run,
 * run from outside the repo with nothing from the host, and the arm64 build under qemu.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_DIR, type EngineArch } from '../../engine/bundle.js';
import { bundleSync, ensureBundle, hostEngineArch, readLock } from '../../engine/engine.js';

const run = promisify(execFile);
const host = hostEngineArch();
if (!host) console.warn('Skipping the bundle tests that run it: this host runs no Linux bundle.');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-engine-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** One second through every encoder the recipe uses: the rungs, the audio, poster, storyboard. */
const ENCODES = [
  ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=1'],
  ['-f', 'lavfi', '-i', 'sine=duration=1'],
  ['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', '-y', '/dev/null'],
  ['-map', '1:a', '-c:a', 'aac', '-b:a', '128k', '-f', 'adts', '-y', '/dev/null'],
  ['-map', '0:v', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2', '-y', '/dev/null'],
  ['-map', '0:v', '-frames:v', '1', '-c:v', 'libwebp', '-f', 'webp', '-y', '/dev/null'],
].flat();

describe.skipIf(!host)('the bundle on this host', () => {
  const engine = host ? bundleSync(host) : undefined;
  const root = join(engine?.dir ?? '', ENGINE_DIR);

  it.each(['ffmpeg', 'ffprobe'])(
    'runs %s 7.1 with an empty environment from any folder',
    async (b) => {
      const { stdout } = await run(join(root, 'bin', b), ['-version'], { env: {}, cwd: '/' });
      expect(stdout).toMatch(new RegExp(`^${b} version 7\\.1\\.\\d+-`));
      expect(stdout).toContain(engine?.manifest.ffmpegPackageVersion.replace(/^\d+:/, ''));
    },
  );

  it('runs as a process called ffmpeg, as process watchers expect', () => {
    const shown = spawnSync(
      'sh',
      [
        '-c',
        `"${join(root, 'bin', 'ffmpeg')}" -v error -re -f lavfi -i nullsrc -t 3 -f null - & sleep 0.5; cat /proc/$!/comm; wait`,
      ],
      { encoding: 'utf8', env: {} },
    );
    expect(shown.stdout.trim()).toBe('ffmpeg');
  });

  it('runs through a link to the launcher, and by a relative path', async () => {
    const link = join(dir, 'ffmpeg');
    await symlink(join(root, 'bin', 'ffmpeg'), link);
    const viaLink = await run(link, ['-version'], { env: {} });
    expect(viaLink.stdout).toMatch(/^ffmpeg version 7\.1/);
    const relative = await run('./ffmpeg', ['-version'], { env: {}, cwd: join(root, 'bin') });
    expect(relative.stdout).toMatch(/^ffmpeg version 7\.1/);
  });

  it("loads no library from outside the bundle, even with the host's loader variables set", () => {
    const result = spawnSync(join(root, 'bin', 'ffmpeg'), ['-v', 'error', ...ENCODES], {
      env: {
        LD_DEBUG: 'files',
        // What a host might set: the launcher must not let either reach the loader.
        LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu:/usr/lib/aarch64-linux-gnu:/lib',
        LD_PRELOAD: '/nonexistent/libpreload.so',
      },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr.slice(-2000)).toBe(0);
    // The launcher is a host shell, whose own start the loader reports first: what counts is
    // everything after the bundled loader takes up the bundled binary.
    const start = result.stderr.indexOf(`file=${root}/libexec/ffmpeg`);
    expect(start).toBeGreaterThan(-1);
    const after = result.stderr.slice(start);
    const loaded = [...after.matchAll(/calling init: (\S+)/g)].map((m) => m[1] ?? '');
    expect(loaded.length).toBeGreaterThan(100);
    expect(loaded.filter((path) => !path.startsWith(`${root}/`))).toEqual([]);
    expect(after).not.toMatch(/ld\.so\.cache|\/usr\/lib\/[a-z0-9_]+-linux-gnu\//);
  });

  it('holds exactly the packages the lock pins, each with its copyright file', async () => {
    const locked = readLock().arches[host as EngineArch]?.packages ?? [];
    const bundled = engine?.manifest.packages ?? [];
    expect(bundled.map((p) => `${p.name} ${p.sha256}`)).toEqual(
      locked.map((p) => `${p.name} ${p.sha256}`),
    );
    const sources = await readFile(join(root, 'share/doc/SOURCES'), 'utf8');
    for (const p of bundled) {
      expect((await readFile(join(root, 'share/doc', p.name, 'copyright'))).length).toBeGreaterThan(
        0,
      );
      expect(sources).toContain(`${p.name}\t${p.version}\t${p.source}\t${p.sourceVersion}\n`);
    }
  });
});

// arm64 on an x86_64 host: Debian's qemu-user-static runs the bundle's own loader, which
// then loads only the bundle (binfmt_misc is not needed).
const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], {
  encoding: 'utf8',
}).stdout.trim();
const needsQemu = host !== 'arm64';
if (needsQemu && !qemu) {
  const why = 'no qemu-aarch64-static (apt-get install qemu-user-static)';
  if (process.env.CI === 'true')
    throw new Error(`The arm64 engine must be tested in CI, but ${why}.`);
  console.warn(`Skipping the arm64 engine tests: ${why}.`);
}

describe.skipIf(needsQemu && !qemu)('the arm64 bundle', () => {
  const arm = bundleSync('arm64');
  const root = join(arm.dir, ENGINE_DIR);
  /** The launcher's command, under qemu where the host is not arm64. */
  const armRun = (binary: string, args: string[]) => {
    const direct = [
      join(root, 'lib', 'ld-linux-aarch64.so.1'),
      '--library-path',
      join(root, 'lib'),
      '--inhibit-cache',
      join(root, 'libexec', binary),
      ...args,
    ];
    const [cmd, ...rest] = needsQemu ? [qemu, ...direct] : direct;
    return run(cmd as string, rest, { env: {}, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  };

  it('is built for aarch64 and names the same ffmpeg as the x86_64 one', () => {
    expect(arm.manifest.arch).toBe('arm64');
    expect(arm.manifest.ffmpegPackageVersion).toBe(
      bundleSync('x86_64').manifest.ffmpegPackageVersion,
    );
  });

  it.each(['ffmpeg', 'ffprobe'])('runs %s -version', async (binary) => {
    const { stdout } = await armRun(binary, ['-version']);
    expect(stdout).toMatch(new RegExp(`^${binary} version 7\\.1\\.`));
  });

  it('encodes a second with every encoder the recipe uses', async () => {
    const { stderr } = await armRun('ffmpeg', ['-v', 'error', ...ENCODES]);
    expect(stderr).toBe('');
  });
});

describe('a lock whose package Debian has replaced', () => {
  it("resolves the engine again from today's archive, says so, and still assembles it", async () => {
    const lock = readLock();
    const packages = lock.arches.x86_64?.packages ?? [];
    // A security update removes the old .deb from the archive: a pool path that is gone.
    const stale = packages.map((p) =>
      p.name === 'libavcodec61'
        ? {
            ...p,
            filename: p.filename.replace(/_[^_]+_amd64\.deb$/, '_0.0-replaced_amd64.deb'),
            sha256: '0'.repeat(64),
          }
        : p,
    );
    const said: string[] = [];
    const { manifest } = await ensureBundle('x86_64', (l) => said.push(l), {
      ...lock,
      arches: { ...lock.arches, x86_64: { closure: 0, packages: stale } },
    });
    expect(said.join('\n')).toMatch(/no longer in Debian's archive .*npm run engine:update/s);
    expect(manifest.ffmpegVersion).toMatch(/^7\.1\.\d+$/);
    expect(manifest.packages.map((p) => p.name)).toContain('libavcodec61');
  }, 300_000);
});
