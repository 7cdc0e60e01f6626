// Flood control ("fakelag") as a pure token bucket: a client may send `burst` commands at once,
// then `ratePerSecond` on average; a command that finds the bucket empty is not refused but
// delayed by the caller for as long as take() says. Pure: the clock is injected, so tests drive
// it by hand and get the same answer every run.
//
// The default clock is performance.now(), not Date.now(): it is monotonic, so a wall-clock jump
// (NTP step, an operator setting the date) can neither hand every client a full bucket nor
// stall them all for the length of the jump. A clock that goes backwards anyway adds nothing.

export interface TokenBucketOptions {
  /** Tokens when full: commands a client may send at once (IrcConfig.floodBurstLines). */
  burst: number;
  /** Tokens added per second (IrcConfig.floodRateLinesPerSecond). */
  ratePerSecond: number;
  /** Milliseconds from any fixed origin; monotonic. Default performance.now(). */
  now?: () => number;
}

// Refill adds rate * elapsed in floating point, so a wait computed from a deficit can come back
// a hair short of a whole token; this much short still counts as one.
const epsilon = 1e-9;

// Shared by every bucket that uses the default clock (a closure each would be ~110 bytes per
// client).
function monotonicNow(): number {
  return performance.now();
}

export class TokenBucket {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly now: () => number;
  private level: number;
  private last: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.burst >= 1)) throw new RangeError(`burst must be at least 1, got ${options.burst}`);
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${options.ratePerSecond}`);
    this.burst = options.burst;
    this.perMs = options.ratePerSecond / 1000;
    this.now = options.now ?? monotonicNow;
    this.level = this.burst;
    this.last = this.now();
  }

  /** Takes a token and returns 0, or takes nothing and returns the ms until one is there. */
  take(): number {
    this.refill();
    if (this.level >= 1 - epsilon) {
      this.level = Math.max(0, this.level - 1);
      return 0;
    }
    return Math.ceil((1 - this.level) / this.perMs);
  }

  /** Tokens available now (fractional between refills). */
  tokens(): number {
    this.refill();
    return this.level;
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) this.level = Math.min(this.burst, this.level + (t - this.last) * this.perMs);
    this.last = Math.max(this.last, t);
  }
}
