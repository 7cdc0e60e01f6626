// The load generator: plain node:net sockets on loopback that play the protocol from the
// client's side (read the greeting, send one line or stay silent, see the server close). They
// run in load-generator processes (this file with --load-process, forked by forkLoadGenerator),
// never in a server's process, so that the clients share no event loop or descriptor table with a
// server or with the benchmark's bookkeeping; several run at once for the idle scenarios, since
// one process may hold at most 20,000 descriptors on the benchmark machine. Each measures its own
// CPU time, so a reader can tell whether the clients, not the server, were the bottleneck. Every
// wait here is bounded.
//
//   runClosedLoop: `concurrency` clients each doing connect → greeting → reply → close, again
//                  and again: a warm-up, then a fixed measured window.
//   IdleClients:   clients that read the greeting and then hold the connection, silent, until
//                  the server closes them or they are released.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { forkWorker, serveRequests } from '../lib/ipc.js';
import { host } from '../lib/loopback.js';
import { listenOverflows, machineCpuTicks, treeCpuMs } from '../lib/procfs.js';
import { percentileSorted, tally } from '../lib/stats.js';
import { monoUs, sharedNowMs, sleep } from '../lib/wait.js';

/** Why a client did not complete; counted per reason. */
export type Failures = Record<string, number>;

export interface ProtocolText {
  /** The greeting line expected from the server, without its newline. */
  greeting: string;
  /** The line each client sends back, without its newline. */
  reply: string;
}

/** A greeting longer than this is not the greeting; the client gives up instead of buffering. */
const maxGreetingBytes = 1024;

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// --- One handshake -------------------------------------------------------------------------

interface Handshake {
  socket: net.Socket;
  startedAt: number;
}

/**
 * connect → greeting → reply → the server's close. Calls `done` once, with null on success or
 * the reason it failed.
 */
function handshake(
  port: number,
  localAddress: string,
  greeting: Buffer,
  reply: Buffer,
  done: (h: Handshake, failure: string | null) => void,
): Handshake {
  const socket = net.connect({ host, port, localAddress });
  const h: Handshake = { socket, startedAt: performance.now() };
  let received: Buffer | null = null;
  let replied = false;
  let greetingOk = false;
  let serverEnded = false;
  let errorCode: string | null = null;
  socket.on('data', function clientOnData(chunk: Buffer) {
    if (replied) return;
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const lf = received.indexOf(0x0a);
    if (lf === -1) {
      if (received.length > maxGreetingBytes) socket.destroy();
      return;
    }
    greetingOk = lf === greeting.length && received.subarray(0, lf).equals(greeting);
    replied = true;
    socket.write(reply);
  });
  // allowHalfOpen is false on the client: the server's FIN makes it end its side too.
  socket.on('end', function clientOnEnd() {
    serverEnded = true;
  });
  socket.on('error', function clientOnError(err: NodeJS.ErrnoException) {
    errorCode ??= err.code ?? 'UNKNOWN';
  });
  socket.on('close', function clientOnClose() {
    let failure: string | null = null;
    if (errorCode !== null) failure = errorCode;
    else if (!serverEnded) failure = 'noServerClose';
    else if (!replied) failure = 'noGreeting';
    else if (!greetingOk) failure = 'wrongGreeting';
    done(h, failure);
  });
  return h;
}

// --- Closed loop ---------------------------------------------------------------------------

