// Login throttling: a bound on password guessing, per account (someone guessing one account's
// password from many addresses) and per client address (one address guessing many accounts).
// A key is any string the caller picks, e.g. `account:<folded name>` and `ip:<address>` (for
// IPv6, better its /64). Once a key has failed `failuresPerWindow` times within the window that
// began at its first failure, attempts with that key are refused until that window ends.
//
// The caller asks check() before an attempt and reports failed() or succeeded() after it. An
// attempt counts when it ends, so attempts running at once are not limited here: the IRC layer
// allows one SASL exchange at a time per connection, and its per-address connection limit
// bounds the rest. Memory is bounded: past maxTrackedKeys, the key that failed longest ago is
// forgotten, and keys whose window has passed are dropped as new failures arrive.

/** Failed logins allowed per key within one window: room for a few typos, not for guessing. */
export const loginFailuresPerWindow = 10;
/** The window, from a key's first failure: at most 10 guesses per 10 minutes is 1,440 a day. */
export const loginWindowMs = 10 * 60_000;
/**
 * Keys remembered at once, about 250 bytes each (12 MiB in all). An attacker who fails with
 * this many fresh keys evicts the oldest, but needs as many addresses to do so, since each
 * attempt also counts against its address.
 */
export const maxTrackedLoginKeys = 50_000;

export interface LoginThrottleLimits {
  failuresPerWindow: number;
  windowMs: number;
  maxTrackedKeys: number;
}

export const loginThrottleDefaults: Readonly<LoginThrottleLimits> = {
  failuresPerWindow: loginFailuresPerWindow,
  windowMs: loginWindowMs,
  maxTrackedKeys: maxTrackedLoginKeys,
};

interface Failures {
  /** When the key's current window began: its first failure in it (ms). */
  windowStart: number;
  count: number;
  /** Its latest failure (ms); the map is in this order, oldest first. */
  lastAt: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(
    private readonly limits: Readonly<LoginThrottleLimits> = loginThrottleDefaults,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether an attempt with these keys may go ahead; if not, how long until every key allows one. */
  check(keys: readonly string[]): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.now();
    let retryAfterMs = 0;
    for (const key of keys) {
      const entry = this.failures.get(key);
      if (!entry || entry.count < this.limits.failuresPerWindow) continue;
      retryAfterMs = Math.max(retryAfterMs, entry.windowStart + this.limits.windowMs - now);
    }
    return retryAfterMs > 0 ? { ok: false, retryAfterMs } : { ok: true };
  }

  /** Counts a failed attempt against each key. */
  failed(keys: readonly string[]): void {
    const now = this.now();
    this.dropExpired(now);
    for (const key of keys) {
      const entry = this.failures.get(key);
      this.failures.delete(key);
      const current = entry && now < entry.windowStart + this.limits.windowMs;
      this.failures.set(key, current ? { ...entry, count: entry.count + 1, lastAt: now } : { windowStart: now, count: 1, lastAt: now });
    }
    for (const oldest of this.failures.keys()) {
      if (this.failures.size <= this.limits.maxTrackedKeys) break;
      this.failures.delete(oldest);
    }
  }

  /**
   * Forgets the failures of these keys. Pass the account only, not the address: otherwise one
   * good account would let its owner clear the address's count between guesses at others.
   */
  succeeded(keys: readonly string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  /** How many keys are remembered (for metrics and tests). */
  get trackedKeys(): number {
    return this.failures.size;
  }

  /** Drops keys from the front (latest failure oldest) whose window has surely passed. */
  private dropExpired(now: number): void {
    for (const [key, entry] of this.failures) {
      if (entry.lastAt + this.limits.windowMs > now) break;
      this.failures.delete(key);
    }
  }
}
