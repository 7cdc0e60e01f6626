// The IRC fan-out benchmark: `npm run bench:irc [-- flags]`. Many clients in busy channels, each
// saying one line every P ms with its send time in the text; every delivery is counted and timed
// by the client that receives it. It measures, in the same run and alternating:
//   ours     our CLI, `node dist/src/cli/server.js --protocol irc` with every limit that would
//            throttle the load raised (flood control, per-IP cap, sendq, recvq)
//   bare     bench/baselines/bareIrcRelay.ts, a naive node:net relay: the floor for Node
//   ngircd   the Debian package's C ircd, if installed, with a config written to a temp dir
// each in its own process, with the clients in separate load-generator processes (this file,
// forked with --load-process), so neither's CPU is mixed with the other's. Per measurement:
// deliveries/s, delivery latency (receive time − the send time in the text, one monotonic clock
// for every process), the server's CPU per delivery and the load generators' CPU (both from
// /proc over the steady window only: connecting, joining and the warm-up are outside it), the
// server's write syscalls per delivery (how much it batches), its RSS before the clients and at
// its peak in the window, and what the rest of the machine used meanwhile (other tests on a
// shared machine show there). Each figure is the median of --runs runs; the tables show ours,
// bare, ngircd and the ratios.
//
// Every count, wait and buffer is bounded; everything listens and connects on 127.0.0.1 only;
// every child process is stopped on the way out (normal end, error, SIGINT/SIGTERM).
//
//   sections below: flags · scenarios · latency histogram · load-generator process (child side)
//   · load-generator handle (parent side) · servers under test · one measurement · report · main

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { nextMessageFrom } from './childMessage.js';
import { describeMachine } from './machine.js';
import { summariseProfile, type CpuProfile } from './profile.js';
import { cpuTickMs, machineCpuTicks, processTree, processWriteCalls, treeCpuMs, treeRssBytes } from './procfs.js';
import { textTable } from './report.js';
import { profileIntervalUs, rotate } from './scenarios.js';
import { root, spawned, type RunningServer, type StopResult } from './servers.js';
import { median } from './stats.js';
import { sleep, withTimeout } from './wait.js';

const host = '127.0.0.1';
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** CLOCK_MONOTONIC in µs: the same clock in every process on the machine (and V8's profiles). */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

// --- Flags ---------------------------------------------------------------------------------

const defaultRuns = 3;
const maxRuns = 20;
const maxSeconds = 300;
const defaultLoadProcesses = 2;
const maxLoadProcesses = 8;

const usage = `usage: npm run bench:irc [-- flags]

  --runs N              runs per figure, 1 to ${maxRuns} (default ${defaultRuns}); every figure is the median
  --quick               one run, shorter windows: a smoke test
  --seconds D           the measured window, 1 to ${maxSeconds} s (default 10, 4 with --quick)
  --only A,B            only these scenarios: ${'200x1, 1000x10'}
  --load-processes N    load-generator processes, 1 to ${maxLoadProcesses} (default ${defaultLoadProcesses})
  --no-ngircd           skip ngircd even if it is installed
  --profile             then one more window of ours (first scenario) under V8's CPU profiler,
                        summarised by where the time went
  -h, --help            this text`;

interface Flags {
  runs: number;
  quick: boolean;
  seconds: number | null;
  only: Set<string> | null;
  loadProcesses: number;
  ngircd: boolean;
  profile: boolean;
}

function parseFlags(argv: string[]): Flags | 'help' {
  const flags: Flags = { runs: defaultRuns, quick: false, seconds: null, only: null, loadProcesses: defaultLoadProcesses, ngircd: true, profile: false };
  let runsGiven = false;
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${name} takes a whole number from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string | undefined => (eq === -1 ? argv[++i] : arg.slice(eq + 1));
    switch (name) {
      case '-h':
      case '--help':
        return 'help';
      case '--runs':
        flags.runs = int(name, value(), 1, maxRuns);
        runsGiven = true;
        break;
      case '--quick':
        flags.quick = true;
        break;
      case '--seconds':
        flags.seconds = int(name, value(), 1, maxSeconds);
        break;
      case '--only': {
        const list = (value() ?? '').split(',').map((s) => s.trim());
        for (const s of list) if (!scenarios.some((sc) => sc.name === s)) throw new Error(`--only: unknown scenario ${JSON.stringify(s)}`);
        flags.only = new Set(list);
        break;
      }
      case '--load-processes':
        flags.loadProcesses = int(name, value(), 1, maxLoadProcesses);
        break;
      case '--no-ngircd':
        flags.ngircd = false;
        break;
      case '--profile':
        flags.profile = true;
        break;
      default:
        throw new Error(`unknown flag: ${arg}`);
    }
  }
  if (flags.quick && !runsGiven) flags.runs = 1;
  return flags;
}

// --- Scenarios -----------------------------------------------------------------------------

interface Scenario {
  name: string;
  clients: number;
  channels: number;
  /** Each client sends one PRIVMSG to its channel every periodMs. */
  periodMs: number;
}

const scenarios: Scenario[] = [
  { name: '200x1', clients: 200, channels: 1, periodMs: 500 },
  { name: '1000x10', clients: 1_000, channels: 10, periodMs: 500 },
];

/** Deliveries per second the scenario asks for: each line goes to every other member. */
function offeredPerSecond(s: Scenario, joinedByChannel?: Record<string, number>): number {
  const sizes = joinedByChannel ? Object.values(joinedByChannel) : Array.from({ length: s.channels }, () => s.clients / s.channels);
  return sizes.reduce((sum, n) => sum + (n * Math.max(0, n - 1) * 1000) / s.periodMs, 0);
}

interface Settings {
  runs: number;
  quick: boolean;
  /** Sending before the window: every client has started and V8 has optimised the hot paths. */
  warmupMs: number;
  windowMs: number;
  loadProcesses: number;
  /** Bytes of each PRIVMSG's text (the send time, a space, padding). */
  textBytes: number;
}

