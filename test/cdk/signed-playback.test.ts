/**
 * Private playback in the template: with `signedPlayback`, a key group of the given public
 * keys that the distribution's every behaviour trusts, and a signing-key secret only the API
 * reads; without it, none of that, and nothing else changed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFingerprint } from '../../functions/core/playback.js';
import { logicalId, synthesizeSpool } from './support/spool-app.js';

const publicKey = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }).publicKey;
/** Two keys, as during a rotation. */
const KEYS = [publicKey(), publicKey()];

const on = synthesizeSpool({ pipeline: { signedPlayback: true, playbackPublicKeys: KEYS } });
const off = synthesizeSpool();
afterAll(() => {
  on.dispose();
  off.dispose();
});

const signing = on.stack.pipeline.playbackSigning;
if (!signing) throw new Error('signedPlayback made no PlaybackSigning');

type Resource = { Type: string; Properties?: Record<string, unknown> };
const resourcesOf = (template: typeof on.template) =>
  (template.toJSON().Resources ?? {}) as Record<string, Resource>;

/** Every cache behaviour of the distribution: the default one and any path patterns. */
function behaviours(template: typeof on.template): Record<string, unknown>[] {
  const distributions = Object.values(template.findResources('AWS::CloudFront::Distribution'));
  expect(distributions).toHaveLength(1);
  const config = distributions[0]?.Properties.DistributionConfig as {
    DefaultCacheBehavior: Record<string, unknown>;
    CacheBehaviors?: Record<string, unknown>[];
  };
  return [config.DefaultCacheBehavior, ...(config.CacheBehaviors ?? [])];
}

/** The environment of every function, by logical id. */
function environments(template: typeof on.template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => [
      id,
      (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
    ]),
  );
}

describe('signedPlayback on', () => {
  it('creates a CloudFront public key for each given key, with that key', () => {
    on.template.resourceCountIs('AWS::CloudFront::PublicKey', 2);
    for (const pem of KEYS) {
      on.template.hasResourceProperties('AWS::CloudFront::PublicKey', {
        PublicKeyConfig: Match.objectLike({ EncodedKey: pem.trim() }),
      });
    }
  });

  it('puts the public keys in one key group', () => {
    on.template.resourceCountIs('AWS::CloudFront::KeyGroup', 1);
    on.template.hasResourceProperties('AWS::CloudFront::KeyGroup', {
      KeyGroupConfig: Match.objectLike({
        Items: signing.publicKeys.map((k) => ({ Ref: logicalId(k) })),
      }),
    });
  });

  it('makes every behaviour of the distribution, which serve all playlists and segments, trust the key group', () => {
    const all = behaviours(on.template);

    expect(all.length).toBeGreaterThanOrEqual(1);
    for (const behaviour of all) {
      expect(behaviour.TrustedKeyGroups).toEqual([{ Ref: logicalId(signing.keyGroup) }]);
    }
    // Nothing is served but through these behaviours: the output bucket's only origin.
    expect(behaviours(on.template)[0]?.PathPattern).toBeUndefined();
  });

  it('gives the API the signing key secret, the key ids by fingerprint and the lifetime', () => {
    const env = environments(on.template)[logicalId(on.stack.pipeline.uploadApi.handler)];

    expect(env).toMatchObject({
      PLAYBACK_SIGNING_KEY_SECRET_ARN: { Ref: logicalId(signing.signingKey) },
      SPOOL_SIGNED_PLAYBACK: 'true',
      SPOOL_SIGNED_PLAYBACK_SECONDS: String(6 * 3600),
    });
    const keyIds = JSON.stringify(env?.PLAYBACK_KEY_IDS);
    for (const [i, pem] of KEYS.entries()) {
      expect(keyIds).toContain(keyFingerprint(pem));
      expect(keyIds).toContain(
        JSON.stringify({ Ref: logicalId(signing.publicKeys[i] ?? signing) }),
      );
    }
  });

  it('lets the API, and only the API, read the signing key secret', () => {
    const secret = { Ref: logicalId(signing.signingKey) };
    const readers = Object.values(on.template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]).some(
        (s) =>
          [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(secret)) &&
          [s.Action].flat().includes('secretsmanager:GetSecretValue'),
      ),
    );

    const apiRole = logicalId(
      on.stack.pipeline.uploadApi.handler.role?.node.defaultChild ?? signing,
    );
    expect(readers.map((p) => p.Properties.Roles)).toEqual([[{ Ref: apiRole }]]);
  });

  it('tells the publish step to write playlists that carry the signature on', () => {
    const env = environments(on.template)[logicalId(on.stack.pipeline.publish.handler)];

    expect(env?.SPOOL_SIGNED_PLAYBACK).toBe('true');
  });

  it('keeps the private key out of the template: the secret is generated, then put by hand', () => {
    const text = JSON.stringify(on.template.toJSON());

    expect(text).not.toMatch(/PRIVATE KEY/);
    on.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('playback signing key'),
      GenerateSecretString: Match.anyValue(),
      SecretString: Match.absent(),
    });
  });

  it('outputs the secret to put the private key in', () => {
    on.template.hasOutput('PlaybackSigningKeySecretArn', {
      Value: { Ref: logicalId(signing.signingKey) },
    });
  });
});

