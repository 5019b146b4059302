/** The encode recipe as data: what ffmpeg is told for each kind of source, without running it. */
import { describe, expect, it } from 'vitest';
import { audioCut, audioEnd } from '../../functions/core/audio.js';
import { posterChunk } from '../../functions/core/images.js';
import type { MediaInfo } from '../../functions/core/media.js';
import { makePlan } from '../../functions/core/plan.js';
import {
  audioSegmentsCommand,
  BT709_TAGS,
  chunkAudio,
  chunkAudioCommand,
  chunkCommand,
  chunkFilterGraph,
  chunkImageGraphs,
  chunkSegmentEnd,
  colourPlan,
  encodeCores,
  encoderThreads,
  JOIN_LOOKAHEAD_TAIL_FRAMES,
  JOIN_TAIL_FRAMES,
  joinTailFrames,
  segmentCuts,
} from '../../functions/core/recipe.js';
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
    // Chunk 1 starts after the 2 s opening.
    expect(chunkFilterGraph(plan, 1)).toContain('fps=fps=30/1:start_time=3.720000');
    expect(chunkFilterGraph(plan, 2)).toContain('fps=fps=30/1:start_time=9.720000');
  });

  it('makes exactly the planned frames of a chunk, and runs the last one to the end', () => {
    const plan = planOf();
    const last = plan.chunks.length - 1;

    // The opening is one GOP; the next chunk one segment. The picture runs on past the
    // chunk's end (a segment thrown away): the small rungs (234p of this 720p source has a
    // ninth of its pixels) for x264's whole lookahead, the others a few frames. The
    // storyboard does not run on.
    expect(plan.renditions.map((_, i) => joinTailFrames(plan, i))).toEqual(
      plan.renditions.map((r) => (r.height <= 234 ? JOIN_LOOKAHEAD_TAIL_FRAMES : JOIN_TAIL_FRAMES)),
    );
    const [picture] = chunkFilterGraph(plan, 0).split(';');
    const [storyboard] = chunkImageGraphs(plan, 0);
    // The poster comes from the first full chunk, after the opening.
    const posterAt = posterChunk(plan);
    const poster = chunkImageGraphs(plan, posterAt)[1];
    const branch = (graph: string, i: number) =>
      graph.split(';').find((p) => p.startsWith(`[s${i}]`)) ?? '';
    expect(picture).toContain(`trim=end_frame=${60 + JOIN_LOOKAHEAD_TAIL_FRAMES},`);
    expect(branch(chunkFilterGraph(plan, 0), 0)).toMatch(
      new RegExp(`^\\[s0\\]trim=end_frame=${60 + JOIN_TAIL_FRAMES},`),
    );
    expect(branch(chunkFilterGraph(plan, 0), plan.renditions.length - 1)).not.toContain('trim=');
    // The storyboard and the poster: graphs of their own on the same grid, one decode.
    expect(storyboard).toMatch(
      /,trim=end_frame=60,settb=1\/30,setpts=N,select='not\(mod\(n,\d+\)\)',.*tile=\d+x\d+\[sbo\]$/,
    );
    expect(storyboard).not.toContain('bwdif');
    expect(poster).toMatch(/thumbnail=n=\d+,split=2\[pj\]\[pw\]$/);
    expect(chunkImageGraphs(plan, 0)).toHaveLength(posterAt === 0 ? 2 : 1);
    const command = chunkCommand(plan, posterAt, {
      input: 'in.mp4',
      workDir: '/w',
      cpus: 2,
      bounded: false,
    });
    expect(command.imageGraphs).toEqual(chunkImageGraphs(plan, posterAt));
    expect(command.outputs.map((o) => o.options[1])).toEqual(
      expect.arrayContaining(['[sbo]', '[pj]', '[pw]']),
    );
    expect(chunkFilterGraph(plan, 1)).toContain(
      `trim=end_frame=${180 + JOIN_LOOKAHEAD_TAIL_FRAMES},`,
    );
    expect(branch(chunkFilterGraph(plan, 1), 0)).toContain(
      `trim=end_frame=${180 + JOIN_TAIL_FRAMES},`,
    );
    expect(chunkImageGraphs(plan, 1)[0]).toContain(',trim=end_frame=180,');
    expect(chunkFilterGraph(plan, last)).not.toContain('trim=');
  });

  it('deinterlaces the frames flagged interlaced, before resampling in time', () => {
    const graph = chunkFilterGraph(
      planOf({ fieldOrder: 'tt', coded: { width: 720, height: 576 } }),
      0,
    );

    // A field-aware scale to the stored size first: bwdif cannot take a mid-stream change.
    expect(graph).toMatch(
      /scale=w=720:h=576:interl=1,bwdif=mode=send_frame:parity=auto:deint=interlaced,.*,fps=/,
    );
    // A container that says progressive is believed (no decoder-side work for most uploads);
    // one that says nothing leaves it to each frame's own flag (deint=interlaced).
    expect(chunkFilterGraph(planOf({ fieldOrder: 'progressive' }), 0)).not.toContain('bwdif');
    expect(chunkFilterGraph(planOf({}), 0)).toContain(
      'bwdif=mode=send_frame:parity=auto:deint=interlaced',
    );
    // Unless the opening pass saw combing (a cut-short 576i MKV says progressive).
    expect(chunkFilterGraph(planOf({ fieldOrder: 'tt', combed: 'tff' }), 0)).toContain('deint=all');
    // A screen recording in RGB is never interlaced.
    expect(chunkFilterGraph(planOf({ pixFmt: 'bgr0' }), 0)).not.toContain('bwdif');
  });

  it('deinterlaces every frame of a combed source nothing flags, with the field idet saw first', () => {
    const graph = chunkFilterGraph(planOf({ fieldOrder: 'bb', combed: 'bff' }), 0);
    expect(graph).toMatch(/bwdif=mode=send_frame:parity=bff:deint=all,.*,fps=/);
    // TFF is what bwdif takes for a frame with no flag: the frames' own flags stay first.
    const tff = chunkFilterGraph(planOf({ fieldOrder: 'tt', combed: 'tff' }), 0);
    expect(tff).toContain('bwdif=mode=send_frame:parity=auto:deint=all');
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
    expect(command.inputOptions.join(' ')).toMatch(/-ss 1\.991667/);
  });

  it('tags every rendition BT.709 and writes poster images from one chunk only', () => {
    const plan = planOf();
    const paths = (chunk: number) => chunkCommand(plan, chunk, args).outputs.map((o) => o.path);

    for (const o of chunkCommand(plan, 0, args).outputs.filter((o) => o.path.endsWith('.m3u8'))) {
      expect(o.options.join(' ')).toContain(BT709_TAGS.join(' '));
    }
    // The chunk after the opening: the opening's 2 s are often a fade-in, and too few.
    expect(paths(1)).toContain('/tmp/w/poster.jpg');
    expect(paths(0)).not.toContain('/tmp/w/poster.jpg');
    expect(paths(2)).not.toContain('/tmp/w/poster.jpg');
    // A video that is only its opening makes its poster there.
    expect(
      chunkCommand(planOf({}, { duration: 1.5 }), 0, args).outputs.map((o) => o.path),
    ).toContain('/tmp/w/poster.jpg');
  });
});

