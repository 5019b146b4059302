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

const MiB = 1024 ** 2;
const MAX_UPLOAD_BYTES = 8 * MiB;
/** S3's smallest part, and so the lowest threshold: a source just above it comes in 2 parts. */
const PART_BYTES = 5 * MiB;
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
  /** The error code expected, where a status has several. */
  code?: string;
}

let dir: string;
let stack: RunningStack;
/** A video created before the cases run, for the routes that read one. */
let videoId = '';
/** Another, for the DELETE that succeeds. */
let doomedId = '';
/** Multipart uploads: one with no part sent, one completed, one S3 has discarded. */
let openId = '';
let completedId = '';
let expiredId = '';
const doc: ApiDocument = readApiDocument();
const schemas = new DocumentSchemas(doc);
const video = { filename: 'clip.mp4', contentType: 'video/mp4', size: 1000 };
const largeVideo = { ...video, size: PART_BYTES + 1000 };

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
    name: 'parts of the upload',
    routeKey: 'POST /videos/{id}/parts',
    status: 200,
    path: () => `/videos/${openId}/parts`,
    body: { partNumbers: [1, 2] },
  },
  {
    name: 'part number 0',
    routeKey: 'POST /videos/{id}/parts',
    status: 400,
    path: () => `/videos/${openId}/parts`,
    body: { partNumbers: [0] },
  },
  {
    name: 'no token',
    routeKey: 'POST /videos/{id}/parts',
    status: 401,
    path: () => `/videos/${openId}/parts`,
    body: { partNumbers: [1] },
    token: false,
  },
  {
    name: 'a video uploaded in one PUT',
    routeKey: 'POST /videos/{id}/parts',
    status: 404,
    path: () => `/videos/${videoId}/parts`,
    body: { partNumbers: [1] },
  },
  {
    name: 'a completed upload',
    routeKey: 'POST /videos/{id}/parts',
    status: 409,
    code: 'UPLOAD_COMPLETED',
    path: () => `/videos/${completedId}/parts`,
    body: { partNumbers: [1] },
  },
  {
    name: 'an upload with no part yet',
    routeKey: 'GET /videos/{id}/parts',
    status: 200,
    path: () => `/videos/${openId}/parts`,
  },
  {
    name: 'no token',
    routeKey: 'GET /videos/{id}/parts',
    status: 401,
    path: () => `/videos/${openId}/parts`,
    token: false,
  },
  {
    name: 'an unknown id',
    routeKey: 'GET /videos/{id}/parts',
    status: 404,
    path: () => `/videos/${UNKNOWN_ID}/parts`,
  },
  {
    name: 'an upload S3 discarded',
    routeKey: 'GET /videos/{id}/parts',
    status: 409,
    code: 'UPLOAD_EXPIRED',
    path: () => `/videos/${expiredId}/parts`,
  },
  {
    name: 'an upload completed before',
    routeKey: 'POST /videos/{id}/complete',
    status: 200,
    path: () => `/videos/${completedId}/complete`,
  },
  {
    name: 'no token',
    routeKey: 'POST /videos/{id}/complete',
    status: 401,
    path: () => `/videos/${openId}/complete`,
    token: false,
  },
  {
    name: 'an unknown id',
    routeKey: 'POST /videos/{id}/complete',
    status: 404,
    path: () => `/videos/${UNKNOWN_ID}/complete`,
  },
  {
    name: 'parts missing',
    routeKey: 'POST /videos/{id}/complete',
    status: 409,
    code: 'UPLOAD_INCOMPLETE',
    path: () => `/videos/${openId}/complete`,
  },
  {
    name: 'an upload S3 discarded',
    routeKey: 'POST /videos/{id}/complete',
    status: 409,
    code: 'UPLOAD_EXPIRED',
    path: () => `/videos/${expiredId}/complete`,
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
    env: {
      SPOOL_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      SPOOL_MULTIPART_THRESHOLD_BYTES: String(PART_BYTES),
      SPOOL_MULTIPART_PART_BYTES: String(PART_BYTES),
    },
  });
  const create = async (body = video) => {
    const created = await send({ ...(cases[0] as Case), body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return String(created.body.id);
  };
  videoId = await create();
  doomedId = await create();
  openId = await create(largeVideo);
  completedId = await create(largeVideo);
  expiredId = await create(largeVideo);
  await uploadAllParts(completedId);
  const completed = await send({
    name: '',
    routeKey: 'POST /videos/{id}/complete',
    status: 200,
    path: () => `/videos/${completedId}/complete`,
  });
  expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  await discardUpload(expiredId);
}, 60_000);

/** Sends every part of a multipart upload (bytes no one will play: the answers are the test). */
async function uploadAllParts(id: string) {
  const presigned = await send({
    name: '',
    routeKey: 'POST /videos/{id}/parts',
    status: 200,
    path: () => `/videos/${id}/parts`,
    body: { partNumbers: [1, 2] },
  });
  expect(presigned.status, JSON.stringify(presigned.body)).toBe(200);
  for (const part of presigned.body.parts as { url: string; size: number }[]) {
    const put = await fetch(part.url, { method: 'PUT', body: Buffer.alloc(part.size, 1) });
    expect(put.status).toBe(200);
  }
}

/**
 * What the uploads bucket's lifecycle rule does to an upload left incomplete for days: S3
 * forgets the upload, and its record is older than the rule's age. Here the record is
 * rewritten to say so, naming an upload s3rver never had.
 */
async function discardUpload(id: string) {
  const { GetObjectCommand, PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const location = { Bucket: 'spool-uploads', Key: `state/${id}/multipart.json` };
  const got = await s3.send(new GetObjectCommand(location));
  const record = JSON.parse(await (got.Body?.transformToString() ?? '{}')) as object;
  const daysAgo = new Date(Date.now() - 4 * 86_400_000).toISOString();
  await s3.send(
    new PutObjectCommand({
      ...location,
      ContentType: 'application/json',
      Body: JSON.stringify({ ...record, uploadId: '0'.repeat(32), createdAt: daysAgo }),
    }),
  );
}

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
    // A status may have several requests (one per documented code), but none is left out.
    expect([...new Set(cases.map((c) => `${c.routeKey} ${c.status}`))].sort()).toEqual(
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
    if (c.code) expect(res.body.error).toMatchObject({ code: c.code });
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
