// The join storm's client side (joinStorm.ts has the harness's), run inside a load-generator
// process (loadgen.ts dispatches the requests here):
//   joiners  N clients, a bounded number in flight: connect → NICK/USER → 001 → JOIN → their own
//            366; then they stay, reading everything the server sends them (every later JOIN)
//            until dropped. n clients in one channel receive ~n²/2 JOIN lines, so the joined
//            clients only find line ends and count: no string per line, except a server's PING.
//   watcher  one client joined first that sends `PING :<seq>` every watchPeriodMs and times
//            each PONG, until it is stopped; it reads everything too.
// Every line before a client's 366 is looked at by its bytes (the numeric), NAMES lists included.

import net from 'node:net';
import { host } from '../lib/loopback.js';
import { bucketOf, histogramPairs, histogramSize, tally } from '../lib/stats.js';
import { monoUs } from '../lib/wait.js';

export interface JoinStormRequest {
  type: 'joinStorm';
  port: number;
  channel: string;
  /** Nicks are `<nickPrefix><i>`, i from 0 to clients − 1. */
  nickPrefix: string;
  clients: number;
  /** Clients between connect() and their 366 at once, at most. */
  maxPending: number;
  /** On the shared clock: the first connect. */
  startUs: number;
  /** Clients not joined by then count as `timeout` (they are destroyed). */
  timeoutMs: number;
}

export interface JoinStormResult {
  joined: number;
  failures: Record<string, number>;
  /** connect() → own 366, as [bucket, count] pairs (µs). */
  histogram: Array<[number, number]>;
  /** The last 366 on the shared clock (null: none came). */
  lastJoinedUs: number | null;
}

/** What the joiners of this process have read so far (lines: the server's PINGs left out), and how many are still open. */
export interface JoinStormCount {
  open: number;
  lines: number;
  bytes: number;
}

export interface WatchStartRequest {
  type: 'watchStart';
  port: number;
  channel: string;
  nick: string;
  periodMs: number;
  timeoutMs: number;
}

export interface WatchStopRequest {
  type: 'watchStop';
}

/** One PING's send time and round trip (null: no PONG by the stop), both µs on the shared clock. */
export interface WatchResult {
  sentUs: number[];
  rttUs: Array<number | null>;
  lines: number;
  /** The watcher was closed before the stop (by the server or an error): why. */
  closed: string | null;
}

export type JoinStormBody = JoinStormRequest | { type: 'joinStormCount' } | { type: 'joinStormDrop' } | WatchStartRequest | WatchStopRequest;

// --- Limits ------------------------------------------------------------------------------------

/** A partial line longer than this closes the client (it is not IRC). */
const maxLineBytes = 64 * 1024;
/** PINGs the watcher remembers at most (an hour at 50 ms): past it, it stops sending. */
const maxWatchPings = 72_000;

// --- Lines by their bytes ------------------------------------------------------------------------

const LF = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const P = 0x50;
const pongBytes = Buffer.from('PONG ');

/** The numeric of `:prefix NNN ...` (NNN as a number), or -1. */
function numericOf(buf: Buffer, start: number, end: number): number {
  if (buf[start] !== COLON) return -1;
  const space = buf.indexOf(SPACE, start);
  if (space === -1 || space + 4 > end || buf[space + 4] !== SPACE) return -1;
  let n = 0;
  for (let i = space + 1; i < space + 4; i += 1) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Reads a socket's bytes as lines without copying whole chunks: only a line split across two is joined. */
class LineReader {
  private partial: Buffer | null = null;
  lines = 0;
  bytes = 0;

  /** Calls `onLine(buf, start, end)` for each whole line (end at its LF); false if a line is too long. */
  take(chunk: Buffer, onLine: (buf: Buffer, start: number, end: number) => void): boolean {
    this.bytes += chunk.length;
    let start = 0;
    if (this.partial) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        this.partial = Buffer.concat([this.partial, chunk]);
        return this.partial.length <= maxLineBytes;
      }
      const line = Buffer.concat([this.partial, chunk.subarray(0, lf + 1)]);
      this.partial = null;
      this.lines += 1;
      onLine(line, 0, line.length - 1);
      start = lf + 1;
    }
    for (let lf = chunk.indexOf(LF, start); lf !== -1; lf = chunk.indexOf(LF, start)) {
      this.lines += 1;
      onLine(chunk, start, lf);
      start = lf + 1;
    }
    if (start < chunk.length) {
      if (chunk.length - start > maxLineBytes) return false;
      // A copy: a view would keep the whole chunk alive.
      this.partial = Buffer.from(chunk.subarray(start));
    }
    return true;
  }
}

