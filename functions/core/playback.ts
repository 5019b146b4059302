/**
 * Private playback (the `signedPlayback` setting): CloudFront signed URLs with a custom
 * policy that opens everything under one video's prefix (`videos/{id}/*`) until it expires.
 *
 * HLS players fetch media playlists and segments by URLs relative to the playlist, which
 * drop its query string, so the signature alone would open only the multivariant playlist.
 * The published playlists carry it on instead: each declares the signature's parameters as
 * variables (`#EXT-X-DEFINE:QUERYPARAM`, HLS protocol version 11, draft-pantos-hls-rfc8216bis
 * §4.3 and §4.4.2.3) and appends them to every URI (`720p/index.m3u8?Policy={$Policy}&…`), so
 * the player fills in the query it was given on every request. The playlists stay static and
 * cacheable, the same bytes for every viewer; only the URL the API hands out is per viewer.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { Deps } from './deps.js';
import { ConfigError } from './errors.js';
import { keys } from './keys.js';
import { deriveView, type VideoRecords, type VideoView } from './state.js';
import { outputUrl } from './video-state.js';

/** The query parameters of a CloudFront URL signed with a custom policy. */
export const SIGNED_URL_PARAMS = ['Policy', 'Signature', 'Key-Pair-Id'] as const;

export type SignedQuery = Record<(typeof SIGNED_URL_PARAMS)[number], string>;

/**
 * Signs a CloudFront policy (its JSON text): the port the API is given
 * (adapters/playback-signer.ts). Synchronous once made: making one reads the private key.
 */
export type PolicySigner = (policy: string) => SignedQuery;

export type PlaybackDeps = Pick<Deps, 'config' | 'clock' | 'playbackSigner'>;

/**
 * A custom policy (CloudFront developer guide, "Creating a signed URL using a custom
 * policy"): every URL under the video's output prefix on the playback domain, until
 * `expiresAt` (whole seconds, as CloudFront reads `AWS:EpochTime`).
 */
export function playbackPolicy(
  deps: Pick<Deps, 'config'>,
  videoId: string,
  expiresAt: Date,
): string {
  return JSON.stringify({
    Statement: [
      {
        Resource: `${outputUrl(deps, keys.output(videoId))}*`,
        Condition: { DateLessThan: { 'AWS:EpochTime': Math.floor(expiresAt.getTime() / 1000) } },
      },
    ],
  });
}

/**
 * `Policy=…&Signature=…&Key-Pair-Id=…`. CloudFront's base64 is URL-safe (`-`, `_`, `~` for
 * `+`, `=`, `/`), so the values go in as they are: the same text the playlists' variables
 * are filled with.
 */
export function signedQueryString(query: SignedQuery): string {
  return SIGNED_URL_PARAMS.map((name) => {
    const value = query[name];
    if (!/^[\w~-]+$/.test(value)) throw new Error(`${name} is not URL-safe: ${value}`);
    return `${name}=${value}`;
  }).join('&');
}

/** Names of the query parameters the playlists carry on: none when playback is public. */
export const playlistQueryParams = (config: Deps['config']): readonly string[] =>
  config.SPOOL_SIGNED_PLAYBACK ? SIGNED_URL_PARAMS : [];

/**
 * A short, stable name for a public key (SHA-256 of its DER SubjectPublicKeyInfo): how the
 * API finds CloudFront's id for the key it holds, so the id and the private key never
 * disagree while a key is being rotated.
 */
export function keyFingerprint(key: string | KeyObject): string {
  const publicKey = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

/**
 * The video as a client sees it. With signed playback, every URL in it (playlist, poster,
 * storyboard) carries one signature for the video's prefix, and `playbackExpiresAt` says
 * until when; a video with no URL yet is not signed for.
 */
export async function playbackView(deps: PlaybackDeps, records: VideoRecords): Promise<VideoView> {
  let hasUrls = false;
  const view = deriveView(records, (key) => {
    hasUrls = true;
    return outputUrl(deps, key);
  });
  if (!deps.config.SPOOL_SIGNED_PLAYBACK || !hasUrls) return view;
  if (!deps.playbackSigner) {
    throw new ConfigError('signed playback is on, but the API was given no signing key');
  }
  const sign = await deps.playbackSigner();
  // Whole seconds: the policy's expiry and the one the client is told are the same instant.
  const expiresAt = new Date(
    Math.floor(deps.clock.now().getTime() / 1000 + deps.config.SPOOL_SIGNED_PLAYBACK_SECONDS) *
      1000,
  );
  const query = signedQueryString(sign(playbackPolicy(deps, records.video.id, expiresAt)));
  return {
    ...deriveView(records, (key) => `${outputUrl(deps, key)}?${query}`),
    playbackExpiresAt: expiresAt.toISOString(),
  };
}
