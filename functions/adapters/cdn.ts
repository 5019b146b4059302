/** CdnCache over CloudFront invalidations; a no-op where nothing caches (the local stack). */
import { randomUUID } from 'node:crypto';
import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { CdnCache } from '../core/ports.js';

export class CloudFrontCache implements CdnCache {
  constructor(
    private readonly client: CloudFrontClient,
    private readonly distributionId: string,
  ) {}

  async invalidate(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    await this.client.send(
      new CreateInvalidationCommand({
        DistributionId: this.distributionId,
        InvalidationBatch: {
          // One per request: the SDK's own retries of it send the same reference, which
          // CloudFront treats as the same invalidation rather than a second one.
          CallerReference: randomUUID(),
          Paths: { Quantity: paths.length, Items: [...paths] },
        },
      }),
    );
  }
}

/** The local static server reads through to S3 on every request: there is no cache. */
export const noCdnCache: CdnCache = { invalidate: async () => undefined };
