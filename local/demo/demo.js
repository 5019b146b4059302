/**
 * The demo page: upload through the API's presigned URL (or in parts, for a large file),
 * follow processing, play with hls.js (loaded as a classic script: window.Hls). No framework
 * and no build step.
 */
import { cueAt, loadStoryboard } from './storyboard.js';

const $ = (id) => document.getElementById(id);
const token = document.querySelector('meta[name="spool-token"]')?.content ?? '';
const video = $('video');
const POLL_MS = 1000;

/** Inline icons: emoji and symbol glyphs are missing from many Linux fonts. */
const svg = (body) =>
  `<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">${body}</svg>`;
const line = 'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"';
const speaker = '<path fill="currentColor" d="M3 9v6h4l5 5V4L7 9z"/>';
const ICONS = {
  play: svg('<path fill="currentColor" d="M8 5v14l11-7z"/>'),
  pause: svg('<path fill="currentColor" d="M6 5h4v14H6zm8 0h4v14h-4z"/>'),
  sound: svg(`${speaker}<path ${line} d="M16 8.5a5 5 0 0 1 0 7M19 5.5a9 9 0 0 1 0 13"/>`),
  muted: svg(`${speaker}<path ${line} d="M16 9l6 6m0-6l-6 6"/>`),
  fullscreen: svg(`<path ${line} d="M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5"/>`),
};

let hls;
/** Bumped whenever another video is chosen, so stale polls and loads stop. */
let generation = 0;
let storyboard = [];

class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.status = status;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new ApiError(
      json.error?.code ?? `HTTP_${res.status}`,
      json.error?.message ?? '',
      res.status,
    );
  }
  return json;
}

/** XMLHttpRequest, not fetch: only XHR reports upload progress. */
function putFile(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method ?? 'PUT', upload.url);
    for (const [name, value] of Object.entries(upload.headers ?? {})) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve()
        : reject(new Error(`the upload failed: HTTP ${xhr.status}`));
    xhr.onerror = () => reject(new Error('the upload failed: network error'));
    xhr.send(file);
  });
}

/** Parts in flight at once, and tries of each step before the upload gives up. */
const PARALLEL_PARTS = 3;
const TRIES = 4;

/**
 * `step()`, tried again after 1, 2 and 4 s if the network or the server failed; a refusal
 * of the API (4xx) stays one.
 */
async function withRetries(step, onRetry = () => undefined) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= TRIES || (err instanceof ApiError && err.status < 500)) throw err;
      onRetry();
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    }
  }
}

/**
 * A multipart upload (POST /videos answered `multipart`): each part gets a fresh presigned
 * URL and is sent a few at a time; a failed part is sent again after a pause (sending a part
 * twice is harmless, the last copy wins). It starts from the parts S3 already has, so it
 * also resumes an upload that failed earlier. Then POST /videos/{id}/complete joins them.
 */
async function uploadInParts(id, file, onProgress) {
  const path = `/videos/${encodeURIComponent(id)}`;
  const sent = new Map();
  const report = () => onProgress([...sent.values()].reduce((a, b) => a + b, 0) / file.size);
  const listed = await api('GET', `${path}/parts`);
  for (const part of listed.parts) sent.set(part.partNumber, part.size);
  const todo = [];
  for (let n = 1; n <= listed.partCount && !listed.completed; n++) {
    if (!sent.has(n)) todo.push(n);
  }
  report();
  const sendPart = async (partNumber) => {
    // A fresh URL each try: an earlier one may have expired.
    const { parts } = await api('POST', `${path}/parts`, { partNumbers: [partNumber] });
    const part = parts[0];
    const body = file.slice(part.offset, part.offset + part.size);
    await putFile(part, body, (f) => {
      sent.set(partNumber, f * part.size);
      report();
    });
    sent.set(partNumber, part.size);
    report();
  };
  const worker = async () => {
    for (let n = todo.shift(); n !== undefined; n = todo.shift()) {
      await withRetries(
        () => sendPart(n),
        () => sent.delete(n),
      );
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_PARTS }, worker));
  // Completing again is harmless: a try that timed out while S3 joined the parts is done.
  await withRetries(() => api('POST', `${path}/complete`));
}

const formatTime = (s) => {
  const t = Math.max(0, Math.floor(Number.isFinite(s) ? s : 0));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
};

