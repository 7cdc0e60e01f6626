// The IRC fan-out benchmark: `npm run bench:irc [-- flags]`. Many clients in busy channels, each
// saying one line every P ms with its send time in the text; every delivery is counted and timed
// by the client that receives it. It measures, in the same run and alternating:
//   ours     our CLI, `node dist/src/cli/server.js --protocol irc` with every limit that would
//            throttle the load raised (flood control, per-IP cap, sendq, recvq)
//   bare     bench/baselines/bareIrcRelay.ts, a naive node:net relay: the floor for Node
//   ngircd   the Debian package's C ircd, if installed, with a config written to a temp dir
//   redis2   ours on Redis, 2 nodes: a fresh redis-server on a free port and two processes of our
//            CLI with --redis, the clients alternating between the two nodes, so every channel has
//            members on both and every line crosses Redis
// each in its own process, with the clients in separate load-generator processes (this file,
// forked with --load-process), so neither's CPU is mixed with the other's. Per measurement:
// deliveries/s, delivery latency (receive time − the send time in the text, one monotonic clock
// for every process), the server's CPU per delivery and the load generators' CPU (both from
// /proc over the steady window only: connecting, joining and the warm-up are outside it), the
// server's write syscalls per delivery (how much it batches), its RSS before the clients and at
// its peak in the window, and what the rest of the machine used meanwhile (other tests on a
// shared machine show there). For redis2 also Redis's own CPU and its commands over the window
// (`INFO commandstats`), per delivery and per message sent. Then, with Redis, a node's death: two
// nodes, 50 clients on node B in a channel with an observer on node A, B SIGKILLed (or SIGTERMed),
// and the time until the observer has seen all 50 QUITs. Then, for ours, bare and ngircd, what a
// client costs when it is not chatting (bench/ircScenarios.ts): a registration storm (CPU per
// registration, time to 001) and idle registered clients (memory per client). Each figure is the median of --runs
// runs; the tables (bench/report.ts, which also renders them into docs/benchmarks.md from the
// JSON that --write leaves in docs/bench-irc-results.json) show every kind and the ratios.
//
// Every count, wait and buffer is bounded; everything listens and connects on 127.0.0.1 only;
// every child process is stopped on the way out (normal end, error, SIGINT/SIGTERM).
//
//   sections below: flags · scenarios · load-generator process (child side)
//   · load-generator handle (parent side) · servers under test · one measurement · a node's death
//   · report · main

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { defaultConfig } from '../src/config.js';
import { nextMessageFrom } from './childMessage.js';
import { describeMachine } from './machine.js';
import { summariseProfile, type CpuProfile } from './profile.js';
import { cpuTickMs, machineCpuTicks, processTree, processWriteCalls, treeCpuMs, treeRssBytes } from './procfs.js';
import {
  ircLabels as labels,
  ircResultsVersion,
  ircCommandTable,
  ircDeathTable,
  ircScenarioTable,
  ircSingleKinds,
  textTable,
  type IrcDeath,
  type IrcDeathRun,
  type IrcFigures,
  type IrcIdle,
  type IrcIdleFigures,
  type IrcKind,
  type IrcRegistration,
  type IrcRegistrationFigures,
  type IrcResults,
} from './report.js';
import {
  costTables,
  defaultIdleClients,
  idleLine,
  idleWarmClients,
  maxIdleClients,
  measureIdle,
  measureRegistration,
  registrationConcurrency,
  registrationLine,
  registrationStorm,
  type HeapProbe,
  type RegisteredResult,
  type ScenarioHarness,
  type ScenarioServer,
  type StormRequest,
} from './ircScenarios.js';
import { bucketOf, histogramPairs, histogramPercentile, histogramSize, mergeHistograms, monoUs } from './ircTiming.js';
import { profileIntervalUs, rotate } from './scenarios.js';
import { root, spawned, type RunningServer, type StopResult } from './servers.js';
import { median } from './stats.js';
import { sleep, withTimeout } from './wait.js';

const host = '127.0.0.1';
const log = (line: string): void => void process.stderr.write(`${line}\n`);

// --- Flags ---------------------------------------------------------------------------------

const defaultRuns = 3;
const maxRuns = 20;
const maxSeconds = 300;
const defaultLoadProcesses = 2;
/** The names in --only of the node-death measurement, the registration storm and the idle clients. */
const deathName = 'node-death';
const registrationName = 'registration';
const idleName = 'idle';
const extraNames = [deathName, registrationName, idleName];
const maxLoadProcesses = 8;

const usage = `usage: npm run bench:irc [-- flags]

  --runs N              runs per figure, 1 to ${maxRuns} (default ${defaultRuns}); every figure is the median
  --quick               one run, shorter windows: a smoke test
  --seconds D           the measured window, 1 to ${maxSeconds} s (default 10, 4 with --quick)
  --only A,B            only these: 200x1, 1000x10, ${deathName}, ${registrationName}, ${idleName}
  --idle-clients N      idle registered clients per server in ${idleName}, 1 to ${maxIdleClients} (default ${defaultIdleClients})
  --load-processes N    load-generator processes, 1 to ${maxLoadProcesses} (default ${defaultLoadProcesses})
  --no-ngircd           skip ngircd even if it is installed
  --no-redis            skip ours on Redis (2 nodes) and the node-death measurement
  --write               write the results to docs/bench-irc-results.json (docs/benchmarks.md
                        shows them after \`npm run bench -- --from-json\`)
  --profile             then one more window of ours (first scenario) under V8's CPU profiler,
                        summarised by where the time went; the same for the two nodes on Redis
  -h, --help            this text`;

