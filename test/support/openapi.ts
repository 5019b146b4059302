/**
 * The committed API reference (schemas/openapi.json), and its schemas as JSON Schema 2020-12
 * validators, so tests check requests and responses against the document itself rather than
 * against the zod schemas it was generated from.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export interface Operation {
  operationId: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

export interface ApiDocument {
  openapi: string;
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

export const readApiDocument = (): ApiDocument =>
  JSON.parse(readFileSync(new URL('../../schemas/openapi.json', import.meta.url), 'utf8'));

/** Every operation of the document as [`METHOD /path`, operation]. */
export const operationsOf = (doc: ApiDocument): [string, Operation][] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]): [string, Operation] => [
      `${method.toUpperCase()} ${path}`,
      op,
    ]),
  );

/** The fields of an OpenAPI 3.1 Object (the document's root). */
const OPENAPI_FIELDS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
];

const pointerPart = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Validators for the schemas in a document. Strict: a keyword or format that JSON Schema 2020-12
 * does not define is an error, so the document cannot say what no validator would check.
 */
export class DocumentSchemas {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly id = 'urn:spool:openapi';

  constructor(private readonly doc: ApiDocument) {
    addFormatsModule.default(this.ajv);
    // The document itself is added as the root, so `#/components/...` references resolve
    // against it as they do for an OpenAPI tool. Its own fields are not JSON Schema
    // keywords: declared as such, strict mode accepts them at the root and checks
    // everything below them that is compiled as a schema.
    this.ajv.addVocabulary(OPENAPI_FIELDS);
    this.ajv.addSchema(doc as object, this.id);
  }

  private at(pointer: string[]): ValidateFunction {
    return this.ajv.compile({ $ref: `${this.id}#/${pointer.map(pointerPart).join('/')}` });
  }

  /** The JSON body of the `status` answer of `METHOD /path`. */
  response(routeKey: string, status: number | string): ValidateFunction {
    const [method = '', path = ''] = routeKey.split(' ');
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op?.responses[String(status)]?.content?.['application/json']) {
      throw new Error(`${routeKey} documents no JSON answer with status ${status}`);
    }
    return this.at([
      'paths',
      path,
      method.toLowerCase(),
      'responses',
      String(status),
      'content',
      'application/json',
      'schema',
    ]);
  }

  /** The JSON request body of `METHOD /path`. */
  requestBody(routeKey: string): ValidateFunction {
    const [method = '', path = ''] = routeKey.split(' ');
    if (!this.doc.paths[path]?.[method.toLowerCase()]?.requestBody) {
      throw new Error(`${routeKey} documents no request body`);
    }
    return this.at([
      'paths',
      path,
      method.toLowerCase(),
      'requestBody',
      'content',
      'application/json',
      'schema',
    ]);
  }

  /** Every schema in the document, each compiled: throws at the first invalid one. */
  compileAll(): number {
    let count = 0;
    for (const id of Object.keys(this.doc.components.schemas)) {
      this.at(['components', 'schemas', id]);
      count++;
    }
    for (const [routeKey, op] of operationsOf(this.doc)) {
      const [method = '', path = ''] = routeKey.split(' ');
      for (const i of (op.parameters ?? []).keys()) {
        this.at(['paths', path, method.toLowerCase(), 'parameters', String(i), 'schema']);
        count++;
      }
      if (op.requestBody) {
        this.requestBody(routeKey);
        count++;
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (!response.content) continue;
        this.response(routeKey, status);
        count++;
      }
    }
    return count;
  }
}
