// When to try again after the connection drops: exponential backoff with jitter, so that a
// restarted server is not hit by every page at the same second. Pure (the random source is
// a parameter).

/** The first retry waits about this long... */
export const firstRetryMs = 1_000;
/** ...doubling each time up to this, however long the server stays away. */
export const maxRetryMs = 30_000;
/** Each wait is scaled by a random factor in 1 ± this. */
export const retryJitter = 0.2;

/** The wait before retry number `attempt` (0 for the first), `random()` in [0, 1). */
export function reconnectDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(maxRetryMs, firstRetryMs * Math.pow(2, attempt));
  return Math.round(base * (1 - retryJitter + random() * 2 * retryJitter));
}

/** The status line while waiting: why it dropped, and in how many seconds it tries again. */
export function countdownText(why: string, msLeft: number): string {
  return `${why} Reconnecting in ${Math.max(0, Math.ceil(msLeft / 1000))} s.`;
}
