import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // ffmpeg and CDK synth are CPU-heavy; the 2-core CI box runs files two at a time.
    maxWorkers: 2,
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in
    // its legacy provider (the local stack starts node with the same flag).
    execArgv: ['--openssl-legacy-provider'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
