/**
 * The local CDN's check of CloudFront signed URLs (local/cloudfront-signature.ts), against
 * URLs made by AWS's own signer (@aws-sdk/cloudfront-signer), directly and through the API's
 * signer (functions/adapters/playback-signer.ts).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { describe, expect, it } from 'vitest';
import { policySigner } from '../../functions/adapters/playback-signer.js';
import { ConfigError } from '../../functions/core/errors.js';
import {
  keyFingerprint,
  playbackPolicy,
  signedQueryString,
} from '../../functions/core/playback.js';
import { checkSignedUrl, matchesResource } from '../../local/cloudfront-signature.js';
import { testConfig } from '../support/config.js';

const rsa = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const trustedPair = rsa();
const otherPair = rsa();
const KEY_ID = 'K2JCJMDEHXQW5F';
const trustedKeys = new Map([[KEY_ID, createPublicKey(trustedPair.publicKey)]]);

const CDN = 'https://d111111abcdef8.cloudfront.net';
const ID = 'abcdefghijklmnopqrst';
const OTHER_ID = 'zyxwvutsrqponmlkjihg';
const NOW = new Date('2030-01-01T00:00:00Z');
const LATER = new Date('2030-01-01T06:00:00Z');

/** A custom-policy signed URL for `url`, as AWS's signer writes it. */
function signed(
  url: string,
  policy: object,
  privateKey = trustedPair.privateKey,
  keyPairId = KEY_ID,
) {
  return getSignedUrl({ url, policy: JSON.stringify(policy), keyPairId, privateKey });
}
const policyFor = (resource: string, until = LATER, from?: Date) => ({
  Statement: [
    {
      Resource: resource,
      Condition: {
        DateLessThan: { 'AWS:EpochTime': until.getTime() / 1000 },
        ...(from ? { DateGreaterThan: { 'AWS:EpochTime': from.getTime() / 1000 } } : {}),
      },
    },
  ],
});
const segment = (id = ID) => `${CDN}/videos/${id}/720p/seg_00001.ts`;

describe('checkSignedUrl', () => {
  it('allows a URL under the Resource of a custom policy signed by a trusted key', () => {
    const url = signed(segment(), policyFor(`${CDN}/videos/${ID}/*`));

    expect(checkSignedUrl(url, trustedKeys, NOW)).toEqual({ allowed: true });
  });

  it('refuses a URL with no signature', () => {
    expect(checkSignedUrl(segment(), trustedKeys, NOW)).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('Missing Key-Pair-Id'),
    });
  });

  it('refuses a signature used after its DateLessThan', () => {
    const url = signed(segment(), policyFor(`${CDN}/videos/${ID}/*`, NOW));

    expect(checkSignedUrl(url, trustedKeys, NOW)).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('expired'),
    });
    expect(checkSignedUrl(url, trustedKeys, new Date(NOW.getTime() - 1000))).toEqual({
      allowed: true,
    });
  });

  it('refuses a signature used before its DateGreaterThan', () => {
    const url = signed(segment(), policyFor(`${CDN}/videos/${ID}/*`, LATER, NOW));

    expect(checkSignedUrl(url, trustedKeys, NOW)).toMatchObject({ allowed: false });
    expect(checkSignedUrl(url, trustedKeys, new Date(NOW.getTime() + 1000))).toEqual({
      allowed: true,
    });
  });

  it("refuses one video's signature on another video's URL", () => {
    const forOne = new URL(signed(segment(), policyFor(`${CDN}/videos/${ID}/*`)));
    const another = `${segment(OTHER_ID)}${forOne.search}`;

    expect(checkSignedUrl(another, trustedKeys, NOW)).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('outside the signed Resource'),
    });
  });

  it('refuses the signature on another host (a policy names the playback domain)', () => {
    const url = signed(segment(), policyFor(`${CDN}/videos/${ID}/*`));

    const elsewhere = url.replace(CDN, 'https://d222222abcdef8.cloudfront.net');

    expect(checkSignedUrl(elsewhere, trustedKeys, NOW)).toMatchObject({ allowed: false });
  });

  it('refuses a policy widened after signing', () => {
    const url = new URL(signed(segment(), policyFor(`${CDN}/videos/${ID}/*`)));
    const wider = Buffer.from(JSON.stringify(policyFor(`${CDN}/*`)))
      .toString('base64')
      .replace(/\+/g, '-')
      .replace(/=/g, '_')
      .replace(/\//g, '~');
    url.searchParams.set('Policy', wider);

    expect(checkSignedUrl(segment(OTHER_ID) + url.search, trustedKeys, NOW)).toMatchObject({
      allowed: false,
      reason: 'Invalid signature',
    });
  });

  it('refuses a signature made with a key the distribution does not trust', () => {
    const url = signed(segment(), policyFor(`${CDN}/videos/${ID}/*`), otherPair.privateKey);

    expect(checkSignedUrl(url, trustedKeys, NOW)).toMatchObject({
      allowed: false,
      reason: 'Invalid signature',
    });
  });

  it('refuses a Key-Pair-Id that is not in the key group', () => {
    const url = signed(segment(), policyFor(`${CDN}/videos/${ID}/*`), undefined, 'KUNKNOWN');

    expect(checkSignedUrl(url, trustedKeys, NOW)).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('KUNKNOWN'),
    });
  });

  it('refuses a policy with a condition it cannot check, rather than ignoring it', () => {
    const policy = policyFor(`${CDN}/videos/${ID}/*`);
    const statement = policy.Statement[0] as { Condition: Record<string, unknown> };
    statement.Condition.IpAddress = { 'AWS:SourceIp': '192.0.2.0/24' };

    const url = signed(segment(), policy);

    expect(checkSignedUrl(url, trustedKeys, NOW)).toMatchObject({ allowed: false });
  });

  it('checks a canned policy against the exact URL it was signed for', () => {
    const url = getSignedUrl({
      url: segment(),
      dateLessThan: LATER,
      keyPairId: KEY_ID,
      privateKey: trustedPair.privateKey,
    });
    expect(new URL(url).searchParams.has('Expires')).toBe(true);

    expect(checkSignedUrl(url, trustedKeys, NOW)).toEqual({ allowed: true });
    const moved = url.replace('seg_00001.ts', 'seg_00002.ts');
    expect(checkSignedUrl(moved, trustedKeys, NOW)).toMatchObject({ allowed: false });
    expect(checkSignedUrl(url, trustedKeys, LATER)).toMatchObject({ allowed: false });
  });

  it('checks SHA-256 signatures (Hash-Algorithm=SHA256)', () => {
    const url = getSignedUrl({
      url: segment(),
      policy: JSON.stringify(policyFor(`${CDN}/videos/${ID}/*`)),
      keyPairId: KEY_ID,
      privateKey: trustedPair.privateKey,
      algorithm: 'SHA256',
    });
    expect(url).toContain('Hash-Algorithm=SHA256');

    expect(checkSignedUrl(url, trustedKeys, NOW)).toEqual({ allowed: true });
    const asSha1 = url.replace('&Hash-Algorithm=SHA256', '');
    expect(checkSignedUrl(asSha1, trustedKeys, NOW)).toMatchObject({ allowed: false });
  });

  it('keeps other query parameters in the URL the policy is matched to', () => {
    const url = signed(`${segment()}?x=1`, policyFor(`${CDN}/videos/${ID}/*`));

    expect(checkSignedUrl(url, trustedKeys, NOW)).toEqual({ allowed: true });
    const exact = signed(`${segment()}?x=1`, policyFor(segment()));
    expect(checkSignedUrl(exact, trustedKeys, NOW)).toMatchObject({ allowed: false });
  });

  it('refuses a malformed query rather than failing', () => {
    expect(checkSignedUrl(`${segment()}?Signature=%E0%A4%A`, trustedKeys, NOW)).toMatchObject({
      allowed: false,
    });
  });
});

