/**
 * Checks a published stream against the parts of Apple's HLS Authoring Specification for
 * Apple Devices that apply to H.264/AAC VOD, and against RFC 8216. Playlists are parsed with
 * m3u8-parser; media facts come from ffprobe's packet data. Returns the violations found,
 * each a sentence naming the rule and the file: an empty list is a conformant stream.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Manifest, Parser } from 'm3u8-parser';
import { FFPROBE } from './media.js';

const run = promisify(execFile);

async function fetchText(url: string): Promise<{ text: string; headers: Headers }> {
  const res = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { text: await res.text(), headers: res.headers };
}

function parse(text: string): Manifest {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

async function fetchBytes(
  url: string,
  range?: { offset: number; length: number },
): Promise<Buffer> {
  const res = await fetch(url, {
    headers: range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {},
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

interface Packet {
  pts_time?: string;
  flags?: string;
  codec_type?: string;
}

async function probeFile(file: string) {
  const { stdout } = await run(
    FFPROBE,
    [
      '-v',
      'error',
      '-show_entries',
      'packet=pts_time,flags:stream=codec_type,profile,level,width,height,codec_name',
      '-of',
      'json',
      file,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as {
    packets?: Packet[];
    streams?: {
      codec_type?: string;
      profile?: string;
      level?: number;
      width?: number;
      height?: number;
      codec_name?: string;
    }[];
  };
}

const PROFILE_IDC: Record<string, string> = {
  High: '64',
  Main: '4d',
  Baseline: '42',
  'Constrained Baseline': '42',
};

interface SegmentFact {
  uri: string;
  duration: number;
  bytes: number;
}

/** RFC 8216 §4.3.4.2 peak: busiest run of segments lasting 0.5 to 1.5 target durations. */
function peakOf(segments: SegmentFact[], target: number): number {
  let peak = 0;
  for (let i = 0; i < segments.length; i++) {
    let b = 0;
    let d = 0;
    for (let j = i; j < segments.length; j++) {
      b += segments[j]?.bytes ?? 0;
      d += segments[j]?.duration ?? 0;
      if (d > 1.5 * target) break;
      if (d >= 0.5 * target) peak = Math.max(peak, (b * 8) / d);
    }
  }
  return Math.max(peak, averageOf(segments));
}

const averageOf = (segments: SegmentFact[]): number => {
  const bytes = segments.reduce((t, s) => t + s.bytes, 0);
  const seconds = segments.reduce((t, s) => t + s.duration, 0);
  return seconds > 0 ? (bytes * 8) / seconds : 0;
};

