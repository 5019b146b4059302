import { spawnSync } from 'node:child_process';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesizeSpool } from './support/spool-app.js';

// The real thing: handlers bundled by esbuild, as `cdk synth` does.
const spool = synthesizeSpool({ bundle: true });
afterAll(() => spool.dispose());

/** Every acknowledgement in the app, as [construct path, rule id, reason]. */
function acknowledgements(): Array<[string, string, string]> {
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

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(spool.app);
    const findings = report.violations.map(
      (v) =>
        `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('gives every acknowledgement a specific reason', () => {
    const all = acknowledgements();
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
    const blanket = acknowledgements().filter(
      ([path]) => path === spool.stack.node.path || path === '',
    );
    expect(blanket).toEqual([]);
  });
});

describe('cfn-lint', () => {
  it('finds no error or warning in the synthesized template', () => {
    const run = spawnSync(
      'cfn-lint',
      // W3005: aws-cdk-lib adds an explicit DependsOn on the role that a GetAtt already implies.
      ['--format', 'json', '--ignore-checks', 'W3005', '--', spool.templatePath],
      { encoding: 'utf8' },
    );
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      if (process.env.CI === 'true')
        throw new Error('cfn-lint is required in CI but is not on PATH');
      console.warn(
        'cfn-lint is not on PATH: template lint skipped (pip install cfn-lint to run it)',
      );
      return;
    }
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
