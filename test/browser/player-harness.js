/**
 * Runs in the browser: plays `?src=` with hls.js (muted) and records what a viewer would
 * notice (startup, stalls, errors, level switches, frames) for the test to read as
 * `player.snapshot()` and to drive with `player.hls` / `player.video`.
 */
const { Hls } = window;
const video = document.getElementById('video');
const src = new URLSearchParams(location.search).get('src');

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
};

const hls = new Hls();
hls.on(Hls.Events.ERROR, (_, d) => {
  const frag = d.frag ? ` (${d.frag.type} fragment ${d.frag.sn} of level ${d.frag.level})` : '';
  const at = ` at ${video.currentTime.toFixed(2)} s`;
  (d.fatal ? state.fatal : state.nonFatal).push(`${d.type}: ${d.details}${frag}${at}`);
});
hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => state.switched.push(d.level));
hls.on(Hls.Events.BUFFER_CREATED, (_, d) => {
  state.bufferTracks = Object.keys(d.tracks);
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
      longestStall: Math.max(
        0,
        ...state.stalls,
        state.waitingSince === null ? 0 : performance.now() - state.waitingSince,
      ),
    };
  },
};
