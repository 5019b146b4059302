/**
 * The events a team builds on: through `npm start`'s stack, a video's `video.playable` and
 * `video.ready` (or `video.failed`) reach a webhook receiver, signed, and are printed as the
 * EventBridge stand-in receives them. A receiver that fails is retried with backoff.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIGNATURE_HEADER,
  verifyWebhook,
  type WebhookBody,
  webhookBodySchema,
} from '../../functions/core/events.js';
import { makeSource } from '../support/media.js';
import { ApiClient, type RunningStack, startStack } from '../support/stack.js';

interface Received {
  receiver: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

const SECRET = 'test-webhook-secret';
let dir: string;
let stack: RunningStack;
let api: ApiClient;
const received: Received[] = [];
const servers: Server[] = [];
/** Receiver 1 answers 503 to the first two deliveries of each event (a receiver that was down). */
const refusals = new Map<string, number>();
const refuseTwice = (body: string) => {
  const id = String(JSON.parse(body).id);
  const n = (refusals.get(id) ?? 0) + 1;
  refusals.set(id, n);
  return n <= 2 ? 503 : 200;
};

async function receiver(n: number, answer: (body: string) => number): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ receiver: n, headers: req.headers, body, at: Date.now() });
      res.writeHead(answer(body)).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/spool`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-events-'));
  const ok = await receiver(0, () => 204);
  const flaky = await receiver(1, refuseTwice);
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: {
      SPOOL_WEBHOOK_URLS: JSON.stringify([ok, flaky]),
      SPOOL_WEBHOOK_SECRET: SECRET,
      SPOOL_RETRY_BACKOFF_SECONDS: '1',
    },
  });
  api = new ApiClient(stack.baseUrl, stack.token);
});

afterAll(async () => {
  await stack?.stop();
  for (const s of servers) s.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
});

const delivered = (receiverIndex: number, type: string, id: string) =>
  received.find((r) => {
    if (r.receiver !== receiverIndex) return false;
    const body = JSON.parse(r.body) as WebhookBody;
    return body.type === type && body.data.video.id === id;
  });

async function until<T>(what: string, get: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > end)
      throw new Error(`no ${what} in ${ms} ms:\n${stack.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('video events', () => {
  it('delivers video.playable and video.ready, signed, to every webhook endpoint', async () => {
    const file = await makeSource(dir, 'clip', {
      width: 320,
      height: 180,
      rate: '25',
      seconds: 4,
      audio: true,
    });
    const id = await api.upload(file);
    const view = await api.waitFor(id);
    expect(view.status).toBe('ready');

    const ready = await until('video.ready webhook', () => delivered(0, 'video.ready', id));
    const body = webhookBodySchema.parse(JSON.parse(ready.body));
    expect(body).toMatchObject({
      id: `${id}.video.ready`,
      type: 'video.ready',
      data: {
        schemaVersion: 1,
        type: 'video.ready',
        video: { id, status: 'ready', playbackUrl: view.playbackUrl, duration: view.duration },
      },
    });
    expect(body.data.secondsSinceCreated).toBeGreaterThan(0);
    expect(ready.headers['spool-event-type']).toBe('video.ready');

    // The signature: the receiver's check passes with the key, fails with any change.
    const signature = String(ready.headers[SIGNATURE_HEADER]);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(SECRET, signature, ready.body)).toBe(true);
    expect(verifyWebhook('another-secret', signature, ready.body)).toBe(false);
    expect(verifyWebhook(SECRET, signature, ready.body.replace('ready', 'failed'))).toBe(false);
    // A replay an hour later is refused: the timestamp is part of what is signed.
    expect(verifyWebhook(SECRET, signature, ready.body, Math.floor(Date.now() / 1000) + 3600)).toBe(
      false,
    );

    const playable = await until('video.playable webhook', () =>
      delivered(0, 'video.playable', id),
    );
    expect(verifyWebhook(SECRET, String(playable.headers[SIGNATURE_HEADER]), playable.body)).toBe(
      true,
    );

    // The stack prints each event as EventBridge receives it.
    expect(stack.output()).toMatch(new RegExp(`event video\\.ready ${id} ready`));
  });

  it('retries a receiver that fails, with backoff, until it accepts', async () => {
    // Receiver 1 refused each event twice: each came a third time, and was accepted.
    const firstId = (
      JSON.parse(received.find((r) => r.receiver === 1)?.body ?? '{}') as WebhookBody
    ).id;
    const sameEvent = await until('the third delivery of an event', () => {
      const mine = received.filter((r) => r.receiver === 1 && JSON.parse(r.body).id === firstId);
      return mine.length >= 3 ? mine : undefined;
    });
    expect(sameEvent).toHaveLength(3);
    // Every event of receiver 0 reached receiver 1 as well.
    const ids = (n: number) =>
      new Set(received.filter((r) => r.receiver === n).map((r) => JSON.parse(r.body).id));
    await until('every event at receiver 1', () =>
      [...ids(0)].every((id) => ids(1).has(id)) ? true : undefined,
    );
    // Each retry waits the backoff (1 s, then 2 s), not the queue's visibility timeout.
    const gaps = sameEvent.slice(1).map((r, i) => r.at - (sameEvent[i]?.at ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...gaps)).toBeLessThan(60_000);
  });

  it('announces a failure with its code', async () => {
    const file = join(dir, 'not-a-video.mp4');
    await writeFile(file, Buffer.alloc(4096, 7));
    const id = await api.upload(file);
    const view = await api.waitFor(id);
    expect(view.status).toBe('failed');
    const failed = await until('video.failed webhook', () => delivered(0, 'video.failed', id));
    const body = webhookBodySchema.parse(JSON.parse(failed.body));
    expect(body.data.video.status).toBe('failed');
    expect(body.data.video.error).toEqual(view.error);
    expect(body.data.video.error?.code).toMatch(/^[A-Z_]+$/);
    expect(verifyWebhook(SECRET, String(failed.headers[SIGNATURE_HEADER]), failed.body)).toBe(true);
  });
});
