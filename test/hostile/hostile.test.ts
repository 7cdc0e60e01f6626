// Hostile clients on real sockets (127.0.0.1, port 0): slowloris, reset storms, half-open
// clients, TLS and HTTP on the plaintext port, binary garbage, NUL bytes, floods, clients that
// never read, more clients than the cap, shutdown under load. Every case then checks that
// (a) a well-behaved client is still served a whole exchange and (b) nothing leaked: no
// connection actor left, the server machine's `live` back to 0, this process's TCP handles,
// timers and descriptors back to their baseline, and, for the CLI cases, the child's
// descriptors back to theirs. docs/reliability.md lists the cases and the figures of a run
// (`HOSTILE_FIGURES=/tmp/figures.json npx vitest run test/hostile` writes them).
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/core/config.js';
import { runServer, serverBin, type Running } from '../process.js';
import { kernelQueues } from './ircUtil.js';
import {
  GREETING,
  MiB,
  dial,
  fdCount,
  inBatches,
  noLeaks,
  normalExchange,
  pseudoRandomBytes,
  recordFigures,
  resources,
  retainedBytes,
  rssBytes,
  runWithUlimit,
  settle,
  settleFds,
  sleep,
  startHostileServer,
  tlsClientHello,
  unsafeLogLines,
  until,
  within,
  writeFigures,
  type DialOptions,
  type Dialed,
  type Ending,
  type HostileServer,
  type Leaks,
  type Resources,
} from './util.js';

const SHUTDOWN_LINE = 'error SHUTTING_DOWN: server is shutting down, goodbye\n';
const REJECTED_SHUTDOWN_LINE = 'error SHUTTING_DOWN: server is shutting down\n';
const BUSY_LINE = 'error SERVER_BUSY: server busy, try again later\n';

afterAll(() => writeFigures());

// Whatever a failing case left behind is freed here, so that one failure does not cascade.
let server: HostileServer | undefined;
const clients: Dialed[] = [];
const children: Running[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  for (const r of children.splice(0)) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
  if (server) {
    await within(server.stop(), 10_000, 'server to stop after the test');
    server = undefined;
  }
});

function drainedOrClosed(socket: Dialed['socket']): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

function client(port: number, options?: DialOptions): Dialed {
  const c = dial(port, options);
  clients.push(c);
  return c;
}

interface Case {
  s: HostileServer;
  baseline: Resources;
  startedAt: number;
}

/**
 * Starts the server for one case. Unless the case is about it, closeTimeoutMs is far longer
 * than the settle window: a timer or socket the server forgot to release then lingers past the
 * leak check instead of expiring quietly inside it.
 */
async function begin(overrides: Partial<ServerConfig> = {}): Promise<Case> {
  const s = await startHostileServer({ closeTimeoutMs: 30_000, ...overrides });
  server = s;
  return { s, baseline: resources(), startedAt: Date.now() };
}

/**
 * (b) once the hostile clients are gone, nothing of theirs is left: no connection actor, the
 * server machine counts no live connection, and this process's TCP handles, timers and
 * descriptors are back to the baseline. Also: every connection the server opened it closed
 * (and logged), no actor crashed, and no log line carries a raw control character.
 */
async function expectDrained(c: Case): Promise<Leaks> {
  const leaks = await settle(c.s, c.baseline);
  expect(leaks).toEqual(noLeaks);
  const opened = c.s.matching(/ Connection established from /).length;
  expect(c.s.matching(/ closed \(\w+\)\.$/)).toHaveLength(opened);
  expect(c.s.matching(/crashed/)).toEqual([]);
  expect(unsafeLogLines(c.s.lines())).toEqual([]);
  return leaks;
}

/**
 * The end of every in-process case: (b) drained, then (a) a normal client is served a whole
 * exchange, then (b) again, and the figures are recorded.
 */
async function expectRecovered(c: Case, name: string, connections: number, more: Record<string, unknown> = {}): Promise<void> {
  await expectDrained(c);
  const { rejected } = c.s.handle.actor.getSnapshot().context;
  const accepted = c.s.handle.accepted();
  const durationMs = Date.now() - c.startedAt;
  expect(await normalExchange(c.s, name)).toBe(`${c.s.config.greeting}\n`);
  const leaks = await expectDrained(c);
  recordFigures(name, { connections, durationMs, leaks, accepted, rejected, ...more });
}

/**
 * The end of a case that stopped the server: (b) drained (the final snapshot counts no live
 * connection); then (a) the same port is claimed again by a fresh server, which serves a
 * normal client (the address and every descriptor were given back).
 */
async function expectRecoveredAfterStop(c: Case, name: string, connections: number, more: Record<string, unknown> = {}): Promise<void> {
  const leaks = await expectDrained(c);
  const { rejected } = c.s.handle.actor.getSnapshot().context;
  const accepted = c.s.handle.accepted();
  recordFigures(name, { connections, durationMs: Date.now() - c.startedAt, leaks, accepted, rejected, ...more });
  const again = await startHostileServer({ port: c.s.port });
  server = again;
  expect(await normalExchange(again, name)).toBe(GREETING);
}

/**
 * Samples every connection actor's state every 10 ms. `stop()` returns the states seen;
 * `lastLive()` the states of the connections live at the last sample that found any (to say
 * which ones held a shutdown up when it was forced).
 */
function watchStates(s: HostileServer): { stop(): Set<string>; lastLive(): string } {
  const seen = new Set<string>();
  let last: Record<string, string> = {};
  const sample = () => {
    const now: Record<string, string> = {};
    for (const [id, a] of s.handle.connections()) {
      const state = JSON.stringify(a.getSnapshot().value);
      seen.add(state);
      now[`#${id}`] = state;
    }
    if (Object.keys(now).length > 0) last = now;
  };
  const timer = setInterval(sample, 10);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen;
    },
    lastLive: () => JSON.stringify(last),
  };
}

