#!/usr/bin/env node
// `npx spool …`: the CLI is TypeScript, run through tsx as the rest of the repo is.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
