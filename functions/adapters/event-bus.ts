/** EventPublisher over EventBridge (or the local stack's stand-in for it). */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { TransientError } from '../core/errors.js';
import { EVENT_SOURCE, type VideoEventDetail } from '../core/events.js';
import type { EventPublisher } from '../core/ports.js';

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly VideoEventDetail[]): Promise<void> {
    if (events.length === 0) return;
    const res = await this.client.send(
      new PutEventsCommand({
        Entries: events.map((e) => ({
          EventBusName: this.busName,
          Source: EVENT_SOURCE,
          DetailType: e.type,
          Detail: JSON.stringify(e),
          Time: new Date(e.occurredAt),
        })),
      }),
    );
    // PutEvents answers 200 with per-entry failures (throttling): the caller retries.
    if (res.FailedEntryCount) {
      const codes = (res.Entries ?? []).map((e) => e.ErrorCode).filter(Boolean);
      throw new TransientError(`EventBridge refused ${res.FailedEntryCount} events: ${codes}`);
    }
  }
}
