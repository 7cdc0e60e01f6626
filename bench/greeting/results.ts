// The shape of the greeting benchmark's results, as measured (scenarios.ts, floor.ts), kept as
// JSON (docs/bench-results.json) and read back by `npm run bench -- --from-json` to regenerate the
// report without measuring again. Every figure is per run; the report takes the medians.

import type { ProfileSummary } from '../lib/cpuProfile.js';
import type { Machine } from '../lib/machine.js';
import type { ClosedLoopResult, Failures } from './loadgen.js';

export const resultsVersion = 1;

export type ServerName = 'ours' | 'bare' | 'python';
export const serverLabels: Record<ServerName, string> = {
  ours: 'ours (xstate)',
  bare: 'bare node:net',
  python: 'python blocking',
};

export interface Settings {
  runs: number;
  quick: boolean;
  warmupMs: number;
  measureMs: number;
  concurrencies: number[];
  silentConcurrency: number;
  idleSingleClients: number;
  /** Idle clients on a freshly started server (`npm start`, no warm-up). */
  idleFreshClients: number;
  idleClusterClients: number;
  clusterWorkers: number;
  /** Largest number of idle clients one load-generator process holds. */
  clientsPerLoadProcess: number;
  churnCycles: number;
  churnConcurrency: number;
  shutdownGraceMs: number;
  pythonClientTimeoutS: number;
  listenBacklog: number;
}

/** One measured window of the closed loop, plus how busy the rest of the machine was. */
export interface HandshakeRun extends ClosedLoopResult {
  /** Machine busy share in a short sample just before the window (0..1 of all CPUs). */
  busyBefore: number;
}

export interface ShutdownFigures {
  /** Stop request to the exit of the server's root process. */
  stopMs: number;
  /** Stop request to the last client's close. */
  allClosedMs: number;
  exitCode: number | null;
  killed: boolean;
  closedByServer: number;
  errored: number;
  stillOpen: number;
  toldShuttingDown: number;
  /** Log lines that said a stop was forced (our CLI only; NaN where there is no log). */
  forcedStops: number;
  /** Stop request to the last worker's `server.stopped` and to `primary.stopped` (our CLI only, else NaN). */
  workersStoppedMs: number;
  primaryStoppedMs: number;
  graceMs: number;
}

export interface IdleRun {
  clients: number;
  greeted: number;
  failures: Failures;
  loadProcesses: number;
  /** First connect() to the last greeting, over every load-generator process. */
  acceptMs: number;
  serverProcesses: number;
  /** Most open descriptors held by one server process, with every client connected. */
  maxServerFds: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Single-process servers only (after full GCs); NaN otherwise. */
  heapUsedBeforeBytes: number;
  heapUsedAfterBytes: number;
  heapTotalBeforeBytes: number;
  heapTotalAfterBytes: number;
  /** Connections the server reported live (single-process servers), or NaN. */
  liveAtMeasure: number;
  loadCpuMs: number;
  /** SYNs dropped on a full accept queue while the clients connected (the counter is machine-wide). */
  listenOverflows: number;
  shutdown: ShutdownFigures;
}

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  live: number;
}

export interface ChurnRun {
  cycles: number;
  concurrency: number;
  /** Each half: completed, failures, wall time. */
  halves: Array<{ completed: number; failures: Failures; windowMs: number; serverCpuMs: number }>;
  before: MemorySample;
  mid: MemorySample;
  after: MemorySample;
}

export interface FloorResult {
  lives: number;
  rounds: number;
  /** CPU µs for one connection's life (start, written, a reply, close) on the lean runner. */
  leanLifeUs: number;
  /** The same on XState's createActor. */
  actorLifeUs: number;
  /** CPU µs for one server-machine step (sessions.changed). */
  serverStepUs: number;
}

export interface BenchResults {
  version: number;
  startedAt: string;
  elapsedS: number;
  machine: Machine;
  settings: Settings;
  /** Why something was not measured, and anything else the reader must know. */
  notes: string[];
  servers: ServerName[];
  /** handshake[server][concurrency] = runs. */
  handshake: Partial<Record<ServerName, Record<string, HandshakeRun[]>>>;
  /** The silent-client concurrency with the silent client, and without it just before. */
  silent: Partial<Record<ServerName, HandshakeRun[]>>;
  silentWithout: Partial<Record<ServerName, HandshakeRun[]>>;
  idleSingle: Partial<Record<'ours' | 'bare', IdleRun[]>>;
  idleCluster: Partial<Record<'ours' | 'bare', IdleRun[]>>;
  /** Idle clients on a freshly started server: our CLI as `npm start` runs it, and bare node:net. */
  idleFresh: Partial<Record<'ours' | 'bare', IdleRun[]>>;
  churn: ChurnRun[];
  /** The machines alone, no sockets (floor.ts). */
  floor?: FloorResult;
  /** Ours and bare node:net at concurrency 100 under the CPU profiler (one run each). */
  profile: Partial<Record<'ours' | 'bare', ProfileSummary>>;
}