function settingsFor(flags: Flags): Settings {
  return {
    runs: flags.runs,
    quick: flags.quick,
    warmupMs: flags.quick ? 1_500 : 3_000,
    windowMs: (flags.seconds ?? (flags.quick ? 4 : 10)) * 1000,
    loadProcesses: flags.loadProcesses,
    textBytes: 64,
  };
}

/** Registrations in flight per load-generator process, at most (well under the listen backlog). */
const maxPendingConnects = 50;
/** Connecting, registering and joining every client of one measurement, at most. */
const connectTimeoutMs = 60_000;
/** The sends go on this long past the window, so that its last moments are steady too. */
const sendTailMs = 300;
/**
 * After the last send, deliveries still arriving get this long at most, or until none arrived
 * for drainQuietMs (ngircd can hold a line back for most of a second).
 */
const drainMaxMs = 5_000;
const drainQuietMs = 1_000;
/** QUIT, then each client is destroyed if still open after this. */
const quitTimeoutMs = 3_000;
/** A line longer than this without a newline closes the client (it is not IRC). */
const maxLineBytes = 64 * 1024;
/** A send whose timer fired this late counts as late: the load generator was behind. */
const lateSendMs = 10;
/** How often the server's RSS is read in the window (the peak is reported). */
const rssSampleMs = 500;
/** The machine counts as quiet when less than this share of all CPUs is busy. */
const quietBusyShare = 0.15;
/** Total time the whole benchmark may spend waiting for a quiet machine. */
const quietBudgetMs = 60_000;

// --- Latency histogram ---------------------------------------------------------------------
// Log-linear buckets in µs: exact below 64 µs, then 64 buckets per power of two (±0.8 %). Small
// enough to send over IPC and to merge by adding, whatever the number of deliveries.

const subBits = 6;
const subBuckets = 1 << subBits;
const histogramSize = subBuckets * 32;

function bucketOf(us: number): number {
  const v = Math.max(0, Math.floor(us));
  if (v < subBuckets) return v;
  const exp = Math.floor(Math.log2(v));
  // v / 2^(exp - subBits) is in [subBuckets, 2 * subBuckets): its offset is the sub-bucket.
  const sub = Math.floor(v / 2 ** (exp - subBits)) - subBuckets;
  return Math.min(histogramSize - 1, subBuckets + (exp - subBits) * subBuckets + sub);
}

/** The middle of bucket `i`, µs. */
function valueOf(i: number): number {
  if (i < subBuckets) return i;
  const exp = Math.floor((i - subBuckets) / subBuckets) + subBits;
  const sub = (i - subBuckets) % subBuckets;
  const width = 2 ** (exp - subBits);
  return (subBuckets + sub) * width + width / 2;
}

/** Nearest-rank percentile (`p` in 0..100) of a histogram, µs; NaN when empty. */
function histogramPercentile(h: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < h.length; i += 1) total += h[i]!;
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < h.length; i += 1) {
    seen += h[i]!;
    if (seen >= rank) return valueOf(i);
  }
  return Number.NaN;
}

// --- Load-generator process (child side) ---------------------------------------------------
// Holds its share of the clients between requests. The hot path is clientOnData: it scans the bytes
// for newlines and PRIVMSG lines without making strings; every other line (registration, PING)
// becomes a string.

interface ClientSpec {
  nick: string;
  channel: string;
}

type LoadRequest =
  | { type: 'connect'; id: number; port: number; clients: ClientSpec[]; maxPending: number; timeoutMs: number }
  | {
      type: 'run';
      id: number;
      sendStartUs: number;
      windowStartUs: number;
      windowEndUs: number;
      sendEndUs: number;
      periodMs: number;
      textBytes: number;
      drainMaxMs: number;
    }
  | { type: 'quit'; id: number; timeoutMs: number };

type LoadReply = { type: 'ready' } | { type: 'result'; id: number; result: unknown } | { type: 'error'; id: number; message: string };

interface ConnectResult {
  joined: number;
  joinedByChannel: Record<string, number>;
  failures: Record<string, number>;
  ms: number;
}

