/**
 * The encode recipe as data: source facts + plan + chunk → the ffmpeg command (input
 * options, filter graph, outputs). Pure, so tests read it without spawning ffmpeg; the
 * adapter (functions/adapters/ffmpeg.ts) only runs it and reads what ffmpeg wrote.
 *
 * Every chunk's graph, in order:
 * 1. deinterlace (bwdif, only the frames the decoder marks interlaced);
 * 2. onto the output grid from the source's own timestamps (fps, anchored at the chunk's
 *    first slot on the video's grid, so every chunk resamples alike), then exactly the
 *    chunk's slots (trim);
 * 3. HDR (PQ, HLG) tone-mapped to SDR BT.709 at the top rung's size;
 * 4. renumbered onto the chunk's place in the output timeline, split to the rungs, each
 *    scaled to its display size with square pixels, converted to BT.709 limited range 8-bit
 *    4:2:0, and tagged so on the way out.
 */
import { join } from 'node:path';
import { AUDIO_POSTROLL_SAMPLES, AUDIO_PREROLL_SAMPLES, audioCut, audioEnd } from './audio.js';
import { posterChunk, sheetCapacity } from './images.js';
import type { Rendition } from './ladder.js';
import { ALLOWED_DEMUXERS, type ColourTags, OPENING_FRAMES } from './media.js';
import { type ChunkSpec, type Plan, type SourceStreams, segmentStarts, slotTime } from './plan.js';

export interface FfmpegCommand {
  input: string;
  inputOptions: string[];
  /** Further inputs, numbered from 1 in `-map`. */
  moreInputs?: { input: string; inputOptions: string[] }[];
  /** A -filter_complex graph; absent when the outputs carry their own filters. */
  filterGraph?: string;
  /** More -filter_complex graphs on the same decode (chunkImageGraphs). */
  imageGraphs?: string[];
  outputs: { path: string; options: string[] }[];
}

const fmt = (n: number): string => n.toFixed(6);

/**
 * Input options that keep a hostile upload from making ffmpeg open anything but the one URL:
 * only the transport of that URL is allowed (no file:, no nested playlists), and only
 * container demuxers (no hls, concat or image2 that would follow references inside the file).
 */
/**
 * The opening pass (media.ts, OpeningFacts): the first frames of the main video decoded as
 * the chunks will decode them (-copyts: the file's own clock), each with idet's call.
 * `metadata=print` writes a `frame:N pts:… pts_time:T` line and the frame's idet keys to
 * stdout. At most 10 s of the file are read, however few frames decode in them.
 */
export function openingArgs(input: string, stream: number): string[] {
  return [
    '-v',
    'error',
    '-nostdin',
    ...inputGuards(input),
    '-copyts',
    '-t',
    '10',
    '-i',
    input,
    '-map',
    `0:${stream}`,
    '-frames:v',
    String(OPENING_FRAMES),
    '-vf',
    'idet,metadata=mode=print:file=-',
    '-f',
    'null',
    '-',
  ];
}

export function inputGuards(input: string): string[] {
  const scheme = /^(https?):\/\//.exec(input)?.[1];
  const protocols = scheme === 'https' ? 'https,tls,tcp' : scheme === 'http' ? 'http,tcp' : 'file';
  const guards = [
    '-protocol_whitelist',
    protocols,
    '-format_whitelist',
    ALLOWED_DEMUXERS.join(','),
  ];
  // A stalled connection must fail the job (and be retried), not hang it until Lambda's timeout.
  if (scheme) guards.push('-rw_timeout', '30000000', '-reconnect', '1');
  return guards;
}

/**
 * x264 threads per rung. Each encoder would otherwise start 1.5 × the cores' worth of
 * frame threads, five times over for a five-rung ladder; sharing that budget across the
 * rungs measured ~8% less CPU for the same output on 2 cores (time of a 30 s 1080p ladder:
 * 38.3 against 41.8 CPU-s). With more than one core, never one thread: ffmpeg feeds its
 * encoders from one thread, so single-threaded encoders would take the rungs one after
 * another and leave the other cores idle. With one core that is what it should do.
 */
export function encoderThreads(renditions: number, cpus: number): number {
  if (cpus <= 1) return 1;
  return Math.max(2, Math.ceil((1.5 * cpus) / Math.max(1, renditions)));
}