export interface ClosedLoopOptions {
  port: number;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** Loopback source addresses, used in turn (several spread the clients' 4-tuples). */
  localAddresses: string[];
  text: ProtocolText;
  /** Connect one client that reads the greeting and then never replies, before the window. */
  silent: boolean;
  /** The server's processes: their CPU time is read at the window's edges. */
  serverPids: number[];
  /** After the warm-up and after the window, how long in-flight clients get before they are destroyed. */
  drainMs: number;
  /** End the window early once this many handshakes have finished (completed or failed). */
  cycles?: number;
}

export interface ClosedLoopResult {
  concurrency: number;
  /** The measured window, ms (from its start to the timer that ended it). */
  windowMs: number;
  /** Handshakes that finished in the window. */
  completed: number;
  failures: Failures;
  /** Completed handshakes per second of the window. */
  perSecond: number;
  /**
   * Latency, connect() to the server's close, of every handshake completed in the window, plus
   * (as a lower bound) the age of each handshake still in flight when it ended.
   */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** In flight when the window ended, and the oldest of them. */
  unfinished: number;
  oldestUnfinishedMs: number;
  /** The server's CPU time in the window (summed over its processes, from /proc). */
  serverCpuMs: number;
  /** This load generator's CPU time in the window. */
  loadCpuMs: number;
  /** The whole machine's busy share in the window, 0..1 of all CPUs. */
  machineBusy: number;
  /** SYNs the kernel dropped in the window because an accept queue was full (NaN if unknown). */
  listenOverflows: number;
  /** The window's edges on the machine's monotonic clock, µs (the clock of V8's CPU profiles). */
  windowStartUs: number;
  windowEndUs: number;
  /** Whether the silent client (if any) was greeted before the window and still open after it. */
  silentGreeted: boolean | null;
  silentOpenAfter: boolean | null;
}

/** A silent client: resolves once it has the greeting (true) or gave up waiting (false). */
function openSilent(port: number, localAddress: string, greeting: Buffer, timeoutMs: number): Promise<{ socket: net.Socket; greeted: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress });
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (greeted: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ socket, greeted });
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const lf = received.indexOf(0x0a);
      if (lf !== -1) settle(received.subarray(0, lf).equals(greeting));
    });
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
  });
}

async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const greeting = Buffer.from(options.text.greeting);
  const reply = Buffer.from(`${options.text.reply}\n`);
  const addresses = options.localAddresses.length > 0 ? options.localAddresses : [host];
  let nextAddress = 0;

  // One phase at a time: while `running`, every finished handshake starts the next one.
  const inFlight = new Set<Handshake>();
  let running = false;
  let recording = false;
  let latencies: number[] = [];
  let failures: Failures = {};
  let drainedResolve: (() => void) | null = null;

  let finished = 0;
  let cyclesReached: (() => void) | null = null;
  const onDone = (h: Handshake, failure: string | null): void => {
    inFlight.delete(h);
    if (recording) {
      if (failure === null) latencies.push(performance.now() - h.startedAt);
      else tally(failures, failure);
      finished += 1;
      if (options.cycles !== undefined && finished >= options.cycles) {
        running = false;
        cyclesReached?.();
      }
    }
    if (running && (!recording || options.cycles === undefined || startedInWindow < options.cycles)) start();
    else if (inFlight.size === 0) drainedResolve?.();
  };
  let startedInWindow = 0;
  function start(): void {
    if (recording) startedInWindow += 1;
    const address = addresses[nextAddress]!;
    nextAddress = (nextAddress + 1) % addresses.length;
    inFlight.add(handshake(options.port, address, greeting, reply, onDone));
  }
  /** Stops starting new handshakes and waits (bounded) for those in flight; destroys the rest. */
  async function drain(): Promise<void> {
    running = false;
    if (inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          drainedResolve = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.drainMs);
        }),
      ]);
      clearTimeout(timer);
      drainedResolve = null;
      for (const h of inFlight) h.socket.destroy();
    }
  }
  // Warm-up: not recorded, so lazy compilation and first-use allocations are not counted.
  if (options.warmupMs > 0) {
    running = true;
    for (let i = 0; i < options.concurrency; i += 1) start();
    await sleep(options.warmupMs);
    await drain();
  }

  let silent: { socket: net.Socket; greeted: boolean } | null = null;
  if (options.silent) silent = await openSilent(options.port, addresses[0]!, greeting, options.drainMs);

  // The window.
  latencies = [];
  failures = {};
  recording = true;
  running = true;
  const serverCpu0 = treeCpuMs(options.serverPids);
  const loadCpu0 = selfCpuMs();
  const machine0 = machineCpuTicks();
  const overflows0 = listenOverflows();
  const windowStartUs = monoUs();
  const t0 = performance.now();
  for (let i = 0; i < Math.min(options.concurrency, options.cycles ?? Infinity); i += 1) start();
  let windowTimer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    cyclesReached = resolve;
    windowTimer = setTimeout(resolve, options.measureMs);
  });
  clearTimeout(windowTimer);
  cyclesReached = null;
  const t1 = performance.now();
  const windowEndUs = monoUs();
  recording = false;
  const serverCpu1 = treeCpuMs(options.serverPids);
  const loadCpu1 = selfCpuMs();
  const machine1 = machineCpuTicks();
  const overflows1 = listenOverflows();
  const completed = latencies.length;
  const ages = [...inFlight].map((h) => t1 - h.startedAt);
  const silentOpenAfter = silent ? !silent.socket.destroyed && silent.socket.readyState === 'open' : null;
  await drain();
  silent?.socket.destroy();

  const all = [...latencies, ...ages].sort((a, b) => a - b);
  const windowMs = t1 - t0;
  return {
    concurrency: options.concurrency,
    windowMs,
    completed,
    failures,
    perSecond: (completed * 1000) / windowMs,
    p50Ms: percentileSorted(all, 50),
    p99Ms: percentileSorted(all, 99),
    maxMs: all.length > 0 ? all[all.length - 1]! : Number.NaN,
    unfinished: ages.length,
    oldestUnfinishedMs: ages.length > 0 ? Math.max(...ages) : 0,
    serverCpuMs: serverCpu1 - serverCpu0,
    loadCpuMs: loadCpu1 - loadCpu0,
    machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
    listenOverflows: overflows0 !== null && overflows1 !== null ? overflows1 - overflows0 : Number.NaN,
    windowStartUs,
    windowEndUs,
    silentGreeted: silent ? silent.greeted : null,
    silentOpenAfter,
  };
}

