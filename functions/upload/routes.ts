/**
 * The HTTP API's routes, in one table. The upload handler dispatches on it, the local stack
 * and the CDK construct route it, and the API reference (schemas/openapi.json) is generated
 * from it and from the zod schemas it names, which are the ones that validate the requests.
 * Each key is an API Gateway route key: `METHOD /path/{param}`.
 */
import { z } from 'zod';
import {
  InvalidInputError,
  NotFoundError,
  PayloadTooLargeError,
  type SpoolError,
  UploadError,
  type UploadErrorCode,
} from '../core/errors.js';
import { ABANDONED_UPLOAD_DAYS, MAX_PARTS_PER_REQUEST } from '../core/multipart.js';
import { videoViewSchema } from '../core/state.js';
import { createdVideoSchema, createVideoSchema, listQuerySchema, videoPageSchema } from './api.js';
import { presignedPartsSchema, presignPartsSchema, uploadedPartsSchema } from './multipart.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * An error a route answers with: its class, and the code for a class with several (each code
 * of an UploadError is documented, and exercised, on its own).
 */
export type DocumentedError =
  | { readonly type: new (message: string) => SpoolError; readonly when: string }
  | { readonly type: typeof UploadError; readonly code: UploadErrorCode; readonly when: string };

export interface RouteSpec {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** Whether the request needs `Authorization: Bearer <token>` (a 401 without it). */
  readonly auth: boolean;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** The JSON body, as the use case validates it. */
  readonly body?: z.ZodType;
  /** The answer when it works: its status and the schema of its JSON body, if it has one. */
  readonly ok: {
    readonly status: number;
    readonly description: string;
    readonly schema?: z.ZodType;
  };
  /**
   * The errors it answers with, besides the 401 that `auth` brings and the 500 of any
   * route; each error's status and code come from its class (core/errors.ts).
   */
  readonly errors: readonly DocumentedError[];
}