/** The cores of the machine an encode runs on, and how many encodes share them. */
export interface EncodeHost {
  cores: number;
  /** Encodes that run at once on these cores: 1 on Lambda (one job per instance). */
  encodes: number;
}

/**
 * The cores one chunk's encode is given. Where several encodes share a machine (the local
 * stack's workers), the chunks that run beside others get a share each, and single-threaded
 * encodes in parallel processes waste nothing on threads that wait for each other: two
 * 12 s chunks of the bench's source at once on 2 cores took 34.6 CPU-s and 18.0 s with one
 * core each, against 40.0 CPU-s and 20.4 s with threads for both cores each. The chunks
 * after the opening start together, as many as there are encodes, and share the cores
 * among them. The opening runs alone (in ingest, before the jobs are sent), and so does the
 * last chunk when more chunks than encodes are queued (the ramp's tail): they get every core.
 */
export function encodeCores(plan: Plan, chunk: number, host: EncodeHost): number {
  const spec = plan.chunks[chunk];
  if (!spec || spec.index === 0) return host.cores;
  const jobs = plan.chunks.length - 1;
  const encodes = Math.max(1, host.encodes);
  if (spec.frames === null && jobs > encodes) return host.cores;
  return Math.max(1, Math.floor(host.cores / Math.min(jobs, encodes)));
}

/** The poster is chosen among every fifteenth frame of the opening (half a second apart). */
const POSTER_STRIDE = 15;

/** Transfer functions of HDR video, by ffprobe's name. */
const HDR_TRANSFERS: Record<string, 'smpte2084' | 'arib-std-b67'> = {
  smpte2084: 'smpte2084',
  'arib-std-b67': 'arib-std-b67',
};

/** ffprobe's matrix names → the scale filter's. */
const SCALE_MATRIX: Record<string, string> = {
  bt709: 'bt709',
  smpte170m: 'smpte170m',
  bt470bg: 'bt470',
  smpte240m: 'smpte240m',
  fcc: 'fcc',
  bt2020nc: 'bt2020',
  bt2020c: 'bt2020',
};

/** Packed and planar RGB (screen recorders, some intermediates): no matrix, never interlaced. */
const isRgb = (pixFmt: string | undefined): boolean =>
  /^(0?rgb|0?bgr|gbr|argb|abgr|rgba|bgra|pal8|mono)/.test(pixFmt ?? '');

export interface ColourPlan {
  /** Deinterlace the frames the decoder marks interlaced. */
  deinterlace: boolean;
  /** Deinterlace every frame, with this field first: combed pictures nothing flags. */
  combed?: 'tff' | 'bff';
  /** Tone-map from this HDR transfer to SDR BT.709. */
  hdr?: 'smpte2084' | 'arib-std-b67';
  /** The matrix the scale filter converts from (after tone mapping, BT.709). */
  matrix: string;
}

/**
 * How a source's pictures become SDR BT.709: untagged video is taken as a player would take
 * it (BT.709 from 720 lines up, BT.601 below); the range comes with each frame.
 */
export function colourPlan(video: SourceStreams['video'], height: number): ColourPlan {
  const colour: ColourTags = video.colour ?? {};
  const hdr = colour.transfer ? HDR_TRANSFERS[colour.transfer] : undefined;
  const matrix = hdr
    ? 'bt709'
    : ((colour.matrix && SCALE_MATRIX[colour.matrix]) ?? (height >= 720 ? 'bt709' : 'smpte170m'));
  return {
    // A container that says progressive is believed unless the opening pass saw combed
    // pictures (a cut-short 576i MKV says progressive; its frames say interlaced, and idet
    // sees the combing). Otherwise each frame's own flag decides, which keeps a progressive
    // ProRes whose container claims fields untouched.
    deinterlace:
      (video.fieldOrder !== 'progressive' || video.combed !== undefined) && !isRgb(video.pixFmt),
    ...(video.combed && !isRgb(video.pixFmt) ? { combed: video.combed } : {}),
    ...(hdr ? { hdr } : {}),
    matrix,
  };
}

/**
 * PQ or HLG → linear light → BT.709 primaries → Hable's filmic curve (keeps highlight detail
 * and does not wash out mid-tones) → BT.709 transfer, limited range, 8-bit 4:2:0. Done once,
 * at the top rung's size, before the split: the float stages are the expensive part.
 */
