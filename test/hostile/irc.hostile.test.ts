// Hostile IRC clients on real sockets (127.0.0.1, port 0, the server in this process): an
// endless line, a flooder, a client that never reads, clients that never register, control
// characters and invalid UTF-8 in every text a client can make others see, 2,000 clients in one
// channel, resets. Every case then checks that (a) a normal client is still served: two fresh
// clients register, join a channel and exchange a PRIVMSG, its latency measured; and (b)
// nothing leaked: no session actor left, the server machine's `live` back to 0, this process's
// TCP handles, timers and descriptors back to their baseline, every connection the server
// opened it closed (and logged), no failure in the log and no raw control character in it.
//
// Two findings are tests of their own, failing until src/ is fixed: the sendq counting output
// not yet written this turn ('sendq'), and Nagle's delay on the server's sockets ('latency').
//
// Margins: the machine is a busy 2-core box and the clients share the server's event loop, so
// every time bound below is what the configuration implies plus a margin, and says which.
// `IRC_HOSTILE_FIGURES=/tmp/irc-figures.json` writes each case's figures to that file.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type IrcConfig, type ServerConfig } from '../../src/core/config.js';
import { startIrcTestServer, type TestServer } from '../helpers.js';
import { testStore } from '../store/tempStore.js';
import {
  IrcPeer,
  failureLines,
  isMessage,
  parseLine,
  percentile,
  settleIrc,
  timedMessage,
  uniqueNick,
  unreadByServer,
  kernelQueues,
  wireViolations,
  type IrcLine,
  type IrcPeerOptions,
  type Parsed,
} from './ircUtil.js';
import { MiB, inBatches, noLeaks, resources, retainedBytes, sleep, unsafeLogLines, until, within, type Leaks, type Resources } from './util.js';

const figures: Record<string, Record<string, unknown>> = {};
afterAll(() => {
  const path = process.env.IRC_HOSTILE_FIGURES;
  if (path) writeFileSync(path, `${JSON.stringify(figures, null, 2)}\n`);
});

// Whatever a failing case left behind is freed here, so that one failure does not cascade.
let server: TestServer | undefined;
const peers: IrcPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  if (server) {
    await within(server.stop(), 10_000, 'server to stop after the test');
    server = undefined;
  }
});

function peer(port: number, options?: IrcPeerOptions): IrcPeer {
  const p = new IrcPeer(port, options);
  peers.push(p);
  return p;
}

interface Case {
  s: TestServer;
  port: number;
  baseline: Resources;
  startedAt: number;
}

/**
 * Starts the server for one case. Unless the case is about it, closeTimeoutMs is far longer
 * than the settle window: a socket the server forgot to release then lingers past the leak
 * check instead of being destroyed quietly inside it.
 */
async function begin(irc: Partial<IrcConfig> = {}, overrides: Partial<ServerConfig> = {}): Promise<Case> {
  const s = await startIrcTestServer(irc, { closeTimeoutMs: 30_000, ...overrides });
  server = s;
  return { s, port: s.port, baseline: resources(), startedAt: Date.now() };
}

const opened = (s: TestServer) => s.lines.filter((l) => / Connection established from /.test(l)).length;
const closedCount = (s: TestServer) => s.lines.filter((l) => / closed \(\w+\)\.$/.test(l)).length;
const closedFor = (s: TestServer, reason: string) => s.lines.filter((l) => l.endsWith(` closed (${reason}).`)).length;

/**
 * Waits until the log gives `n` connections closed for `reason`. The server logs a close when
 * its end of the socket closes, which may be a moment after the client saw it.
 */
async function expectClosedFor(s: TestServer, reason: string, n: number): Promise<void> {
  await until(() => closedFor(s, reason) >= n, 3_000, `${n} connection(s) logged closed (${reason})`, () => `(${closedFor(s, reason)})`);
  expect(closedFor(s, reason)).toBe(n);
}

/** How many log lines give each close reason, e.g. { quit: 3, socketError: 2 }. */
function closeReasons(s: TestServer): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of s.lines) {
    const m = / closed \((\w+)\)\.$/.exec(l);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  }
  return out;
}

/**
 * (b) Nothing of the clients so far is left: no session actor, no live connection in the
 * server machine, TCP handles, timers and descriptors back to the baseline; every connection
 * opened was closed and logged; nothing failed; no log line carries a raw control character.
 */
async function expectDrained(c: Case, settleMs = 5_000): Promise<Leaks> {
  const leaks = await settleIrc(c.s, c.baseline, settleMs);
  expect(leaks).toEqual(noLeaks);
  await until(
    () => closedCount(c.s) === opened(c.s),
    2_000,
    'every opened connection to be logged closed',
    () => `(${opened(c.s)} opened, ${closedCount(c.s)} closed)`,
  );
  expect(failureLines(c.s.lines)).toEqual([]);
  expect(unsafeLogLines(c.s.lines)).toEqual([]);
  return leaks;
}

/**
 * (a) A normal client is served: two fresh clients register, join a fresh channel, and one's
 * PRIVMSG reaches the other; returns its latency. Then they QUIT and (b) is checked again.
 */