// --- Idle clients --------------------------------------------------------------------------

export interface IdleOptions {
  port: number;
  clients: number;
  /**
   * Loopback source addresses, used in turn. Each connect() with a source address binds a port
   * first, and the kernel's search for a free port to bind slows down sharply once one address
   * holds several thousand: the caller gives a few thousand clients per address at most.
   */
  localAddresses: string[];
  /** Connections opened but not yet greeted, at most (keeps the accept queue from overflowing). */
  maxPending: number;
  timeoutMs: number;
  text: ProtocolText;
}

export interface IdleResult {
  clients: number;
  greeted: number;
  failures: Failures;
  /** Shared-clock times of the first connect() and the last greeting. */
  firstConnectAt: number;
  lastGreetingAt: number;
  loadCpuMs: number;
  /** SYNs dropped on a full accept queue while these clients connected (whole machine; NaN if unknown). */
  listenOverflows: number;
}

export interface CloseResult {
  /** Clients closed after the server's FIN, after a reset or error, and still open at the timeout. */
  closedByServer: number;
  errored: number;
  stillOpen: number;
  /** Clients that received the `error SHUTTING_DOWN` line before the close. */
  toldShuttingDown: number;
  /** Shared-clock time of the last close (NaN if none). */
  lastCloseAt: number;
}

interface IdleClient {
  socket: net.Socket;
  received: Buffer;
  /** Greeted or failed: counted once in the open() result. */
  settled: boolean;
  greeted: boolean;
  serverEnded: boolean;
  errored: boolean;
  closed: boolean;
}

/** Holds idle clients between openIdle and release (one set per load-generator process). */
class IdleClients {
  private readonly clients: IdleClient[] = [];
  private openCount = 0;
  private lastCloseAt = Number.NaN;
  private onAllClosed: (() => void) | null = null;