function toneMap(video: SourceStreams['video'], hdr: string, width: number, height: number) {
  const primaries = video.colour?.primaries === 'bt709' ? 'bt709' : 'bt2020';
  const matrix = video.colour?.matrix === 'bt2020c' ? 'bt2020c' : 'bt2020nc';
  const range = video.colour?.range === 'pc' ? 'full' : 'limited';
  return [
    `zscale=w=${width}:h=${height}:tin=${hdr}:min=${matrix}:pin=${primaries}:rin=${range}:t=linear:npl=100`,
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=hable:desat=0',
    'zscale=t=bt709:m=bt709:r=limited',
    'format=yuv420p',
  ];
}

/**
 * The frames' own colour tags: ffmpeg 7 gives the encoder the frames' properties, and scale
 * sets only the matrix, so without these the primaries and transfer go out unspecified
 * whatever the output options say.
 */
const TAG_FRAMES = 'setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv';

/**
 * The rungs' scaler. Without accurate_rnd, swscale's fast matrix conversion (BT.601 to 709)
 * dithers by line: fine noise comes out striped, which idet calls combing (a VP8 clip's
 * noise squares: 41% of frames, against 6% with it). It costs about 1 ms a 1080p frame.
 */
const RUNG_SCALE_FLAGS = 'bicubic+accurate_rnd';

/** The output's colour tags, on every rendition (H.264 VUI). */
export const BT709_TAGS = [
  '-color_primaries',
  'bt709',
  '-color_trc',
  'bt709',
  '-colorspace',
  'bt709',
  '-color_range',
  'tv',
];

/**
 * The decoded frames on the output grid, as far as `frames` (null: to the end): the start
 * of every graph of a chunk, so that frame n is the same frame in each.
 */
function gridChain(
  plan: Plan,
  spec: ChunkSpec,
  colour: ColourPlan,
  opts: { frames: number | null; deinterlace: boolean },
): string[] {
  const { num, den } = plan.output.frameRate;
  const coded = plan.source.video.coded;
  const deinterlace = opts.deinterlace && colour.deinterlace;
  return [
    // bwdif cannot take a change of picture size (a broadcast's SD ad break in an HD
    // programme): a field-aware scale to the stored size first, which passes frames of that
    // size through untouched.
    ...(deinterlace && coded ? [`scale=w=${coded.width}:h=${coded.height}:interl=1`] : []),
    ...(deinterlace
      ? [
          colour.combed
            ? // Every frame; a frame's own field flag where it has one (idet's guess at the
              // order is the weaker witness), else the first field idet saw.
              `bwdif=mode=send_frame:parity=${colour.combed === 'bff' ? 'bff' : 'auto'}:deint=all`
            : 'bwdif=mode=send_frame:parity=auto:deint=interlaced',
        ]
      : []),
    // The end of the input is where ffmpeg 7 estimates the last frame ends, and fps fills
    // the output up to it. With timestamp gaps it guesses the last frame lasts as long as
    // the gap before it (a screen recording's last frame held a second, not 0.2 s): at the
    // end (the only time setpts sees no byte position), one frame's length at the most.
    "setpts='if(isnan(POS),min(PTS,PREV_INPTS+1/(FR*TB)),PTS)'",
    // Slot n of the output shows the last source frame at or before (rounded to the nearest
    // slot) its time: variable-rate sources keep their timing, and the grid is the video's
    // own, whichever chunk resamples it.
    `fps=fps=${num}/${den}:start_time=${fmt(slotTime(plan, spec.startFrame))}`,
    ...(opts.frames !== null ? [`trim=end_frame=${opts.frames}`] : []),
    // Frame n of a chunk gets pts n in a 1/fps time base: with -output_ts_offset this puts
    // every chunk's frames exactly on the video's timeline, so joins have no gap or overlap.
    `settb=${den}/${num}`,
    'setpts=N',
  ];
}

/**
 * The rungs' filter graph of a chunk: one decode, converted onto the output grid and split to
 * every rung. The storyboard and the poster have graphs of their own (chunkImageGraphs).
 */
