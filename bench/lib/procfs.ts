// What the kernel says about a process tree, read from /proc: CPU time (utime + stime), resident
// memory and open descriptors, summed over a process and all its descendants. This is how the
// benchmark measures every server the same way, whatever it is written in and however many
// processes it runs (a Python process, a Node process, a node:cluster primary and its workers).
// Linux only; every reader returns NaN (null, or an empty list) where /proc cannot be read.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of utime/stime (`getconf CLK_TCK`, 100 on Linux). */
const clockTicksPerSecond = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** Resolution of the CPU figures below, in ms (10 ms at 100 ticks per second). */
export const cpuTickMs = 1000 / clockTicksPerSecond;

/** The fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU time of one process, all threads, in ms; NaN if it is gone. */
function processCpuMs(pid: number): number {
  const f = statFields(pid);
  // After the name: state(0) ppid(1) ... utime(11) stime(12), counting from state.
  if (!f) return Number.NaN;
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicksPerSecond;
}

/** Every live descendant of `pid` (children, grandchildren, ...), from the ppid of each process. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f) parentOf.set(Number(entry), Number(f[1]));
  }
  const out: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        out.push(child);
        frontier.push(child);
      }
    }
  }
  return out;
}

/** `pid` and its descendants. */
export function processTree(pid: number): number[] {
  return [pid, ...descendants(pid)];
}

/** Summed CPU time of the given processes, in ms (a process that is gone counts NaN). */
export function treeCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}

/**
 * Where a process's threads spent their time (ms): `mainRunMs` and `mainWaitMs` on a CPU and
 * runnable but waiting for one (/proc/<pid>/task/<pid>/schedstat: the main thread, whose tid is
 * the pid; for Node, the event loop), `allRunMs` and `allWaitMs` the same summed over every
 * thread (for Node also libuv's thread pool, worker threads, V8's helpers). NaN where schedstat
 * cannot be read (a kernel without CONFIG_SCHED_INFO, a process that is gone).
 */
export interface ThreadTimes {
  mainRunMs: number;
  mainWaitMs: number;
  allRunMs: number;
  allWaitMs: number;
}

/** ns on a CPU and ns waiting on a run queue, from one schedstat file, as ms. */
function schedstatMs(file: string): [number, number] {
  try {
    const [run, wait] = readFileSync(file, 'utf8').trim().split(' ').map(Number);
    return [run! / 1e6, wait! / 1e6];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

export function threadTimes(pid: number): ThreadTimes {
  const [mainRunMs, mainWaitMs] = schedstatMs(`/proc/${pid}/task/${pid}/schedstat`);
  let allRunMs = 0;
  let allWaitMs = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    tids = [];
  }
  // A thread that ended since the last reading takes its times with it: the sums are of the
  // threads alive now (the ones that matter here, the pool and the workers, live as long as it).
  for (const tid of tids) {
    const [run, wait] = schedstatMs(`/proc/${pid}/task/${tid}/schedstat`);
    allRunMs += run;
    allWaitMs += wait;
  }
  return tids.length === 0 ? { mainRunMs, mainWaitMs, allRunMs: Number.NaN, allWaitMs: Number.NaN } : { mainRunMs, mainWaitMs, allRunMs, allWaitMs };
}

/** Resident set size of one process in bytes (VmRSS), NaN if it is gone. */
function processRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function treeRssBytes(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processRssBytes(pid), 0);
}

/**
 * Write-type system calls (write, writev, ...) one process has made (`syscw` in /proc/<pid>/io,
 * which only the process's owner or root may read), NaN if it cannot be read.
 */
export function processWriteCalls(pid: number): number {
  try {
    const m = /^syscw:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface FdCount {
  /** Entries in /proc/<pid>/fd; NaN where /proc is not readable. */
  total: number;
  /** Of those, sockets (TCP connections, listeners, an IPC channel). */
  sockets: number;
}

/** Open descriptors of one process, and how many are sockets; NaN if they cannot be listed. */
export function processFds(pid: number): FdCount {
  const dir = `/proc/${pid}/fd`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { total: Number.NaN, sockets: Number.NaN };
  }
  let sockets = 0;
  for (const name of names) {
    try {
      if (readlinkSync(`${dir}/${name}`).startsWith('socket:')) sockets += 1;
    } catch {
      // Closed between readdir and readlink: not open any more.
    }
  }
  return { total: names.length, sockets };
}

/** Whole-machine CPU counters (/proc/stat `cpu` line): busy and total time, in ticks. */
export function machineCpuTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    // idle (3) and iowait (4) are not busy.
    const busy = total - (values[3] ?? 0) - (values[4] ?? 0);
    return { busy, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** The ephemeral port range connect() picks from (/proc/sys/net/ipv4/ip_local_port_range). */
export function ephemeralPortCount(): number {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined ? high - low + 1 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * SYNs the kernel has dropped because an accept queue was full (TcpExt ListenOverflows in
 * /proc/net/netstat); null where it cannot be read. Such a client retries after the initial
 * retransmission timeout (1 s on Linux), which shows directly in a window's p99 and max. The
 * counter is per network namespace: other traffic on the machine counts too.
 */
export function listenOverflows(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n').filter((line) => line.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/);
  const values = lines[1]?.split(/\s+/);
  if (!names || !values) return null;
  const overflows = Number(values[names.indexOf('ListenOverflows')] ?? Number.NaN);
  return Number.isFinite(overflows) ? overflows : null;
}