interface RunResult {
  sentByChannel: Record<string, number>;
  /** Deliveries that arrived in the window, and all deliveries of this run's lines (after the drain). */
  delivered: number;
  deliveredTotal: number;
  /** Latencies of the deliveries in the window, as [bucket, count] pairs. */
  histogram: Array<[number, number]>;
  maxLatencyUs: number;
  /** Clients closed (by the server or an error) during the run. */
  disconnected: number;
  /** Sends whose timer fired more than lateSendMs late, and the latest one. */
  lateSends: number;
  maxSendLagMs: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const COLON = 0x3a;
const privmsgBytes = Buffer.from('PRIVMSG ');

interface LoadClient {
  readonly spec: ClientSpec;
  readonly socket: net.Socket;
  partial: Buffer | null;
  phase: 'registering' | 'joining' | 'joined' | 'closed';
  /** Called once when the client has joined (null) or failed (the reason). */
  settle: ((failure: string | null) => void) | null;
  errorCode: string | null;
  sendTimer: NodeJS.Timeout | null;
}

interface RunState {
  sendStartUs: number;
  windowStartUs: number;
  windowEndUs: number;
  delivered: number;
  deliveredTotal: number;
  histogram: Uint32Array;
  maxLatencyUs: number;
  disconnected: number;
}

const loadClients: LoadClient[] = [];
let currentRun: RunState | null = null;

function count(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

/** A PRIVMSG line (`:prefix PRIVMSG target :<sendUs> ...`): counted and timed; false if it is not one. */
function takeDelivery(buf: Buffer, start: number, end: number, nowUs: number): boolean {
  if (buf[start] !== COLON) return false;
  let i = start + 1;
  while (i < end && buf[i] !== SPACE) i += 1;
  i += 1;
  if (end - i < privmsgBytes.length + 2) return false;
  for (let k = 0; k < privmsgBytes.length; k += 1) if (buf[i + k] !== privmsgBytes[k]) return false;
  i += privmsgBytes.length;
  while (i < end && buf[i] !== SPACE) i += 1;
  if (buf[i + 1] !== COLON) return true;
  i += 2;
  let sentUs = 0;
  for (; i < end; i += 1) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    sentUs = sentUs * 10 + d;
  }
  const run = currentRun;
  if (!run || sentUs < run.sendStartUs) return true;
  run.deliveredTotal += 1;
  if (nowUs >= run.windowStartUs && nowUs < run.windowEndUs) {
    const latency = nowUs - sentUs;
    run.delivered += 1;
    run.histogram[bucketOf(latency)]! += 1;
    if (latency > run.maxLatencyUs) run.maxLatencyUs = latency;
  }
  return true;
}

/** Any other line: registration and join replies, PING. */
function takeLine(c: LoadClient, line: string): void {
  if (line.startsWith('PING')) {
    c.socket.write(`PONG${line.slice(4)}\r\n`);
    return;
  }
  if (line.startsWith('ERROR')) {
    c.errorCode ??= 'serverError';
    return;
  }
  const parts = line.split(' ', 3);
  const numeric = parts[1];
  if (c.phase === 'registering') {
    if (numeric === '376' || numeric === '422') {
      c.phase = 'joining';
      c.socket.write(`JOIN ${c.spec.channel}\r\n`);
    } else if (numeric === '433' || numeric === '432') {
      c.errorCode ??= `nick${numeric}`;
      c.socket.destroy();
    }
  } else if (c.phase === 'joining' && numeric === '366') {
    c.phase = 'joined';
    c.settle?.(null);
    c.settle = null;
  } else if (c.phase === 'joining' && numeric !== undefined && /^4\d\d$/.test(numeric)) {
    c.errorCode ??= `join${numeric}`;
    c.socket.destroy();
  }
}

function clientOnData(c: LoadClient, chunk: Buffer): void {
  const nowUs = monoUs();
  let buf = chunk;
  if (c.partial) {
    buf = Buffer.concat([c.partial, chunk]);
    c.partial = null;
  }
  let start = 0;
  for (;;) {
    const lf = buf.indexOf(LF, start);
    if (lf === -1) break;
    if (!takeDelivery(buf, start, lf, nowUs)) {
      const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
      takeLine(c, buf.toString('utf8', start, end));
    }
    start = lf + 1;
  }
  if (start < buf.length) {
    if (buf.length - start > maxLineBytes) {
      c.errorCode ??= 'lineTooLong';
      c.socket.destroy();
      return;
    }
    c.partial = Buffer.from(buf.subarray(start));
  }
}

function openClient(port: number, spec: ClientSpec, settle: (failure: string | null) => void): LoadClient {
  const socket = net.connect({ host, port });
  const c: LoadClient = { spec, socket, partial: null, phase: 'registering', settle, errorCode: null, sendTimer: null };
  // Each send is one line: Nagle would hold it back behind an unACKed one and skew its time.
  socket.setNoDelay(true);
  socket.on('connect', () => socket.write(`NICK ${spec.nick}\r\nUSER u 0 * :irc fan-out bench\r\n`));
  socket.on('data', (chunk: Buffer) => clientOnData(c, chunk));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    c.errorCode ??= err.code ?? 'UNKNOWN';
  });
  socket.on('close', () => {
    if (c.sendTimer) clearTimeout(c.sendTimer);
    c.sendTimer = null;
    if (c.phase === 'joined' && currentRun) currentRun.disconnected += 1;
    c.phase = 'closed';
    c.settle?.(c.errorCode ?? 'closed');
    c.settle = null;
  });
  return c;
}

function connectAll(req: Extract<LoadRequest, { type: 'connect' }>): Promise<ConnectResult> {
  const t0 = performance.now();
  const failures: Record<string, number> = {};
  const joinedByChannel: Record<string, number> = {};
  let next = 0;
  let pending = 0;
  let settled = 0;
  let joined = 0;
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ joined, joinedByChannel, failures, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => {
      for (const c of loadClients) {
        if (c.settle) {
          c.settle = null;
          c.socket.destroy();
        }
      }
      count(failures, 'timeout', req.clients.length - settled);
      finish();
    }, req.timeoutMs);
    const fill = (): void => {
      while (!finished && pending < req.maxPending && next < req.clients.length) {
        const spec = req.clients[next++]!;
        pending += 1;
        loadClients.push(
          openClient(req.port, spec, (failure) => {
            pending -= 1;
            settled += 1;
            if (failure === null) {
              joined += 1;
              count(joinedByChannel, spec.channel);
            } else count(failures, failure);
            if (settled === req.clients.length) finish();
            else fill();
          }),
        );
      }
    };
    if (req.clients.length === 0) finish();
    else fill();
  });
}