/** The -threads value of each rendition output, and the decoder's (input), of a command. */
function threadsOf(command: ReturnType<typeof chunkCommand>) {
  const at = (options: string[]) => {
    const i = options.indexOf('-threads');
    return i < 0 ? undefined : Number(options[i + 1]);
  };
  return {
    decoder: at(command.inputOptions),
    rungs: command.outputs.filter((o) => o.options.includes('libx264')).map((o) => at(o.options)),
  };
}

describe('cores and threads', () => {
  // 20 s: the opening, chunks 1 and 2 (6 s each), and the last chunk.
  const plan = planOf();
  const chunks = plan.chunks.map((c) => c.index);

  it('gives every chunk every core where it has the machine to itself (Lambda)', () => {
    expect(chunks.map((c) => encodeCores(plan, c, { cores: 2, encodes: 1 }))).toEqual([2, 2, 2, 2]);
  });

  it('gives chunks that run beside others a share, and the opening and the tail every core', () => {
    expect(chunks.map((c) => encodeCores(plan, c, { cores: 2, encodes: 2 }))).toEqual([2, 1, 1, 2]);
    expect(chunks.map((c) => encodeCores(plan, c, { cores: 8, encodes: 2 }))).toEqual([8, 4, 4, 8]);
    expect(chunks.map((c) => encodeCores(plan, c, { cores: 3, encodes: 4 }))).toEqual([3, 1, 1, 1]);
  });

  it('shares the cores among chunks that all start together, the last among them', () => {
    // Three chunks after the opening on three encodes: none is queued, none runs alone.
    expect(chunks.map((c) => encodeCores(plan, c, { cores: 2, encodes: 3 }))).toEqual([2, 1, 1, 1]);
    expect(chunks.map((c) => encodeCores(plan, c, { cores: 6, encodes: 4 }))).toEqual([6, 2, 2, 2]);
    // The bench's 30 s on two local workers: two even chunks, one core each.
    const even = makePlan('r'.repeat(20), sourceInfo({}, { duration: 30 }), {
      segmentSeconds: 6,
      chunkSegments: 5,
      x264Preset: 'veryfast',
      workers: 2,
    });
    expect(even.chunks.map((c) => encodeCores(even, c.index, { cores: 2, encodes: 2 }))).toEqual([
      2, 1, 1,
    ]);
  });

  it('encodes and decodes on one thread when given one core', () => {
    const one = threadsOf(chunkCommand(plan, 1, { ...args, cpus: 1 }));
    expect(one.decoder).toBe(1);
    expect(one.rungs).toEqual(plan.renditions.map(() => 1));
    // The last chunk too: ffmpeg 7.1 drops no frame at the end of the file on one thread
    // (ffmpeg 4.0 did, and needed +showall and the decoder's threads there).
    const last = plan.chunks.at(-1)?.index ?? 0;
    const end = chunkCommand(plan, last, { ...args, cpus: 1 });
    expect(threadsOf(end).decoder).toBe(1);
    expect(end.inputOptions).not.toContain('-flags2');
    const two = threadsOf(chunkCommand(plan, 1, { ...args, cpus: 2 }));
    expect(two.decoder).toBeUndefined();
    expect(two.rungs).toEqual(plan.renditions.map(() => encoderThreads(plan.renditions.length, 2)));
  });
});

