/**
 * `npx spool` against `npm start`'s stack, run as a user runs it (a child process, no
 * terminal): upload with progress, a playable URL, list, status, delete, and the exit codes
 * scripts rely on.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main.js';
import { LARGE_CLIP, makeSource } from '../support/media.js';
import { ApiClient, REPO, type RunningStack, startStack } from '../support/stack.js';

const MiB = 1024 ** 2;

let dir: string;
let stack: RunningStack;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spool(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const child = spawn(process.execPath, [join(REPO, 'cli/spool.mjs'), ...args], {
    cwd: dir,
    // Only what the test gives: no SPOOL_* from the developer's shell.
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-cli-'));
  // No SPOOL_API_TOKEN: the stack makes one and keeps it in its data dir, as `npm start` does.
  // S3's smallest parts, and a threshold of one part, so a clip of about 11 MiB goes in parts.
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: {
      SPOOL_API_TOKEN: '',
      SPOOL_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
      SPOOL_MULTIPART_PART_BYTES: String(5 * MiB),
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

let grainy: Promise<string> | undefined;

/** About 11 MiB (grain makes it big): three parts of 5 MiB. Made once. */
function largeClip(): Promise<string> {
  grainy ??= makeSource(dir, 'grainy', LARGE_CLIP);
  return grainy;
}