  /** Opens `clients` silent clients, at most `maxPending` ungreeted at a time. */
  open(options: IdleOptions): Promise<IdleResult> {
    const greeting = Buffer.from(options.text.greeting);
    const failures: Failures = {};
    const cpu0 = selfCpuMs();
    const overflows0 = listenOverflows();
    const firstConnectAt = sharedNowMs();
    let lastGreetingAt = Number.NaN;
    let started = 0;
    let pending = 0;
    let greeted = 0;
    let settledCount = 0;
    return new Promise((resolve) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const overflows1 = listenOverflows();
        resolve({
          clients: options.clients,
          greeted,
          failures,
          firstConnectAt,
          lastGreetingAt,
          loadCpuMs: selfCpuMs() - cpu0,
          listenOverflows: overflows0 !== null && overflows1 !== null ? overflows1 - overflows0 : Number.NaN,
        });
      };
      const timer = setTimeout(() => {
        tally(failures, 'timeout');
        finish();
      }, options.timeoutMs);
      const settleOne = (c: IdleClient, failure: string | null): void => {
        if (c.settled) return;
        c.settled = true;
        pending -= 1;
        settledCount += 1;
        if (failure === null) {
          c.greeted = true;
          greeted += 1;
          lastGreetingAt = sharedNowMs();
        } else tally(failures, failure);
        if (settledCount === options.clients) finish();
        else fill();
      };
      let nextAddress = 0;
      const openOne = (): void => {
        const localAddress = options.localAddresses[nextAddress]!;
        nextAddress = (nextAddress + 1) % options.localAddresses.length;
        const socket = net.connect({ host, port: options.port, localAddress });
        const c: IdleClient = {
          socket,
          received: Buffer.alloc(0),
          settled: false,
          greeted: false,
          serverEnded: false,
          errored: false,
          closed: false,
        };
        this.clients.push(c);
        this.openCount += 1;
        started += 1;
        pending += 1;
        socket.on('data', (chunk: Buffer) => {
          if (c.received.length <= maxGreetingBytes) c.received = Buffer.concat([c.received, chunk]);
          if (c.greeted) return;
          const lf = c.received.indexOf(0x0a);
          if (lf !== -1) settleOne(c, c.received.subarray(0, lf).equals(greeting) ? null : 'wrongGreeting');
          else if (c.received.length > maxGreetingBytes) settleOne(c, 'wrongGreeting');
        });
        socket.on('end', () => {
          c.serverEnded = true;
        });
        socket.on('error', (err: NodeJS.ErrnoException) => {
          c.errored = true;
          settleOne(c, err.code ?? 'UNKNOWN');
        });
        socket.on('close', () => {
          if (!c.settled) {
            c.errored = true;
            settleOne(c, 'closedBeforeGreeting');
          }
          c.closed = true;
          this.openCount -= 1;
          this.lastCloseAt = sharedNowMs();
          if (this.openCount === 0) this.onAllClosed?.();
        });
      };
      const fill = (): void => {
        if (finished) return;
        while (pending < options.maxPending && started < options.clients) openOne();
      };
      fill();
    });
  }

  /** Waits (bounded) until the server has closed every client, then says how they closed. */
  async awaitClose(timeoutMs: number): Promise<CloseResult> {
    if (this.openCount > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.onAllClosed = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      this.onAllClosed = null;
    }
    let closedByServer = 0;
    let errored = 0;
    let stillOpen = 0;
    let toldShuttingDown = 0;
    for (const c of this.clients) {
      if (!c.closed) stillOpen += 1;
      else if (c.errored) errored += 1;
      else if (c.serverEnded) closedByServer += 1;
      else errored += 1;
      if (c.received.includes('error SHUTTING_DOWN')) toldShuttingDown += 1;
    }
    return { closedByServer, errored, stillOpen, toldShuttingDown, lastCloseAt: this.lastCloseAt };
  }

  /** Destroys every client and resolves once all have closed (bounded). */
  async release(timeoutMs: number): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    await this.awaitClose(timeoutMs);
    this.clients.length = 0;
  }
}

// --- The process -----------------------------------------------------------------------------

type LoadRequest =
  | { type: 'closedLoop'; id: number; options: ClosedLoopOptions }
  | { type: 'openIdle'; id: number; options: IdleOptions }
  /** Wait until the server has closed every idle client (bounded), then report how. */
  | { type: 'awaitClose'; id: number; timeoutMs: number }
  /** Destroy every idle client. */
  | { type: 'release'; id: number; timeoutMs: number };
type LoadBody = LoadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The benchmark's handle on one load-generator process. */
export interface LoadGenerator {
  closedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult>;
  openIdle(options: IdleOptions): Promise<IdleResult>;
  awaitClose(timeoutMs: number): Promise<CloseResult>;
  release(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function forkLoadGenerator(): Promise<LoadGenerator> {
  const worker = await forkWorker<LoadBody>(fileURLToPath(import.meta.url), ['--load-process'], { what: 'load generator', answerMarginMs: 30_000 });
  return {
    closedLoop: (options) => worker.request({ type: 'closedLoop', options }, options.warmupMs + options.measureMs + 2 * options.drainMs),
    openIdle: (options) => worker.request({ type: 'openIdle', options }, options.timeoutMs),
    awaitClose: (timeoutMs) => worker.request({ type: 'awaitClose', timeoutMs }, timeoutMs),
    release: (timeoutMs) => worker.request({ type: 'release', timeoutMs }, timeoutMs),
    stop: () => worker.stop(),
  };
}

if (process.argv[2] === '--load-process') {
  const idle = new IdleClients();
  serveRequests<LoadRequest>('loadgen.js --load-process', async (request) => {
    switch (request.type) {
      case 'closedLoop':
        return runClosedLoop(request.options);
      case 'openIdle':
        return idle.open(request.options);
      case 'awaitClose':
        return idle.awaitClose(request.timeoutMs);
      case 'release':
        await idle.release(request.timeoutMs);
        return null;
    }
  });
}
