/**
 * SQS stand-in: local-aws-sqs with the same queues and redrive as on AWS, plus pollers that
 * do what Lambda's SQS event source does: receive, invoke the handler with an SQS event,
 * delete what succeeded, and leave reported failures to their visibility timeout.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';

export interface QueueSpec {
  name: string;
  visibilityTimeout: number;
  fifo?: boolean;
  deadLetter?: { name: string; maxReceiveCount: number };
}

export async function startSqs(
  queues: QueueSpec[],
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const accountId = '000000000000';
  const server: Server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    accountId,
    queues: queues.map((q) => ({
      QueueName: q.name,
      Attributes: {
        VisibilityTimeout: q.visibilityTimeout,
        ...(q.fifo ? { FifoQueue: true } : {}),
        ...(q.deadLetter
          ? {
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: `arn:aws:sqs:us-east-1:${accountId}:${q.deadLetter.name}`,
                maxReceiveCount: q.deadLetter.maxReceiveCount,
              }),
            }
          : {}),
      },
    })),
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface Poller {
  stop(): Promise<void>;
}

/** Lambda's event source mapping, in miniature: `concurrency` loops, each one batch at a time. */
export async function pollQueue(
  sqs: SQSClient,
  queueName: string,
  handler: SqsHandler,
  opts: { concurrency: number; batchSize: number; onError: (err: unknown) => void },
): Promise<Poller> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  if (!QueueUrl) throw new Error(`no queue ${queueName}`);
  const arn = `arn:aws:sqs:us-east-1:000000000000:${queueName}`;
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const res = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: opts.batchSize,
            WaitTimeSeconds: 1,
            // local-aws-sqs ignores MessageSystemAttributeNames.
            AttributeNames: ['All'],
          }),
        );
        const messages = res.Messages ?? [];
        if (messages.length === 0) continue;
        const event: SQSEvent = {
          Records: messages.map((m) => ({
            messageId: m.MessageId ?? '',
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            attributes: {
              ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
              SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
              SenderId: 'local',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: m.MD5OfBody ?? '',
            eventSource: 'aws:sqs',
            eventSourceARN: arn,
            awsRegion: 'us-east-1',
          })),
        };
        let failed = new Set(event.Records.map((r) => r.messageId));
        try {
          const result = await handler(event);
          failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (err) {
          // A thrown handler fails the whole batch, as on Lambda.
          opts.onError(err);
        }
        const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
        if (done.length > 0 && running) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: done.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle ?? '',
              })),
            }),
          );
        }
      } catch (err) {
        if (!running) return;
        opts.onError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const loops = Array.from({ length: opts.concurrency }, loop);
  return {
    stop: async () => {
      running = false;
      await Promise.allSettled(loops);
    },
  };
}
