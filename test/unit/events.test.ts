import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  eventOfRecordKey,
  signWebhook,
  type VideoEventDetail,
  verifyWebhook,
  videoEvent,
} from '../../functions/core/events.js';
import type { VideoView } from '../../functions/core/state.js';
import { deliver } from '../../functions/webhooks/webhooks.js';
import { SCHEMA_FILES, schemaText } from '../../schemas/generate.js';

const ID = 'abcdefghij0123456789';
const view: VideoView = {
  id: ID,
  status: 'ready',
  progress: 1,
  playable: true,
  duration: 12.5,
  playbackUrl: `https://cdn.example.com/videos/${ID}/master.m3u8`,
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:30.000Z',
};

describe('events from records', () => {
  it('maps each record to its event and nothing else', () => {
    expect(eventOfRecordKey(`state/${ID}/ready.json`)).toEqual({
      videoId: ID,
      type: 'video.ready',
    });
    expect(eventOfRecordKey(`state/${ID}/playable.json`)?.type).toBe('video.playable');
    expect(eventOfRecordKey(`state/${ID}/failed.json`)?.type).toBe('video.failed');
    for (const key of [
      `state/${ID}/plan.json`,
      `state/${ID}/chunks/00001.json`,
      `uploads/${ID}/source`,
      'state/../ready.json',
      `state/${ID.toUpperCase()}/ready.json`,
    ]) {
      expect(eventOfRecordKey(key)).toBeUndefined();
    }
  });

  it('carries the video as the API shows it, and the time since it was created', () => {
    const event = videoEvent('video.ready', view, new Date('2026-12-01T10:00:30.000Z'));
    expect(event).toMatchObject({
      schemaVersion: 1,
      eventId: `${ID}.video.ready`,
      secondsSinceCreated: 30,
      video: { id: ID, status: 'ready', duration: 12.5, playbackUrl: view.playbackUrl },
    });
  });

  it('has its JSON Schemas in the repository, up to date (npm run schemas)', () => {
    for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
      const committed = readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8');
      expect(JSON.parse(committed), `schemas/${file} is stale: run npm run schemas`).toEqual(
        JSON.parse(schemaText(schema)),
      );
    }
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"x","type":"video.ready"}';
  const now = 1_800_000_000;

  it('verify with the key, the exact body and a fresh timestamp only', () => {
    const header = signWebhook('key', body, now);
    expect(verifyWebhook('key', header, body, now + 10)).toBe(true);
    expect(verifyWebhook('other', header, body, now)).toBe(false);
    expect(verifyWebhook('key', header, `${body} `, now)).toBe(false);
    expect(verifyWebhook('key', header, body, now + 301)).toBe(false);
    expect(verifyWebhook('key', header.replace(`t=${now}`, `t=${now + 100}`), body, now)).toBe(
      false,
    );
    expect(verifyWebhook('key', 'garbage', body, now)).toBe(false);
  });
});

describe('webhook delivery', () => {
  const detail: VideoEventDetail = videoEvent('video.ready', view, new Date(view.updatedAt));
  const logger = { info: () => {}, warn: () => {}, error: () => {} };
  const deps = (answer: (req: Request) => Response | Promise<Response>) => {
    const requests: Request[] = [];
    return {
      requests,
      deps: {
        urls: ['https://hooks.example.com/a'],
        secret: 'key',
        logger,
        now: () => new Date(now * 1000),
        fetch: (async (url: string, init: RequestInit) => {
          const req = new Request(url, init);
          requests.push(req.clone());
          return answer(req);
        }) as typeof fetch,
      },
    };
  };
  const now = 1_800_000_000;

  it('POSTs the envelope with a signature over its exact bytes', async () => {
    const { deps: d, requests } = deps(() => new Response(null, { status: 204 }));
    expect(await deliver(d, { endpoint: 0, detail })).toBe('sent');
    const req = requests[0];
    if (!req) throw new Error('no request');
    const text = await req.text();
    expect(JSON.parse(text)).toEqual({ id: detail.eventId, type: 'video.ready', data: detail });
    expect(verifyWebhook('key', req.headers.get('spool-signature') ?? '', text, now)).toBe(true);
  });

  it('fails (to be retried) on an error status, a redirect or no answer', async () => {
    for (const answer of [
      () => new Response(null, { status: 500 }),
      () => new Response(null, { status: 302, headers: { location: 'https://elsewhere' } }),
      () => Promise.reject(new TypeError('fetch failed')),
    ]) {
      await expect(deliver(deps(answer).deps, { endpoint: 0, detail })).rejects.toMatchObject({
        code: 'TRANSIENT',
      });
    }
  });

  it('drops a delivery to an endpoint that is no longer configured', async () => {
    const { deps: d, requests } = deps(() => new Response(null, { status: 200 }));
    expect(await deliver(d, { endpoint: 3, detail })).toBe('dropped');
    expect(requests).toEqual([]);
  });
});
