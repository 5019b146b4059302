/** The HTTP API as the CLI uses it: one method per route, and the upload itself. */
import { createReadStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { VideoView } from '../functions/core/state.js';
import type { CreatedVideo, VideoPage } from '../functions/upload/api.js';
import type { PresignedParts, UploadedParts } from '../functions/upload/multipart.js';
import type { Target } from './target.js';

/** An answer other than the one asked for; `status` 0 when the API could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class SpoolClient {
  constructor(
    private readonly target: Target,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  createVideo(body: { filename: string; contentType: string; size: number }) {
    return this.call<CreatedVideo>('POST', '/videos', body);
  }

  getVideo(id: string) {
    return this.call<VideoView>('GET', `/videos/${encodeURIComponent(id)}`);
  }

  listVideos(query: { limit?: number; cursor?: string }) {
    const params = new URLSearchParams();
    if (query.limit) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    const qs = params.size > 0 ? `?${params}` : '';
    return this.call<VideoPage>('GET', `/videos${qs}`);
  }

  async deleteVideo(id: string): Promise<void> {
    await this.call<void>('DELETE', `/videos/${encodeURIComponent(id)}`);
  }

  /** A multipart upload's part URLs, for the numbers given (at most 100). */
  presignParts(id: string, partNumbers: number[]) {
    return this.call<PresignedParts>('POST', `/videos/${encodeURIComponent(id)}/parts`, {
      partNumbers,
    });
  }

  /** A multipart upload's plan and the parts that arrived. */
  listParts(id: string) {
    return this.call<UploadedParts>('GET', `/videos/${encodeURIComponent(id)}/parts`);
  }

  completeUpload(id: string) {
    return this.call<VideoView>('POST', `/videos/${encodeURIComponent(id)}/complete`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.target.api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.target.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      // undici says only "fetch failed"; the cause says why (ECONNRESET, ECONNREFUSED, …).
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause ? ` (${cause.code ?? cause.message})` : '';
      throw new ApiError(0, 'UNREACHABLE', `${this.target.api}: ${(err as Error).message}${why}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let error: { code?: string; message?: string } = {};
      try {
        error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
      } catch {
        // Not our API's JSON (a proxy's page): the status says enough.
      }
      throw new ApiError(
        res.status,
        error.code ?? `HTTP_${res.status}`,
        error.message ?? `${method} ${path}: HTTP ${res.status}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** A PUT that makes no progress for this long is dropped (and a part's is retried). */
const PUT_IDLE_MS = 120_000;

/**
 * PUT a file, or `size` bytes of it from `offset` (a part), to a presigned URL, streaming it
 * from disk (a multi-GB file never sits in memory) with the exact Content-Length the URL was
 * signed for; `onBytes` sees how much of this PUT was read so far.
 */
export function putFile(
  upload: { url: string; headers: Record<string, string> },
  file: string,
  size: number,
  onBytes: (sent: number) => void,
  offset = 0,
): Promise<void> {
  const url = new URL(upload.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { ...upload.headers, 'content-length': String(size) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString().slice(0, 2000);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else {
            const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP_${status}`;
            reject(new ApiError(status, code, `upload refused: ${code} (HTTP ${status})`));
          }
        });
      },
    );
    req.on('error', (err) => reject(new ApiError(0, 'UPLOAD_FAILED', err.message)));
    req.setTimeout(PUT_IDLE_MS, () => req.destroy(new Error('no progress for 2 minutes')));
    let sent = 0;
    const stream = createReadStream(file, { start: offset, end: offset + size - 1 });
    stream.on('data', (chunk) => {
      sent += chunk.length;
      onBytes(sent);
    });
    stream.on('error', (err) => req.destroy(err));
    stream.pipe(req);
  });
}
