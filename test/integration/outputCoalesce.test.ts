// Output coalescing (outbox.ts) is each server's own: two servers in one process, one holding
// output for 2 s after a write and one for 100 ms, never make each other's clients wait. A held
// client is written as soon as its interval since the last write has passed, not a whole
// interval after the line that was held; and what it is sent keeps its order.
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

/** A listener and a talker in one channel on `s`: the listener is sent what the talker says. */
async function pair(s: TestServer, names: [string, string]) {
  const listener = await connectIrc(s.port);
  await listener.register(names[0]);
  listener.send('JOIN #room');
  await listener.waitForLine(/ 366 /);
  const talker = await connectIrc(s.port);
  await talker.register(names[1]);
  // The listener's last write: the talker's JOIN (held, if at all, one interval after its own),
  // timed as it arrives, not after the talker's own answer (which may be held longer).
  const joinSeen = listener.waitForLine(new RegExp(`^:${names[1]}!\\S+ JOIN :?#room$`), 5_000).then(() => performance.now());
  talker.send('JOIN #room');
  await talker.waitForLine(/ 366 /);
  return { listener, talker, lastWriteAt: await joinSeen };
}

describe('output coalescing', () => {
  it("holds a client's output for its own server's interval, not another server's in the same process", async () => {
    const slow = await server(2_000);
    const fast = await server(100);
    const a = await pair(slow, ['slowpoke', 'slowtalk']);
    const b = await pair(fast, ['quick', 'quicktalk']);
    // The slow server now holds what a is sent for up to 2 s after its last write.
    a.talker.send('PRIVMSG #room :held');
    await new Promise((r) => setTimeout(r, 20));
    // b's lines wait 100 ms at most, each.
    for (const token of ['one', 'two']) {
      const saidAt = performance.now();
      b.talker.send(`PRIVMSG #room :${token}`);
      await b.listener.waitForLine(new RegExp(` PRIVMSG #room :?${token}$`), 1_500);
      expect(performance.now() - saidAt).toBeLessThan(1_000);
    }
    // And a's line did come, once its own interval had passed.
    await a.listener.waitForLine(/ PRIVMSG #room :?held$/, 5_000);
    for (const c of [a.listener, a.talker, b.listener, b.talker]) c.raw.socket.destroy();
  });

  it('writes a held line once the interval since the last write has passed, not a whole interval later', async () => {
    const intervalMs = 1_000;
    const s = await server(intervalMs);
    const { listener, talker, lastWriteAt } = await pair(s, ['spaced', 'spacer']);
    await new Promise((r) => setTimeout(r, 600));
    const saidAt = performance.now();
    talker.send('PRIVMSG #room :spaced out');
    await listener.waitForLine(/ PRIVMSG #room :spaced out$/, 3_000);
    const heardAt = performance.now();
    // Held (never two writes within the interval)...
    expect(heardAt - lastWriteAt).toBeGreaterThanOrEqual(intervalMs - 50);
    // ...until the interval ran out, about 400 ms after it was said; it used to wait the whole 1,000.
    expect(heardAt - saidAt).toBeLessThan(800);
    for (const c of [listener, talker]) c.raw.socket.destroy();
  });

  it("keeps a client's output in order: a line held for it goes before the answer to its next command", async () => {
    const s = await server(300);
    const { listener, talker } = await pair(s, ['asker', 'chatter']);
    talker.send('PRIVMSG #room :meanwhile');
    await new Promise((r) => setTimeout(r, 20));
    listener.send('PING :now');
    const pong = await listener.waitForLine(/ PONG \S+ :?now$/, 2_000);
    const meanwhile = await listener.waitForLine(/ PRIVMSG #room :meanwhile$/, 100);
    expect(listener.lines().indexOf(meanwhile)).toBeLessThan(listener.lines().indexOf(pong));
    for (const c of [listener, talker]) c.raw.socket.destroy();
  });
});