/** For each connection closed for `reason`, the time from its accept (log) to its close (log). */
function lifetimesByReason(s: HostileServer, reason: string): number[] {
  const openedAt = new Map<string, number>();
  for (const e of s.matching(/^#\d+ Connection established/)) openedAt.set(e.line.split(' ')[0]!, e.at);
  return s.matching(new RegExp(` closed \\(${reason}\\)\\.$`)).map((e) => e.at - (openedAt.get(e.line.split(' ')[0]!) ?? NaN));
}

/**
 * How many connections wait in the kernel's accept queue of the listener on 127.0.0.1:`port`
 * (for a listening socket, the rx_queue column of /proc/net/tcp is that count).
 */
function acceptQueueLength(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
    const [, address, , state, queues] = line.trim().split(/\s+/);
    if (address === local && state === '0A') return parseInt(queues!.split(':')[1]!, 16);
  }
  throw new Error(`no listener on 127.0.0.1:${port} in /proc/net/tcp`);
}

/**
 * Resolves once the server has taken every connection queued for it, however long that takes:
 * it fails only if the queue stops shrinking for `stallMs`.
 */
async function untilAcceptQueueEmpty(port: number, stallMs: number): Promise<void> {
  let waiting = acceptQueueLength(port);
  let shrankAt = Date.now();
  while (waiting > 0) {
    await sleep(20);
    const now = acceptQueueLength(port);
    if (now < waiting) shrankAt = Date.now();
    else if (Date.now() - shrankAt > stallMs) throw new Error(`the server took none of the ${now} queued connections in ${stallMs} ms`);
    waiting = now;
  }
}

/**
 * Resolves once the server has read the bytes `client` sent and holds them as a partial reply
 * (its connection in awaitingReply.partial). The connection is the newest one the server logged
 * from the client's port.
 */
async function untilPartialReplyRead(s: HostileServer, client: Dialed): Promise<void> {
  const opened = s.matching(new RegExp(` Connection established from 127\\.0\\.0\\.1:${client.socket.localPort}$`));
  const id = Number(opened[opened.length - 1]?.line.split(' ')[0]!.slice(1));
  const partial = JSON.stringify({ open: { awaitingReply: 'partial' } });
  const state = () => JSON.stringify(s.handle.connections().get(id)?.getSnapshot().value);
  await until(() => state() === partial, 5_000, `connection #${id} to have read the partial reply`, () => `(in ${state()})`);
}

/** How many log lines give each close reason, e.g. { replied: 3, socketError: 2 }. */
function closeReasons(lines: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const m = / closed \((\w+)\)\.$/.exec(l);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  }
  return out;
}

describe('slow clients', () => {
  it('closes trickling (slowloris) clients with REPLY_TIMEOUT at the reply deadline, not later', async () => {
    const replyTimeoutMs = 800;
    // Quiet longer than the deadline, so the trickle is never taken as a reply by quiet.
    const c = await begin({ replyTimeoutMs, replyQuietMs: 10_000 });
    const n = 20;
    const trickling = Array.from({ length: n }, () => client(c.s.port, { onConnect: (sock) => sock.setNoDelay(true) }));
    const timers = trickling.map((t) =>
      setInterval(() => {
        if (t.socket.writable && !t.socket.connecting) t.socket.write('.');
      }, 100),
    );
    let endings: Ending[];
    try {
      // Before the deadline, every one is being read (its bytes have arrived) and has no reply
      // yet: the bytes are reaching the machine. Waited for rather than sampled after a fixed
      // sleep (a loaded machine may accept or read late); the lifetimes below show the bytes do
      // not restart the deadline.
      const states = () => [...c.s.handle.connections().values()].map((a) => JSON.stringify(a.getSnapshot().value));
      const partial = JSON.stringify({ open: { awaitingReply: 'partial' } });
      await until(
        () => states().length === n && states().every((v) => v === partial),
        replyTimeoutMs + 3_000,
        `all ${n} trickling clients to be in awaitingReply.partial`,
        () => JSON.stringify(states()),
      );
      // Seen before any was closed: none was dropped early, before its deadline.
      expect(trickling.filter((t) => t.isClosed()).length).toBe(0);
      endings = await within(Promise.all(trickling.map((t) => t.closed)), replyTimeoutMs + 3_000, 'slowloris clients to be closed');
    } finally {
      timers.forEach(clearInterval);
    }
    const lifetimes = endings.map((e, i) => e.at - trickling[i]!.startedAt);
    for (const e of endings) expect(e.text).toBe(`${GREETING}error REPLY_TIMEOUT: no reply within ${replyTimeoutMs} ms\n`);
    // The deadline runs from accept, which is after our connect call: not earlier than it (but
    // for the event loop's cached clock), so no client was closed before its deadline; and not
    // much later. The upper margin is for a loaded 2-core machine; a deadline that each byte
    // restarted would never close them, and the quiet timer (10 s) is far past it.
    for (const ms of lifetimes) {
      expect(ms).toBeGreaterThanOrEqual(replyTimeoutMs - 20);
      expect(ms).toBeLessThan(replyTimeoutMs + 2_000);
    }
    await expectDrained(c);
    expect(c.s.matching(/ closed \(replyTimeout\)\.$/)).toHaveLength(n);
    expect(c.s.matching(/Client Response Payload/)).toHaveLength(0);
    await expectRecovered(c, 'slowloris', n + 1, {
      replyTimeoutMs,
      closedAfterMs: { min: Math.min(...lifetimes), max: Math.max(...lifetimes) },
    });
  });
});

describe('connect storms', () => {
  it('survives 2,000 connects reset at once, 400 resets mid-exchange and 500 half-open clients', async () => {
    // Quiet far longer than an RST takes to follow the bytes it cuts (sent once the server has
    // read them), so a partial reply cut by a reset is never taken as a reply by quiet.
    const c = await begin({ replyQuietMs: 30_000 });
    const port = c.s.port;
    const storm = 2_000;
    await inBatches(storm, 200, (i) =>
      within(dial(port, { onConnect: (sock) => sock.resetAndDestroy() }).closed, 5_000, `reset client ${i} to close`),
    );
    // Survived the storm: the server is still bound, takes every reset connection the kernel
    // queued for it (a loaded machine takes seconds over 2,000, more than a client waits for its
    // greeting: waited for while the queue shrinks), then serves a whole exchange; and every
    // reset connection it took is released, each as a socket error or a vanished client.
    expect(c.s.handle.actor.getSnapshot().matches('bound')).toBe(true);
    await untilAcceptQueueEmpty(port, 5_000);
    expect(await normalExchange(c.s, 'the reset storm')).toBe(GREETING);
    await until(() => c.s.handle.liveConnections() === 0, 5_000, 'the reset connections to be released');
    const acceptedOfImmediateResets = c.s.handle.accepted() - 1;
    const stormReasons = closeReasons(c.s.lines());
    expect(stormReasons.replied).toBe(1);
    expect((stormReasons.socketError ?? 0) + (stormReasons.clientGone ?? 0)).toBe(acceptedOfImmediateResets);
    expect(Object.keys(stormReasons).filter((r) => !['replied', 'socketError', 'clientGone'].includes(r))).toEqual([]);
    // The storm reached the server's own handling (Linux hands over connections reset in the
    // accept queue; a run takes nearly all 2,000), not only the kernel's.
    expect(acceptedOfImmediateResets).toBeGreaterThan(0);

    // Resets the server certainly saw: after the greeting, half of them after a partial reply
    // that the server has read (the machine is in awaitingReply.partial when the RST lands).
    // Waited for, not slept on: bytes and an RST that are both waiting when the server reads come
    // out of Node as 'data' then 'end', not as ECONNRESET (libuv reads the bytes, sees EPOLLHUP
    // and reports EOF without the read that would return the error), so the server, rightly,
    // takes the bytes as a reply ended by the client; on a loaded machine a fixed sleep let that
    // happen to a few of them.
    const late = 400;
    await inBatches(late, 200, async (i) => {
      const t = client(port);
      await t.waitForText('\n');
      if (i % 2 === 1) {
        t.socket.write('half a repl');
        await untilPartialReplyRead(c.s, t);
      }
      t.socket.resetAndDestroy();
      return within(t.closed, 5_000, `late reset client ${i} to close`);
    });

    // Half-open: the client shuts down its write side before it has even read the greeting.
    const halfOpen = 500;
    const halfOpenEndings = await inBatches(halfOpen, 250, (i) =>
      within(client(port, { onConnect: (sock) => sock.end() }).closed, 5_000, `half-open client ${i} to be closed`),
    );
    for (const e of halfOpenEndings) expect(e).toMatchObject({ text: GREETING, error: null });
    await expectDrained(c);
    expect(c.s.matching(/ closed \(clientEnded\)\.$/)).toHaveLength(halfOpen);

    const reasons = closeReasons(c.s.lines());
    const accepted = c.s.handle.accepted();
    // Every reset the server saw ended as a socket error or a vanished client, none as a reply
    // (the one reply is the normal exchange after the storm), and every half-open client as
    // clientEnded.
    expect((reasons.socketError ?? 0) + (reasons.clientGone ?? 0), JSON.stringify(reasons)).toBe(accepted - halfOpen - 1);
    expect(reasons.replied ?? 0).toBe(1);
    expect(accepted).toBe(acceptedOfImmediateResets + 1 + late + halfOpen);
    await expectRecovered(c, 'reset storm and half-open', storm + late + halfOpen + 1, {
      acceptedOfImmediateResets,
      closeReasons: reasons,
    });
  }, 60_000); // 2,900 connections, 2,000 of them taken from the accept queue: up to 35 s with two suites on a busy 2-core machine
});

