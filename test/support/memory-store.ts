/** An in-memory ObjectStore and MessageQueue, for use-case tests that need no S3 or SQS. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { UploadedPart } from '../../functions/core/multipart.js';
import type {
  MessageQueue,
  ObjectStore,
  RangeBody,
  StoredObject,
} from '../../functions/core/ports.js';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<
    string,
    { body: string; contentType?: string; cacheControl?: string; at: Date }
  >();

  private k = (bucket: string, key: string) => `${bucket}/${key}`;

  text(bucket: string, key: string): string | undefined {
    return this.objects.get(this.k(bucket, key))?.body;
  }

  async getJson<T>(bucket: string, key: string): Promise<T | undefined> {
    const t = this.text(bucket, key);
    return t === undefined ? undefined : (JSON.parse(t) as T);
  }

  async getText(bucket: string, key: string): Promise<string | undefined> {
    return this.text(bucket, key);
  }

  async putJson(bucket: string, key: string, value: unknown, opts: { ifNoneMatch?: boolean } = {}) {
    if (opts.ifNoneMatch && this.objects.has(this.k(bucket, key))) return 'exists' as const;
    this.objects.set(this.k(bucket, key), { body: JSON.stringify(value), at: new Date() });
    return 'created' as const;
  }

  async putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    opts: { contentType: string; cacheControl?: string },
  ) {
    this.objects.set(this.k(bucket, key), { body: String(body), ...opts, at: new Date() });
  }

  async putFile(
    bucket: string,
    key: string,
    path: string,
    opts: { contentType: string; cacheControl?: string },
  ): Promise<void> {
    const body = (await readFile(path)).toString('latin1');
    this.objects.set(this.k(bucket, key), { body, ...opts, at: new Date() });
  }

  async head(bucket: string, key: string): Promise<StoredObject | undefined> {
    const o = this.objects.get(this.k(bucket, key));
    return o ? { key, size: o.body.length, lastModified: o.at } : undefined;
  }

  async deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(this.k(bucket, key));
  }

  /** As S3 lists: keys in byte order, after `startAfter`, at most `limit` of them. */
  async list(bucket: string, prefix: string, opts: { startAfter?: string; limit?: number } = {}) {
    const all = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${bucket}/${prefix}`))
      .map(([k, o]) => ({
        key: k.slice(bucket.length + 1),
        size: o.body.length,
        lastModified: o.at,
      }))
      .filter((o) => opts.startAfter === undefined || o.key > opts.startAfter)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const objects = opts.limit === undefined ? all : all.slice(0, opts.limit);
    return { objects, truncated: objects.length < all.length };
  }

  async presignPut(): Promise<string> {
    return 'http://example.invalid/put';
  }

  async getRange(_bucket: string, _key: string, _range?: string): Promise<RangeBody | undefined> {
    return undefined;
  }

  /** Multipart uploads in progress, by upload id: their parts' bodies by part number. */
  readonly uploads = new Map<
    string,
    { bucket: string; key: string; contentType: string; parts: Map<number, string> }
  >();
  /** Every part URL presigned, as the client would get it. */
  readonly presignedParts: { key: string; uploadId: string; partNumber: number; length: number }[] =
    [];

  async createMultipartUpload(bucket: string, key: string, opts: { contentType: string }) {
    const uploadId = `upload-${this.uploads.size + 1}`;
    this.uploads.set(uploadId, { bucket, key, contentType: opts.contentType, parts: new Map() });
    return uploadId;
  }

  async presignUploadPart(
    _bucket: string,
    key: string,
    opts: { uploadId: string; partNumber: number; contentLength: number; expiresIn: number },
  ) {
    const { uploadId, partNumber, contentLength: length } = opts;
    this.presignedParts.push({ key, uploadId, partNumber, length });
    return `http://example.invalid/${key}?uploadId=${uploadId}&partNumber=${partNumber}&length=${length}`;
  }

  /** What a client's PUT to a presigned part URL does: the last body sent for a part wins. */
  uploadPart(uploadId: string, partNumber: number, body: string): void {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new Error(`no upload ${uploadId}`);
    upload.parts.set(partNumber, body);
  }

  private etagOf = (body: string) => `"${createHash('md5').update(body, 'latin1').digest('hex')}"`;

  async listParts(bucket: string, key: string, uploadId: string) {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) return undefined;
    return [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, body]) => ({ partNumber, size: body.length, etag: this.etagOf(body) }));
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ) {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) return 'gone' as const;
    const bodies = parts.map((p) => upload.parts.get(p.partNumber));
    if (parts.some((p, i) => bodies[i] === undefined || this.etagOf(bodies[i] ?? '') !== p.etag)) {
      return 'invalid-parts' as const;
    }
    this.uploads.delete(uploadId);
    await this.putObject(bucket, key, bodies.join(''), { contentType: upload.contentType });
    return 'completed' as const;
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string) {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) return 'gone' as const;
    this.uploads.delete(uploadId);
    return 'aborted' as const;
  }
}

export class MemoryQueue implements MessageQueue {
  readonly sent: {
    queueUrl: string;
    message: object;
    group?: string;
    dedup?: string;
    delaySeconds?: number;
  }[] = [];

  async sendAll(
    queueUrl: string,
    messages: readonly object[],
    opts: { delaySeconds?: number } = {},
  ) {
    for (const message of messages) this.sent.push({ queueUrl, message, ...opts });
  }

  async sendOrdered(queueUrl: string, message: object, group: string, dedup: string) {
    this.sent.push({ queueUrl, message, group, dedup });
  }

  /** What `waiting` answers, per queue URL (a test sets a backlog). */
  readonly backlog = new Map<string, number>();

  async waiting(queueUrl: string) {
    return this.backlog.get(queueUrl) ?? 0;
  }
}
