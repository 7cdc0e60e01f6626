// The shape of the IRC benchmark's results, as measured (measure.ts, sessionCost.ts,
// nodeDeath.ts), kept as JSON (docs/bench-irc-results.json, with --write) and read back by the
// report (bench/report/irc.ts). Every figure is per run; the report takes the medians. JSON turns
// NaN into null, so a figure a kind has not may be either.

import type { ProfileSummary } from '../lib/cpuProfile.js';
import type { Machine } from '../lib/machine.js';
import { root } from '../lib/resultsFile.js';
import type { StopResult } from '../lib/spawn.js';

export const ircResultsVersion = 1;
export const ircResultsPath = `${root}docs/bench-irc-results.json`;

export type IrcKind = 'ours' | 'bare' | 'ngircd' | 'inspircd' | 'redis2';
export const ircLabels: Record<IrcKind, string> = {
  ours: 'ours (xstate)',
  bare: 'bare relay',
  ngircd: 'ngircd',
  inspircd: 'InspIRCd',
  redis2: 'ours on Redis, 2 nodes',
};

/** The kinds the registration storm, the idle clients and the never-reader measure: one process each, no Redis. */
export const ircSingleKinds = (kinds: readonly IrcKind[]): IrcKind[] => kinds.filter((k) => k !== 'redis2');

/** One measurement: one server kind, one scenario, one window. Figures a kind has not are null. */
export interface IrcFigures {
  server: IrcKind;
  scenario: string;
  clients: number;
  joined: number;
  connectFailures: Record<string, number>;
  connectMs: number;
  windowMs: number;
  offeredPerSecond: number;
  /** Deliveries received in the window, and lines the clients sent in it. */
  deliveries: number;
  sentInWindow: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server processes (2 for the Redis kind) and their CPU in the window, all of them. */
  nodes: number;
  serverCpuMs: number;
  /** redis-server's CPU in the window; its commands (`INFO commandstats`, INFO itself left out). */
  redisCpuMs: number | null;
  redisCalls: number | null;
  redisUsec: number | null;
  redisByCommand: Record<string, { calls: number; usec: number }> | null;
  loadCpuMs: number;
  /** The busiest load-generator process's CPU in the window. */
  loadCpuMaxMs: number;
  machineBusy: number;
  /** The machine's busy time less the servers', Redis's, the load generators' and the harness's. */
  othersCpuMs: number;
  /** Write-type system calls of the server processes in the window (/proc/<pid>/io syscw). */
  serverWrites: number;
  /** Server processes' RSS before any client connected, and the peak in the window. */
  rssIdleBytes: number;
  rssPeakBytes: number;
  /** Deliveries expected from the lines sent (sent × other members) and not received after the drain. */
  expected: number;
  missing: number;
  disconnected: number;
  lateSends: number;
  maxSendLagMs: number;
  /** Busy share of the machine just before the measurement (others' load). */
  busyBefore: number;
  stop: StopResult | null;
}

export interface IrcScenario {
  name: string;
  clients: number;
  channels: number;
  periodMs: number;
  offeredPerSecond: number;
}

/** Node B of two stopped by a signal, with `clients` of its users in a channel watched from node A. */
export interface IrcDeathRun {
  signal: 'SIGKILL' | 'SIGTERM';
  /** Wait between the last join and the signal (the runs spread it over one beat). */
  delayMs: number;
  clients: number;
  /** QUITs of node B's users the observer saw, and when (ms after the signal); null if not seen. */
  quits: number;
  firstQuitMs: number | null;
  allQuitsMs: number | null;
  /** Node B's exit, ms after the signal. */
  exitMs: number | null;
  /** One of the QUIT reasons, as the observer saw it. */
  reason: string | null;
}

export interface IrcDeath {
  nodeTimeoutMs: number;
  heartbeatMs: number;
  defaultNodeTimeoutMs: number;
  clients: number;
  runs: IrcDeathRun[];
}