describe('joins', () => {
  const plan = planOf();
  const option = (chunk: number, name: string) =>
    chunkCommand(plan, chunk, args)
      .outputs.filter((o) => o.options.includes('libx264'))
      .map((o) => (o.options.includes(name) ? o.options[o.options.indexOf(name) + 1] : undefined));

  it("gives a join's keyframe the bits of a keyframe mid-stream, not of a stream's first", () => {
    expect(option(0, '-x264-params')).toEqual(plan.renditions.map(() => 'vbv-init=0.55'));
    for (const c of plan.chunks.slice(1)) {
      expect(option(c.index, '-x264-params')).toEqual(
        plan.renditions.map(() => 'zones=0,0,b=1.4:vbv-init=0.55'),
      );
    }
  });

  it("cuts the run-on into a segment of its own, numbered after the chunk's", () => {
    // The opening is one GOP: cut at 2 s (60 frames), not at the 6 s segment length.
    expect(option(0, '-segment_frames')).toEqual(plan.renditions.map(() => '60'));
    expect(option(1, '-segment_frames')).toEqual(plan.renditions.map(() => '180'));
    expect(option(1, '-force_key_frames')).toEqual(
      plan.renditions.map(() => 'expr:eq(mod(n,60),0)'),
    );
    const [c0, c1, c2] = plan.chunks;
    expect(c0 && chunkSegmentEnd(plan, c0)).toBe(1);
    expect(c1 && chunkSegmentEnd(plan, c1)).toBe(2);
    expect(c2 && chunkSegmentEnd(plan, c2)).toBe((c2?.firstSegment ?? 0) + 1);
    const last = plan.chunks.at(-1);
    expect(last && chunkSegmentEnd(plan, last)).toBeUndefined();
  });

  it('cuts a chunk that is not whole segments long: its last segment is short', () => {
    const at = (frames: number) => {
      const spec = { index: 1, startFrame: 60, frames, offsetSeconds: 3, firstSegment: 1 };
      return { cuts: segmentCuts(plan, spec), end: chunkSegmentEnd(plan, spec) };
    };
    // 14 s: two segments of 6 s, one of 2 s, then the run-on.
    expect(at(420)).toEqual({ cuts: [180, 360, 420], end: 4 });
    expect(at(180)).toEqual({ cuts: [180], end: 2 });
    // The last chunk is cut on past its estimated end: the source may run longer.
    const last = plan.chunks.at(-1);
    const cuts = last ? segmentCuts(plan, last) : [];
    expect(cuts.slice(0, 2)).toEqual([180, 360]);
    expect(cuts.at(-1)).toBeGreaterThan(2 * (plan.estimatedFrames - (last?.startFrame ?? 0)));
  });
});

