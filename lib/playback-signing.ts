import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { keyFingerprint } from '../functions/core/playback.js';

export interface PlaybackSigningProps {
  /**
   * The public halves of the signing key pairs (RSA 2048, PEM), as `openssl rsa -pubout`
   * writes them: the key group CloudFront checks every playback request against. Two while
   * a key is being rotated (README "Private playback").
   */
  readonly publicKeys: readonly string[];
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Private playback's keys: CloudFront public keys in a key group, for the distribution's
 * behaviours to trust, and the secret that holds the private key the API signs with. The
 * private key never passes through CDK or the template: the operator puts it in the secret.
 */
export class PlaybackSigning extends Construct {
  /** One per given key, named by its fingerprint so that adding a key replaces none. */
  public readonly publicKeys: cloudfront.PublicKey[];
  public readonly keyGroup: cloudfront.KeyGroup;
  /**
   * Holds the private key (PEM) of one of the public keys. Created with a random
   * placeholder, which signs nothing: put the key with `aws secretsmanager put-secret-value`.
   */
  public readonly signingKey: secretsmanager.Secret;
  /** core/playback.ts keyFingerprint → CloudFront's id of that public key. */
  private readonly keyIds: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: PlaybackSigningProps) {
    super(scope, id);
    if (props.publicKeys.length === 0) {
      throw new Error(
        'PlaybackSigning: give at least one public key (publicKeys), the public half of the ' +
          'key pair playback URLs are signed with: openssl genrsa -out playback.pem 2048 && ' +
          'openssl rsa -in playback.pem -pubout',
      );
    }
    this.publicKeys = props.publicKeys.map((pem) => {
      const fingerprint = keyFingerprint(pem);
      const key = new cloudfront.PublicKey(this, `Key${fingerprint.slice(0, 16)}`, {
        encodedKey: pem.trim(),
        comment: `Spool playback signing key ${fingerprint}`,
      });
      this.keyIds[fingerprint] = key.publicKeyId;
      return key;
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      items: this.publicKeys,
      comment: 'Spool signed playback: the keys playlists and segments must be signed with',
    });

    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description:
        'Spool playback signing key: the private key (PEM) of one of playbackPublicKeys. ' +
        'Put it with aws secretsmanager put-secret-value --secret-string file://playback.pem',
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An RSA private key whose public half CloudFront trusts: Secrets Manager cannot make ' +
        'one, and a new key must be in the key group before it signs, so it is rotated by ' +
        'hand in three steps (README "Private playback"), never by a rotation function.',
    });
  }

  /**
   * Lets a function sign playback URLs: read the private key, and find CloudFront's id of its
   * public half (adapters/playback-signer.ts).
   */
  public grantSign(fn: lambda.Function): void {
    this.signingKey.grantRead(fn);
    fn.addEnvironment('PLAYBACK_SIGNING_KEY_SECRET_ARN', this.signingKey.secretArn);
    fn.addEnvironment('PLAYBACK_KEY_IDS', Stack.of(this).toJsonString(this.keyIds));
  }
}
