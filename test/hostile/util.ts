// Tools for the hostile-client suite: a server whose log lines carry the time they were written,
// raw clients that record what they got and how they ended, and the leak accounting (live
// actors, the server machine's `live`, active TCP handles and timers, open descriptors, heap).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import v8 from 'node:v8';
import vm from 'node:vm';
import { type ServerHandle, type ServerOutcome } from '../../src/core/listener.js';
import { defaultConfig, type ServerConfig } from '../../src/core/config.js';
import { humanLogger } from '../../src/core/logger.js';
import { watch, type Running } from '../process.js';
import { serve } from '../helpers.js';

export const GREETING = "Hey What's up?\n";

/** Characters that must never reach an operator's terminal raw (see src/core/escape.ts). */
export const UNSAFE_IN_LOG = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]/;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every 10 ms; throws with `what` (and the last `detail`) after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${detail()}`.trim());
    await sleep(10);
  }
}

/** `promise`, or a rejection naming `what` once `ms` have passed (so a hang fails with a reason). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// The server under test, in this process.

export interface LogEntry {
  at: number;
  line: string;
}

export interface HostileServer {
  handle: ServerHandle;
  port: number;
  config: ServerConfig;
  /** Every human log line (stdout and stderr together), with the time it was written. */
  entries: LogEntry[];
  lines(): string[];
  /** Log lines matching `pattern`. */
  matching(pattern: RegExp): LogEntry[];
  /** Shuts down (if not already) and resolves with the outcome. */
  stop(): Promise<ServerOutcome>;
}

export async function startHostileServer(overrides: Partial<ServerConfig> = {}): Promise<HostileServer> {
  const entries: LogEntry[] = [];
  const push = (line: string) => entries.push({ at: Date.now(), line });
  const config: ServerConfig = { ...defaultConfig, host: '127.0.0.1', port: 0, ...overrides };
  const handle = serve(config, { logger: humanLogger({ out: push, err: push }) });
  const { port } = await handle.listening;
  return {
    handle,
    port,
    config,
    entries,
    lines: () => entries.map((e) => e.line),
    matching: (pattern) => entries.filter((e) => pattern.test(e.line)),
    async stop() {
      if (handle.actor.getSnapshot().status === 'active') handle.shutdown();
      return handle.done;
    },
  };
}

/** Log lines that carry a character a terminal would act on (none may). */
export function unsafeLogLines(lines: string[]): string[] {
  return lines.filter((l) => UNSAFE_IN_LOG.test(l));
}

// ---------------------------------------------------------------------------------------------
// Raw clients.

export interface Ending {
  /** When 'close' fired. */
  at: number;
  /** Every byte received, as UTF-8 text. */
  text: string;
  /** The socket error code seen before the close, if any (ECONNRESET, EPIPE...). */
  error: string | null;
}

export interface Dialed {
  socket: net.Socket;
  /** Resolves on 'connect' (the handshake is done; the server may not have accepted yet). */
  connected: Promise<void>;
  startedAt: number;
  received(): Buffer;
  text(): string;
  /** Resolves once `needle` has arrived (rejects after `timeoutMs`, or if the socket closes first). */
  waitForText(needle: string, timeoutMs?: number): Promise<void>;
  /** Resolves on 'close'. Never rejects. */
  closed: Promise<Ending>;
  isClosed(): boolean;
}

export interface DialOptions {
  /** Keep our side writable after the server's FIN (a client that ignores the goodbye). */
  allowHalfOpen?: boolean;
  /** Called on 'connect' (e.g. to reset, end or pause at once, before any event-loop turn). */
  onConnect?: (socket: net.Socket) => void;
}

export function dial(port: number, options: DialOptions = {}): Dialed {
  const startedAt = Date.now();
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
  const chunks: Buffer[] = [];
  // Decoded as it arrives (a character split across chunks is joined) and searched piece by
  // piece, so that waiting for a needle in megabytes of text stays linear.
  const decoder = new StringDecoder('utf8');
  const pieces: string[] = [];
  let joined: string | null = '';
  let error: string | null = null;
  let isClosed = false;
  const listeners = new Set<(piece: string | null) => void>();
  const text = () => (joined ??= pieces.join(''));
  const add = (piece: string) => {
    if (piece === '') return;
    pieces.push(piece);
    joined = null;
    for (const l of [...listeners]) l(piece);
  };
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    add(decoder.write(chunk));
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= err.code ?? err.message;
  });
  const closed = new Promise<Ending>((resolve) =>
    socket.once('close', () => {
      add(decoder.end());
      isClosed = true;
      for (const l of [...listeners]) l(null);
      resolve({ at: Date.now(), text: text(), error });
    }),
  );
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      options.onConnect?.(socket);
      resolve();
    });
    socket.once('close', () => reject(new Error(`closed before connecting (${error ?? 'no error'})`)));
  });
  connected.catch(() => {});
  return {
    socket,
    connected,
    startedAt,
    closed,
    received: () => Buffer.concat(chunks),
    text,
    isClosed: () => isClosed,
    waitForText(needle, timeoutMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const keep = Math.max(0, needle.length - 1);
        let carry = '';
        const finish = (err?: Error) => {
          listeners.delete(onPiece);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const shown = () => JSON.stringify(text().slice(0, 300));
        const onPiece = (piece: string | null) => {
          if (piece === null) return finish(new Error(`closed before ${JSON.stringify(needle)} arrived; got ${shown()}`));
          const hay = carry + piece;
          if (hay.includes(needle)) return finish();
          carry = keep === 0 ? '' : hay.slice(-keep);
        };
        const timer = setTimeout(() => finish(new Error(`no ${JSON.stringify(needle)} within ${timeoutMs} ms; got ${shown()}`)), timeoutMs);
        const sofar = text();
        if (sofar.includes(needle)) return finish();
        if (isClosed) return finish(new Error(`closed before ${JSON.stringify(needle)} arrived; got ${shown()}`));
        carry = keep === 0 ? '' : sofar.slice(-keep);
        listeners.add(onPiece);
      });
    },
  };
}

/** Runs `task(i)` for i in [0, total), `batchSize` at a time, and returns the results in order. */
export async function inBatches<T>(total: number, batchSize: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < total; start += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, total - start) }, (_, k) => task(start + k));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/**
 * One whole, well-behaved exchange (greeting → reply line → server closes) with a reply nobody
 * else sends; resolves with what was received and checks the server logged that exact reply.
 */
export async function normalExchange(server: HostileServer, tag: string): Promise<string> {
  const reply = `normal client after ${tag} ${Math.random().toString(36).slice(2)}`;
  const client = dial(server.port);
  await client.waitForText('\n');
  client.socket.write(`${reply}\n`);
  const ending = await client.closed;
  await until(
    () => server.lines().some((l) => l.endsWith(`Client Response Payload: ${reply}`)),
    2_000,
    `the server to log the normal client's reply after ${tag}`,
    () => `(client got ${JSON.stringify(ending.text.slice(0, 200))}; last log lines: ${JSON.stringify(server.lines().slice(-4))})`,
  );
  return ending.text;
}

