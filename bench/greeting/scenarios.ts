// The greeting benchmark's measurements. Each runs one scenario once against one server, in fresh
// server processes, with the clients in load-generator processes, and returns that run's figures;
// run.ts repeats them and the report (bench/report/greeting.ts) takes the medians.
//
//   handshakeRound   closed-loop handshakes at each concurrency against every server, then the
//                    same load with one silent client connected first
//   idleOnce         N clients greeted and held; memory before and after, then a shutdown
//   churnOnce        100,000 handshakes against ours; heap and RSS after a GC, before and after
//   profile          ours (or bare) under load with V8's CPU profiler, summarised by where the time went

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { defaultConfig } from '../../src/core/config.js';
import { profileIntervalUs, summariseProfile, type CpuProfile, type ProfileSummary } from '../lib/cpuProfile.js';
import { processFds, treeRssBytes } from '../lib/procfs.js';
import { rotate } from '../lib/stats.js';
import { QuietWait, sharedNowMs, sleep } from '../lib/wait.js';
import { forkLoadGenerator, type LoadGenerator, type ProtocolText } from './loadgen.js';
import type { ChurnRun, HandshakeRun, IdleRun, MemorySample, ServerName, Settings } from './results.js';
import { forkServer, startCluster, startFreshCli, startServerUnderTest, type ClusterServer, type ServerUnderTest } from './servers.js';

const protocolText: ProtocolText = { greeting: defaultConfig.greeting, reply: 'hello from the benchmark' };

/** Source addresses of the closed-loop clients: several spread their 4-tuples (and TIME_WAITs). */
const handshakeAddresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
/**
 * Idle clients of load-generator process i connect from 127.0.(10 + i).1, .2, ...: at most
 * `clientsPerAddress` per address, because binding a source port gets slow (kernel time grows
 * much faster than the count) once one address holds several thousand.
 */
const clientsPerAddress = 2_500;
const idleAddresses = (process: number, clients: number): string[] =>
  Array.from({ length: Math.ceil(clients / clientsPerAddress) }, (_, j) => `127.0.${10 + process}.${j + 1}`);
/** In-flight clients get this long to finish after a window before they are destroyed. */
const drainMs = 2_000;
/** Ungreeted idle clients per load-generator process, at most (well under the listen backlog). */
const idleMaxPending = 200;
const idleTimeoutMs = 180_000;
/** Pause between the last greeting and the memory reading, so pending callbacks have run. */
const idleSettleMs = 750;
/** Total time the whole benchmark may spend waiting for a quiet machine. */
export const quietBudgetMs = 90_000;

/** Closed-loop load on a fresh server process before its first measured window. */
const processWarmupMs = 2_000;

export interface HandshakeSeries {
  byConcurrency: Record<string, HandshakeRun>;
  /** The silent-client concurrency again, just before the silent window, without it. */
  silentWithout: HandshakeRun | null;
  silent: HandshakeRun | null;
}

export class Bench {
  private readonly loadgens: LoadGenerator[] = [];
  private readonly quiet = new QuietWait(quietBudgetMs);

  constructor(
    readonly settings: Settings,
    readonly log: (line: string) => void,
  ) {}

  /** The first `n` load-generator processes, forked on first use and kept for the whole run. */
  async loadGenerators(n: number): Promise<LoadGenerator[]> {
    while (this.loadgens.length < n) this.loadgens.push(await forkLoadGenerator());
    return this.loadgens.slice(0, n);
  }

  async close(): Promise<void> {
    await Promise.all(this.loadgens.map((lg) => lg.stop()));
    this.loadgens.length = 0;
  }

  /** Time spent waiting for other processes to leave the machine quiet. */
  get quietWaitedMs(): number {
    return this.quiet.waitedMs;
  }

  /** Waits (within a budget for the whole run) for a quiet machine; the last sample's busy share. */
  awaitQuiet(): Promise<number> {
    return this.quiet.awaitQuiet();
  }

  // --- Handshakes ------------------------------------------------------------------------