describe('chunkAudio', () => {
  it("takes the main audio track onto the video timeline, from the chunk's pre-roll to its post-roll", () => {
    const plan = planOf({ startTime: 43474.1094 });
    const second = plan.chunks[1];
    if (!second) throw new Error('one chunk only');
    const audio = chunkAudio(plan, 1);
    const options = audio.options.join(' ');

    expect(options).toContain('-map 0:1');
    // On the 1024-sample grid, 0.15 s after the chunk's first frame (2.15 s → 103424), and
    // encoded from two AAC frames before that.
    expect(audioCut(plan, second.startFrame)).toBe(103_424);
    expect(audio.from).toBe(103_424 - 2048);
    expect(audio.to).toBe(audioCut(plan, second.startFrame + (second.frames ?? 0)) + 2048);
    // Sound before the first picture is cut; a late start or an early end filled with silence.
    expect(options).toContain(
      `asetpts=PTS-43474.109400/TB,aresample=48000,aresample=48000:async=1:first_pts=${audio.from},apad,atrim=end_pts=${audio.to}`,
    );
    expect(options).toContain('-ac 2 -ar 48000 -f adts');
    // The first chunk starts at the video's first frame, with the encoder's priming.
    expect(chunkAudio(plan, 0).from).toBe(0);
  });

  it("pads the last chunk's audio well past the planned end, or to the end it is given", () => {
    const plan = planOf();
    const last = plan.chunks.length - 1;
    expect(chunkAudio(plan, last).to).toBeGreaterThan(
      audioEnd(plan, plan.estimatedFrames) + 10 * 48_000,
    );
    expect(chunkAudio(plan, last, 1_000_448).to).toBe(1_000_448 + 2048);
  });

  it('is an output of every chunk command, and the only output of the second pass', () => {
    expect(chunkCommand(planOf(), 1, args).outputs.at(-1)?.path).toBe('/tmp/w/audio-00001.aac');
    const silent = planOf({}, { audio: undefined });
    expect(chunkCommand(silent, 1, args).outputs.some((o) => o.path.endsWith('.aac'))).toBe(false);
    const again = chunkAudioCommand(planOf(), 1, { ...args, endSample: 500_000 });
    expect(again.outputs).toHaveLength(1);
    expect(again.inputOptions).toEqual(chunkCommand(planOf(), 1, args).inputOptions);
  });
});

describe('audioSegmentsCommand', () => {
  it('wraps each segment at its place on the timeline; one under two seconds probes as TS', () => {
    const command = audioSegmentsCommand(planOf(), [
      { adts: '/w/a.aac', ts: '/w/a.ts', startSample: 288_768, samples: 288_768 },
      { adts: '/w/b.aac', ts: '/w/b.ts', startSample: 577_536, samples: 48_128 },
    ]);
    expect(command.input).toBe('/w/a.aac');
    expect(command.moreInputs?.map((i) => i.input)).toEqual(['/w/b.aac']);
    expect(command.outputs[0]?.options.join(' ')).toBe(
      '-map 0:a -c:a copy -output_ts_offset 7.016000 -f mpegts',
    );
    // The muxer's usual 1.4 s timestamp delay, which no mux delay drops, goes in the offset.
    expect(command.outputs[1]?.options.join(' ')).toBe(
      '-map 1:a -c:a copy -output_ts_offset 14.432000 -muxdelay 0 -pat_period 0 -sdt_period 0 -f mpegts',
    );
  });
});