/**
 * Like test/process.ts `run`, but the script runs under `ulimit -n <limit>` (set by /bin/sh,
 * which then execs node, so the pid is node's), to reach the descriptor limit cheaply.
 */
export function runWithUlimit(limit: number, bin: string, args: string[]): Running {
  const proc = spawn('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(proc);
}

// ---------------------------------------------------------------------------------------------
// Leak accounting.

export interface Resources {
  /** Active TCP socket handles of this process (server and client ends alike). */
  tcpSockets: number;
  /** Active (ref'ed) timers of this process. */
  timeouts: number;
  /** Open file descriptors of this process. */
  fds: number;
}

export function resources(): Resources {
  const info = process.getActiveResourcesInfo();
  return {
    tcpSockets: info.filter((r) => r === 'TCPSocketWrap').length,
    timeouts: info.filter((r) => r === 'Timeout').length,
    fds: fdCount('self'),
  };
}

export function fdCount(pid: number | 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of a process, from /proc/<pid>/status, in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface Leaks {
  liveActors: number;
  machineLive: number;
  tcpSockets: number;
  timeouts: number;
  fds: number;
}

export const noLeaks: Leaks = { liveActors: 0, machineLive: 0, tcpSockets: 0, timeouts: 0, fds: 0 };

/**
 * Waits (bounded) until the server holds no connection actor, its machine counts no live
 * connection, and this process's TCP handles, timers and descriptors are back to `baseline`.
 * Returns what was still leaked when the time ran out (all zeros when nothing leaked).
 */
export async function settle(server: HostileServer, baseline: Resources, timeoutMs = 5_000): Promise<Leaks> {
  const measure = (): Leaks => {
    const now = resources();
    return {
      liveActors: server.handle.liveConnections(),
      machineLive: server.handle.actor.getSnapshot().context.sessions,
      tcpSockets: Math.max(0, now.tcpSockets - baseline.tcpSockets),
      timeouts: Math.max(0, now.timeouts - baseline.timeouts),
      fds: Math.max(0, now.fds - baseline.fds),
    };
  };
  const deadline = Date.now() + timeoutMs;
  let leaks = measure();
  while (Object.values(leaks).some((n) => n > 0) && Date.now() < deadline) {
    await sleep(20);
    leaks = measure();
  }
  return leaks;
}

/** Waits (bounded) until a child process has at most `baseline` descriptors open; returns the excess. */
export async function settleFds(pid: number, baseline: number, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let excess = fdCount(pid) - baseline;
  while (excess > 0 && Date.now() < deadline) {
    await sleep(20);
    excess = fdCount(pid) - baseline;
  }
  return Math.max(0, excess);
}

// ---------------------------------------------------------------------------------------------
// Heap.

let collect: (() => void) | undefined;

/** Heap plus ArrayBuffer bytes of this process after a full garbage collection. */
export function retainedBytes(): number {
  if (!collect) {
    // A full GC makes the figure what is retained, not what happens to be uncollected yet.
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Figures for docs/reliability.md: written to $HOSTILE_FIGURES (JSON) when that is set.

export interface Figures {
  connections: number;
  durationMs: number;
  leaks: Leaks | (Partial<Leaks> & { childFds?: number });
  [more: string]: unknown;
}

const figures: Record<string, Figures> = {};

export function recordFigures(name: string, f: Figures): void {
  figures[name] = f;
}

export function writeFigures(): void {
  const path = process.env.HOSTILE_FIGURES;
  if (path) writeFileSync(path, `${JSON.stringify(figures, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Hostile payloads, built by hand.

/** A deterministic byte stream (xorshift32), so a failing case replays the same bytes. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A plausible TLS 1.2/1.3 ClientHello record, as a browser's first flight: record header
 * (0x16 handshake, version 0x0301, length), handshake header (0x01 ClientHello, 24-bit length),
 * client version 0x0303, 32 random bytes, a 32-byte session id, cipher suites, null compression,
 * and extensions (SNI, ec_point_formats, supported_groups, signature_algorithms,
 * supported_versions, key_share). Like a real one it contains 0x0a bytes (supported_groups is
 * extension type 0x000a), so a line-based server sees a "line" end somewhere inside it.
 */
export function tlsClientHello(serverName = 'localhost'): Buffer {
  const u8 = (n: number) => Buffer.from([n & 0xff]);
  const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
  const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
  const vec8 = (b: Buffer) => Buffer.concat([u8(b.length), b]);
  const ext = (type: number, body: Buffer) => Buffer.concat([u16(type), vec16(body)]);

  const name = Buffer.from(serverName, 'ascii');
  const extensions = Buffer.concat([
    ext(0x0000, vec16(Buffer.concat([u8(0), vec16(name)]))), // server_name
    ext(0x000b, vec8(Buffer.from([0x00]))), // ec_point_formats: uncompressed
    ext(0x000a, vec16(Buffer.concat([u16(0x001d), u16(0x0017), u16(0x0018)]))), // supported_groups
    ext(0x000d, vec16(Buffer.concat([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].map(u16)))),
    ext(0x002b, vec8(Buffer.concat([u16(0x0304), u16(0x0303)]))), // supported_versions
    ext(0x0033, vec16(Buffer.concat([u16(0x001d), vec16(pseudoRandomBytes(32, 0x5eed))]))), // key_share
  ]);
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x009d, 0x002f, 0x0035];
  const body = Buffer.concat([
    u16(0x0303), // legacy_version TLS 1.2
    pseudoRandomBytes(32, 0xc0ffee), // random
    vec8(pseudoRandomBytes(32, 0xbadc0de)), // legacy_session_id
    vec16(Buffer.concat(suites.map(u16))),
    vec8(Buffer.from([0x00])), // compression: null
    vec16(extensions),
  ]);
  const handshake = Buffer.concat([u8(0x01), u24(body.length), body]);
  return Buffer.concat([u8(0x16), u16(0x0301), u16(handshake.length), handshake]);
}
