/**
 * The demo page's multipart upload in headless Chromium against `npm start`'s stack: parts
 * sent cross-origin to the S3 stand-in, a failed part retried, and an upload that failed
 * resumed when the same file is chosen again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_CLIP, makeSource } from '../support/media.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';
import { chromiumAvailable, launchChromium } from './chromium.js';

const MiB = 1024 ** 2;
const available = chromiumAvailable();

let dir: string;
let stack: RunningStack;
let browser: Browser;
let clip: string;

beforeAll(async () => {
  if (!available) return;
  dir = await mkdtemp(join(tmpdir(), 'spool-demo-multipart-'));
  [stack, browser, clip] = await Promise.all([
    startStack({
      dataDir: join(dir, 'data'),
      env: {
        SPOOL_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
        SPOOL_MULTIPART_PART_BYTES: String(5 * MiB),
        SPOOL_LOG_LEVEL: 'silent',
      },
    }),
    launchChromium(),
    // About 11 MiB: three parts of at most 5 MiB.
    makeSource(dir, 'grainy', LARGE_CLIP),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The part number of a PUT of a part to the S3 stand-in, or undefined for anything else. */
const partOf = (method: string, url: string) => {
  const n = new URL(url).searchParams.get('partNumber');
  return method === 'PUT' && n ? Number(n) : undefined;
};

const text = async (page: Page, selector: string) =>
  (await page.locator(selector).textContent()) ?? '';

describe.skipIf(!available)('the demo page with a file above the multipart threshold', () => {
  it('sends it in parts, retries a failed part, and resumes a failed upload', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Part 2 never gets through: the network drops every try of it.
    const tries: number[] = [];
    await page.route(`${stack.s3Endpoint}/**`, (route) => {
      const part = partOf(route.request().method(), route.request().url());
      if (part !== undefined) tries.push(part);
      return part === 2 ? route.abort('connectionreset') : route.continue();
    });
    await page.goto(`${stack.baseUrl}/`);

    await page.setInputFiles('#file', clip);
    await expect.poll(() => text(page, '#error'), { timeout: 60_000 }).toMatch(/upload failed/);
    // Every part was tried; part 2 four times, with a pause between.
    expect(tries.filter((n) => n === 2)).toHaveLength(4);
    expect(new Set(tries)).toEqual(new Set([1, 2, 3]));
    const id = new URL(page.url()).searchParams.get('play');
    expect(id).toMatch(/^[a-z0-9]{20}$/);

    // The network is back; the same file chosen again sends only the part that is missing.
    await page.unroute(`${stack.s3Endpoint}/**`);
    const resumed: number[] = [];
    page.on('request', (req) => {
      const part = partOf(req.method(), req.url());
      if (part !== undefined) resumed.push(part);
    });
    await page.setInputFiles('#file', []);
    await page.setInputFiles('#file', clip);
    await expect
      .poll(() => text(page, '#status'), { timeout: 120_000, interval: 200 })
      .toMatch(/^(ready|failed)$/);
    expect(await text(page, '#status'), await text(page, '#error')).toBe('ready');
    expect(resumed).toEqual([2]);
    expect(new URL(page.url()).searchParams.get('play')).toBe(id);
    expect(
      await page
        .locator('#upload-progress')
        .evaluate((e) => (e as unknown as { value: number }).value),
    ).toBe(100);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("lets a page read the ETag of a part it sent, as S3's CORS rule exposes it", async () => {
    const api = new ApiClient(stack.baseUrl, stack.token);
    const created = await api.request('POST', '/videos', { filename: 'x.mp4', size: 6 * MiB });
    const presigned = await api.request('POST', `/videos/${created.body.id}/parts`, {
      partNumbers: [2],
    });
    const [part] = presigned.body.parts as { url: string; size: number }[];
    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/`);
    // From the demo page's origin to the S3 stand-in's: a cross-origin PUT.
    const etag = await page.evaluate(async ({ url, size }) => {
      const res = await fetch(url, { method: 'PUT', body: new Uint8Array(size) });
      return { status: res.status, etag: res.headers.get('etag') };
    }, part ?? { url: '', size: 0 });
    expect(etag).toEqual({ status: 200, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
    await page.close();
  });
});
