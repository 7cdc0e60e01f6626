// Bounded waiting, shared by the benchmark's process handles: nothing the benchmark awaits may
// hang it.

import { machineCpuTicks } from './procfs.js';

/** Total time the whole benchmark may spend waiting for a quiet machine. */
export const quietBudgetMs = 90_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
