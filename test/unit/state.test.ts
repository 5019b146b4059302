import { describe, expect, it } from 'vitest';
import { jobCount } from '../../functions/core/jobs.js';
import type { MediaInfo } from '../../functions/core/media.js';
import { makePlan, type Plan } from '../../functions/core/plan.js';
import type { ReadyRecord } from '../../functions/core/records.js';
import { deriveView, type VideoRecords } from '../../functions/core/state.js';
import { sourceInfo } from '../support/media-info.js';

const VIDEO_ID = 'abcdefghij0123456789';
const CREATED_AT = '2025-03-01T12:00:00.000Z';
const PLAYBACK_URL = `https://cdn.example.com/videos/${VIDEO_ID}/master.m3u8`;
const urlOf = (key: string): string => `https://cdn.example.com/${key}`;

const SOURCE: MediaInfo = sourceInfo({}, { duration: 75 });

/** 75 s at 30 fps in 30 s chunks: three chunk jobs and the audio job. */
const PLAN: Plan = makePlan(VIDEO_ID, SOURCE, {
  segmentSeconds: 6,
  chunkSegments: 5,
  x264Preset: 'veryfast',
});

const READY: ReadyRecord = {
  duration: 75,
  renditions: [
    {
      name: '720p',
      width: 1280,
      height: 720,
      bandwidth: 3_200_000,
      averageBandwidth: 2_900_000,
      codecs: 'avc1.64001f,mp4a.40.2',
      frameRate: 30,
    },
    {
      name: '360p',
      width: 640,
      height: 360,
      bandwidth: 900_000,
      averageBandwidth: 800_000,
      codecs: 'avc1.64001e,mp4a.40.2',
      frameRate: 30,
    },
  ],
};

function records(overrides: Partial<VideoRecords> = {}): VideoRecords {
  return {
    video: {
      id: VIDEO_ID,
      createdAt: CREATED_AT,
      filename: 'holiday.mp4',
      contentType: 'video/mp4',
      size: 10_000_000,
    },
    lastChange: new Date('2025-03-01T12:05:00.000Z'),
    sourceUploaded: false,
    completedJobs: 0,
    ...overrides,
  };
}

const progressAfter = (completedJobs: number) =>
  deriveView(records({ sourceUploaded: true, plan: PLAN, completedJobs }), urlOf).progress;

describe('deriveView', () => {
  it('awaits the upload while there is neither a source nor a plan', () => {
    const view = deriveView(records(), urlOf);

    expect(view).toMatchObject({ id: VIDEO_ID, status: 'awaiting_upload', progress: 0 });
    expect(view.playbackUrl).toBeUndefined();
  });

  it('is processing with no progress once the source is uploaded but not yet planned', () => {
    const view = deriveView(records({ sourceUploaded: true }), urlOf);

    expect(view).toMatchObject({ status: 'processing', progress: 0 });
    expect(view.duration).toBeUndefined();
  });

  it('is processing once a plan exists, with the planned duration', () => {
    const view = deriveView(records({ sourceUploaded: true, plan: PLAN }), urlOf);

    expect(view).toMatchObject({ status: 'processing', duration: 75 });
  });

  it('shows progress strictly between 0 and 1 while jobs run', () => {
    for (let done = 0; done <= 4; done++) {
      const progress = progressAfter(done);

      expect(progress).toBeGreaterThan(0);
      expect(progress).toBeLessThan(1);
    }
  });

  it('grows the progress with every completed job', () => {
    const progress = [0, 1, 2, 3, 4].map(progressAfter);

    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]).toBeGreaterThan(progress[i - 1] ?? 1);
    }
  });

  it('never passes the finished-jobs progress when more job records than jobs are seen', () => {
    expect(progressAfter(jobCount(PLAN) + 3)).toBe(progressAfter(jobCount(PLAN)));
  });

  it('is ready with the playback URL, the duration and full progress', () => {
    const view = deriveView(records({ sourceUploaded: true, plan: PLAN, ready: READY }), urlOf);

    expect(view).toMatchObject({
      status: 'ready',
      progress: 1,
      duration: 75,
      playbackUrl: PLAYBACK_URL,
    });
  });

  it('lists the ready renditions without their name or frame rate', () => {
    const view = deriveView(records({ sourceUploaded: true, plan: PLAN, ready: READY }), urlOf);

    expect(view.renditions).toEqual([
      {
        width: 1280,
        height: 720,
        bandwidth: 3_200_000,
        averageBandwidth: 2_900_000,
        codecs: 'avc1.64001f,mp4a.40.2',
      },
      {
        width: 640,
        height: 360,
        bandwidth: 900_000,
        averageBandwidth: 800_000,
        codecs: 'avc1.64001e,mp4a.40.2',
      },
    ]);
  });

  it('is failed with the recorded error even when a ready record exists', () => {
    const error = { code: 'DECODE_FAILED', message: 'chunk 2 could not be decoded' };

    const view = deriveView(
      records({ sourceUploaded: true, plan: PLAN, ready: READY, failed: { error } }),
      urlOf,
    );

    expect(view).toMatchObject({ status: 'failed', progress: 1, error });
    expect(view.playbackUrl).toBeUndefined();
    expect(view.renditions).toBeUndefined();
  });

  it('is failed even before the source is uploaded', () => {
    const error = { code: 'UPLOAD_TOO_LARGE', message: 'too large' };

    const view = deriveView(records({ failed: { error } }), urlOf);

    expect(view.status).toBe('failed');
  });

  it('keeps the creation time of the video record', () => {
    const view = deriveView(records(), urlOf);

    expect(view.createdAt).toBe(CREATED_AT);
  });

  it('reports the time of the newest record as updatedAt', () => {
    const view = deriveView(records({ lastChange: new Date('2025-03-01T12:05:00.000Z') }), urlOf);

    expect(view.updatedAt).toBe('2025-03-01T12:05:00.000Z');
  });

  it('never reports updatedAt before createdAt', () => {
    const view = deriveView(records({ lastChange: new Date(0) }), urlOf);

    expect(Date.parse(view.updatedAt)).toBeGreaterThanOrEqual(Date.parse(view.createdAt));
    expect(view.updatedAt).toBe(CREATED_AT);
  });
});
