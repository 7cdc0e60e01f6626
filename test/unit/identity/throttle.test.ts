import { describe, expect, it } from 'vitest';
import { LoginThrottle, loginFailuresPerWindow, loginThrottleDefaults, loginWindowMs, maxTrackedLoginKeys } from '../../../src/identity/throttle.js';

/** A hand-driven clock in milliseconds. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const limits = { failuresPerWindow: 3, windowMs: 60_000, maxTrackedKeys: 100 };

function failTimes(throttle: LoginThrottle, keys: string[], times: number): void {
  for (let i = 0; i < times; i++) throttle.failed(keys);
}

describe('LoginThrottle', () => {
  it('has documented defaults: 10 failures per 10 minutes, 50,000 keys', () => {
    expect(loginThrottleDefaults).toEqual({ failuresPerWindow: 10, windowMs: 600_000, maxTrackedKeys: 50_000 });
    expect([loginFailuresPerWindow, loginWindowMs, maxTrackedLoginKeys]).toEqual([10, 600_000, 50_000]);
  });

  it('lets attempts through until a key has failed the limit, then refuses it', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle(limits, clock.now);
    failTimes(throttle, ['account:alice'], 2);
    expect(throttle.check(['account:alice'])).toEqual({ ok: true });
    throttle.failed(['account:alice']);
    expect(throttle.check(['account:alice'])).toEqual({ ok: false, retryAfterMs: 60_000 });
  });

  it('refuses until the window that began at the first failure ends, then allows again', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle(limits, clock.now);
    throttle.failed(['ip:10.0.0.1']);
    clock.advance(20_000);
    failTimes(throttle, ['ip:10.0.0.1'], 2);
    clock.advance(10_000);
    expect(throttle.check(['ip:10.0.0.1'])).toEqual({ ok: false, retryAfterMs: 30_000 });
    clock.advance(29_999);
    expect(throttle.check(['ip:10.0.0.1'])).toEqual({ ok: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(throttle.check(['ip:10.0.0.1'])).toEqual({ ok: true });
  });

  it('starts a new window with a failure after the old one ended', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle(limits, clock.now);
    failTimes(throttle, ['account:bob'], 2);
    clock.advance(60_000);
    failTimes(throttle, ['account:bob'], 2);
    expect(throttle.check(['account:bob'])).toEqual({ ok: true });
    throttle.failed(['account:bob']);
    expect(throttle.check(['account:bob'])).toEqual({ ok: false, retryAfterMs: 60_000 });
  });

  it('refuses when any key is over, with the longest wait of them', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle(limits, clock.now);
    failTimes(throttle, ['account:alice', 'ip:10.0.0.1'], 3);
    clock.advance(5_000);
    failTimes(throttle, ['account:carol', 'ip:10.0.0.2'], 3);
    expect(throttle.check(['account:alice', 'ip:10.0.0.9'])).toEqual({ ok: false, retryAfterMs: 55_000 });
    expect(throttle.check(['account:carol', 'ip:10.0.0.1'])).toEqual({ ok: false, retryAfterMs: 60_000 });
    expect(throttle.check(['account:dave', 'ip:10.0.0.9'])).toEqual({ ok: true });
  });

  it('counts one address guessing many accounts against the address', () => {
    const throttle = new LoginThrottle(limits, fakeClock().now);
    for (const name of ['a', 'b', 'c']) throttle.failed([`account:${name}`, 'ip:10.0.0.1']);
    expect(throttle.check(['account:d', 'ip:10.0.0.1'])).toMatchObject({ ok: false });
    expect(throttle.check(['account:a', 'ip:10.0.0.2'])).toEqual({ ok: true });
  });

  it('forgets the keys it is told succeeded, and only those', () => {
    const throttle = new LoginThrottle(limits, fakeClock().now);
    failTimes(throttle, ['account:alice', 'ip:10.0.0.1'], 3);
    throttle.succeeded(['account:alice']);
    expect(throttle.check(['account:alice'])).toEqual({ ok: true });
    expect(throttle.check(['ip:10.0.0.1'])).toMatchObject({ ok: false });
  });

  it('remembers at most maxTrackedKeys, forgetting the one that failed longest ago', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle({ ...limits, maxTrackedKeys: 3 }, clock.now);
    failTimes(throttle, ['k1'], 3);
    clock.advance(1);
    failTimes(throttle, ['k2'], 3);
    clock.advance(1);
    failTimes(throttle, ['k3'], 3);
    clock.advance(1);
    throttle.failed(['k1']); // k1 failed again: now k2 is the oldest
    throttle.failed(['k4']);
    expect(throttle.trackedKeys).toBe(3);
    expect(throttle.check(['k2'])).toEqual({ ok: true });
    expect(throttle.check(['k1'])).toMatchObject({ ok: false });
    expect(throttle.check(['k3'])).toMatchObject({ ok: false });
  });

  it('drops keys whose window has passed as new failures arrive', () => {
    const clock = fakeClock();
    const throttle = new LoginThrottle(limits, clock.now);
    for (let i = 0; i < 50; i++) throttle.failed([`ip:10.0.0.${i}`]);
    expect(throttle.trackedKeys).toBe(50);
    clock.advance(60_000);
    throttle.failed(['ip:10.0.1.1']);
    expect(throttle.trackedKeys).toBe(1);
  });

  it('never tracks more keys than the cap under a flood of fresh ones', () => {
    const throttle = new LoginThrottle(limits, fakeClock().now);
    for (let i = 0; i < 1_000; i++) throttle.failed([`account:n${i}`, 'ip:10.0.0.1']);
    expect(throttle.trackedKeys).toBe(100);
    expect(throttle.check(['ip:10.0.0.1'])).toMatchObject({ ok: false });
  });

  it('uses the real clock and the defaults when given none', () => {
    const throttle = new LoginThrottle();
    failTimes(throttle, ['account:x'], loginFailuresPerWindow - 1);
    expect(throttle.check(['account:x'])).toEqual({ ok: true });
    throttle.failed(['account:x']);
    const answer = throttle.check(['account:x']);
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.retryAfterMs).toBeGreaterThan(loginWindowMs - 1_000);
  });
});
