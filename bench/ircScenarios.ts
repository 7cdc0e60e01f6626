// The price of a session, for bench/ircFanout.ts (`npm run bench:irc -- --only registration,idle`):
// two measurements of what one client costs a server when it is not chatting, for ours, the bare
// relay and ngircd, each server in its own process and the clients in the fan-out's
// load-generator processes.
//   registration  a storm: registrationConcurrency clients at once, each connecting, sending NICK
//                 and USER, waiting for 001, sending QUIT and waiting for the server to close
//                 (the server closes first, so the clients' ports do not pile up in TIME_WAIT),
//                 then starting again: a closed loop. Over a window after a warm-up:
//                 registrations/s, connect → 001 p50/p99, the server's CPU per registration and
//                 the load generators' CPU (both from /proc, process trees).
//   idle          N clients registered (end of MOTD seen) and idle, answering PINGs: the server's
//                 RSS growth per client (/proc, process tree) and, for the Node servers, heap used
//                 after a full GC (bench/ircHeapProbe.ts, preloaded), both from a reading taken
//                 after a warm-up round of clients has come and gone; and its CPU while they idle.
// This file holds the load generator's side of the storm (run in the load-generator process) and
// the parent's side of both; it reaches the load generators and the servers through a
// ScenarioHarness that bench/ircFanout.ts provides, so it imports nothing from it.

import net from 'node:net';
import { readListenCounters } from './kernelCounters.js';
import { cpuTickMs, machineCpuTicks, treeCpuMs, treeRssBytes } from './procfs.js';
import {
  ircIdleTable,
  ircLabels as labels,
  ircRegistrationTable,
  textTable,
  type IrcIdle,
  type IrcIdleFigures,
  type IrcKind,
  type IrcRegistration,
  type IrcRegistrationFigures,
} from './report.js';
import type { StopResult } from './servers.js';
import { bucketOf, histogramPairs, histogramPercentile, histogramSize, mergeHistograms, monoUs } from './ircTiming.js';
import { sleep, withTimeout } from './wait.js';

/** Everything listens and connects on loopback only (as in bench/ircFanout.ts). */
const host = '127.0.0.1';

/** Registrations in flight at once in the storm, over all load-generator processes. */
export const registrationConcurrency = 50;
/**
 * One attempt (connect → 001 → QUIT → the server's close) longer than this is cut: before the
 * 001 it counts as failed, after it as a server that did not close. Keeps a stuck server from
 * stalling the closed loop.
 */
const attemptTimeoutMs = 10_000;
/** An attempt that failed waits this long before its slot starts again (no spin on a dead server). */
const failureBackoffMs = 50;
/** The storm goes on this long past the window, so that its last moments are steady too. */
const stormTailMs = 300;
/** A line longer than this before the 001 ends the attempt (it is not IRC). */
const maxLineBytes = 8 * 1024;
/** How often the server's RSS is read in the storm's window (the peak is reported). */
const rssSampleMs = 500;

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
 * it, so that the connect time compares the servers, not the backlog.
 */
const idleInFlight = 8;
/** Clients that register and leave before the "before" reading: compiled code and pools are warm. */
export const idleWarmClients = 200;
/** After the warm-up clients have gone, before the "before" reading. */
const idleSettleMs = 500;
/** A full GC of a few hundred MB takes well under this. */
const heapProbeTimeoutMs = 10_000;
/** Margin on a load generator's answer past the work's own bound. */
const answerMarginMs = 15_000;

// --- Load-generator side: the storm -------------------------------------------------------

export interface StormRequest {
  type: 'storm';
  id: number;
  port: number;
  /** Nicks are `<nickPrefix><n>`, n counting up: unique across the load processes. */
  nickPrefix: string;
  /** Slots of this process: each one a closed loop of attempts. */
  concurrency: number;
  /** On the shared monotonic clock (ircTiming's monoUs): the first attempts, the window, and the last. */
  startUs: number;
  windowStartUs: number;
  windowEndUs: number;
  endUs: number;
  attemptTimeoutMs: number;
}

