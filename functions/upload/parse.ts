/** Request bodies and queries are parsed once, at the edge, with a schema. */
import type { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';

/** The parsed value, or an InvalidInputError naming the first bad field (400). */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new InvalidInputError(`${field}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
