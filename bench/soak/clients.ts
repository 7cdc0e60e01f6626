// The soak test's clients: plain node:net sockets on 127.0.0.1, one function per behaviour. A
// normal client does connect → greeting → reply line → server close; the hostile ones do what a
// broken or malicious client does (reset at once, half-close before the greeting, an over-long
// line, silence, a trickle, bytes with no line end, terminal escapes and invalid UTF-8, never
// reading). Each knows what the server must answer and reports anything else as a problem; each
// is bounded by its own deadline, so a stuck server shows up as a problem, never as a hung soak.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { host } from '../lib/loopback.js';
import { soakServerConfig } from './config.js';

export const hostileKinds = [
  'reset',
  'halfClose',
  'overlong',
  'silent',
  'trickle',
  'noNewline',
  'escapes',
  'neverRead',
] as const;
export type HostileKind = (typeof hostileKinds)[number];
export type ClientKind = 'normal' | HostileKind;

export interface ClientResult {
  kind: ClientKind;
  /** Null when the client saw exactly what it expected; otherwise why not (a short, stable text). */
  problem: string | null;
  /** From connect() to 'close'. */
  ms: number;
}

const { greeting, maxReplyBytes, replyTimeoutMs, closeTimeoutMs } = soakServerConfig;

/** The server sends a greeting and at most one error line: more than this is already wrong. */
const maxReceivedChars = 8 * 1024;
/** A client that never reads holds on this long: the reply timeout, then the close timeout, fire. */
const neverReadHoldMs = replyTimeoutMs + closeTimeoutMs + 1_000;
/** No behaviour takes longer than its timeouts; past this the server is stuck with this client. */
export const clientDeadlineMs = neverReadHoldMs + 10_000;
/** A trickling client sends one byte this often: well under replyQuietMs, so it never goes quiet. */
const trickleEveryMs = Math.floor(soakServerConfig.replyQuietMs / 5);
/** An over-long line: four times the limit, in one write. */
const overlongLine = Buffer.concat([Buffer.alloc(maxReplyBytes * 4, 'x'), Buffer.from('\n')]);
/** Terminal escapes (clear screen, colour, window title), NULs, DEL, a C1 control, bidi
 * overrides, then invalid UTF-8 (a lone 0xFF, a truncated sequence, a UTF-16 surrogate). */
const escapesLine = Buffer.concat([
  Buffer.from('\x1b[2J\x1b[31mred\x1b]0;title\x07 nul:\x00\x00 del:\x7f c1:\u009b bidi:\u202eevil\u202c ', 'utf8'),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
  Buffer.from('\r\n'),
]);

interface Conversation {
  socket: net.Socket;
  /** Everything the server sent, up to maxReceivedChars. */
  received: string;
  errorCode: string | null;
  /** The server ended its side (the client saw 'end'). */
  serverEnded: boolean;
  deadlineHit: boolean;
  tooMuch: boolean;
  /** Resolves with the time from connect() to 'close'. */
  closed: Promise<number>;
  /** Starts reading; `onGreeting` runs once, when the greeting's line end arrives. */
  read(onGreeting?: () => void): void;
}

function converse(port: number, open: Set<net.Socket>, allowHalfOpen = false): Conversation {
  const started = performance.now();
  const socket = net.connect({ host, port, allowHalfOpen });
  open.add(socket);
  const c: Conversation = {
    socket,
    received: '',
    errorCode: null,
    serverEnded: false,
    deadlineHit: false,
    tooMuch: false,
    closed: new Promise((resolve) => {
      const deadline = setTimeout(() => {
        c.deadlineHit = true;
        socket.destroy();
      }, clientDeadlineMs);
      socket.on('close', function clientOnClose() {
        clearTimeout(deadline);
        open.delete(socket);
        resolve(performance.now() - started);
      });
    }),
    read(onGreeting) {
      let greeted = false;
      socket.setEncoding('utf8');
      socket.on('data', function clientOnData(chunk: string) {
        if (c.received.length + chunk.length > maxReceivedChars) {
          c.tooMuch = true;
          socket.destroy();
          return;
        }
        c.received += chunk;
        if (!greeted && c.received.includes('\n')) {
          greeted = true;
          onGreeting?.();
        }
      });
      socket.resume();
    },
  };
  socket.on('error', function clientOnError(err: NodeJS.ErrnoException) {
    c.errorCode ??= err.code ?? 'UNKNOWN';
  });
  socket.on('end', function clientOnEnd() {
    c.serverEnded = true;
    // Without allowHalfOpen Node ends our side by itself; with it (the client that never
    // reads), we are done once we have seen the server's FIN.
    if (allowHalfOpen) socket.destroy();
  });
  return c;
}

/**
 * What the conversation must have looked like: the greeting line, then exactly `after` (''
 * for nothing, or the start of the one error line the server sends), then the server's FIN.
 */
