/**
 * npm run engine -- assemble [x86_64|arm64 …]   assemble (or find cached) and print the dirs
 * npm run engine:update                          re-resolve from Debian's archive, write the lock
 */
import { ARCHES, type EngineArch } from './bundle.js';
import { ensureBundle, hostEngineArch, rememberAssembled, updateLock } from './engine.js';

const [command = 'assemble', ...rest] = process.argv.slice(2);

async function main() {
  if (command === 'update') {
    await updateLock();
    return;
  }
  if (command === 'assemble') {
    const host = hostEngineArch();
    const arches = (rest.length > 0 ? rest : host ? [host] : Object.keys(ARCHES)) as EngineArch[];
    for (const arch of arches) {
      if (!(arch in ARCHES)) throw new Error(`unknown architecture ${arch} (x86_64 or arm64)`);
      const { dir } = await ensureBundle(arch);
      rememberAssembled(arch, dir);
      console.log(dir);
    }
    return;
  }
  throw new Error(`unknown command ${command} (assemble or update)`);
}

main().catch((err) => {
  console.error(`spool engine: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