async function runLoad(req: Extract<LoadRequest, { type: 'run' }>): Promise<RunResult> {
  const run: RunState = {
    sendStartUs: req.sendStartUs,
    windowStartUs: req.windowStartUs,
    windowEndUs: req.windowEndUs,
    delivered: 0,
    deliveredTotal: 0,
    histogram: new Uint32Array(histogramSize),
    maxLatencyUs: 0,
    disconnected: 0,
  };
  currentRun = run;
  const sentByChannel: Record<string, number> = {};
  let lateSends = 0;
  let maxSendLagMs = 0;
  const periodUs = req.periodMs * 1000;
  const pad = ` ${'x'.repeat(Math.max(0, req.textBytes - 14))}`;
  for (const c of loadClients) {
    if (c.phase !== 'joined') continue;
    // Each client starts at its own random phase, so the sends are spread over the period.
    let dueUs = req.sendStartUs + Math.random() * periodUs;
    const tick = (): void => {
      c.sendTimer = null;
      const nowUs = monoUs();
      if (nowUs >= req.sendEndUs || c.phase !== 'joined') return;
      // A timer may fire up to a millisecond early (its start is the loop's cached time): wait
      // for the due time, or the first line could carry a time before the run's start.
      if (nowUs < dueUs) {
        c.sendTimer = setTimeout(tick, Math.ceil((dueUs - nowUs) / 1000));
        return;
      }
      const lagMs = (nowUs - dueUs) / 1000;
      if (lagMs > lateSendMs) lateSends += 1;
      if (lagMs > maxSendLagMs) maxSendLagMs = lagMs;
      c.socket.write(`PRIVMSG ${c.spec.channel} :${nowUs}${pad}\r\n`);
      count(sentByChannel, c.spec.channel);
      // The schedule, not the last send, sets the next one: a late timer does not slow the rate.
      dueUs += periodUs;
      c.sendTimer = setTimeout(tick, Math.max(0, (dueUs - monoUs()) / 1000));
    };
    c.sendTimer = setTimeout(tick, Math.max(0, (dueUs - monoUs()) / 1000));
  }
  await sleep(Math.max(0, (req.sendEndUs - monoUs()) / 1000) + 20);
  for (const c of loadClients) {
    if (c.sendTimer) clearTimeout(c.sendTimer);
    c.sendTimer = null;
  }
  // Drain: until nothing arrived for drainQuietMs, or drainMaxMs.
  const drainEnd = performance.now() + req.drainMaxMs;
  let last = -1;
  while (performance.now() < drainEnd && run.deliveredTotal !== last) {
    last = run.deliveredTotal;
    await sleep(drainQuietMs);
  }
  currentRun = null;
  const histogram: Array<[number, number]> = [];
  run.histogram.forEach((n, i) => {
    if (n > 0) histogram.push([i, n]);
  });
  return {
    sentByChannel,
    delivered: run.delivered,
    deliveredTotal: run.deliveredTotal,
    histogram,
    maxLatencyUs: run.maxLatencyUs,
    disconnected: run.disconnected,
    lateSends,
    maxSendLagMs,
  };
}

async function quitAll(timeoutMs: number): Promise<number> {
  const open = loadClients.filter((c) => c.phase !== 'closed');
  const closed = Promise.all(open.map((c) => new Promise<void>((resolve) => c.socket.once('close', () => resolve()))));
  for (const c of open) c.socket.end('QUIT :bench done\r\n');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  let destroyed = 0;
  for (const c of loadClients) {
    if (c.phase === 'closed') continue;
    destroyed += 1;
    c.socket.destroy();
  }
  loadClients.length = 0;
  return destroyed;
}

function loadProcessMain(): void {
  if (!process.send) {
    process.stderr.write('ircFanout.js --load-process must be started with child_process.fork\n');
    process.exit(2);
  }
  const reply = (message: LoadReply): void => void process.send?.(message);
  process.on('message', (message: unknown) => {
    if (typeof message !== 'object' || message === null || typeof (message as { id?: unknown }).id !== 'number') return;
    const req = message as LoadRequest;
    const work: Promise<unknown> =
      req.type === 'connect' ? connectAll(req) : req.type === 'run' ? runLoad(req) : quitAll(req.timeoutMs);
    work.then(
      (result) => reply({ type: 'result', id: req.id, result }),
      (err: unknown) => reply({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) }),
    );
  });
  // The benchmark went away: do not outlive it.
  process.on('disconnect', () => process.exit(0));
  reply({ type: 'ready' });
}

// --- Child processes: tracked, so that every exit path stops them ---------------------------

/** Every child process this benchmark started and has not seen stop, by pid. */
const children = new Set<number>();
const tempDirs = new Set<string>();

