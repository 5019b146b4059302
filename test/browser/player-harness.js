/**
 * Runs in the browser: plays `?src=` with hls.js (muted) and records what a viewer would
 * notice (startup, stalls, errors, level switches, frames, text tracks) for the test to read
 * as `player.snapshot()` and to drive with `player.hls` / `player.video`. With
 * `?subtitles=<language>`, the subtitles in that language are selected from the start, as a
 * player's preference does.
 */
const { Hls } = window;
const video = document.getElementById('video');
const params = new URLSearchParams(location.search);
const src = params.get('src');
const subtitles = params.get('subtitles');

const state = {
  hlsSupported: Hls.isSupported(),
  /** performance.now() of the first presented frame. */
  firstFrameAt: null,
  frames: 0,
  /** Size of the last presented frame, as decoded. */
  frameWidth: 0,
  frameHeight: 0,
  fatal: [],
  nonFatal: [],
  videoError: null,
  /** Durations (ms) of every `waiting` after the first frame, until playback resumed. */
  stalls: [],
  waitingSince: null,
  switched: [],
  bufferTracks: [],
  seeked: 0,
  /** Media time where the video buffer starts: the first video frame's, after hls.js's offset. */
  videoStart: null,
  /** The audio SourceBuffer's buffered ranges after the last append: a gap at a join splits them. */
  audioRanges: [],
  warnings: [],
};

const rangesOf = (r) => Array.from({ length: r.length }, (_, i) => [r.start(i), r.end(i)]);

/** hls.js's own warnings: its remuxer says so when it fills a gap in the sound or drops an overlap. */
const warn = (...args) => state.warnings.push(args.map(String).join(' '));
const quiet = () => undefined;
const hls = new Hls({
  debug: { trace: quiet, debug: quiet, log: quiet, info: quiet, warn, error: warn },
  ...(subtitles === null ? {} : { subtitlePreference: { lang: subtitles } }),
});
hls.on(Hls.Events.ERROR, (_, d) => {
  const frag = d.frag ? ` (${d.frag.type} fragment ${d.frag.sn} of level ${d.frag.level})` : '';
  const at = ` at ${video.currentTime.toFixed(2)} s`;
  (d.fatal ? state.fatal : state.nonFatal).push(`${d.type}: ${d.details}${frag}${at}`);
});
hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => state.switched.push(d.level));
hls.on(Hls.Events.BUFFER_CREATED, (_, d) => {
  state.bufferTracks = Object.keys(d.tracks);
});
hls.on(Hls.Events.BUFFER_APPENDED, (_, d) => {
  if (d.timeRanges.video?.length) state.videoStart ??= d.timeRanges.video.start(0);
  if (d.timeRanges.audio) state.audioRanges = rangesOf(d.timeRanges.audio);
});
hls.on(Hls.Events.MANIFEST_PARSED, () => {
  video.play().catch((err) => state.fatal.push(`play(): ${err.message}`));
});

video.addEventListener('error', () => {
  state.videoError = `${video.error?.code}: ${video.error?.message}`;
});
video.addEventListener('waiting', () => {
  if (state.firstFrameAt !== null) state.waitingSince ??= performance.now();
});
video.addEventListener('playing', () => {
  if (state.waitingSince === null) return;
  state.stalls.push(performance.now() - state.waitingSince);
  state.waitingSince = null;
});
video.addEventListener('seeked', () => {
  state.seeked++;
});

const onFrame = (now, meta) => {
  state.frames++;
  state.firstFrameAt ??= now;
  state.frameWidth = meta.width;
  state.frameHeight = meta.height;
  video.requestVideoFrameCallback(onFrame);
};
video.requestVideoFrameCallback(onFrame);

hls.attachMedia(video);
hls.loadSource(src);

const cueOf = (c) => ({ start: c.startTime, end: c.endTime, text: c.text });

window.player = {
  hls,
  video,
  state,
  snapshot() {
    // Resource Timing has the start of the master playlist request even cross-origin.
    const master = performance.getEntriesByName(src)[0];
    const quality = video.getVideoPlaybackQuality();
    return {
      ...state,
      masterRequestedAt: master ? master.startTime : null,
      currentTime: video.currentTime,
      paused: video.paused,
      ended: video.ended,
      levels: hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate })),
      currentLevel: hls.currentLevel,
      audioTracks: hls.audioTracks.length,
      audioDecodedBytes: video.webkitAudioDecodedByteCount ?? 0,
      droppedFrames: quality.droppedVideoFrames,
      subtitleTracks: hls.subtitleTracks.length,
      subtitleTrack: hls.subtitleTrack,
      textTracks: Array.from(video.textTracks, (t) => ({
        kind: t.kind,
        label: t.label,
        language: t.language,
        mode: t.mode,
        cues: Array.from(t.cues ?? [], cueOf),
        activeCues: Array.from(t.activeCues ?? [], cueOf),
      })),
      longestStall: Math.max(
        0,
        ...state.stalls,
        state.waitingSince === null ? 0 : performance.now() - state.waitingSince,
      ),
    };
  },
};
