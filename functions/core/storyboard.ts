/**
 * The storyboard: WebVTT cues pointing into the chunks' sprite sheets with media fragments
 * (`thumbs-00000.jpg#xywh=x,y,w,h`), the format players use for scrub previews.
 */
import { formatTimestamp } from 'subtitle';
import type { ImageSpec } from './images.js';
import type { SpriteSheet } from './records.js';

/** `sheets[i]` is chunk i's sheet, whose first thumbnail is at frame `startFrames[i]`. */
export function writeStoryboardVtt(
  sheets: readonly (SpriteSheet | undefined)[],
  startFrames: readonly number[],
  spec: ImageSpec['storyboard'],
  fps: number,
  duration: number,
): string {
  const interval = spec.intervalFrames / fps;
  const lines = ['WEBVTT', ''];
  sheets.forEach((sheet, chunk) => {
    if (!sheet) return;
    const first = (startFrames[chunk] ?? 0) / fps;
    // A chunk shorter than the interval (the opening) hands over at the next chunk's start.
    const next = startFrames[chunk + 1];
    const until = next === undefined ? duration : Math.min(duration, next / fps);
    for (let i = 0; i < sheet.count; i++) {
      const start = first + i * interval;
      if (start >= until) break;
      const end = Math.min(start + interval, until);
      const x = (i % spec.columns) * spec.width;
      const y = Math.floor(i / spec.columns) * spec.height;
      lines.push(
        `${formatTimestamp(start * 1000, { format: 'WebVTT' })} --> ${formatTimestamp(end * 1000, { format: 'WebVTT' })}`,
        `${sheet.file}#xywh=${x},${y},${spec.width},${spec.height}`,
        '',
      );
    }
  });
  return lines.join('\n');
}