/** Kills what is left, at once (SIGKILL, by pid, each process and what it started). */
function killChildren(): void {
  for (const pid of children) {
    for (const p of processTree(pid).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// --- Load-generator handle (parent side) ---------------------------------------------------

const selfScript = fileURLToPath(import.meta.url);
const loadStartTimeoutMs = 10_000;
const answerMarginMs = 15_000;

type LoadBody = LoadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

const isLoadReply = (v: unknown): v is LoadReply => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';

class LoadProcess {
  private nextId = 1;
  private constructor(private readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(): Promise<LoadProcess> {
    const child = fork(selfScript, ['--load-process'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (child.pid !== undefined) children.add(child.pid);
    try {
      await withTimeout(nextMessageFrom(child, isLoadReply, (m) => m.type === 'ready', 'irc load generator'), loadStartTimeoutMs, 'irc load generator start');
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return new LoadProcess(child);
  }

  async request<T>(body: LoadBody, durationMs: number): Promise<T> {
    const id = this.nextId++;
    const answer = nextMessageFrom(this.child, isLoadReply, (m) => m.type !== 'ready' && m.id === id, 'irc load generator');
    this.child.send({ ...body, id });
    const reply = await withTimeout(answer, durationMs + answerMarginMs, `irc load generator ${body.type}`);
    if (reply.type === 'error') throw new Error(`irc load generator ${body.type}: ${reply.message}`);
    if (reply.type !== 'result') throw new Error(`irc load generator ${body.type}: unexpected ${reply.type}`);
    return reply.result as T;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      try {
        await withTimeout(exited, 5_000, 'irc load generator stop');
      } catch {
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (child.pid !== undefined) children.delete(child.pid);
  }
}

// --- Servers under test --------------------------------------------------------------------

type ServerKind = 'ours' | 'bare' | 'ngircd';
const labels: Record<ServerKind, string> = { ours: 'ours (xstate)', bare: 'bare relay', ngircd: 'ngircd' };

const cliScript = `${root}dist/src/cli/server.js`;
const relayScript = fileURLToPath(new URL('./baselines/bareIrcRelay.js', import.meta.url));
const ngircdPath = '/usr/sbin/ngircd';

/** Our flags that would otherwise throttle or cut the load (flood control, per-IP cap, queues). */
const oursArgs = [
  '--protocol', 'irc',
  '--host', host,
  '--port', '0',
  '--log-format', 'json',
  '--flood-burst', '1000',
  '--flood-rate', '1000',
  '--max-per-ip', '100000',
  '--max-connections', '20000',
  '--sendq', '10000000',
  '--recvq', '1000000',
  '--shutdown-grace', '3000',
];

function ngircdVersion(): string | null {
  if (!existsSync(ngircdPath)) return null;
  try {
    return execFileSync(ngircdPath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

/** A port that was free a moment ago (ngircd cannot listen on port 0 and say which it got). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * ngircd's config: loopback only; no DNS, ident or PAM lookups; no connection, per-IP or join
 * caps; penalties (its flood control) off; PING far away. ngircd drops root for `nobody`, so the
 * directory must be readable and the pid file's directory writable by it.
 */
function ngircdConfig(dir: string, port: number): string {
  mkdirSync(`${dir}/run`);
  chmodSync(dir, 0o755);
  chmodSync(`${dir}/run`, 0o777);
  const file = `${dir}/ngircd.conf`;
  writeFileSync(
    file,
    [
      '[Global]',
      '  Name = irc.bench.local',
      '  Info = irc fan-out benchmark',
      `  Listen = ${host}`,
      `  Ports = ${port}`,
      '  MotdPhrase = "bench"',
      `  PidFile = ${dir}/run/ngircd.pid`,
      '[Limits]',
      '  MaxConnections = 0',
      '  MaxConnectionsIP = 0',
      '  MaxJoins = 0',
      '  MaxNickLength = 30',
      '  MaxPenaltyTime = 0',
      '  PingTimeout = 600',
      '  PongTimeout = 600',
      '[Options]',
      '  DNS = no',
      '  Ident = no',
      '  PAM = no',
      `  IncludeDir = ${dir}/conf.d`,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o644);
  return file;
}

const startGraceMs = 5_000;

async function startUnderTest(kind: ServerKind, nodeFlags: string[] = []): Promise<RunningServer> {
  let server: RunningServer;
  if (kind === 'ours') {
    server = await spawned(labels.ours, process.execPath, [...nodeFlags, cliScript, ...oursArgs], (line) => {
      if (!line.includes('server.listening')) return undefined;
      try {
        const port = (JSON.parse(line) as { port?: unknown }).port;
        return typeof port === 'number' && port > 0 ? String(port) : undefined;
      } catch {
        return undefined;
      }
    }, startGraceMs);
  } else if (kind === 'bare') {
    server = await spawned(labels.bare, process.execPath, [relayScript, '--host', host, '--port', '0'], (line) => /^listening (\d+)$/.exec(line)?.[1], startGraceMs);
  } else {
    const dir = mkdtempSync(`${os.tmpdir()}/irc-fanout-ngircd-`);
    tempDirs.add(dir);
    const conf = ngircdConfig(dir, await freePort());
    // It logs `Now listening on [127.0.0.1]:PORT`, then, a few seconds later on this machine
    // (it looks its own host name up), `Server "..." ready.`: only then does it serve clients.
    const listening = new RegExp(`Now listening on \\[${host.replace(/\./g, '\\.')}\\]:(\\d+)`);
    let port: string | undefined;
    const portWhenReady = (line: string): string | undefined => {
      port ??= listening.exec(line)?.[1];
      return port !== undefined && / ready\.$/.test(line) ? port : undefined;
    };
    server = await spawned(labels.ngircd, ngircdPath, ['-n', '-f', conf], portWhenReady, startGraceMs);
    const stop = server.stop.bind(server);
    server = {
      ...server,
      stop: async () => {
        try {
          return await stop();
        } finally {
          rmSync(dir, { recursive: true, force: true });
          tempDirs.delete(dir);
        }
      },
    };
  }
  children.add(server.pid);
  return server;
}

// --- One measurement -----------------------------------------------------------------------

interface Figures {
  server: ServerKind;
  scenario: string;
  clients: number;
  joined: number;
  connectFailures: Record<string, number>;
  connectMs: number;
  windowMs: number;
  offeredPerSecond: number;
  deliveries: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuMs: number;
  loadCpuMs: number;
  /** The busiest load-generator process's CPU in the window. */
  loadCpuMaxMs: number;
  machineBusy: number;
  /**
   * CPU the rest of the machine used in the window: the machine's busy time less the server's,
   * the load generators' and this process's (other processes, and kernel work such as softirqs
   * that /proc charges to no process).
   */
  othersCpuMs: number;
  /** Write-type system calls the server made in the window (/proc/<pid>/io syscw). */
  serverWrites: number;
  /** Before any client connected, and the peak in the window. */
  rssIdleBytes: number;
  rssPeakBytes: number;
  /** Deliveries expected from the lines sent (sent × other members) and not received after the drain (1 s quiet, 5 s at most). */
  expected: number;
  missing: number;
  disconnected: number;
  lateSends: number;
  maxSendLagMs: number;
  /** Busy share of the machine just before the measurement (others' load). */
  busyBefore: number;
  stop: StopResult | null;
}

class FanoutBench {
  private loads: LoadProcess[] = [];
  private quietLeftMs = quietBudgetMs;
  quietWaitedMs = 0;

  constructor(private readonly settings: Settings) {}

  async loadProcesses(): Promise<LoadProcess[]> {
    while (this.loads.length < this.settings.loadProcesses) this.loads.push(await LoadProcess.start());
    return this.loads;
  }

  async close(): Promise<void> {
    await Promise.all(this.loads.map((l) => l.stop()));
    this.loads = [];
  }

  /** Waits (within a budget for the whole benchmark) for the machine to be quiet; its busy share. */
  async awaitQuiet(): Promise<number> {
    for (;;) {
      const a = machineCpuTicks();
      await sleep(300);
      const b = machineCpuTicks();
      const busy = (b.busy - a.busy) / (b.total - a.total);
      if (!(busy > quietBusyShare) || this.quietLeftMs <= 0) return busy;
      this.quietLeftMs -= 1_300;
      this.quietWaitedMs += 1_300;
      await sleep(1_000);
    }
  }

  async measure(kind: ServerKind, scenario: Scenario, nodeFlags: string[] = []): Promise<Figures & { window: { startUs: number; endUs: number } }> {
    const loads = await this.loadProcesses();
    const busyBefore = await this.awaitQuiet();
    const server = await startUnderTest(kind, nodeFlags);
    let stop: StopResult | null = null;
    try {
      const serverPids = server.pids();
      const serverWriteCalls = (): number => serverPids.reduce((sum, p) => sum + processWriteCalls(p), 0);
      const rssIdleBytes = treeRssBytes(serverPids);
      const loadPids = loads.map((l) => l.pid);
      // Client i: nick n<i>, channel #c<i / per channel>, load process i mod L.
      const perChannel = Math.ceil(scenario.clients / scenario.channels);
      const shares: ClientSpec[][] = loads.map(() => []);
      for (let i = 0; i < scenario.clients; i += 1) shares[i % loads.length]!.push({ nick: `n${i}`, channel: `#c${Math.floor(i / perChannel)}` });
      const connects = await Promise.all(
        loads.map((l, i) =>
          l.request<ConnectResult>({ type: 'connect', port: server.port, clients: shares[i]!, maxPending: maxPendingConnects, timeoutMs: connectTimeoutMs }, connectTimeoutMs),
        ),
      );
      const joinedByChannel: Record<string, number> = {};
      const connectFailures: Record<string, number> = {};
      for (const c of connects) {
        for (const [ch, n] of Object.entries(c.joinedByChannel)) count(joinedByChannel, ch, n);
        for (const [why, n] of Object.entries(c.failures)) count(connectFailures, why, n);
      }
      const joined = connects.reduce((s, c) => s + c.joined, 0);
      if (joined === 0) throw new Error(`no client joined (${JSON.stringify(connectFailures)})`);

      const { warmupMs, windowMs, textBytes } = this.settings;
      const sendStartUs = monoUs() + 300_000;
      const windowStartUs = sendStartUs + warmupMs * 1000;
      const windowEndUs = windowStartUs + windowMs * 1000;
      const sendEndUs = windowEndUs + sendTailMs * 1000;
      const runs = Promise.all(
        loads.map((l) =>
          l.request<RunResult>(
            { type: 'run', sendStartUs, windowStartUs, windowEndUs, sendEndUs, periodMs: scenario.periodMs, textBytes, drainMaxMs },
            (sendEndUs - monoUs()) / 1000 + drainMaxMs + 1_000,
          ),
        ),
      );
      // Awaited below; a failure before that must not surface as an unhandled rejection.
      runs.catch(() => undefined);
      // The window's edges, read here on the same clock as the load generators count by.
      const until = (us: number): Promise<void> => sleep(Math.max(0, (us - monoUs()) / 1000));
      await until(windowStartUs);
      const server0 = treeCpuMs(serverPids);
      const writes0 = serverWriteCalls();
      const loadEach0 = loadPids.map((p) => treeCpuMs([p]));
      const machine0 = machineCpuTicks();
      const self0 = process.cpuUsage();
      let rssPeak = treeRssBytes(serverPids);
      while (monoUs() + rssSampleMs * 1000 < windowEndUs) {
        await sleep(rssSampleMs);
        rssPeak = Math.max(rssPeak, treeRssBytes(serverPids));
      }
      await until(windowEndUs);
      const server1 = treeCpuMs(serverPids);
      const writes1 = serverWriteCalls();
      const loadEach1 = loadPids.map((p) => treeCpuMs([p]));
      const machine1 = machineCpuTicks();
      const self1 = process.cpuUsage(self0);
      rssPeak = Math.max(rssPeak, treeRssBytes(serverPids));
      const results = await runs;

      const histogram = new Float64Array(histogramSize);
      let maxLatencyUs = 0;
      const sentByChannel: Record<string, number> = {};
      for (const r of results) {
        for (const [i, n] of r.histogram) histogram[i]! += n;
        maxLatencyUs = Math.max(maxLatencyUs, r.maxLatencyUs);
        for (const [ch, n] of Object.entries(r.sentByChannel)) count(sentByChannel, ch, n);
      }
      const expected = Object.entries(sentByChannel).reduce((s, [ch, n]) => s + n * Math.max(0, (joinedByChannel[ch] ?? 0) - 1), 0);
      const deliveredTotal = results.reduce((s, r) => s + r.deliveredTotal, 0);
      const deliveries = results.reduce((s, r) => s + r.delivered, 0);
      const loadEach = loadEach1.map((v, i) => v - loadEach0[i]!);
      const loadCpuMs = loadEach.reduce((a, b) => a + b, 0);
      const figures = {
        server: kind,
        scenario: scenario.name,
        clients: scenario.clients,
        joined,
        connectFailures,
        connectMs: Math.max(...connects.map((c) => c.ms)),
        windowMs,
        offeredPerSecond: offeredPerSecond(scenario, joinedByChannel),
        deliveries,
        perSecond: (deliveries * 1000) / windowMs,
        p50Ms: histogramPercentile(histogram, 50) / 1000,
        p99Ms: histogramPercentile(histogram, 99) / 1000,
        maxMs: maxLatencyUs / 1000,
        serverCpuMs: server1 - server0,
        loadCpuMs,
        loadCpuMaxMs: Math.max(...loadEach),
        machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
        othersCpuMs: (machine1.busy - machine0.busy) * cpuTickMs - (server1 - server0) - loadCpuMs - (self1.user + self1.system) / 1000,
        serverWrites: writes1 - writes0,
        rssIdleBytes,
        rssPeakBytes: rssPeak,
        expected,
        missing: expected - deliveredTotal,
        disconnected: results.reduce((s, r) => s + r.disconnected, 0),
        lateSends: results.reduce((s, r) => s + r.lateSends, 0),
        maxSendLagMs: Math.max(...results.map((r) => r.maxSendLagMs)),
        busyBefore,
        stop: null,
        window: { startUs: windowStartUs, endUs: windowEndUs },
      };
      await Promise.all(loads.map((l) => l.request<number>({ type: 'quit', timeoutMs: quitTimeoutMs }, quitTimeoutMs)));
      stop = await server.stop();
      children.delete(server.pid);
      return { ...figures, stop };
    } finally {
      if (stop === null) {
        await Promise.all(loads.map((l) => l.request<number>({ type: 'quit', timeoutMs: quitTimeoutMs }, quitTimeoutMs).catch(() => 0)));
        await server.stop().catch(() => null);
        children.delete(server.pid);
      }
    }
  }

  /** One more window of ours under V8's sampling profiler: where its CPU goes. */
  async profile(scenario: Scenario): Promise<string[]> {
    const dir = mkdtempSync(`${os.tmpdir()}/irc-fanout-profile-`);
    tempDirs.add(dir);
    try {
      const r = await this.measure('ours', scenario, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${profileIntervalUs}`]);
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error('the profiled server wrote no .cpuprofile');
      const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as CpuProfile;
      const s = summariseProfile(profile, { startUs: r.window.startUs, endUs: r.window.endUs, handshakes: r.deliveries });
      const perDelivery = (ms: number): string => `${((1000 * ms) / r.deliveries).toFixed(2)} µs/delivery`;
      return [
        `PROFILE ours, ${scenario.name}: node --cpu-prof --cpu-prof-interval=${profileIntervalUs} on the server process, window only;` +
          ` ${s.totalMs.toFixed(0)} ms sampled, ${r.deliveries} deliveries (${perDelivery(s.totalMs)}; the profiler adds its own cost)`,
        `with xstate on the stack: ${s.underXstateMs.toFixed(0)} ms (${perDelivery(s.underXstateMs)})`,
        textTable({
          header: ['self time by category', 'ms', 'share'],
          align: 'lrr',
          rows: s.categories.map((c) => [c.name, c.ms.toFixed(0), `${((100 * c.ms) / s.totalMs).toFixed(1)} %`]),
        }),
        '',
        textTable({
          header: ['function (self time)', 'where', 'ms'],
          align: 'llr',
          rows: s.top.map((f) => [f.fn, f.where, f.ms.toFixed(0)]),
        }),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    }
  }
}

// --- Report --------------------------------------------------------------------------------

const fmt = (v: number, digits: number): string =>
  Number.isFinite(v) ? v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–');
const sumValues = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

const metrics: Array<{ label: string; digits: number; pick: (f: Figures) => number; ratio: boolean }> = [
  { label: 'deliveries/s', digits: 0, pick: (f) => f.perSecond, ratio: true },
  { label: 'latency p50 (ms)', digits: 2, pick: (f) => f.p50Ms, ratio: true },
  { label: 'latency p99 (ms)', digits: 2, pick: (f) => f.p99Ms, ratio: true },
  { label: 'latency max (ms)', digits: 1, pick: (f) => f.maxMs, ratio: true },
  { label: 'server CPU per delivery (µs)', digits: 2, pick: (f) => (1000 * f.serverCpuMs) / f.deliveries, ratio: true },
  { label: 'server CPU (% of one core)', digits: 0, pick: (f) => (100 * f.serverCpuMs) / f.windowMs, ratio: true },
  { label: 'server write syscalls per delivery', digits: 3, pick: (f) => f.serverWrites / f.deliveries, ratio: true },
  { label: 'server RSS before clients (MiB)', digits: 1, pick: (f) => f.rssIdleBytes / 2 ** 20, ratio: true },
  { label: 'server RSS, peak in window (MiB)', digits: 1, pick: (f) => f.rssPeakBytes / 2 ** 20, ratio: true },
  { label: 'load gen CPU, all processes (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMs) / f.windowMs, ratio: false },
  { label: 'load gen CPU, busiest process (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMaxMs) / f.windowMs, ratio: false },
  { label: 'load gen sends late > 10 ms', digits: 0, pick: (f) => f.lateSends, ratio: false },
  { label: 'machine busy in window (% of all CPUs)', digits: 0, pick: (f) => 100 * f.machineBusy, ratio: false },
  { label: 'rest of machine in window (% of one core)', digits: 0, pick: (f) => (100 * f.othersCpuMs) / f.windowMs, ratio: false },
  { label: 'machine busy just before (% of all CPUs)', digits: 0, pick: (f) => 100 * f.busyBefore, ratio: false },
  { label: 'deliveries missing 1-5 s after last send', digits: 0, pick: (f) => f.missing, ratio: false },
  { label: 'clients dropped in run', digits: 0, pick: (f) => f.disconnected, ratio: false },
  { label: 'clients not joined', digits: 0, pick: (f) => sumValues(f.connectFailures), ratio: false },
  { label: 'connect + register + join (s)', digits: 2, pick: (f) => f.connectMs / 1000, ratio: false },
];

function scenarioTable(runs: Figures[], kinds: ServerKind[]): string {
  const med = (kind: ServerKind, pick: (f: Figures) => number): number =>
    median(runs.filter((f) => f.server === kind).map(pick).filter(Number.isFinite));
  const others = kinds.filter((k) => k !== 'ours');
  const header = ['figure (median)', ...kinds.map((k) => labels[k]), ...others.map((k) => `ours/${k}`)];
  const rows = metrics.map((m) => {
    const values = kinds.map((k) => med(k, m.pick));
    const ours = values[0]!;
    return [
      m.label,
      ...values.map((v) => fmt(v, m.digits)),
      ...others.map((k) => (m.ratio ? ratio(ours, med(k, m.pick)) : '')),
    ];
  });
  return textTable({ header, align: `l${'r'.repeat(header.length - 1)}`, rows });
}

function runLine(tag: string, f: Figures): string {
  return (
    `${tag} ${f.scenario.padEnd(7)} ${labels[f.server].padEnd(13)} ${fmt(f.perSecond, 0).padStart(7)}/s of ${fmt(f.offeredPerSecond, 0)} ` +
    `p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} max ${fmt(f.maxMs, 1)} ms  server ${fmt((1000 * f.serverCpuMs) / f.deliveries, 2)} µs/delivery ` +
    `(${fmt((100 * f.serverCpuMs) / f.windowMs, 0)} %), ${fmt(f.serverWrites / f.deliveries, 3)} writes/delivery, ` +
    `RSS ${fmt(f.rssIdleBytes / 2 ** 20, 1)} → ${fmt(f.rssPeakBytes / 2 ** 20, 1)} MiB  load gen ${fmt((100 * f.loadCpuMs) / f.windowMs, 0)} % ` +
    `(late sends ${f.lateSends}, max lag ${fmt(f.maxSendLagMs, 0)} ms)  machine ${fmt(100 * f.machineBusy, 0)} % (rest ${fmt((100 * f.othersCpuMs) / f.windowMs, 0)} % of a core), ` +
    `before ${fmt(100 * f.busyBefore, 0)} %  ` +
    `joined ${f.joined}/${f.clients} in ${fmt(f.connectMs / 1000, 2)} s  missing ${f.missing}, dropped ${f.disconnected}` +
    (sumValues(f.connectFailures) > 0 ? `  not joined ${JSON.stringify(f.connectFailures)}` : '') +
    (f.stop ? `  stop ${fmt(f.stop.ms, 0)} ms${f.stop.killed ? ' (killed)' : ''}` : '')
  );
}

// --- Main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  let flags: Flags | 'help';
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    log(`bench:irc: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (flags === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (!existsSync(cliScript)) throw new Error(`${cliScript} is missing: run npm run build first`);
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`bench:irc: ${signal}: stopping every child process`);
    killChildren();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killChildren);

  const started = Date.now();
  const settings = settingsFor(flags);
  const notes: string[] = [];
  const ngircd = flags.ngircd ? ngircdVersion() : null;
  const kinds: ServerKind[] = ngircd ? ['ours', 'bare', 'ngircd'] : ['ours', 'bare'];
  if (!flags.ngircd) notes.push('ngircd skipped (--no-ngircd).');
  else if (!ngircd) {
    notes.push(`ngircd is not installed (${ngircdPath}): skipped. To compare with it: apt-get install ngircd (its service need not run; the benchmark starts its own with a config in a temp dir).`);
  }
  const chosen = scenarios.filter((s) => flags.only === null || flags.only.has(s.name));
  const machine = describeMachine();
  const out: string[] = [
    '',
    `IRC FAN-OUT  machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, ${machine.kernel}; Node ${machine.node}` + (ngircd ? `; ${ngircd}` : ''),
    `runs ${settings.runs}, warm-up ${settings.warmupMs / 1000} s, window ${settings.windowMs / 1000} s, ${settings.loadProcesses} load-generator processes, ` +
      `PRIVMSG text ${settings.textBytes} bytes, CPU from /proc in ${cpuTickMs} ms ticks`,
  ];
  const bench = new FanoutBench(settings);
  const all: Figures[] = [];
  let profile: string[] = [];
  try {
    for (let run = 1; run <= settings.runs; run += 1) {
      for (const scenario of chosen) {
        for (const kind of rotate(kinds, run - 1)) {
          const tag = `run ${run}/${settings.runs}`;
          try {
            const f = await bench.measure(kind, scenario);
            all.push(f);
            log(runLine(tag, f));
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            log(`${tag} ${scenario.name} ${labels[kind]} failed: ${message}`);
            notes.push(`${tag} ${scenario.name} ${labels[kind]} failed: ${message}`);
          }
        }
      }
    }
    if (flags.profile && chosen[0]) {
      try {
        profile = await bench.profile(chosen[0]);
      } catch (err) {
        notes.push(`profile failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await bench.close();
  }
  if (bench.quietWaitedMs > 0) notes.push(`Waited ${(bench.quietWaitedMs / 1000).toFixed(0)} s in all for other processes to leave the machine quiet.`);
  for (const s of chosen) {
    const runs = all.filter((f) => f.scenario === s.name);
    out.push(
      '',
      `${s.name}: ${s.clients} clients in ${s.channels} channel${s.channels > 1 ? 's' : ''} of ${s.clients / s.channels}, ` +
        `one PRIVMSG each every ${s.periodMs} ms: ${fmt(offeredPerSecond(s), 0)} deliveries/s offered`,
      scenarioTable(runs, kinds),
    );
  }
  if (profile.length > 0) out.push('', ...profile);
  out.push(
    '',
    'Latency: receive time (when the load generator\'s event loop saw the bytes) − send time (in the text), one monotonic clock.',
    'Server CPU and load gen CPU: utime + stime from /proc over the window only; write syscalls: syscw of /proc/<pid>/io. Ratios are of the medians.',
  );
  if (notes.length > 0) out.push('', 'NOTES', ...notes.map((n) => `- ${n}`));
  out.push('', `elapsed ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[2] === '--load-process') loadProcessMain();
else {
  try {
    await main();
  } catch (err) {
    log(`bench:irc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  } finally {
    killChildren();
  }
}
