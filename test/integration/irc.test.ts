// The IRC server on real sockets, raw bytes checked: the lifecycle the session machine decides
// (password, per-IP limit, ping, shutdown, a full server), the limits the adapter enforces
// (long lines, fakelag), and the order of a client's commands when the network state answers
// later than at once.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryState } from '../../src/irc/state/memoryState.js';
import type { NetworkState } from '../../src/irc/state/networkState.js';
import type { IrcProtocol } from '../../src/irc/session/protocol.js';
import { startIrcTestServer, waitFor, type TestServer } from '../helpers.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';

let server: TestServer | null = null;
const clients: RawIrc[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  await server?.stop();
  server = null;
});

/**
 * The state behind a proxy that answers every call (but the synchronous one) `delayMs()` later,
 * running it only then, as a remote store would. `pending()` counts calls not yet answered.
 */
function slowState(memory: MemoryState, delayMs: () => number): { state: NetworkState; pending: () => number } {
  let pending = 0;
  const state = new Proxy(memory, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || key === 'localMembers') return value;
      return (...args: unknown[]) => {
        pending++;
        return new Promise((resolve, reject) =>
          setTimeout(() => {
            pending--;
            try {
              resolve((value as (...a: unknown[]) => unknown).apply(target, args));
            } catch (err) {
              reject(err);
            }
          }, delayMs()),
        );
      };
    },
  }) as NetworkState;
  return { state, pending: () => pending };
}

async function client(): Promise<RawIrc> {
  const c = await connectIrc(server!.port);
  clients.push(c);
  return c;
}