describe('npx spool', () => {
  it('uploads with progress, prints a playable URL, lists, shows and deletes the video', async () => {
    const file = await makeSource(dir, 'cli-clip', {
      width: 640,
      height: 360,
      rate: '30',
      seconds: 4,
      audio: true,
    });
    const target = { SPOOL_API_URL: stack.baseUrl, SPOOL_API_TOKEN: stack.token };

    const up = await spool(['upload', file], target);
    expect(up.code, up.stderr).toBe(EXIT.ok);
    // Progress for the upload, then the processing (a line a second without a terminal,
    // and the final state when each ends).
    expect(up.stderr).toMatch(/^video [a-z2-7]{20}$/m);
    expect(up.stderr).toMatch(/upload .* 100% \| [\d.]+\/[\d.]+ MB/);
    expect(up.stderr).toMatch(/processing .* 100% \| ready/);
    const url = up.stdout.trim();
    expect(url).toMatch(/^http:\/\/.+\/master\.m3u8$/);
    const master = await fetch(url);
    expect(master.status).toBe(200);
    expect(await master.text()).toMatch(/^#EXTM3U/);
    const id = /^video ([a-z2-7]{20})$/m.exec(up.stderr)?.[1] ?? '';

    const list = await spool(['list', '--json'], target);
    expect(list.code, list.stderr).toBe(EXIT.ok);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((v) => v.id)).toContain(id);

    const status = await spool(['--json', 'status', id], target);
    expect(status.code).toBe(EXIT.ok);
    expect(JSON.parse(status.stdout)).toMatchObject({ id, status: 'ready', playbackUrl: url });

    const del = await spool(['delete', id], target);
    expect(del.code, del.stderr).toBe(EXIT.ok);
    expect(del.stdout.trim()).toBe(`deleted ${id}`);
    const gone = await spool(['status', id], target);
    expect(gone.code).toBe(EXIT.notFound);
    const listed = await spool(['list', '--json'], target);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((v) => v.id)).not.toContain(id);
  }, 240_000);

  it('uploads a file above the multipart threshold in parts, and it becomes ready', async () => {
    const file = await largeClip();
    const { size } = await stat(file);
    expect(size).toBeGreaterThan(10 * MiB);
    const target = { SPOOL_API_URL: stack.baseUrl, SPOOL_API_TOKEN: stack.token };

    const up = await spool(['upload', file], target);

    expect(up.code, up.stderr).toBe(EXIT.ok);
    const mb = (size / MiB).toFixed(1);
    expect(up.stderr).toContain(`100% | ${mb}/${mb} MB`);
    expect(up.stdout.trim()).toMatch(/^http:\/\/.+\/master\.m3u8$/);
    const id = /^video ([a-z2-7]{20})$/m.exec(up.stderr)?.[1] ?? '';
    const api = new ApiClient(stack.baseUrl, stack.token);
    const parts = await api.request('GET', `/videos/${id}/parts`);
    expect(parts.body).toMatchObject({ partSize: 5 * MiB, partCount: 3, completed: true });
  }, 240_000);

  it('resumes an upload in parts: only the missing parts are sent', async () => {
    const file = await largeClip();
    const { size } = await stat(file);
    const api = new ApiClient(stack.baseUrl, stack.token);
    const created = await api.request('POST', '/videos', { filename: 'grainy.mp4', size });
    const id = String(created.body.id);
    // A run cut short after the first part: it is there, the other two are not.
    const [first] = (await api.request('POST', `/videos/${id}/parts`, { partNumbers: [1] })).body
      .parts as { url: string; size: number }[];
    const body = Buffer.alloc(first?.size ?? 0);
    const handle = await open(file);
    await handle.read(body, 0, body.length, 0);
    await handle.close();
    expect((await fetch(first?.url ?? '', { method: 'PUT', body })).status).toBe(200);
    const target = { SPOOL_API_URL: stack.baseUrl, SPOOL_API_TOKEN: stack.token };

    const up = await spool(['upload', file, '--resume', id], target);

    expect(up.code, up.stderr).toBe(EXIT.ok);
    expect(up.stderr).toContain('resuming: 1 of 3 parts are there already');
    expect((await api.get(id)).status).toBe('ready');
  }, 240_000);

  it('finds the local stack and its token in the data dir of `npm start`', async () => {
    const list = await spool(['list', '--json', '--data-dir', join(dir, 'data')]);
    expect(list.code, list.stderr).toBe(EXIT.ok);
    expect(Array.isArray(JSON.parse(list.stdout))).toBe(true);
  });

  it('exits with a code that says what went wrong', async () => {
    const target = { SPOOL_API_URL: stack.baseUrl, SPOOL_API_TOKEN: stack.token };
    // No API to talk to.
    const none = await spool(['list', '--data-dir', join(dir, 'nowhere')]);
    expect(none.code).toBe(EXIT.usage);
    expect(none.stderr).toContain('no API URL');
    // A wrong token.
    expect((await spool(['list'], { ...target, SPOOL_API_TOKEN: 'wrong' })).code).toBe(
      EXIT.refused,
    );
    // No such video; a malformed id is no such video either.
    expect((await spool(['status', 'a'.repeat(20)], target)).code).toBe(EXIT.notFound);
    // A file that is not there, an unknown command, a missing argument.
    expect((await spool(['upload', join(dir, 'missing.mp4')], target)).code).toBe(EXIT.usage);
    expect((await spool(['frobnicate'], target)).code).toBe(EXIT.usage);
    expect((await spool(['status'], target)).code).toBe(EXIT.usage);
    // Nothing listens there.
    expect((await spool(['list'], { ...target, SPOOL_API_URL: 'http://127.0.0.1:9' })).code).toBe(
      EXIT.apiError,
    );
    // A video that fails ends the upload with its own code, after printing why.
    const junk = join(dir, 'junk.mp4');
    await writeFile(junk, Buffer.alloc(64 * 1024, 7));
    const failed = await spool(['upload', junk], target);
    expect(failed.code).toBe(EXIT.videoFailed);
    expect(failed.stdout).toMatch(/error\s+UNREADABLE_MEDIA: /);
  }, 120_000);

  it('has help on every command', async () => {
    for (const command of [[], ['upload'], ['status'], ['list'], ['delete'], ['watch']]) {
      const help = await spool([...command, '--help']);
      expect(help.code).toBe(EXIT.ok);
      expect(help.stdout).toMatch(/^Usage: spool/);
      expect(help.stdout).toContain('Exit codes:');
    }
  });
});
