import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../functions/adapters/sqs-batch.js';
import { MediaError, TransientError } from '../../functions/core/errors.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

const event = (attempt: number): SQSEvent =>
  ({
    Records: [
      {
        messageId: 'm1',
        receiptHandle: 'r1',
        body: JSON.stringify({ videoId: 'v' }),
        attributes: { ApproximateReceiveCount: String(attempt) },
      },
    ],
  }) as unknown as SQSEvent;

async function run(error: Error, attempt: number) {
  const gaveUp: unknown[] = [];
  const result = await processBatch(event(attempt), {
    parse: (body) => body,
    handle: async () => {
      throw error;
    },
    giveUp: async (_message, err) => {
      gaveUp.push(err);
      return true;
    },
    queue: 'test',
    maxAttempts: 3,
    backoffSeconds: 10,
    logger: silent,
  });
  return { gaveUp, failures: result.batchItemFailures };
}

describe('processBatch', () => {
  it('gives up on the first attempt when the media itself is bad: no retry can help', async () => {
    const { gaveUp, failures } = await run(new MediaError('DECODE_FAILED', 'bad'), 1);

    expect(gaveUp).toHaveLength(1);
    expect(failures).toEqual([]);
  });

  it('retries a transient error until its last attempt', async () => {
    const first = await run(new TransientError('reset'), 1);
    expect(first.gaveUp).toEqual([]);
    expect(first.failures).toEqual([{ itemIdentifier: 'm1' }]);

    const last = await run(new TransientError('reset'), 3);
    expect(last.gaveUp).toHaveLength(1);
  });

  it('retries an unexpected error (a crash is not a verdict on the media)', async () => {
    const { gaveUp, failures } = await run(new Error('boom'), 1);

    expect(gaveUp).toEqual([]);
    expect(failures).toHaveLength(1);
  });
});
