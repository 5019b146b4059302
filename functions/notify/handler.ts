/** S3 (a new playable/ready/failed record) → EventBridge `video.*` event. */
import type { S3Event } from 'aws-lambda';
import { createEventBridgeClient } from '../adapters/clients.js';
import { EventBridgePublisher } from '../adapters/event-bus.js';
import { observed, traced } from '../adapters/observability.js';
import { runtime } from '../adapters/runtime.js';
import { decodeS3Key } from '../core/keys.js';
import { notifyRecord } from './notify.js';

const base = runtime();
const deps = {
  ...base,
  events: new EventBridgePublisher(traced(createEventBridgeClient()), base.config.EVENT_BUS_NAME),
};

// S3 invokes asynchronously: a throw is retried by Lambda, then dead-lettered.
export const handler = observed<S3Event, void>().handler(async (event) => {
  for (const record of event.Records) {
    await notifyRecord(deps, decodeS3Key(record.s3.object.key));
  }
});
