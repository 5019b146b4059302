/**
 * Issue #8, real-world uploads (DESIGN.md §7): every generated fixture of
 * test/support/real-world.ts and every clip in ../shared/media goes through `npm start`'s
 * stack and is checked as a viewer would see it (test/support/viewer.ts). Clips run a few at
 * a time in the background from beforeAll; each test awaits its own clip, so a test's time
 * is its clip's, not the queue's. Nothing here asserts on timing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_MEDIA, sharedMedia } from '../support/media.js';
import {
  type Fixture,
  makeRealWorldFixtures,
  type Outcome,
  REAL_WORLD_FIXTURES,
} from '../support/real-world.js';
import { ApiClient, type RunningStack, startStack, type VideoView } from '../support/stack.js';
import {
  COMBED_SOURCE_SHARE,
  checkAsViewer,
  type SourceFacts,
  sourceFacts,
  summaryLine,
  type ViewerReport,
} from '../support/viewer.js';

/** Clips in flight at once: enough to overlap uploads and checks, few enough for 2 cores. */
const CONCURRENCY = 3;
/** A clip's whole run: upload, processing on a busy machine, and the viewer checks. */
const CLIP_TIMEOUT_MS = 180_000;
const PROCESSING_TIMEOUT_MS = 150_000;

const SHARED: string[] = existsSync(SHARED_MEDIA)
  ? readdirSync(SHARED_MEDIA)
      .filter((f) => f !== 'README.md')
      .sort()
  : [];
const SHARED_ABSENT = `${SHARED_MEDIA} is not beside this checkout (see its README)`;

/** Types a client would send; the API must not refuse any of them (DESIGN.md §7). */
const SHARED_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.ts': 'video/mp2t',
  '.mov': 'video/quicktime',
  '.avi': 'video/x-msvideo',
  '.asf': 'video/x-ms-asf',
  '.flv': 'video/x-flv',
};

interface Clip {
  name: string;
  file: string;
  contentType: string;
  outcome: Outcome;
  marks: boolean;
  fixture?: Fixture;
}

interface ClipResult {
  expected: Outcome;
  /** `ready`, `failed:CODE`, `rejected: …` (the API refused it) or `stuck: …`. */
  outcome: string;
  /** A generated fixture that is not what it claims (checked before the pipeline runs). */
  fixtureProblems: string[];
  report?: ViewerReport;
  /** The stack's error lines about this video, when it did not end `ready`. */
  log?: string;
}

let dir: string;
let stack: RunningStack;
let api: ApiClient;
const results = new Map<string, Promise<ClipResult>>();

/** Runs tasks `limit` at a time, in the order they are added. */
function limiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** What the source must be, by construction: a fixture that drifts fails here, not later. */
function fixtureProblems(f: Fixture, s: SourceFacts): string[] {
  const e = f.expect;
  const problems: string[] = [];
  const off = (what: string, got: number | undefined, want: number, tol: number) => {
    if (got === undefined || !(Math.abs(got - want) <= tol)) {
      problems.push(`${what}: measured ${got?.toFixed(4)}, made as ${want.toFixed(4)}`);
    }
  };
  off('display width', s.width, e.width, 0.5);
  off('display height', s.height, e.height, 0.5);
  if (e.duration !== undefined) off('duration', s.duration, e.duration, 0.002);
  if (s.hdr !== e.hdr) problems.push(`HDR: measured ${s.hdr}, made as ${e.hdr}`);
  // idet must see the combing that the deinterlacing check relies on.
  if (e.interlaced !== s.combed >= COMBED_SOURCE_SHARE) {
    problems.push(`interlaced: idet calls ${(s.combed * 100).toFixed(0)}% of frames combed`);
  }
  if (e.audio !== (s.audio !== undefined))
    problems.push(`audio: measured ${s.audio !== undefined}`);
  // AAC priming shows in some containers' first timestamp (21 ms at 48 kHz).
  if (e.avOffset !== undefined) off('A/V offset', s.avOffset, e.avOffset, 0.025);
  if (e.lipSync !== undefined) off('flash-to-beep', s.lipSync, e.lipSync, 0.01);
  return problems;
}

