/** The encode recipe as data: what ffmpeg is told for each kind of source, without running it. */
import { describe, expect, it } from 'vitest';
import type { MediaInfo } from '../../functions/core/media.js';
import { makePlan } from '../../functions/core/plan.js';
import {
  audioCommand,
  BT709_TAGS,
  chunkCommand,
  chunkFilterGraph,
  colourPlan,
} from '../../functions/core/recipe.js';
import { videoLengthIfNotPlanned } from '../../functions/transcode/transcode.js';
import { sourceInfo } from '../support/media-info.js';

function planOf(video: Parameters<typeof sourceInfo>[0] = {}, extra: Partial<MediaInfo> = {}) {
  const info = sourceInfo(
    { streamIndex: 2, pixFmt: 'yuv420p', ...video },
    {
      duration: 20,
      streamCount: 3,
      audio: { streamIndex: 1, codec: 'aac', channels: 6, sampleRate: 44_100 },
      ...extra,
    },
  );
  return makePlan('r'.repeat(20), info, {
    segmentSeconds: 6,
    chunkSegments: 1,
    x264Preset: 'veryfast',
  });
}

const args = { input: 'http://127.0.0.1:9/source', workDir: '/tmp/w', cpus: 2, bounded: true };

describe('chunkFilterGraph', () => {
  it('decodes the main video stream, wherever it is, not stream 0', () => {
    expect(chunkFilterGraph(planOf(), 0)).toMatch(/^\[0:2\]/);
  });

  it("puts every chunk on the video's own grid, from its first frame's timestamp", () => {
    const plan = planOf({ startTime: 1.72, startOffset: 0.3 });

    expect(chunkFilterGraph(plan, 0)).toContain('fps=fps=30/1:start_time=1.720000');
    expect(chunkFilterGraph(plan, 1)).toContain('fps=fps=30/1:start_time=7.720000');
  });

  it('makes exactly the planned frames of a chunk, and runs the last one to the end', () => {
    const plan = planOf();
    const last = plan.chunks.length - 1;

    expect(chunkFilterGraph(plan, 0)).toContain('trim=end_frame=180,');
    expect(chunkFilterGraph(plan, last)).not.toContain('trim=');
  });

  it('deinterlaces only what may be interlaced, before resampling in time', () => {
    const graph = chunkFilterGraph(
      planOf({ fieldOrder: 'tt', coded: { width: 720, height: 576 } }),
      0,
    );

    // A field-aware scale to the stored size first: bwdif cannot take a mid-stream change.
    expect(graph).toContain(
      'scale=w=720:h=576:interl=1,bwdif=mode=send_frame:parity=auto:deint=interlaced,fps=',
    );
    expect(chunkFilterGraph(planOf({ fieldOrder: 'progressive' }), 0)).not.toContain('bwdif');
    // No field order: each frame's own flag decides (deint=interlaced).
    expect(chunkFilterGraph(planOf({}), 0)).toContain('bwdif');
    // A screen recording in RGB is never interlaced.
    expect(chunkFilterGraph(planOf({ pixFmt: 'bgr0' }), 0)).not.toContain('bwdif');
  });

  it.each([
    ['smpte2084', 'PQ'],
    ['arib-std-b67', 'HLG'],
  ])('tone-maps %s (%s) to SDR BT.709 once, at the top rung size', (transfer) => {
    const plan = planOf({
      pixFmt: 'yuv420p10le',
      colour: { primaries: 'bt2020', transfer, matrix: 'bt2020nc', range: 'tv' },
    });
    const graph = chunkFilterGraph(plan, 0);

    expect(graph).toContain(`zscale=w=1280:h=720:tin=${transfer}:min=bt2020nc:pin=bt2020`);
    expect(graph).toContain('tonemap=tonemap=hable');
    expect(graph.match(/tonemap=tonemap/g)).toHaveLength(1);
    expect(graph).toContain('zscale=t=bt709:m=bt709:r=limited');
  });

  it('converts every rung to BT.709 limited range, from the matrix the source says', () => {
    const sd = planOf({ width: 640, height: 480, colour: { matrix: 'smpte170m', range: 'pc' } });

    expect(chunkFilterGraph(sd, 0)).toContain(
      'in_color_matrix=smpte170m:out_color_matrix=bt709:out_range=tv',
    );
  });

  it('takes untagged HD as BT.709 and untagged SD as BT.601, as players do', () => {
    expect(colourPlan(planOf().source.video, 720).matrix).toBe('bt709');
    expect(colourPlan(planOf().source.video, 480).matrix).toBe('smpte170m');
  });
});

