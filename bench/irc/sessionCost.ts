// The price of a session, for run.ts (`npm run bench:irc -- --only registration,idle`):
// two measurements of what one client costs a server when it is not chatting, for ours, the bare
// relay, ngircd and InspIRCd, each server in its own process and the clients in the harness's
// load-generator processes (loadgen.ts holds their side of it).
//   registration  a storm: registrationConcurrency clients at once, each connecting, sending NICK
//                 and USER, waiting for 001, sending QUIT and waiting for the server to close
//                 (the server closes first, so the clients' ports do not pile up in TIME_WAIT),
//                 then starting again: a closed loop. Over a window after a warm-up:
//                 registrations/s, connect → 001 p50/p99, the server's CPU per registration and
//                 the load generators' CPU (both from /proc, process trees).
//   idle          N clients registered (end of MOTD seen) and idle, answering PINGs: the server's
//                 RSS growth per client (/proc, process tree) and, for the Node servers, heap used
//                 after a full GC (heapProbe.ts, preloaded), both from a reading taken
//                 after a warm-up round of clients has come and gone; and its CPU while they idle.

import { listenOverflows, treeCpuMs, treeRssBytes } from '../lib/procfs.js';
import type { StopResult } from '../lib/spawn.js';
import { histogramPercentile, mergeHistograms, tally } from '../lib/stats.js';
import { monoUs, sleep, until, withTimeout } from '../lib/wait.js';
import type { StormRequest, StormResult, StormSession } from './loadgen.js';
import { windowCpu, type IrcBench } from './measure.js';
import { isNodeKind, type PeerOptions, type UnderTest } from './peers.js';
import type { IrcIdleFigures, IrcKind, IrcRegistrationFigures } from './results.js';

/** Registrations in flight at once in the storm, over all load-generator processes. */
export const registrationConcurrency = 50;
/**
 * InspIRCd 3 completes a registration only on its once-a-second tick
 * (UserManager::DoBackgroundUserStuff), so 50 in flight make 50 registrations a second and a CPU
 * figure of a few /proc ticks: it gets 2,000 at once (under its listen backlog of 4,096), each
 * second's wave completing together at the tick.
 */
const stormConcurrency = (kind: IrcKind): number => (kind === 'inspircd' ? 2_000 : registrationConcurrency);
/**
 * One attempt (connect → 001 → QUIT → the server's close) longer than this is cut: before the
 * 001 it counts as failed, after it as a server that did not close. Keeps a stuck server from
 * stalling the closed loop.
 */
const attemptTimeoutMs = 10_000;
/** The storm goes on this long past the window, so that its last moments are steady too. */
const stormTailMs = 300;

/**
 * Idle clients by default, and at most (--idle-clients). 10,000 take a few seconds to register on
 * a 2-core machine and make the per-client figures steadier than 2,000 (V8 commits heap in
 * pages); the most stays under the servers' and load generators' descriptor limits (20,000 here).
 */
export const defaultIdleClients = 10_000;
export const maxIdleClients = 15_000;
/**
 * Idle clients registering at once, over all load-generator processes. ngircd listens with a
 * backlog of 10 (compiled in; `ss -ltn` shows it): more connects in flight than that overflow its
 * accept queue, and each dropped SYN waits a 1 s retransmission. 8 keeps every server clear of
 * it, so that the connect time compares the servers, not the backlog. InspIRCd registers once a
 * second (see stormConcurrency): 8 at once would take 20 minutes for 10,000; it gets 1,000.
 */
const idleInFlight = (kind: IrcKind): number => (kind === 'inspircd' ? 1_000 : 8);
/** Clients that register and leave before the "before" reading: compiled code and pools are warm. */
export const idleWarmClients = 200;
/** After the warm-up clients have gone, before the "before" reading. */
const idleSettleMs = 500;
/** A full GC of a few hundred MB takes well under this. */
const heapProbeTimeoutMs = 10_000;
/** Margin on a load generator's answer past the work's own bound. */
const answerMarginMs = 15_000;