export async function validateHls(masterUrl: string): Promise<string[]> {
  const problems: string[] = [];
  const fail = (rule: string) => problems.push(rule);
  const work = await mkdtemp(join(tmpdir(), 'spool-hls-'));
  try {
    const masterRes = await fetchText(masterUrl);
    checkPlaylistHeaders(masterRes.headers, 'master.m3u8', fail);
    const master = parse(masterRes.text);
    if (!master.independentSegments) fail('master: EXT-X-INDEPENDENT-SEGMENTS missing');
    const variants = master.playlists ?? [];
    if (variants.length === 0) fail('master: no variant streams');

    // Media playlists of every video variant and of the audio group.
    const audioGroups = master.mediaGroups?.AUDIO ?? {};
    const audioUri = Object.values(Object.values(audioGroups)[0] ?? {})[0]?.uri;
    const load = async (uri: string) => {
      const url = new URL(uri, masterUrl).toString();
      const res = await fetchText(url);
      checkPlaylistHeaders(res.headers, uri, fail);
      const manifest = parse(res.text);
      const segments: SegmentFact[] = [];
      for (const s of manifest.segments) {
        const head = await fetch(new URL(s.uri, url), { method: 'HEAD' });
        if (!head.ok) {
          fail(`${uri}: segment ${s.uri} is not served (HTTP ${head.status})`);
          continue;
        }
        if (s.uri.endsWith('.ts')) {
          if (head.headers.get('content-type') !== 'video/mp2t') {
            fail(`${uri}: ${s.uri} served as ${head.headers.get('content-type')}, not video/mp2t`);
          }
          const maxAge = Number(
            /max-age=(\d+)/.exec(head.headers.get('cache-control') ?? '')?.[1] ?? 0,
          );
          if (maxAge < 86_400)
            fail(`${uri}: segment ${s.uri} is not cacheable for long (${maxAge} s)`);
        }
        segments.push({
          uri: s.uri,
          duration: s.duration,
          bytes: Number(head.headers.get('content-length') ?? 0),
        });
      }
      if (manifest.playlistType !== 'VOD') fail(`${uri}: EXT-X-PLAYLIST-TYPE is not VOD`);
      if (!manifest.endList) fail(`${uri}: EXT-X-ENDLIST missing`);
      const longest = Math.max(0, ...manifest.segments.map((s) => s.duration));
      if (manifest.targetDuration !== Math.round(longest)) {
        fail(
          `${uri}: EXT-X-TARGETDURATION ${manifest.targetDuration} is not the rounded longest segment ${longest}`,
        );
      }
      for (const s of manifest.segments) {
        if (s.duration > (manifest.targetDuration ?? 0) + 0.5) {
          fail(
            `${uri}: segment ${s.uri} (${s.duration} s) is more than 0.5 s over the target duration`,
          );
        }
      }
      return { url, manifest, segments };
    };

    const audio = audioUri ? await load(audioUri) : undefined;
    const audioAverage = audio ? averageOf(audio.segments) : 0;
    const audioPeak = audio ? peakOf(audio.segments, audio.manifest.targetDuration ?? 6) : 0;
    const keyframeGrid: { uri: string; times: number[] }[] = [];
    let previousBandwidth = 0;

    for (const v of variants) {
      const a = v.attributes;
      const name = v.uri;
      for (const attr of [
        'BANDWIDTH',
        'AVERAGE-BANDWIDTH',
        'CODECS',
        'RESOLUTION',
        'FRAME-RATE',
      ] as const) {
        if (a[attr] === undefined) fail(`master: variant ${name} has no ${attr}`);
      }
      if (audio && !a.AUDIO) fail(`master: variant ${name} does not name the audio group`);
      if ((a.BANDWIDTH ?? 0) < previousBandwidth)
        fail(`master: variant ${name} is out of bandwidth order`);
      previousBandwidth = a.BANDWIDTH ?? 0;

      const { url, manifest, segments } = await load(v.uri);
      if (audio && manifest.targetDuration !== audio.manifest.targetDuration) {
        fail(`${name}: target duration differs from the audio rendition's`);
      }
      // Every segment starts with an IDR frame; keyframes sit at the same times everywhere.
      const times: number[] = [];
      let offset = 0;
      let facts: Awaited<ReturnType<typeof probeFile>> | undefined;
      for (const [i, s] of manifest.segments.entries()) {
        const file = join(work, `${name.replace(/\W/g, '_')}-${i}.ts`);
        await writeFile(file, await fetchBytes(new URL(s.uri, url).toString()));
        const probe = await probeFile(file);
        facts ??= probe;
        const packets = (probe.packets ?? []).filter((p) => p.flags !== undefined);
        if (!packets[0]?.flags?.includes('K'))
          fail(`${name}: ${s.uri} does not start with a keyframe`);
        const first = Number(packets[0]?.pts_time ?? 0);
        for (const p of packets)
          if (p.flags?.includes('K'))
            times.push(Math.round((offset + Number(p.pts_time) - first) * 1000));
        offset += s.duration;
      }
      keyframeGrid.push({ uri: name, times });
      const stream = facts?.streams?.find((x) => x.codec_type === 'video');
      if (stream) {
        const expected = `avc1.${PROFILE_IDC[stream.profile ?? ''] ?? '??'}`;
        const codecs = a.CODECS ?? '';
        const level = Number.parseInt(codecs.split(',')[0]?.slice(9, 11) ?? '', 16);
        if (!codecs.startsWith(expected))
          fail(`${name}: CODECS ${codecs} does not match profile ${stream.profile}`);
        if (level !== stream.level)
          fail(`${name}: CODECS level ${level} is not the stream's ${stream.level}`);
        if (audio && !codecs.includes('mp4a.40.2')) fail(`${name}: CODECS lacks the audio codec`);
        if (a.RESOLUTION?.width !== stream.width || a.RESOLUTION?.height !== stream.height) {
          fail(`${name}: RESOLUTION is not the stream's ${stream.width}x${stream.height}`);
        }
      }
      // Bandwidths: measured on what is served, the variant's video plus the audio with it.
      const average = averageOf(segments) + audioAverage;
      const peak = peakOf(segments, manifest.targetDuration ?? 6) + audioPeak;
      const declaredAverage = Number(a['AVERAGE-BANDWIDTH'] ?? 0);
      if (Math.abs(average - declaredAverage) > 0.1 * declaredAverage) {
        fail(
          `${name}: measured average ${Math.round(average)} b/s is not within 10% of AVERAGE-BANDWIDTH ${declaredAverage}`,
        );
      }
      if (Math.abs(peak - (a.BANDWIDTH ?? 0)) > 0.1 * (a.BANDWIDTH ?? 0)) {
        fail(
          `${name}: measured peak ${Math.round(peak)} b/s is not within 10% of BANDWIDTH ${a.BANDWIDTH}`,
        );
      }
      if (peak > 2 * average)
        fail(
          `${name}: peak ${Math.round(peak)} b/s is over twice the average ${Math.round(average)}`,
        );
    }
    const reference = keyframeGrid[0];
    for (const k of keyframeGrid.slice(1)) {
      if (JSON.stringify(k.times) !== JSON.stringify(reference?.times)) {
        fail(`${k.uri}: keyframes are not at the same times as in ${reference?.uri}`);
      }
    }

    // One I-frame playlist per video variant, each range a decodable IDR frame.
    const iframes = master.iFramePlaylists ?? [];
    if (iframes.length !== variants.length)
      fail(`master: ${iframes.length} I-frame playlists for ${variants.length} variants`);
    for (const p of iframes) {
      const res = await fetchText(new URL(p.uri, masterUrl).toString());
      const list = parse(res.text);
      if (!list.iFramesOnly) fail(`${p.uri}: EXT-X-I-FRAMES-ONLY missing`);
      if (!p.attributes.BANDWIDTH || !p.attributes.CODECS || !p.attributes.RESOLUTION) {
        fail(`master: I-frame stream ${p.uri} lacks BANDWIDTH, CODECS or RESOLUTION`);
      }
      const url = new URL(p.uri, masterUrl).toString();
      const init = list.segments[0]?.map;
      // Spot-check the first, a middle and the last I-frame: decodes alone as one IDR frame.
      const picks = [
        ...new Set([0, Math.floor(list.segments.length / 2), list.segments.length - 1]),
      ];
      for (const i of picks) {
        const s = list.segments[i];
        if (!s?.byterange) {
          fail(`${p.uri}: I-frame ${i} has no byte range`);
          continue;
        }
        const parts = [await fetchBytes(new URL(s.uri, url).toString(), s.byterange)];
        if (init?.byterange)
          parts.unshift(await fetchBytes(new URL(init.uri, url).toString(), init.byterange));
        const file = join(work, `iframe-${i}.ts`);
        await writeFile(file, Buffer.concat(parts));
        const probe = await probeFile(file).catch(() => undefined);
        const packets = probe?.packets ?? [];
        if (packets.length !== 1 || !packets[0]?.flags?.includes('K')) {
          fail(`${p.uri}: I-frame ${i} is not exactly one keyframe (${packets.length} packets)`);
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return problems;
}

function checkPlaylistHeaders(headers: Headers, name: string, fail: (rule: string) => void) {
  if (headers.get('content-type') !== 'application/vnd.apple.mpegurl') {
    fail(`${name}: served as ${headers.get('content-type')}, not application/vnd.apple.mpegurl`);
  }
  if (headers.get('content-encoding') !== 'gzip')
    fail(`${name}: not gzip-compressed for a client that accepts it`);
  const maxAge = Number(
    /max-age=(\d+)/.exec(headers.get('cache-control') ?? '')?.[1] ?? Number.NaN,
  );
  if (!(maxAge <= 300)) fail(`${name}: playlist cache lifetime ${maxAge} s is not short`);
}