  /**
   * One round of the handshake scenarios. Every server gets one fresh process for the round and
   * a warm-up; then, for each concurrency, each server's window runs in turn, back to back, so
   * that the figures compared with each other were measured within seconds of each other (this
   * machine's speed drifts over minutes). Last, at the silent-client concurrency, each server
   * gets two more windows: without, then with the silent client.
   */
  async handshakeRound(names: readonly ServerName[], round: number): Promise<Map<ServerName, HandshakeSeries>> {
    const [lg] = await this.loadGenerators(1);
    const servers = new Map<ServerName, ServerUnderTest>();
    const out = new Map<ServerName, HandshakeSeries>();
    try {
      for (const name of names) servers.set(name, await startServerUnderTest(name));
      for (const [name, server] of servers) {
        // Long enough for V8 to optimise the server's hot paths before its first window (at
        // concurrency 1, a window's own warm-up is only a few thousand handshakes).
        await lg!.closedLoop({
          port: server.port,
          concurrency: 100,
          warmupMs: processWarmupMs,
          measureMs: 0,
          localAddresses: handshakeAddresses,
          text: protocolText,
          silent: false,
          serverPids: [],
          drainMs,
        });
        out.set(name, { byConcurrency: {}, silentWithout: null, silent: null });
      }
      const { concurrencies, silentConcurrency } = this.settings;
      for (const [k, concurrency] of concurrencies.entries()) {
        for (const name of rotate(names, round + k)) {
          out.get(name)!.byConcurrency[String(concurrency)] = await this.window(lg!, servers.get(name)!, concurrency, false);
        }
      }
      for (const name of rotate(names, round)) {
        const series = out.get(name)!;
        series.silentWithout = await this.window(lg!, servers.get(name)!, silentConcurrency, false);
        series.silent = await this.window(lg!, servers.get(name)!, silentConcurrency, true);
      }
      return out;
    } finally {
      for (const server of servers.values()) await server.stop();
    }
  }

  private async window(lg: LoadGenerator, server: ServerUnderTest, concurrency: number, silent: boolean): Promise<HandshakeRun> {
    const busyBefore = await this.awaitQuiet();
    const result = await lg.closedLoop({
      port: server.port,
      concurrency,
      warmupMs: this.settings.warmupMs,
      measureMs: this.settings.measureMs,
      localAddresses: handshakeAddresses,
      text: protocolText,
      silent,
      serverPids: server.pids(),
      drainMs,
    });
    return { ...result, busyBefore };
  }

  // --- Idle ------------------------------------------------------------------------------

  /**
   * `single`: ours or bare forked, warmed up first. `cluster`: our CLI with workers, or the bare
   * cluster. `fresh`: our CLI exactly as `npm start` runs it (or bare node:net), measured from
   * the moment it listens, with no warm-up: what a new user sees.
   */
  async idleOnce(kind: 'ours' | 'bare', mode: 'single' | 'cluster' | 'fresh', clients: number): Promise<IdleRun> {
    const { settings } = this;
    const loadProcesses = Math.ceil(clients / settings.clientsPerLoadProcess);
    const loadgens = await this.loadGenerators(loadProcesses);
    const server: ServerUnderTest =
      mode === 'cluster'
        ? await startCluster(kind, settings.clusterWorkers, settings.shutdownGraceMs)
        : mode === 'fresh' && kind === 'ours'
          ? await startFreshCli()
          : await startServerUnderTest(kind);
    const graceMs = mode === 'cluster' ? settings.shutdownGraceMs : defaultConfig.shutdownGraceMs;
    let stopped = false;
    try {
      // A short warm-up so that first-use allocations are in the "before" figure, not per connection.
      if (mode !== 'fresh') await loadgens[0]!.closedLoop({
        port: server.port,
        concurrency: 10,
        warmupMs: 0,
        measureMs: 500,
        localAddresses: handshakeAddresses,
        text: protocolText,
        silent: false,
        serverPids: [],
        drainMs,
      });
      await sleep(300);
      const before = await this.memoryOf(server);

      const shares = loadgens.map((_, i) => Math.floor(clients / loadProcesses) + (i < clients % loadProcesses ? 1 : 0));
      const opened = await Promise.all(
        loadgens.map((lg, i) =>
          lg.openIdle({
            port: server.port,
            clients: shares[i]!,
            localAddresses: idleAddresses(i, shares[i]!),
            maxPending: idleMaxPending,
            timeoutMs: idleTimeoutMs,
            text: protocolText,
          }),
        ),
      );
      await sleep(idleSettleMs);
      const after = await this.memoryOf(server);
      const pids = server.pids();
      const maxServerFds = Math.max(...pids.map((pid) => processFds(pid).total));

      // Shutdown: the server is asked to stop while every client is still connected.
      const t0 = sharedNowMs();
      const [stop, closes] = await Promise.all([
        server.stop(),
        Promise.all(loadgens.map((lg) => lg.awaitClose(graceMs + 10_000))),
      ]);
      stopped = true;
      const sum = (pick: (c: (typeof closes)[number]) => number): number => closes.reduce((a, c) => a + pick(c), 0);
      const failures: Record<string, number> = {};
      for (const o of opened) for (const [k, v] of Object.entries(o.failures)) failures[k] = (failures[k] ?? 0) + v;
      const log = 'log' in server ? (server as ClusterServer).log : null;
      return {
        clients,
        greeted: opened.reduce((a, o) => a + o.greeted, 0),
        failures,
        loadProcesses,
        acceptMs: Math.max(...opened.map((o) => o.lastGreetingAt)) - Math.min(...opened.map((o) => o.firstConnectAt)),
        serverProcesses: pids.length,
        maxServerFds,
        rssBeforeBytes: before.rssBytes,
        rssAfterBytes: after.rssBytes,
        heapUsedBeforeBytes: before.heapUsedBytes,
        heapUsedAfterBytes: after.heapUsedBytes,
        heapTotalBeforeBytes: before.heapTotalBytes,
        heapTotalAfterBytes: after.heapTotalBytes,
        liveAtMeasure: after.live,
        loadCpuMs: opened.reduce((a, o) => a + o.loadCpuMs, 0),
        // Every process read the same machine-wide counter over overlapping spans: the largest.
        listenOverflows: Math.max(...opened.map((o) => o.listenOverflows)),
        shutdown: {
          stopMs: stop.ms,
          allClosedMs: Math.max(...closes.map((c) => c.lastCloseAt)) - t0,
          exitCode: stop.exitCode,
          killed: stop.killed,
          closedByServer: sum((c) => c.closedByServer),
          errored: sum((c) => c.errored),
          stillOpen: sum((c) => c.stillOpen),
          toldShuttingDown: sum((c) => c.toldShuttingDown),
          forcedStops: log ? log.forcedStops : Number.NaN,
          workersStoppedMs: log ? log.lastWorkerStoppedAt - t0 : Number.NaN,
          primaryStoppedMs: log ? log.primaryStoppedAt - t0 : Number.NaN,
          graceMs,
        },
      };
    } finally {
      if (!stopped) await server.stop();
      await Promise.all(loadgens.map((lg) => lg.release(10_000)));
    }
  }

