/** The engine's command line (engine/README.md). */
import { ARCHES, type EngineArch } from './bundle.js';
import { ensureBundle, hostEngineArch, updateLock } from './engine.js';

const HELP = `Usage:
  npm run engine [-- x86_64|arm64 …]   assemble this host's bundle (or those named), or find it
                                       in ~/.cache/spool/engine, and print its folder
  npm run engine:update                resolve the engine again from Debian's archive (trixie and
                                       its security updates) and rewrite engine/debian.lock.json
See engine/README.md.`;

const [command = 'assemble', ...rest] = process.argv.slice(2);

async function main() {
  if (rest.includes('--help') || rest.includes('-h') || command === '--help') {
    console.log(HELP);
    return;
  }
  if (command === 'update') {
    await updateLock();
    return;
  }
  if (command === 'assemble') {
    const host = hostEngineArch();
    const arches = (rest.length > 0 ? rest : host ? [host] : Object.keys(ARCHES)) as EngineArch[];
    for (const arch of arches) {
      if (!(arch in ARCHES)) throw new Error(`unknown architecture ${arch}\n${HELP}`);
      const { dir } = await ensureBundle(arch);
      console.log(dir);
    }
    return;
  }
  throw new Error(`unknown command ${command}\n${HELP}`);
}

main().catch((err) => {
  console.error(`spool engine: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