/**
 * The registration storm, one kind, one run: a fixed number of clients at once, each connecting,
 * sending NICK and USER, waiting for 001, sending QUIT and waiting for the server to close, then
 * starting again (a closed loop).
 */
export interface IrcRegistrationFigures {
  server: IrcKind;
  /** Registrations in flight at once (InspIRCd gets more than IrcRegistration's concurrency). */
  concurrency: number;
  windowMs: number;
  /** 001s received in the window. */
  registrations: number;
  perSecond: number;
  /** From connect() to the 001, of the registrations whose 001 came in the window. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Server processes' CPU in the window (utime + stime, /proc). */
  serverCpuMs: number;
  loadCpuMs: number;
  loadCpuMaxMs: number;
  /** Server processes' RSS before the storm, and the peak in the window. */
  rssIdleBytes: number;
  rssPeakBytes: number;
  machineBusy: number;
  othersCpuMs: number;
  busyBefore: number;
  /** Attempts that ended without a 001 (whole storm), by reason. */
  failures: Record<string, number>;
  /** Registered clients the server had not closed within the attempt timeout after their QUIT. */
  quitTimeouts: number;
  /**
   * SYNs dropped on a full accept queue in the window (TcpExt ListenOverflows: the whole
   * machine's); each such client waits a 1 s retransmission. Null without /proc/net/netstat.
   */
  listenOverflows: number | null;
  /** With a CHATHISTORY on the way (history-join): lines replayed to the attempts done in the window. */
  replayedLines?: number;
  stop: IrcFigures['stop'];
}

export interface IrcRegistration {
  /** Registrations in flight at once, over all load-generator processes. */
  concurrency: number;
  warmupMs: number;
  windowMs: number;
  runs: IrcRegistrationFigures[];
}

/** Idle registered clients, one kind, one run: what each costs in memory and in idle CPU. */
export interface IrcIdleFigures {
  server: IrcKind;
  clients: number;
  registered: number;
  failures: Record<string, number>;
  /** Connecting and registering all of them. */
  connectMs: number;
  /** Server processes' RSS after the warm-up (before the clients) and with every client idle. */
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Heap used after a full GC, at the same two points (Node servers; null for ngircd). */
  heapBeforeBytes: number | null;
  heapAfterBytes: number | null;
  /** The idle hold, and the server's CPU in it. */
  holdMs: number;
  idleCpuMs: number;
  busyBefore: number;
  stop: IrcFigures['stop'];
}

export interface IrcIdle {
  clients: number;
  /** Clients registered and sent away before the "before" reading (the code paths are warm). */
  warmClients: number;
  holdMs: number;
  runs: IrcIdleFigures[];
}

/**
 * The never-reader, one kind, one run: the same server process and load, one window without it,
 * then one with a client that joined the first channel and reads nothing.
 */
export interface IrcNeverReaderRun {
  server: IrcKind;
  /** The server's own limit on one client's unread output (beyond the kernel's buffers); null: none. */
  sendqBytes: number | null;
  /** How long, from the first line sent after it joined, it was given to be dropped (0: not waited for). */
  holdMs: number;
  /** Everyone else's figures; the second window starts with the first line it does not read. */
  without: IrcFigures;
  with: IrcFigures;
  /** From that first line until the others saw its QUIT (null: not within holdMs), and the reason. */
  dropMs: number | null;
  droppedInWindow: boolean;
  dropReason: string | null;
}

export interface IrcNeverReader {
  scenario: string;
  windowMs: number;
  runs: IrcNeverReaderRun[];
}

/** A server process's threads over one window (bench/lib/procfs.ts threadTimes), ms. */
export interface IrcThreadTimes {
  /** The main thread (the event loop): on a CPU, and runnable but waiting for one. */
  mainRunMs: number;
  mainWaitMs: number;
  /** Every thread (the main one, libuv's pool, the store's worker thread, V8's helpers). */
  allRunMs: number;
  allWaitMs: number;
}

/**
 * The login storm, one run (ours only: the others have no accounts of their own): one server
 * with accounts in its store and the fan-out load; a window without logins, then one that starts
 * with every SASL PLAIN attempt at once.
 */