async function expectServed(c: Case, name: string, more: Record<string, unknown> = {}): Promise<number> {
  await expectDrained(c);
  const a = peer(c.port);
  const b = peer(c.port);
  await Promise.all([a.register(uniqueNick('norma')), b.register(uniqueNick('normb'))]);
  const channel = `#after-${uniqueNick('c')}`;
  await a.join(channel);
  await b.join(channel);
  const latencyMs = await timedMessage(a, b, channel);
  // One exchange, on a machine that may be busy with the rest of the suite: generous, but a
  // server stalled by what came before (a held event loop, a queue not drained) is slower.
  // (It is ~43 ms today, not ~0.3: see the delayed-ACK finding under 'latency'.)
  expect(latencyMs).toBeLessThan(1_000);
  await Promise.all([a.quit(), b.quit()]);
  const leaks = await expectDrained(c);
  figures[name] = { durationMs: Date.now() - c.startedAt, normalClientLatencyMs: round(latencyMs), leaks, closeReasons: closeReasons(c.s), ...more };
  return latencyMs;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Writes `bytes` and resolves once Node has handed all of it to the kernel. */
function writeAll(p: IrcPeer, bytes: Buffer | string): Promise<void> {
  return new Promise<void>((resolve, reject) => p.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
}

/**
 * util.ts's retainedBytes (heap + ArrayBuffers after a full GC), the least of three readings
 * 20 ms apart: V8 frees dead ArrayBuffers' memory on a background thread after the GC, so one
 * reading right after a socket read its 64 KiB chunks may still count a few MiB of them. What
 * something keeps shows in every reading.
 */
async function retainedSettled(): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(20);
    least = Math.min(least, retainedBytes());
  }
  return least;
}

/** Messages in `p`'s kept lines from `from` on that came from `nick`. */
const fromNick = (p: IrcPeer, nick: string, from = 0): Parsed[] => p.messages(from).filter((m) => m.nick === nick);
const privmsgsFrom = (p: IrcPeer, nick: string, from = 0): Parsed[] => fromNick(p, nick, from).filter((m) => m.command === 'PRIVMSG');

// The servers here share the process's test store (test/store/tempStore.ts), opened on first
// use: open it before any case takes its baseline, so that its file descriptors (the database,
// its WAL and shared memory) are not counted as one case's leak.
beforeAll(async () => {
  await testStore().bans(0);
});

describe('overlong lines', () => {
  it('answers a line a little too long with 417 and keeps the client; closes one whose line has no end (ReadQ exceeded), without buffering it', async () => {
    const c = await begin();
    const { maxLineBytes, maxTagBytes, readqBytes } = defaultConfig.irc;
    const long = peer(c.port);
    const other = peer(c.port);
    await Promise.all([long.register(uniqueNick('long')), other.register(uniqueNick('other'))]);
    await long.join('#long');
    await other.join('#long');
    const fromLong = long.lines.length;
    const fromOther = other.lines.length;

    // Two too long by one byte: 511 bytes of text (the limit is 512 with CRLF), and a tag
    // section over maxTagBytes. Then one exactly at the limit, which must go through.
    const overByOne = `PRIVMSG #long :${'y'.repeat(maxLineBytes - 2 - 'PRIVMSG #long :'.length + 1)}`;
    expect(Buffer.byteLength(overByOne)).toBe(maxLineBytes - 1);
    const overTags = `@a=${'t'.repeat(maxTagBytes)} PRIVMSG #long :tagged`;
    const atLimit = `PRIVMSG #long :${'z'.repeat(maxLineBytes - 2 - 'PRIVMSG #long :'.length)}`;
    expect(Buffer.byteLength(atLimit)).toBe(maxLineBytes - 2);
    long.send(overByOne, overTags, atLimit, 'PING :still-here');
    await long.waitForLine(/ PONG \S+ :?still-here$/, 'the PONG after the overlong lines', 5_000, fromLong);
    expect(long.messages(fromLong).filter((m) => m.command === '417')).toHaveLength(2);
    expect(long.messages(fromLong).find((m) => m.command === '417')!.params).toEqual([long.nick, 'Input line was too long']);
    await other.waitForLine((l) => isMessage(l, 'PRIVMSG', '#long', atLimit.slice('PRIVMSG #long :'.length)), 'the at-limit PRIVMSG', 5_000, fromOther);
    expect(long.isClosed()).toBe(false);

    // Then a line that never ends, streamed: one 417 as soon as it passes the line limit, then,
    // once it passes readqBytes, the goodbye and the close. The server stops reading it, so the
    // writes stop being taken (or fail) long before the 8 MiB a reader of it would swallow.
    const before = await retainedSettled();
    const fromStream = long.lines.length;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    await writeAll(long, 'PRIVMSG #long :');
    while (written < 8 * MiB && !long.isClosed()) {
      const wrote = await Promise.race([writeAll(long, chunk).then(() => true, () => false), long.closed.then(() => false)]);
      if (!wrote) break;
      written += chunk.length;
    }
    await long.closed;
    const goodbye = long.messages(fromStream).find((m) => m.command === 'ERROR');
    expect(goodbye?.params.at(-1)).toMatch(/\[ReadQ exceeded\]$/);
    expect(long.messages(fromStream).filter((m) => m.command === '417')).toHaveLength(1);
    // Read up to readqBytes of it, and what the kernels held: never the 8 MiB.
    expect(written).toBeLessThan(8 * MiB);
    expect((await retainedSettled()) - before).toBeLessThan(2 * MiB);
    // The other member saw nothing of it, and the quit with its reason.
    await other.waitForLine((l) => / QUIT :ReadQ exceeded$/.test(l), 'the QUIT of the endless line', 5_000, fromOther);
    expect(fromNick(other, long.nick!, fromOther).map((m) => m.command)).toEqual(['PRIVMSG', 'QUIT']);

    await other.quit();
    await expectServed(c, 'IRC: a line without end (ReadQ)', { readqBytes, bytesWrittenBeforeClose: written });
  }, 60_000); // megabytes through loopback and a GC: seconds on a busy 2-core machine
});