interface Flags {
  runs: number;
  quick: boolean;
  seconds: number | null;
  only: Set<string> | null;
  loadProcesses: number;
  idleClients: number;
  ngircd: boolean;
  redis: boolean;
  write: boolean;
  profile: boolean;
}

function parseFlags(argv: string[]): Flags | 'help' {
  const flags: Flags = { runs: defaultRuns, quick: false, seconds: null, only: null, loadProcesses: defaultLoadProcesses, idleClients: defaultIdleClients, ngircd: true, redis: true, write: false, profile: false };
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
        for (const s of list) if (!extraNames.includes(s) && !scenarios.some((sc) => sc.name === s)) throw new Error(`--only: unknown scenario ${JSON.stringify(s)}`);
        flags.only = new Set(list);
        break;
      }
      case '--idle-clients':
        flags.idleClients = int(name, value(), 1, maxIdleClients);
        break;
      case '--load-processes':
        flags.loadProcesses = int(name, value(), 1, maxLoadProcesses);
        break;
      case '--no-ngircd':
        flags.ngircd = false;
        break;
      case '--no-redis':
        flags.redis = false;
        break;
      case '--write':
        flags.write = true;
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
  idleClients: number;
  /** How long the idle clients stay idle before the "after" reading. */
  idleHoldMs: number;
}