describe('signedPlayback off (the default)', () => {
  it('creates no public key, key group or signing secret', () => {
    off.template.resourceCountIs('AWS::CloudFront::PublicKey', 0);
    off.template.resourceCountIs('AWS::CloudFront::KeyGroup', 0);
    expect(off.stack.pipeline.playbackSigning).toBeUndefined();
    expect(JSON.stringify(off.template.toJSON())).not.toMatch(/playback signing key/i);
  });

  it('lets any viewer through every behaviour', () => {
    for (const behaviour of behaviours(off.template)) {
      expect(behaviour.TrustedKeyGroups).toBeUndefined();
      expect(behaviour.TrustedSigners).toBeUndefined();
    }
  });

  it('gives no function a signing variable', () => {
    for (const env of Object.values(environments(off.template))) {
      expect(Object.keys(env).filter((k) => /PLAYBACK_(KEY|SIGNING)|SIGNED/.test(k))).toEqual([]);
    }
  });

  it('is the signed template less exactly what signing adds: nothing else differs', () => {
    const added = new Set([
      ...signing.publicKeys.map((k) => logicalId(k)),
      logicalId(signing.keyGroup),
      logicalId(signing.signingKey),
    ]);
    const secret = JSON.stringify({ Ref: logicalId(signing.signingKey) });
    const stripped = structuredClone(on.template.toJSON()) as {
      Resources: Record<string, Resource>;
      Outputs?: Record<string, unknown>;
    };
    for (const id of added) delete stripped.Resources[id];
    delete stripped.Outputs?.PlaybackSigningKeySecretArn;
    for (const resource of Object.values(stripped.Resources)) {
      const props = resource.Properties ?? {};
      if (resource.Type === 'AWS::CloudFront::Distribution') {
        const config = props.DistributionConfig as {
          DefaultCacheBehavior: Record<string, unknown>;
        };
        delete config.DefaultCacheBehavior.TrustedKeyGroups;
      }
      if (resource.Type === 'AWS::Lambda::Function') {
        const env = (props.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables;
        for (const name of Object.keys(env ?? {})) {
          if (
            /^(PLAYBACK_SIGNING_KEY_SECRET_ARN|PLAYBACK_KEY_IDS|SPOOL_SIGNED_PLAYBACK.*)$/.test(
              name,
            )
          ) {
            delete env?.[name];
          }
        }
      }
      if (resource.Type === 'AWS::IAM::Policy') {
        // The grant joins the statement that reads the API token: take the secret out of it.
        const document = props.PolicyDocument as { Statement: { Resource: unknown }[] };
        document.Statement = document.Statement.flatMap((s) => {
          if (!Array.isArray(s.Resource)) return JSON.stringify(s.Resource) === secret ? [] : [s];
          const rest = s.Resource.filter((r) => JSON.stringify(r) !== secret);
          if (rest.length === 0) return [];
          return [{ ...s, Resource: rest.length === 1 ? rest[0] : rest }];
        });
      }
    }

    expect(Object.keys(stripped.Resources).sort()).toEqual(
      Object.keys(resourcesOf(off.template)).sort(),
    );
    expect(stripped).toEqual(off.template.toJSON());
  });
});
