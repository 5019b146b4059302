import { describe, expect, it } from 'vitest';
import { bundleKey, type LockedPackage, upstreamVersion } from '../../engine/bundle.js';
import { arMembers } from '../../engine/deb.js';
import {
  type DebianPackage,
  packagesFromIndex,
  parseDepends,
  parseStanzas,
  resolveClosure,
} from '../../engine/debian.js';

const suite = { name: 'trixie', base: 'https://deb.debian.org/debian' };
const security = { name: 'trixie-security', base: 'https://deb.debian.org/debian-security' };

const stanza = (fields: Record<string, string>) =>
  Object.entries({ Version: '1', Filename: 'pool/x.deb', SHA256: 'aa', Size: '1', ...fields })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');

const index = (...stanzas: Record<string, string>[]) =>
  packagesFromIndex(stanzas.map(stanza).join('\n\n'), suite);

describe('Debian control files', () => {
  it('reads stanzas with continuation lines', () => {
    const [first, second] = parseStanzas('Package: a\nDescription: one\n two\n\nPackage: b\n');
    expect(first?.get('Description')).toBe('one\ntwo');
    expect(second?.get('Package')).toBe('b');
  });

  it('reads dependencies as groups of alternatives, without versions or arch qualifiers', () => {
    expect(parseDepends('libc6 (>= 2.38), libx | liby:any (<< 2), python3:any')).toEqual([
      ['libc6'],
      ['libx', 'liby'],
      ['python3'],
    ]);
  });

  it('takes the source package and its version from the Source field', () => {
    const [pkg] = index({ Package: 'libavcodec61', Version: '7:7.1.6-0+deb13u1' });
    expect(pkg).toMatchObject({ source: 'libavcodec61', sourceVersion: '7:7.1.6-0+deb13u1' });
    const [other] = index({ Package: 'libx265-215', Source: 'x265 (4.1-2)', Version: '4.1-2+b1' });
    expect(other).toMatchObject({ source: 'x265', sourceVersion: '4.1-2' });
  });
});

describe('the dependency closure', () => {
  const main = index(
    { Package: 'ffmpeg', Depends: 'libavcodec61, libgl1 | libgl-virtual' },
    { Package: 'libavcodec61', Version: '1', 'Pre-Depends': 'libc6', Recommends: 'mesa' },
    { Package: 'libc6' },
    { Package: 'libgl1', Depends: 'libc6' },
    { Package: 'mesa' },
    { Package: 'unrelated' },
  );

  it('follows Depends and Pre-Depends, never Recommends, first alternative first', () => {
    expect(resolveClosure([main], ['ffmpeg']).map((p) => p.name)).toEqual([
      'ffmpeg',
      'libavcodec61',
      'libc6',
      'libgl1',
    ]);
  });

  it('takes each package from the last suite that has it (security updates win)', () => {
    const fixed: DebianPackage[] = packagesFromIndex(
      stanza({ Package: 'libavcodec61', Version: '2', 'Pre-Depends': 'libc6' }),
      security,
    );
    const closure = resolveClosure([main, fixed], ['ffmpeg']);
    expect(closure.find((p) => p.name === 'libavcodec61')).toMatchObject({
      version: '2',
      suite: 'trixie-security',
      base: security.base,
    });
  });

  it('satisfies a virtual package by a package that provides it', () => {
    const virtual = index(
      { Package: 'app', Depends: 'libblas.so.3' },
      { Package: 'libopenblas0', Provides: 'libblas.so.3' },
    );
    expect(resolveClosure([virtual], ['app']).map((p) => p.name)).toEqual(['app', 'libopenblas0']);
  });

  it('says which dependency nothing satisfies', () => {
    const broken = index({ Package: 'app', Depends: 'missing | gone' });
    expect(() => resolveClosure([broken], ['app'])).toThrow(
      /app: nothing satisfies missing \| gone/,
    );
  });
});

describe('ar archives (.deb)', () => {
  it('lists the members, 2-byte aligned', () => {
    const header = (name: string, size: number) =>
      `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
    const archive = Buffer.from(
      `!<arch>\n${header('debian-binary', 4)}2.0\n${header('odd/', 3)}abc\n${header('last', 2)}ok`,
    );
    const members = arMembers(archive);
    expect([...members.keys()]).toEqual(['debian-binary', 'odd', 'last']);
    expect(members.get('odd')?.toString()).toBe('abc');
    expect(members.get('last')?.toString()).toBe('ok');
  });

  it('refuses what is not an ar archive', () => {
    expect(() => arMembers(Buffer.from('PK\u0003\u0004'))).toThrow(/not an ar archive/);
  });
});

describe('bundle keys and versions', () => {
  const pkg = (name: string, sha256: string): LockedPackage => ({
    name,
    version: '1',
    source: name,
    sourceVersion: '1',
    suite: 'trixie',
    base: suite.base,
    filename: `pool/${name}.deb`,
    sha256,
    size: 1,
  });

  it("changes with any package's bytes and with the architecture, not with their order", () => {
    const a = [pkg('a', '11'), pkg('b', '22')];
    expect(bundleKey('x86_64', a)).toBe(bundleKey('x86_64', [...a].reverse()));
    expect(bundleKey('x86_64', a)).not.toBe(bundleKey('x86_64', [pkg('a', '11'), pkg('b', '23')]));
    expect(bundleKey('x86_64', a)).not.toBe(bundleKey('arm64', a));
  });

  it("reads ffmpeg's own version from Debian's", () => {
    expect(upstreamVersion('7:7.1.6-0+deb13u1')).toBe('7.1.6');
    expect(upstreamVersion('4.1-2+b1')).toBe('4.1');
  });
});