export interface StormSettings {
  warmupMs: number;
  windowMs: number;
}

export interface IdleSettings {
  clients: number;
  holdMs: number;
}

/** The heap probe from the benchmark's side: the flags that preload it, and how to ask it. */
interface HeapProbe {
  readonly nodeFlags: string[];
  /** Every stdout line of the server after its port: the probe's answers come that way. */
  onLine(line: string): void;
  /** Heap used after a full GC in process `pid` (the server's root), bytes. */
  read(pid: number): Promise<number>;
}

const heapProbeUrl = new URL('./heapProbe.js', import.meta.url);

function heapProbe(): HeapProbe {
  let answer: ((line: string) => void) | null = null;
  return {
    nodeFlags: ['--expose-gc', `--import=${heapProbeUrl.href}`],
    onLine(line) {
      if (!line.startsWith('bench.heap ') || !answer) return;
      const settle = answer;
      answer = null;
      settle(line);
    },
    async read(pid) {
      const line = new Promise<string>((resolve) => (answer = resolve));
      process.kill(pid, 'SIGUSR2');
      const text = await withTimeout(line, heapProbeTimeoutMs, `heap probe of ${pid}`);
      const m = /^bench\.heap (\d+) \d+$/.exec(text);
      if (!m) throw new Error(`heap probe of ${pid}: ${text}`);
      return Number(m[1]);
    },
  };
}

/** What a storm's attempts do besides registering (loadgen.ts StormSession), for load process `i` of `n`. */
export type SessionFor = (i: number, concurrency: number) => StormSession;

export interface RegistrationOptions {
  /** The server's options (ours' --data-dir with its accounts). */
  peer?: PeerOptions;
  session?: SessionFor;
}

/** One storm against one server of `kind`, started for it and stopped after. */
export async function measureRegistration(h: IrcBench, kind: IrcKind, s: StormSettings, o: RegistrationOptions = {}): Promise<IrcRegistrationFigures> {
  await h.loadProcesses();
  const busyBefore = await h.awaitQuiet();
  const server = await h.startServer(kind, o.peer);
  let stop: StopResult | null = null;
  try {
    const figures = await stormWindow(h, kind, server, s, o.session, busyBefore);
    stop = await server.stop();
    return { ...figures, stop };
  } finally {
    if (stop === null) await server.stop().catch(() => null);
  }
}