export interface IrcLoginStormRun {
  server: IrcKind;
  /** Attempts with the right password, and with a wrong one (each from an address of its own). */
  logins: number;
  wrongLogins: number;
  /** Everyone else's figures, without the storm and from its start. */
  without: IrcFigures;
  with: IrcFigures;
  threadsWithout: IrcThreadTimes;
  threadsWith: IrcThreadTimes;
  /** 903s, 904s, and the attempts that got neither (by reason). */
  succeeded: number;
  refused: number;
  failures: Record<string, number>;
  /** Attempts that went on to their 001 after CAP END. */
  welcomed: number;
  /** From the storm's start to its last 903 or 904 (null: none came). */
  stormMs: number | null;
  /** connect() → 903, of the successes. */
  loginP50Ms: number;
  loginP99Ms: number;
  loginMaxMs: number;
  /** Creating the accounts in the store before the server starts. */
  prepareMs: number;
}

export interface IrcLoginStorm {
  scenario: string;
  logins: number;
  wrongLogins: number;
  windowMs: number;
  runs: IrcLoginStormRun[];
}

/**
 * Tags and server-time (issue 19): ours, one scenario, alternating in each run between clients
 * that register plainly and clients that enable `caps` (every delivery then `@time=...;msgid=...`).
 * The plain runs are the baseline: an older build cannot run beside this one.
 */
export interface IrcTags {
  scenario: string;
  caps: string;
  /** Tagged server CPU per delivery over plain's (medians) that still passes: 1.1 for 10 %. */
  cpuTarget: number;
  plain: IrcFigures[];
  tagged: IrcFigures[];
}

/**
 * What keeping history costs (issue 20): ours, one scenario, alternating in each run between
 * `--history on` and `--history off` (historyCost.ts). `bytesPerEntry[i]`: run i's store growth
 * over its `off` store, per entry kept.
 */
export interface IrcHistoryCost {
  scenario: string;
  /** On's server CPU per delivery over off's (medians) that still passes: 1.1 for 10 %. */
  cpuTarget: number;
  on: IrcFigures[];
  off: IrcFigures[];
  /** The server's threads in each window, in the order of `on` and `off`; absent from results written before. */
  threadsOn?: IrcThreadTimes[];
  threadsOff?: IrcThreadTimes[];
  entries: number[];
  bytesPerEntry: number[];
}