/** A server's `PING <token>` (no prefix): answered with the same token. */
function answerPing(socket: net.Socket, buf: Buffer, start: number, end: number): boolean {
  if (buf[start] !== P || buf[start + 1] !== 0x49 || buf[start + 2] !== 0x4e || buf[start + 3] !== 0x47) return false;
  socket.write(`PONG${buf.toString('latin1', start + 4, end).replace(/\r$/, '')}\r\n`);
  return true;
}

// --- The joiners -------------------------------------------------------------------------------

interface Joiner {
  socket: net.Socket;
  reader: LineReader;
  /** The server's PINGs it answered: keepalives, not the storm's lines. */
  pings: number;
  phase: 'registering' | 'joining' | 'joined' | 'closed';
}

const joiners: Joiner[] = [];

export function joinStorm(req: JoinStormRequest): Promise<JoinStormResult> {
  const histogram = new Uint32Array(histogramSize);
  const failures: Record<string, number> = {};
  let joined = 0;
  let settled = 0;
  let pending = 0;
  let next = 0;
  let lastJoinedUs: number | null = null;
  return new Promise((resolve) => {
    let finished = false;
    const open: Array<{ j: Joiner; settle: (failure: string | null) => void } | null> = [];
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ joined, failures, histogram: histogramPairs(histogram), lastJoinedUs });
    };
    const timer = setTimeout(() => {
      // No client starts after this: those never started and those still joining time out.
      tally(failures, 'timeout', req.clients - next);
      next = req.clients;
      for (const o of open) o?.settle('timeout');
      finish();
    }, req.timeoutMs + Math.max(0, (req.startUs - monoUs()) / 1000));
    const one = (i: number): void => {
      const t0 = monoUs();
      const socket = net.connect({ host, port: req.port });
      const j: Joiner = { socket, reader: new LineReader(), pings: 0, phase: 'registering' };
      joiners.push(j);
      let errorCode: string | null = null;
      let done = false;
      const settle = (failure: string | null): void => {
        if (done) return;
        done = true;
        open[i] = null;
        pending -= 1;
        settled += 1;
        if (failure === null) {
          const nowUs = monoUs();
          joined += 1;
          histogram[bucketOf(nowUs - t0)]! += 1;
          lastJoinedUs = Math.max(lastJoinedUs ?? 0, nowUs);
        } else {
          tally(failures, failure);
          socket.destroy();
        }
        if (settled === req.clients) finish();
        else fill();
      };
      open[i] = { j, settle };
      const onLine = (buf: Buffer, start: number, end: number): void => {
        if (j.phase === 'joined') {
          // The hot path: a joined client only counts, and answers the server's PINGs.
          if (buf[start] === P && answerPing(socket, buf, start, end)) j.pings += 1;
          return;
        }
        if (answerPing(socket, buf, start, end)) {
          j.pings += 1;
          return;
        }
        const numeric = numericOf(buf, start, end);
        if (j.phase === 'registering') {
          if (numeric === 1) {
            j.phase = 'joining';
            socket.write(`JOIN ${req.channel}\r\n`);
          } else if (numeric === 432 || numeric === 433) settle(`nick${numeric}`);
        } else if (numeric === 366) {
          j.phase = 'joined';
          settle(null);
        } else if (numeric >= 400 && numeric < 500) settle(`join${numeric}`);
      };
      socket.on('connect', () => socket.write(`NICK ${req.nickPrefix}${i}\r\nUSER u 0 * :irc join storm\r\n`));
      socket.on('data', (chunk: Buffer) => {
        if (!j.reader.take(chunk, onLine)) {
          errorCode ??= 'lineTooLong';
          socket.destroy();
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        errorCode ??= err.code ?? 'UNKNOWN';
      });
      socket.on('close', () => {
        j.phase = 'closed';
        settle(errorCode ?? 'closed');
      });
    };
    const fill = (): void => {
      while (!finished && pending < req.maxPending && next < req.clients) {
        pending += 1;
        one(next++);
      }
    };
    setTimeout(fill, Math.max(0, (req.startUs - monoUs()) / 1000));
    if (req.clients === 0) finish();
  });
}

export function joinStormCount(): JoinStormCount {
  let lines = 0;
  let bytes = 0;
  let open = 0;
  for (const j of joiners) {
    lines += j.reader.lines - j.pings;
    bytes += j.reader.bytes;
    if (j.phase !== 'closed') open += 1;
  }
  return { open, lines, bytes };
}

/** Every joiner destroyed (the server is stopped first, so this is mostly already done); what was read. */
export function joinStormDrop(): JoinStormCount {
  const count = joinStormCount();
  for (const j of joiners) j.socket.destroy();
  joiners.length = 0;
  return count;
}

// --- The watcher -------------------------------------------------------------------------------

