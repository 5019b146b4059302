/**
 * The API reference: an OpenAPI 3.1 document built from the route table (./routes.ts) and the
 * zod schemas it names, the ones that validate requests and type responses, so that it cannot
 * drift from them. `npm run schemas` writes it to schemas/openapi.json (a test fails when that
 * file is stale); the API serves it at `GET /openapi.json`.
 */
import { z } from 'zod';
import { errorBodySchema, INTERNAL_ERROR, UnauthorizedError } from '../core/errors.js';
import {
  type DocumentedError,
  ROUTE_KEYS,
  ROUTES,
  type RouteKey,
  type RouteSpec,
  splitRouteKey,
} from './routes.js';

/** The contract's version, not the package's: bumped on a breaking change of the API. */
export const API_VERSION = '1';

const BEARER = 'bearerToken';

type JsonSchema = { [key: string]: unknown };

/** The document's `components.schemas`, filled as operations name schemas (`.meta({ id })`). */
class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  /**
   * A zod schema as an OpenAPI 3.1 Schema Object (JSON Schema 2020-12). Requests are described
   * as clients send them (`io: 'input'`: defaults make a field optional), responses as the
   * server writes them. Refinements that JSON Schema cannot express (such as "languages must
   * differ") are left out, so each carries a description saying so.
   */
  of(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const {
      $schema: _,
      $defs,
      ...root
    } = z.toJSONSchema(schema, { io }) as JsonSchema & {
      $defs?: Record<string, JsonSchema>;
    };
    for (const [id, def] of Object.entries($defs ?? {})) this.name(id, def);
    return toComponentRefs(root) as JsonSchema;
  }

  /** Keeps a schema in components under `id` and returns a reference to it. */
  name(id: string, schema: JsonSchema): JsonSchema {
    const named = toComponentRefs(schema) as JsonSchema;
    const existing = this.schemas[id];
    if (existing && JSON.stringify(existing) !== JSON.stringify(named)) {
      throw new Error(`two different schemas are named ${id}: give one of them another id`);
    }
    this.schemas[id] = named;
    return { $ref: `#/components/schemas/${id}` };
  }
}

/** zod refers to named schemas as `#/$defs/Name`; the document keeps them in components. */
function toComponentRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toComponentRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string'
        ? value.replace(/^#\/\$defs\//, '#/components/schemas/')
        : toComponentRefs(value),
    ]),
  );
}

function parameters(
  components: SchemaComponents,
  where: 'path' | 'query',
  schema: z.ZodObject | undefined,
): JsonSchema[] {
  if (!schema) return [];
  const json = components.of(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...property }]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    ...(description ? { description } : {}),
    schema: property,
  }));
}

interface ErrorAnswer {
  status: number;
  code: string;
  when: string;
}

const errorAnswer = (documented: DocumentedError): ErrorAnswer => {
  const error =
    'code' in documented ? new documented.type(documented.code, '') : new documented.type('');
  return { status: error.httpStatus, code: error.code, when: documented.when };
};

const errorSchemaName = (code: string): string =>
  `${code.toLowerCase().replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase())}Error`;

/** Every error a route answers with, by status: the body `{"error": {code, message}}`. */
function errorResponses(components: SchemaComponents, spec: RouteSpec): Record<string, unknown> {
  const answers: ErrorAnswer[] = [
    ...spec.errors.map(errorAnswer),
    ...(spec.auth
      ? [errorAnswer({ type: UnauthorizedError, when: 'The bearer token is missing or wrong.' })]
      : []),
    {
      status: 500,
      code: INTERNAL_ERROR.code,
      when: 'Something failed on the server; the message says no more.',
    },
  ];
  const statuses = [...new Set(answers.map((a) => a.status))].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => {
      const these = answers.filter((a) => a.status === status);
      const codes = [...new Set(these.map((a) => a.code))] as [string, ...string[]];
      const body = components.of(
        z.object({ error: errorBodySchema.extend({ code: z.enum(codes) }) }),
        'output',
      );
      // One code: a named schema (INVALID_INPUT → InvalidInputError) that routes share.
      const schema = codes.length === 1 ? components.name(errorSchemaName(codes[0]), body) : body;
      return [
        String(status),
        {
          description: these.map((a) => a.when).join(' '),
          content: { 'application/json': { schema } },
        },
      ];
    }),
  );
}

function operation(components: SchemaComponents, key: RouteKey): JsonSchema {
  const spec: RouteSpec = ROUTES[key];
  const params = [
    ...parameters(components, 'path', spec.params),
    ...parameters(components, 'query', spec.query),
  ];
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    // The document's default is the bearer token; a public route says it needs nothing.
    ...(spec.auth ? {} : { security: [] }),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: components.of(spec.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [String(spec.ok.status)]: {
        description: spec.ok.description,
        ...(spec.ok.schema
          ? {
              content: {
                'application/json': { schema: components.of(spec.ok.schema, 'output') },
              },
            }
          : {}),
      },
      ...errorResponses(components, spec),
    },
  };
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: { securitySchemes: Record<string, JsonSchema>; schemas: Record<string, JsonSchema> };
  [key: string]: unknown;
}

/**
 * The whole document. It names no server: a client resolves the paths against the URL it
 * fetched `/openapi.json` from, which is the API's root both locally and on AWS.
 */
export function openApiDocument(): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: OpenApiDocument['paths'] = {};
  for (const key of ROUTE_KEYS) {
    const { method, path } = splitRouteKey(key);
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation(components, key) };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Spool API',
      version: API_VERSION,
      description:
        'Upload videos and follow them to adaptive HLS playback. The same API runs locally ' +
        '(`npm start`) and behind API Gateway. Every error is JSON `{"error": {"code", ' +
        '"message"}}`; the message is safe to show and never holds internals.',
    },
    security: [{ [BEARER]: [] }],
    paths,
    components: {
      securitySchemes: {
        [BEARER]: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Locally, SPOOL_API_TOKEN (npm start prints it). On AWS, the value of the ' +
            "stack's ApiToken secret in Secrets Manager.",
        },
      },
      schemas: Object.fromEntries(
        Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b)),
      ),
    },
  };
}