export function chunkFilterGraph(plan: Plan, chunk: number): string {
  const spec = plan.chunks[chunk];
  if (!spec) throw new Error(`chunk ${chunk} is not in the plan`);
  const top = plan.renditions[0];
  if (!top) throw new Error('the plan has no renditions');
  const colour = colourPlan(plan.source.video, plan.source.height);
  const branches = plan.renditions.map((_, i) => `[s${i}]`);
  // The decode runs on as far as the longest run-on; each rung stops at its own.
  const tails = plan.renditions.map((_, i) => joinTailFrames(plan, i));
  const tail = Math.max(...tails);
  const pre = [
    ...gridChain(plan, spec, colour, {
      frames: spec.frames !== null ? spec.frames + tail : null,
      deinterlace: true,
    }),
    ...(colour.hdr ? toneMap(plan.source.video, colour.hdr, top.width, top.height) : []),
    `split=${branches.length}${branches.join('')}`,
  ].join(',');
  const toBt709 = `in_color_matrix=${colour.matrix}:out_color_matrix=bt709:out_range=tv`;
  const scales = plan.renditions.map((r, i) => {
    const own = spec.frames !== null && tails[i] !== tail;
    return `[s${i}]${own ? `trim=end_frame=${(spec.frames ?? 0) + (tails[i] ?? 0)},` : ''}scale=${r.width}:${r.height}:flags=${RUNG_SCALE_FLAGS}:${toBt709},setsar=1,format=yuv420p,${TAG_FRAMES}[v${i}]`;
  });
  return [`[0:${plan.source.video.stream}]${pre}`, ...scales].join(';');
}

/**
 * The storyboard's sprite sheet ([sbo]) and, in the poster's chunk, the poster ([pj], [pw]),
 * each a graph of its own on the same decode. In the rungs' graph, a branch whose only
 * frame comes at the end (tile, thumbnail) made ffmpeg 7 run the whole graph for it and
 * hold every rung's frames until then: 1.8 GB for a 9 s 1080p chunk, 0.5 GB without.
 * Each graph puts the frames on the same grid first, so frame n is the rungs' frame n.
 */
export function chunkImageGraphs(plan: Plan, chunk: number): string[] {
  const spec = plan.chunks[chunk];
  if (!spec) throw new Error(`chunk ${chunk} is not in the plan`);
  const colour = colourPlan(plan.source.video, plan.source.height);
  const input = `[0:${plan.source.video.stream}]`;
  const { storyboard: sb, poster } = plan.images;
  /** Every `stride`th frame of the grid, at `size`; tone mapped there, on those frames only. */
  const every = (stride: number, size: { width: number; height: number }, deinterlace: boolean) => [
    ...gridChain(plan, spec, colour, { frames: spec.frames, deinterlace }),
    `select='not(mod(n,${stride}))'`,
    ...(colour.hdr ? toneMap(plan.source.video, colour.hdr, size.width, size.height) : []),
    // After tone mapping the matrix is BT.709 (colourPlan).
    `scale=${size.width}:${size.height}:in_color_matrix=${colour.matrix}:out_color_matrix=bt709:out_range=tv`,
    'setsar=1',
  ];
  const rows = Math.ceil(sheetCapacity(plan, spec) / sb.columns);
  // Thumbnails are small enough that a 1080i frame's fields average out: no deinterlacer.
  // Chunks start on the thumbnail grid, so frame n of the chunk is on it when n is.
  const sheet = [...every(sb.intervalFrames, sb, false), `tile=${sb.columns}x${rows}`];
  const graphs = [`${input}${sheet.join(',')}[sbo]`];
  if (chunk === posterChunk(plan)) {
    const { num, den } = plan.output.frameRate;
    const opening = Math.min(spec.frames ?? 300, Math.round((10 * num) / den));
    // thumbnail needs at least two frames to choose between (a 1 fps source has few).
    const candidates = Math.max(2, Math.ceil(opening / POSTER_STRIDE));
    // thumbnail picks the frame nearest the average look of the opening seconds: not a
    // black fade-in frame, not a flash. It holds every candidate, so it sees one frame in
    // fifteen, already at the poster's size (a dozen 720p frames, not 300 of 1080p).
    const still = [...every(POSTER_STRIDE, poster, true), `thumbnail=n=${candidates}`, 'split=2'];
    graphs.push(`${input}${still.join(',')}[pj][pw]`);
  }
  return graphs;
}

/**
 * Frames each chunk but the last encodes past its end in its larger rungs (the small ones:
 * JOIN_LOOKAHEAD_TAIL_FRAMES), as its own last segment, and throws away. x264 gives a frame
 * more bits the more later frames refer to it (MB-tree, over its lookahead); at the end of a
 * stream there are no later frames, so without this run-on the frames before a join came out
 * softer than in one whole-file encode (bench --quality, 30 s 1080p: the frame before each
 * join 0.001-0.002 SSIM lower; with five frames, 0.0002).
 */
