import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHeartbeat } from '../../functions/adapters/heartbeat.js';
import { processBatch, retryDelaySeconds } from '../../functions/adapters/sqs-batch.js';
import type { Logger } from '../../functions/core/ports.js';

const logger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
let server: Awaited<ReturnType<typeof createSqsServer>>;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  const { port } = server.address() as { port: number };
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({ QueueName: 'beats', Attributes: { VisibilityTimeout: '1' } }),
      )
    ).QueueUrl ?? '';
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const receive = async () =>
  (
    await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
      }),
    )
  ).Messages ?? [];

describe('the heartbeat of a running job', () => {
  it('keeps the message hidden past the queue visibility while the job runs', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":1}' }));
    const [message] = await receive();
    if (!message) throw new Error('nothing received');
    const event = {
      Records: [
        {
          messageId: message.MessageId,
          receiptHandle: message.ReceiptHandle,
          body: message.Body,
          attributes: { ApproximateReceiveCount: '1' },
        },
      ],
    } as unknown as SQSEvent;
    const seenWhileRunning: number[] = [];
    await processBatch(event, {
      queue: 'test',
      parse: (b) => b,
      // Runs for 2.5 s against a queue that would show the message again after 1 s.
      handle: async () => {
        for (let i = 0; i < 5; i++) {
          await new Promise((r) => setTimeout(r, 500));
          seenWhileRunning.push((await receive()).length);
        }
      },
      maxAttempts: 5,
      backoffSeconds: 1,
      heartbeatSeconds: 3,
      sqs,
      queueUrl,
      logger,
    });
    expect(seenWhileRunning).toEqual([0, 0, 0, 0, 0]);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  });

  it('lets the job of a worker that died come back within one window', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":2}' }));
    const [message] = await receive();
    if (!message?.ReceiptHandle) throw new Error('nothing received');
    const beat = startHeartbeat({
      sqs,
      queueUrl,
      receiptHandle: message.ReceiptHandle,
      windowSeconds: 2,
      logger,
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await receive()).toEqual([]);
    // The worker dies: no more beats, no delete, no answer. The last beat's window runs out.
    await beat.stop();
    let back: Awaited<ReturnType<typeof receive>> = [];
    const died = Date.now();
    while (back.length === 0 && Date.now() - died < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      back = await receive();
    }
    expect(back.map((m) => m.Body)).toEqual(['{"n":2}']);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: back[0]?.ReceiptHandle }),
    );
  });

  it('doubles the retry delay with each attempt, up to 15 minutes', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelaySeconds(10, a))).toEqual([10, 20, 40, 80, 160]);
    expect(retryDelaySeconds(10, 12)).toBe(900);
    expect(retryDelaySeconds(0, 1)).toBe(1);
  });
});
