/**
 * The API's bearer token: from Secrets Manager on AWS (API_TOKEN_SECRET_ARN), from
 * SPOOL_API_TOKEN locally. Neither set is a configuration error: the API is never open.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../core/errors.js';

let token: Promise<string> | undefined;

export function apiToken(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  token ??= (async () => {
    if (env.API_TOKEN_SECRET_ARN) {
      const client = new SecretsManagerClient({});
      const res = await client.send(
        new GetSecretValueCommand({ SecretId: env.API_TOKEN_SECRET_ARN }),
      );
      if (!res.SecretString) throw new ConfigError('the API token secret is empty');
      return res.SecretString;
    }
    if (env.SPOOL_API_TOKEN) return env.SPOOL_API_TOKEN;
    throw new ConfigError('set API_TOKEN_SECRET_ARN or SPOOL_API_TOKEN');
  })();
  // A failed lookup (throttling) must not be cached for the container's lifetime.
  token.catch(() => {
    token = undefined;
  });
  return token;
}
