/**
 * One `video.*` event → one signed POST to one endpoint. The body is the event's envelope
 * (`id`, `type`, `data`); the signature header signs a timestamp with the exact body bytes.
 * A failed delivery throws, and the queue retries it with backoff.
 */
import { z } from 'zod';
import { TransientError } from '../core/errors.js';
import {
  SIGNATURE_HEADER,
  signWebhook,
  videoEventDetailSchema,
  type WebhookBody,
} from '../core/events.js';
import type { Logger } from '../core/ports.js';

/** What the EventBridge rule puts on the webhooks queue: which endpoint, and the event. */
export const deliverySchema = z.object({
  endpoint: z.number().int().min(0),
  detail: videoEventDetailSchema,
});

export type Delivery = z.infer<typeof deliverySchema>;

/** A receiver that has not answered in this long is retried later. */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface WebhookDeps {
  urls: readonly string[];
  secret: string;
  logger: Logger;
  fetch: typeof fetch;
  now: () => Date;
}

export async function deliver(deps: WebhookDeps, delivery: Delivery): Promise<'sent' | 'dropped'> {
  const url = deps.urls[delivery.endpoint];
  if (!url) {
    // The endpoint was removed from the settings since the event was queued.
    deps.logger.warn('webhook endpoint no longer configured', { endpoint: delivery.endpoint });
    return 'dropped';
  }
  const { detail } = delivery;
  const body = JSON.stringify({
    id: detail.eventId,
    type: detail.type,
    data: detail,
  } satisfies WebhookBody);
  const timestamp = Math.floor(deps.now().getTime() / 1000);
  let status: number;
  try {
    const res = await deps.fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Spool-Webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(deps.secret, body, timestamp),
        'spool-event-id': detail.eventId,
        'spool-event-type': detail.type,
      },
      // A redirect could lead the signed event anywhere: it counts as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    throw new TransientError(`webhook ${delivery.endpoint} unreachable: ${String(err)}`);
  }
  if (status < 200 || status > 299) {
    throw new TransientError(`webhook ${delivery.endpoint} answered ${status}`);
  }
  deps.logger.info('webhook delivered', {
    endpoint: delivery.endpoint,
    eventId: detail.eventId,
    status,
  });
  return 'sent';
}