const formatRate = (bps) =>
  bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`;

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function setUpload(fraction) {
  $('upload-progress').value = Math.round(fraction * 100);
  $('upload-text').textContent = `${Math.round(fraction * 100)}%`;
}

function setStatus(view) {
  $('processing-progress').value = view.progress ?? 0;
  const pct = Math.round((view.progress ?? 0) * 100);
  $('status').textContent = view.status === 'processing' ? `processing ${pct}%` : view.status;
  $('status').dataset.status = view.status;
}

async function upload(file) {
  const mine = ++generation;
  stopPlayer();
  showError('');
  setUpload(0);
  setStatus({ status: 'awaiting_upload', progress: 0 });
  // A large file whose upload failed is resumed when it is chosen again (same name, size
  // and modification time), until S3 discards its parts.
  const unfinished = `spool-upload:${file.name}:${file.size}:${file.lastModified}`;
  try {
    const created =
      JSON.parse(localStorage.getItem(unfinished) ?? 'null') ??
      (await api('POST', '/videos', {
        filename: file.name,
        contentType: file.type || 'application/octet-stream',
        size: file.size,
      }));
    history.replaceState(null, '', `?play=${encodeURIComponent(created.id)}`);
    void refreshRecent();
    if (created.multipart) {
      localStorage.setItem(unfinished, JSON.stringify({ id: created.id, multipart: true }));
      await uploadInParts(created.id, file, setUpload).catch((err) => {
        // Gone (discarded by S3, or not found): the next try starts afresh.
        if (err instanceof ApiError && ['NOT_FOUND', 'UPLOAD_EXPIRED'].includes(err.code)) {
          localStorage.removeItem(unfinished);
        }
        throw err;
      });
      localStorage.removeItem(unfinished);
    } else {
      await putFile(created.upload, file, setUpload);
    }
    setUpload(1);
    if (mine === generation) await follow(created.id, mine);
  } catch (err) {
    if (mine === generation) showError(err.message);
  }
}

/** Polls the video until it is ready (then plays it) or failed (then says why). */
async function follow(id, mine) {
  for (;;) {
    const view = await api('GET', `/videos/${encodeURIComponent(id)}`);
    if (mine !== generation) return;
    setStatus(view);
    if (view.status === 'ready') {
      void refreshRecent();
      return play(view, mine);
    }
    if (view.status === 'failed') {
      void refreshRecent();
      return showError(`${view.error?.code ?? 'FAILED'}: ${view.error?.message ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function select(id) {
  const mine = ++generation;
  stopPlayer();
  showError('');
  history.replaceState(null, '', `?play=${encodeURIComponent(id)}`);
  try {
    await follow(id, mine);
  } catch (err) {
    if (mine === generation) showError(err.message);
  }
}

function stopPlayer() {
  hls?.destroy();
  hls = undefined;
  storyboard = [];
  video.removeAttribute('src');
  video.removeAttribute('poster');
  video.load();
  $('player').hidden = true;
}

function play(view, mine) {
  $('player').hidden = false;
  if (view.posterUrl) video.poster = view.posterUrl;
  if (view.storyboardUrl) {
    loadStoryboard(view.storyboardUrl)
      .then((cues) => {
        if (mine === generation) storyboard = cues;
      })
      .catch((err) => console.warn(err));
  }
  // hls.js first: some desktop browsers now answer "maybe" for HLS too, but only hls.js gives
  // the quality menu. Safari on iOS has no MSE, so it plays natively.
  if (window.Hls?.isSupported()) {
    hls = new window.Hls();
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
      renderQuality();
      autoplay();
    });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, renderQuality);
    hls.on(window.Hls.Events.ERROR, (_, data) => {
      if (data.fatal) showError(`Playback error: ${data.type} / ${data.details}`);
    });
    hls.loadSource(view.playbackUrl);
    hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = view.playbackUrl;
    renderQuality();
    autoplay();
  } else {
    showError('This browser can play neither HLS nor Media Source Extensions.');
  }
}

/** Browsers refuse autoplay with sound without a recent user gesture, but allow it muted. */
function autoplay() {
  video.play().catch(() => {
    video.muted = true;
    showMuted();
    video.play().catch(() => undefined);
  });
}

/** Auto, then every level from the highest; the option names what Auto is playing now. */
function renderQuality() {
  const select = $('quality');
  const levels = hls?.levels ?? [];
  const playing = levels[hls?.currentLevel ?? -1];
  const auto = hls?.autoLevelEnabled ?? true;
  const options = [
    new Option(auto && playing ? `Auto (${playing.height}p)` : 'Auto', '-1', false, auto),
  ];
  levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => b.level.bitrate - a.level.bitrate)
    .forEach(({ level, index }) => {
      const label = `${level.height}p · ${formatRate(level.bitrate)}`;
      options.push(new Option(label, String(index), false, !auto && hls.currentLevel === index));
    });
  select.replaceChildren(...options);
  select.disabled = levels.length === 0;
}

