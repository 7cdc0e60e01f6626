// Clocks and bounded waiting, shared by every benchmark: nothing a benchmark awaits may hang it,
// and a time taken in one process compares with one taken in another.

import { performance } from 'node:perf_hooks';
import { machineCpuTicks } from './procfs.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** CLOCK_MONOTONIC in µs: the same clock in every process on the machine (and V8's CPU profiles). */
export const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Resolves at `us` on that clock (at once if it has passed). */
export const until = (us: number): Promise<void> => sleep(Math.max(0, (us - monoUs()) / 1000));

/** Wall-clock ms since the epoch, sub-millisecond: shared by every process on the machine. */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The machine counts as quiet when less than this share of all CPUs is busy. */
const quietBusyShare = 0.15;
const quietSampleMs = 300;

/**
 * Waits, within a budget for a whole benchmark, until the machine is quiet, so that a window is
 * not measured while something else (a build, a test run) has the CPUs.
 */
export class QuietWait {
  private leftMs: number;
  /** Time spent waiting for other processes to leave the machine quiet. */
  waitedMs = 0;

  constructor(budgetMs: number) {
    this.leftMs = budgetMs;
  }

  /** Returns the busy share of the last sample. */
  async awaitQuiet(): Promise<number> {
    for (;;) {
      const a = machineCpuTicks();
      await sleep(quietSampleMs);
      const b = machineCpuTicks();
      const busy = (b.busy - a.busy) / (b.total - a.total);
      if (!(busy > quietBusyShare) || this.leftMs <= 0) return busy;
      const wait = Math.min(1_000, this.leftMs);
      this.leftMs -= wait + quietSampleMs;
      this.waitedMs += wait + quietSampleMs;
      await sleep(wait);
    }
  }
}
