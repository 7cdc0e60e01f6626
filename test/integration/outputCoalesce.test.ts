// Output coalescing (outbox.ts) is each server's own: two servers in one process, one holding
// output for 2 s after a write and one for 100 ms, never make each other's clients wait. And a
// held client is written as soon as its interval since the last write has passed, not a whole
// interval after the line that was held.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/core/config.js';
import { startTestServer, type TestServer } from '../helpers.js';
import { connectIrc } from '../irc/raw.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function server(outputCoalesceMs: number): Promise<TestServer> {
  const s = await startTestServer({ protocol: 'irc', irc: { ...defaultConfig.irc, outputCoalesceMs, floodBurstLines: 1000, floodRateLinesPerSecond: 1000 } });
  servers.push(s);
  return s;
}

describe('output coalescing', () => {
  it("holds a client's output for its own server's interval, not another server's in the same process", async () => {
    const slow = await server(2_000);
    const fast = await server(100);
    const a = await connectIrc(slow.port);
    await a.register('slowpoke');
    const b = await connectIrc(fast.port);
    await b.register('quick');
    // The slow server now holds a's answer for up to 2 s after its last write.
    a.send('PING :held');
    await new Promise((r) => setTimeout(r, 20));
    // b was written to just now too (its welcome): its answers wait 100 ms at most, each.
    for (const token of ['one', 'two']) {
      const askedAt = performance.now();
      b.send(`PING :${token}`);
      await b.waitForLine(new RegExp(` PONG \\S+ :?${token}$`), 1_500);
      expect(performance.now() - askedAt).toBeLessThan(1_000);
    }
    // And a's answer did come, once its own interval had passed.
    await a.waitForLine(/ PONG \S+ :?held$/, 5_000);
    for (const c of [a, b]) c.raw.socket.destroy();
  });

  it('writes a held line once the interval since the last write has passed, not a whole interval later', async () => {
    const intervalMs = 1_000;
    const s = await server(intervalMs);
    const c = await connectIrc(s.port);
    await c.register('spaced');
    const welcomedAt = performance.now(); // the welcome was the last write, just before this
    await new Promise((r) => setTimeout(r, 600));
    const askedAt = performance.now();
    c.send('PING :spaced');
    await c.waitForLine(/ PONG \S+ :?spaced$/, 3_000);
    const answeredAt = performance.now();
    // Held (never two writes within the interval)...
    expect(answeredAt - welcomedAt).toBeGreaterThanOrEqual(intervalMs - 50);
    // ...until the interval ran out, about 400 ms after asking; it used to wait the whole 1,000.
    expect(answeredAt - askedAt).toBeLessThan(800);
    c.raw.socket.destroy();
  });
});