export const JOIN_TAIL_FRAMES = 5;

/**
 * The run-on of the small rungs: x264's VBV plans each frame's bits against its lookahead
 * too, so a rung held at its cap still sees the end of the stream coming five frames after
 * the join. bench --quality (12 s 1080p), 234p, capped at every CRF, the frame before the
 * opening's join at CRF 21: -0.0012 SSIM against the whole-file encode with 5 frames,
 * -0.0046 with 10, and with 20 every frame before it identical to the whole-file encode's.
 * A rung with at most an eighth of the top rung's pixels runs on this far: its frames cost
 * little, where the larger rungs' would add 3% to every chunk's encode.
 */
export const JOIN_LOOKAHEAD_TAIL_FRAMES = 20;

/** Frames rung `i` encodes past the chunk's end (see JOIN_TAIL_FRAMES). */
export function joinTailFrames(plan: Pick<Plan, 'renditions'>, i: number): number {
  const top = plan.renditions[0];
  const r = plan.renditions[i];
  if (!top || !r) return JOIN_TAIL_FRAMES;
  return r.width * r.height * 8 <= top.width * top.height
    ? JOIN_LOOKAHEAD_TAIL_FRAMES
    : JOIN_TAIL_FRAMES;
}

/**
 * A last chunk runs to wherever the source ends, which the plan only estimates: its segment
 * cuts go on to twice the estimate plus this long (a longer video puts the rest in one long
 * last segment; the job's time limit ends it first on Lambda).
 */
const LAST_CHUNK_SLACK_SECONDS = 15 * 60;

/**
 * Output frames, from the chunk's first, at which its segments after the first start: the
 * plan's (see segmentStarts), then the run-on's, which is a segment of its own that is not
 * kept (JOIN_TAIL_FRAMES). The segment muxer cuts at the first keyframe at or past each.
 */
export function segmentCuts(plan: Plan, spec: Pick<ChunkSpec, 'frames' | 'startFrame'>): number[] {
  const expected = Math.max(1, plan.estimatedFrames - spec.startFrame);
  const fps = plan.output.frameRate.num / plan.output.frameRate.den;
  const upTo = 2 * expected + Math.round(LAST_CHUNK_SLACK_SECONDS * fps);
  const cuts = segmentStarts(spec.frames, plan.output, upTo).slice(1);
  return spec.frames === null ? cuts : [...cuts, spec.frames];
}

/**
 * The first segment number that is not the chunk's own (its run-on, see JOIN_TAIL_FRAMES);
 * undefined for the last chunk, whose segments are all its own.
 */
export function chunkSegmentEnd(
  plan: Plan,
  spec: Pick<ChunkSpec, 'frames' | 'firstSegment'>,
): number | undefined {
  if (spec.frames === null) return undefined;
  return spec.firstSegment + segmentStarts(spec.frames, plan.output).length;
}

/**
 * x264's VBV buffer at the start of every chunk, and of the video. x264 starts a stream 90%
 * full, but a rung held at its cap runs at about half full (the 234p rung of the bench's
 * source: 0.52-0.57 just before each keyframe). Each chunk starting at 0.9 spent the
 * difference again: the chunked 1080p averaged 6.67 Mb/s against 6.39 whole-file at a
 * 6.0 cap, 234p up to 6% over its whole-file encode. Starting everywhere at 0.55 brings
 * both within 0.7% (1080p) and ±1.1% (234p) of the whole-file encode, itself at 0.55 too,
 * and nearer the cap (bench --quality, 30 s source). The cost: 234p's worst join dip went
 * from -0.0016 to -0.0022 SSIM. A rung under its cap is unaffected: its buffer never runs
 * low enough to hold a frame back.
 */
export const VBV_INIT = 0.55;

/**
 * x264's maxrate, a little under the rung's cap. VBV lets an encode spend its buffer's
 * starting fill on top of maxrate × duration, and each chunk starts with one (VBV_INIT):
 * at maxrate = cap, the bench's 12 s source (three chunks) averaged up to 2.2% over the
 * cap chunked (1080p at CRF 17), 0.8% whole-file; at 0.97 of it, 99.6% of the cap (234p);
 * at 0.96, 98.0% (1080p) and 99.4% (234p). The headroom keeps a rung's average under its cap.
 */