// Bytes a client sends the moment it connects, as a TLS or HTTP client would.
const nasty = Buffer.concat([
  Buffer.from('\u001b[2J\u001b]0;owned\u0007', 'utf8'), // ESC sequences, BEL
  Buffer.from([0xc2, 0x9b]), // U+009B, a one-character CSI
  Buffer.from('\u202e', 'utf8'), // right-to-left override
  Buffer.from('\r\u007f\u0000', 'latin1'), // bare CR, DEL, NUL
]);
const noLf = (b: Buffer) => Buffer.from(b.map((v) => (v === 0x0a ? 0x2a : v)));

interface PayloadCase {
  name: string;
  bytes: Buffer;
  maxReplyBytes?: number;
  /** What each client must receive before the server closes. */
  received: string;
  /** The close reason logged for each of these clients. */
  reason: string;
  /** Checks on the logged replies (one per client), already escaped by the server. */
  payload: (replies: string[], all: string[]) => void;
}

const payloadCases: PayloadCase[] = [
  {
    name: 'a TLS ClientHello on the plaintext port',
    bytes: tlsClientHello('hostile.test'),
    received: GREETING,
    reason: 'replied',
    payload: (replies) => {
      for (const r of replies) {
        expect(r.startsWith('\\x16\\x03\\x01')).toBe(true);
        expect(r).toContain('hostile.test'); // the SNI name, readable among the escapes
      }
    },
  },
  {
    name: 'an HTTP request on the plaintext port',
    bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    received: GREETING,
    reason: 'replied',
    payload: (replies, all) => {
      for (const r of replies) expect(r).toBe('GET / HTTP/1.1');
      expect(all.filter((l) => l.includes('Host: x'))).toEqual([]); // only the first line is the reply
    },
  },
  {
    name: 'binary garbage under the limit with no newline',
    bytes: Buffer.concat([nasty, noLf(pseudoRandomBytes(1_000, 7))]),
    received: GREETING,
    reason: 'replied',
    payload: (replies) => {
      for (const r of replies) {
        expect(r.startsWith('\\x1B[2J\\x1B]0;owned\\x07\\x9B\\u202E\\r\\x7F\\x00')).toBe(true);
        expect(r.length).toBeGreaterThan(500);
      }
    },
  },
  {
    name: 'binary garbage over --max-reply-bytes with no newline',
    bytes: noLf(pseudoRandomBytes(64 * 1024, 11)),
    received: `${GREETING}error REPLY_TOO_LONG: reply is longer than 4096 bytes\n`,
    reason: 'replyTooLong',
    payload: (replies) => expect(replies).toEqual([]),
  },
  {
    name: 'NUL bytes in a line',
    bytes: Buffer.from('\u0000\u0000\u0000 nul \u0000\n', 'latin1'),
    received: GREETING,
    reason: 'replied',
    payload: (replies) => {
      for (const r of replies) expect(r).toBe('\\x00\\x00\\x00 nul \\x00');
    },
  },
  {
    name: 'only NUL bytes, past the limit',
    bytes: Buffer.alloc(5_000),
    maxReplyBytes: 1_024,
    received: `${GREETING}error REPLY_TOO_LONG: reply is longer than 1024 bytes\n`,
    reason: 'replyTooLong',
    payload: (replies) => expect(replies).toEqual([]),
  },
];