  /** RSS over the server's process tree; heap too (after full GCs) where the server can tell. */
  private async memoryOf(server: ServerUnderTest): Promise<MemorySample> {
    const heap = server.memory ? await server.memory() : null;
    return {
      rssBytes: treeRssBytes(server.pids()),
      heapUsedBytes: heap ? heap.usage.heapUsed : Number.NaN,
      heapTotalBytes: heap ? heap.usage.heapTotal : Number.NaN,
      externalBytes: heap ? heap.usage.external : Number.NaN,
      live: heap ? heap.live : Number.NaN,
    };
  }

  // --- Churn -----------------------------------------------------------------------------

  /** `churnCycles` handshakes against ours in two halves, memory after a GC around each. */
  async churnOnce(): Promise<ChurnRun> {
    const { settings } = this;
    const [lg] = await this.loadGenerators(1);
    const server = await startServerUnderTest('ours');
    const half = Math.floor(settings.churnCycles / 2);
    const loop = (cycles: number): ReturnType<LoadGenerator['closedLoop']> =>
      lg!.closedLoop({
        port: server.port,
        concurrency: settings.churnConcurrency,
        warmupMs: 0,
        measureMs: 600_000,
        cycles,
        localAddresses: handshakeAddresses,
        text: protocolText,
        silent: false,
        serverPids: server.pids(),
        drainMs,
      });
    const settled = async (): Promise<MemorySample> => {
      await sleep(300);
      return this.memoryOf(server);
    };
    try {
      await loop(Math.min(2_000, half));
      const before = await settled();
      const first = await loop(half);
      const mid = await settled();
      const second = await loop(settings.churnCycles - half);
      const after = await settled();
      const halfOf = (r: Awaited<ReturnType<LoadGenerator['closedLoop']>>): ChurnRun['halves'][number] => ({
        completed: r.completed,
        failures: r.failures,
        windowMs: r.windowMs,
        serverCpuMs: r.serverCpuMs,
      });
      return {
        cycles: settings.churnCycles,
        concurrency: settings.churnConcurrency,
        halves: [halfOf(first), halfOf(second)],
        before,
        mid,
        after,
      };
    } finally {
      await server.stop();
    }
  }

  // --- Profile ---------------------------------------------------------------------------

  /** A Node server at concurrency 100 under V8's sampling profiler (one run; where the CPU goes). */
  async profile(kind: 'ours' | 'bare'): Promise<ProfileSummary> {
    const [lg] = await this.loadGenerators(1);
    const dir = mkdtempSync(`${os.tmpdir()}/bench-profile-`);
    try {
      const forked = await forkServer(kind, [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        `--cpu-prof-interval=${profileIntervalUs}`,
      ]);
      let window: { startUs: number; endUs: number; handshakes: number } | null = null;
      try {
        await this.awaitQuiet();
        const r = await lg!.closedLoop({
          port: forked.port,
          concurrency: 100,
          warmupMs: this.settings.warmupMs,
          measureMs: this.settings.measureMs,
          localAddresses: handshakeAddresses,
          text: protocolText,
          silent: false,
          serverPids: [forked.pid],
          drainMs,
        });
        window = { startUs: r.windowStartUs, endUs: r.windowEndUs, handshakes: r.completed };
      } finally {
        await forked.stop();
      }
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error('the profiled server wrote no .cpuprofile');
      const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as CpuProfile;
      if (!window) throw new Error('no profiled window');
      return summariseProfile(profile, window);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
