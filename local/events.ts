/**
 * EventBridge stand-in: PutEvents over the SDK's JSON protocol, so the notify handler runs
 * its real EventBridge client. Each event is handed to `onEvent`, which plays the rules.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outlastClients } from './keep-alive.js';

export interface BusEvent {
  id: string;
  source: string;
  detailType: string;
  detail: unknown;
  time: string;
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number | string;
}

export async function startEventBus(opts: {
  onEvent: (event: BusEvent) => Promise<void>;
}): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        if (!target.endsWith('.PutEvents')) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          Entries?: PutEventsEntry[];
        };
        const entries = body.Entries ?? [];
        const results: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] = [];
        for (const entry of entries) {
          const id = randomUUID();
          try {
            await opts.onEvent({
              id,
              source: entry.Source ?? '',
              detailType: entry.DetailType ?? '',
              detail: JSON.parse(entry.Detail ?? '{}'),
              time: new Date(
                typeof entry.Time === 'number' ? entry.Time * 1000 : (entry.Time ?? Date.now()),
              ).toISOString(),
            });
            results.push({ EventId: id });
          } catch (err) {
            results.push({ ErrorCode: 'InternalFailure', ErrorMessage: String(err) });
          }
        }
        const failed = results.filter((r) => r.ErrorCode).length;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ FailedEntryCount: failed, Entries: results }));
      })();
    });
  });
  outlastClients(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
