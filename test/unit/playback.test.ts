/**
 * Private playback's pure parts: the policy and the signed view the API returns, the
 * playlists that carry a signature on to every request, and the settings that turn it on.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { type Manifest, Parser } from 'm3u8-parser';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../functions/core/errors.js';
import {
  keyFingerprint,
  type PlaybackDeps,
  type PolicySigner,
  playbackPolicy,
  playbackView,
  playlistQueryParams,
  SIGNED_URL_PARAMS,
  signedQueryString,
} from '../../functions/core/playback.js';
import {
  writeIframePlaylist,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../../functions/core/playlist.js';
import type { Segment } from '../../functions/core/records.js';
import {
  resolveSettings,
  settingsEnvironment,
  settingsFromEnvironment,
} from '../../functions/core/settings.js';
import type { VideoRecords } from '../../functions/core/state.js';
import { testConfig } from '../support/config.js';

const ID = 'abcdefghij0123456789';
const CDN = 'https://cdn.example.com';
const NOW = new Date('2030-01-01T00:00:00.250Z');
const clock = { now: () => NOW };
const QUERY = { Policy: 'eyJTdGF0ZW1lbnQiOltdfQ__', Signature: 'abc-_~123', 'Key-Pair-Id': 'K1' };

const signedConfig = (seconds = 3600) =>
  testConfig({
    SPOOL_SIGNED_PLAYBACK: 'true',
    SPOOL_SIGNED_PLAYBACK_SECONDS: String(seconds),
  });

function records(overrides: Partial<VideoRecords> = {}): VideoRecords {
  return {
    video: {
      id: ID,
      createdAt: '2030-01-01T00:00:00.000Z',
      filename: 'a.mp4',
      contentType: 'video/mp4',
      size: 1,
    },
    lastChange: NOW,
    sourceUploaded: true,
    completedJobs: 0,
    ...overrides,
  };
}
const READY: Partial<VideoRecords> = {
  ready: {
    duration: 10,
    renditions: [],
    poster: { jpeg: 'poster.jpg', webp: 'poster.webp' },
    storyboard: 'storyboard/storyboard.vtt',
  },
};

describe('playbackPolicy', () => {
  it("opens every URL under the video's prefix on the playback domain until the expiry", () => {
    const policy = JSON.parse(
      playbackPolicy({ config: testConfig() }, ID, new Date('2030-01-01T06:00:00Z')),
    );

    expect(policy).toEqual({
      Statement: [
        {
          Resource: `${CDN}/videos/${ID}/*`,
          Condition: { DateLessThan: { 'AWS:EpochTime': 1_893_477_600 } },
        },
      ],
    });
  });
});

describe('keyFingerprint', () => {
  const pair = () =>
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });

  it('names a key pair the same from its public PEM, its public key and its private key', () => {
    const { publicKey, privateKey } = pair();

    const names = [publicKey, createPublicKey(publicKey), privateKey, createPrivateKey(privateKey)];

    expect(new Set(names.map((k) => keyFingerprint(k))).size).toBe(1);
    expect(keyFingerprint(publicKey)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('names two key pairs differently', () => {
    expect(keyFingerprint(pair().publicKey)).not.toBe(keyFingerprint(pair().publicKey));
  });
});

describe('signedQueryString', () => {
  it('writes the three parameters in order, as they are', () => {
    expect(signedQueryString(QUERY)).toBe(
      'Policy=eyJTdGF0ZW1lbnQiOltdfQ__&Signature=abc-_~123&Key-Pair-Id=K1',
    );
  });

  it('refuses a value a playlist variable could not carry unencoded', () => {
    expect(() => signedQueryString({ ...QUERY, Signature: 'a+b=' })).toThrow(/URL-safe/);
  });
});

describe('playbackView', () => {
  it('returns plain URLs and no expiry when playback is public', async () => {
    const signer = vi.fn();
    const deps: PlaybackDeps = { config: testConfig(), clock, playbackSigner: signer };

    const view = await playbackView(deps, records(READY));

    expect(view.playbackUrl).toBe(`${CDN}/videos/${ID}/master.m3u8`);
    expect(view.playbackExpiresAt).toBeUndefined();
    expect(signer).not.toHaveBeenCalled();
  });

  it("signs every URL of a ready video with one policy for the video's prefix", async () => {
    const policies: string[] = [];
    const sign: PolicySigner = (policy) => {
      policies.push(policy);
      return QUERY;
    };
    const deps: PlaybackDeps = { config: signedConfig(), clock, playbackSigner: async () => sign };

    const view = await playbackView(deps, records(READY));

    const query = signedQueryString(QUERY);
    expect(view.playbackUrl).toBe(`${CDN}/videos/${ID}/master.m3u8?${query}`);
    expect(view.posterUrl).toBe(`${CDN}/videos/${ID}/poster.jpg?${query}`);
    expect(view.posterWebpUrl).toBe(`${CDN}/videos/${ID}/poster.webp?${query}`);
    expect(view.storyboardUrl).toBe(`${CDN}/videos/${ID}/storyboard/storyboard.vtt?${query}`);
    expect(policies).toEqual([playbackPolicy(deps, ID, new Date('2030-01-01T01:00:00.000Z'))]);
  });

  it('says when the signature expires: the configured lifetime from now, in whole seconds', async () => {
    const deps: PlaybackDeps = {
      config: signedConfig(90),
      clock,
      playbackSigner: async () => () => QUERY,
    };

    const view = await playbackView(deps, records(READY));

    expect(view.playbackExpiresAt).toBe('2030-01-01T00:01:30.000Z');
  });

  it('signs the growing playlist of a video that is playable but not ready', async () => {
    const deps: PlaybackDeps = {
      config: signedConfig(),
      clock,
      playbackSigner: async () => () => QUERY,
    };
    const plan = { renditions: [], chunks: [{}], audio: null, source: { duration: 10 } };

    const view = await playbackView(
      deps,
      records({ plan: plan as unknown as VideoRecords['plan'], playable: true }),
    );

    expect(view.status).toBe('processing');
    expect(view.playbackUrl).toBe(`${CDN}/videos/${ID}/master.m3u8?${signedQueryString(QUERY)}`);
  });

  it('reads no key for a video that has no URL yet', async () => {
    const signer = vi.fn();
    const deps: PlaybackDeps = { config: signedConfig(), clock, playbackSigner: signer };

    const view = await playbackView(deps, records({ sourceUploaded: false }));

    expect(view.status).toBe('awaiting_upload');
    expect(view.playbackExpiresAt).toBeUndefined();
    expect(signer).not.toHaveBeenCalled();
  });

  it('fails with a ConfigError rather than hand out an unsigned URL when it has no signer', async () => {
    const deps: PlaybackDeps = { config: signedConfig(), clock };

    await expect(playbackView(deps, records(READY))).rejects.toThrow(ConfigError);
  });
});

describe('playlists that carry the signature on', () => {
  const query = playlistQueryParams(signedConfig());
  const SEGMENTS: Segment[] = [
    {
      file: 'seg_00000.ts',
      duration: 6,
      bytes: 1000,
      keyframes: [{ time: 0, offset: 376, length: 500 }],
    },
    {
      file: 'seg_00001.ts',
      duration: 4,
      bytes: 800,
      keyframes: [{ time: 0, offset: 0, length: 400 }],
    },
  ];
  const SIGNED_QUERY = signedQueryString(QUERY);
  /** Parsed as video.js's parser does, given the URL the playlist was fetched from. */
  const parseAt = (url: string, text: string): Manifest => {
    const parser = new Parser({ uri: url });
    parser.push(text);
    parser.end();
    return parser.manifest;
  };

  it('are the public ones, unchanged, when playback is public', () => {
    expect(playlistQueryParams(testConfig())).toEqual([]);
    expect(writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6, query: [] })).toBe(
      writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6 }),
    );
  });

  it("declare each of the signature's parameters from the playlist URL, at version 11", () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6, query });

    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:11',
      '#EXT-X-DEFINE:QUERYPARAM="Policy"',
      '#EXT-X-DEFINE:QUERYPARAM="Signature"',
      '#EXT-X-DEFINE:QUERYPARAM="Key-Pair-Id"',
    ]);
    expect(query).toEqual(SIGNED_URL_PARAMS);
  });

  it('give every segment of a media playlist the query its own URL had', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6, query });

    const manifest = parseAt(`${CDN}/videos/${ID}/720p/index.m3u8?${SIGNED_QUERY}`, text);

    expect(manifest.segments.map((s) => s.uri)).toEqual([
      `seg_00000.ts?${SIGNED_QUERY}`,
      `seg_00001.ts?${SIGNED_QUERY}`,
    ]);
  });

  it('give every variant and rendition of the multivariant playlist the query', () => {
    const text = writeMasterPlaylist(
      [
        {
          uri: '720p/index.m3u8',
          width: 1280,
          height: 720,
          frameRate: 30,
          bandwidth: 3_000_000,
          averageBandwidth: 2_500_000,
          codecs: 'avc1.64001f,mp4a.40.2',
          iframes: {
            uri: '720p/iframes.m3u8',
            bandwidth: 100_000,
            averageBandwidth: 90_000,
            codecs: 'avc1.64001f',
          },
        },
      ],
      { uri: 'audio/index.m3u8', channels: 2 },
      [{ uri: 'subs/en/index.m3u8', language: 'en', name: 'English' }],
      query,
    );

    const manifest = parseAt(`${CDN}/videos/${ID}/master.m3u8?${SIGNED_QUERY}`, text);

    expect(manifest.playlists?.map((p) => p.uri)).toEqual([`720p/index.m3u8?${SIGNED_QUERY}`]);
    expect(manifest.mediaGroups?.AUDIO.aac?.Main?.uri).toBe(`audio/index.m3u8?${SIGNED_QUERY}`);
    expect(manifest.mediaGroups?.SUBTITLES?.subs?.English?.uri).toBe(
      `subs/en/index.m3u8?${SIGNED_QUERY}`,
    );
    expect(text).toContain(
      'URI="720p/iframes.m3u8?Policy={$Policy}&Signature={$Signature}&Key-Pair-Id={$Key-Pair-Id}"',
    );
  });

  it('give the I-frame playlist its map and byte-range URIs with the query', () => {
    const text = writeIframePlaylist(SEGMENTS, query);

    expect(text).toContain('#EXT-X-VERSION:11');
    const variables = 'Policy={$Policy}&Signature={$Signature}&Key-Pair-Id={$Key-Pair-Id}';
    expect(text).toContain(`#EXT-X-MAP:URI="seg_00000.ts?${variables}",BYTERANGE="376@0"`);
    const uris = text.split('\n').filter((l) => l.startsWith('seg_'));
    expect(uris).toEqual([`seg_00000.ts?${variables}`, `seg_00001.ts?${variables}`]);
  });

  it('fail to parse when fetched without the signature, as the HLS spec requires', () => {
    const text = writeMediaPlaylist({ segments: SEGMENTS, targetDuration: 6, query });
    const parser = new Parser({ uri: `${CDN}/videos/${ID}/720p/index.m3u8` });
    const errors: string[] = [];
    (parser as unknown as { on(e: string, f: (w: { message: string }) => void): void }).on(
      'error',
      (e) => errors.push(e.message),
    );

    parser.push(text);
    parser.end();

    expect(errors).toContain('EXT-X-DEFINE: No query param Policy');
  });
});