describe('chunkCommand', () => {
  it('keeps the source timestamps and lets the filters choose the frames after a seek', () => {
    const command = chunkCommand(planOf(), 1, args);

    expect(command.inputOptions).toEqual(
      expect.arrayContaining(['-copyts', '-noaccurate_seek', '-reinit_filter', '0']),
    );
    expect(command.inputOptions.join(' ')).toMatch(/-ss 5\.991667/);
  });

  it('tags every rendition BT.709 and writes poster images from the first chunk only', () => {
    const plan = planOf();
    const first = chunkCommand(plan, 0, args);
    const later = chunkCommand(plan, 1, args);

    for (const o of first.outputs.filter((o) => o.path.endsWith('.m3u8'))) {
      expect(o.options.join(' ')).toContain(BT709_TAGS.join(' '));
    }
    expect(first.outputs.map((o) => o.path)).toContain('/tmp/w/poster.jpg');
    expect(later.outputs.map((o) => o.path)).not.toContain('/tmp/w/poster.jpg');
  });
});

describe('audioCommand', () => {
  it('takes the main audio track onto the video timeline, padded or cut to its length', () => {
    const plan = planOf({ startTime: 43474.1094 });
    const options = audioCommand(plan, args).outputs[0]?.options.join(' ') ?? '';

    expect(options).toContain('-map 0:1');
    // Sound before the first picture is cut, a late start filled with silence.
    expect(options).toContain('asetpts=PTS-43474.109400/TB,aresample=48000:async=1:first_pts=0');
    expect(options).toContain(`apad=whole_len=${20 * 48_000},atrim=end_sample=${20 * 48_000}`);
    expect(options).toContain('-ac 2 -ar 48000');
  });

  it('logs the video packets of a non-MP4 upload, whose container may overstate its length', () => {
    const mkv = planOf({}, { formatName: 'matroska,webm' });

    const command = audioCommand(mkv, args);

    expect(command.videoPackets).toBe('/tmp/w/video-packets.txt');
    expect(command.outputs[1]?.options).toEqual(['-map', '0:2', '-c:v', 'copy', '-f', 'framecrc']);
    // MP4's index already says how much video the file holds.
    expect(audioCommand(planOf(), args).videoPackets).toBeUndefined();
  });

  it('writes a clip under two seconds as a transport stream that probes as one', () => {
    const tiny = planOf({}, { duration: 0.1 });

    // The muxer's usual 1.4 s timestamp delay, which no mux delay drops, goes in the offset.
    expect(audioCommand(tiny, args).outputs[0]?.options.join(' ')).toContain(
      '-output_ts_offset 2.400000 -muxdelay 0 -hls_ts_options pat_period=0:sdt_period=0',
    );
    expect(audioCommand(planOf(), args).outputs[0]?.options).not.toContain('-muxdelay');
  });

  it('cuts the audio where the video really ends, when told', () => {
    const mkv = planOf({}, { formatName: 'matroska,webm' });

    const command = audioCommand(mkv, { ...args, until: 7.2 });

    expect(command.outputs[0]?.options.join(' ')).toContain(`atrim=end_sample=${7.2 * 48_000}`);
    // Apart from the first pass's segments, which may be published and cached already.
    expect(command.outputs[0]?.options.at(-1)).toBe('/tmp/w/audio/end_%05d.ts');
    expect(command.videoPackets).toBeUndefined();
  });
});

describe('videoLengthIfNotPlanned', () => {
  const plan = planOf({ startTime: 1.5 }, { formatName: 'matroska,webm' });

  it('says how long the video really is when the file ends a frame or more early or late', () => {
    expect(videoLengthIfNotPlanned(plan, 1.5 + 7.2)).toBeCloseTo(7.2, 6);
    expect(videoLengthIfNotPlanned(plan, 1.5 + 22)).toBeCloseTo(22, 6);
  });

  it('says nothing when the video ends where the plan expected, or nothing was logged', () => {
    expect(videoLengthIfNotPlanned(plan, 1.5 + 20)).toBeUndefined();
    expect(videoLengthIfNotPlanned(plan, 1.5 + 20 - 0.5 / 30)).toBeUndefined();
    expect(videoLengthIfNotPlanned(plan, undefined)).toBeUndefined();
  });
});
