/** What a player gets from the CloudFront stand-in, checked against the source with ffmpeg. */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Parser } from 'm3u8-parser';
import { expect } from 'vitest';
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

interface Manifest {
  playlists?: {
    uri: string;
    attributes: {
      RESOLUTION?: { width: number; height: number };
      CODECS?: string;
      BANDWIDTH?: number;
    };
  }[];
  mediaGroups?: { AUDIO?: Record<string, Record<string, { uri: string }>> };
  segments?: { uri: string; duration: number }[];
}

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

export async function countRecords(
  s3Endpoint: string,
  bucket: string,
  prefix: string,
): Promise<number> {
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return res.KeyCount ?? 0;
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
    if (!audio) throw new Error('source has audio but the master has no audio rendition');
    const out = await probe(new URL(audio.uri, view.playbackUrl).toString());
    expect(out.streams[0]?.codec_name).toBe('aac');
    expect(out.streams[0]?.channels).toBe(2);
    const duration = Number(out.format.duration);
    expect(Math.abs(duration - srcDuration)).toBeLessThan(0.1);
  } else {
    expect(audioGroup).toBeUndefined();
  }
  return { variants };
}