const MAXRATE_SHARE = 0.96;
const maxrate = (r: Pick<Rendition, 'bitrate'>): number => Math.round(r.bitrate * MAXRATE_SHARE);

/**
 * x264 options of every chunk: the VBV start above and, after the first, a keyframe zone.
 * x264 gives the keyframes after a stream's first the P frames' quantiser divided by
 * ipratio (1.4), but not the first frame itself: a zone on it (bitrate ×1.4) gives a join's
 * keyframe the quality it has in a whole-file encode (bench --quality, 30 s 1080p: the
 * frames after each join level with the whole-file encode's to 0.0001 SSIM with it;
 * 0.001-0.0015 lower for ten frames without).
 */
function joinOptions(spec: Pick<ChunkSpec, 'index'>): string[] {
  const vbv = `vbv-init=${VBV_INIT}`;
  return ['-x264-params', spec.index > 0 ? `zones=0,0,b=1.4:${vbv}` : vbv];
}

/**
 * One rung's output options: x264 with capped CRF and a fixed GOP, cut into MPEG-TS segments
 * (the segment muxer, which cuts at given frames: a chunk need not be whole segments long),
 * listed in `playlist`. `spec` says where the frames sit on the timeline.
 */
export function renditionOptions(
  plan: Plan,
  i: number,
  spec: Pick<ChunkSpec, 'index' | 'frames' | 'startFrame' | 'offsetSeconds' | 'firstSegment'>,
  playlist: string,
  cpus: number,
  legacyEngine = false,
): string[] {
  const r = plan.renditions[i];
  if (!r) throw new Error(`no rendition ${i}`);
  const { num, den } = plan.output.frameRate;
  const gop = plan.output.gopFrames;
  return [
    '-map',
    `[v${i}]`,
    '-an',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    '-c:v',
    'libx264',
    '-preset',
    plan.output.x264Preset,
    '-profile:v',
    'high',
    '-crf',
    String(plan.output.crf),
    '-maxrate',
    String(maxrate(r)),
    '-bufsize',
    String(maxrate(r) * 2),
    // Fixed GOP, no scene-cut keyframes: IDRs at identical times in every rendition.
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    // Every chunk is whole GOPs long: the grid from its first frame is the video's, and it
    // puts a keyframe where the run-on starts.
    '-force_key_frames',
    `expr:eq(mod(n,${gop}),0)`,
    ...joinOptions(spec),
    ...BT709_TAGS,
    // The encoder's rate (x264's rate control counts bits per frame at it). The frames are
    // already on its grid (fps, settb, setpts=N), so constant-rate output changes none.
    '-r',
    `${num}/${den}`,
    ...(legacyEngine ? ['-vsync', 'passthrough'] : ['-fps_mode', 'cfr']),
    '-threads',
    String(encoderThreads(plan.renditions.length, cpus)),
    '-output_ts_offset',
    fmt(spec.offsetSeconds),
    '-f',
    'segment',
    '-segment_format',
    'mpegts',
    '-segment_frames',
    segmentCuts(plan, spec).join(','),
    '-segment_start_number',
    String(spec.firstSegment),
    '-segment_list',
    playlist,
    '-segment_list_type',
    'm3u8',
  ];
}

/** Where a chunk's outputs go in its work dir. */
export const chunkFiles = (workDir: string, chunk: number) => ({
  playlist: (rendition: string) => join(workDir, rendition, 'chunk.m3u8'),
  segments: (rendition: string) => join(workDir, rendition, 'seg_%05d.ts'),
  dir: (rendition: string) => join(workDir, rendition),
  sheet: `thumbs-${String(chunk).padStart(5, '0')}.jpg`,
  posterJpeg: join(workDir, 'poster.jpg'),
  posterWebp: join(workDir, 'poster.webp'),
});