describe('IRC server', () => {
  it('greets with the connect notice before registration, and closes on QUIT with ERROR', async () => {
    server = await startIrcTestServer();
    const c = await client();
    expect(await c.waitForLine(/NOTICE/)).toBe(":irc.localhost NOTICE * :Hey What's up?");
    await c.register('alice');
    expect(c.lines()).toContain(':irc.localhost 001 alice :Welcome to the xstate-tcp-chat IRC Network, alice!~alice@127.0.0.1');
    c.send('QUIT :see you');
    await c.closed;
    expect(c.lines().at(-1)).toBe('ERROR :Closing link: (~alice@127.0.0.1) [Quit: see you]');
    await waitFor(() => server!.lines.some((l) => /#1 Connection with .* closed \(quit\)/.test(l)));
    expect(server.lines).toContain('#1 registered as alice');
  });

  it('requires the server password: a wrong one gets 464 and the link closed, the right one registers', async () => {
    server = await startIrcTestServer({ password: 'sesame' });
    const wrong = await client();
    wrong.send('PASS guess', 'NICK mallory', 'USER m 0 * :M');
    await wrong.closed;
    expect(wrong.lines()).toContain(':irc.localhost 464 mallory :Password incorrect');
    expect(wrong.lines().at(-1)).toMatch(/^ERROR :Closing link: \(.*\) \[Bad password\]$/);
    expect(wrong.lines().some((l) => / 001 /.test(l))).toBe(false);

    const none = await client();
    none.send('NICK nopass', 'USER n 0 * :N');
    await none.closed;
    expect(none.lines().at(-1)).toMatch(/\[Bad password\]$/);

    const right = await client();
    right.send('PASS sesame');
    await right.register('bob');
    expect(right.lines().some((l) => / 001 bob /.test(l))).toBe(true);
  });

  it('answers 451 to commands before registration and runs them after', async () => {
    server = await startIrcTestServer();
    const c = await client();
    c.send('JOIN #early', 'PRIVMSG #early :hi');
    expect(await c.waitForLine(/ 451 /)).toBe(':irc.localhost 451 * :You have not registered');
    await c.register('late');
    c.send('JOIN #early');
    await c.waitForLine(/^:late!~late@127\.0\.0\.1 JOIN #early$/);
  });

  it('turns away a connection over the per-IP limit and serves the others', async () => {
    server = await startIrcTestServer({ maxConnectionsPerIp: 2 });
    const a = await client();
    const b = await client();
    const third = await client();
    await third.closed;
    expect(third.lines().at(-1)).toBe('ERROR :Closing link: (*@127.0.0.1) [Too many connections from your IP address]');
    await a.register('a1');
    await b.register('b1');
    // The slot is given back when one leaves.
    a.send('QUIT');
    await a.closed;
    await waitFor(() => server!.handle.liveConnections() === 1);
    const fourth = await client();
    await fourth.register('d1');
  });

  it('PINGs a quiet client, keeps it when it answers, and closes it with Ping timeout when not', async () => {
    server = await startIrcTestServer({ pingIntervalMs: 300, pingTimeoutMs: 400 });
    const answers = await client();
    const silent = await client();
    await answers.register('answers');
    await silent.register('silent');
    // One after the other: sent together, a loaded server may take silent's first, and answers
    // (not yet in the channel) would never see it join.
    answers.send('JOIN #p');
    await answers.waitForLine(/ 366 answers #p /);
    silent.send('JOIN #p');
    await answers.waitForLine(/^:silent!\S+ JOIN #p$/);
    const ping = await answers.waitForLine(/^PING /);
    expect(ping).toBe('PING irc.localhost');
    answers.send('PONG irc.localhost');
    await silent.closed;
    expect(silent.lines().at(-1)).toMatch(/\[Ping timeout: 0.4 seconds\]$/);
    expect(await answers.waitForLine(/^:silent!\S+ QUIT /)).toBe(':silent!~silent@127.0.0.1 QUIT :Ping timeout: 0.4 seconds');
    expect(answers.raw.socket.destroyed).toBe(false);
  });

  it('answers an overlong line with 417, drops it, and keeps the client', async () => {
    server = await startIrcTestServer();
    const c = await client();
    await c.register('longline');
    c.send(`PRIVMSG #nowhere :${'x'.repeat(600)}`, 'PING :still-here');
    expect(await c.waitForLine(/ 417 /)).toBe(':irc.localhost 417 longline :Input line was too long');
    await c.waitForLine(/PONG irc\.localhost :?still-here$/);
  });

  it('delays a burst past the flood limit (fakelag) instead of dropping it', async () => {
    server = await startIrcTestServer({ floodBurstLines: 3, floodRateLinesPerSecond: 10 });
    const c = await client();
    await c.register('burst');
    // Registration used part of the bucket; wait for it to refill.
    await new Promise((r) => setTimeout(r, 400));
    const from = c.lines().length;
    const sentAt = Date.now();
    c.send(...Array.from({ length: 8 }, (_, i) => `PING :n${i}`));
    await c.waitForLine(/:?n7$/, 5_000, from);
    const took = Date.now() - sentAt;
    const pongs = c.lines().slice(from).filter((l) => / PONG /.test(l));
    expect(pongs.map((l) => l.split(' ').at(-1)?.replace(/^:/, ''))).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
    // 3 at once, then 5 more at 10 per second: about 500 ms, never all at once.
    expect(took).toBeGreaterThanOrEqual(400);
  });

  it('tells every client the server is shutting down, then stops', async () => {
    server = await startIrcTestServer();
    const a = await client();
    const b = await client();
    await a.register('a');
    b.send('NICK b');
    await b.waitForLine(/NOTICE/);
    const stopping = server.stop();
    server = null;
    await Promise.all([a.closed, b.closed]);
    await stopping;
    expect(a.lines().at(-1)).toBe('ERROR :Closing link: (~a@127.0.0.1) [Server shutting down]');
    expect(b.lines().at(-1)).toMatch(/^ERROR :Closing link: \(.*\) \[Server shutting down\]$/);
  });

  it('says the server is full in IRC terms', async () => {
    server = await startIrcTestServer({}, { maxConnections: 1 });
    const a = await client();
    await a.register('only');
    const b = await client();
    await b.closed;
    expect(b.lines()).toEqual(['ERROR :Closing link: [Server is full, try again later]']);
  });

  it('runs one client\'s commands one at a time, in order, when the network state answers later', async () => {
    // The in-memory state behind a proxy that answers every call after a random delay: the
    // shape a state on Redis has. Commands must still run (and be answered) in the order sent.
    const slow = slowState(new MemoryState(), () => Math.random() * 4);
    server = await startIrcTestServer({ floodBurstLines: 1000, floodRateLinesPerSecond: 1000 }, {}, { ircState: slow.state });
    const sender = await client();
    const reader = await client();
    await sender.register('sender');
    await reader.register('reader');
    reader.send('JOIN #order');
    await reader.waitForLine(/ 366 reader #order /);
    // JOIN then at once 50 messages: none may run before the JOIN has finished.
    sender.send('JOIN #order', ...Array.from({ length: 50 }, (_, i) => `PRIVMSG #order :m${i}`), 'PART #order :done');
    await reader.waitForLine(/ PART #order :?done$/);
    const seen = reader
      .lines()
      .filter((l) => l.startsWith(':sender!'))
      .map((l) => l.replace(/^:sender!\S+ /, '').replace(' :', ' '));
    expect(seen).toEqual(['JOIN #order', ...Array.from({ length: 50 }, (_, i) => `PRIVMSG #order m${i}`), 'PART #order done']);
  });

  it('lets a command still running finish before a client that vanished leaves the network', async () => {
    // Each state call answers 20 ms later, so JOIN #a,#b,#c takes ~60 ms; the client resets
    // 30 ms in. Leaving must wait for the JOIN, or the JOIN would put a departed client back
    // into channels nobody would ever take it out of.
    const memory = new MemoryState();
    const slow = slowState(memory, () => 20);
    server = await startIrcTestServer({}, {}, { ircState: slow.state });
    const c = await client();
    await c.register('vanisher');
    c.send('JOIN #a,#b,#c');
    await new Promise((r) => setTimeout(r, 30));
    c.raw.socket.resetAndDestroy();
    await waitFor(() => server!.handle.liveConnections() === 0, 5_000, 'the session to end');
    // Every job run to its end (the JOIN's store lookups happen between its state calls, so a
    // moment with no state call pending is not the end), then no state call left either.
    await (server.handle.protocol as IrcProtocol).settled();
    await waitFor(() => slow.pending() === 0, 5_000, 'every state call to be answered');
    expect(memory.listChannels()).toEqual([]);
    expect(memory.user('vanisher')).toBeNull();
    expect(server.lines.filter((l) => /command \S+ failed/.test(l))).toEqual([]);
  });
});
