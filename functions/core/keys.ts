/**
 * The storage layout (DESIGN.md §4). Every key Spool reads or writes is built here, so the
 * layout can be read in one place and the S3 notification filter (lib/ingest.ts) matches it.
 */
/** A video id: 20 characters of lower-case base 32, safe in any URL or key. */
export const VIDEO_ID_PATTERN = /^[a-z0-9]{20}$/;

export const isVideoId = (id: string): boolean => VIDEO_ID_PATTERN.test(id);

export const keys = {
  /** Uploads bucket: the raw source, written by the client's presigned PUT. */
  uploadsPrefix: 'uploads/',
  sourceSuffix: '/source',
  /** Everything uploaded for one video: its source and its caption sidecars. */
  upload: (id: string) => `uploads/${id}/`,
  source: (id: string) => `uploads/${id}/source`,
  /** Uploads bucket: write-once state records from which a video's status is derived. */
  statePrefix: 'state/',
  records: (id: string) => `state/${id}/`,
  video: (id: string) => `state/${id}/video.json`,
  plan: (id: string) => `state/${id}/plan.json`,
  enqueued: (id: string) => `state/${id}/enqueued.json`,
  chunksPrefix: (id: string) => `state/${id}/chunks/`,
  chunk: (id: string, index: number) => `state/${id}/chunks/${String(index).padStart(5, '0')}.json`,
  playable: (id: string) => `state/${id}/playable.json`,
  ready: (id: string) => `state/${id}/ready.json`,
  failed: (id: string) => `state/${id}/failed.json`,
  /** The multipart upload of a source above the threshold: its upload id, kept server-side. */
  multipart: (id: string) => `state/${id}/multipart.json`,
  /** Written once when the sweeper re-sends a stalled video's missing work. */
  redriven: (id: string) => `state/${id}/redriven.json`,
  /**
   * Uploads bucket: a deleted video's tombstone, written first by DELETE and kept after
   * everything else of the video is gone, so that a job still running finds it deleted
   * (core/deletion.ts). Outside the video's prefixes; a lifecycle rule expires it.
   */
  tombstonePrefix: 'deleted/',
  tombstone: (id: string) => `deleted/${id}`,
  /** Uploads bucket: newest-first listing index (the key sorts by inverted creation time). */
  indexPrefix: 'index/',
  index: (id: string, createdAtMs: number) =>
    `index/${String(9_999_999_999_999 - createdAtMs).padStart(13, '0')}_${id}`,
  /** Output bucket: everything a player fetches lives below this prefix. */
  outputPrefix: 'videos/',
  output: (id: string) => `videos/${id}/`,
  master: (id: string) => `videos/${id}/master.m3u8`,
  mediaPlaylist: (id: string, rendition: string) => `videos/${id}/${rendition}/index.m3u8`,
  segment: (id: string, rendition: string, file: string) => `videos/${id}/${rendition}/${file}`,
  iframePlaylist: (id: string, rendition: string) => `videos/${id}/${rendition}/iframes.m3u8`,
  poster: (id: string, ext: 'jpg' | 'webp') => `videos/${id}/poster.${ext}`,
  storyboardImage: (id: string, file: string) => `videos/${id}/storyboard/${file}`,
  storyboardVtt: (id: string) => `videos/${id}/storyboard/storyboard.vtt`,
  subtitlePlaylist: (id: string, language: string) => `videos/${id}/subs/${language}/index.m3u8`,
  subtitleSegment: (id: string, language: string, file: string) =>
    `videos/${id}/subs/${language}/${file}`,
  /** Uploads bucket: an optional caption sidecar uploaded with the video. */
  caption: (id: string, language: string) => `uploads/${id}/captions/${language}`,
} as const;

/** S3 event notifications URL-encode keys, with '+' for spaces (unlike encodeURIComponent). */
export const decodeS3Key = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

/** `uploads/{id}/source` → id, or undefined for any other key. */
export function videoIdFromSourceKey(key: string): string | undefined {
  const m = /^uploads\/([a-z0-9]{20})\/source$/.exec(key);
  return m?.[1];
}

/** `state/{id}/chunks/00012.json` → 12, for that video's chunk records only. */
export function chunkIndexOfKey(id: string, key: string): number | undefined {
  const prefix = keys.chunksPrefix(id);
  if (!key.startsWith(prefix)) return undefined;
  const m = /^(\d{5,})\.json$/.exec(key.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

/** `deleted/{id}` → id. */
export function videoIdFromTombstoneKey(key: string): string | undefined {
  const m = /^deleted\/([a-z0-9]{20})$/.exec(key);
  return m?.[1];
}

/** `index/{inverted}_{id}` → id. */
export function videoIdFromIndexKey(key: string): string | undefined {
  const m = /^index\/\d{13}_([a-z0-9]{20})$/.exec(key);
  return m?.[1];
}

/** `index/{inverted}_{id}` → the video's creation time in ms. */
export function createdAtFromIndexKey(key: string): number | undefined {
  const m = /^index\/(\d{13})_[a-z0-9]{20}$/.exec(key);
  return m ? 9_999_999_999_999 - Number(m[1]) : undefined;
}