$('quality').addEventListener('change', (e) => {
  // currentLevel switches now (flushing the buffer); -1 hands control back to the ABR logic.
  if (hls) hls.currentLevel = Number(e.target.value);
});

// Controls.
const togglePlay = () => (video.paused ? video.play().catch(() => undefined) : video.pause());
$('play').addEventListener('click', togglePlay);
video.addEventListener('click', togglePlay);
video.addEventListener('play', () => {
  $('play').innerHTML = ICONS.pause;
});
video.addEventListener('pause', () => {
  $('play').innerHTML = ICONS.play;
});
const showMuted = () => {
  $('mute').innerHTML = video.muted ? ICONS.muted : ICONS.sound;
};
$('mute').addEventListener('click', () => {
  video.muted = !video.muted;
  showMuted();
});
$('fullscreen').addEventListener('click', () =>
  document.fullscreenElement
    ? document.exitFullscreen()
    : $('player').querySelector('.stage').requestFullscreen(),
);
video.addEventListener('timeupdate', () => {
  const d = video.duration || 0;
  $('played').style.width = `${d ? (video.currentTime / d) * 100 : 0}%`;
  $('time').textContent = `${formatTime(video.currentTime)} / ${formatTime(d)}`;
});
video.addEventListener('progress', () => {
  const b = video.buffered;
  const end = b.length ? b.end(b.length - 1) : 0;
  $('buffered').style.width = `${video.duration ? (end / video.duration) * 100 : 0}%`;
});

// The scrub bar: click or drag to seek; hover shows the time and the storyboard frame.
const scrub = $('scrub');
const timeAt = (e) => {
  const r = scrub.getBoundingClientRect();
  return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * (video.duration || 0);
};
scrub.addEventListener('pointerdown', (e) => {
  scrub.setPointerCapture(e.pointerId);
  video.currentTime = timeAt(e);
});
scrub.addEventListener('pointermove', (e) => {
  const t = timeAt(e);
  if (scrub.hasPointerCapture(e.pointerId)) video.currentTime = t;
  showThumb(e, t);
});
scrub.addEventListener('pointerleave', () => {
  $('thumb').hidden = true;
});

function showThumb(e, t) {
  if (!video.duration) return;
  const thumb = $('thumb');
  const image = $('thumb-image');
  const cue = cueAt(storyboard, t);
  image.hidden = !cue;
  if (cue) {
    Object.assign(image.style, {
      width: `${cue.w}px`,
      height: `${cue.h}px`,
      backgroundImage: `url("${cue.url}")`,
      backgroundPosition: `-${cue.x}px -${cue.y}px`,
    });
  }
  $('thumb-time').textContent = formatTime(t);
  thumb.hidden = false;
  const r = scrub.getBoundingClientRect();
  const half = thumb.offsetWidth / 2;
  thumb.style.left = `${Math.min(r.width - half, Math.max(half, e.clientX - r.left))}px`;
}

// Recent videos.
async function refreshRecent() {
  const { items } = await api('GET', '/videos?limit=10').catch(() => ({ items: [] }));
  $('recent').replaceChildren(
    ...items.map((v) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.id = v.id;
      const when = new Date(v.createdAt).toLocaleString([], {
        dateStyle: 'short',
        timeStyle: 'short',
      });
      const length = v.duration ? formatTime(v.duration) : '';
      button.innerHTML = '<span class="dot"></span><code></code><span></span><span></span>';
      const [dot, id, status, meta] = button.children;
      dot.dataset.status = v.status;
      id.textContent = v.id;
      status.textContent = v.status;
      meta.textContent = [length, when].filter(Boolean).join(' · ');
      button.addEventListener('click', () => void select(v.id));
      const li = document.createElement('li');
      li.append(button);
      return li;
    }),
  );
  if (!items.length) $('recent').innerHTML = '<li class="empty">No videos yet.</li>';
}

$('play').innerHTML = ICONS.play;
$('fullscreen').innerHTML = ICONS.fullscreen;
showMuted();

$('file').addEventListener('change', (e) => {
  const file = e.target.files?.[0];
  if (file) void upload(file);
});

if (!token) {
  $('file').disabled = true;
  showError(
    `Open this page as http://localhost:${location.port || 80}/ on the machine running npm start: only a local page gets the API token.`,
  );
} else {
  void refreshRecent();
  const id = new URLSearchParams(location.search).get('play');
  if (id) void select(id);
}
