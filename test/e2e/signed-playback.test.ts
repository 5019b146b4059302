/**
 * Private playback on the local stack (SPOOL_SIGNED_PLAYBACK): the CDN stand-in serves a
 * playlist or a segment only for a valid signed URL, as CloudFront with a trusted key group
 * does, and the URL the API hands out opens every request a player makes for that video.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { Parser } from 'm3u8-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYBACK_KEY_FILE } from '../../local/stack.js';
import { makeSource } from '../support/media.js';
import { ApiClient, type RunningStack, startStack, type VideoView } from '../support/stack.js';

const LIFETIME_SECONDS = 600;

let dir: string;
let stack: RunningStack;
let view: VideoView;
/** `http://127.0.0.1:port`: the CDN stand-in. */
let cdn: string;
/** `Policy=…&Signature=…&Key-Pair-Id=…` from the API's playback URL. */
let signature: string;
let requestedAt: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-signed-'));
  stack = await startStack({
    dataDir: join(dir, 'data'),
    env: {
      SPOOL_SIGNED_PLAYBACK: 'true',
      SPOOL_SIGNED_PLAYBACK_SECONDS: String(LIFETIME_SECONDS),
      SPOOL_LOG_LEVEL: 'silent',
    },
  });
  const api = new ApiClient(stack.baseUrl, stack.token);
  const source = await makeSource(dir, 'private', {
    width: 320,
    height: 240,
    rate: '25',
    seconds: 4,
    audio: true,
  });
  const id = await api.upload(source);
  await api.waitFor(id);
  requestedAt = Date.now();
  view = await api.get(id);
  expect(view.status, JSON.stringify(view.error)).toBe('ready');
  const url = new URL(view.playbackUrl ?? '');
  cdn = url.origin;
  signature = url.search.slice(1);
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const status = async (url: string) => (await fetch(url)).status;
const unsigned = (url: string) => url.split('?')[0] ?? url;

/** The URLs a player fetches, from the signed master down: resolved as HLS players do. */
async function playerUrls(masterUrl: string) {
  const parse = async (url: string) => {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    const parser = new Parser({ uri: url });
    parser.push(await res.text());
    parser.end();
    return parser.manifest;
  };
  const master = await parse(masterUrl);
  const variant = master.playlists?.[0];
  const audio = Object.values(master.mediaGroups?.AUDIO ?? {})[0];
  const audioUri = audio ? Object.values(audio)[0]?.uri : undefined;
  if (!variant || !audioUri) throw new Error('the master playlist names no variant or audio');
  const mediaUrl = new URL(variant.uri, masterUrl).href;
  const audioUrl = new URL(audioUri, masterUrl).href;
  const firstSegment = (await parse(mediaUrl)).segments[0];
  const firstAudio = (await parse(audioUrl)).segments[0];
  if (!firstSegment || !firstAudio) throw new Error('a media playlist lists no segment');
  return {
    mediaUrl,
    audioUrl,
    segmentUrl: new URL(firstSegment.uri, mediaUrl).href,
    audioSegmentUrl: new URL(firstAudio.uri, audioUrl).href,
  };
}

/** A custom policy signed with the local stack's key, as a client with the key could. */
async function signWith(resource: string, until: Date): Promise<string> {
  const privateKey = await readFile(join(dir, 'data', PLAYBACK_KEY_FILE), 'utf8');
  const keyPairId = new URLSearchParams(signature).get('Key-Pair-Id') ?? '';
  const policy = JSON.stringify({
    Statement: [
      {
        Resource: resource,
        Condition: { DateLessThan: { 'AWS:EpochTime': Math.floor(until.getTime() / 1000) } },
      },
    ],
  });
  return new URL(getSignedUrl({ url: resource, policy, keyPairId, privateKey })).search.slice(1);
}

describe('signed playback on the local stack', () => {
  it('hands out playback URLs signed for the video that expire after the set lifetime', () => {
    const params = new URLSearchParams(signature);
    expect([...params.keys()]).toEqual(['Policy', 'Signature', 'Key-Pair-Id']);
    const policy = JSON.parse(
      Buffer.from(
        (params.get('Policy') ?? '').replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'),
        'base64',
      ).toString(),
    );
    expect(policy.Statement[0].Resource).toBe(`${cdn}/videos/${view.id}/*`);
    const expires = Date.parse(view.playbackExpiresAt ?? '');
    expect(policy.Statement[0].Condition.DateLessThan['AWS:EpochTime']).toBe(expires / 1000);
    expect(expires).toBeGreaterThan(requestedAt + (LIFETIME_SECONDS - 5) * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + LIFETIME_SECONDS * 1000);
    expect(view.posterUrl).toBeDefined();
    for (const url of [view.posterUrl ?? '', view.storyboardUrl ?? view.posterUrl ?? '']) {
      expect(url.startsWith(`${cdn}/videos/${view.id}/`), url).toBe(true);
      expect(url.endsWith(`?${signature}`), url).toBe(true);
    }
  });

  it("serves every playlist and segment a player asks for with the API's URL", async () => {
    const urls = await playerUrls(view.playbackUrl ?? '');

    for (const url of Object.values(urls)) expect(url).toContain(`?${signature}`);
    const segment = await fetch(urls.segmentUrl);
    expect(segment.status).toBe(200);
    // An MPEG-TS packet's sync byte: the segment itself, not an error page.
    expect(new Uint8Array(await segment.arrayBuffer())[0]).toBe(0x47);
    expect(await status(urls.audioSegmentUrl)).toBe(200);
    expect(await status(view.posterUrl ?? '')).toBe(200);
  });

  it('refuses an unsigned request for the master, a media playlist and a segment', async () => {
    const urls = await playerUrls(view.playbackUrl ?? '');

    for (const url of [view.playbackUrl ?? '', urls.mediaUrl, urls.segmentUrl, urls.audioUrl]) {
      const res = await fetch(unsigned(url));
      expect(res.status, unsigned(url)).toBe(403);
      expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    }
  });

  it('refuses an expired signature, which the same key opens before its expiry', async () => {
    const { segmentUrl } = await playerUrls(view.playbackUrl ?? '');
    const resource = `${cdn}/videos/${view.id}/*`;

    const expired = await signWith(resource, new Date(Date.now() - 1000));
    const current = await signWith(resource, new Date(Date.now() + 60_000));

    expect(await status(`${unsigned(segmentUrl)}?${expired}`)).toBe(403);
    expect(await status(`${unsigned(segmentUrl)}?${current}`)).toBe(200);
  });

  it('refuses a signature outside its scope', async () => {
    const { segmentUrl, audioSegmentUrl } = await playerUrls(view.playbackUrl ?? '');

    // The video's signature on another video's prefix: refused before anything is looked up.
    const other = unsigned(segmentUrl).replace(view.id, 'zzzzzzzzzzzzzzzzzzzz');
    expect(await status(`${other}?${signature}`)).toBe(403);
    // A signature for the audio rendition opens the audio and nothing else.
    const audioOnly = await signWith(
      `${cdn}/videos/${view.id}/audio/*`,
      new Date(Date.now() + 60_000),
    );
    expect(await status(`${unsigned(audioSegmentUrl)}?${audioOnly}`)).toBe(200);
    expect(await status(`${unsigned(segmentUrl)}?${audioOnly}`)).toBe(403);
  });
});
