// Tools for the hostile IRC suite: a raw IRC client on a real socket that registers, joins,
// records the lines it receives (with the time each arrived) and measures message latency; the
// kernel's own view of a connection's queues (/proc/net/tcp); and the checks every case ends
// with. The leak accounting itself is util.ts's (descriptors, TCP handles, timers, actors).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TestServer } from '../helpers.js';
import { settle, within, type HostileServer, type Leaks, type Resources } from './util.js';

const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** One line received: decoded (UTF-8, lenient) without its CRLF, and when it arrived. */
export interface IrcLine {
  text: string;
  /** performance.now() of the data event that completed the line. */
  at: number;
}

export interface IrcPeerOptions {
  /** Keep every received line in `lines` (default true). Off for crowds: only counted. */
  keepLines?: boolean;
  /** Keep every received byte (for byte-level checks of the wire). */
  keepRaw?: boolean;
  /** Connect from this local address (127.0.0.2, ...). */
  localAddress?: string;
  /** Called on 'connect', before any event-loop turn (to reset or pause at once). */
  onConnect?: (socket: net.Socket) => void;
}

export interface PeerEnding {
  at: number;
  /** The socket error seen before the close (ECONNRESET...), if any. */
  error: string | null;
}

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: IrcLine) => void;
  /** The socket closed first. */
  closed: () => void;
}

/** A raw IRC client: what it sends is exactly what the test writes. */
export class IrcPeer {
  readonly socket: net.Socket;
  readonly connected: Promise<void>;
  readonly closed: Promise<PeerEnding>;
  /** Every line received (when keepLines), in order. */
  readonly lines: IrcLine[] = [];
  /** Lines received so far, kept or not. */
  lineCount = 0;
  /** Bytes received so far. */
  byteCount = 0;
  nick: string | null = null;
  /** performance.now() when connect was called. */
  readonly startedAt = performance.now();
  private readonly keepLines: boolean;
  private readonly chunks: Buffer[] | null;
  private carry: Buffer | null = null;
  private readonly waiters = new Set<Waiter>();
  private ended = false;
  private error: string | null = null;

