/**
 * Tracing is loaded only where traces are sent: X-Ray's SDK tracks every promise through
 * async hooks from the moment it loads, which the local stack would pay on every await.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');

/**
 * Wraps a real S3 client with `traced` and says whether X-Ray added its middleware, and
 * whether X-Ray's SDK was loaded as a module. `load` makes `observability` and `require`.
 */
const probe = (load: string) => `
  ${load}
  const s3 = require(${JSON.stringify(createRequire(import.meta.url).resolve('@aws-sdk/client-s3'))});
  const client = new s3.S3Client({ region: 'us-east-1' });
  const before = client.middlewareStack.identify().length;
  const same = observability.traced(client) === client;
  const added = client.middlewareStack.identify().length - before;
  const xray = Object.keys(require('node:module')._cache).some((k) => k.includes('aws-xray-sdk-core'));
  console.log(JSON.stringify({ same, added, xray }));
`;

const clean = () => {
  const env = { ...process.env };
  for (const k of [
    'AWS_LAMBDA_FUNCTION_NAME',
    'AWS_EXECUTION_ENV',
    'POWERTOOLS_DEV',
    'POWERTOOLS_TRACE_ENABLED',
  ]) {
    delete env[k];
  }
  return env;
};

describe('tracing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-obs-'));
    // As lib/spool-function.ts bundles it for Lambda: CommonJS, every package inlined.
    await build({
      entryPoints: [join(REPO, 'functions/adapters/observability.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: join(dir, 'observability.cjs'),
      logLevel: 'silent',
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is not loaded by the local stack (ES modules, outside Lambda)', async () => {
    const script = probe(`
      const require = (await import('node:module')).createRequire(${JSON.stringify(`${REPO}/`)});
      const observability = await import('./functions/adapters/observability.ts');`);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: REPO, env: clean() },
    );
    expect(JSON.parse(stdout)).toEqual({ same: true, added: 0, xray: false });
  });

  it('traces every SDK call in a Lambda bundle, unless switched off', async () => {
    const script = probe(
      `const observability = require(${JSON.stringify(join(dir, 'observability.cjs'))});`,
    );
    const inLambda = {
      ...clean(),
      AWS_LAMBDA_FUNCTION_NAME: 'spool-transcode',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    };
    const on = await run(process.execPath, ['-e', script], { env: inLambda });
    expect(JSON.parse(on.stdout).added).toBeGreaterThan(0);
    const off = await run(process.execPath, ['-e', script], {
      env: { ...inLambda, POWERTOOLS_TRACE_ENABLED: 'false' },
    });
    expect(JSON.parse(off.stdout)).toMatchObject({ same: true, added: 0 });
  });
});
