import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AssetHashType } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PROJECT_ROOT, SPOOL_RUNTIME } from './spool-function.js';

/** Where the layer puts the binaries: Lambda extracts layers under /opt. */
export const FFMPEG_PATH = '/opt/bin/ffmpeg';
export const FFPROBE_PATH = '/opt/bin/ffprobe';

/** The command that installs the linux-x64 ffmpeg build on any host (README, errors). */
export const INSTALL_LINUX_FFMPEG = 'npm run ffmpeg:linux-x64';

interface NpmBinary {
  /** File name inside the layer's `bin/`. */
  readonly file: string;
  /**
   * npm packages that ship a static linux-x64 build, in order of preference, with the
   * binary's path inside the package.
   */
  readonly candidates: ReadonlyArray<{ readonly pkg: string; readonly path: string }>;
}

const BINARIES: readonly NpmBinary[] = [
  { file: 'ffmpeg', candidates: [{ pkg: '@ffmpeg-installer/linux-x64', path: 'ffmpeg' }] },
  // ffprobe-static's 4.0.2 build: the @ffprobe-installer builds segfault on MPEG-TS input.
  { file: 'ffprobe', candidates: [{ pkg: 'ffprobe-static', path: 'bin/linux/x64/ffprobe' }] },
];

interface ResolvedBinary {
  readonly file: string;
  readonly pkg: string;
  readonly source: string;
  readonly version: string;
  readonly size: number;
}

function resolveBinary(binary: NpmBinary, searchFrom: string): ResolvedBinary {
  const require = createRequire(join(searchFrom, 'package.json'));
  for (const { pkg, path } of binary.candidates) {
    let manifestPath: string;
    try {
      manifestPath = require.resolve(`${pkg}/package.json`);
    } catch {
      continue;
    }
    const source = join(dirname(manifestPath), path);
    if (!existsSync(source)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: string };
    const version = manifest.version ?? '0.0.0';
    return { file: binary.file, pkg, source, version, size: statSync(source).size };
  }
  const tried = binary.candidates.map((c) => `${c.pkg}/${c.path}`).join(' or ');
  throw new Error(
    `FfmpegLayer: no linux-x64 ${binary.file} binary found (looked for ${tried} from ` +
      `${searchFrom}). npm installs @ffmpeg-installer's platform package for the machine it ` +
      `runs on, and Lambda needs linux-x64's: run \`${INSTALL_LINUX_FFMPEG}\` (installs ` +
      'it beside yours, whatever the host), or bring your own build: the ffmpegLayer prop, ' +
      'or `-c spool:ffmpegLayerArn=<layer version ARN>`, with bin/ffmpeg and bin/ffprobe.',
  );
}

/**
 * Copies the binaries into a staging directory laid out as the layer (`bin/ffmpeg`,
 * `bin/ffprobe`, mode 0755: Lambda runs the code as a user that does not own /opt).
 * The directory is keyed by package versions and reused across synths; each file is
 * written to a temporary name and renamed so parallel synths never see a partial copy.
 */
function stageBinaries(binaries: readonly ResolvedBinary[], key: string): string {
  const root = join(tmpdir(), 'spool-ffmpeg-layer');
  const stagingDir = join(root, key);
  const binDir = join(stagingDir, 'bin');
  // Partial copies live outside the layer directory so a crashed synth never ships one.
  const partialDir = join(root, `${key}.partial`);
  mkdirSync(binDir, { recursive: true });
  mkdirSync(partialDir, { recursive: true });
  for (const binary of binaries) {
    const target = join(binDir, binary.file);
    if (existsSync(target)) {
      const stat = statSync(target);
      if (stat.size === binary.size && (stat.mode & 0o777) === 0o755) continue;
    }
    const partial = join(partialDir, `${binary.file}.${process.pid}`);
    copyFileSync(binary.source, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  }
  return stagingDir;
}

/**
 * A Lambda layer holding static x86_64 ffmpeg and ffprobe builds, assembled at synth
 * time from the npm packages that ship them (no Docker). Functions find them at
 * {@link FFMPEG_PATH} and {@link FFPROBE_PATH}.
 */
export interface FfmpegLayerProps {
  /**
   * Where the npm packages with the binaries are resolved from.
   * @default - this project's root
   */
  readonly searchFrom?: string;
}

export class FfmpegLayer extends Construct {
  /** The layer version; add it to functions that spawn ffmpeg or ffprobe. */
  public readonly layer: lambda.LayerVersion;
  /** Versions of the npm packages the binaries came from, e.g. for descriptions. */
  public readonly versions: Readonly<Record<string, string>>;
  /** The directory the layer is zipped from (`bin/ffmpeg`, `bin/ffprobe`). */
  public readonly stagingDirectory: string;

  constructor(scope: Construct, id: string, props: FfmpegLayerProps = {}) {
    super(scope, id);
    const searchFrom = props.searchFrom ?? PROJECT_ROOT;
    const binaries = BINARIES.map((b) => resolveBinary(b, searchFrom));
    this.versions = Object.fromEntries(binaries.map((b) => [b.pkg, b.version]));
    // The content is fully determined by the package versions and sizes, so hash those
    // instead of fingerprinting ~150 MB of binaries on every synth.
    const hash = createHash('sha256')
      .update(binaries.map((b) => `${b.pkg}@${b.version}:${b.size}`).join('\n'))
      .digest('hex');
    const stagingDir = stageBinaries(binaries, hash.slice(0, 16));
    this.stagingDirectory = stagingDir;

    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(stagingDir, {
        assetHash: hash,
        assetHashType: AssetHashType.CUSTOM,
      }),
      compatibleArchitectures: [lambda.Architecture.X86_64],
      compatibleRuntimes: [SPOOL_RUNTIME],
      // The static builds are GPL (johnvansickle.com/ffmpeg).
      license: 'GPL-3.0-or-later',
      description: `ffmpeg + ffprobe static x86_64 (${binaries
        .map((b) => `${b.pkg}@${b.version}`)
        .join(', ')})`,
    });
  }
}
