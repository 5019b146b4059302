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
