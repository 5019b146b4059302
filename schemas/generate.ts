/**
 * Writes the contracts that are generated from zod schemas: `npm run schemas`. A test fails
 * when a file here is out of date.
 * - The JSON Schemas of Spool's events, from functions/core/events.ts.
 * - The API reference, openapi.json, from the route table (functions/upload/routes.ts) and the
 *   schemas that validate requests (functions/upload/openapi.ts builds it).
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import {
  EVENT_SCHEMA_VERSION,
  videoEventDetailSchema,
  webhookBodySchema,
} from '../functions/core/events.js';
import { openApiDocument } from '../functions/upload/openapi.js';

export const SCHEMA_FILES = {
  [`video-event.v${EVENT_SCHEMA_VERSION}.json`]: videoEventDetailSchema,
  [`webhook.v${EVENT_SCHEMA_VERSION}.json`]: webhookBodySchema,
};

export const OPENAPI_FILE = 'openapi.json';

const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** A schema file's text: the JSON Schema (draft 2020-12), two-space indented. */
export function schemaText(schema: z.ZodType): string {
  return jsonText(z.toJSONSchema(schema, { io: 'output' }));
}

/** The text of schemas/openapi.json. */
export const openApiText = (): string => jsonText(openApiDocument());

if (import.meta.url === `file://${process.argv[1]}`) {
  const files: [string, string][] = [
    ...Object.entries(SCHEMA_FILES).map(([file, schema]): [string, string] => [
      file,
      schemaText(schema),
    ]),
    [OPENAPI_FILE, openApiText()],
  ];
  for (const [file, text] of files) {
    writeFileSync(new URL(file, import.meta.url), text);
    console.log(`wrote schemas/${file}`);
  }
}
