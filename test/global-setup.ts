/**
 * Before any test file: the engine bundles are assembled (or found in the cache) once, so
 * that test workers never race to build them. The host's for the tests that run ffmpeg, and
 * both architectures for the CDK template tests' layers.
 */
import type { EngineArch } from '../engine/bundle.js';
import { bundleSync } from '../engine/engine.js';

export default function setup(): void {
  for (const arch of ['x86_64', 'arm64'] as EngineArch[]) bundleSync(arch);
}
