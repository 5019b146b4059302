import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_SETTINGS, settingsSchema } from '../../functions/core/settings.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Settings'), readme.indexOf('### Events'));

describe('README "Settings"', () => {
  it('documents every setting of the schema, and no other', () => {
    const documented = [...section.matchAll(/^\| `(\w+)`(?:, `(\w+)`)? \|/gm)].flatMap((m) =>
      [m[1], m[2]].filter((x): x is string => x !== undefined),
    );
    expect(documented.sort()).toEqual(Object.keys(settingsSchema.shape).sort());
  });

  it('names the variable of every setting the functions read', () => {
    for (const variable of Object.values(RUNTIME_SETTINGS)) expect(section).toContain(variable);
  });
});

describe('README "Two commands"', () => {
  it('sets up with exactly npm start and npm test, nothing to run before them', () => {
    const block = /## Two commands\s+```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm start', 'npm test']);
  });

  it('runs the dependency check before anything that needs node_modules', () => {
    const { scripts } = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { scripts: Record<string, string> };
    for (const name of ['start', 'test']) {
      expect(scripts[name], name).toMatch(/^node scripts\/ensure-deps\.mjs && /);
    }
  });
});
