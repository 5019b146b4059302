/**
 * Storyboard previews: a WebVTT file whose cues name a region of a sprite sheet, as
 * `thumbs-0.jpg#xywh=x,y,w,h` (the media-fragment syntax players such as JW Player and
 * Video.js use), relative to the VTT file's URL.
 */

/** '01:02:03.456' or '02:03.456' → seconds. */
const seconds = (stamp) =>
  stamp
    .trim()
    .split(':')
    .reduce((total, part) => total * 60 + Number.parseFloat(part), 0);

/** @returns {Promise<{start: number, end: number, url: string, x: number, y: number, w: number, h: number}[]>} */
export async function loadStoryboard(vttUrl) {
  const res = await fetch(vttUrl);
  if (!res.ok) throw new Error(`storyboard: HTTP ${res.status}`);
  const text = await res.text();
  const cues = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n');
    const at = lines.findIndex((l) => l.includes('-->'));
    const payload = lines[at + 1]?.trim();
    if (at < 0 || !payload) continue;
    const [from, to] = lines[at].split('-->');
    const [file, fragment = ''] = payload.split('#');
    const xywh = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(fragment);
    if (!xywh) continue;
    const [x, y, w, h] = xywh.slice(1).map(Number);
    cues.push({
      start: seconds(from),
      // Cue settings may follow the end time.
      end: seconds(to.trim().split(/\s+/)[0]),
      url: spriteUrl(file, vttUrl),
      x,
      y,
      w,
      h,
    });
  }
  return cues;
}

/**
 * A sprite sheet's URL, relative to the VTT's. With signed playback the VTT's URL carries the
 * signature in its query, which a relative URL drops: WebVTT has no HLS-style variables to
 * carry it on, so the sheet gets the VTT's query (the signature opens the whole video).
 */
function spriteUrl(file, vttUrl) {
  const url = new URL(file, vttUrl);
  if (!url.search) url.search = new URL(vttUrl).search;
  return url.href;
}

export const cueAt = (cues, time) =>
  cues.find((c) => time >= c.start && time < c.end) ?? cues.at(-1);