describe('floods', () => {
  it('closes a 1,000-lines-per-second flooder with [Excess Flood] within the time its recvq allows', async () => {
    // The defaults are the subject: burst 10, 2 lines/s, recvq 8,192 bytes.
    const c = await begin();
    const { floodBurstLines: burst, floodRateLinesPerSecond: rate, recvqBytes } = defaultConfig.irc;
    const members = [peer(c.port), peer(c.port), peer(c.port)];
    const flooder = peer(c.port);
    await Promise.all([...members.map((m) => m.register(uniqueNick('member'))), flooder.register(uniqueNick('flooder'))]);
    for (const p of [...members, flooder]) await p.join('#busy');
    const [reader, prober] = members as [IrcPeer, IrcPeer, IrcPeer];
    const from = members.map((m) => m.lines.length);

    // Every flood line is exactly L bytes (CRLF not counted, as the recvq counts). The bucket
    // lets at most `burst` through at once (+ rate × t, nothing over ~0.1 s); the rest queue,
    // and the queue passes recvqBytes at its (floor(recvq / L) + 1)th line.
    const L = 100;
    const floodLine = (i: number) => {
      const head = `PRIVMSG #busy :flood ${i} `;
      return head + 'f'.repeat(L - head.length);
    };
    const queuedToOverflow = Math.floor(recvqBytes / L) + 1;
    const linesToOverflow = burst + queuedToOverflow;
    const perMs = 1; // 1,000 lines per second
    const expectedMs = linesToOverflow / perMs;
    // Margin: the sender is paced by a 10 ms timer in the same busy event loop as the server.
    const boundMs = expectedMs + 1_500;

    let sent = 0;
    const startedAt = performance.now();
    const pace = setInterval(() => {
      if (!flooder.socket.writable) return;
      const due = Math.floor((performance.now() - startedAt) * perMs);
      const batch: string[] = [];
      while (sent < due && batch.length < 100) batch.push(floodLine(sent++));
      if (batch.length > 0) flooder.send(...batch);
    }, 10);
    // Others keep talking meanwhile; their latency is measured by another member.
    const probeLatencies: number[] = [];
    const probes = (async () => {
      for (let i = 0; i < 6; i++) {
        probeLatencies.push(await timedMessage(prober, reader, '#busy'));
        await sleep(30);
      }
    })();
    let error: IrcLine;
    let sentAtError: number;
    try {
      error = await flooder.waitForLine(/^ERROR :Closing link: \(\S+\) \[Excess Flood\]$/, 'ERROR [Excess Flood]', boundMs);
      sentAtError = sent;
    } finally {
      clearInterval(pace);
    }
    const closedAfterMs = error!.at - startedAt;
    await within(flooder.closed, 3_000, 'the flooder to be closed after its ERROR');
    await probes;
    // Every member sees it go, and by then has every line of it that was ever run.
    const quits = await Promise.all(
      members.map((m) => m.waitForLine((l) => l.startsWith(`:${flooder.nick}!`) && l.endsWith(' QUIT :Excess Flood'), 'the flooder QUIT', 3_000)),
    );
    const lastQuitMs = Math.max(...quits.map((q) => q.at)) - startedAt;
    const delivered = members.map((m, i) => privmsgsFrom(m, flooder.nick!, from[i]).length);
    const allowed = burst + Math.ceil((rate * lastQuitMs) / 1000);

    expect(closedAfterMs).toBeLessThan(boundMs);
    // The server cannot have judged it a flood before more than recvqBytes were queued.
    expect(sentAtError!).toBeGreaterThanOrEqual(queuedToOverflow);
    for (const d of delivered) {
      expect(d).toBeGreaterThanOrEqual(1);
      expect(d).toBeLessThanOrEqual(allowed);
    }
    expect(new Set(delivered).size).toBe(1);
    // Flood lines the members did get are whole, in order, from the start of the flood.
    expect(privmsgsFrom(reader, flooder.nick!, from[0]).map((m) => m.params[1])).toEqual(
      Array.from({ length: delivered[0]! }, (_, i) => floodLine(i).slice('PRIVMSG #busy :'.length)),
    );
    // Latency of the others during the flood: a few ms when idle; 250 ms of margin.
    expect(Math.max(...probeLatencies)).toBeLessThan(250);
    await expectClosedFor(c.s, 'excessFlood', 1);

    await Promise.all(members.map((m) => m.quit()));
    await expectServed(c, 'IRC: 1,000-lines-per-second flooder', {
      expectedCloseMs: expectedMs,
      boundMs,
      closedAfterMs: round(closedAfterMs),
      linesSentWhenErrorArrived: sentAtError!,
      deliveredToEachMember: delivered[0],
      allowedByFloodControl: allowed,
      probeLatencyMs: probeLatencies.map(round),
    });
  });

  it('closes a client that never reads for its sendq once the kernel buffers are full, and nobody else slows down', async () => {
    // Flood control is not the subject: the sender may send as fast as it likes (no fakelag,
    // and a recvq that holds a whole tick's lines: they arrive in one read and wait there for
    // the asynchronous PRIVMSG handler, one at a time). sendqBytes stays the default (64 KiB).
    // A short closeTimeout: the non-reader never reads its goodbye; the server destroys it then.
    const c = await begin(
      { floodBurstLines: 1_000_000, floodRateLinesPerSecond: 1_000_000, recvqBytes: 1 * MiB },
      { closeTimeoutMs: 1_000 },
    );
    const { sendqBytes } = defaultConfig.irc;
    const sender = peer(c.port);
    const prober = peer(c.port);
    const reader = peer(c.port, { keepLines: false });
    const readers = [reader, peer(c.port, { keepLines: false }), peer(c.port, { keepLines: false })];
    await Promise.all([sender, prober, ...readers].map((p) => p.register(uniqueNick('busy'))));
    for (const p of [sender, prober, ...readers]) await p.join('#busy');

    // The channel's traffic: ~450-byte lines on the wire, 30 every 5 ms (up to 2.7 MB/s to
    // each member), and a probe from another member every tick whose latency the reader
    // measures. Small ticks: see the per-turn sendq finding below.
    const text = 'b'.repeat(400);
    const perTick = 30;
    const wireLine = Buffer.byteLength(`:${sender.nick}!~${sender.nick}@127.0.0.1 PRIVMSG #busy :${text}\r\n`);
    async function phase(name: string, lines: number): Promise<{ latencies: number[]; bytesToReader: number; ms: number }> {
      const latencies: number[] = [];
      const pending: Promise<void>[] = [];
      const failures: unknown[] = [];
      const readerBytes = reader.byteCount;
      const counts = readers.map((r) => r.lineCount);
      const startedAt = performance.now();
      let sent = 0;
      let probe = 0;
      while (sent < lines) {
        const n = Math.min(perTick, lines - sent);
        sender.send(...Array.from({ length: n }, () => `PRIVMSG #busy :${text}`));
        sent += n;
        const marker = `probe-${name}-${probe++}`;
        const got = reader.waitForLine((l) => isMessage(l, 'PRIVMSG', '#busy', marker), `probe ${marker}`, 10_000);
        const at = performance.now();
        prober.send(`PRIVMSG #busy :${marker}`);
        // Handled at once (a failure is kept and rethrown below), not only when awaited.
        pending.push(got.then((line) => void latencies.push(line.at - at), (err: unknown) => void failures.push(err)));
        if (failures.length > 0) break;
        await sleep(5);
      }
      await Promise.all(pending);
      if (failures.length > 0) throw failures[0];
      // Every reader got every line: nobody was held back or dropped.
      await until(
        () => readers.every((r, i) => r.lineCount - counts[i]! >= lines + probe),
        10_000,
        `every reader to get all ${lines + probe} lines of phase ${name}`,
        () => `(${readers.map((r, i) => r.lineCount - counts[i]!).join(', ')})`,
      );
      return { latencies, bytesToReader: reader.byteCount - readerBytes, ms: performance.now() - startedAt };
    }

    // Enough traffic to fill what the kernel takes for a client that does not read, and then
    // the sendq: the server end's send buffer grows up to tcp_wmem's max (4 MiB here), the
    // client end's receive buffer holds tcp_rmem's default (128 KiB) and Node reads 64 KiB
    // more before a paused socket stops reading. On this machine it took 4.1 MB of channel
    // traffic, of which the kernel held 4.0 MB when the sendq overflowed. Each phase sends
    // 1.5 times that estimate.
    const [, rmemDefault] = readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().split(/\s+/).map(Number);
    const [, , wmemMax] = readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/).map(Number);
    const kernelEstimate = wmemMax! + rmemDefault! + 64 * 1024;
    const lines = Math.ceil((1.5 * (kernelEstimate + sendqBytes)) / wireLine);
    await phase('warm-up', 2_000);
    const without = await phase('without', lines);

    const nonReader = peer(c.port, { keepLines: false });
    await nonReader.register(uniqueNick('deaf'));
    await nonReader.join('#busy');
    nonReader.socket.pause();
    const readerBytesAtPause = reader.byteCount;
    let kernelHeld = -1;
    let trafficToCloseBytes = -1;
    const quitSeen = reader
      .waitForLine((l) => l.startsWith(`:${nonReader.nick}!`) && l.endsWith(' QUIT :SendQ exceeded'), 'the non-reader QUIT [SendQ exceeded]', 20_000)
      .then(() => {
        trafficToCloseBytes = reader.byteCount - readerBytesAtPause;
        // What the kernel holds for it at that moment: our end's receive queue and the
        // server end's send queue (still there until closeTimeoutMs).
        const client = kernelQueues(nonReader.socket.localPort!, c.port);
        const serverEnd = kernelQueues(c.port, nonReader.socket.localPort!);
        kernelHeld = (client?.rx ?? 0) + (serverEnd?.tx ?? 0);
      });
    const withIt = await phase('with', lines);
    await within(quitSeen, 5_000, 'the non-reader to be closed for its sendq by the end of the traffic');
    await expectClosedFor(c.s, 'sendqExceeded', 1);
    // It really read nothing of the traffic: what it has is its welcome and its JOIN.
    expect(nonReader.lineCount).toBeLessThan(100);

    const p99Without = percentile(without.latencies, 99);
    const p99With = percentile(withIt.latencies, 99);
    // Same traffic, same members, same test: the non-reader must not show. Generous for noise.
    expect(p99With).toBeLessThanOrEqual(3 * p99Without + 20);
    // It took more than the sendq: the kernel's buffers filled first.
    expect(trafficToCloseBytes).toBeGreaterThan(sendqBytes);
    for (const r of readers) expect(r.isClosed()).toBe(false);

    nonReader.socket.destroy();
    await Promise.all([sender, prober, ...readers].map((p) => p.quit()));
    await expectServed(c, 'IRC: a client that never reads in a busy channel', {
      linesPerPhase: lines,
      kernelEstimateBytes: kernelEstimate,
      wireBytesPerLine: wireLine,
      phaseMs: { without: Math.round(without.ms), with: Math.round(withIt.ms) },
      bytesToEachReaderPerPhase: without.bytesToReader,
      trafficUntilSendqCloseBytes: trafficToCloseBytes,
      kernelHeldForNonReaderBytes: kernelHeld,
      sendqBytes,
      probes: without.latencies.length,
      p50Ms: { without: round(percentile(without.latencies, 50)), with: round(percentile(withIt.latencies, 50)) },
      p99Ms: { without: round(p99Without), with: round(p99With) },
    });
  });
});

