/**
 * Which Spool the CLI talks to, and with what token: a flag, else the environment, else what
 * `npm start` left in its data dir (so `npx spool upload clip.mp4` just works beside it).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LOCAL_FILES } from '../local/data-dir.js';

export interface Target {
  api: string;
  token: string;
}

export interface TargetOptions {
  api?: string;
  token?: string;
  dataDir?: string;
}

export class UsageError extends Error {}

const readTrimmed = (file: string) =>
  readFile(file, 'utf8').then(
    (t) => t.trim() || undefined,
    () => undefined,
  );

export async function resolveTarget(
  flags: TargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Target> {
  const dataDir = resolve(flags.dataDir ?? env.SPOOL_DATA_DIR ?? '.spool');
  const api = flags.api ?? env.SPOOL_API_URL ?? (await readTrimmed(join(dataDir, LOCAL_FILES.api)));
  const token =
    flags.token ?? env.SPOOL_API_TOKEN ?? (await readTrimmed(join(dataDir, LOCAL_FILES.token)));
  if (!api) {
    throw new UsageError(
      `no API URL: pass --api, set SPOOL_API_URL, or run \`npm start\` (it writes ${join(dataDir, LOCAL_FILES.api)})`,
    );
  }
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new UsageError(`--api: not a URL: ${api}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--api: must be http(s), not ${url.protocol}`);
  }
  if (!token) {
    throw new UsageError('no API token: pass --token, set SPOOL_API_TOKEN, or run `npm start`');
  }
  return { api: url.href.replace(/\/+$/, ''), token };
}