  constructor(port: number, options: IrcPeerOptions = {}) {
    this.keepLines = options.keepLines ?? true;
    this.chunks = options.keepRaw ? [] : null;
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    // Our own small writes go out at once: latency figures are the server's, not Nagle's.
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err.code ?? err.message;
    });
    this.closed = new Promise<PeerEnding>((resolve) =>
      this.socket.once('close', () => {
        this.ended = true;
        for (const w of [...this.waiters]) w.closed();
        resolve({ at: performance.now(), error: this.error });
      }),
    );
    this.connected = new Promise<void>((resolve, reject) => {
      this.socket.once('connect', () => {
        options.onConnect?.(this.socket);
        resolve();
      });
      this.socket.once('close', () => reject(new Error(`closed before connecting (${this.error ?? 'no error'})`)));
    });
    this.connected.catch(() => {});
  }

  isClosed(): boolean {
    return this.ended;
  }

  /** Every byte received (keepRaw only). */
  raw(): Buffer {
    if (!this.chunks) throw new Error('IrcPeer created without keepRaw');
    return Buffer.concat(this.chunks);
  }

  private onData(chunk: Buffer): void {
    const at = performance.now();
    this.byteCount += chunk.length;
    this.chunks?.push(chunk);
    const decode = this.keepLines || this.waiters.size > 0;
    let start = 0;
    let lf = chunk.indexOf(LF);
    while (lf !== -1) {
      this.lineCount++;
      if (decode) {
        let bytes: Buffer = chunk.subarray(start, lf);
        if (this.carry) {
          bytes = Buffer.concat([this.carry, bytes]);
          this.carry = null;
        }
        const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
        this.onLine({ text: utf8.decode(bytes.subarray(0, end)), at });
      } else {
        this.carry = null;
      }
      start = lf + 1;
      lf = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) {
      // Copied: the chunk is a view of a pooled buffer Node reuses.
      const rest = Buffer.from(chunk.subarray(start));
      this.carry = this.carry ? Buffer.concat([this.carry, rest]) : rest;
    }
  }

  private onLine(line: IrcLine): void {
    if (this.keepLines) this.lines.push(line);
    for (const w of this.waiters) {
      if (w.match(line.text)) {
        this.waiters.delete(w);
        w.resolve(line);
      }
    }
  }

  /** Writes each line with its CRLF, in one write. */
  send(...lines: string[]): void {
    this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  /**
   * The first line matching `pattern`, among the kept lines from index `from` on (0 by default;
   * the current count to wait only for new lines) and then as lines arrive. Rejects, naming
   * `what` and the last lines received, after `timeoutMs` or if the socket closes first.
   */
  waitForLine(pattern: RegExp | ((line: string) => boolean), what: string, timeoutMs = 5_000, from = 0): Promise<IrcLine> {
    const match = typeof pattern === 'function' ? pattern : (l: string) => pattern.test(l);
    if (this.keepLines) {
      for (let i = from; i < this.lines.length; i++) if (match(this.lines[i]!.text)) return Promise.resolve(this.lines[i]!);
    }
    const shown = () => (this.keepLines ? JSON.stringify(this.lines.slice(-5).map((l) => l.text)) : `${this.lineCount} lines`);
    if (this.ended) return Promise.reject(new Error(`${this.nick ?? 'client'}: closed before ${what}; last lines ${shown()}`));
    return new Promise<IrcLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.nick ?? 'client'}: no ${what} within ${timeoutMs} ms; last lines ${shown()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        closed: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(new Error(`${this.nick ?? 'client'}: closed before ${what}; last lines ${shown()}`));
        },
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * NICK and USER (`userLine` instead of the plain USER when given); resolves at the end of the
   * welcome (376, or 422 when there is no MOTD), rejects on 432/433.
   */
  async register(nick: string, timeoutMs = 5_000, userLine = `USER ${nick} 0 * :${nick}`): Promise<void> {
    this.nick = nick;
    await this.connected;
    const from = this.keepLines ? this.lines.length : 0;
    this.send(`NICK ${nick}`, userLine);
    const line = await this.waitForLine(/^:\S+ (376|422|43[23]) /, `the end of the welcome for ${nick}`, timeoutMs, from);
    if (!/ (376|422) /.test(line.text)) throw new Error(`${nick} was refused: ${line.text}`);
  }

  /** JOIN; resolves at its 366 (end of NAMES), so the join has taken effect. */
  async join(channel: string, timeoutMs = 5_000): Promise<void> {
    const from = this.keepLines ? this.lines.length : 0;
    this.send(`JOIN ${channel}`);
    await this.waitForLine((l) => l.includes(` 366 ${this.nick} ${channel} `), `the end of NAMES for ${channel}`, timeoutMs, from);
  }

  /** QUIT; resolves once the server has closed the connection. */
  async quit(reason = 'bye', timeoutMs = 5_000): Promise<PeerEnding> {
    this.send(`QUIT :${reason}`);
    return within(this.closed, timeoutMs, `${this.nick ?? 'client'} to be closed after QUIT`);
  }

  /** Kept lines as parsed messages (source nick, command, params), from index `from` on. */
  messages(from = 0): Parsed[] {
    return this.lines.slice(from).map((l) => parseLine(l.text));
  }
}

/** A received line, parsed the simple way (no tags are requested by these clients). */
export interface Parsed {
  /** The nick part of the source (`nick!user@host`), or the server name. */
  nick: string;
  command: string;
  params: string[];
  line: string;
}

export function parseLine(line: string): Parsed {
  let rest = line;
  let nick = '';
  if (rest.startsWith(':')) {
    const sp = rest.indexOf(' ');
    nick = rest.slice(1, sp).split('!')[0]!;
    rest = rest.slice(sp + 1);
  }
  const trailingAt = rest.indexOf(' :');
  const head = trailingAt === -1 ? rest : rest.slice(0, trailingAt);
  const words = head.split(' ').filter((w) => w !== '');
  const params = words.slice(1);
  if (trailingAt !== -1) params.push(rest.slice(trailingAt + 2));
  return { nick, command: words[0] ?? '', params, line };
}

/**
 * Whether `line` is `command target text` (from anyone). The server writes a one-word last
 * param without its ':', as the grammar allows, so the line is parsed rather than matched.
 */
export function isMessage(line: string, command: string, target: string, text: string): boolean {
  if (!line.endsWith(text)) return false;
  const m = parseLine(line);
  return m.command === command && m.params[0] === target && m.params[1] === text;
}

