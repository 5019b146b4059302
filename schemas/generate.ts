/**
 * Writes the JSON Schemas of Spool's events from their zod schemas (functions/core/events.ts),
 * which are the contract: `npm run schemas`. A test fails when the files are out of date.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import {
  EVENT_SCHEMA_VERSION,
  videoEventDetailSchema,
  webhookBodySchema,
} from '../functions/core/events.js';

export const SCHEMA_FILES = {
  [`video-event.v${EVENT_SCHEMA_VERSION}.json`]: videoEventDetailSchema,
  [`webhook.v${EVENT_SCHEMA_VERSION}.json`]: webhookBodySchema,
};

/** A schema file's text: the JSON Schema (draft 2020-12), two-space indented. */
export function schemaText(schema: z.ZodType): string {
  return `${JSON.stringify(z.toJSONSchema(schema, { io: 'output' }), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, schema] of Object.entries(SCHEMA_FILES)) {
    writeFileSync(new URL(file, import.meta.url), schemaText(schema));
    console.log(`wrote schemas/${file}`);
  }
}