/** Any OpenAPI 3.1 document; the one served is built by `openApiDocument` (./openapi.ts). */
const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string().regex(/^3\.1\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .describe('An OpenAPI 3.1 document.');

const videoIdParams = z.object({
  id: z.string().describe('The id `POST /videos` returned.'),
});

export const ROUTES = {
  'POST /videos': {
    operationId: 'createVideo',
    summary: 'Create a video and get the URL to upload its source to',
    description:
      'The server chooses the object key (never the filename). The upload URL signs the ' +
      'content type and the exact length, and expires in at most 15 minutes. PUT the file ' +
      'to it with the headers given; processing starts when the upload arrives.',
    auth: true,
    body: createVideoSchema,
    ok: {
      status: 201,
      description: 'Created; upload the source next.',
      schema: createdVideoSchema,
    },
    errors: [
      { type: InvalidInputError, when: 'The body is not valid; the message names the field.' },
      { type: PayloadTooLargeError, when: '`size` is over the configured maximum.' },
    ],
  },
  'GET /videos': {
    operationId: 'listVideos',
    summary: 'List videos, newest first',
    auth: true,
    query: listQuerySchema,
    ok: { status: 200, description: 'One page of videos.', schema: videoPageSchema },
    errors: [{ type: InvalidInputError, when: '`limit` or `cursor` is not valid.' }],
  },
  'GET /videos/{id}': {
    operationId: 'getVideo',
    summary: "A video's status, progress and playback URLs",
    auth: true,
    params: videoIdParams,
    ok: { status: 200, description: 'The video.', schema: videoViewSchema },
    errors: [{ type: NotFoundError, when: 'No video has this id.' }],
  },
  'DELETE /videos/{id}': {
    operationId: 'deleteVideo',
    summary: 'Delete a video: its source, its outputs and its state',
    description:
      'Work still under way on the video stops writing. Copies cached by the CDN are ' +
      'invalidated. Deleting it again answers 204 and finishes a delete that was cut short.',
    auth: true,
    params: videoIdParams,
    ok: { status: 204, description: 'Deleted; the video now answers 404.' },
    errors: [
      { type: InvalidInputError, when: 'The id is not a video id.' },
      { type: NotFoundError, when: 'No video has this id.' },
    ],
  },
  // A multipart upload (functions/upload/multipart.ts): part URLs on demand, the parts so far,
  // and its completion.
  'POST /videos/{id}/parts': {
    operationId: 'presignParts',
    summary: 'Get presigned PUT URLs for parts of a multipart upload',
    description:
      `Ask as the upload goes, at most ${MAX_PARTS_PER_REQUEST} parts a request: each URL ` +
      'expires in at most 15 minutes. PUT exactly `size` bytes of the source, from `offset`, ' +
      'to each; a part sent again replaces the one before.',
    auth: true,
    params: videoIdParams,
    body: presignPartsSchema,
    ok: { status: 200, description: 'A presigned PUT per part.', schema: presignedPartsSchema },
    errors: [
      {
        type: InvalidInputError,
        when: "The body is not valid, or names a part beyond the upload's `partCount`.",
      },
      { type: NotFoundError, when: 'No video has this id, or it is not uploaded in parts.' },
      {
        type: UploadError,
        code: 'UPLOAD_COMPLETED',
        when: 'The upload is complete: there is nothing left to send.',
      },
    ],
  },
  'GET /videos/{id}/parts': {
    operationId: 'listUploadedParts',
    summary: 'The parts of a multipart upload that arrived, to resume with the rest',
    auth: true,
    params: videoIdParams,
    ok: { status: 200, description: 'The upload and its parts.', schema: uploadedPartsSchema },
    errors: [
      { type: NotFoundError, when: 'No video has this id, or it is not uploaded in parts.' },
      {
        type: UploadError,
        code: 'UPLOAD_EXPIRED',
        when: `The upload was left incomplete for over ${ABANDONED_UPLOAD_DAYS} days and S3 discarded its parts: create the video again.`,
      },
    ],
  },
  'POST /videos/{id}/complete': {
    operationId: 'completeUpload',
    summary: 'Join the parts of a multipart upload into the source, and start processing',
    description:
      'Each part of the plan must be there with its planned length. Completing again answers ' +
      'the same and does nothing; a completion cut short (a timeout while S3 joins the ' +
      'parts) is finished by S3, and the retry finds it done.',
    auth: true,
    params: videoIdParams,
    ok: {
      status: 200,
      description: 'The video, as `GET /videos/{id}` shows it.',
      schema: videoViewSchema,
    },
    errors: [
      { type: NotFoundError, when: 'No video has this id, or it is not uploaded in parts.' },
      {
        type: UploadError,
        code: 'UPLOAD_INCOMPLETE',
        when: 'A part is missing or has another length than planned: the message names it.',
      },
      {
        type: UploadError,
        code: 'UPLOAD_EXPIRED',
        when: `The upload was left incomplete for over ${ABANDONED_UPLOAD_DAYS} days and S3 discarded its parts.`,
      },
    ],
  },
  'GET /openapi.json': {
    operationId: 'getApiReference',
    summary: 'This document',
    description: 'Public: it describes the API and holds no data.',
    auth: false,
    ok: { status: 200, description: 'The API reference.', schema: openApiDocumentSchema },
    errors: [],
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteKey = keyof typeof ROUTES;

export const ROUTE_KEYS = Object.keys(ROUTES) as RouteKey[];

export const isRouteKey = (key: string): key is RouteKey => Object.hasOwn(ROUTES, key);

export function splitRouteKey(key: RouteKey): { method: HttpMethod; path: string } {
  const [method, path] = key.split(' ') as [HttpMethod, string];
  return { method, path };
}

/** A path template's `{name}` parameters, in order. */
export const pathParamNames = (path: string): string[] =>
  [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');

/**
 * The route a request takes, with its path parameters (URL-decoded), as API Gateway matches
 * it; undefined when no route matches.
 */
export function matchRoute(
  method: string,
  path: string,
): { routeKey: RouteKey; pathParameters?: Record<string, string> } | undefined {
  for (const routeKey of ROUTE_KEYS) {
    const route = splitRouteKey(routeKey);
    if (route.method !== method) continue;
    const pattern = route.path
      .split(/\{\w+\}/)
      .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('([^/]+)');
    const m = new RegExp(`^${pattern}$`).exec(path);
    if (!m) continue;
    const names = pathParamNames(route.path);
    if (names.length === 0) return { routeKey };
    return {
      routeKey,
      pathParameters: Object.fromEntries(
        names.map((name, i) => [name, decodeURIComponent(m[i + 1] ?? '')]),
      ),
    };
  }
  return undefined;
}
