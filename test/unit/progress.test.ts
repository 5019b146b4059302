import { describe, expect, it } from 'vitest';
import { keys } from '../../functions/core/keys.js';
import { makePlan } from '../../functions/core/plan.js';
import { progressOf, readProgress } from '../../functions/core/progress.js';
import { testConfig } from '../support/config.js';
import { sourceInfo } from '../support/media-info.js';
import { MemoryStore } from '../support/memory-store.js';

const ID = 'abcdefghij0123456789';
const OTHER = 'zzzzzzzzzz0123456789';
// 60 s: the 2 s opening, then 6 s segments, one per chunk: 11 chunks, each with its audio.
const plan = makePlan(ID, sourceInfo({ width: 640, height: 360 }, { duration: 60 }), {
  segmentSeconds: 6,
  chunkSegments: 1,
  x264Preset: 'veryfast',
});

describe('progressOf', () => {
  it('counts the jobs with a record, and knows which are missing', () => {
    const p = progressOf(plan, [keys.chunk(ID, 0), keys.chunk(ID, 1), keys.chunk(ID, 3)]);
    expect(plan.chunks).toHaveLength(11);
    expect(p).toMatchObject({ chunksDone: [0, 1, 3], done: 3, total: 11 });
    expect(p.leadingChunks).toBe(2);
    expect(p.missing.map((j) => j.chunk)).toEqual([2, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('ignores keys that are not this video’s chunk records, and duplicates', () => {
    const p = progressOf(plan, [
      keys.chunk(ID, 0),
      keys.chunk(ID, 0),
      keys.chunk(OTHER, 1),
      `${keys.chunksPrefix(ID)}00001.json.tmp`,
      keys.chunk(ID, 99), // not in the plan
    ]);
    expect(p).toMatchObject({ chunksDone: [0], done: 1, leadingChunks: 1 });
  });

  it('is complete when every chunk is done', () => {
    const all = plan.chunks.map((c) => keys.chunk(ID, c.index));
    expect(progressOf(plan, all)).toMatchObject({ done: 11, missing: [], leadingChunks: 11 });
  });
});

describe('readProgress', () => {
  it('reads the records with one listing', async () => {
    const store = new MemoryStore();
    const calls: string[] = [];
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return value.apply(target, args);
        };
      },
    });
    for (const i of [0, 1, 2]) await store.putJson('up', keys.chunk(ID, i), {});
    const p = await readProgress({ store: counting, config: testConfig() }, plan);
    expect(p).toMatchObject({ chunksDone: [0, 1, 2], done: 3, leadingChunks: 3 });
    expect(calls).toEqual(['list']);
  });
});