describe('signed playback settings', () => {
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  it('are off by default, with a six-hour lifetime when turned on', () => {
    const settings = resolveSettings({});

    expect(settings.signedPlayback).toBe(false);
    expect(settings.signedPlaybackSeconds).toBe(6 * 3600);
    expect(settings.playbackPublicKeys).toEqual([]);
  });

  it('need a public key to be turned on, and say how to make one', () => {
    expect(() => resolveSettings({ signedPlayback: true })).toThrow(
      /playbackPublicKeys: .*openssl genrsa/,
    );
    expect(
      resolveSettings({ signedPlayback: true, playbackPublicKeys: [publicKey] }),
    ).toMatchObject({ signedPlayback: true });
  });

  it('take no public key while off', () => {
    expect(() => resolveSettings({ playbackPublicKeys: [publicKey] })).toThrow(
      /only used with signedPlayback/,
    );
  });

  it('take only RSA 2048 public keys in PEM, as CloudFront does', () => {
    const small = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }).publicKey;
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }).publicKey;

    for (const key of [small, ec, 'ssh-rsa AAAAB3Nza…']) {
      expect(() => resolveSettings({ signedPlayback: true, playbackPublicKeys: [key] })).toThrow(
        /RSA 2048 public key/,
      );
    }
  });

  it('send the functions nothing while off, so a public deployment keeps its environment', () => {
    const env = settingsEnvironment(resolveSettings({}));

    expect(Object.keys(env).filter((k) => k.includes('SIGNED'))).toEqual([]);
  });

  it('send the functions the switch and the lifetime when on, which they read back', () => {
    const env = settingsEnvironment(
      resolveSettings({
        signedPlayback: true,
        signedPlaybackSeconds: 600,
        playbackPublicKeys: [publicKey],
      }),
    );

    expect(env).toMatchObject({
      SPOOL_SIGNED_PLAYBACK: 'true',
      SPOOL_SIGNED_PLAYBACK_SECONDS: '600',
    });
    expect(settingsFromEnvironment(env)).toMatchObject({
      signedPlayback: true,
      signedPlaybackSeconds: 600,
    });
    expect(testConfig(env)).toMatchObject({
      SPOOL_SIGNED_PLAYBACK: true,
      SPOOL_SIGNED_PLAYBACK_SECONDS: 600,
    });
  });
});