/** Round trips of the join storm's watcher's PINGs, by when they were sent (ms; null: none sent). */
export interface IrcPingFigures {
  pings: number;
  /** PINGs without a PONG by the time the watcher stopped. */
  lost: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/**
 * The join storm (issue 22), one kind, one run: a fresh server, a watcher PINGing from inside the
 * channel, then `clients` clients that register, JOIN it and read everything (joinStorm.ts).
 */
export interface IrcJoinStormFigures {
  server: IrcKind;
  clients: number;
  /** Clients between connect() and their own 366 at once, over all load processes. */
  inFlight: number;
  joined: number;
  failures: Record<string, number>;
  /** From the first connect to the last client's own 366. */
  stormMs: number;
  /** connect() → the client's own 366. */
  joinP50Ms: number;
  joinP99Ms: number;
  /** Server processes' CPU from the first connect until every client had joined. */
  serverCpuMs: number;
  loadCpuMs: number;
  /** From the first connect until the clients had read everything (no line more in a poll; null: not within the hold), and the CPU until then. */
  drainedMs: number | null;
  serverCpuDrainedMs: number | null;
  loadCpuDrainedMs: number | null;
  /** Server RSS (process tree): fresh with the watcher only, right after the storm, after the hold. */
  rssBeforeBytes: number;
  rssAfterStormBytes: number;
  rssAfterHoldBytes: number;
  /** The hold after the storm, every client still connected, and the server's CPU in it. */
  holdMs: number;
  holdCpuMs: number;
  /** Lines the clients had read when all had joined and at the end of the hold; JOIN lines a member sees, all of them (n(n+1)/2 + the watcher's). */
  linesAtStorm: number;
  linesAtHold: number;
  expectedJoinLines: number;
  /** Clients still connected at the end of the hold. */
  openAtHold: number;
  /** The watcher's PINGs sent during the storm and during the hold. */
  pingStorm: IrcPingFigures;
  pingHold: IrcPingFigures;
  /** Why the watcher was closed early (null: it was not). */
  watcherClosed: string | null;
  machineBusy: number;
  busyBefore: number;
  stop: IrcFigures['stop'];
}

export interface IrcJoinStorm {
  clients: number;
  holdMs: number;
  watchPeriodMs: number;
  /** Ours' RSS growth per client after the hold over ngircd's that still passes: 2. */
  rssTarget: number;
  /** Ours' watcher PING p99 during the storm that still passes (ms). */
  pingP99TargetMs: number;
  runs: IrcJoinStormFigures[];
}

/**
 * SASL registration (issue 22): ours only (ngircd and InspIRCd have no SASL without services),
 * in each run one plain registration storm and one whose every attempt logs in with SASL PLAIN
 * to an account of the store, which goes first alternating.
 */
export interface IrcSaslRegistration {
  concurrency: number;
  accounts: number;
  warmupMs: number;
  windowMs: number;
  plain: IrcRegistrationFigures[];
  sasl: IrcRegistrationFigures[];
}

/**
 * Joining a channel with history (issue 22): ours only, one server per run with `#history`
 * holding `messages` messages; three storms on it: registration only, registration + JOIN of a
 * channel without history, and registration with `caps` + JOIN of the one with history +
 * `CHATHISTORY LATEST * latest` (our JOIN replays nothing by itself).
 */
export interface IrcHistoryJoin {
  messages: number;
  latest: number;
  caps: string;
  concurrency: number;
  warmupMs: number;
  windowMs: number;
  register: IrcRegistrationFigures[];
  join: IrcRegistrationFigures[];
  replay: IrcRegistrationFigures[];
}

/** A run with --only written into results measured earlier: what it measured, when, how, and its notes. */
export interface IrcMerge {
  /** The names given to --only: the scenarios and sections whose results it replaced. */
  measured: string[];
  startedAt: string;
  elapsedS: number;
  settings: IrcResults['settings'];
  notes: string[];
}

export interface IrcResults {
  version: number;
  startedAt: string;
  elapsedS: number;
  machine: Machine;
  settings: { runs: number; quick: boolean; warmupMs: number; windowMs: number; loadProcesses: number; textBytes: number };
  ngircd: string | null;
  inspircd: string | null;
  redis: string | null;
  kinds: IrcKind[];
  scenarios: IrcScenario[];
  runs: IrcFigures[];
  nodeDeath: IrcDeath | null;
  registration: IrcRegistration | null;
  idle: IrcIdle | null;
  neverReader: IrcNeverReader | null;
  /** Absent from results written before it was measured. */
  loginStorm?: IrcLoginStorm | null;
  /** Absent from results written before it was measured. */
  tags?: IrcTags | null;
  /** Absent from results written before it was measured. */
  history?: IrcHistoryCost | null;
  /** Absent from results written before they were measured (issue 22). */
  joinStorm?: IrcJoinStorm | null;
  saslRegistration?: IrcSaslRegistration | null;
  historyJoin?: IrcHistoryJoin | null;
  /** Runs with --only merged into these results since they were measured (run.ts mergedResults); absent when none was. */
  merged?: IrcMerge[];
  /** Each single-process kind's listen backlog (`ss -ltn`), read when it first started. */
  listenBacklogs: Partial<Record<IrcKind, number | null>>;
  notes: string[];
}


/** One more fan-out window under V8's profiler (--profile): printed, not kept in the JSON. */
export interface IrcProfile {
  kind: IrcKind;
  scenario: string;
  deliveries: number;
  /** One summary per server process (two for the nodes on Redis). */
  processes: ProfileSummary[];
}
