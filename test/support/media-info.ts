/** What ingest knows of a source, for unit tests that need one without probing a file. */
import type { MediaInfo } from '../../functions/core/media.js';

type Video = NonNullable<MediaInfo['video']>;

/**
 * A 1280x720 30 fps H.264 MP4 of `duration` seconds with stereo AAC, as normalizeProbe
 * returns it; a test overrides what it is about.
 */
export function sourceInfo(video: Partial<Video> = {}, info: Partial<MediaInfo> = {}): MediaInfo {
  return {
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: 60,
    streamCount: 2,
    mediaStreamCount: 2,
    video: {
      streamIndex: 0,
      codec: 'h264',
      width: 1280,
      height: 720,
      frameRate: { num: 30, den: 1 },
      variableFrameRate: false,
      startOffset: 0,
      startTime: 0,
      ...video,
    },
    audio: { streamIndex: 1, codec: 'aac', channels: 2, sampleRate: 48_000 },
    ...info,
  };
}
