/** An in-memory ObjectStore and MessageQueue, for use-case tests that need no S3 or SQS. */
import { readFile } from 'node:fs/promises';
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
