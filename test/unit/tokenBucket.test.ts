import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/irc/session/tokenBucket.js';

/** A hand-driven clock in milliseconds. */
function fakeClock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('TokenBucket', () => {
  it('starts full and lets a burst through at once', () => {
    const bucket = new TokenBucket({ burst: 5, ratePerSecond: 1, now: fakeClock().now });
    expect(bucket.tokens()).toBe(5);
    expect(Array.from({ length: 5 }, () => bucket.take())).toEqual([0, 0, 0, 0, 0]);
    expect(bucket.tokens()).toBe(0);
  });

  it('says how long to wait once the burst is spent, without taking a token', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ burst: 2, ratePerSecond: 2, now: clock.now });
    bucket.take();
    bucket.take();
    expect(bucket.take()).toBe(500);
    expect(bucket.take()).toBe(500);
    clock.advance(200);
    expect(bucket.take()).toBe(300);
    clock.advance(300);
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(500);
  });

  it('refills over time at the given rate', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ burst: 10, ratePerSecond: 4, now: clock.now });
    for (let i = 0; i < 10; i++) bucket.take();
    clock.advance(750);
    expect(bucket.tokens()).toBeCloseTo(3);
  });

  it('never holds more than burst, however long the client was quiet', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ burst: 3, ratePerSecond: 10, now: clock.now });
    bucket.take();
    clock.advance(3_600_000);
    expect(bucket.tokens()).toBe(3);
  });

  it('never goes negative, however often take() is refused', () => {
    const bucket = new TokenBucket({ burst: 1, ratePerSecond: 1, now: fakeClock().now });
    for (let i = 0; i < 100; i++) bucket.take();
    expect(bucket.tokens()).toBe(0);
  });

  it('adds nothing when the clock goes backwards, and does not count that time twice', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ burst: 1, ratePerSecond: 1, now: clock.now });
    bucket.take();
    clock.advance(-5000);
    expect(bucket.tokens()).toBe(0);
    clock.advance(5500);
    expect(bucket.tokens()).toBeCloseTo(0.5);
  });

  it('is ready again after exactly the wait it returned, for awkward rates', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ burst: 1, ratePerSecond: 3, now: clock.now });
    for (let i = 0; i < 50; i++) {
      bucket.take();
      const wait = bucket.take();
      expect(wait).toBeGreaterThan(0);
      clock.advance(wait);
      expect(bucket.take()).toBe(0);
    }
  });

  it('uses a real monotonic clock by default', () => {
    const bucket = new TokenBucket({ burst: 1, ratePerSecond: 1 });
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBeGreaterThan(0);
  });

  it('refuses a burst below 1 or a rate that is not positive', () => {
    expect(() => new TokenBucket({ burst: 0, ratePerSecond: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ burst: 1, ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new TokenBucket({ burst: Number.NaN, ratePerSecond: 1 })).toThrow(RangeError);
  });
});