async function runClip(c: Clip): Promise<ClipResult> {
  // A clip meant to fail (no video) has nothing to measure.
  const facts = c.outcome.startsWith('ready')
    ? await sourceFacts(c.file, { marks: c.marks })
    : undefined;
  const base = {
    expected: c.outcome,
    fixtureProblems: c.fixture && facts ? fixtureProblems(c.fixture, facts) : [],
  };
  let id: string;
  try {
    id = await api.upload(c.file, c.contentType);
  } catch (err) {
    return { ...base, outcome: `rejected: ${(err as Error).message}` };
  }
  const log = () =>
    stack
      .output()
      .split('\n')
      .filter((l) => l.includes(id) && /"level":"(error|warn)"/.test(l))
      .slice(-3)
      .join('\n');
  let view: VideoView;
  try {
    view = await api.waitFor(id, undefined, PROCESSING_TIMEOUT_MS);
  } catch (err) {
    return { ...base, outcome: `stuck: ${(err as Error).message}`, log: log() };
  }
  if (view.status !== 'ready')
    return { ...base, outcome: `failed:${view.error?.code}`, log: log() };
  const report = await checkAsViewer(view.playbackUrl ?? '', c.file, { marks: c.marks, facts });
  return { ...base, outcome: 'ready', report };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-real-world-'));
  // One segment per chunk, so even these short clips are cut into several chunk jobs.
  stack = await startStack({ dataDir: join(dir, 'data'), env: { SPOOL_CHUNK_SEGMENTS: '1' } });
  api = new ApiClient(stack.baseUrl, stack.token);
  await mkdir(join(dir, 'fixtures'));
  const fixtures = await makeRealWorldFixtures(join(dir, 'fixtures'));
  const clips: Clip[] = [
    ...fixtures.map((f) => ({
      name: f.name,
      file: f.file,
      contentType: f.contentType,
      outcome: f.expect.outcome,
      marks: f.expect.lipSync !== undefined,
      fixture: f,
    })),
    ...SHARED.map((name) => ({
      name,
      file: sharedMedia(name) ?? '',
      contentType: SHARED_TYPES[extname(name)] ?? 'application/octet-stream',
      outcome: (name === 'audio-15s.wav' ? 'failed:NO_VIDEO_STREAM' : 'ready') as Outcome,
      marks: false,
    })),
  ];
  const limit = limiter(CONCURRENCY);
  for (const c of clips) {
    const result = limit(() => runClip(c));
    // Awaited by the clip's own test; this keeps an early failure from going unhandled.
    result.catch(() => undefined);
    results.set(c.name, result);
  }
}, 300_000);

afterAll(async () => {
  // The closing summary: one line per clip with what was measured.
  const lines: string[] = [];
  for (const [name, result] of results) {
    const r = await result.catch((err: Error) => ({ outcome: `error: ${err.message}` }) as const);
    lines.push(summaryLine(name, r.outcome, 'report' in r ? r.report : undefined));
  }
  console.log(`real-world summary (source/output):\n${lines.join('\n')}`);
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
}, 600_000);

/** The clip ended as expected, and a viewer sees its source as it was meant to be seen. */
async function expectRightOutcome(name: string): Promise<void> {
  const result = results.get(name);
  if (!result) throw new Error(`${name} was not started`);
  const r = await result;
  expect.soft(r.fixtureProblems, 'the fixture is what it claims').toEqual([]);
  const ok =
    r.expected === 'ready-or-decode-failed'
      ? ['ready', 'failed:DECODE_FAILED'].includes(r.outcome)
      : r.outcome === r.expected;
  const log = r.log ? `\n${r.log}` : '';
  expect.soft(ok, `outcome ${r.outcome}, expected ${r.expected}${log}`).toBe(true);
  expect.soft(r.report?.violations ?? [], 'what a viewer sees').toEqual([]);
}

describe('a real-world upload (generated)', () => {
  it.each(REAL_WORLD_FIXTURES)(
    '%s comes out as the viewer should see it',
    async (name) => {
      await expectRightOutcome(name);
    },
    CLIP_TIMEOUT_MS,
  );
});

describe('a real clip from ../shared/media', () => {
  if (SHARED.length === 0) console.warn(`skipping the shared clips: ${SHARED_ABSENT}`);
  it.skipIf(SHARED.length === 0).each(SHARED.length > 0 ? SHARED : [SHARED_ABSENT])(
    '%s comes out as the viewer should see it',
    async (name) => {
      await expectRightOutcome(name);
    },
    CLIP_TIMEOUT_MS,
  );
});