/** One storm (a warm-up, the window) against a running server; its figures without a stop. */
export async function stormWindow(h: IrcBench, kind: IrcKind, server: UnderTest, s: StormSettings, session: SessionFor | undefined, busyBefore: number): Promise<IrcRegistrationFigures> {
  const loads = await h.loadProcesses();
  const serverPids = server.pids();
  const rssIdleBytes = treeRssBytes(serverPids);
  const startUs = monoUs() + 300_000;
  const windowStartUs = startUs + s.warmupMs * 1000;
  const windowEndUs = windowStartUs + s.windowMs * 1000;
  const endUs = windowEndUs + stormTailMs * 1000;
  const storms = Promise.all(
    loads.map((l, i) => {
      // The slots split as evenly as they go: 50 over 2 processes is 25 each.
      const concurrency = Math.floor(stormConcurrency(kind) / loads.length) + (i < stormConcurrency(kind) % loads.length ? 1 : 0);
      const body: StormRequest = {
        type: 'storm',
        port: server.ports[0]!,
        nickPrefix: `r${i}n`,
        concurrency,
        startUs,
        windowStartUs,
        windowEndUs,
        endUs,
        attemptTimeoutMs,
        ...(session && { session: session(i, concurrency) }),
      };
      return l.request<StormResult>(body, (endUs - monoUs()) / 1000 + attemptTimeoutMs + answerMarginMs);
    }),
  );
  // Awaited below; a failure before that must not surface as an unhandled rejection.
  storms.catch(() => undefined);
  await until(windowStartUs);
  const a = h.readEdge(serverPids);
  const listen0 = listenOverflows();
  const rssPeakBytes = await h.rssPeakUntil(serverPids, windowEndUs);
  const b = h.readEdge(serverPids);
  const listen1 = listenOverflows();
  const results = await storms;
  const histogram = mergeHistograms(results.map((r) => r.histogram));
  const failures: Record<string, number> = {};
  for (const r of results) for (const [why, n] of Object.entries(r.failures)) tally(failures, why, n);
  const registrations = results.reduce((sum, r) => sum + r.registered, 0);
  const { serverCpuMs, loadCpuMs, loadCpuMaxMs, machineBusy, othersCpuMs } = windowCpu(a, b);
  return {
    server: kind,
    concurrency: stormConcurrency(kind),
    windowMs: s.windowMs,
    registrations,
    perSecond: (registrations * 1000) / s.windowMs,
    p50Ms: histogramPercentile(histogram, 50) / 1000,
    p99Ms: histogramPercentile(histogram, 99) / 1000,
    maxMs: Math.max(...results.map((r) => r.maxUs)) / 1000,
    serverCpuMs,
    loadCpuMs,
    loadCpuMaxMs,
    rssIdleBytes,
    rssPeakBytes,
    machineBusy,
    othersCpuMs,
    busyBefore,
    failures,
    quitTimeouts: results.reduce((sum, r) => sum + r.quitTimeouts, 0),
    listenOverflows: listen0 !== null && listen1 !== null ? listen1 - listen0 : null,
    ...(session && { replayedLines: results.reduce((sum, r) => sum + r.replayedLines, 0) }),
    stop: null,
  };
}

/** Idle clients on one server of `kind`: memory per client and idle CPU. */
export async function measureIdle(h: IrcBench, kind: IrcKind, s: IdleSettings): Promise<IrcIdleFigures> {
  const perProcess = Math.max(1, Math.floor(idleInFlight(kind) / (await h.loadProcesses()).length));
  const busyBefore = await h.awaitQuiet();
  // The C servers: RSS only.
  const probe = isNodeKind(kind) ? heapProbe() : null;
  const server = await h.startServer(kind, probe ? { nodeFlags: probe.nodeFlags, onLine: (line) => probe.onLine(line) } : {});
  const port = server.ports[0]!;
  let stop: StopResult | null = null;
  try {
    const root = server.pids()[0]!;
    const warm = await h.connectRegistered(port, idleWarmClients, 'w', perProcess);
    if (warm.joined === 0) throw new Error(`no warm-up client registered (${JSON.stringify(warm.failures)})`);
    await h.quitAll();
    await sleep(idleSettleMs);
    const heapBeforeBytes = probe ? await probe.read(root) : null;
    const rssBeforeBytes = treeRssBytes(server.pids());
    const idle = await h.connectRegistered(port, s.clients, 'i', perProcess);
    if (idle.joined === 0) throw new Error(`no client registered (${JSON.stringify(idle.failures)})`);
    const cpu0 = treeCpuMs(server.pids());
    await sleep(s.holdMs);
    const idleCpuMs = treeCpuMs(server.pids()) - cpu0;
    const heapAfterBytes = probe ? await probe.read(root) : null;
    const rssAfterBytes = treeRssBytes(server.pids());
    await h.quitAll();
    const figures: IrcIdleFigures = {
      server: kind,
      clients: s.clients,
      registered: idle.joined,
      failures: idle.failures,
      connectMs: idle.ms,
      rssBeforeBytes,
      rssAfterBytes,
      heapBeforeBytes,
      heapAfterBytes,
      holdMs: s.holdMs,
      idleCpuMs,
      busyBefore,
      stop: null,
    };
    stop = await server.stop();
    return { ...figures, stop };
  } finally {
    if (stop === null) {
      await h.quitAll().catch(() => undefined);
      await server.stop().catch(() => null);
    }
  }
}