describe('matchesResource', () => {
  it('reads * as any run of characters and ? as one, everything else literally', () => {
    expect(matchesResource('https://cdn/videos/a/*', 'https://cdn/videos/a/x/y.ts')).toBe(true);
    expect(matchesResource('https://cdn/videos/a/*', 'https://cdn/videos/ab/y.ts')).toBe(false);
    expect(matchesResource('https://cdn/seg_?.ts', 'https://cdn/seg_1.ts')).toBe(true);
    expect(matchesResource('https://cdn/seg_?.ts', 'https://cdn/seg_12.ts')).toBe(false);
    expect(matchesResource('https://cdn/a.ts', 'https://cdnXa.ts')).toBe(false);
  });
});

describe('the API signer (policySigner)', () => {
  const deps = { config: testConfig({ PLAYBACK_BASE_URL: CDN }) };
  const keyIds = { [keyFingerprint(trustedPair.publicKey)]: KEY_ID };

  it("signs a video's policy so that CloudFront's check opens every URL under the video", () => {
    const sign = policySigner(trustedPair.privateKey, keyIds);

    const query = signedQueryString(sign(playbackPolicy(deps, ID, LATER)));

    for (const path of ['master.m3u8', '720p/index.m3u8', '720p/seg_00001.ts', 'poster.jpg']) {
      const url = `${CDN}/videos/${ID}/${path}?${query}`;
      expect(checkSignedUrl(url, trustedKeys, NOW), path).toEqual({ allowed: true });
    }
    expect(
      checkSignedUrl(`${CDN}/videos/${OTHER_ID}/master.m3u8?${query}`, trustedKeys, NOW),
    ).toMatchObject({ allowed: false });
    expect(
      checkSignedUrl(`${CDN}/videos/${ID}/master.m3u8?${query}`, trustedKeys, LATER),
    ).toMatchObject({ allowed: false });
  });

  it('names the key it signs with by the id CloudFront gave its public half', () => {
    const sign = policySigner(trustedPair.privateKey, keyIds);

    expect(sign(playbackPolicy(deps, ID, LATER))['Key-Pair-Id']).toBe(KEY_ID);
  });

  it('refuses a private key whose public half is not in the key group', () => {
    expect(() => policySigner(otherPair.privateKey, keyIds)).toThrow(ConfigError);
    expect(() => policySigner(otherPair.privateKey, keyIds)).toThrow(/matches none/);
  });

  it('refuses a secret that holds no private key (the placeholder before one is put)', () => {
    expect(() => policySigner('Zx8s9qk2mPlaceholder', keyIds)).toThrow(/not a PEM private key/);
  });
});
