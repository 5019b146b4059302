/** MessageQueue over SQS (or local-aws-sqs locally). */
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { MessageQueue } from '../core/ports.js';

/** SQS's limit on entries per SendMessageBatch. */
const BATCH = 10;

export class SqsQueue implements MessageQueue {
  constructor(private readonly sqs: SQSClient) {}

  async sendAll(
    queueUrl: string,
    messages: readonly object[],
    opts: { delaySeconds?: number } = {},
  ): Promise<void> {
    const batches: object[][] = [];
    for (let i = 0; i < messages.length; i += BATCH) batches.push(messages.slice(i, i + BATCH));
    await Promise.all(
      batches.map(async (batch) => {
        let pending = batch.map((m, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(m),
          DelaySeconds: opts.delaySeconds,
        }));
        // A batch can partly fail (throttling); resend only the failed entries, a few times.
        for (let attempt = 0; pending.length > 0; attempt++) {
          const res = await this.sqs.send(
            new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }),
          );
          const failed = new Set((res.Failed ?? []).map((f) => f.Id));
          pending = pending.filter((e) => failed.has(e.Id));
          if (pending.length > 0 && attempt >= 3) {
            throw new Error(`SendMessageBatch left ${pending.length} messages unsent`);
          }
        }
      }),
    );
  }

  async sendOrdered(
    queueUrl: string,
    message: object,
    group: string,
    deduplicationId: string,
  ): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        MessageGroupId: group,
        MessageDeduplicationId: deduplicationId,
      }),
    );
  }

  async waiting(queueUrl: string): Promise<number> {
    const res = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(res.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
}