export interface StormResult {
  /** 001s received in the window, and in the whole storm. */
  registered: number;
  registeredTotal: number;
  /** connect() → 001 of those in the window, as [bucket, count] pairs (µs). */
  histogram: Array<[number, number]>;
  maxUs: number;
  /** Attempts without a 001, by reason; registered clients the server did not close in time. */
  failures: Record<string, number>;
  quitTimeouts: number;
}

function count(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

/** The storm, in a load-generator process; resolves when every slot has finished its last attempt. */
export async function registrationStorm(req: StormRequest): Promise<StormResult> {
  const histogram = new Uint32Array(histogramSize);
  const failures: Record<string, number> = {};
  let registered = 0;
  let registeredTotal = 0;
  let quitTimeouts = 0;
  let maxUs = 0;
  let seq = 0;
  await sleep(Math.max(0, (req.startUs - monoUs()) / 1000));
  return new Promise((resolve) => {
    let slots = req.concurrency;
    const result = (): StormResult => ({ registered, registeredTotal, histogram: histogramPairs(histogram), maxUs, failures, quitTimeouts });
    const slotDone = (): void => {
      slots -= 1;
      if (slots === 0) resolve(result());
    };
    if (slots === 0) resolve(result());
    const attempt = (): void => {
      if (monoUs() >= req.endUs) {
        slotDone();
        return;
      }
      const t0 = monoUs();
      const nick = `${req.nickPrefix}${seq++}`;
      const socket = net.connect({ host, port: req.port });
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      let welcomed = false;
      let failure: string | null = null;
      let partial = '';
      const timer = setTimeout(() => {
        if (welcomed) quitTimeouts += 1;
        else failure ??= 'timeout';
        socket.destroy();
      }, req.attemptTimeoutMs);
      const takeLine = (line: string): void => {
        if (line.startsWith('PING')) {
          socket.write(`PONG${line.slice(4)}\r\n`);
          return;
        }
        if (line.startsWith('ERROR')) {
          failure ??= 'serverError';
          return;
        }
        const numeric = line.split(' ', 3)[1];
        if (numeric === '001') {
          welcomed = true;
          const nowUs = monoUs();
          registeredTotal += 1;
          if (nowUs >= req.windowStartUs && nowUs < req.windowEndUs) {
            registered += 1;
            histogram[bucketOf(nowUs - t0)]! += 1;
            maxUs = Math.max(maxUs, nowUs - t0);
          }
          // The rest of the welcome burst is not read; the server closes after the QUIT.
          socket.write('QUIT\r\n');
        } else if (numeric !== undefined && /^4\d\d$/.test(numeric)) {
          failure ??= `reply${numeric}`;
          socket.destroy();
        }
      };
      socket.on('connect', () => socket.write(`NICK ${nick}\r\nUSER u 0 * :irc registration bench\r\n`));
      socket.on('data', (chunk: string) => {
        if (welcomed) return;
        partial += chunk;
        for (let lf = partial.indexOf('\n'); lf !== -1 && !welcomed; lf = partial.indexOf('\n')) {
          takeLine(partial.slice(0, lf).replace(/\r$/, ''));
          partial = partial.slice(lf + 1);
        }
        if (partial.length > maxLineBytes) {
          failure ??= 'lineTooLong';
          socket.destroy();
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        failure ??= err.code ?? 'UNKNOWN';
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (welcomed) setImmediate(attempt);
        else {
          count(failures, failure ?? 'closed');
          setTimeout(attempt, failureBackoffMs);
        }
      });
    };
    for (let i = 0; i < req.concurrency; i += 1) attempt();
  });
}

// --- Benchmark side -------------------------------------------------------------------------

type StormBody = Omit<StormRequest, 'id'>;

/** A load-generator process, as this file uses it. */
export interface ScenarioLoad {
  readonly pid: number;
  request<T>(body: StormBody, durationMs: number): Promise<T>;
}

/** A server under test, as this file uses it. */
export interface ScenarioServer {
  readonly port: number;
  /** Its processes now (root first, then descendants). */
  pids(): number[];
  stop(): Promise<StopResult>;
}

export interface RegisteredResult {
  registered: number;
  failures: Record<string, number>;
  ms: number;
}

/** What bench/ircFanout.ts provides: its load generators, its servers, its quiet-machine wait. */
export interface ScenarioHarness {
  loadProcesses(): Promise<ScenarioLoad[]>;
  /** Waits (within the benchmark's budget) for a quiet machine; its busy share then. */
  awaitQuiet(): Promise<number>;
  /** One server of `kind`; a Node one with `probe` preloaded when given. */
  startServer(kind: IrcKind, probe: HeapProbe | null): Promise<ScenarioServer>;
  /** `n` clients registered on `port`, no channel, idle, spread over the load processes. */
  connectRegistered(port: number, n: number, nickPrefix: string, maxPending: number): Promise<RegisteredResult>;
  /** Every client of every load process QUITs (and is destroyed if still open after a bound). */
  quitAll(): Promise<void>;
}

export interface StormSettings {
  warmupMs: number;
  windowMs: number;
}

export interface IdleSettings {
  clients: number;
  holdMs: number;
}

/** The heap probe from the benchmark's side: the flags that preload it, and how to ask it. */
export interface HeapProbe {
  readonly nodeFlags: string[];
  /** Every stdout line of the server after its port: the probe's answers come that way. */
  onLine(line: string): void;
  /** Heap used after a full GC in process `pid` (the server's root), bytes. */
  read(pid: number): Promise<number>;
}

const heapProbeUrl = new URL('./ircHeapProbe.js', import.meta.url);

export function heapProbe(): HeapProbe {
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

const until = (us: number): Promise<void> => sleep(Math.max(0, (us - monoUs()) / 1000));

/** Server, load generators, machine and this process, read at one moment. */
function cpuReading(serverPids: number[], loadPids: number[]) {
  return {
    server: treeCpuMs(serverPids),
    loads: loadPids.map((p) => treeCpuMs([p])),
    machine: machineCpuTicks(),
    listen: readListenCounters(),
    self: process.cpuUsage(),
  };
}

/** One storm against one server of `kind`. */
export async function measureRegistration(h: ScenarioHarness, kind: IrcKind, s: StormSettings): Promise<IrcRegistrationFigures> {
  const loads = await h.loadProcesses();
  const busyBefore = await h.awaitQuiet();
  const server = await h.startServer(kind, null);
  let stop: StopResult | null = null;
  try {
    const rssIdleBytes = treeRssBytes(server.pids());
    const startUs = monoUs() + 300_000;
    const windowStartUs = startUs + s.warmupMs * 1000;
    const windowEndUs = windowStartUs + s.windowMs * 1000;
    const endUs = windowEndUs + stormTailMs * 1000;
    const storms = Promise.all(
      loads.map((l, i) => {
        // The slots split as evenly as they go: 50 over 2 processes is 25 each.
        const concurrency = Math.floor(registrationConcurrency / loads.length) + (i < registrationConcurrency % loads.length ? 1 : 0);
        const body: StormBody = { type: 'storm', port: server.port, nickPrefix: `r${i}n`, concurrency, startUs, windowStartUs, windowEndUs, endUs, attemptTimeoutMs };
        return l.request<StormResult>(body, (endUs - monoUs()) / 1000 + attemptTimeoutMs + answerMarginMs);
      }),
    );
    // Awaited below; a failure before that must not surface as an unhandled rejection.
    storms.catch(() => undefined);
    const loadPids = loads.map((l) => l.pid);
    await until(windowStartUs);
    const serverPids = server.pids();
    const a = cpuReading(serverPids, loadPids);
    let rssPeakBytes = treeRssBytes(serverPids);
    while (monoUs() + rssSampleMs * 1000 < windowEndUs) {
      await sleep(rssSampleMs);
      rssPeakBytes = Math.max(rssPeakBytes, treeRssBytes(serverPids));
    }
    await until(windowEndUs);
    const b = cpuReading(serverPids, loadPids);
    const self = process.cpuUsage(a.self);
    rssPeakBytes = Math.max(rssPeakBytes, treeRssBytes(serverPids));
    const results = await storms;
    const histogram = mergeHistograms(results.map((r) => r.histogram));
    const failures: Record<string, number> = {};
    for (const r of results) for (const [why, n] of Object.entries(r.failures)) count(failures, why, n);
    const registrations = results.reduce((sum, r) => sum + r.registered, 0);
    const loadEach = b.loads.map((v, i) => v - a.loads[i]!);
    const loadCpuMs = loadEach.reduce((x, y) => x + y, 0);
    const serverCpuMs = b.server - a.server;
    const figures: IrcRegistrationFigures = {
      server: kind,
      windowMs: s.windowMs,
      registrations,
      perSecond: (registrations * 1000) / s.windowMs,
      p50Ms: histogramPercentile(histogram, 50) / 1000,
      p99Ms: histogramPercentile(histogram, 99) / 1000,
      maxMs: Math.max(...results.map((r) => r.maxUs)) / 1000,
      serverCpuMs,
      loadCpuMs,
      loadCpuMaxMs: Math.max(...loadEach),
      rssIdleBytes,
      rssPeakBytes,
      machineBusy: (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total),
      othersCpuMs: (b.machine.busy - a.machine.busy) * cpuTickMs - serverCpuMs - loadCpuMs - (self.user + self.system) / 1000,
      busyBefore,
      failures,
      quitTimeouts: results.reduce((sum, r) => sum + r.quitTimeouts, 0),
      listenOverflows: a.listen && b.listen ? b.listen.overflows - a.listen.overflows : null,
      stop: null,
    };
    stop = await server.stop();
    return { ...figures, stop };
  } finally {
    if (stop === null) await server.stop().catch(() => null);
  }
}

/** Idle clients on one server of `kind`: memory per client and idle CPU. */
export async function measureIdle(h: ScenarioHarness, kind: IrcKind, s: IdleSettings): Promise<IrcIdleFigures> {
  const perProcess = Math.max(1, Math.floor(idleInFlight / (await h.loadProcesses()).length));
  const busyBefore = await h.awaitQuiet();
  // ngircd is not Node: RSS only.
  const probe = kind === 'ngircd' ? null : heapProbe();
  const server = await h.startServer(kind, probe);
  let stop: StopResult | null = null;
  try {
    const root = server.pids()[0]!;
    const warm = await h.connectRegistered(server.port, idleWarmClients, 'w', perProcess);
    if (warm.registered === 0) throw new Error(`no warm-up client registered (${JSON.stringify(warm.failures)})`);
    await h.quitAll();
    await sleep(idleSettleMs);
    const heapBeforeBytes = probe ? await probe.read(root) : null;
    const rssBeforeBytes = treeRssBytes(server.pids());
    const idle = await h.connectRegistered(server.port, s.clients, 'i', perProcess);
    if (idle.registered === 0) throw new Error(`no client registered (${JSON.stringify(idle.failures)})`);
    const cpu0 = treeCpuMs(server.pids());
    await sleep(s.holdMs);
    const idleCpuMs = treeCpuMs(server.pids()) - cpu0;
    const heapAfterBytes = probe ? await probe.read(root) : null;
    const rssAfterBytes = treeRssBytes(server.pids());
    await h.quitAll();
    const figures: IrcIdleFigures = {
      server: kind,
      clients: s.clients,
      registered: idle.registered,
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

// --- One line per measurement, as it ends ---------------------------------------------------

const fmt = (v: number, digits: number): string =>
  Number.isFinite(v) ? v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const sumValues = (r: Record<string, number>): number => Object.values(r).reduce((x, y) => x + y, 0);

export function registrationLine(tag: string, f: IrcRegistrationFigures): string {
  return (
    `${tag} registration ${labels[f.server].padEnd(14)} ${fmt(f.perSecond, 0).padStart(6)}/s  connect → 001 p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} ` +
    `max ${fmt(f.maxMs, 1)} ms  server ${fmt((1000 * f.serverCpuMs) / f.registrations, 1)} µs/registration (${fmt((100 * f.serverCpuMs) / f.windowMs, 0)} %)  ` +
    `load gen ${fmt((1000 * f.loadCpuMs) / f.registrations, 1)} µs/registration (${fmt((100 * f.loadCpuMs) / f.windowMs, 0)} %)  ` +
    `RSS ${fmt(f.rssIdleBytes / 2 ** 20, 1)} → ${fmt(f.rssPeakBytes / 2 ** 20, 1)} MiB  machine ${fmt(100 * f.machineBusy, 0)} % ` +
    `(rest ${fmt((100 * f.othersCpuMs) / f.windowMs, 0)} % of a core), before ${fmt(100 * f.busyBefore, 0)} %` +
    (sumValues(f.failures) > 0 ? `  failed ${JSON.stringify(f.failures)}` : '') +
    (f.quitTimeouts > 0 ? `  not closed after QUIT ${f.quitTimeouts}` : '') +
    (f.listenOverflows ? `  listen queue overflows ${f.listenOverflows}` : '') +
    (f.stop ? `  stop ${fmt(f.stop.ms, 0)} ms${f.stop.killed ? ' (killed)' : ''}` : '')
  );
}

export function idleLine(tag: string, f: IrcIdleFigures): string {
  const perClientKiB = (before: number | null, after: number | null): string =>
    before === null || after === null ? 'n/a' : fmt((after - before) / f.registered / 1024, 2);
  return (
    `${tag} idle ${labels[f.server].padEnd(14)} ${f.registered}/${f.clients} registered in ${fmt(f.connectMs / 1000, 2)} s  ` +
    `RSS ${fmt(f.rssBeforeBytes / 2 ** 20, 1)} → ${fmt(f.rssAfterBytes / 2 ** 20, 1)} MiB (${perClientKiB(f.rssBeforeBytes, f.rssAfterBytes)} KiB/client)` +
    (f.heapBeforeBytes !== null && f.heapAfterBytes !== null
      ? `  heap after GC ${fmt(f.heapBeforeBytes / 2 ** 20, 1)} → ${fmt(f.heapAfterBytes / 2 ** 20, 1)} MiB (${perClientKiB(f.heapBeforeBytes, f.heapAfterBytes)} KiB/client)`
      : '') +
    `  idle CPU ${fmt((100 * f.idleCpuMs) / f.holdMs, 1)} % over ${fmt(f.holdMs / 1000, 1)} s  before ${fmt(100 * f.busyBefore, 0)} %` +
    (sumValues(f.failures) > 0 ? `  not registered ${JSON.stringify(f.failures)}` : '') +
    (f.stop ? `  stop ${fmt(f.stop.ms, 0)} ms${f.stop.killed ? ' (killed)' : ''}` : '')
  );
}

/** The terminal's tables of both (bench/report.ts makes them, for docs/benchmarks.md too). */
export function costTables(registration: IrcRegistration | null, idle: IrcIdle | null, kinds: readonly IrcKind[]): string[] {
  const out: string[] = [];
  if (registration) {
    out.push(
      '',
      `REGISTRATION STORM: ${registration.concurrency} clients at once, each connect → NICK/USER → 001 → QUIT → the server closes, then again; ` +
        `${registration.warmupMs / 1000} s warm-up, ${registration.windowMs / 1000} s window`,
      textTable(ircRegistrationTable(registration, kinds)),
    );
  }
  if (idle) {
    out.push(
      '',
      `IDLE CLIENTS: ${idle.clients} clients registered (end of MOTD seen) and idle for ${idle.holdMs / 1000} s; growth from a reading taken after ` +
        `${idle.warmClients} warm-up clients came and went (Node servers: heap after a full GC, RSS read after it)`,
      textTable(ircIdleTable(idle, kinds)),
    );
  }
  return out;
}