function judge(c: Conversation, after: string): string | null {
  if (c.deadlineHit) {
    // Where it got stuck: what the server had sent, whether it ended, whether we had sent.
    const sent = c.socket.bytesWritten > 0 ? 'sent bytes' : 'sent nothing';
    const ended = c.serverEnded ? 'server ended' : 'no FIN from server';
    const received = JSON.stringify(c.received.slice(0, 60));
    return `no close within ${clientDeadlineMs} ms (${sent}, received ${received}, ${ended})`;
  }
  if (c.errorCode !== null) return c.errorCode;
  if (c.tooMuch) return `server sent more than ${maxReceivedChars} chars`;
  const lf = c.received.indexOf('\n');
  if (lf === -1) return c.received === '' ? 'no greeting' : 'partial greeting';
  if (c.received.slice(0, lf) !== greeting) return 'wrong greeting';
  if (!c.serverEnded) return 'server closed without ending its side';
  const rest = c.received.slice(lf + 1);
  if (after === '') return rest === '' ? null : `text after greeting: ${JSON.stringify(rest.slice(0, 40))}`;
  const oneLine = rest.endsWith('\n') && rest.indexOf('\n') === rest.length - 1;
  return rest.startsWith(after) && oneLine ? null : `expected ${after}, got ${JSON.stringify(rest.slice(0, 40))}`;
}

async function normal(port: number, open: Set<net.Socket>, n: number): Promise<ClientResult> {
  const c = converse(port, open);
  c.read(() => c.socket.write(`soak reply ${n}\n`));
  const ms = await c.closed;
  return { kind: 'normal', problem: judge(c, ''), ms };
}

/** Connect, then reset at once (RST, no FIN): the server may not even have greeted yet. */
async function reset(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  c.socket.once('connect', () => c.socket.resetAndDestroy());
  const ms = await c.closed;
  const problem = c.deadlineHit ? 'no close' : c.errorCode;
  return { kind: 'reset', problem, ms };
}

/** Send FIN before the greeting has arrived: the server greets, sees the end, ends too. */
async function halfClose(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  c.socket.once('connect', () => c.socket.end());
  c.read();
  const ms = await c.closed;
  return { kind: 'halfClose', problem: judge(c, ''), ms };
}

async function overlong(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  c.read(() => c.socket.write(overlongLine));
  const ms = await c.closed;
  return { kind: 'overlong', problem: judge(c, 'error REPLY_TOO_LONG'), ms };
}

/** Read the greeting, send nothing: the reply timeout must close us. */
async function silent(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  c.read();
  const ms = await c.closed;
  return { kind: 'silent', problem: judge(c, 'error REPLY_TIMEOUT'), ms };
}

/** One byte at a time, never quiet and never a line end: the reply timeout must still fire. */
async function trickle(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  c.read(() => {
    timer = setInterval(() => {
      // Bounded: stop at half the line limit, or once either side has ended.
      if (!c.socket.writable || c.serverEnded || sent >= maxReplyBytes / 2) return clearInterval(timer);
      c.socket.write('z');
      sent += 1;
    }, trickleEveryMs);
  });
  const ms = await c.closed;
  clearInterval(timer);
  return { kind: 'trickle', problem: judge(c, 'error REPLY_TIMEOUT'), ms };
}

/** Bytes with no line end, then quiet: after replyQuietMs they are the reply (the article's
 * single recv), and the server ends the connection with nothing more to say. */
async function noNewline(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  c.read(() => c.socket.write('no line end'));
  const ms = await c.closed;
  return { kind: 'noNewline', problem: judge(c, ''), ms };
}

async function escapes(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open);
  c.read(() => c.socket.write(escapesLine));
  const ms = await c.closed;
  return { kind: 'escapes', problem: judge(c, ''), ms };
}

/**
 * Never read, never send, never close: the socket stays paused (the kernel holds what arrives)
 * while the reply timeout and then the close timeout fire on the server. Then read what was
 * left for us: the greeting, the REPLY_TIMEOUT line and the FIN.
 */
async function neverRead(port: number, open: Set<net.Socket>): Promise<ClientResult> {
  const c = converse(port, open, true);
  c.socket.pause();
  const hold = setTimeout(() => c.read(), neverReadHoldMs);
  const ms = await c.closed;
  clearTimeout(hold);
  return { kind: 'neverRead', problem: judge(c, 'error REPLY_TIMEOUT'), ms };
}

/**
 * Runs one client of `kind` to its close. `open` holds every socket not yet closed, so that the
 * soak can destroy stragglers; `n` numbers the normal clients' replies.
 */
export function runClient(kind: ClientKind, port: number, open: Set<net.Socket>, n: number): Promise<ClientResult> {
  switch (kind) {
    case 'normal':
      return normal(port, open, n);
    case 'reset':
      return reset(port, open);
    case 'halfClose':
      return halfClose(port, open);
    case 'overlong':
      return overlong(port, open);
    case 'silent':
      return silent(port, open);
    case 'trickle':
      return trickle(port, open);
    case 'noNewline':
      return noNewline(port, open);
    case 'escapes':
      return escapes(port, open);
    case 'neverRead':
      return neverRead(port, open);
  }
}
