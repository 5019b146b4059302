/**
 * The CLI's upload in parts (cli/multipart.ts) against a fake API and a local HTTP server in
 * place of S3: exact part bytes, a failed part retried with a fresh URL, resuming, giving up.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpoolClient } from '../../cli/client.js';
import { uploadInParts } from '../../cli/multipart.js';

const PART = 1000;
const SIZE = 2500;
const file = Buffer.from(Array.from({ length: SIZE }, (_, i) => i % 251));

let dir: string;
let path: string;
let server: Server;
let base: string;
/** What the stand-in S3 received: the bodies of the PUTs it accepted, by part number. */
let received: Map<number, Buffer>;
/** PUTs of a part the stand-in refuses before accepting one (500). */
let refusals: Map<number, number>;
let putUrls: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-cli-parts-'));
  path = join(dir, 'clip.mp4');
  await writeFile(path, file);
  server = createServer((req, res) => {
    const n = Number(/\/part\/(\d+)/.exec(req.url ?? '')?.[1]);
    putUrls.push(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const left = refusals.get(n) ?? 0;
      if (left > 0) {
        refusals.set(n, left - 1);
        res.writeHead(500).end('<Error><Code>InternalError</Code></Error>');
        return;
      }
      received.set(n, Buffer.concat(chunks));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** The API as the CLI calls it, with `listed` as the parts already there. */
function fakeApi(listed: { partNumber: number; size: number; etag: string }[] = []) {
  received = new Map();
  refusals = new Map();
  putUrls = [];
  let presigned = 0;
  const calls: string[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    const { pathname } = new URL(url);
    calls.push(`${init?.method} ${pathname}`);
    const answer = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (init?.method === 'GET' && pathname.endsWith('/parts')) {
      return answer({
        partSize: PART,
        partCount: 3,
        expiresAt: '',
        completed: false,
        parts: listed,
      });
    }
    if (init?.method === 'POST' && pathname.endsWith('/parts')) {
      const { partNumbers } = JSON.parse(String(init.body)) as { partNumbers: number[] };
      return answer({
        parts: partNumbers.map((n) => ({
          partNumber: n,
          url: `${base}/part/${n}?url=${++presigned}`,
          method: 'PUT',
          headers: {},
          offset: (n - 1) * PART,
          size: Math.min(PART, SIZE - (n - 1) * PART),
          expiresAt: '',
        })),
      });
    }
    return answer({ id: 'v', status: 'processing' });
  }) as typeof fetch;
  const client = new SpoolClient({ api: 'http://api.invalid', token: 't' }, fetchImpl);
  return { client, calls };
}

const partBytes = (n: number) => file.subarray((n - 1) * PART, Math.min(n * PART, SIZE));

describe('uploadInParts', () => {
  it('sends each part its exact bytes, retries a refused part with a fresh URL, then completes', async () => {
    const { client, calls } = fakeApi();
    refusals.set(2, 1);
    const progress: number[] = [];

    const view = await uploadInParts(client, 'v', path, SIZE, (b) => progress.push(b), {
      retryDelayMs: 1,
    });

    expect(view).toMatchObject({ status: 'processing' });
    for (const n of [1, 2, 3]) expect(received.get(n)).toEqual(partBytes(n));
    const part2 = putUrls.filter((u) => u.startsWith('/part/2?'));
    expect(part2).toHaveLength(2);
    expect(new Set(part2).size).toBe(2);
    expect(progress.at(-1)).toBe(SIZE);
    expect(calls.at(-1)).toBe('POST /videos/v/complete');
  });

  it('resumes: skips a part that is there, sends again one listed with another length', async () => {
    const { client } = fakeApi([
      { partNumber: 1, size: PART, etag: '"a"' },
      { partNumber: 2, size: 10, etag: '"b"' },
    ]);
    const progress: number[] = [];

    await uploadInParts(client, 'v', path, SIZE, (b) => progress.push(b));

    expect([...received.keys()].sort()).toEqual([2, 3]);
    expect(received.get(2)).toEqual(partBytes(2));
    expect(progress[0]).toBe(PART);
    expect(progress.at(-1)).toBe(SIZE);
  });

  it('gives up on a part refused every time, and does not complete', async () => {
    const { client, calls } = fakeApi();
    refusals.set(3, 99);

    await expect(
      uploadInParts(client, 'v', path, SIZE, () => {}, { attempts: 3, retryDelayMs: 1 }),
    ).rejects.toMatchObject({ status: 500, code: 'InternalError' });

    expect(putUrls.filter((u) => u.startsWith('/part/3?'))).toHaveLength(3);
    expect(calls).not.toContain('POST /videos/v/complete');
  });
});