interface Watcher {
  socket: net.Socket;
  timer: NodeJS.Timeout | null;
  sentUs: number[];
  rttUs: Array<number | null>;
  reader: LineReader;
  closed: string | null;
}

let watcher: Watcher | null = null;

/** The seq of a `:server PONG server :<seq>` line (its last word), or -1 if it is not a PONG. */
function pongSeq(buf: Buffer, start: number, end: number): number {
  if (buf[start] !== COLON) return -1;
  const space = buf.indexOf(SPACE, start);
  if (space === -1 || space + 1 + pongBytes.length > end) return -1;
  for (let k = 0; k < pongBytes.length; k += 1) if (buf[space + 1 + k] !== pongBytes[k]) return -1;
  let i = buf.lastIndexOf(SPACE, end);
  if (i < space + pongBytes.length) return -1;
  i += 1;
  if (buf[i] === COLON) i += 1;
  let n = 0;
  let digits = 0;
  for (; i < end; i += 1) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
    digits += 1;
  }
  return digits > 0 ? n : -1;
}

/** The watcher registered and joined (its own 366 seen); then it PINGs every periodMs until watchStop. */
export function watchStart(req: WatchStartRequest): Promise<null> {
  if (watcher) throw new Error('a watcher is already running');
  const socket = net.connect({ host, port: req.port });
  // Each PING is one line: Nagle would hold it behind an unACKed one and skew its time.
  socket.setNoDelay(true);
  const w: Watcher = { socket, timer: null, sentUs: [], rttUs: [], reader: new LineReader(), closed: null };
  watcher = w;
  let phase: 'registering' | 'joining' | 'joined' = 'registering';
  return new Promise((resolve, rejectWith) => {
    /** A watcher that never joined is forgotten, so that the next one may start. */
    const reject = (err: Error): void => {
      if (phase !== 'joined' && watcher === w) watcher = null;
      rejectWith(err);
    };
    const timeout = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the watcher did not join within ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    const ping = (): void => {
      if (w.sentUs.length >= maxWatchPings || w.closed !== null) return;
      w.sentUs.push(monoUs());
      w.rttUs.push(null);
      socket.write(`PING :${w.sentUs.length - 1}\r\n`);
      w.timer = setTimeout(ping, req.periodMs);
    };
    const onLine = (buf: Buffer, start: number, end: number): void => {
      if (phase === 'joined') {
        if (buf[start] === P) answerPing(socket, buf, start, end);
        const seq = pongSeq(buf, start, end);
        if (seq >= 0 && seq < w.sentUs.length && w.rttUs[seq] === null) w.rttUs[seq] = monoUs() - w.sentUs[seq]!;
        return;
      }
      if (answerPing(socket, buf, start, end)) return;
      const numeric = numericOf(buf, start, end);
      if (phase === 'registering' && numeric === 1) {
        phase = 'joining';
        socket.write(`JOIN ${req.channel}\r\n`);
      } else if (phase === 'joining' && numeric === 366) {
        phase = 'joined';
        clearTimeout(timeout);
        ping();
        resolve(null);
      } else if (numeric >= 400 && numeric < 500) {
        socket.destroy();
        reject(new Error(`the watcher got ${numeric} while ${phase}`));
      }
    };
    socket.on('connect', () => socket.write(`NICK ${req.nick}\r\nUSER u 0 * :irc join storm watcher\r\n`));
    socket.on('data', (chunk: Buffer) => {
      if (!w.reader.take(chunk, onLine)) socket.destroy(new Error('lineTooLong'));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      w.closed ??= err.code ?? err.message;
    });
    socket.on('close', () => {
      w.closed ??= 'closed';
      if (w.timer) clearTimeout(w.timer);
      clearTimeout(timeout);
      reject(new Error(`the watcher was closed while ${phase}: ${w.closed}`));
    });
  });
}

/** Stops the watcher's PINGs and closes it: every PING's send time and round trip. */
export function watchStop(): WatchResult {
  const w = watcher;
  if (!w) throw new Error('no watcher is running');
  watcher = null;
  if (w.timer) clearTimeout(w.timer);
  const closed = w.closed;
  w.socket.destroy();
  return { sentUs: w.sentUs, rttUs: w.rttUs, lines: w.reader.lines, closed };
}

/** A request of the join storm, answered. */
export function handleJoinStorm(req: JoinStormBody): Promise<unknown> {
  switch (req.type) {
    case 'joinStorm':
      return joinStorm(req);
    case 'joinStormCount':
      return Promise.resolve(joinStormCount());
    case 'joinStormDrop':
      return Promise.resolve(joinStormDrop());
    case 'watchStart':
      return watchStart(req);
    case 'watchStop':
      return Promise.resolve(watchStop());
  }
}
