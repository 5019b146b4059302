/**
 * Samples /proc every ~100 ms: the peak RSS (VmHWM) of a root process and of every ffmpeg or
 * ffprobe below it, when each of those was first and last seen, and the bytes under a
 * directory (the workers' TMPDIR). VmHWM only grows, so the last sample before a process
 * exits is its peak to within one interval of growth.
 */
import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ChildProc {
  pid: number;
  comm: string;
  /** argv, NUL-separated in /proc; kept to tell an audio job from a video chunk. */
  args: string[];
  firstSeen: number;
  lastSeen: number;
  hwmKb: number;
  /** user + system CPU seconds at the last sample. */
  cpuSeconds: number;
}

export interface Samples {
  rootHwmKb: number;
  /** The root's own user + system CPU seconds (not its children's) at the last sample. */
  rootCpuSeconds: number;
  children: ChildProc[];
  /** Largest total size seen under the watched directory, bytes. */
  dirPeakBytes: number;
  /** Largest size seen of any one directory directly below it (one job's work dir). */
  subdirPeakBytes: number;
  samples: number;
}

const WATCHED = new Set(['ffmpeg', 'ffprobe']);

/** CPU seconds of the children this process has reaped so far (see ProcSampler.reapedCpu). */
export const ownReapedCpu = (): number => readStat('self')?.reapedCpu ?? 0;

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

interface Stat {
  comm: string;
  ppid: number;
  /** Its own user + system CPU seconds. */
  cpu: number;
  /** User + system CPU seconds of the children it has reaped (and theirs), exact. */
  reapedCpu: number;
}

function readStat(pid: number | string): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid … utime stime …`; comm may itself hold spaces or parentheses.
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    const f = text.slice(close + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / TICKS;
    const reapedCpu = (Number(f[13]) + Number(f[14])) / TICKS;
    return { comm: text.slice(open + 1, close), ppid: Number(f[1]), cpu, reapedCpu };
  } catch {
    return undefined;
  }
}

export function vmHwmKb(pid: number | string): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function readArgs(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Total size of the files below `path`, or of the file (files vanish as we walk: skip). */
export function dirBytes(path: string): number {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) total += dirBytes(child);
    else {
      try {
        total += statSync(child).size;
      } catch {
        // deleted between readdir and stat
      }
    }
  }
  return total;
}

export class ProcSampler {
  private timer: NodeJS.Timeout | undefined;
  private rootHwmKb = 0;
  private rootCpuSeconds = 0;
  private dirPeakBytes = 0;
  private subdirPeakBytes = 0;
  private samples = 0;
  private readonly children = new Map<number, ChildProc>();

  constructor(
    private readonly rootPid: number,
    private readonly opts: { intervalMs?: number; dir?: string } = {},
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.opts.intervalMs ?? 100);
    return this;
  }

  stop(): Samples {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return {
      rootHwmKb: this.rootHwmKb,
      rootCpuSeconds: this.rootCpuSeconds,
      children: [...this.children.values()].sort((a, b) => a.firstSeen - b.firstSeen),
      dirPeakBytes: this.dirPeakBytes,
      subdirPeakBytes: this.subdirPeakBytes,
      samples: this.samples,
    };
  }

  /** The root process's CPU seconds so far (sampled now). */
  rootCpu(): number {
    return readStat(this.rootPid)?.cpu ?? 0;
  }

  /**
   * CPU seconds of every child the root has reaped so far: exact, where the samples miss the
   * last interval of each process and can miss a short one entirely.
   */
  reapedCpu(): number {
    return readStat(this.rootPid)?.reapedCpu ?? 0;
  }

  sample(): void {
    const now = Date.now();
    this.samples += 1;
    const root = vmHwmKb(this.rootPid);
    if (root !== undefined) this.rootHwmKb = Math.max(this.rootHwmKb, root);
    const rootStat = readStat(this.rootPid);
    if (rootStat) this.rootCpuSeconds = rootStat.cpu;

    const kids = new Map<number, number[]>();
    const stats = new Map<number, Stat>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = readStat(name);
      if (!st) continue;
      const pid = Number(name);
      stats.set(pid, st);
      const list = kids.get(st.ppid);
      if (list) list.push(pid);
      else kids.set(st.ppid, [pid]);
    }
    // Every descendant of the root, however deep (a shell or npx in between is fine).
    const queue = [...(kids.get(this.rootPid) ?? [])];
    for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
      queue.push(...(kids.get(pid) ?? []));
      const st = stats.get(pid);
      if (!st || !WATCHED.has(st.comm)) continue;
      const hwm = vmHwmKb(pid);
      if (hwm === undefined) continue;
      const known = this.children.get(pid);
      if (known) {
        known.lastSeen = now;
        known.hwmKb = Math.max(known.hwmKb, hwm);
        known.cpuSeconds = st.cpu;
      } else {
        this.children.set(pid, {
          pid,
          comm: st.comm,
          args: readArgs(String(pid)),
          firstSeen: now,
          lastSeen: now,
          hwmKb: hwm,
          cpuSeconds: st.cpu,
        });
      }
    }
    if (this.opts.dir) this.sampleDir(this.opts.dir);
  }

  private sampleDir(dir: string): void {
    let total = 0;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const bytes = dirBytes(join(dir, name));
      total += bytes;
      this.subdirPeakBytes = Math.max(this.subdirPeakBytes, bytes);
    }
    this.dirPeakBytes = Math.max(this.dirPeakBytes, total);
  }
}

/** A transcode, not one of fluent-ffmpeg's capability checks (`ffmpeg -encoders`). */
export const isTranscode = (p: ChildProc): boolean => p.comm === 'ffmpeg' && p.args.includes('-i');

/** An x264 chunk encode (as opposed to the audio-only job). */
export const isVideoEncode = (p: ChildProc): boolean =>
  isTranscode(p) && p.args.includes('libx264');

/** The value after `flag` in the last place it occurs (`-segment_start_number` of the last output). */
export function argAfter(p: ChildProc, flag: string): string | undefined {
  const i = p.args.lastIndexOf(flag);
  return i >= 0 ? p.args[i + 1] : undefined;
}
