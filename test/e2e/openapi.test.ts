/**
 * The API reference is true of the running API: through `npm start`'s stack, every answer
 * the document lists for every route is provoked, and each comes back with the documented
 * status and a JSON body that the document's own schema for it accepts. A documented answer
 * with no request here fails the test, so a route added to the table must be exercised.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiDocument,
  DocumentSchemas,
  operationsOf,
  readApiDocument,
} from '../support/openapi.js';
import { type RunningStack, startStack } from '../support/stack.js';

const MAX_UPLOAD_BYTES = 1_000_000;
const UNKNOWN_ID = 'aaaaaaaaaaaaaaaaaaaa';

interface Case {
  /** What the request is, for the test's name. */
  name: string;
  routeKey: string;
  status: number;
  /** The path with its parameters filled in, and any query. */
  path: () => string;
  body?: unknown;
  /** Send the bearer token (default: yes). */
  token?: boolean;
}

let dir: string;
let stack: RunningStack;
/** A video created before the cases run, for the routes that read one. */
let videoId = '';
/** Another, for the DELETE that succeeds. */
let doomedId = '';
const doc: ApiDocument = readApiDocument();
const schemas = new DocumentSchemas(doc);
const video = { filename: 'clip.mp4', contentType: 'video/mp4', size: 1000 };

const cases: Case[] = [
  {
    name: 'a valid body',
    routeKey: 'POST /videos',
    status: 201,
    path: () => '/videos',
    body: video,
  },
  {
    name: 'a negative size',
    routeKey: 'POST /videos',
    status: 400,
    path: () => '/videos',
    body: { ...video, size: -1 },
  },
  {
    name: 'no token',
    routeKey: 'POST /videos',
    status: 401,
    path: () => '/videos',
    body: video,
    token: false,
  },
  {
    name: 'a size over the maximum',
    routeKey: 'POST /videos',
    status: 413,
    path: () => '/videos',
    body: { ...video, size: MAX_UPLOAD_BYTES + 1 },
  },
  { name: 'a page of one', routeKey: 'GET /videos', status: 200, path: () => '/videos?limit=1' },
  { name: 'a limit of 0', routeKey: 'GET /videos', status: 400, path: () => '/videos?limit=0' },
  { name: 'no token', routeKey: 'GET /videos', status: 401, path: () => '/videos', token: false },
  {
    name: 'a video that exists',
    routeKey: 'GET /videos/{id}',
    status: 200,
    path: () => `/videos/${videoId}`,
  },
  {
    name: 'an unknown id',
    routeKey: 'GET /videos/{id}',
    status: 404,
    path: () => `/videos/${UNKNOWN_ID}`,
  },
  {
    name: 'no token',
    routeKey: 'GET /videos/{id}',
    status: 401,
    path: () => `/videos/${videoId}`,
    token: false,
  },
  {
    name: 'a video that exists',
    routeKey: 'DELETE /videos/{id}',
    status: 204,
    path: () => `/videos/${doomedId}`,
  },
  {
    name: 'something that is not an id',
    routeKey: 'DELETE /videos/{id}',
    status: 400,
    path: () => '/videos/not-an-id',
  },
  {
    name: 'no token',
    routeKey: 'DELETE /videos/{id}',
    status: 401,
    path: () => `/videos/${videoId}`,
    token: false,
  },
  {
    name: 'an unknown id',
    routeKey: 'DELETE /videos/{id}',
    status: 404,
    path: () => `/videos/${UNKNOWN_ID}`,
  },
  {
    name: 'no token (it is public)',
    routeKey: 'GET /openapi.json',
    status: 200,
    path: () => '/openapi.json',
    token: false,
  },
];

async function send(c: Case) {
  const [method] = c.routeKey.split(' ');
  const res = await fetch(`${stack.baseUrl}${c.path()}`, {
    method,
    headers: {
      ...(c.token === false ? {} : { authorization: `Bearer ${stack.token}` }),
      ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: c.body === undefined ? undefined : JSON.stringify(c.body),
  });
  const text = await res.text();
  const body = (text ? JSON.parse(text) : undefined) as Record<string, unknown>;
  return { status: res.status, type: res.headers.get('content-type'), body };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-openapi-'));
  stack = await startStack({
    dataDir: dir,
    env: { SPOOL_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) },
  });
  const create = async () => {
    const created = await send(cases[0] as Case);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return String(created.body.id);
  };
  videoId = await create();
  doomedId = await create();
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('every route answers as the API reference documents', () => {
  it('has a request here for every answer the document lists (but the 500 of any route)', () => {
    const documented = operationsOf(doc).flatMap(([routeKey, op]) =>
      Object.keys(op.responses)
        .filter((status) => status !== '500')
        .map((status) => `${routeKey} ${status}`),
    );
    expect(cases.map((c) => `${c.routeKey} ${c.status}`).sort()).toEqual(
      [...new Set(documented)].sort(),
    );
  });

  it.each(cases)('$routeKey with $name → $status', async (c) => {
    const res = await send(c);
    expect(res.status, JSON.stringify(res.body)).toBe(c.status);
    const [method = '', path = ''] = c.routeKey.split(' ');
    const answer = doc.paths[path]?.[method.toLowerCase()]?.responses[String(c.status)];
    if (!answer?.content) {
      // Documented without a body (204): none comes.
      expect(res.body).toBeUndefined();
      return;
    }
    expect(res.type).toMatch(/^application\/json\b/);
    const documented = schemas.response(c.routeKey, c.status);
    expect(documented(res.body), JSON.stringify(documented.errors)).toBe(true);
  });

  it('sends request bodies that the document accepts exactly when the answer is a success', () => {
    for (const c of cases.filter((x) => x.body !== undefined && x.token !== false)) {
      const accepted = schemas.requestBody(c.routeKey)(c.body);
      // 413 is about the configured maximum, which a schema cannot know: the body is valid.
      expect(accepted, `${c.routeKey} with ${c.name}`).toBe(c.status !== 400);
    }
  });

  it('serves the committed document at /openapi.json', async () => {
    const res = await send(cases.find((c) => c.routeKey === 'GET /openapi.json') as Case);
    expect(res.body).toEqual(doc);
  });

  it('finds the video just created in its answers', async () => {
    const get = (path: string) =>
      send({ name: '', routeKey: `GET ${path}`, status: 200, path: () => path });
    const page = await get('/videos?limit=100');
    expect((page.body.items as { id: string }[]).map((v) => v.id)).toContain(videoId);
    const one = await get(`/videos/${videoId}`);
    expect(one.body).toMatchObject({ id: videoId, status: 'awaiting_upload', progress: 0 });
  });
});