function settingsFor(flags: Flags): Settings {
  return {
    runs: flags.runs,
    quick: flags.quick,
    warmupMs: flags.quick ? 1_500 : 3_000,
    windowMs: (flags.seconds ?? (flags.quick ? 4 : 10)) * 1000,
    loadProcesses: flags.loadProcesses,
    textBytes: 64,
    idleClients: flags.idleClients,
    idleHoldMs: flags.quick ? 2_000 : 5_000,
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

// --- Load-generator process (child side) ---------------------------------------------------
// Holds its share of the clients between requests. The hot path is clientOnData: it scans the bytes
// for newlines and PRIVMSG lines without making strings; every other line (registration, PING)
// becomes a string.

interface ClientSpec {
  nick: string;
  /** null: the client only registers (and answers PINGs); it counts as joined at the end of the MOTD. */
  channel: string | null;
  /** The server's port (with two nodes, the clients alternate between theirs). */
  port: number;
}

type LoadRequest =
  | { type: 'connect'; id: number; clients: ClientSpec[]; maxPending: number; timeoutMs: number }
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
  | { type: 'quit'; id: number; timeoutMs: number }
  | StormRequest;

type LoadReply = { type: 'ready' } | { type: 'result'; id: number; result: unknown } | { type: 'error'; id: number; message: string };

interface ConnectResult {
  joined: number;
  joinedByChannel: Record<string, number>;
  failures: Record<string, number>;
  ms: number;
}

interface RunResult {
  sentByChannel: Record<string, number>;
  /** Lines sent inside the window (by send time). */
  sentInWindow: number;
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
    if ((numeric === '376' || numeric === '422') && c.spec.channel === null) {
      c.phase = 'joined';
      c.settle?.(null);
      c.settle = null;
    } else if (numeric === '376' || numeric === '422') {
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

function openClient(spec: ClientSpec, settle: (failure: string | null) => void): LoadClient {
  const socket = net.connect({ host, port: spec.port });
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
          openClient(spec, (failure) => {
            pending -= 1;
            settled += 1;
            if (failure === null) {
              joined += 1;
              if (spec.channel !== null) count(joinedByChannel, spec.channel);
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
  let sentInWindow = 0;
  let lateSends = 0;
  let maxSendLagMs = 0;
  const periodUs = req.periodMs * 1000;
  const pad = ` ${'x'.repeat(Math.max(0, req.textBytes - 14))}`;
  for (const c of loadClients) {
    const channel = c.spec.channel;
    if (c.phase !== 'joined' || channel === null) continue;
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
      c.socket.write(`PRIVMSG ${channel} :${nowUs}${pad}\r\n`);
      count(sentByChannel, channel);
      if (nowUs >= req.windowStartUs && nowUs < req.windowEndUs) sentInWindow += 1;
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
  return {
    sentByChannel,
    sentInWindow,
    delivered: run.delivered,
    deliveredTotal: run.deliveredTotal,
    histogram: histogramPairs(run.histogram),
    maxLatencyUs: run.maxLatencyUs,
    disconnected: run.disconnected,
    lateSends,
    maxSendLagMs,
  };
}

async function quitAll(timeoutMs: number): Promise<number> {
  const open = loadClients.filter((c) => c.phase !== 'closed');
  const closed = Promise.all(open.map((c) => new Promise<void>((resolve) => c.socket.once('close', () => resolve()))));
  // QUIT without our FIN: the server closes first, so TIME_WAIT lands on its side and not on
  // the load generator's ephemeral ports (10,000 idle clients per server, three servers a run).
  for (const c of open) c.socket.write('QUIT :bench done\r\n');
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
      req.type === 'connect'
        ? connectAll(req)
        : req.type === 'run'
          ? runLoad(req)
          : req.type === 'storm'
            ? registrationStorm(req)
            : quitAll(req.timeoutMs);
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

type ServerKind = IrcKind;

const cliScript = `${root}dist/src/cli/server.js`;
const relayScript = fileURLToPath(new URL('./baselines/bareIrcRelay.js', import.meta.url));
const ngircdPath = '/usr/sbin/ngircd';
const redisServerPath = '/usr/bin/redis-server';
const resultsPath = `${root}docs/bench-irc-results.json`;

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

function redisVersion(): string | null {
  if (!existsSync(redisServerPath)) return null;
  try {
    const v = /v=(\S+)/.exec(execFileSync(redisServerPath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1];
    return v ? `Redis ${v}` : null;
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

/** A server under test: where clients connect, its processes, and (redis2) its Redis. */
interface UnderTest {
  /** One port, or one per node: client i goes to ports[i mod n] (see measure). */
  ports: number[];
  /** Every process of the server (both nodes for redis2), not Redis. */
  pids(): number[];
  redis: RedisServer | null;
  /** Stops it all (nodes before their Redis) and forgets the processes. */
  stop(): Promise<StopResult>;
}

/** A server that is remembered until it stops, so that every exit path kills it. */
function tracked(server: RunningServer): RunningServer {
  children.add(server.pid);
  return {
    ...server,
    stop: async () => {
      try {
        return await server.stop();
      } finally {
        children.delete(server.pid);
      }
    },
  };
}

/**
 * Our CLI in IRC mode; `extraArgs` after the usual ones (a later flag wins); its stdout lines
 * after the port go to `onLine`.
 */
async function startOurs(extraArgs: string[] = [], nodeFlags: string[] = [], onLine?: (line: string) => void): Promise<RunningServer> {
  const portOf = (line: string): string | undefined => {
    if (!line.includes('server.listening')) return undefined;
    try {
      const port = (JSON.parse(line) as { port?: unknown }).port;
      return typeof port === 'number' && port > 0 ? String(port) : undefined;
    } catch {
      return undefined;
    }
  };
  return tracked(await spawned(labels.ours, process.execPath, [...nodeFlags, cliScript, ...oursArgs, ...extraArgs], portOf, startGraceMs, onLine));
}

async function startNgircd(): Promise<RunningServer> {
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
  const server = tracked(await spawned(labels.ngircd, ngircdPath, ['-n', '-f', conf], portWhenReady, startGraceMs));
  return {
    ...server,
    stop: async () => {
      try {
        return await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
      }
    },
  };
}

/** One command's counters in `INFO commandstats`. */
type CommandStats = Record<string, { calls: number; usec: number }>;

interface RedisServer {
  url: string;
  pid: number;
  /** `INFO commandstats` now: calls and µs per command since Redis started. */
  commandStats(): Promise<CommandStats>;
  stop(): Promise<void>;
}

/**
 * A fresh redis-server on a free loopback port, no persistence (nothing to save, nothing left
 * behind), and one connection of ours for INFO.
 */
async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const server = tracked(
    await spawned(
      'redis-server',
      redisServerPath,
      ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no'],
      (line) => (line.includes('Ready to accept connections') ? String(port) : undefined),
      startGraceMs,
    ),
  );
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // A failed INFO rejects its promise; the client's own 'error' events would otherwise throw.
  client.on('error', () => {});
  try {
    await withTimeout(client.connect(), startGraceMs, 'redis-server connect');
  } catch (err) {
    client.disconnect();
    await server.stop();
    throw err;
  }
  return {
    url: `redis://${host}:${port}`,
    pid: server.pid,
    async commandStats() {
      const text = await withTimeout(client.info('commandstats'), 5_000, 'redis INFO');
      const stats: CommandStats = {};
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
        // The harness's own INFO is not the server's work.
        if (m[1] !== 'info') stats[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
      }
      return stats;
    },
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

/** Two stop results as one: the slower, and whatever went wrong in either. */
function bothStopped(a: StopResult, b: StopResult): StopResult {
  return {
    ms: Math.max(a.ms, b.ms),
    exitCode: a.exitCode !== 0 ? a.exitCode : b.exitCode,
    signal: a.signal ?? b.signal,
    killed: a.killed || b.killed,
  };
}

/** Two nodes of our CLI on a fresh Redis, named a.bench.local and b.bench.local. */
async function startTwoNodes(extraArgs: string[] = [], nodeFlags: string[] = []): Promise<{ a: RunningServer; b: RunningServer; redis: RedisServer }> {
  const redis = await startRedis();
  const started: RunningServer[] = [];
  try {
    for (const name of ['a', 'b']) {
      started.push(await startOurs(['--redis', redis.url, '--server-name', `${name}.bench.local`, ...extraArgs], nodeFlags));
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    await redis.stop();
    throw err;
  }
  return { a: started[0]!, b: started[1]!, redis };
}

/** `nodeFlags` and `onLine` (its stdout after the port) apply to the Node servers, not to ngircd. */
async function startUnderTest(kind: ServerKind, nodeFlags: string[] = [], onLine?: (line: string) => void): Promise<UnderTest> {
  if (kind === 'redis2') {
    const { a, b, redis } = await startTwoNodes([], nodeFlags);
    return {
      ports: [a.port, b.port],
      pids: () => [...a.pids(), ...b.pids()],
      redis,
      stop: async () => {
        try {
          // Both at once; Redis after them, since a leaving node quits its users through it.
          const [x, y] = await Promise.all([a.stop(), b.stop()]);
          return bothStopped(x, y);
        } finally {
          await redis.stop();
        }
      },
    };
  }
  const relayPort = (line: string): string | undefined => /^listening (\d+)$/.exec(line)?.[1];
  const server =
    kind === 'ours'
      ? await startOurs([], nodeFlags, onLine)
      : kind === 'bare'
        ? tracked(await spawned(labels.bare, process.execPath, [...nodeFlags, relayScript, '--host', host, '--port', '0'], relayPort, startGraceMs, onLine))
        : await startNgircd();
  return { ports: [server.port], pids: () => server.pids(), redis: null, stop: () => server.stop() };
}

// --- One measurement -----------------------------------------------------------------------

/** What one measurement gives (its shape is the JSON's, in bench/report.ts). */
type Figures = IrcFigures;

/** Calls and µs per command between two `INFO commandstats` readings. */
function commandDelta(before: CommandStats, after: CommandStats): CommandStats {
  const out: CommandStats = {};
  for (const [name, x] of Object.entries(after)) {
    const calls = x.calls - (before[name]?.calls ?? 0);
    if (calls > 0) out[name] = { calls, usec: x.usec - (before[name]?.usec ?? 0) };
  }
  return out;
}

class FanoutBench implements ScenarioHarness {
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

  async startServer(kind: ServerKind, probe: HeapProbe | null): Promise<ScenarioServer> {
    const server = await startUnderTest(kind, probe?.nodeFlags, probe ? (line) => probe.onLine(line) : undefined);
    return { port: server.ports[0]!, pids: () => server.pids(), stop: () => server.stop() };
  }

  async connectRegistered(port: number, n: number, nickPrefix: string, maxPending: number): Promise<RegisteredResult> {
    const loads = await this.loadProcesses();
    const shares: ClientSpec[][] = loads.map(() => []);
    for (let i = 0; i < n; i += 1) shares[i % loads.length]!.push({ nick: `${nickPrefix}${i}`, channel: null, port });
    const connects = await Promise.all(
      loads.map((l, i) =>
        l.request<ConnectResult>({ type: 'connect', clients: shares[i]!, maxPending, timeoutMs: connectTimeoutMs }, connectTimeoutMs),
      ),
    );
    const failures: Record<string, number> = {};
    for (const c of connects) for (const [why, k] of Object.entries(c.failures)) count(failures, why, k);
    return { registered: connects.reduce((sum, c) => sum + c.joined, 0), failures, ms: Math.max(...connects.map((c) => c.ms)) };
  }

  async quitAll(): Promise<void> {
    await Promise.all(this.loads.map((l) => l.request<number>({ type: 'quit', timeoutMs: quitTimeoutMs }, quitTimeoutMs)));
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
    const redis = server.redis;
    let stop: StopResult | null = null;
    try {
      const serverPids = server.pids();
      const serverWriteCalls = (): number => serverPids.reduce((sum, p) => sum + processWriteCalls(p), 0);
      const rssIdleBytes = treeRssBytes(serverPids);
      const loadPids = loads.map((l) => l.pid);
      // Client i: nick n<i>, channel #c<i / per channel>, load process i mod L, and with two
      // nodes node (i div L) mod 2: consecutive clients (one channel's) alternate between the
      // nodes, and each load process has clients on both.
      const perChannel = Math.ceil(scenario.clients / scenario.channels);
      const ports = server.ports;
      const shares: ClientSpec[][] = loads.map(() => []);
      for (let i = 0; i < scenario.clients; i += 1) {
        shares[i % loads.length]!.push({ nick: `n${i}`, channel: `#c${Math.floor(i / perChannel)}`, port: ports[Math.floor(i / loads.length) % ports.length]! });
      }
      const connects = await Promise.all(
        loads.map((l, i) =>
          l.request<ConnectResult>({ type: 'connect', clients: shares[i]!, maxPending: maxPendingConnects, timeoutMs: connectTimeoutMs }, connectTimeoutMs),
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
      const stats0 = redis ? await redis.commandStats() : null;
      const redis0 = redis ? treeCpuMs([redis.pid]) : Number.NaN;
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
      const redis1 = redis ? treeCpuMs([redis.pid]) : Number.NaN;
      const server1 = treeCpuMs(serverPids);
      const writes1 = serverWriteCalls();
      const loadEach1 = loadPids.map((p) => treeCpuMs([p]));
      const machine1 = machineCpuTicks();
      const self1 = process.cpuUsage(self0);
      rssPeak = Math.max(rssPeak, treeRssBytes(serverPids));
      const stats1 = redis ? await redis.commandStats() : null;
      const results = await runs;

      const histogram = mergeHistograms(results.map((r) => r.histogram));
      let maxLatencyUs = 0;
      const sentByChannel: Record<string, number> = {};
      for (const r of results) {
        maxLatencyUs = Math.max(maxLatencyUs, r.maxLatencyUs);
        for (const [ch, n] of Object.entries(r.sentByChannel)) count(sentByChannel, ch, n);
      }
      const expected = Object.entries(sentByChannel).reduce((s, [ch, n]) => s + n * Math.max(0, (joinedByChannel[ch] ?? 0) - 1), 0);
      const deliveredTotal = results.reduce((s, r) => s + r.deliveredTotal, 0);
      const deliveries = results.reduce((s, r) => s + r.delivered, 0);
      const loadEach = loadEach1.map((v, i) => v - loadEach0[i]!);
      const loadCpuMs = loadEach.reduce((a, b) => a + b, 0);
      const redisCpuMs = redis ? redis1 - redis0 : null;
      const byCommand = stats0 && stats1 ? commandDelta(stats0, stats1) : null;
      const sumOf = (key: 'calls' | 'usec'): number | null => (byCommand ? Object.values(byCommand).reduce((t, x) => t + x[key], 0) : null);
      const figures: Figures & { window: { startUs: number; endUs: number } } = {
        server: kind,
        scenario: scenario.name,
        clients: scenario.clients,
        joined,
        connectFailures,
        connectMs: Math.max(...connects.map((c) => c.ms)),
        windowMs,
        offeredPerSecond: offeredPerSecond(scenario, joinedByChannel),
        deliveries,
        sentInWindow: results.reduce((s, r) => s + r.sentInWindow, 0),
        perSecond: (deliveries * 1000) / windowMs,
        p50Ms: histogramPercentile(histogram, 50) / 1000,
        p99Ms: histogramPercentile(histogram, 99) / 1000,
        maxMs: maxLatencyUs / 1000,
        nodes: ports.length,
        serverCpuMs: server1 - server0,
        redisCpuMs,
        redisCalls: sumOf('calls'),
        redisUsec: sumOf('usec'),
        redisByCommand: byCommand,
        loadCpuMs,
        loadCpuMaxMs: Math.max(...loadEach),
        machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
        othersCpuMs:
          (machine1.busy - machine0.busy) * cpuTickMs - (server1 - server0) - (redisCpuMs ?? 0) - loadCpuMs - (self1.user + self1.system) / 1000,
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
      return { ...figures, stop };
    } finally {
      if (stop === null) {
        await Promise.all(loads.map((l) => l.request<number>({ type: 'quit', timeoutMs: quitTimeoutMs }, quitTimeoutMs).catch(() => 0)));
        await server.stop().catch(() => null);
      }
    }
  }

  /**
   * One more window of ours (or of the two nodes on Redis, each process profiled) under V8's
   * sampling profiler: where its CPU goes. Per-delivery figures divide by every delivery of the
   * window, so two nodes' figures add up.
   */
  async profile(scenario: Scenario, kind: 'ours' | 'redis2' = 'ours'): Promise<string[]> {
    const dir = mkdtempSync(`${os.tmpdir()}/irc-fanout-profile-`);
    tempDirs.add(dir);
    try {
      const r = await this.measure(kind, scenario, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${profileIntervalUs}`]);
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
      if (files.length === 0) throw new Error('the profiled server wrote no .cpuprofile');
      const perDelivery = (ms: number): string => `${((1000 * ms) / r.deliveries).toFixed(2)} µs/delivery`;
      const out: string[] = [];
      for (const [i, file] of files.entries()) {
        const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as CpuProfile;
        const s = summariseProfile(profile, { startUs: r.window.startUs, endUs: r.window.endUs, handshakes: r.deliveries });
        out.push(
          ...(i > 0 ? [''] : []),
          `PROFILE ${labels[kind]}${files.length > 1 ? ` (process ${i + 1} of ${files.length})` : ''}, ${scenario.name}: node --cpu-prof --cpu-prof-interval=${profileIntervalUs}, window only;` +
            ` ${s.totalMs.toFixed(0)} ms sampled, ${r.deliveries} deliveries in all (${perDelivery(s.totalMs)}; the profiler adds its own cost)`,
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
        );
      }
      return out;
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    }
  }
}

// --- A node's death ------------------------------------------------------------------------
// Two nodes on a fresh Redis with a short --node-timeout; an observer on node A and deathClients
// on node B in one channel; node B gets a signal, and the time runs until the observer has seen
// each of their QUITs. The clients are in this process: they only join and wait.

/** --node-timeout of the two nodes here (the default is defaultConfig.irc.nodeTimeoutMs). */
const deathNodeTimeoutMs = 2_000;
const deathClients = 50;
const deathChannel = '#death';
/** Registrations in flight at once on node B. */
const deathJoinBatch = 10;
/** Past timeout + one beat, how long the observer waits for the last QUIT before giving up. */
const deathMarginMs = 15_000;

/** An IRC client of this process: registers as `nick`, joins `channel`; every line goes to `onLine`. */
async function probeClient(port: number, nick: string, channel: string, onLine: (line: string) => void = () => {}): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  socket.setEncoding('utf8');
  let partial = '';
  let joined = false;
  const ready = new Promise<net.Socket>((resolve, reject) => {
    socket.on('connect', () => socket.write(`NICK ${nick}\r\nUSER u 0 * :node death probe\r\n`));
    socket.on('data', (chunk: string) => {
      partial += chunk;
      for (let lf = partial.indexOf('\n'); lf !== -1; lf = partial.indexOf('\n')) {
        const line = partial.slice(0, lf).replace(/\r$/, '');
        partial = partial.slice(lf + 1);
        if (line.startsWith('PING')) {
          socket.write(`PONG${line.slice(4)}\r\n`);
          continue;
        }
        const numeric = line.split(' ', 3)[1];
        if (!joined && (numeric === '376' || numeric === '422')) socket.write(`JOIN ${channel}\r\n`);
        else if (!joined && numeric === '366') {
          joined = true;
          resolve(socket);
        } else if (!joined && numeric !== undefined && /^4\d\d$/.test(numeric)) reject(new Error(`${nick}: ${line}`));
        onLine(line);
      }
      if (partial.length > maxLineBytes) socket.destroy();
    });
    socket.on('error', (err) => reject(err));
    socket.on('close', () => reject(new Error(`${nick}: closed before joining ${channel}`)));
  });
  try {
    return await withTimeout(ready, connectTimeoutMs, `${nick} join`);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/**
 * One death. `delayMs` after every client has joined, the signal: the runs spread it over one
 * beat, or every run would hit the same point of node B's beat (setting up takes the same time).
 */
async function nodeDeathOnce(signal: IrcDeathRun['signal'], delayMs: number): Promise<IrcDeathRun> {
  const { a, b, redis } = await startTwoNodes(['--node-timeout', String(deathNodeTimeoutMs)]);
  const sockets: net.Socket[] = [];
  try {
    const victims = Array.from({ length: deathClients }, (_, i) => `d${i}`);
    const joinedSeen = new Set<string>();
    const quitAt = new Map<string, number>();
    let reason: string | null = null;
    let signalledAt = Number.NaN;
    let allJoined = (): void => {};
    let allQuit = (): void => {};
    const joinedAll = new Promise<void>((resolve) => (allJoined = resolve));
    const quitAll = new Promise<void>((resolve) => (allQuit = resolve));
    const observer = await probeClient(a.port, 'observer', deathChannel, (line) => {
      const m = /^:([^!\s]+)\S* (JOIN|QUIT)(?: :?(.*))?$/.exec(line);
      if (!m || !m[1]!.startsWith('d')) return;
      if (m[2] === 'JOIN') {
        joinedSeen.add(m[1]!);
        if (joinedSeen.size === deathClients) allJoined();
      } else if (!quitAt.has(m[1]!)) {
        quitAt.set(m[1]!, performance.now() - signalledAt);
        reason ??= m[3] ?? '';
        if (quitAt.size === deathClients) allQuit();
      }
    });
    sockets.push(observer);
    for (let i = 0; i < victims.length; i += deathJoinBatch) {
      sockets.push(...(await Promise.all(victims.slice(i, i + deathJoinBatch).map((nick) => probeClient(b.port, nick, deathChannel)))));
    }
    await withTimeout(joinedAll, connectTimeoutMs, `the observer seeing ${deathClients} JOINs`);
    await sleep(delayMs);
    // No QUIT may count before the signal: any seen so far is a failure of the setup.
    if (quitAt.size > 0) throw new Error(`${quitAt.size} QUITs before the signal`);
    signalledAt = performance.now();
    let exitMs: number | null = null;
    if (signal === 'SIGKILL') {
      process.kill(b.pid, 'SIGKILL');
      await b.stop();
      exitMs = performance.now() - signalledAt;
    }
    const exited =
      signal === 'SIGTERM'
        ? b.stop().then((r) => {
            exitMs = r.ms;
            return r;
          })
        : null;
    const boundMs = deathNodeTimeoutMs + defaultConfig.irc.nodeHeartbeatMs + deathMarginMs;
    await withTimeout(quitAll, boundMs, `the observer seeing ${deathClients} QUITs`).catch(() => undefined);
    await exited;
    const times = [...quitAt.values()];
    return {
      signal,
      delayMs,
      clients: deathClients,
      quits: quitAt.size,
      firstQuitMs: times.length > 0 ? Math.min(...times) : null,
      allQuitsMs: quitAt.size === deathClients ? Math.max(...times) : null,
      exitMs,
      reason,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}

function deathLine(tag: string, r: IrcDeathRun): string {
  const s = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  return (
    `${tag} node death ${r.signal.padEnd(7)} (after ${r.delayMs.toFixed(0)} ms) observer saw ${r.quits}/${r.clients} QUITs: first after ${s(r.firstQuitMs)}, all after ${s(r.allQuitsMs)}; ` +
    `node B exited after ${s(r.exitMs)}` +
    (r.reason !== null ? `  reason ${JSON.stringify(r.reason)}` : '')
  );
}

// --- Report --------------------------------------------------------------------------------
// One line per measurement as it ends; the tables are bench/report.ts's.

const fmt = (v: number, digits: number): string =>
  Number.isFinite(v) ? v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const sumValues = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

function runLine(tag: string, f: Figures): string {
  return (
    `${tag} ${f.scenario.padEnd(7)} ${labels[f.server].padEnd(22)} ${fmt(f.perSecond, 0).padStart(7)}/s of ${fmt(f.offeredPerSecond, 0)} ` +
    `p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} max ${fmt(f.maxMs, 1)} ms  server ${fmt((1000 * f.serverCpuMs) / f.deliveries, 2)} µs/delivery ` +
    `(${fmt((100 * f.serverCpuMs) / f.windowMs, 0)} %), ${fmt(f.serverWrites / f.deliveries, 3)} writes/delivery, ` +
    `RSS ${fmt(f.rssIdleBytes / 2 ** 20, 1)} → ${fmt(f.rssPeakBytes / 2 ** 20, 1)} MiB  load gen ${fmt((100 * f.loadCpuMs) / f.windowMs, 0)} % ` +
    `(late sends ${f.lateSends}, max lag ${fmt(f.maxSendLagMs, 0)} ms)  machine ${fmt(100 * f.machineBusy, 0)} % (rest ${fmt((100 * f.othersCpuMs) / f.windowMs, 0)} % of a core), ` +
    `before ${fmt(100 * f.busyBefore, 0)} %  ` +
    `joined ${f.joined}/${f.clients} in ${fmt(f.connectMs / 1000, 2)} s  missing ${f.missing}, dropped ${f.disconnected}` +
    (f.redisCpuMs !== null && f.redisCalls !== null
      ? `  Redis ${fmt((1000 * f.redisCpuMs) / f.deliveries, 2)} µs/delivery (${fmt((100 * f.redisCpuMs) / f.windowMs, 0)} %), ` +
        `${fmt(f.redisCalls / f.sentInWindow, 2)} commands/message, ${fmt(f.redisCalls / f.deliveries, 3)}/delivery`
      : '') +
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
  const redisServer = flags.redis ? redisVersion() : null;
  const kinds: ServerKind[] = ['ours', 'bare', ...(ngircd ? (['ngircd'] as const) : []), ...(redisServer ? (['redis2'] as const) : [])];
  if (!flags.ngircd) notes.push('ngircd skipped (--no-ngircd).');
  else if (!ngircd) {
    notes.push(`ngircd is not installed (${ngircdPath}): skipped. To compare with it: apt-get install ngircd (its service need not run; the benchmark starts its own with a config in a temp dir).`);
  }
  if (!flags.redis) notes.push('ours on Redis and the node-death measurement skipped (--no-redis).');
  else if (!redisServer) notes.push(`redis-server is not installed (${redisServerPath}): ours on Redis and the node-death measurement skipped (apt-get install redis-server).`);
  const chosen = scenarios.filter((s) => flags.only === null || flags.only.has(s.name));
  const deathChosen = redisServer !== null && (flags.only === null || flags.only.has(deathName));
  const registrationChosen = flags.only === null || flags.only.has(registrationName);
  const idleChosen = flags.only === null || flags.only.has(idleName);
  const singleKinds = ircSingleKinds(kinds);
  const machine = describeMachine();
  const out: string[] = [
    '',
    `IRC FAN-OUT  machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, ${machine.kernel}; Node ${machine.node}` +
      (ngircd ? `; ${ngircd}` : '') +
      (redisServer ? `; ${redisServer}` : ''),
    `runs ${settings.runs}, warm-up ${settings.warmupMs / 1000} s, window ${settings.windowMs / 1000} s, ${settings.loadProcesses} load-generator processes, ` +
      `PRIVMSG text ${settings.textBytes} bytes, CPU from /proc in ${cpuTickMs} ms ticks`,
    `Everything shares these ${machine.nproc} CPUs: the server under test (for ours on Redis: two nodes and redis-server) and the load generators.`,
  ];
  const bench = new FanoutBench(settings);
  const all: Figures[] = [];
  const deaths: IrcDeathRun[] = [];
  const registrations: IrcRegistrationFigures[] = [];
  const idles: IrcIdleFigures[] = [];
  const profile: string[] = [];
  /** One measurement that may fail: its line as it ends, or a note. */
  const attempt = async <F>(tag: string, what: string, measureOne: () => Promise<F>, line: (f: F) => string, into: F[]): Promise<void> => {
    try {
      const f = await measureOne();
      into.push(f);
      log(line(f));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`${tag} ${what} failed: ${message}`);
      notes.push(`${tag} ${what} failed: ${message}`);
    }
  };
  try {
    for (let run = 1; run <= settings.runs; run += 1) {
      const tag = `run ${run}/${settings.runs}`;
      for (const scenario of chosen) {
        for (const kind of rotate(kinds, run - 1)) {
          const fanout = async (): Promise<Figures> => {
            const { window, ...f } = await bench.measure(kind, scenario);
            void window;
            return f;
          };
          await attempt(tag, `${scenario.name} ${labels[kind]}`, fanout, (f) => runLine(tag, f), all);
        }
      }
      for (const kind of registrationChosen ? rotate(singleKinds, run - 1) : []) {
        const storm = { warmupMs: settings.warmupMs, windowMs: settings.windowMs };
        await attempt(tag, `${registrationName} ${labels[kind]}`, () => measureRegistration(bench, kind, storm), (f) => registrationLine(tag, f), registrations);
      }
      for (const kind of idleChosen ? rotate(singleKinds, run - 1) : []) {
        const idle = { clients: settings.idleClients, holdMs: settings.idleHoldMs };
        await attempt(tag, `${idleName} ${labels[kind]}`, () => measureIdle(bench, kind, idle), (f) => idleLine(tag, f), idles);
      }
    }
    if (deathChosen) {
      for (let run = 1; run <= settings.runs; run += 1) {
        for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
          const tag = `run ${run}/${settings.runs}`;
          try {
            await bench.awaitQuiet();
            const r = await nodeDeathOnce(signal, ((run - 1) / settings.runs) * defaultConfig.irc.nodeHeartbeatMs);
            deaths.push(r);
            log(deathLine(tag, r));
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            log(`${tag} node death ${signal} failed: ${message}`);
            notes.push(`${tag} node death ${signal} failed: ${message}`);
          }
        }
      }
    }
    if (flags.profile && chosen[0]) {
      for (const kind of kinds.includes('redis2') ? (['ours', 'redis2'] as const) : (['ours'] as const)) {
        try {
          profile.push(...(profile.length > 0 ? [''] : []), ...(await bench.profile(chosen[0], kind)));
        } catch (err) {
          notes.push(`profile of ${labels[kind]} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
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
      textTable(ircScenarioTable(runs, kinds)),
    );
    const commands = ircCommandTable(runs);
    if (commands) out.push('', `${s.name}, ${labels.redis2}: Redis commands per message sent (medians; those scripts run counted under their names)`, textTable(commands));
  }
  const death: IrcDeath | null = deathChosen
    ? {
        nodeTimeoutMs: deathNodeTimeoutMs,
        heartbeatMs: defaultConfig.irc.nodeHeartbeatMs,
        defaultNodeTimeoutMs: defaultConfig.irc.nodeTimeoutMs,
        clients: deathClients,
        runs: deaths,
      }
    : null;
  if (death) {
    const beat = death.heartbeatMs / 1000;
    out.push(
      '',
      `NODE DEATH: two nodes with --node-timeout ${death.nodeTimeoutMs}, ${death.clients} clients on node B and an observer on node A in one channel; ` +
        `node B signalled. Expected after SIGKILL: ${death.nodeTimeoutMs / 1000 - beat} to ${death.nodeTimeoutMs / 1000 + beat} s ` +
        `(timeout ± one ${beat} s beat); with the default --node-timeout ${death.defaultNodeTimeoutMs}: ` +
        `${death.defaultNodeTimeoutMs / 1000 - beat} to ${death.defaultNodeTimeoutMs / 1000 + beat} s.`,
      textTable(ircDeathTable(death)),
    );
  }
  const registration: IrcRegistration | null = registrationChosen
    ? { concurrency: registrationConcurrency, warmupMs: settings.warmupMs, windowMs: settings.windowMs, runs: registrations }
    : null;
  const idle: IrcIdle | null = idleChosen ? { clients: settings.idleClients, warmClients: idleWarmClients, holdMs: settings.idleHoldMs, runs: idles } : null;
  out.push(...costTables(registration, idle, kinds));
  if (profile.length > 0) out.push('', ...profile);
  if (chosen.length > 0) {
    out.push(
      '',
      'Latency: receive time (when the load generator\'s event loop saw the bytes) − send time (in the text), one monotonic clock.',
      'Server CPU (both nodes for ours on Redis), Redis CPU and load gen CPU: utime + stime from /proc over the window only; write syscalls: syscw of /proc/<pid>/io.',
      'Redis commands: INFO commandstats over the window (commands run by Lua scripts included, INFO not). Ratios are of the medians.',
    );
  }
  if (notes.length > 0) out.push('', 'NOTES', ...notes.map((n) => `- ${n}`));
  const elapsedS = (Date.now() - started) / 1000;
  out.push('', `elapsed ${(elapsedS / 60).toFixed(1)} min`);
  if (flags.write) {
    const results: IrcResults = {
      version: ircResultsVersion,
      startedAt: new Date(started).toISOString(),
      elapsedS,
      machine,
      settings: {
        runs: settings.runs,
        quick: settings.quick,
        warmupMs: settings.warmupMs,
        windowMs: settings.windowMs,
        loadProcesses: settings.loadProcesses,
        textBytes: settings.textBytes,
      },
      ngircd,
      redis: redisServer,
      kinds,
      scenarios: chosen.map((s) => ({ name: s.name, clients: s.clients, channels: s.channels, periodMs: s.periodMs, offeredPerSecond: offeredPerSecond(s) })),
      runs: all,
      nodeDeath: death,
      registration,
      idle,
      notes,
    };
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 1)}\n`);
    out.push(`wrote docs/bench-irc-results.json (\`npm run bench -- --from-json\` puts it in docs/benchmarks.md)`);
  }
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
