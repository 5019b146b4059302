/**
 * `spool watch` / `spool upload` follow a video until it ends: a dropped connection or a 5xx
 * on one poll is polled again, an answer (a 4xx) is not.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, SpoolClient } from '../../cli/client.js';
import { follow } from '../../cli/main.js';

/** A fake API that answers each GET with the next of `answers` (an Error is a dropped connection). */
function clientAnswering(answers: (Error | { status: number; body: unknown })[]) {
  let polls = 0;
  const fetchImpl = (async () => {
    const a = answers[Math.min(polls++, answers.length - 1)] as (typeof answers)[number];
    if (a instanceof Error) throw new TypeError('fetch failed', { cause: a });
    return new Response(JSON.stringify(a.body), { status: a.status });
  }) as unknown as typeof fetch;
  return {
    client: new SpoolClient({ api: 'http://api.invalid', token: 't' }, fetchImpl),
    polls: () => polls,
  };
}

const view = (status: string) => ({ id: 'v', status, progress: 0.5, playable: false });

describe('follow', () => {
  it('polls again after a dropped connection and a 503, and returns the video once ready', async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'ECONNRESET' });
    const { client, polls } = clientAnswering([
      { status: 200, body: view('processing') },
      reset,
      { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'busy' } } },
      { status: 200, body: view('ready') },
    ]);
    const v = await follow(client, 'v', { timeoutSeconds: 10, quiet: true, pollMs: 1 });
    expect(v).toMatchObject({ status: 'ready' });
    expect(polls()).toBe(4);
  });

  it('stops at a 404: the answer, not a blip', async () => {
    const { client, polls } = clientAnswering([
      { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such video' } } },
      { status: 200, body: view('ready') },
    ]);
    const err = await follow(client, 'v', { timeoutSeconds: 10, quiet: true, pollMs: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect(polls()).toBe(1);
  });

  it('gives up on a connection that never comes back once the deadline passes', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { client } = clientAnswering([refused]);
    const err = await follow(client, 'v', { timeoutSeconds: 0.05, quiet: true, pollMs: 5 }).catch(
      (e: unknown) => e,
    );
    expect((err as ApiError).code).toBe('UNREACHABLE');
    expect((err as ApiError).message).toContain('ECONNREFUSED');
  });
});
