// Reads the kernel's listen-queue counters (TcpExt ListenOverflows / ListenDrops in
// /proc/net/netstat). A SYN that finds the accept queue full is dropped and counted; the
// client retries it after the initial retransmission timeout (1 s on Linux), which shows up
// directly in a window's p99 and max latency. Counters are per network namespace, so other
// traffic on the machine would be counted too. Null where /proc is not available.

import { readFileSync } from 'node:fs';

export interface ListenCounters {
  overflows: number;
  drops: number;
}

export function readListenCounters(): ListenCounters | null {
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
  const get = (name: string): number => Number(values[names.indexOf(name)] ?? Number.NaN);
  const counters = { overflows: get('ListenOverflows'), drops: get('ListenDrops') };
  return Number.isFinite(counters.overflows) ? counters : null;
}
