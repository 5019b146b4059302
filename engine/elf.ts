/**
 * Reads what the dynamic loader reads from an ELF file: its interpreter (PT_INTERP), the
 * libraries it needs (DT_NEEDED), its own soname, and where it asks to look (DT_RUNPATH,
 * DT_RPATH). Enough to copy an executable's whole load-time closure, and nothing more.
 * 64-bit little-endian only: x86_64 and aarch64, the two architectures Lambda runs.
 */

export interface ElfDynamic {
  /** PT_INTERP, e.g. `/lib64/ld-linux-x86-64.so.2`; undefined for a shared library. */
  readonly interpreter?: string;
  readonly needed: readonly string[];
  readonly soname?: string;
  readonly runpath: readonly string[];
  /** e_machine: 62 is x86_64, 183 is aarch64. */
  readonly machine: number;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

/** Whether the bytes start like an ELF file. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

export function readElfDynamic(bytes: Buffer): ElfDynamic {
  if (!isElf(bytes)) throw new Error('not an ELF file');
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const machine = bytes.readUInt16LE(18);
  const phoff = Number(bytes.readBigUInt64LE(32));
  const phentsize = bytes.readUInt16LE(54);
  const phnum = bytes.readUInt16LE(56);

  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = bytes.readUInt32LE(at);
    const offset = bytes.readBigUInt64LE(at + 8);
    const vaddr = bytes.readBigUInt64LE(at + 16);
    const filesz = bytes.readBigUInt64LE(at + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_INTERP) {
      interpreter = cString(bytes, Number(offset));
    }
    if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
  }
  if (!dynamic) return { interpreter, needed: [], runpath: [], machine };

  const entries: { tag: bigint; value: bigint }[] = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = bytes.readBigInt64LE(at);
    if (tag === DT_NULL) break;
    entries.push({ tag, value: bytes.readBigUInt64LE(at + 8) });
  }
  const strtabAddr = entries.find((e) => e.tag === DT_STRTAB)?.value;
  if (strtabAddr === undefined) throw new Error('dynamic section without a string table');
  // DT_STRTAB is a virtual address: find the file offset through the segment that maps it.
  const segment = loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!segment) throw new Error('string table outside every loaded segment');
  const strtab = Number(strtabAddr - segment.vaddr + segment.offset);
  const str = (value: bigint) => cString(bytes, strtab + Number(value));

  const needed = entries.filter((e) => e.tag === DT_NEEDED).map((e) => str(e.value));
  const sonameEntry = entries.find((e) => e.tag === DT_SONAME);
  const runpath = entries
    .filter((e) => e.tag === DT_RUNPATH || e.tag === DT_RPATH)
    .flatMap((e) => str(e.value).split(':'))
    .filter((p) => p !== '');
  return {
    interpreter,
    needed,
    soname: sonameEntry ? str(sonameEntry.value) : undefined,
    runpath,
    machine,
  };
}

function cString(bytes: Buffer, at: number): string {
  const end = bytes.indexOf(0, at);
  return bytes.toString('latin1', at, end < 0 ? bytes.length : end);
}