/** How a chunk's ffmpeg opens the source: guarded, seeking to the chunk, reading no further. */
function chunkInputOptions(
  spec: ChunkSpec,
  input: string,
  bounded: boolean,
  /** Decoder threads; unset, ffmpeg's own choice. */
  decoderThreads?: number,
): string[] {
  const bound = bounded && spec.readEndByte !== undefined && /^https?:/.test(input);
  return [
    '-nostdin',
    ...inputGuards(input),
    // Ingest already probed the source fully. ffmpeg's default probe reads and decodes
    // up to 5 MB / 5 s at the start of the file, which a later chunk then throws away
    // when it seeks: a small probe is enough to open the video stream.
    ...(spec.seekSeconds > 0 ? ['-probesize', '1000000', '-analyzeduration', '1000000'] : []),
    // The source's own timestamps reach the filters (the fps filter places frames by them),
    // and ffmpeg drops nothing after the seek itself: the filters choose the frames.
    '-copyts',
    // A mid-stream change of size (a stream that starts small, a camera that switches)
    // must not rebuild the graph: that would restart the fps filter's grid and the trim's
    // count. scale and zscale take each frame's size as it comes.
    '-reinit_filter',
    '0',
    '-noaccurate_seek',
    ...(decoderThreads ? ['-threads', String(decoderThreads)] : []),
    ...(spec.seekSeconds > 0 ? ['-ss', fmt(spec.seekSeconds)] : []),
    // Ask the source server for no more than the chunk needs (an http option). Reaching
    // the bound is the end of the input, not a dropped connection to reconnect.
    ...(bound ? ['-end_offset', String(spec.readEndByte), '-reconnect', '0'] : []),
  ];
}

export interface ChunkCommandArgs {
  input: string;
  workDir: string;
  cpus: number;
  bounded: boolean;
  /**
   * The engine is an ffmpeg before 5.1, which has -vsync but not -fps_mode: only the bench's
   * comparison with the 2018 builds runs one (FFMPEG_PATH). Default false.
   */
  legacyEngine?: boolean;
}

export function chunkCommand(plan: Plan, chunk: number, args: ChunkCommandArgs): FfmpegCommand {
  const spec = plan.chunks[chunk];
  if (!spec) throw new Error(`chunk ${chunk} is not in the plan`);
  const files = chunkFiles(args.workDir, spec.index);
  // An encode given one core decodes on it too: the decoder's frame threads would only
  // contend with the encoders, and take a core's share from a chunk running beside this one
  // (on 2 cores the last of two chunks finished 3 s before the other).
  const inputOptions = chunkInputOptions(
    spec,
    args.input,
    args.bounded,
    args.cpus <= 1 ? 1 : undefined,
  );
  const outputs = plan.renditions.map((r, i) => ({
    path: files.segments(r.name),
    options: renditionOptions(plan, i, spec, files.playlist(r.name), args.cpus, args.legacyEngine),
  }));
  outputs.push({
    path: join(args.workDir, files.sheet),
    options: ['-map', '[sbo]', '-frames:v', '1', '-q:v', '5'],
  });
  if (spec.index === posterChunk(plan)) {
    outputs.push(
      { path: files.posterJpeg, options: ['-map', '[pj]', '-frames:v', '1', '-q:v', '3'] },
      {
        path: files.posterWebp,
        options: ['-map', '[pw]', '-frames:v', '1', '-c:v', 'libwebp', '-quality', '80'],
      },
    );
  }
  if (plan.audio) {
    const audio = chunkAudio(plan, spec.index);
    outputs.push({ path: audio.path(args.workDir), options: audio.options });
  }
  return {
    input: args.input,
    inputOptions,
    filterGraph: chunkFilterGraph(plan, chunk),
    imageGraphs: chunkImageGraphs(plan, chunk),
    outputs,
  };
}

/** A chunk's audio alone, to `endSample`: when the video turned out longer than the plan. */
export function chunkAudioCommand(
  plan: Plan,
  chunk: number,
  args: { input: string; workDir: string; bounded: boolean; endSample: number },
): FfmpegCommand {
  const spec = plan.chunks[chunk];
  if (!spec) throw new Error(`chunk ${chunk} is not in the plan`);
  const audio = chunkAudio(plan, chunk, args.endSample);
  return {
    input: args.input,
    inputOptions: chunkInputOptions(spec, args.input, args.bounded),
    outputs: [{ path: audio.path(args.workDir), options: audio.options }],
  };
}

/**
 * A chunk's audio: the main audio track on the video's timeline, from the encoder's pre-roll
 * before the chunk's first cut to its post-roll past the last (see core/audio.ts), as ADTS.
 * Samples before the first video frame are cut, a late start is filled with silence (so the
 * offset between sound and picture is the source's), gaps and overlaps in the timestamps are
 * evened out, and a track that ends early is padded with silence. Any layout becomes stereo
 * with ffmpeg's standard downmix, at 48 kHz.
 *
 * The last chunk's video runs to the end of the source, which may be later than the plan
 * guessed: its audio is padded well past the guess, and cut where the video ended. `endSample`
 * says where that is when a second pass knows it.
 */
