// Retention: the history forgets entries older than the configured age, and those past the
// per-target cap, in the background. Each run trims in small steps (the store's `trim`), one
// after another with a turn of the event loop between them, so neither the database nor
// delivery is held for long. Every node runs its own: a step is an idempotent delete, and
// nodes sharing one store only share the work.

import type { Logger } from '../core/logger.js';
import type { HistoryStore } from './history.js';

export interface RetentionOptions {
  /** Entries older than this are forgotten; 0: no age limit. */
  maxAgeDays: number;
  maxPerTarget: number;
  intervalMs: number;
  batchRows: number;
  now: () => number;
  logger: Logger;
}

const DAY_MS = 86_400_000;

/** One run: trims until a step finds nothing left; answers how many entries were forgotten. */
export async function trimHistory(history: HistoryStore, options: Omit<RetentionOptions, 'intervalMs' | 'logger'>): Promise<number> {
  const olderThan = options.maxAgeDays === 0 ? 0 : options.now() - options.maxAgeDays * DAY_MS;
  let total = 0;
  for (;;) {
    const n = await history.trim(olderThan, options.maxPerTarget, options.batchRows);
    total += n;
    if (n < options.batchRows) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Starts trimming every intervalMs (the first run after one interval); the function stops it. */
export function startRetention(history: HistoryStore, options: RetentionOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(run, options.intervalMs);
    timer.unref();
  };
  const run = (): void => {
    trimHistory(history, options).then(
      (n) => {
        if (n > 0) options.logger.log('info', 'history.trimmed', { entries: n });
        schedule();
      },
      (err: unknown) => {
        options.logger.log('error', 'history.trimFailed', { message: err instanceof Error ? err.message : String(err) });
        schedule();
      },
    );
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}
