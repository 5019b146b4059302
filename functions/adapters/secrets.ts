/**
 * Secrets read once per cold start: from Secrets Manager on AWS (the `…_SECRET_ARN`
 * variable), from a plain variable locally. Neither set is a configuration error: the API is
 * never open, and a webhook is never sent unsigned.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../core/errors.js';
import { traced } from './observability.js';

/**
 * `parse` turns the secret into what its user needs; a value it rejects is not kept either,
 * so a secret put right after a deployment is read again on the next call.
 */
export function cachedSecret<T = string>(
  arnVariable: string,
  localVariable: string,
  what: string,
  parse: (secret: string) => T = (secret) => secret as T,
) {
  let value: Promise<T> | undefined;
  return (env: NodeJS.ProcessEnv = process.env): Promise<T> => {
    value ??= (async () => {
      const arn = env[arnVariable];
      if (arn) {
        const res = await traced(new SecretsManagerClient({})).send(
          new GetSecretValueCommand({ SecretId: arn }),
        );
        if (!res.SecretString) throw new ConfigError(`the ${what} secret is empty`);
        return parse(res.SecretString);
      }
      const local = env[localVariable];
      if (local) return parse(local);
      throw new ConfigError(`set ${arnVariable} or ${localVariable}`);
    })();
    // A failed lookup (throttling) must not be cached for the container's lifetime.
    value.catch(() => {
      value = undefined;
    });
    return value;
  };
}

/** The API's bearer token. */
export const apiToken = cachedSecret('API_TOKEN_SECRET_ARN', 'SPOOL_API_TOKEN', 'API token');
/** The key webhooks are signed with (HMAC-SHA256). */
export const webhookSecret = cachedSecret(
  'WEBHOOK_SECRET_ARN',
  'SPOOL_WEBHOOK_SECRET',
  'webhook signing',
);