let nickSerial = 0;
/** A nick no other client of this process has used (valid: starts with a letter, ≤ 30). */
export function uniqueNick(prefix: string): string {
  return `${prefix}${(nickSerial++).toString(36)}`;
}

/**
 * One PRIVMSG from `from` to `target`, timed until `to` has it: the latency a user sees (both
 * clients are in this process, so the figure includes this process's own share of the load).
 */
export async function timedMessage(from: IrcPeer, to: IrcPeer, target: string, timeoutMs = 5_000): Promise<number> {
  const marker = `latency-${Math.random().toString(36).slice(2)}`;
  const got = to.waitForLine((l) => isMessage(l, 'PRIVMSG', target, marker), `the timed PRIVMSG ${marker}`, timeoutMs, to.lines.length);
  const sentAt = performance.now();
  from.send(`PRIVMSG ${target} :${marker}`);
  return (await got).at - sentAt;
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Every place in a received byte stream where a line is broken: a CR not followed by LF, an LF
 * not preceded by CR, a NUL; and an unfinished last line. Empty when every line ends in CRLF
 * and none holds CR, LF or NUL inside.
 */
export function wireViolations(bytes: Buffer): string[] {
  const out: string[] = [];
  const around = (i: number) => JSON.stringify(bytes.subarray(Math.max(0, i - 30), i + 30).toString('latin1'));
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0) out.push(`NUL at ${i}: ${around(i)}`);
    else if (b === CR && bytes[i + 1] !== LF) out.push(`lone CR at ${i}: ${around(i)}`);
    else if (b === LF && bytes[i - 1] !== CR) out.push(`bare LF at ${i}: ${around(i)}`);
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] !== LF) out.push(`unfinished last line: ${around(bytes.length - 1)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The kernel's view.

export interface KernelQueues {
  /** Bytes sent and not yet acknowledged (or not yet sent). */
  tx: number;
  /** Bytes received and not yet read by the process. */
  rx: number;
}

/**
 * The kernel's send and receive queues of one IPv4 TCP socket, found by its local and remote
 * ports in /proc/net/tcp (every socket here is on loopback); null once it is gone. The file
 * lists every socket of the machine (thousands after the crowd case, TIME_WAIT included), so
 * it is scanned for the one row rather than split into lines.
 */
export function kernelQueues(localPort: number, remotePort: number): KernelQueues | null {
  // Each row: `  sl: LLLLLLLL:PPPP RRRRRRRR:PPPP ST TTTTTTTT:RRRRRRRR ...` (hex).
  const text = readFileSync('/proc/net/tcp', 'latin1');
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  const local = `:${hex(localPort)} `;
  const remote = hex(remotePort);
  for (let i = text.indexOf(local); i !== -1; i = text.indexOf(local, i + 1)) {
    // The local address is the row's first field (after `sl:`), the remote one follows.
    if (text[i - 10] !== ':' || text.slice(i + 15, i + 19) !== remote) continue;
    return { tx: parseInt(text.slice(i + 23, i + 31), 16), rx: parseInt(text.slice(i + 32, i + 40), 16) };
  }
  return null;
}

/** Bytes the client has written that the server process has not read yet (both kernels' queues). */
export function unreadByServer(serverPort: number, client: net.Socket): number {
  const clientEnd = kernelQueues(client.localPort!, serverPort);
  const serverEnd = kernelQueues(serverPort, client.localPort!);
  return (clientEnd?.tx ?? 0) + (serverEnd?.rx ?? 0);
}

// ---------------------------------------------------------------------------------------------
// The end of every case.

/**
 * Log lines that say something went wrong inside the server: an actor that crashed, a command
 * handler that threw, a socket left open, a listener error. (A client's socket failing, e.g.
 * `failed: SOCKET_ERROR (ECONNRESET)`, is the client's doing and not among them.)
 */
export function failureLines(lines: string[]): string[] {
  return lines.filter((l) => / crashed|^#\d+ command \S+ failed: |connection actor finished|server error|^error: /.test(l));
}

/** util.ts's settle for a startIrcTestServer server (it reads nothing but `handle`). */
export function settleIrc(server: TestServer, baseline: Resources, timeoutMs = 5_000): Promise<Leaks> {
  return settle({ handle: server.handle } as HostileServer, baseline, timeoutMs);
}
