import { describe, expect, it } from 'vitest';
import {
  isVideoId,
  keys,
  videoIdFromIndexKey,
  videoIdFromSourceKey,
} from '../../functions/core/keys.js';

const ID = 'k3x9q2m7p4z8r1t6w5y0';

describe('isVideoId', () => {
  it('accepts twenty lower-case letters and digits', () => {
    expect(isVideoId(ID)).toBe(true);
  });

  it.each([
    ['too short', 'k3x9q2m7p4z8r1t6w5y'],
    ['too long', 'k3x9q2m7p4z8r1t6w5y00'],
    ['upper case', 'K3X9Q2M7P4Z8R1T6W5Y0'],
    ['a slash', 'k3x9q2m7p4/8r1t6w5y0'],
    ['a dot', 'k3x9q2m7p4.8r1t6w5y0'],
    ['a trailing newline', `${ID}\n`],
    ['empty', ''],
  ])('rejects an id that is %s', (_label, id) => {
    expect(isVideoId(id)).toBe(false);
  });
});

describe('keys', () => {
  it('puts the source under uploads/{id}/source', () => {
    expect(keys.source(ID)).toBe(`uploads/${ID}/source`);
  });

  it('puts state records under state/{id}/', () => {
    expect([keys.video(ID), keys.plan(ID), keys.ready(ID), keys.failed(ID)]).toEqual([
      `state/${ID}/video.json`,
      `state/${ID}/plan.json`,
      `state/${ID}/ready.json`,
      `state/${ID}/failed.json`,
    ]);
  });

  it('zero-pads chunk record numbers so they list in chunk order', () => {
    const names = [10, 2, 1].map((n) => keys.chunk(ID, n)).sort();

    expect(names).toEqual([
      `state/${ID}/chunks/00001.json`,
      `state/${ID}/chunks/00002.json`,
      `state/${ID}/chunks/00010.json`,
    ]);
  });

  it('keeps chunk records below the chunks prefix', () => {
    expect(keys.chunk(ID, 3).startsWith(keys.chunksPrefix(ID))).toBe(true);
  });

  it('puts every output key below the output prefix', () => {
    const prefix = keys.output(ID);

    expect(keys.master(ID)).toBe(`${prefix}master.m3u8`);
    expect(keys.mediaPlaylist(ID, '720p')).toBe(`${prefix}720p/index.m3u8`);
    expect(keys.segment(ID, '720p', 'seg_00003.ts')).toBe(`${prefix}720p/seg_00003.ts`);
  });

  it('sorts the index key of a newer video before that of an older one', () => {
    const older = keys.index('aaaaaaaaaaaaaaaaaaaa', Date.parse('2024-01-01T00:00:00Z'));
    const newer = keys.index('zzzzzzzzzzzzzzzzzzzz', Date.parse('2025-06-30T12:00:00Z'));

    expect([older, newer].sort()).toEqual([newer, older]);
  });

  it('sorts index keys newest first even across a change in digit count', () => {
    const older = keys.index(ID, 999_999_999_999);
    const newer = keys.index(ID, 1_000_000_000_000);

    expect([older, newer].sort()).toEqual([newer, older]);
  });

  it('gives every index key the same length', () => {
    const lengths = [0, 1, 1_700_000_000_000, 9_999_999_999_999].map(
      (ms) => keys.index(ID, ms).length,
    );

    expect(new Set(lengths).size).toBe(1);
  });

  it('keeps index keys below the index prefix', () => {
    expect(keys.index(ID, 1_700_000_000_000).startsWith(keys.indexPrefix)).toBe(true);
  });
});

describe('videoIdFromSourceKey', () => {
  it('reads the id from a source key', () => {
    expect(videoIdFromSourceKey(keys.source(ID))).toBe(ID);
  });

  it.each([
    ['a path traversal', `uploads/../${ID}/source`],
    ['a traversal inside the id', 'uploads/../../../etc/passwd/source'],
    ['another prefix', `state/${ID}/source`],
    ['a leading slash', `/uploads/${ID}/source`],
    ['a nested key', `uploads/${ID}/source/extra`],
    ['another object of the video', `uploads/${ID}/poster.jpg`],
    ['a malformed id', 'uploads/NOT-AN-ID/source'],
  ])('rejects %s', (_label, key) => {
    expect(videoIdFromSourceKey(key)).toBeUndefined();
  });
});

describe('videoIdFromIndexKey', () => {
  it('reads back the id an index key was built from', () => {
    expect(videoIdFromIndexKey(keys.index(ID, 1_740_000_000_000))).toBe(ID);
  });

  it.each([
    ['a source key', `uploads/${ID}/source`],
    ['a short timestamp', `index/123_${ID}`],
    ['a malformed id', 'index/8259999999999_short'],
  ])('rejects %s', (_label, key) => {
    expect(videoIdFromIndexKey(key)).toBeUndefined();
  });
});