export function chunkAudio(
  plan: Plan,
  chunk: number,
  endSample?: number,
): { from: number; to: number; options: string[]; path: (workDir: string) => string } {
  const spec = plan.chunks[chunk];
  if (!plan.audio || !plan.source.audio || !spec) throw new Error('the plan has no audio here');
  const rate = plan.audio.sampleRate;
  const from = spec.index === 0 ? 0 : audioCut(plan, spec.startFrame) - AUDIO_PREROLL_SAMPLES;
  const end =
    endSample ??
    (spec.frames !== null
      ? audioCut(plan, spec.startFrame + spec.frames)
      : audioEnd(plan, plan.estimatedFrames) +
        Math.max(
          LAST_CHUNK_AUDIO_MARGIN_SECONDS * rate,
          Math.round((plan.source.duration * rate) / 4),
        ));
  const to = end + AUDIO_POSTROLL_SAMPLES;
  const filters = [
    `asetpts=PTS-${fmt(plan.source.video.start)}/TB`,
    // Resample first, then place on the timeline at the output rate: this ffmpeg's resampler
    // counts a start trim (first_pts) in input samples when it also converts the rate.
    `aresample=${rate}`,
    `aresample=${rate}:async=1:first_pts=${from}`,
    'apad',
    `atrim=end_pts=${to}`,
  ];
  return {
    from,
    to,
    path: (workDir) => join(workDir, `audio-${String(spec.index).padStart(5, '0')}.aac`),
    options: [
      '-map',
      `0:${plan.source.audio.stream}`,
      '-vn',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      '-af',
      filters.join(','),
      '-c:a',
      'aac',
      '-b:a',
      String(plan.audio.bitrate),
      '-ac',
      String(plan.audio.channels),
      '-ar',
      String(rate),
      '-f',
      'adts',
    ],
  };
}

/** Seconds of silence the last chunk's audio runs past the planned end, at least. */
const LAST_CHUNK_AUDIO_MARGIN_SECONDS = 10;

/**
 * A segment of under two seconds (a phone's 0.1 s capture, the tail of a video) makes a
 * transport stream of a few packets: one PES with its AAC frames back to back. Probing
 * players and tools then take the segment for raw ADTS audio, since ffmpeg's MPEG-TS probe
 * needs ten packets, and read the TS headers as audio. One PES per frame (no mux delay),
 * each behind its own PAT/PMT/SDT, makes enough packets; on longer audio that would cost
 * ~200 kb/s, so only the short ones get it.
 */
const TINY_AUDIO_SECONDS = 2;
const TINY_AUDIO_TS = ['-muxdelay', '0', '-pat_period', '0', '-sdt_period', '0'];
/**
 * The MPEG-TS muxer delays every timestamp by twice its mux delay (0.7 s by default), as it
 * does the video's: with no mux delay, the offset carries those 1.4 s itself, and the short
 * segment stays on the same timeline.
 */
const TS_MUX_SHIFT_SECONDS = 1.4;

/**
 * Wraps each audio segment's AAC frames (an ADTS file, copied, not re-encoded) in MPEG-TS at
 * its place on the timeline: one ffmpeg, one input and one output per segment.
 */
export function audioSegmentsCommand(
  plan: Plan,
  segments: readonly { adts: string; ts: string; startSample: number; samples: number }[],
): FfmpegCommand {
  const rate = plan.audio?.sampleRate ?? 48_000;
  const [first, ...rest] = segments;
  if (!first) throw new Error('no audio segments to write');
  const inputOptions = ['-nostdin', '-f', 'aac'];
  return {
    input: first.adts,
    inputOptions,
    moreInputs: rest.map((s) => ({ input: s.adts, inputOptions })),
    outputs: segments.map((s, i) => {
      const tiny = s.samples < TINY_AUDIO_SECONDS * rate;
      return {
        path: s.ts,
        options: [
          '-map',
          `${i}:a`,
          '-c:a',
          'copy',
          // The same timeline origin as the video chunks (see Plan.output.timelineOrigin).
          '-output_ts_offset',
          fmt(
            plan.output.timelineOrigin + s.startSample / rate + (tiny ? TS_MUX_SHIFT_SECONDS : 0),
          ),
          ...(tiny ? TINY_AUDIO_TS : []),
          '-f',
          'mpegts',
        ],
      };
    }),
  };
}
