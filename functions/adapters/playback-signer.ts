/**
 * Signs playback policies with the CloudFront key pair whose private half the API holds,
 * through AWS's own signer (@aws-sdk/cloudfront-signer).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import type { SpoolConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import {
  keyFingerprint,
  type PolicySigner,
  SIGNED_URL_PARAMS,
  type SignedQuery,
} from '../core/playback.js';
import { cachedSecret } from './secrets.js';

const HOW =
  'put the private key (PEM) of one of playbackPublicKeys in the signing key secret (README "Private playback")';

/**
 * A signer for this private key. Its Key-Pair-Id is CloudFront's id of the matching public
 * key, found by fingerprint in `keyIds`, so a rotated secret is never paired with the id
 * of the key it replaced.
 */
export function policySigner(privateKeyPem: string, keyIds: Record<string, string>): PolicySigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new ConfigError(`the playback signing key is not a PEM private key: ${HOW}`);
  }
  const fingerprint = keyFingerprint(key);
  const keyPairId = keyIds[fingerprint];
  if (!keyPairId) {
    throw new ConfigError(
      `the playback signing key (fingerprint ${fingerprint}) matches none of playbackPublicKeys: ${HOW}`,
    );
  }
  return (policy) => {
    // With a policy and no URL, the signer signs for the policy's resource and appends the
    // query to it: the query is what every URL under that resource carries.
    const signed = new URL(getSignedUrl({ policy, keyPairId, privateKey: privateKeyPem }));
    const query: Partial<SignedQuery> = {};
    for (const name of SIGNED_URL_PARAMS) {
      const value = signed.searchParams.get(name);
      if (!value) throw new Error(`the CloudFront signer wrote no ${name}`);
      query[name] = value;
    }
    return query as SignedQuery;
  };
}

/**
 * The API's signer, made on first use from the private key (one secret read per cold start:
 * a secret on AWS, a variable the local stack sets) and kept. A key that cannot sign is not
 * kept, so one put after the deployment is picked up by the next request.
 */
export function playbackSignerFromEnv(
  config: Pick<SpoolConfig, 'PLAYBACK_KEY_IDS'>,
): () => Promise<PolicySigner> {
  const signer = cachedSecret(
    'PLAYBACK_SIGNING_KEY_SECRET_ARN',
    'SPOOL_PLAYBACK_PRIVATE_KEY',
    'playback signing key',
    (pem) => policySigner(pem, config.PLAYBACK_KEY_IDS ?? {}),
  );
  return () => signer();
}
