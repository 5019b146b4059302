/**
 * SQS stand-in: local-aws-sqs with the same queues as on AWS, plus pollers that do what
 * Lambda's SQS event source does: receive, invoke the handler with an SQS event, delete what
 * succeeded, and leave reported failures to their visibility timeout.
 *
 * The pollers also do the queues' redrive. local-aws-sqs counts every ChangeMessageVisibility
 * as a receive, so a job that heartbeats would reach its maxReceiveCount in minutes; here a
 * receive is a receive, and a message received more than maxReceiveCount times moves to its
 * dead-letter queue, as SQS does.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { outlastClients } from './keep-alive.js';

export interface QueueSpec {
  name: string;
  visibilityTimeout: number;
  fifo?: boolean;
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
      },
    })),
  });
  outlastClients(server);
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
  opts: {
    concurrency: number;
    batchSize: number;
    onError: (err: unknown) => void;
    /** The queue's redrive policy: where a message goes after `maxReceiveCount` receives. */
    deadLetter?: { name: string; maxReceiveCount: number };
  },
): Promise<Poller> {
  const urlOf = async (name: string) => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`no queue ${name}`);
    return QueueUrl;
  };
  const QueueUrl = await urlOf(queueName);
  const deadLetter = opts.deadLetter && {
    url: await urlOf(opts.deadLetter.name),
    maxReceiveCount: opts.deadLetter.maxReceiveCount,
  };
  const arn = `arn:aws:sqs:us-east-1:000000000000:${queueName}`;
  // Receives per message id, counted here (see the top of this file).
  const receives = new Map<string, number>();
  /** Counts a receive; true if the message is moved to the dead-letter queue instead. */
  const redrive = async (m: Message): Promise<boolean> => {
    const id = m.MessageId ?? '';
    const count = (receives.get(id) ?? 0) + 1;
    receives.set(id, count);
    if (!deadLetter || count <= deadLetter.maxReceiveCount) return false;
    receives.delete(id);
    const group = m.Attributes?.MessageGroupId;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetter.url,
        MessageBody: m.Body ?? '',
        ...(group ? { MessageGroupId: group, MessageDeduplicationId: `${id}-dead` } : {}),
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
    return true;
  };
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
        const messages: Message[] = [];
        for (const m of res.Messages ?? []) if (!(await redrive(m))) messages.push(m);
        if (messages.length === 0) continue;
        const event: SQSEvent = {
          Records: messages.map((m) => ({
            messageId: m.MessageId ?? '',
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            attributes: {
              ApproximateReceiveCount: String(receives.get(m.MessageId ?? '') ?? 1),
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
        for (const m of done) receives.delete(m.MessageId ?? '');
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
