import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { createVideoSchema } from '../../functions/upload/api.js';
import { ROUTES } from '../../functions/upload/routes.js';
import { OPENAPI_FILE, openApiText } from '../../schemas/generate.js';
import { DocumentSchemas, operationsOf, readApiDocument } from '../support/openapi.js';

const doc = readApiDocument();

describe('the API reference (schemas/openapi.json)', () => {
  it('is in the repository, up to date (npm run schemas)', () => {
    const committed = readFileSync(
      new URL(`../../schemas/${OPENAPI_FILE}`, import.meta.url),
      'utf8',
    );
    expect(JSON.parse(committed), `schemas/${OPENAPI_FILE} is stale: run npm run schemas`).toEqual(
      JSON.parse(openApiText()),
    );
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(
      fileURLToPath(new URL(`../../schemas/${OPENAPI_FILE}`, import.meta.url)),
    );
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('holds only schemas that compile strictly as JSON Schema 2020-12', () => {
    expect(new DocumentSchemas(doc).compileAll()).toBeGreaterThan(10);
  });

  it('describes exactly the routes of the route table', () => {
    expect(
      operationsOf(doc)
        .map(([routeKey]) => routeKey)
        .sort(),
    ).toEqual(Object.keys(ROUTES).sort());
  });

  it('asks for the bearer token on every route but its own', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearerToken: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(doc.security).toEqual([{ bearerToken: [] }]);
    for (const [routeKey, op] of operationsOf(doc)) {
      const isPublic = routeKey === 'GET /openapi.json';
      expect(op.security, routeKey).toEqual(isPublic ? [] : undefined);
      expect(Object.keys(op.responses).includes('401'), routeKey).toBe(!isPublic);
    }
  });

  // The document's schema is generated from the validator's; these bodies show the two agree
  // on what they accept, including on the rules that a JSON Schema states differently (a
  // regular expression's flags, the control characters of a Unicode property).
  const body = { filename: 'clip.mp4', contentType: 'video/mp4', size: 1000 };
  const caption = { language: 'pt-BR', label: 'Português', format: 'srt', size: 100 };
  it.each([
    ['a minimal body', { filename: 'clip', size: 1 }],
    ['a full body', { ...body, captions: [caption] }],
    ['an upper-case media type', { ...body, contentType: 'Video/MP4' }],
    ['an unknown field, which is ignored', { ...body, title: 'x' }],
    ['a filename with a line break', { ...body, filename: 'a\nb.mp4' }],
    [
      'a label with a direction override',
      { ...body, captions: [{ ...caption, label: 'a\u202Eb' }] },
    ],
    ['a media type with parameters', { ...body, contentType: 'video/mp4; codecs=avc1' }],
    ['a size of zero', { ...body, size: 0 }],
    ['a fractional size', { ...body, size: 1.5 }],
    ['a size given as a string', { ...body, size: '1000' }],
    ['no filename', { size: 1000 }],
    ['an unknown caption format', { ...body, captions: [{ ...caption, format: 'ass' }] }],
    [
      'nine captions',
      {
        ...body,
        captions: Array.from({ length: 9 }, (_, i) => ({
          ...caption,
          language: `l${'abcdefghi'[i]}`,
        })),
      },
    ],
  ])('judges %s as the validator of POST /videos does', (_name, candidate) => {
    const documented = new DocumentSchemas(doc).requestBody('POST /videos');
    expect(documented(candidate), JSON.stringify(documented.errors)).toBe(
      createVideoSchema.safeParse(candidate).success,
    );
  });
});