describe('sendq', () => {
  // Found by this suite: output is batched per event-loop turn, and the sendq check counts the
  // batch not yet written (outBytes) as if the client had left it unread. One turn that
  // produces more than sendqBytes for a client (a big WHO, NAMES or LIST reply; a busy channel
  // whose messages land in the same turn) closes it for SendQ exceeded although the kernel
  // would take it all at once and the client reads everything. config.ts says the sendq is
  // output "left unread in the process (on top of what the kernel's socket buffer holds)".
  // sendqBytes is lowered so that 300 members make a reply larger than it (~24 KiB); at the
  // default 64 KiB a WHO on a channel of about 900 does the same.
  it('keeps a client that reads everything when one reply is larger than its sendq (WHO on a big channel)', async () => {
    const sendqBytes = 16 * 1024;
    const members = 300;
    const c = await begin({ sendqBytes, maxConnectionsPerIp: members + 10 });
    await inBatches(members, 100, async (i) => {
      const p = peer(c.port, { keepLines: false });
      await p.register(`member${i}`, 10_000);
      await p.join('#big', 10_000);
    });
    const asker = peer(c.port);
    await asker.register('asker');
    await asker.join('#big');
    const from = asker.lines.length;
    asker.send('WHO #big');
    const outcome = await asker.waitForLine((l) => / 315 asker #big /.test(l) || l.startsWith('ERROR '), 'the end of WHO (315) or an ERROR', 10_000, from);
    const replyBytes = asker.messages(from).reduce((n, m) => n + Buffer.byteLength(m.line) + 2, 0);
    figures['IRC: WHO reply larger than the sendq'] = { members, sendqBytes, replyBytesReceived: replyBytes, last: outcome.text };
    expect(outcome.text, `after ${replyBytes} bytes of the reply`).toMatch(/^:\S+ 315 asker #big /);
    expect(asker.messages(from).filter((m) => m.command === '352')).toHaveLength(members + 1);
    for (const p of peers) if (!p.isClosed()) p.send('QUIT');
    await within(Promise.all(peers.map((p) => p.closed)), 10_000, 'everyone to be closed after QUIT');
    await expectServed(c, 'IRC: WHO reply larger than the sendq', { members, sendqBytes });
  });
});

describe('latency', () => {
  // Found by this suite: accepted sockets keep Nagle's algorithm (nothing calls setNoDelay).
  // The server already writes once per event-loop turn, so Nagle only adds delay: a line for a
  // client whose last data it has not acknowledged yet waits for that client's delayed ACK
  // (40 ms minimum on Linux, up to 200 ms on other stacks). Here every message to a member who
  // was just answered arrives ~43 ms late; with TCP_NODELAY on the server's sockets, ~0.2 ms.
  it('delivers a message to a member who was just answered without waiting for its delayed ACK', async () => {
    const c = await begin();
    const a = peer(c.port);
    const b = peer(c.port);
    await a.register('alice');
    await b.register('bob');
    await a.join('#n');
    await b.join('#n');
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const from = b.lines.length;
      b.send(`PING :p${i}`);
      await b.waitForLine((l) => l.endsWith(` p${i}`) || l.endsWith(`:p${i}`), `PONG p${i}`, 5_000, from);
      latencies.push(await timedMessage(a, b, '#n'));
    }
    figures['IRC: message right after a reply'] = { latenciesMs: latencies.map(round) };
    // The delayed ACK's floor is 40 ms; a median under 20 ms leaves half of it for a busy box.
    expect(percentile(latencies, 50)).toBeLessThan(20);
    await Promise.all([a.quit(), b.quit()]);
    await expectServed(c, 'IRC: message right after a reply', { latenciesMs: latencies.map(round) });
  });
});

describe('registration', () => {
  it('closes clients that never finish registering at the registration deadline with [Registration timed out]', async () => {
    const registrationTimeoutMs = 600;
    const c = await begin({ registrationTimeoutMs });
    const silent = peer(c.port);
    const nickOnly = peer(c.port, { onConnect: (s) => s.write('NICK halfway\r\n') });
    // CAP LS holds registration open until CAP END, which never comes.
    const capHeld = peer(c.port, { onConnect: (s) => s.write('CAP LS 302\r\nNICK capper\r\nUSER capper 0 * :c\r\n') });
    const all = [silent, nickOnly, capHeld];
    const endings = await within(Promise.all(all.map((p) => p.closed)), registrationTimeoutMs + 3_000, 'the unregistered clients to be closed');
    const lifetimes = endings.map((e, i) => e.at - all[i]!.startedAt);
    // The deadline runs from accept, which is after our connect call: not earlier (but for the
    // event loop's cached clock), and, with a 2-core machine's slack, not much later.
    for (const ms of lifetimes) {
      expect(ms).toBeGreaterThanOrEqual(registrationTimeoutMs - 20);
      expect(ms).toBeLessThan(registrationTimeoutMs + 1_000);
    }
    const notice = `:irc.localhost NOTICE * :${defaultConfig.greeting}`;
    const goodbye = (who: string) => `ERROR :Closing link: (${who}@127.0.0.1) [Registration timed out]`;
    expect(silent.lines.map((l) => l.text)).toEqual([notice, goodbye('*')]);
    expect(nickOnly.lines.map((l) => l.text)).toEqual([notice, goodbye('halfway')]);
    const capLines = capHeld.lines.map((l) => l.text);
    expect(capLines[0]).toBe(notice);
    expect(capLines[1]).toMatch(/^:irc\.localhost CAP \* LS :/);
    expect(capLines.slice(2)).toEqual([goodbye('~capper')]);
    for (const e of endings) expect(e.error).toBeNull();
    await expectClosedFor(c.s, 'registrationTimeout', 3);
    await expectDrained(c);
    // Their nicks were never taken for good: a new client may have them.
    const again = peer(c.port);
    await again.register('halfway');
    await again.quit();
    await expectServed(c, 'IRC: registration never finished', {
      registrationTimeoutMs,
      closedAfterMs: { min: round(Math.min(...lifetimes)), max: round(Math.max(...lifetimes)) },
    });
  });
});

describe('hostile text', () => {
  it('never lets CR, LF or NUL split or cut a line another client receives, injects no command, and logs no text', async () => {
    // Many commands in a row: flood control is not the subject.
    const c = await begin({ floodBurstLines: 100 });
    const MARK = `secret-body-${Math.random().toString(36).slice(2)}`;
    const mallory = peer(c.port, { keepRaw: true });
    // Username and realname with ESC, BEL, NUL and a lone CR (the realname shows in WHOIS).
    await mallory.register('mallory', 5_000, 'USER m\x1b[0m\x00x 0 * :real\x1b]0;x\x07name\x00\rtail');
    await mallory.join('#c');
    await mallory.join('#d');
    const [bob, carol, dave] = ['bob', 'carol', 'dave'].map(() => peer(c.port, { keepRaw: true })) as [IrcPeer, IrcPeer, IrcPeer];
    await bob.register('bob');
    await carol.register('carol');
    await dave.register('dave');
    for (const p of [bob, carol, dave]) await p.join('#c');
    await bob.join('#d');
    const others = [bob, carol, dave];
    // A barrier: once each has mallory's NOTICE, it has every JOIN sent before it.
    mallory.send('NOTICE #c :ready');
    await Promise.all(others.map((p) => p.waitForLine((l) => isMessage(l, 'NOTICE', '#c', 'ready'), 'the ready NOTICE')));
    const from = others.map((p) => p.lines.length);
    const mFrom = mallory.lines.length;

    mallory.send(
      'NICK a\x1bb', // 432
      'NICK m\x00x', // 432
      'PRIVMSG #c :a\rQUIT :x', // a lone CR does not end the line
      `PRIVMSG #c :before\x00after ${MARK}`, // a raw NUL mid-line
      `PRIVMSG #c :\x1b[2J\x1b]0;pwned\x07 del\x7f c1\u009b ${MARK}`, // terminal controls: text, passed on
      `NOTICE #c :n\x00o\rtice ${MARK}`,
      'PRI\x00VMSG #c :hidden', // not a command: 421
      'PRIVMSG #c\rQUIT :x', // a target with a CR: no such channel
      'TOPIC #c :\x1b]0;pwned\x07 \x00 x',
      'MODE #c +k k\x00e\ry', // a key with controls could never be typed back: 696, not set
      'KICK #c dave :bye\rJOIN #c\x00now',
      'PART #d :part\rJOIN #d\x00x',
      'AWAY :gone\r\x1b[2J\x00x',
      'PING :after-hostile',
    );
    await mallory.waitForLine(/ PONG \S+ :?after-hostile$/, 'the PONG after the hostile lines', 5_000, mFrom);
    bob.send(`PRIVMSG mallory :are you there ${MARK}`, 'WHOIS mallory');
    await bob.waitForLine(/^:\S+ 318 bob mallory /, 'the end of WHOIS', 5_000, from[0]);
    await mallory.waitForLine((l) => isMessage(l, 'PRIVMSG', 'mallory', `are you there ${MARK}`), 'bob’s PRIVMSG', 5_000, mFrom);
    mallory.send('QUIT :bye\rJOIN #c\x00\x1b[31m');
    await within(mallory.closed, 5_000, 'mallory to be closed after QUIT');
    const isQuit = (l: string) => l.startsWith(':mallory!') && parseLine(l).command === 'QUIT';
    await bob.waitForLine(isQuit, 'mallory’s QUIT at bob', 5_000, from[0]);
    await carol.waitForLine(isQuit, 'mallory’s QUIT at carol', 5_000, from[1]);
    // dave was kicked from the only channel he shared with mallory: no QUIT for him.

    // (1) Every line every client received ends in CRLF and holds no CR, LF or NUL.
    for (const p of [mallory, ...others]) expect(wireViolations(p.raw()), p.nick!).toEqual([]);
    // (2) What the others saw of mallory: exactly these, in this order, nothing injected.
    const shown = (p: IrcPeer, i: number) =>
      p
        .messages(from[i])
        .filter((m) => m.nick === 'mallory')
        .map((m) => [m.command, ...m.params]);
    const msgs = [
      ['PRIVMSG', '#c', 'a QUIT :x'],
      ['PRIVMSG', '#c', `before after ${MARK}`],
      ['PRIVMSG', '#c', `\x1b[2J\x1b]0;pwned\x07 del\x7f c1\u009b ${MARK}`],
      ['NOTICE', '#c', `n o tice ${MARK}`],
      ['TOPIC', '#c', '\x1b]0;pwned\x07   x'],
      ['KICK', '#c', 'dave', 'bye JOIN #c now'],
    ];
    expect(shown(bob, 0)).toEqual([...msgs, ['PART', '#d', 'part JOIN #d x'], ['QUIT', 'Quit: bye JOIN #c \x1b[31m']]);
    expect(shown(carol, 1)).toEqual([...msgs, ['QUIT', 'Quit: bye JOIN #c \x1b[31m']]);
    expect(shown(dave, 2)).toEqual(msgs);
    // Nobody else joined or quit in the meantime (no command was injected on anyone's behalf).
    for (const [i, p] of others.entries()) {
      expect(p.messages(from[i]).filter((m) => (m.command === 'JOIN' || m.command === 'QUIT') && m.nick !== 'mallory')).toEqual([]);
    }
    // Every source bob saw is printable ASCII (mallory's username lost its controls).
    for (const m of bob.messages()) if (m.line.startsWith(':')) expect(m.line.slice(0, m.line.indexOf(' '))).toMatch(/^:[\x21-\x7e]+$/);
    // The away text and the realname reached bob, one line each.
    const bobSaw = bob.messages(from[0]);
    expect(bobSaw.find((m) => m.command === '301')?.params).toEqual(['bob', 'mallory', 'gone \x1b[2J x']);
    expect(bobSaw.find((m) => m.command === '311')?.params).toEqual(['bob', 'mallory', '~m[0mx', '127.0.0.1', '*', 'real\x1b]0;x\x07name  tail']);
    // Mallory got its errors, one line each, and stayed until its own QUIT.
    const toMallory = mallory.messages(mFrom).map((m) => m.command);
    expect(toMallory.filter((x) => x === '432')).toHaveLength(2);
    expect(toMallory).toContain('421');
    expect(toMallory).toContain('696');
    await expectClosedFor(c.s, 'quit', 1);

    // (3) The log: no raw control character, and never a message body.
    expect(unsafeLogLines(c.s.lines)).toEqual([]);
    expect(c.s.lines.filter((l) => l.includes(MARK))).toEqual([]);

    await Promise.all(others.map((p) => p.quit()));
    await expectServed(c, 'IRC: NUL, CR and ESC in nicks, topics, messages and reasons', { hostileLines: 14 });
  });

  it('decodes invalid UTF-8 in PRIVMSG and TOPIC leniently: others get U+FFFD, the sender is warned and stays', async () => {
    const c = await begin({ floodBurstLines: 100 });
    const mallory = peer(c.port, { onConnect: (s) => s.setNoDelay(true) });
    const bob = peer(c.port, { keepRaw: true });
    await mallory.register('mallory');
    await bob.register('bob');
    await mallory.join('#u');
    await bob.join('#u');
    const from = bob.lines.length;
    const mFrom = mallory.lines.length;
    const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    // What a WHATWG decoder (TextDecoder, fatal: false) makes of each: one U+FFFD per maximal
    // invalid subsequence.
    const bad: Array<[number[], string]> = [
      [[0x61, 0x80, 0x62], 'a\ufffdb'], // a lone continuation byte
      [[0xc0, 0xaf], '\ufffd\ufffd'], // overlong '/' in 2 bytes
      [[0xe0, 0x80, 0xaf], '\ufffd\ufffd\ufffd'], // overlong in 3 bytes
      [[0xf0, 0x80, 0x80, 0xaf], '\ufffd\ufffd\ufffd\ufffd'], // overlong in 4 bytes
      [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], '\ufffd\ufffd\ufffd\ufffd'], // above U+10FFFF
      [[0xff, 0xfe], '\ufffd\ufffd'], // bytes that never occur in UTF-8
      [[0xf0, 0x9f, 0x98, 0x41], '\ufffdA'], // a truncated 4-byte sequence, then ASCII
    ];
    await writeAll(mallory, Buffer.concat(bad.map(([b], i) => bytes(`PRIVMSG #u :u${i} `, b, '\r\n'))));
    // Packet boundaries: a valid 4-byte character split across two packets is joined; a
    // truncated one at the end of a packet, whose line then ends, is one U+FFFD. Each second
    // packet is sent once the server has read the first.
    const secondPacket = async (first: Buffer, second: Buffer) => {
      await writeAll(mallory, first);
      await until(() => unreadByServer(c.port, mallory.socket) === 0, 5_000, 'the server to read the first packet');
      await writeAll(mallory, second);
    };
    await secondPacket(bytes('PRIVMSG #u :split ', [0xf0, 0x9f]), bytes([0x98, 0x80], '\r\n'));
    await secondPacket(bytes('PRIVMSG #u :trunc ', [0xf0, 0x9f, 0x98]), bytes('\r\n'));
    await writeAll(mallory, bytes('TOPIC #u :topic ', [0xc3, 0x28], ' ', [0xff], ' end\r\n'));
    await writeAll(mallory, bytes('NICK ', [0xff], '\r\nPING :still-here\r\n'));
    await mallory.waitForLine(/ PONG \S+ :?still-here$/, 'the PONG after the invalid UTF-8', 5_000, mFrom);
    await bob.waitForLine((l) => / TOPIC #u /.test(l), 'the TOPIC', 5_000, from);

    const seen = bob.messages(from).filter((m) => m.nick === 'mallory');
    expect(seen.map((m) => [m.command, ...m.params])).toEqual([
      ...bad.map(([, text], i) => ['PRIVMSG', '#u', `u${i} ${text}`]),
      ['PRIVMSG', '#u', 'split \u{1f600}'],
      ['PRIVMSG', '#u', 'trunc \ufffd'],
      ['TOPIC', '#u', 'topic \ufffd( \ufffd end'],
    ]);
    // Everything bob received is valid UTF-8 and well framed.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bob.raw())).not.toThrow();
    expect(wireViolations(bob.raw())).toEqual([]);
    expect(mallory.messages(mFrom).map((m) => m.command)).toContain('432');
    // UTF8ONLY: the sender hears a WARN for each line it sent with invalid UTF-8, before its
    // answer (none for the character split across packets, which was valid).
    const warns = mallory.messages(mFrom).filter((m) => m.command === 'WARN').map((m) => m.params.slice(0, 2).join(' '));
    expect(warns).toEqual([...bad.map(() => 'PRIVMSG INVALID_UTF8'), 'PRIVMSG INVALID_UTF8', 'TOPIC INVALID_UTF8', 'NICK INVALID_UTF8']);
    // A newcomer gets the stored topic, decoded the same way.
    const carol = peer(c.port);
    await carol.register('carol');
    await carol.join('#u');
    expect(carol.messages().find((m) => m.command === '332')?.params).toEqual(['carol', '#u', 'topic \ufffd( \ufffd end']);
    expect(mallory.isClosed()).toBe(false);

    await Promise.all([mallory, bob, carol].map((p) => p.quit()));
    await expectServed(c, 'IRC: invalid UTF-8 in PRIVMSG and TOPIC', { malformedSequences: bad.length + 2 });
  });
});

describe('crowds', () => {
  // Up to 30 s: 2,000 registrations and joins (each JOIN goes to everyone already in: two
  // million lines), then 2,000 QUITs (two million more), all on a 2-core machine that also runs
  // the 2,000 clients. It takes ~4 s here.
  it('serves 2,000 clients in one channel: all join, one PRIVMSG reaches all 2,000, all QUIT, back to baseline', { timeout: 30_000 }, async () => {
    const n = 2_000;
    // One address for all (the per-IP limit raised); flood control stays at its defaults:
    // each client sends 3 lines (NICK, USER, JOIN), then QUIT, within its burst of 10.
    const c = await begin({ maxConnectionsPerIp: n + 10 });
    const t0 = performance.now();
    // In batches of 200, well within the listen backlog (2,048), so no SYN is dropped. Each
    // batch registers, then joins together: every JOIN goes to every member already in, and
    // the server writes to each member once per event-loop turn, so joins that arrive together
    // cost one write per member, while joins trickling in one per turn cost one each (2,000
    // joins one by one took 23 s here, about 2 million writes and as many reads in this process).
    const crowd: IrcPeer[] = [];
    for (let start = 0; start < n; start += 200) {
      const batch = Array.from({ length: 200 }, () => peer(c.port, { keepLines: false }));
      await Promise.all(batch.map((p, k) => p.register(`crowd${start + k}`, 15_000)));
      await Promise.all(batch.map((p) => p.join('#crowd', 15_000)));
      crowd.push(...batch);
    }
    const joinedMs = performance.now() - t0;

    const speaker = peer(c.port);
    await speaker.register('speaker');
    await speaker.join('#crowd', 10_000);
    const names = speaker
      .messages()
      .filter((m) => m.command === '353' && m.params[2] === '#crowd')
      .flatMap((m) => m.params[3]!.split(' ').filter((x) => x !== ''));
    expect(new Set(names.map((x) => x.replace(/^[@+]/, ''))).size).toBe(n + 1);

    const marker = `to-everyone-${Math.random().toString(36).slice(2)}`;
    const arrivals = crowd.map((p) => p.waitForLine((l) => isMessage(l, 'PRIVMSG', '#crowd', marker), 'the PRIVMSG to the crowd', 15_000));
    const sentAt = performance.now();
    speaker.send(`PRIVMSG #crowd :${marker}`);
    const got = await Promise.all(arrivals);
    expect(got).toHaveLength(n);
    const fanOut = got.map((l) => l.at - sentAt);

    // Everyone leaves, 200 at a time.
    const q0 = performance.now();
    await inBatches(n, 200, (i) => crowd[i]!.quit('bye', 15_000));
    const quitMs = performance.now() - q0;
    await until(
      () => speaker.messages().filter((m) => m.command === 'QUIT').length === n,
      10_000,
      'the speaker to see every QUIT',
      () => `(${speaker.messages().filter((m) => m.command === 'QUIT').length})`,
    );
    await expectClosedFor(c.s, 'quit', n);
    await speaker.quit();
    await expectDrained(c, 15_000);
    await expectServed(c, 'IRC: 2,000 clients in one channel', {
      clients: n,
      joinedMs: Math.round(joinedMs),
      fanOutMs: { first: round(Math.min(...fanOut)), p50: round(percentile(fanOut, 50)), last: round(Math.max(...fanOut)) },
      quitMs: Math.round(quitMs),
      linesReceivedByCrowd: crowd.reduce((t, p) => t + p.lineCount, 0),
      bytesReceivedByCrowd: crowd.reduce((t, p) => t + p.byteCount, 0),
    });
  });
});

describe('resets', () => {
  it('tells the channel when a member vanishes with a reset, and keeps serving through 200 clients connecting and resetting at once', async () => {
    const c = await begin();
    const observer = peer(c.port);
    await observer.register('observer');
    await observer.join('#c');
    const victim = peer(c.port);
    await victim.register('victim');
    await victim.join('#c');
    await observer.waitForLine((l) => l.startsWith(':victim!') && l.endsWith(' JOIN #c'), 'the victim’s JOIN');
    victim.socket.resetAndDestroy();
    const quit = await observer.waitForLine((l) => l.startsWith(':victim!') && parseLine(l).command === 'QUIT', 'the victim’s QUIT');
    const reason = /^(Read error: ECONNRESET|Connection closed)$/;
    expect(parseLine(quit.text).params[0]).toMatch(reason);

    // 100 members on 127.0.0.2-11 (10 per address, under the per-IP limit of 16), reset at once.
    const members = await inBatches(100, 50, async (i) => {
      const p = peer(c.port, { localAddress: `127.0.0.${2 + (i % 10)}`, keepLines: false });
      await p.register(`gone${i}`);
      await p.join('#c');
      return p;
    });
    const goneQuits = () => observer.messages().filter((m) => m.command === 'QUIT' && m.nick.startsWith('gone'));
    for (const p of members) p.socket.resetAndDestroy();
    await until(() => goneQuits().length === 100, 5_000, 'the observer to see 100 QUITs', () => `(${goneQuits().length})`);
    for (const m of goneQuits()) expect(m.params[0]).toMatch(reason);

    // 200 more connect and reset at once, from 127.0.0.12-31.
    const storm = Array.from({ length: 200 }, (_, i) => peer(c.port, { localAddress: `127.0.0.${12 + (i % 20)}`, onConnect: (s) => s.resetAndDestroy() }));
    await within(Promise.all(storm.map((p) => p.closed)), 5_000, 'the reset clients to close');

    // The per-IP counts were given back: 16 from one of those addresses are all accepted.
    const again = Array.from({ length: 16 }, () => peer(c.port, { localAddress: '127.0.0.2' }));
    await Promise.all(again.map((p, i) => p.register(`again${i}`)));
    await Promise.all(again.map((p) => p.quit()));
    await observer.quit();
    await expectClosedFor(c.s, 'quit', 16 + 1);
    const reasons = closeReasons(c.s);
    expect(reasons.tooManyFromIp ?? 0).toBe(0);
    const accepted = c.s.handle.accepted();
    // Every reset the server saw ended as a socket error or a vanished client; the others quit.
    expect((reasons.socketError ?? 0) + (reasons.clientGone ?? 0)).toBe(accepted - reasons.quit!);
    await expectServed(c, 'IRC: resets mid-channel and a reset storm', {
      victimQuitReason: parseLine(quit.text).params[0],
      resetStormAccepted: accepted - 1 - 1 - 100 - 16,
    });
  });
});
