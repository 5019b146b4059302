import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { type SynthesizedSpool, synthesizeSpool } from './support/spool-app.js';

// The real thing: handlers bundled by esbuild, as `cdk synth` does; once with the defaults
// and once with every optional part (webhooks, alarm email, custom domain, destroy, signed
// playback).
const variants: Record<string, SynthesizedSpool> = {
  defaults: synthesizeSpool({ bundle: true }),
  'every option': synthesizeSpool({
    pipeline: {
      webhookUrls: ['https://hooks.example.com/spool', 'https://other.example.com/hook'],
      alarmEmail: 'ops@example.com',
      customDomain: {
        domainName: 'video.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234',
      },
      removalPolicy: 'destroy',
      autoDeleteObjects: true,
      allowedOrigins: ['https://app.example.com'],
      signedPlayback: true,
      playbackPublicKeys: [
        generateKeyPairSync('rsa', {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        }).publicKey,
      ],
    },
  }),
};
afterAll(() => {
  for (const v of Object.values(variants)) v.dispose();
});

/** Every acknowledgement in an app, as [construct path, rule id, reason]. */
function acknowledgements(spool: SynthesizedSpool): Array<[string, string, string]> {
  const found: Array<[string, string, string]> = [];
  for (const construct of spool.app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push([construct.node.path, id, reason]);
      }
    }
  }
  return found;
}

describe.each(Object.entries(variants))('cdk-nag, %s', (_name, spool) => {
  it.each([
    ['AwsSolutions', () => new AwsSolutionsChecks(undefined, { verbose: true })],
    ['ServerlessChecks', () => new ServerlessChecks(undefined, { verbose: true })],
  ])('%s reports no unacknowledged error or warning', (_pack, pack) => {
    const report = pack().validateScope(spool.app);
    const findings = report.violations.map(
      (v) =>
        `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('gives every acknowledgement a specific reason', () => {
    const all = acknowledgements(spool);
    expect(all.length).toBeGreaterThan(0);
    for (const [path, id, reason] of all) {
      expect({ path, id, reason }).toEqual({
        path,
        id,
        reason: expect.stringMatching(/^(?!.*\b(todo|tbd|n\/a|suppressed)\b).{60,}$/is),
      });
    }
  });

  it('acknowledges findings on the resources they concern, never on a whole stack or app', () => {
    const blanket = acknowledgements(spool).filter(
      ([path]) => path === spool.stack.node.path || path === '',
    );
    expect(blanket).toEqual([]);
  });
});

const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const cfnLintMissing =
  (cfnLint.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' &&
  process.env.CI !== 'true';
if (cfnLintMissing) {
  console.warn('cfn-lint is not on PATH: the template lint is skipped (pip install cfn-lint)');
}

describe.skipIf(cfnLintMissing)('cfn-lint', () => {
  it.each(Object.entries(variants))('finds no error or warning with %s', (_name, spool) => {
    const run = spawnSync(
      'cfn-lint',
      // W3005: aws-cdk-lib adds an explicit DependsOn on the role that a GetAtt already implies.
      ['--format', 'json', '--ignore-checks', 'W3005', '--', spool.templatePath],
      { encoding: 'utf8' },
    );
    if (run.error) throw new Error(`cfn-lint did not run (required in CI): ${run.error.message}`);
    const findings = JSON.parse(run.stdout || '[]') as Array<{
      Level: string;
      Rule: { Id: string };
      Message: string;
      Location: { Path: unknown[] };
    }>;
    const problems = findings
      .filter((f) => f.Level === 'Error' || f.Level === 'Warning')
      .map((f) => `${f.Rule.Id} ${f.Message} at ${f.Location.Path.join('/')}`);
    expect(problems).toEqual([]);
    expect(run.stderr).toBe('');
  });
});
