/**
 * The demo page's storyboard reader (local/demo/storyboard.js, browser code): sprite sheets
 * are named relative to the WebVTT, and with signed playback they need its signature.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

interface Cue {
  url: string;
  x: number;
  y: number;
}
const { loadStoryboard } = (await import(
  new URL('../../local/demo/storyboard.js', import.meta.url).href
)) as { loadStoryboard(vttUrl: string): Promise<Cue[]> };

const VTT = 'WEBVTT\n\n00:00.000 --> 00:02.000\nthumbs-0.jpg#xywh=0,0,160,90\n';
const BASE = 'https://cdn.example.com/videos/abcdefghij0123456789/storyboard';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('loadStoryboard', () => {
  it("gives the sprite sheets the storyboard URL's signature", async () => {
    vi.stubGlobal('fetch', async () => new Response(VTT));
    const query = '?Policy=eyJ9&Signature=a~b-c_&Key-Pair-Id=K1';

    const cues = await loadStoryboard(`${BASE}/storyboard.vtt${query}`);

    expect(cues.map((c) => c.url)).toEqual([`${BASE}/thumbs-0.jpg${query}`]);
  });

  it('leaves the sheets of a public video as they are', async () => {
    vi.stubGlobal('fetch', async () => new Response(VTT));

    const cues = await loadStoryboard(`${BASE}/storyboard.vtt`);

    expect(cues).toEqual([
      expect.objectContaining({ url: `${BASE}/thumbs-0.jpg`, x: 0, y: 0, w: 160, h: 90 }),
    ]);
  });
});
