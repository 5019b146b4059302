/**
 * Reads a Debian binary package (.deb) without dpkg, so the layer can be assembled on any
 * host (macOS included). A .deb is an `ar` archive of `debian-binary`, `control.tar.*` and
 * `data.tar.*` (deb(5)); the data tarball is xz-compressed in trixie, zstd or gzip in some
 * packages elsewhere.
 */
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import tar from 'tar-stream';

export interface DebEntry {
  /** Path inside the package without the leading `./`, e.g. `usr/bin/ffmpeg`. */
  readonly path: string;
  readonly type: 'file' | 'symlink' | 'directory';
  /** The link target, for a symlink (as written: relative or absolute). */
  readonly linkname?: string;
  readonly mode: number;
  /** The file's bytes, for a file the caller asked to keep. */
  readonly data?: Buffer;
}

/** The members of an ar archive (the common format: `!<arch>\n`, 60-byte headers). */
export function arMembers(archive: Buffer): Map<string, Buffer> {
  const magic = '!<arch>\n';
  if (archive.toString('latin1', 0, 8) !== magic) throw new Error('not an ar archive');
  const members = new Map<string, Buffer>();
  let at = 8;
  while (at + 60 <= archive.length) {
    const name = archive
      .toString('latin1', at, at + 16)
      .trim()
      .replace(/\/$/, '');
    const size = Number.parseInt(archive.toString('latin1', at + 48, at + 58).trim(), 10);
    if (!Number.isFinite(size)) throw new Error('corrupt ar header');
    const start = at + 60;
    members.set(name, archive.subarray(start, start + size));
    at = start + size + (size % 2); // members are 2-byte aligned
  }
  return members;
}

async function decompress(name: string, bytes: Buffer): Promise<Buffer> {
  if (name.endsWith('.xz')) return Buffer.from(await xz.decompress(bytes));
  if (name.endsWith('.zst')) return zstdDecompressSync(bytes);
  if (name.endsWith('.gz')) return gunzipSync(bytes);
  if (name.endsWith('.tar')) return bytes;
  throw new Error(`unknown compression: ${name}`);
}

/**
 * The entries of the package's data tarball. `keep(path)` says which files' bytes to hold;
 * the others are listed without data.
 */
export async function debEntries(
  deb: Buffer,
  keep: (path: string) => boolean,
): Promise<DebEntry[]> {
  const members = arMembers(deb);
  const dataName = [...members.keys()].find((n) => n.startsWith('data.tar'));
  if (!dataName) throw new Error('no data.tar in the package');
  const tarball = await decompress(dataName, members.get(dataName) as Buffer);
  const entries: DebEntry[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const path = header.name.replace(/^\.\//, '').replace(/\/$/, '');
      // A hard link is kept as a symlink to the path it shares (absolute: from the root).
      const hardLink = header.type === 'link';
      const type =
        header.type === 'symlink' || hardLink
          ? 'symlink'
          : header.type === 'directory'
            ? 'directory'
            : 'file';
      const chunks: Buffer[] = [];
      const wanted = type === 'file' && keep(path);
      stream.on('data', (chunk: unknown) => {
        if (wanted) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        entries.push({
          path,
          type,
          linkname: hardLink
            ? `/${(header.linkname ?? '').replace(/^\.\//, '')}`
            : (header.linkname ?? undefined),
          mode: header.mode ?? 0o644,
          data: wanted ? Buffer.concat(chunks) : undefined,
        });
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(tarball);
  await done;
  return entries;
}