describe('what no greeting client sends', () => {
  it.each(payloadCases)('treats $name as bytes of a reply, logs it escaped and closes', async (pc) => {
    const c = await begin(pc.maxReplyBytes === undefined ? {} : { maxReplyBytes: pc.maxReplyBytes });
    const n = 25;
    const sent = Array.from({ length: n }, () => client(c.s.port, { onConnect: (sock) => sock.write(pc.bytes) }));
    const endings = await within(Promise.all(sent.map((t) => t.closed)), 5_000, `${pc.name}: clients to be closed`);
    for (const e of endings) expect(e.text).toBe(pc.received);
    await expectDrained(c);
    expect(c.s.matching(new RegExp(` closed \\(${pc.reason}\\)\\.$`))).toHaveLength(n);
    const replies = c.s.lines().flatMap((l) => {
      const m = /Client Response Payload: (.*)$/s.exec(l);
      return m ? [m[1]!] : [];
    });
    expect(replies).toHaveLength(pc.reason === 'replied' ? n : 0);
    pc.payload(replies, c.s.lines());
    await expectRecovered(c, pc.name, n + 1, { bytesPerClient: pc.bytes.length });
  });

  it('reads and drops a multi-megabyte flood after the first line without buffering it, and closes the flooder', async () => {
    const closeTimeoutMs = 1_500;
    const c = await begin({ closeTimeoutMs });
    const before = retainedBytes();
    // allowHalfOpen: this client ignores the server's goodbye (FIN) and keeps writing.
    const flooder = client(c.s.port, { allowHalfOpen: true });
    await flooder.waitForText('\n');
    const chunk = Buffer.from('flood\n'.repeat(Math.floor(MiB / 6)));
    const cap = 64 * MiB;
    let written = 0;
    let peak = 0;
    let sampledAt = 0;
    flooder.socket.write('first\n');
    while (!flooder.isClosed() && flooder.socket.writable && written < cap) {
      const more = flooder.socket.write(chunk);
      written += chunk.length;
      if (written - sampledAt >= 4 * MiB) {
        sampledAt = written;
        peak = Math.max(peak, retainedBytes() - before);
      }
      if (!more) await drainedOrClosed(flooder.socket);
    }
    // Megabytes did reach the server (it reads and drops after the reply; if it stopped reading,
    // the kernel would stall this loop after a few MB and the heap figure would prove nothing).
    expect(written).toBeGreaterThanOrEqual(16 * MiB);
    // Measured after a full GC at every 4 MiB written: what is retained, not garbage waiting.
    // A server holding the flood would be past 16 MiB by the time 32 MiB were written.
    expect(peak).toBeLessThan(16 * MiB);
    const replied = c.s.matching(/#\d+ Client Response Payload: first$/);
    expect(replied).toHaveLength(1);
    // The server gives up on it closeTimeoutMs after its goodbye: the connection is released...
    await until(() => c.s.handle.liveConnections() === 0, closeTimeoutMs + 2_000, 'the flooder to be released');
    const closedLine = c.s.matching(/ closed \(replied\)\.$/)[0];
    const releasedAfterMs = (closedLine?.at ?? NaN) - replied[0]!.at;
    // Not before its close timeout (it was not dropped for flooding), and not long after: the
    // margin is for a loaded 2-core machine, where the flooder and the server share the CPUs.
    expect(releasedAfterMs).toBeGreaterThanOrEqual(closeTimeoutMs - 50);
    expect(releasedAfterMs).toBeLessThan(closeTimeoutMs + 2_000);
    // ...and reset (see abort() in src/core/transport.ts): the socket is gone on the server's
    // side and the flooder's next write is refused at once.
    if (!flooder.isClosed()) flooder.socket.write(chunk);
    const ending = await within(flooder.closed, 5_000, 'the flooder to see its connection reset');
    expect(ending.text).toBe(GREETING);
    expect(ending.error).toMatch(/^(ECONNRESET|EPIPE)$/);
    await expectRecovered(c, 'flood after the first line', 2, {
      bytesWritten: written,
      heapGrowthPeakBytes: peak,
      releasedAfterReplyMs: releasedAfterMs,
      closeTimeoutMs,
    });
  }, 60_000); // up to 64 MiB through loopback with a GC every 4 MiB, then the close timeout: seconds on a busy machine
});

describe('clients that never read', () => {
  it('destroys a paused client that was sent REPLY_TOO_LONG within closeTimeoutMs', async () => {
    const closeTimeoutMs = 1_000;
    const c = await begin({ closeTimeoutMs });
    const n = 10;
    const paused = Array.from({ length: n }, () => client(c.s.port));
    await Promise.all(paused.map((p) => p.waitForText('\n')));
    const sentAt = Date.now();
    for (const p of paused) {
      p.socket.pause(); // never reads again, never closes
      p.socket.write('x'.repeat(8 * 1024));
    }
    await until(() => c.s.handle.liveConnections() === 0, closeTimeoutMs + 5_000, 'paused clients to be released');
    const closedLines = c.s.matching(/ closed \(replyTooLong\)\.$/);
    expect(closedLines).toHaveLength(n);
    // Not before the close timeout (the goodbye was not cut short: the timer is what closed
    // them), and well before any other timer could have (the reply timeout is 30 s). The
    // upper margin is for a loaded 2-core machine.
    for (const line of closedLines) {
      expect(line.at - sentAt).toBeGreaterThanOrEqual(closeTimeoutMs - 50);
      expect(line.at - sentAt).toBeLessThan(closeTimeoutMs + 2_000);
    }
    // Once they read again they find the error line and the end of the connection.
    for (const p of paused) p.socket.resume();
    const endings = await within(Promise.all(paused.map((p) => p.closed)), 2_000, 'resumed clients to see the close');
    for (const e of endings) expect(e.text).toBe(`${GREETING}error REPLY_TOO_LONG: reply is longer than 4096 bytes\n`);
    await expectRecovered(c, 'never reads: REPLY_TOO_LONG', n + 1, {
      closeTimeoutMs,
      releasedAfterMs: closedLines.map((l) => l.at - sentAt),
    });
  });

  it('resets a client that ignores the goodbye, leaving no half-closed socket in either kernel', async () => {
    const closeTimeoutMs = 300;
    const c = await begin({ closeTimeoutMs });
    // allowHalfOpen: it hears the server's goodbye (FIN) and neither closes nor writes again.
    const t = client(c.s.port, { allowHalfOpen: true });
    await t.waitForText('\n');
    const clientPort = t.socket.localPort!;
    t.socket.write('hi\n');
    await until(() => c.s.handle.liveConnections() === 0, closeTimeoutMs + 5_000, 'the client to be released');
    expect(c.s.matching(/ closed \(replied\)\.$/)).toHaveLength(1);
    // A plain close would leave the server's end in FIN_WAIT2 (then TIME_WAIT, for a minute) and
    // the client's in CLOSE_WAIT; after a reset neither is in /proc/net/tcp.
    await until(() => kernelQueues(c.s.port, clientPort) === null, 2_000, "the server's end to leave the kernel");
    await until(() => kernelQueues(clientPort, c.s.port) === null, 2_000, "the client's end to leave the kernel");
    // The client learns it on its next write.
    t.socket.write('still there?\n');
    const ending = await within(t.closed, 2_000, 'the client to see the reset');
    expect(ending.text).toBe(GREETING);
    expect(ending.error).toMatch(/^(ECONNRESET|EPIPE)$/);
    await expectRecovered(c, 'ignores the goodbye', 2, { closeTimeoutMs });
  });

  // A greeting larger than the kernel can hold for a client that reads nothing (the client's
  // receive window and our send buffer fill up), so the greeting write never completes.
  const bigGreeting = 'G'.repeat(8 * MiB);

  it('destroys clients whose receive window is full within closeTimeoutMs of the REPLY_TIMEOUT goodbye', async () => {
    // Long enough for the normal client at the end to take in the 8 MiB greeting and reply.
    const replyTimeoutMs = 1_500;
    const closeTimeoutMs = 800;
    const c = await begin({ greeting: bigGreeting, replyTimeoutMs, closeTimeoutMs });
    const before = retainedBytes();
    const n = 4;
    const stuck = Array.from({ length: n }, () => client(c.s.port, { onConnect: (sock) => sock.pause() }));
    const watch = watchStates(c.s);
    await until(() => c.s.handle.liveConnections() === n, 3_000, 'the server to accept the stuck clients');
    const held = retainedBytes() - before;
    await until(() => c.s.handle.liveConnections() === 0, replyTimeoutMs + closeTimeoutMs + 5_000, 'stuck clients to be destroyed');
    const seen = watch.stop();
    // None ever got past the greeting: the write never completed, the window stayed full.
    expect([...seen].sort()).toEqual(['"closing"', '{"open":"greeting"}']);
    // Each was destroyed closeTimeoutMs after its REPLY_TIMEOUT, measured from its own accept:
    // not before both timers had run one after the other (neither the reply timeout alone nor
    // an early destroy), and not long after (the margin is for a loaded 2-core machine; without
    // the close timer they would never be destroyed, as they never read).
    const lifetimes = lifetimesByReason(c.s, 'replyTimeout');
    expect(lifetimes).toHaveLength(n);
    for (const ms of lifetimes) {
      expect(ms).toBeGreaterThanOrEqual(replyTimeoutMs + closeTimeoutMs - 20);
      expect(ms).toBeLessThan(replyTimeoutMs + closeTimeoutMs + 2_000);
    }
    // What the server held for them is a bounded multiple of the greeting it could not send
    // (about 3x here: the greeting line flattened per connection, and the buffer Node allocates
    // to write it), and it is all given back.
    expect(held).toBeLessThan(n * 4 * bigGreeting.length);
    // Released, the server holds nothing for them any more (measured before the clients read,
    // since what they then read is held by this test, not by the server).
    const after = retainedBytes() - before;
    expect(after).toBeLessThan(4 * MiB);
    // Reading now, each finds part of the greeting and then the end: the rest was dropped.
    for (const s of stuck) s.socket.resume();
    const endings = await within(Promise.all(stuck.map((s) => s.closed)), 3_000, 'resumed clients to see the close');
    for (const e of endings) expect(Buffer.byteLength(e.text)).toBeLessThan(bigGreeting.length);
    await expectRecovered(c, 'never reads, window full: REPLY_TIMEOUT', n + 1, {
      greetingBytes: bigGreeting.length,
      heldWhileStuckBytes: held,
      heldAfterBytes: after,
      releasedAfterAcceptMs: { min: Math.min(...lifetimes), max: Math.max(...lifetimes) },
      bytesReceivedByStuckClients: endings.map((e) => Buffer.byteLength(e.text)),
    });
  });

  it('on shutdown, destroys clients whose receive window is full within closeTimeoutMs, inside the grace period', async () => {
    const closeTimeoutMs = 800;
    const shutdownGraceMs = 4_000;
    const c = await begin({ greeting: bigGreeting, closeTimeoutMs, shutdownGraceMs });
    const n = 5;
    const stuck = Array.from({ length: n }, () => client(c.s.port, { onConnect: (sock) => sock.pause() }));
    const watch = watchStates(c.s);
    await until(() => c.s.handle.liveConnections() === n, 3_000, 'the server to accept the stuck clients');
    await sleep(100);
    const shutdownAt = Date.now();
    c.s.handle.shutdown();
    const outcome = await within(c.s.handle.done, shutdownGraceMs + 2_000, 'the server to stop');
    const stoppedAfterMs = Date.now() - shutdownAt;
    // Each one was destroyed by its own close timeout, not by the grace period running out.
    expect(outcome).toEqual({ state: 'stopped', failure: null, forced: false });
    // Not before their close timeout (nothing destroyed them early), and well inside the grace
    // period (4 s): the margin is for a loaded 2-core machine.
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(closeTimeoutMs - 50);
    expect(stoppedAfterMs).toBeLessThan(closeTimeoutMs + 2_000);
    expect(c.s.matching(/ closed \(shutdown\)\.$/)).toHaveLength(n);
    // They were stuck in the greeting (window full) when the goodbye was queued behind it.
    expect([...watch.stop()].sort()).toEqual(['"closing"', '{"open":"greeting"}']);
    for (const s of stuck) s.socket.destroy();
    await expectRecoveredAfterStop(c, 'never reads, window full: shutdown', n + 1, {
      greetingBytes: bigGreeting.length,
      stoppedAfterMs,
      closeTimeoutMs,
      shutdownGraceMs,
    });
  });
});

describe('more clients than --max-connections', () => {
  it('turns away exactly the clients over the cap with SERVER_BUSY and serves every capped one', async () => {
    const cap = 50;
    const n = 200;
    const c = await begin({ maxConnections: cap });
    // All at once; the capped ones hold their slots (they do not reply) until every client has
    // its answer, so no slot frees up and exactly n - cap are over the cap.
    const all = Array.from({ length: n }, () => client(c.s.port));
    const answered = (t: Dialed) => (t.text() === GREETING && !t.isClosed()) || (t.text().endsWith('\n') && t.isClosed());
    await until(() => all.every(answered), 5_000, 'every client to be greeted or turned away', () =>
      JSON.stringify(all.filter((t) => !answered(t)).map((t) => t.text())),
    );
    const greeted = all.filter((t) => !t.isClosed());
    const busy = all.filter((t) => t.isClosed());
    expect(greeted).toHaveLength(cap);
    expect(busy).toHaveLength(n - cap);
    for (const b of busy) expect(b.text()).toBe(BUSY_LINE);
    // Turned away at once: told and closed by the server, not left to a timeout.
    const busyEndings = await Promise.all(busy.map((b) => b.closed));
    const turnedAwayAfterMs = busyEndings.map((e, i) => e.at - busy[i]!.startedAt);
    expect(Math.max(...turnedAwayAfterMs)).toBeLessThan(1_000);
    expect(c.s.matching(/ Turned away 127\.0\.0\.1:\d+: SERVER_BUSY$/)).toHaveLength(n - cap);
    expect(c.s.handle.actor.getSnapshot().context).toMatchObject({ sessions: cap, rejected: n - cap });
    expect(c.s.handle.accepted()).toBe(cap);

    greeted.forEach((t, i) => t.socket.write(`capped ${i}\n`));
    const endings = await within(Promise.all(greeted.map((t) => t.closed)), 5_000, 'capped clients to be served');
    for (const e of endings) expect(e.text).toBe(GREETING);
    await expectDrained(c);
    expect(c.s.matching(/Client Response Payload: capped \d+$/)).toHaveLength(cap);
    await expectRecovered(c, 'over --max-connections', n + 1, {
      maxConnections: cap,
      served: cap,
      turnedAway: busy.length,
      turnedAwayAfterMs: { min: Math.min(...turnedAwayAfterMs), max: Math.max(...turnedAwayAfterMs) },
    });
  });
});

describe('shutdown under load', () => {
  const shutdownGraceMs = 3_000;

  /** What each client may see: told goodbye, turned away while stopping, or reset unaccepted. */
  const allowedEndings = [`${GREETING}${SHUTDOWN_LINE}`, REJECTED_SHUTDOWN_LINE, ''];

  async function shutdownUnderLoad(name: string, waitForAccept: boolean): Promise<void> {
    const c = await begin({ shutdownGraceMs });
    const n = 300;
    const all = Array.from({ length: n }, () => client(c.s.port));
    await within(Promise.all(all.map((t) => t.connected)), 5_000, 'clients to connect');
    if (waitForAccept) await until(() => c.s.handle.liveConnections() === n, 5_000, 'the server to accept every client');
    const watch = watchStates(c.s);
    // Clients whose connection the server had not yet taken at the moment of shutdown: still in
    // the kernel's accept queue, or accepted by libuv with the 'connection' not yet handled.
    const atShutdown = c.s.handle.actor.getSnapshot().context;
    const notYetAccepted = n - c.s.handle.accepted() - atShutdown.rejected;
    const shutdownAt = Date.now();
    c.s.handle.shutdown();
    const outcome = await within(c.s.handle.done, shutdownGraceMs + 2_000, 'the server to stop');
    const stoppedAfterMs = Date.now() - shutdownAt;
    watch.stop();
    expect(outcome, `connections live at the end: ${watch.lastLive()}`).toEqual({ state: 'stopped', failure: null, forced: false });
    expect(stoppedAfterMs).toBeLessThan(shutdownGraceMs);
    const endings = await within(Promise.all(all.map((t) => t.closed)), 2_000, 'every client to see its connection closed');
    const kinds: Record<string, number> = {};
    for (const e of endings) kinds[e.text] = (kinds[e.text] ?? 0) + 1;
    expect(Object.keys(kinds).filter((k) => !allowedEndings.includes(k))).toEqual([]);
    const { rejected } = c.s.handle.actor.getSnapshot().context;
    const accepted = c.s.handle.accepted();
    expect(kinds[`${GREETING}${SHUTDOWN_LINE}`] ?? 0).toBe(accepted);
    expect(kinds[REJECTED_SHUTDOWN_LINE] ?? 0).toBe(rejected);
    if (waitForAccept) {
      expect(notYetAccepted).toBe(0);
      expect(accepted).toBe(n);
    } else {
      // Connected (the handshake done) but most not yet taken by the server when it stopped: the
      // case is about the accept queue, and they still each saw a goodbye, a refusal or a reset.
      expect(notYetAccepted).toBeGreaterThan(n / 2);
    }
    expect(c.s.matching(/ closed \(shutdown\)\.$/)).toHaveLength(accepted);
    await expectRecoveredAfterStop(c, name, n + 1, {
      stoppedAfterMs,
      shutdownGraceMs,
      toldGoodbye: kinds[`${GREETING}${SHUTDOWN_LINE}`] ?? 0,
      turnedAwayWhileStopping: kinds[REJECTED_SHUTDOWN_LINE] ?? 0,
      resetInAcceptQueue: kinds[''] ?? 0,
      notYetAcceptedAtShutdown: notYetAccepted,
    });
  }

  it('stops within the grace period with 300 clients mid-greeting, and every client sees its connection closed', async () => {
    await shutdownUnderLoad('shutdown with 300 clients mid-greeting', true);
  });

  it('stops within the grace period with 300 clients just connected (most still in the accept queue)', async () => {
    await shutdownUnderLoad('shutdown with 300 clients just connected', false);
  });
});

describe('the CLI as a child process', () => {
  async function cli(args: string[]): Promise<Running & { port: number; pid: number }> {
    const r = await runServer(args);
    children.push(r);
    return Object.assign(r, { pid: r.proc.pid! });
  }

  /** The server CLI run under `ulimit -n <n>` (through sh), on a free port. */
  async function cliWithUlimit(n: number, args: string[]): Promise<Running & { port: number; pid: number }> {
    const r = runWithUlimit(n, serverBin, ['--host', '127.0.0.1', '--port', '0', ...args]);
    children.push(r);
    const m = await r.waitForLine(/listening on 127\.0\.0\.1:(\d+)/);
    return Object.assign(r, { port: Number(m[1]), pid: r.proc.pid! });
  }

  /** A whole exchange with the child, checked in its stdout. */
  async function cliExchange(r: Running & { port: number }, tag: string): Promise<string> {
    const reply = `normal client after ${tag} ${Math.random().toString(36).slice(2)}`;
    const t = client(r.port);
    await t.waitForText('\n');
    t.socket.write(`${reply}\n`);
    const ending = await within(t.closed, 5_000, 'the normal client to be served');
    await r.waitForLine(new RegExp(`Client Response Payload: ${reply}$`, 'm'), 2_000);
    return ending.text;
  }

  const stdoutLines = (r: Running) => r.stdout().split('\n').filter((l) => l !== '');

  it('gives back every descriptor after a reset storm, half-open, slowloris, garbage and a flood', async () => {
    const startedAt = Date.now();
    const replyTimeoutMs = 1_000;
    // The flood below must get its 64 MiB through before the child gives up on the flooder,
    // closeTimeoutMs after its goodbye: at 500 ms that needed ~130 MB/s through loopback, which
    // a loaded 2-core machine does not always have. 4 s needs 16 MB/s.
    const closeTimeoutMs = 4_000;
    // The slowloris clients write a byte every 100 ms; a loaded machine can hold their timer back
    // past the default 250 ms of quiet, which would take their dots as a reply. A quiet period
    // longer than the reply timeout leaves the reply timeout as the only way they end.
    const replyQuietMs = 10_000;
    const r = await cli(['--reply-timeout', String(replyTimeoutMs), '--reply-quiet', String(replyQuietMs), '--close-timeout', String(closeTimeoutMs)]);
    expect(await cliExchange(r, 'start')).toBe(GREETING);
    await sleep(100);
    const fdBaseline = fdCount(r.pid);
    const rssBaseline = rssBytes(r.pid);
    let connections = 1;

    // Smaller than the in-process storm: the same paths, at half the cost in a second process.
    const storm = 1_000;
    await inBatches(storm, 200, (i) =>
      within(dial(r.port, { onConnect: (sock) => sock.resetAndDestroy() }).closed, 5_000, `reset client ${i} to close`),
    );
    // The late clients wait for their greeting behind whatever of the storm is still queued.
    await untilAcceptQueueEmpty(r.port, 5_000);
    const late = 200;
    await inBatches(late, 100, async (i) => {
      const t = client(r.port);
      await t.waitForText('\n');
      t.socket.resetAndDestroy();
      return within(t.closed, 5_000, `late reset client ${i} to close`);
    });
    const halfOpen = 200;
    const halfOpenEndings = await inBatches(halfOpen, 100, (i) =>
      within(client(r.port, { onConnect: (sock) => sock.end() }).closed, 5_000, `half-open client ${i} to be closed`),
    );
    for (const e of halfOpenEndings) expect(e.text).toBe(GREETING);
    connections += storm + late + halfOpen;

    // Slowloris and garbage at the same time.
    const trickling = Array.from({ length: 20 }, () => client(r.port));
    const trickle = setInterval(() => {
      for (const t of trickling) if (t.socket.writable && !t.socket.connecting) t.socket.write('.');
    }, 100);
    const garbage = [tlsClientHello(), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), noLf(pseudoRandomBytes(64 * 1024, 3)), Buffer.concat([nasty, Buffer.from('\n')])];
    const garbageClients = garbage.flatMap((bytes) => Array.from({ length: 20 }, () => client(r.port, { onConnect: (sock) => sock.write(bytes) })));
    try {
      const slow = await within(Promise.all(trickling.map((t) => t.closed)), replyTimeoutMs + 3_000, 'slowloris clients to be closed');
      for (const e of slow) expect(e.text).toBe(`${GREETING}error REPLY_TIMEOUT: no reply within ${replyTimeoutMs} ms\n`);
    } finally {
      clearInterval(trickle);
    }
    await within(Promise.all(garbageClients.map((t) => t.closed)), 5_000, 'garbage clients to be closed');
    connections += trickling.length + garbageClients.length;

    // A flood after the first line, from a client that ignores the goodbye; the child's memory
    // is sampled while it is written.
    const flooder = client(r.port, { allowHalfOpen: true });
    await flooder.waitForText('\n');
    const rssBeforeFlood = rssBytes(r.pid);
    const chunk = Buffer.from('flood\n'.repeat(Math.floor(MiB / 6)));
    flooder.socket.write('first\n');
    const floodBytes = 64 * MiB;
    let written = 0;
    let rssPeak = 0;
    let rssAtHalf = NaN;
    while (!flooder.isClosed() && flooder.socket.writable && written < floodBytes) {
      const more = flooder.socket.write(chunk);
      written += chunk.length;
      if (written % (4 * MiB) < chunk.length) {
        const rss = rssBytes(r.pid) - rssBeforeFlood;
        rssPeak = Math.max(rssPeak, rss);
        if (Number.isNaN(rssAtHalf) && written >= floodBytes / 2) rssAtHalf = rss;
      }
      if (!more) await drainedOrClosed(flooder.socket);
    }
    await sleep(100);
    const rssAtEnd = rssBytes(r.pid) - rssBeforeFlood;
    // The child gives up on it closeTimeoutMs after its goodbye and logs the close...
    const [, floodId] = await r.waitForLine(/#(\d+) Client Response Payload: first$/m, 5_000);
    await r.waitForLine(new RegExp(`^#${floodId} Connection with .* closed \\(replied\\)\\.$`, 'm'), closeTimeoutMs + 10_000);
    // ...with a reset, so the flooder's next write fails at once (a plain close could leave it
    // writing into a TIME_WAIT socket that answers with a zero window for up to a minute).
    if (!flooder.isClosed()) flooder.socket.write(chunk);
    const floodEnding = await within(flooder.closed, 5_000, 'the flooder to see its connection reset');
    expect(floodEnding.error).toMatch(/^(ECONNRESET|EPIPE)$/);
    connections += 1;
    expect(written).toBeGreaterThanOrEqual(floodBytes);
    // Resident memory is coarse: read buffers wait for a GC, and on a loaded machine the young
    // generation grows by tens of MiB between samples (35 MiB over the second half was seen with
    // two test suites running at once; V8's young generation alone may reach 48 MiB). So this
    // only tells "kept the flood" (at least the 64 MiB written) from "did not"; retention itself
    // is measured exactly, after a full GC, by the in-process flood case above.
    expect(rssAtEnd).toBeLessThan(floodBytes);
    expect(rssPeak).toBeLessThan(floodBytes);

    // (b) The child's descriptors are back to their baseline, every connection it opened it
    // closed, and its log carries no raw control character.
    const fdExcess = await settleFds(r.pid, fdBaseline);
    expect(fdExcess).toBe(0);
    const lines = stdoutLines(r);
    const opened = lines.filter((l) => / Connection established from /.test(l)).length;
    await until(() => stdoutLines(r).filter((l) => / closed \(\w+\)\.$/.test(l)).length === opened, 2_000, 'every opened connection to be logged closed');
    expect(unsafeLogLines(stdoutLines(r))).toEqual([]);
    expect(r.stderr()).toBe('');
    const replies = lines.filter((l) => l.includes('Client Response Payload: \\x1B[2J'));
    expect(replies).toHaveLength(20);
    // (a) A normal client is served.
    expect(await cliExchange(r, 'the storm')).toBe(GREETING);
    expect(await settleFds(r.pid, fdBaseline)).toBe(0);
    const rssAfter = rssBytes(r.pid) - rssBaseline;
    r.proc.kill('SIGTERM');
    expect((await within(r.exited, 5_000, 'the child to exit')).code).toBe(0);
    recordFigures('CLI child: storm, half-open, slowloris, garbage, flood', {
      connections: connections + 1,
      durationMs: Date.now() - startedAt,
      leaks: { childFds: fdExcess },
      acceptedByChild: opened,
      childFdBaseline: fdBaseline,
      floodBytesWritten: written,
      childRssGrowthDuringFloodBytes: { peak: rssPeak, atHalf: rssAtHalf, atEnd: rssAtEnd },
      childRssGrowthAfterBytes: rssAfter,
    });
  }, 60_000); // a child process, thousands of connections and a 64 MiB flood: tens of seconds on a loaded machine

  it('releases turned-away clients that never read by closeTimeoutMs at the latest', async () => {
    const startedAt = Date.now();
    const cap = 10;
    const closeTimeoutMs = 1_500;
    const r = await cli(['--max-connections', String(cap), '--close-timeout', String(closeTimeoutMs)]);
    const fdBaseline = fdCount(r.pid);
    const capped = Array.from({ length: cap }, () => client(r.port));
    await Promise.all(capped.map((t) => t.waitForText('\n')));
    // Over the cap, and never reading: each is sent SERVER_BUSY and FIN, and never closes.
    const extra = 1_000;
    const turnedAway: Dialed[] = [];
    let fdPeak = 0;
    await inBatches(extra, 250, async () => {
      const t = client(r.port, { onConnect: (sock) => sock.pause() });
      turnedAway.push(t);
      await t.connected;
      fdPeak = Math.max(fdPeak, fdCount(r.pid) - fdBaseline);
    });
    const lastConnectedAt = Date.now();
    await until(() => (r.stdout().match(/Turned away .*: SERVER_BUSY$/gm) ?? []).length === extra, 5_000, 'every extra client to be turned away');
    fdPeak = Math.max(fdPeak, fdCount(r.pid) - fdBaseline);
    // The child gives each turned-away socket closeTimeoutMs, then destroys it: only the capped
    // clients' descriptors are left.
    await until(() => fdCount(r.pid) - fdBaseline <= cap, closeTimeoutMs + 3_000, 'turned-away sockets to be released', () => `(${fdCount(r.pid) - fdBaseline} over baseline)`);
    const releasedAfterMs = Date.now() - lastConnectedAt;
    expect(releasedAfterMs).toBeLessThan(closeTimeoutMs + 1_000);
    for (const t of turnedAway) t.socket.resume();
    const endings = await within(Promise.all(turnedAway.map((t) => t.closed)), 3_000, 'turned-away clients to see the close');
    for (const e of endings) expect(e.text).toBe(BUSY_LINE);
    capped.forEach((t, i) => t.socket.write(`capped ${i}\n`));
    for (const e of await within(Promise.all(capped.map((t) => t.closed)), 3_000, 'capped clients to be served')) expect(e.text).toBe(GREETING);
    const fdExcess = await settleFds(r.pid, fdBaseline);
    expect(fdExcess).toBe(0);
    expect(await cliExchange(r, 'turned-away clients')).toBe(GREETING);
    expect(await settleFds(r.pid, fdBaseline)).toBe(0);
    expect(unsafeLogLines(stdoutLines(r))).toEqual([]);
    r.proc.kill('SIGTERM');
    expect((await within(r.exited, 5_000, 'the child to exit')).code).toBe(0);
    recordFigures('CLI child: turned-away clients that never read', {
      connections: cap + extra + 1,
      durationMs: Date.now() - startedAt,
      leaks: { childFds: fdExcess },
      maxConnections: cap,
      childFdPeakOverBaseline: fdPeak,
      releasedAfterLastConnectMs: releasedAfterMs,
      closeTimeoutMs,
    });
  });

  // Found by this suite (see docs/reliability.md, "Findings"): turned-away sockets are not
  // counted against any limit and each is kept up to closeTimeoutMs, so over-cap clients that
  // never read use up the descriptor limit; libuv then accepts and drops queued clients
  // (EMFILE) without a word, where the README promises `error SERVER_BUSY`.
  it('tells every client over the cap SERVER_BUSY even while over-cap clients that never read keep arriving (ulimit -n 256)', async () => {
    const startedAt = Date.now();
    const cap = 10;
    const r = await cliWithUlimit(256, ['--max-connections', String(cap), '--close-timeout', '5000']);
    const fdBaseline = fdCount(r.pid);
    const capped = Array.from({ length: cap }, () => client(r.port));
    await Promise.all(capped.map((t) => t.waitForText('\n')));
    // The attack: 50 over-cap clients that never read every 50 ms (at most 1,500), more than
    // the 256 descriptors the process may hold.
    let overCap = 0;
    let fdsWhileBusy = 0;
    const attack = setInterval(() => {
      if (overCap >= 1_500) return;
      for (let i = 0; i < 50; i++, overCap++) client(r.port, { onConnect: (sock) => sock.pause() });
      fdsWhileBusy = Math.max(fdsWhileBusy, fdCount(r.pid) - fdBaseline);
    }, 50);
    const probes: Ending[] = [];
    try {
      await sleep(500);
      // Well-behaved clients arriving meanwhile, one after another: each must be told.
      for (let i = 0; i < 5; i++) {
        const t = client(r.port);
        probes.push(await within(t.closed, 3_000, `probe client ${i} to be answered and closed`));
      }
    } finally {
      clearInterval(attack);
    }
    recordFigures('CLI child: over-cap clients that never read at the descriptor limit', {
      connections: cap + overCap + probes.length,
      durationMs: Date.now() - startedAt,
      leaks: {},
      ulimitN: 256,
      maxConnections: cap,
      childFdsOverBaselineWhileBusy: fdsWhileBusy,
      probesToldBusy: probes.filter((p) => p.text === BUSY_LINE).length,
      probesDroppedSilently: probes.filter((p) => p.text === '').length,
    });
    expect(probes.map((p) => p.text)).toEqual(probes.map(() => BUSY_LINE));
  });

  async function sigtermUnderLoad(paused: number): Promise<void> {
    const startedAt = Date.now();
    const shutdownGraceMs = 1_500;
    // Close timeout far beyond the grace period: a client that never reads is only ever freed
    // by the grace period running out.
    const r = await cli(['--shutdown-grace', String(shutdownGraceMs), '--close-timeout', '60000']);
    const fdBaseline = fdCount(r.pid);
    const n = 300;
    const all = Array.from({ length: n }, (_, i) => client(r.port, i < paused ? { onConnect: (sock) => sock.pause() } : {}));
    await within(Promise.all(all.map((t) => t.connected)), 5_000, 'clients to connect');
    // Mid-greeting: the child has accepted them (one descriptor each); few have read anything.
    await until(() => fdCount(r.pid) >= fdBaseline + n, 5_000, 'the child to accept every client', () => `(fds ${fdCount(r.pid) - fdBaseline} over baseline)`);
    const fdsHeld = fdCount(r.pid) - fdBaseline;
    const sentAt = Date.now();
    r.proc.kill('SIGTERM');
    const exit = await within(r.exited, shutdownGraceMs + 3_000, 'the child to exit after SIGTERM');
    const exitedAfterMs = exit.at - sentAt;
    expect(exit.code).toBe(0);
    if (paused === 0) expect(exitedAfterMs).toBeLessThan(shutdownGraceMs);
    // Once the grace period is over, not at the 60 s close timeout: 2 s of room for destroying
    // the rest and exiting on a loaded machine (two suites at once took 1.04 s past the grace).
    else expect(exitedAfterMs).toBeLessThan(shutdownGraceMs + 2_000);
    expect(r.stdout()).toContain(`Shutting down: no longer accepting, closing ${n} connection(s)`);
    expect(r.stdout()).toContain(paused === 0 ? 'Server stopped.\n' : 'grace period over');
    expect(r.stderr()).toBe('');
    // Every reader saw the goodbye and the close; the ones that never read see the close as soon
    // as they read (the process is gone, so the kernel has closed or reset their connections).
    for (const t of all.slice(0, paused)) t.socket.resume();
    const endings = await within(Promise.all(all.map((t) => t.closed)), 3_000, 'every client to see its connection closed');
    const readers = endings.slice(paused);
    for (const e of readers) expect(e.text).toBe(`${GREETING}${SHUTDOWN_LINE}`);
    recordFigures(paused === 0 ? 'CLI child: SIGTERM with 300 clients mid-greeting' : `CLI child: SIGTERM with 300 clients mid-greeting, ${paused} never reading`, {
      connections: n,
      durationMs: Date.now() - startedAt,
      leaks: {},
      childFdsHeldAtSigterm: fdsHeld,
      exitedAfterMs,
      exitCode: exit.code,
      shutdownGraceMs,
    });
  }

  it('on SIGTERM with 300 clients mid-greeting, exits 0 within the grace period and every client sees the close', async () => {
    await sigtermUnderLoad(0);
  });

  it('on SIGTERM with 300 clients mid-greeting, 100 of them never reading, exits 0 once the grace period runs out', async () => {
    await sigtermUnderLoad(100);
  });
});
