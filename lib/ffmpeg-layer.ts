import { AssetHashType } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { BundleManifest, EngineArch } from '../engine/bundle.js';
import { ENGINE_DIR } from '../engine/bundle.js';
import { bundleSync } from '../engine/engine.js';
import { SPOOL_RUNTIME } from './spool-function.js';

/** Where the layer puts the engine: Lambda extracts layers under /opt (engine/README.md). */
export const FFMPEG_PATH = `/opt/${ENGINE_DIR}/bin/ffmpeg`;
export const FFPROBE_PATH = `/opt/${ENGINE_DIR}/bin/ffprobe`;

/** Lambda's architecture for each of the engine's. */
export const LAMBDA_ARCHITECTURE: Readonly<Record<EngineArch, lambda.Architecture>> = {
  x86_64: lambda.Architecture.X86_64,
  arm64: lambda.Architecture.ARM_64,
};

export interface FfmpegLayerProps {
  /** Which build of the engine: the functions that load the layer must match it. */
  readonly architecture: EngineArch;
}

/**
 * The engine as a Lambda layer: Debian's ffmpeg and ffprobe 7.1 with the libraries, glibc and
 * loader they load, assembled from Debian's archive at synth time (no Docker) and cached by
 * what went into it (engine/). The tests and the local stack run the same bundle. Functions
 * find the binaries at {@link FFMPEG_PATH} and {@link FFPROBE_PATH}.
 */
export class FfmpegLayer extends Construct {
  /** The layer version; add it to functions that spawn ffmpeg or ffprobe. */
  public readonly layer: lambda.LayerVersion;
  /** What the bundle holds: Debian's package versions, libraries, size. */
  public readonly manifest: BundleManifest;
  /** The directory the layer is zipped from (`ffmpeg/bin/ffmpeg`, …). */
  public readonly stagingDirectory: string;

  constructor(scope: Construct, id: string, props: FfmpegLayerProps) {
    super(scope, id);
    const { dir, manifest } = bundleSync(props.architecture);
    this.manifest = manifest;
    this.stagingDirectory = dir;
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(dir, {
        // The bundle's key hashes every package's bytes: no need to fingerprint ~220 MB.
        assetHash: manifest.key,
        assetHashType: AssetHashType.CUSTOM,
      }),
      compatibleArchitectures: [LAMBDA_ARCHITECTURE[props.architecture]],
      compatibleRuntimes: [SPOOL_RUNTIME],
      // Debian builds ffmpeg with --enable-gpl, and libavdevice loads GPL-3+ libcdio (NOTICE).
      license: 'GPL-3.0-or-later',
      description:
        `ffmpeg ${manifest.ffmpegVersion} + ffprobe from Debian trixie ` +
        `(${manifest.ffmpegPackageVersion}, ${manifest.packages.length} packages), ` +
        `${props.architecture}`,
    });
  }
}
