/** What a player gets from the CloudFront stand-in, checked against the source with ffmpeg. */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type Manifest, Parser } from 'm3u8-parser';
import { expect } from 'vitest';
import { keys } from '../../functions/core/keys.js';
import type { Plan } from '../../functions/core/plan.js';
import { validateHls } from './hls-validator.js';
import {
  codeMismatches,
  decodeErrors,
  frameCodes,
  frameTimes,
  keyframeTimes,
  probe,
  rate,
} from './media.js';
import type { VideoView } from './stack.js';

export async function fetchManifest(
  url: string,
): Promise<{ manifest: Manifest; contentType: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const parser = new Parser();
  parser.push(await res.text());
  parser.end();
  return {
    manifest: parser.manifest as Manifest,
    contentType: res.headers.get('content-type') ?? '',
  };
}

const localS3 = (s3Endpoint: string) =>
  new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

export async function countRecords(
  s3Endpoint: string,
  bucket: string,
  prefix: string,
): Promise<number> {
  const res = await localS3(s3Endpoint).send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }),
  );
  return res.KeyCount ?? 0;
}

/** The plan ingest wrote for a video (in the local stack's uploads bucket). */
export async function storedPlan(s3Endpoint: string, videoId: string): Promise<Plan> {
  const res = await localS3(s3Endpoint).send(
    new GetObjectCommand({ Bucket: 'spool-uploads', Key: keys.plan(videoId) }),
  );
  return JSON.parse((await res.Body?.transformToString()) ?? '{}') as Plan;
}

/** Everything a player relies on, checked against the source with ffmpeg. */
export async function expectPlayable(
  view: VideoView,
  source: string,
  opts: { framesCoded: boolean },
): Promise<{ variants: string[] }> {
  expect(view.error).toBeUndefined();
  expect(view.status).toBe('ready');
  expect(view.playbackUrl).toMatch(/\/master\.m3u8$/);
  // Apple's HLS authoring rules for H.264/AAC VOD, on what a player is served.
  expect(await validateHls(view.playbackUrl ?? '')).toEqual([]);
  const master = await fetchManifest(view.playbackUrl ?? '');
  expect(master.contentType).toBe('application/vnd.apple.mpegurl');

  const src = await probe(source, true);
  const sv = src.streams.find((s) => s.codec_type === 'video');
  const sa = src.streams.find((s) => s.codec_type === 'audio');
  const srcW = sv?.width ?? 0;
  const srcH = sv?.height ?? 0;
  const srcFrames = Number(sv?.nb_read_frames);
  const srcDuration = srcFrames / rate(sv?.avg_frame_rate);

  const playlists = master.manifest.playlists ?? [];
  expect(playlists.length).toBeGreaterThan(0);
  const variants = playlists.map((p) => new URL(p.uri, view.playbackUrl).toString());
  const keyframes: number[][] = [];
  let sourceCodes: number[] | undefined;
  for (const [i, p] of playlists.entries()) {
    const res = p.attributes.RESOLUTION;
    if (!res) throw new Error('variant without RESOLUTION');
    // Never upscaled, aspect ratio kept (within the rounding to even dimensions).
    expect(res.width).toBeLessThanOrEqual(srcW);
    expect(res.height).toBeLessThanOrEqual(srcH);
    expect(Math.abs(res.width / res.height - srcW / srcH)).toBeLessThan((srcW / srcH) * 0.02);

    const url = variants[i] ?? '';
    expect(await decodeErrors(url)).toBe('');
    const out = await probe(url);
    const ov = out.streams.find((s) => s.codec_type === 'video');
    expect(ov?.codec_name).toBe('h264');
    expect(ov?.width).toBe(res.width);
    const fps = rate(ov?.r_frame_rate);

    const times = await frameTimes(url);
    // Within one frame of the source's duration.
    expect(Math.abs(times.length / fps - srcDuration)).toBeLessThanOrEqual(1 / fps + 1e-3);
    // Continuous timestamps: every step is exactly one frame, across every chunk join.
    const steps = times.slice(1).map((t, n) => t - (times[n] ?? 0));
    expect(steps.filter((d) => Math.abs(d - 1 / fps) > 1.5e-3)).toEqual([]);
    // Frame identity on the best rendition (every rung is scaled from the same decoded
    // frames; at 145 kb/s a flat band can smear by more than the code's step).
    if (opts.framesCoded && i === playlists.length - 1) {
      // Same frames in the same order as the source: none missing or repeated at a join.
      sourceCodes ??= await frameCodes(source);
      const codes = await frameCodes(url);
      expect(codes.length).toBe(srcFrames);
      expect(codeMismatches(codes, sourceCodes)).toEqual([]);
    }
    keyframes.push(await keyframeTimes(url));
  }
  // Keyframes at identical times in every rendition, so players switch cleanly.
  for (const k of keyframes) expect(k).toEqual(keyframes[0]);

  const audioGroup = Object.values(master.manifest.mediaGroups?.AUDIO ?? {})[0];
  if (sa) {
    const audio = Object.values(audioGroup ?? {})[0];
    if (!audio?.uri) throw new Error('source has audio but the master has no audio rendition');
    const out = await probe(new URL(audio.uri, view.playbackUrl).toString());
    expect(out.streams[0]?.codec_name).toBe('aac');
    expect(out.streams[0]?.channels).toBe(2);
    const duration = Number(out.format.duration);
    expect(Math.abs(duration - srcDuration)).toBeLessThan(0.1);
  } else {
    expect(audioGroup).toBeUndefined();
  }
  await expectImages(view, srcDuration);
  return { variants };
}

/** The poster (JPEG and WebP) and a storyboard whose cues cover the video and fit their sheets. */
async function expectImages(view: VideoView, duration: number): Promise<void> {
  const poster = await fetch(view.posterUrl ?? '');
  expect(poster.headers.get('content-type')).toBe('image/jpeg');
  expect((await poster.arrayBuffer()).byteLength).toBeGreaterThan(500);
  const webp = await fetch(view.posterWebpUrl ?? '');
  expect(webp.headers.get('content-type')).toBe('image/webp');
  expect(
    Buffer.from(await webp.arrayBuffer())
      .subarray(8, 12)
      .toString(),
  ).toBe('WEBP');

  const vtt = await (await fetch(view.storyboardUrl ?? '')).text();
  expect(vtt.startsWith('WEBVTT')).toBe(true);
  const cues = [...vtt.matchAll(/(\S+) --> (\S+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/g)];
  expect(cues.length).toBeGreaterThan(0);
  const seconds = (t: string) => t.split(':').reduce((acc, x) => acc * 60 + Number(x), 0);
  expect(seconds(cues[0]?.[1] ?? '')).toBe(0);
  expect(Math.abs(seconds(cues.at(-1)?.[2] ?? '') - duration)).toBeLessThan(0.1);
  const sizes = new Map<string, { width: number; height: number }>();
  for (const c of cues) {
    const image = c[3] ?? '';
    if (!sizes.has(image)) {
      const out = await probe(new URL(image, view.storyboardUrl).toString());
      sizes.set(image, { width: out.streams[0]?.width ?? 0, height: out.streams[0]?.height ?? 0 });
    }
    const size = sizes.get(image);
    const [x, y, w, h] = [c[4], c[5], c[6], c[7]].map(Number);
    expect((x ?? 0) + (w ?? 0)).toBeLessThanOrEqual(size?.width ?? 0);
    expect((y ?? 0) + (h ?? 0)).toBeLessThanOrEqual(size?.height ?? 0);
  }
}
