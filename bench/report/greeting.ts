// From results (measured now or read back from JSON) to what a reader sees: the tables of
// medians and ratios (as text for the terminal and as markdown), the target verdicts, the charts
// and docs/benchmarks.md (its last section, the chat fan-out, from docs/bench-irc-results.json when
// that file exists). Pure apart from that read and the caller writing the strings it returns.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/core/config.js';
import { cpuTickMs } from '../lib/procfs.js';
import { profileIntervalUs, quietBudgetMs } from '../greeting/scenarios.js';
import { barChart, lineChart, type Series } from './svgChart.js';
import type { Failures } from '../greeting/loadgen.js';
import type { BenchResults, HandshakeRun, IdleRun, ProfileSummary } from '../greeting/results.js';
import { median } from '../lib/stats.js';
import type { ServerName } from '../greeting/servers.js';

// --- Numbers -------------------------------------------------------------------------------

/** JSON turns NaN into null: read both as NaN. */
const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : Number.NaN);
const med = <T>(runs: readonly T[] | undefined, pick: (r: T) => number | null | undefined): number =>
  median((runs ?? []).map((r) => num(pick(r))).filter(Number.isFinite));
const kib = (bytes: number): number => bytes / 1024;
const mib = (bytes: number): number => bytes / 2 ** 20;
const totalFailures = (f: Failures): number => Object.values(f).reduce((a, b) => a + b, 0);

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}
function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '–';
}
const pct = (share: number): string => (Number.isFinite(share) ? `${(100 * share).toFixed(0)} %` : 'n/a');

export const labels: Record<ServerName, string> = { ours: 'ours (xstate)', bare: 'bare node:net', python: 'python blocking' };
const colors: Record<ServerName, string> = { ours: '#d9480f', bare: '#1c7ed6', python: '#2f9e44' };

// --- Tables --------------------------------------------------------------------------------

interface Table {
  header: string[];
  /** 'l' or 'r' per column. */
  align: string;
  rows: string[][];
}

export function textTable(t: Table): string {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (t.align[i] === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function markdownTable(t: Table): string {
  const align = [...t.align].map((a) => (a === 'l' ? '---' : '--:'));
  return [t.header, align, ...t.rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

type Pick = (r: HandshakeRun) => number;

const handshakeMetrics: Array<{ label: string; digits: number; pick: Pick; ratio: boolean }> = [
  { label: 'handshakes/s', digits: 0, pick: (r) => r.perSecond, ratio: true },
  { label: 'latency p50 (ms)', digits: 2, pick: (r) => r.p50Ms, ratio: true },
  { label: 'latency p99 (ms)', digits: 2, pick: (r) => r.p99Ms, ratio: true },
  { label: 'latency max (ms)', digits: 1, pick: (r) => r.maxMs, ratio: true },
  { label: 'server CPU per handshake (µs)', digits: 0, pick: (r) => (1000 * r.serverCpuMs) / r.completed, ratio: true },
  { label: 'server CPU (% of one core)', digits: 0, pick: (r) => (100 * r.serverCpuMs) / r.windowMs, ratio: false },
  { label: 'load generator CPU (% of one core)', digits: 0, pick: (r) => (100 * r.loadCpuMs) / r.windowMs, ratio: false },
  { label: 'machine busy (% of all CPUs)', digits: 0, pick: (r) => 100 * r.machineBusy, ratio: false },
  { label: 'failed handshakes', digits: 0, pick: (r) => totalFailures(r.failures), ratio: false },
  { label: 'SYNs dropped, accept queue full', digits: 0, pick: (r) => num(r.listenOverflows), ratio: false },
];

function runsOf(results: BenchResults, server: ServerName, concurrency: number): HandshakeRun[] {
  return results.handshake[server]?.[String(concurrency)] ?? [];
}

export function handshakeTable(results: BenchResults): Table {
  const servers: ServerName[] = ['ours', 'bare', 'python'];
  const rows: string[][] = [];
  for (const c of results.settings.concurrencies) {
    for (const m of handshakeMetrics) {
      const v = servers.map((s) => med(runsOf(results, s, c), m.pick));
      rows.push([
        c.toLocaleString('en'),
        m.label,
        ...v.map((x) => fmt(x, m.digits)),
        m.ratio ? ratio(v[0]!, v[1]!) : '–',
        m.ratio ? ratio(v[0]!, v[2]!) : '–',
      ]);
    }
  }
  return {
    header: ['concurrency', 'metric (median)', labels.ours, labels.bare, labels.python, 'ours/bare', 'ours/python'],
    align: 'rlrrrrr',
    rows,
  };
}

export function silentTable(results: BenchResults): Table {
  const servers: ServerName[] = ['ours', 'bare', 'python'];
  const c = results.settings.silentConcurrency;
  const without = (s: ServerName, pick: Pick): number => med(results.silentWithout[s], pick);
  const withSilent = (s: ServerName, pick: Pick): number => med(results.silent[s], pick);
  const row = (label: string, f: (s: ServerName) => string): string[] => [label, ...servers.map(f)];
  return {
    header: ['metric (median)', labels.ours, labels.bare, labels.python],
    align: 'lrrr',
    rows: [
      row(`handshakes/s, concurrency ${c}, no silent client`, (s) => fmt(without(s, (r) => r.perSecond), 0)),
      row(`handshakes/s, concurrency ${c} + one silent client`, (s) => fmt(withSilent(s, (r) => r.perSecond), 0)),
      row('  with / without', (s) => ratio(withSilent(s, (r) => r.perSecond), without(s, (r) => r.perSecond))),
      row('latency p99 (ms), without', (s) => fmt(without(s, (r) => r.p99Ms), 2)),
      row('latency p99 (ms), with the silent client', (s) => fmt(withSilent(s, (r) => r.p99Ms), 2)),
      row('clients still waiting when the window ended', (s) => fmt(withSilent(s, (r) => r.unfinished), 0)),
      row('  the oldest of them (ms)', (s) => fmt(withSilent(s, (r) => r.oldestUnfinishedMs), 0)),
      row('silent client greeted and still connected (runs)', (s) => {
        const runs = results.silent[s] ?? [];
        if (runs.length === 0) return 'n/a';
        return `${runs.filter((r) => r.silentGreeted === true && r.silentOpenAfter === true).length}/${runs.length}`;
      }),
    ],
  };
}

function cleanStop(r: IdleRun): boolean {
  const s = r.shutdown;
  return (
    s.exitCode === 0 &&
    !s.killed &&
    s.stillOpen === 0 &&
    s.errored === 0 &&
    s.closedByServer === r.clients &&
    num(s.stopMs) <= s.graceMs &&
    !(num(s.forcedStops) > 0)
  );
}

/** Results written before the fresh scenario existed have no count for it. */
const freshClients = (results: BenchResults): number => results.settings.idleFreshClients ?? 2_000;

export function idleTable(results: BenchResults): Table {
  const rows: string[][] = [];
  const section = (title: string, runs: Partial<Record<'ours' | 'bare', IdleRun[]>> | undefined, kind: 'single' | 'cluster' | 'fresh'): void => {
    if (!runs) return;
    const heap = kind === 'single';
    const o = runs.ours ?? [];
    const b = runs.bare ?? [];
    if (o.length === 0 && b.length === 0) return;
    const row = (label: string, digits: number, pick: (r: IdleRun) => number, withRatio = true): void => {
      const x = med(o, pick);
      const y = med(b, pick);
      rows.push([title, label, fmt(x, digits), fmt(y, digits), withRatio ? ratio(x, y) : '–']);
    };
    const perConn = (r: IdleRun, before: number, after: number): number => (num(after) - num(before)) / r.clients;
    row('clients greeted and held', 0, (r) => r.greeted, false);
    row('time to accept and greet them all (s)', 2, (r) => r.acceptMs / 1000);
    row('RSS per connection (KiB, whole process tree)', 2, (r) => kib(perConn(r, r.rssBeforeBytes, r.rssAfterBytes)));
    if (heap) {
      row('heap used per connection (KiB, after GC)', 2, (r) => kib(perConn(r, r.heapUsedBeforeBytes, r.heapUsedAfterBytes)));
      row('V8 heap reserved (heapTotal) per connection (KiB)', 2, (r) =>
        kib(perConn(r, r.heapTotalBeforeBytes, r.heapTotalAfterBytes)),
      );
    }
    row('RSS with every client connected (MiB)', 1, (r) => mib(num(r.rssAfterBytes)));
    row('server processes', 0, (r) => r.serverProcesses, false);
    row('most descriptors in one server process', 0, (r) => r.maxServerFds, false);
    row('load generator processes', 0, (r) => r.loadProcesses, false);
    row('SYNs dropped, accept queue full', 0, (r) => num(r.listenOverflows), false);
    row('shutdown: request to process exit (s)', 2, (r) => num(r.shutdown.stopMs) / 1000);
    row('shutdown: request to the last client closed (s)', 2, (r) => num(r.shutdown.allClosedMs) / 1000);
    if (kind === 'cluster') {
      row("shutdown: request to the last worker's server.stopped (s)", 2, (r) => num(r.shutdown.workersStoppedMs) / 1000, false);
      row('shutdown: request to primary.stopped (s)', 2, (r) => num(r.shutdown.primaryStoppedMs) / 1000, false);
    }
    row('shutdown: clients told SHUTTING_DOWN', 0, (r) => r.shutdown.toldShuttingDown, false);
    const clean = (rs: IdleRun[]): string => (rs.length === 0 ? 'n/a' : `${rs.filter(cleanStop).length}/${rs.length}`);
    rows.push([title, `clean stop within the grace period (runs)`, clean(o), clean(b), '–']);
    const within = (rs: IdleRun[], ms: number): string =>
      rs.length === 0 ? 'n/a' : `${rs.filter((r) => num(r.shutdown.stopMs) <= ms).length}/${rs.length}`;
    const defaultGrace = defaultConfig.shutdownGraceMs;
    rows.push([title, `exit within the default ${defaultGrace / 1000} s grace (runs)`, within(o, defaultGrace), within(b, defaultGrace), '–']);
  };
  const s = results.settings;
  section(`${s.idleSingleClients.toLocaleString('en')}, one process`, results.idleSingle, 'single');
  section(`${freshClients(results).toLocaleString('en')}, fresh \`npm start\``, results.idleFresh, 'fresh');
  section(`${s.idleClusterClients.toLocaleString('en')}, ${s.clusterWorkers} workers`, results.idleCluster, 'cluster');
  return { header: ['idle clients', 'metric (median)', labels.ours, labels.bare, 'ours/bare'], align: 'llrrr', rows };
}

export function churnTable(results: BenchResults): Table {
  const runs = results.churn;
  const rows: string[][] = [];
  const row = (label: string, digits: number, pick: (r: BenchResults['churn'][number]) => number): void => {
    rows.push([label, ...runs.map((r) => fmt(pick(r), digits)), fmt(med(runs, pick), digits)]);
  };
  const done = (r: BenchResults['churn'][number]): number => r.halves.reduce((a, h) => a + h.completed, 0);
  row('handshakes completed', 0, done);
  row('failed', 0, (r) => r.halves.reduce((a, h) => a + totalFailures(h.failures), 0));
  row('handshakes/s', 0, (r) => (1000 * done(r)) / r.halves.reduce((a, h) => a + h.windowMs, 0));
  row('heap used before (MiB, after GC)', 2, (r) => mib(num(r.before.heapUsedBytes)));
  row('heap used halfway (MiB)', 2, (r) => mib(num(r.mid.heapUsedBytes)));
  row('heap used after (MiB)', 2, (r) => mib(num(r.after.heapUsedBytes)));
  row('heap growth, after − before (KiB)', 0, (r) => kib(num(r.after.heapUsedBytes) - num(r.before.heapUsedBytes)));
  row('heap growth, after − halfway (KiB)', 0, (r) => kib(num(r.after.heapUsedBytes) - num(r.mid.heapUsedBytes)));
  row('RSS before (MiB)', 1, (r) => mib(num(r.before.rssBytes)));
  row('RSS after (MiB)', 1, (r) => mib(num(r.after.rssBytes)));
  row('connections live after', 0, (r) => num(r.after.live));
  return {
    header: ['churn, ours', ...runs.map((_, i) => `run ${i + 1}`), 'median'],
    align: `l${'r'.repeat(runs.length + 1)}`,
    rows,
  };
}

/** Each run's figures at one concurrency, to show the spread behind the medians. */
export function everyRunTable(results: BenchResults, concurrency: number): Table {
  const servers = (['ours', 'bare', 'python'] as const).filter((s) => runsOf(results, s, concurrency).length > 0);
  const rows: string[][] = [];
  for (let i = 0; i < results.settings.runs; i += 1) {
    for (const s of servers) {
      const r = runsOf(results, s, concurrency)[i];
      if (!r) continue;
      const bare = runsOf(results, 'bare', concurrency)[i];
      const cpu = (x: HandshakeRun): number => (1000 * x.serverCpuMs) / x.completed;
      rows.push([
        String(i + 1),
        labels[s],
        fmt(r.perSecond, 0),
        fmt(r.p99Ms, 1),
        fmt(cpu(r), 0),
        s === 'ours' && bare ? ratio(cpu(r), cpu(bare)) : '',
        fmt((1000 * r.loadCpuMs) / r.completed, 0),
        fmt(100 * r.machineBusy, 0),
      ]);
    }
  }
  return {
    header: [
      'run',
      'server',
      'handshakes/s',
      'p99 (ms)',
      'server CPU µs/handshake',
      'ours/bare, same run',
      'load-gen CPU µs/handshake',
      'machine busy %',
    ],
    align: 'llrrrrrr',
    rows,
  };
}

// --- Verdicts ------------------------------------------------------------------------------

export interface Verdict {
  target: string;
  measured: string;
  verdict: 'PASS' | 'MISS' | 'n/a';
}

/** Heap growth over the churn that still counts as flat: GC noise, far below one byte per cycle. */
export const churnFlatBytes = 512 * 1024;

/** The machines with no sockets (bench/floor.ts), against the handshake figures of this run. */
export function floorTable(results: BenchResults): Table | null {
  const f = results.floor;
  if (!f) return null;
  const cpu: Pick = (r) => (1000 * r.serverCpuMs) / r.completed;
  const bare = med(runsOf(results, 'bare', 100), cpu);
  const ours = med(runsOf(results, 'ours', 100), cpu);
  return {
    header: ['what', 'CPU µs', 'against bare node:net at concurrency 100'],
    align: 'lrr',
    rows: [
      ["one connection's life on the lean runner (start, written, reply, close), no sockets", fmt(f.leanLifeUs, 1), ratio(f.leanLifeUs, bare)],
      ['the same life on XState createActor', fmt(f.actorLifeUs, 1), ratio(f.actorLifeUs, bare)],
      ['one server-machine step (only when the session count crosses a boundary)', fmt(f.serverStepUs, 1), ratio(f.serverStepUs, bare)],
      ['bare node:net handshake (server CPU)', fmt(bare, 1), '1.00×'],
      ['floor: bare handshake + the lean life', fmt(bare + f.leanLifeUs, 1), ratio(bare + f.leanLifeUs, bare)],
      ['ours, measured (server CPU per handshake)', fmt(ours, 1), ratio(ours, bare)],
    ],
  };
}

function floorSection(results: BenchResults): string {
  const t = floorTable(results);
  if (!t || !results.floor) return 'Not measured in this run.';
  return `In the benchmark's own process, with no sockets and every side effect a no-op: the connection machine driven
through the four events of a handshake ${results.floor.lives.toLocaleString('en')} times (median of ${results.floor.rounds} rounds
after two warm-up rounds), once on the lean runner the server uses (src/core/leanActor.ts) and once on XState's
\`createActor\`. Added to what the bare server spends on a handshake, the lean life is the least an adapter
could reach while XState's interpreter runs this machine: whatever ours costs above that floor is
sockets, garbage and our own code.

${markdownTable(t)}`;
}

/** Issue 10's target for a fresh `npm start` holding idle clients. */
const freshGrowthLimitKib = 16;

export function verdicts(results: BenchResults): Verdict[] {
  const out: Verdict[] = [];
  const at = 100;
  const o = runsOf(results, 'ours', at);
  const b = runsOf(results, 'bare', at);
  const check = (target: string, x: number, y: number, limit: number, atMost: boolean, unit: string, d = 0): void => {
    const r = x / y;
    const ok = atMost ? r <= limit : r >= limit;
    out.push({
      target,
      measured: Number.isFinite(r) ? `${r.toFixed(2)}× (ours ${fmt(x, d)} ${unit}, bare ${fmt(y, d)} ${unit})` : 'not measured',
      verdict: Number.isFinite(r) ? (ok ? 'PASS' : 'MISS') : 'n/a',
    });
  };
  const cpu: Pick = (r) => (1000 * r.serverCpuMs) / r.completed;
  check(`Server CPU per handshake at concurrency ${at} ≤ 1.5× bare node:net`, med(o, cpu), med(b, cpu), 1.5, true, 'µs');
  check(`Throughput at concurrency ${at} ≥ 0.8× bare node:net`, med(o, (r) => r.perSecond), med(b, (r) => r.perSecond), 0.8, false, '/s');
  check(`p99 latency at concurrency ${at} ≤ 1.5× bare node:net`, med(o, (r) => r.p99Ms), med(b, (r) => r.p99Ms), 1.5, true, 'ms', 1);

  const single = results.idleSingle;
  const per = (r: IdleRun, a: number, z: number): number => (num(z) - num(a)) / r.clients;
  const n1 = results.settings.idleSingleClients.toLocaleString('en');
  check(
    `Memory per idle connection (RSS, ${n1} in one process) ≤ 2× bare node:net`,
    kib(med(single.ours, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes))),
    kib(med(single.bare, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes))),
    2,
    true,
    'KiB',
    2,
  );
  check(
    `Memory per idle connection (heap used after GC, ${n1} in one process) ≤ 2.5× bare node:net`,
    kib(med(single.ours, (r) => per(r, r.heapUsedBeforeBytes, r.heapUsedAfterBytes))),
    kib(med(single.bare, (r) => per(r, r.heapUsedBeforeBytes, r.heapUsedAfterBytes))),
    2.5,
    true,
    'KiB',
    2,
  );
  const fresh = results.idleFresh?.ours ?? [];
  const freshGrowth = kib(med(fresh, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)));
  const freshBare = kib(med(results.idleFresh?.bare ?? [], (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)));
  out.push({
    target: `${freshClients(results).toLocaleString('en')} idle connections on a freshly started server (\`npm start\`, default flags): RSS growth < ${freshGrowthLimitKib} KiB per connection`,
    measured: Number.isFinite(freshGrowth)
      ? `${fmt(freshGrowth, 2)} KiB per connection (bare node:net, also fresh: ${fmt(freshBare, 2)} KiB, ${ratio(freshGrowth, freshBare)})`
      : 'not measured',
    verdict: Number.isFinite(freshGrowth) ? (freshGrowth < freshGrowthLimitKib ? 'PASS' : 'MISS') : 'n/a',
  });
  const cluster = results.idleCluster;
  const n2 = results.settings.idleClusterClients.toLocaleString('en');
  check(
    `Memory per idle connection (RSS, ${n2} over ${results.settings.clusterWorkers} workers) ≤ 2× bare node:net`,
    kib(med(cluster.ours, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes))),
    kib(med(cluster.bare, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes))),
    2,
    true,
    'KiB',
    2,
  );
  const oc = cluster.ours ?? [];
  const grace = results.settings.shutdownGraceMs;
  out.push({
    target: `${n2} concurrent idle connections held, then shut down cleanly within the grace period (${grace / 1000} s)`,
    measured:
      oc.length === 0
        ? 'not measured'
        : `${oc.filter((r) => r.greeted === r.clients && totalFailures(r.failures) === 0).length}/${oc.length} runs held all; ` +
          `${oc.filter(cleanStop).length}/${oc.length} stopped cleanly (exit 0, every client closed by the server, nothing forced); ` +
          `exit after ${fmt(med(oc, (r) => r.shutdown.stopMs) / 1000, 2)} s (median; slowest ${fmt(Math.max(...oc.map((r) => num(r.shutdown.stopMs))) / 1000, 2)} s, ` +
          `${oc.filter((r) => num(r.shutdown.stopMs) <= defaultConfig.shutdownGraceMs).length}/${oc.length} within the default ${defaultConfig.shutdownGraceMs / 1000} s)`,
    verdict:
      oc.length === 0
        ? 'n/a'
        : oc.every((r) => r.greeted === r.clients && totalFailures(r.failures) === 0 && cleanStop(r))
          ? 'PASS'
          : 'MISS',
  });
  const churn = results.churn;
  const growth = med(churn, (r) => num(r.after.heapUsedBytes) - num(r.before.heapUsedBytes));
  const late = med(churn, (r) => num(r.after.heapUsedBytes) - num(r.mid.heapUsedBytes));
  out.push({
    target: `Heap flat after ${results.settings.churnCycles.toLocaleString('en')} churn cycles (growth ≤ ${churnFlatBytes / 1024} KiB after GC)`,
    measured:
      churn.length === 0
        ? 'not measured'
        : `${fmt(kib(growth), 0)} KiB over all cycles, ${fmt(kib(late), 0)} KiB over the second half ` +
          `(${fmt(growth / results.settings.churnCycles, 2)} bytes per cycle)`,
    verdict: churn.length === 0 || !Number.isFinite(growth) ? 'n/a' : Math.max(growth, late) <= churnFlatBytes ? 'PASS' : 'MISS',
  });
  return out;
}

export function verdictTable(v: Verdict[]): Table {
  return { header: ['target', 'measured (medians)', 'verdict'], align: 'lll', rows: v.map((x) => [x.target, x.measured, x.verdict]) };
}

// --- The load generator --------------------------------------------------------------------

/** Sentences on whether the load generator limited each server, from this run's numbers. */
export function loadGeneratorNotes(results: BenchResults): string[] {
  const notes: string[] = [];
  const share = (r: HandshakeRun): number => r.loadCpuMs / r.windowMs;
  const serverShare = (r: HandshakeRun): number => r.serverCpuMs / r.windowMs;
  for (const c of results.settings.concurrencies) {
    const o = runsOf(results, 'ours', c);
    if (o.length === 0) continue;
    const lg = med(o, share);
    const srv = med(o, serverShare);
    const tput = med(o, (r) => r.perSecond);
    const others = (['bare', 'python'] as const)
      .map((s) => ({ s, t: med(runsOf(results, s, c), (r) => r.perSecond) }))
      .filter((x) => Number.isFinite(x.t));
    const faster = others.filter((x) => x.t > tput);
    const limited = lg < 0.7 && faster.length > 0;
    notes.push(
      `- Concurrency ${c.toLocaleString('en')}, ours: the load generator used ${pct(lg)} of one core and the server ` +
        `${pct(srv)}; ${
          faster.length > 0
            ? `with the same generator ${faster.map((x) => `${labels[x.s]} reached ${fmt(x.t, 0)}/s (${(x.t / tput).toFixed(1)}× ours)`).join(' and ')}`
            : 'no baseline was faster with the same generator'
        }. ${limited ? 'The generator was not the bottleneck: the server was.' : '**The generator may have limited this figure.**'}`,
    );
  }
  for (const s of ['bare', 'python'] as const) {
    const at = results.settings.concurrencies.map((c) => ({ c, r: runsOf(results, s, c) })).filter((x) => x.r.length > 0);
    if (at.length === 0) continue;
    const busiest = Math.max(...at.map((x) => med(x.r, share)));
    const machine = Math.max(...at.map((x) => med(x.r, (r) => r.machineBusy)));
    if (busiest >= 0.7 || machine >= 0.85) {
      notes.push(
        `- ${labels[s]}: the load generator reached ${pct(busiest)} of one core and the machine ${pct(machine)} of both ` +
          `CPUs, so its throughput is bounded by this 2-core machine (server, clients and the kernel's loopback TCP ` +
          `share it): a lower bound of what it could do alone. Its CPU per handshake is not affected.`,
      );
    }
  }
  return notes;
}

// --- Charts --------------------------------------------------------------------------------

export interface Chart {
  file: string;
  alt: string;
  svg: string;
}

export function charts(results: BenchResults): Chart[] {
  const servers = (['ours', 'bare', 'python'] as const).filter((s) => results.handshake[s] !== undefined);
  const cs = results.settings.concurrencies;
  const categories = cs.map((c) => c.toLocaleString('en'));
  const series = (pick: Pick, opts: { dashed?: boolean; suffix?: string } = {}): Series[] =>
    servers.map((s) => ({
      name: `${labels[s]}${opts.suffix ?? ''}`,
      color: colors[s],
      dashed: opts.dashed,
      values: cs.map((c) => med(runsOf(results, s, c), pick)),
    }));
  const runsNote = `medians of ${results.settings.runs} runs, ${results.machine.nproc} CPUs shared by server and load generator`;
  const out: Chart[] = [
    {
      file: 'bench-throughput.svg',
      alt: 'Handshakes per second by concurrency, ours against bare node:net and the blocking Python server',
      svg: lineChart({
        title: 'Handshakes per second (connect → greeting → reply → close)',
        subtitle: runsNote,
        categories,
        xLabel: 'concurrent clients (closed loop)',
        yLabel: 'handshakes / s',
        series: series((r) => r.perSecond),
      }),
    },
    {
      file: 'bench-latency.svg',
      alt: 'Handshake latency p50 and p99 by concurrency, log scale',
      svg: lineChart({
        title: 'Handshake latency: p99 (solid) and p50 (dashed)',
        subtitle: `${runsNote}; log scale`,
        categories,
        xLabel: 'concurrent clients (closed loop)',
        yLabel: 'latency (ms)',
        log: true,
        height: 520,
        series: [...series((r) => r.p99Ms, { suffix: ' p99' }), ...series((r) => r.p50Ms, { dashed: true, suffix: ' p50' })],
      }),
    },
    {
      file: 'bench-cpu.svg',
      alt: 'Server CPU time per handshake by concurrency',
      svg: barChart({
        title: 'Server CPU time per handshake',
        subtitle: `${runsNote}; from the server's own CPU accounting (/proc)`,
        categories,
        xLabel: 'concurrent clients (closed loop)',
        yLabel: 'CPU µs per handshake',
        series: series((r) => (1000 * r.serverCpuMs) / r.completed),
      }),
    },
  ];
  const per = (r: IdleRun, a: number, z: number): number => kib((num(z) - num(a)) / r.clients);
  const s = results.settings;
  const memCategories = [
    `RSS, ${s.idleSingleClients.toLocaleString('en')} in 1 process`,
    `heap used, ${s.idleSingleClients.toLocaleString('en')} in 1 process`,
    `RSS, ${s.idleClusterClients.toLocaleString('en')} in ${s.clusterWorkers} workers`,
  ];
  const memSeries = (['ours', 'bare'] as const).map((k) => ({
    name: labels[k],
    color: colors[k],
    values: [
      med(results.idleSingle[k], (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)),
      med(results.idleSingle[k], (r) => per(r, r.heapUsedBeforeBytes, r.heapUsedAfterBytes)),
      med(results.idleCluster[k], (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)),
    ],
  }));
  out.push({
    file: 'bench-memory.svg',
    alt: 'Memory per idle connection, ours against bare node:net',
    svg: barChart({
      title: 'Memory per idle connection (greeted, waiting for its reply)',
      subtitle: `medians of ${s.runs} runs; (after − before) / clients; heap after a full GC`,
      categories: memCategories,
      xLabel: '',
      yLabel: 'KiB per connection',
      series: memSeries,
      format: (v) => (v >= 10 ? v.toFixed(1) : v.toFixed(2)),
    }),
  });
  return out;
}

// --- The document --------------------------------------------------------------------------

/** The profile as two tables: self time by category against bare, and ours' top functions. */
export function profileTables(results: BenchResults): { cats: Table; top: Table } | null {
  const o = results.profile.ours;
  const b = results.profile.bare;
  if (!o) return null;
  const perHs = (p: ProfileSummary | undefined, ms: number): number => (p ? (1000 * ms) / p.handshakes : Number.NaN);
  const names = [...new Set([...o.categories.map((c) => c.name), ...(b?.categories ?? []).map((c) => c.name)])];
  const msOf = (p: ProfileSummary | undefined, name: string): number =>
    p ? (p.categories.find((c) => c.name === name)?.ms ?? 0) : Number.NaN;
  const rows = names
    .map((name) => {
      const x = perHs(o, msOf(o, name));
      const y = perHs(b, msOf(b, name));
      return { name, x, y };
    })
    .sort((p, q) => q.x - p.x);
  const cats: Table = {
    header: ['where (self time)', 'ours µs/handshake', 'bare µs/handshake', 'ours − bare', 'share of ours'],
    align: 'lrrrr',
    rows: [
      ...rows.map((r) => [r.name, fmt(r.x, 1), fmt(r.y, 1), fmt(r.x - r.y, 1), `${((100 * r.x) / perHs(o, o.totalMs)).toFixed(1)} %`]),
      ['**all (main thread)**', fmt(perHs(o, o.totalMs), 1), fmt(perHs(b, b?.totalMs ?? Number.NaN), 1), fmt(perHs(o, o.totalMs) - perHs(b, b?.totalMs ?? Number.NaN), 1), '100 %'],
    ],
  };
  const share = (ms: number): string => `${((100 * ms) / o.totalMs).toFixed(1)} %`;
  const top: Table = {
    header: ['function (ours)', 'where', 'µs/handshake', 'share'],
    align: 'llrr',
    rows: o.top.map((f) => [`\`${f.fn}\``, `\`${f.where}\``, fmt(perHs(o, f.ms), 1), share(f.ms)]),
  };
  return { cats, top };
}

function profileSection(results: BenchResults): string {
  const o = results.profile.ours;
  const b = results.profile.bare;
  const tables = profileTables(results);
  if (!o || !tables) return 'Not measured in this run.';
  const { cats, top } = tables;
  const share = (ms: number): string => `${((100 * ms) / o.totalMs).toFixed(1)} %`;
  const msOf = (name: string): number => o.categories.find((c) => c.name === name)?.ms ?? 0;
  return `Each Node server at concurrency 100 for one ${results.settings.measureMs / 1000} s window under V8's sampling profiler
(\`node --cpu-prof\`, ${profileIntervalUs} µs interval), self time of the samples inside the window, divided by
the handshakes completed in it (ours ${o.handshakes.toLocaleString('en')}${b ? `, bare ${b.handshakes.toLocaleString('en')}` : ''}). Main thread only: the
kernel's work inside a syscall shows as the native binding that made it, and V8's helper threads
(concurrent marking, compilation) are not in a JavaScript profile, and the profiler adds its own
cost: these times need not match the CPU figures of the tables; the shares and the difference
against bare node:net are what to read. In ours,
**${share(o.underXstateMs)} of the main thread's time has an xstate frame on the stack** (xstate itself plus the
actions and socket calls it runs); xstate's own code is ${share(msOf('xstate'))}.

${markdownTable(cats)}

${markdownTable(top)}`;
}

/** The Python server costs the least CPU per handshake and is no slower than bare node:net. */
function pythonCheapestAndFast(results: BenchResults, at: number): boolean {
  const m = (s: ServerName, pick: Pick): number => med(runsOf(results, s, at), pick);
  const cpu: Pick = (r) => r.serverCpuMs / r.completed;
  return (
    m('python', cpu) < m('bare', cpu) &&
    m('python', cpu) < m('ours', cpu) &&
    m('python', (r) => r.perSecond) >= 0.95 * m('bare', (r) => r.perSecond)
  );
}

/** A few sentences computed from the medians: what the tables say, in words. */
export function summary(results: BenchResults): string[] {
  const out: string[] = [];
  const at = 100;
  const cpu: Pick = (r) => (1000 * r.serverCpuMs) / r.completed;
  const m = (s: ServerName, c: number, pick: Pick): number => med(runsOf(results, s, c), pick);
  const oc = m('ours', at, cpu);
  const bc = m('bare', at, cpu);
  const pc = m('python', at, cpu);
  if (Number.isFinite(oc) && Number.isFinite(bc)) {
    out.push(
      `- **Cost.** At concurrency ${at} a handshake costs ours ${fmt(oc, 0)} µs of server CPU, ` +
        `${(oc / bc).toFixed(1)}× bare node:net (${fmt(bc, 0)} µs)` +
        (Number.isFinite(pc) ? ` and ${(oc / pc).toFixed(1)}× the blocking Python server (${fmt(pc, 0)} µs, which does no event-loop work at all)` : '') +
        '.' +
        (m('ours', at, (r) => r.serverCpuMs / r.windowMs) >= 0.9 && m('ours', at, (r) => r.loadCpuMs / r.windowMs) < 0.7
          ? ` Ours runs out of CPU first: its one thread sits at ${pct(m('ours', at, (r) => r.serverCpuMs / r.windowMs))} of a ` +
            `core while the load generator has room, so its throughput is ` +
            `${ratio(m('ours', at, (r) => r.perSecond), m('bare', at, (r) => r.perSecond))} bare's.`
          : ''),
    );
  }
  const sw = (s: ServerName): number => med(results.silent[s], (r) => r.perSecond) / med(results.silentWithout[s], (r) => r.perSecond);
  if (Number.isFinite(sw('ours'))) {
    out.push(
      `- **One silent client**: with it connected, ours keeps ${sw('ours').toFixed(2)}× of its throughput (p99 ` +
        `${fmt(med(results.silent.ours, (r) => r.p99Ms), 1)} ms, against ${fmt(med(results.silentWithout.ours, (r) => r.p99Ms), 1)} ms without it)` +
        (Number.isFinite(sw('python'))
          ? `; the blocking Python server keeps ${sw('python').toFixed(2)}× (${fmt(med(results.silent.python, (r) => r.perSecond), 0)}/s: ` +
            `it serves nobody else until its ${results.settings.pythonClientTimeoutS} s per-client timeout, and the other clients were still ` +
            `waiting after ${fmt(med(results.silent.python, (r) => r.oldestUnfinishedMs) / 1000, 1)} s).` +
            (pythonCheapestAndFast(results, at)
              ? ' While every client behaves, the same Python server is the cheapest per handshake and, on this ' +
                'machine, at least as fast as bare node:net.'
              : '')
          : '.'),
    );
  }
  const idleO = results.idleSingle.ours;
  const idleB = results.idleSingle.bare;
  if (idleO && idleB) {
    const per = (r: IdleRun, a: number, z: number): number => kib((num(z) - num(a)) / r.clients);
    out.push(
      `- **Memory.** An idle connection costs ours ${fmt(med(idleO, (r) => per(r, r.heapUsedBeforeBytes, r.heapUsedAfterBytes)), 2)} KiB ` +
        `of live heap (bare: ${fmt(med(idleB, (r) => per(r, r.heapUsedBeforeBytes, r.heapUsedAfterBytes)), 2)} KiB), ` +
        `${fmt(med(idleO, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)), 2)} KiB of RSS ` +
        `(bare: ${fmt(med(idleB, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)), 2)} KiB). Beyond the socket, a closure ` +
        `and a timer, which bare keeps too, ours keeps a session per connection (src/core/leanActor.ts): the ` +
        `machine's snapshot and context, and its pending deadline.`,
    );
  }
  const freshO = results.idleFresh?.ours;
  if (freshO && freshO.length > 0) {
    const per = (r: IdleRun): number => kib((num(r.rssAfterBytes) - num(r.rssBeforeBytes)) / r.clients);
    out.push(
      `- **Fresh \`npm start\`.** ${freshClients(results).toLocaleString('en')} idle clients on a just-started CLI grow its RSS by ` +
        `${fmt(med(freshO, per), 2)} KiB each (bare node:net, also fresh: ${fmt(med(results.idleFresh?.bare ?? [], per), 2)} KiB).`,
    );
  }
  const floor = results.floor;
  if (floor) {
    const bareCpu = med(runsOf(results, 'bare', 100), (r) => (1000 * r.serverCpuMs) / r.completed);
    out.push(
      `- **The floor.** With no sockets at all, a connection's life in XState's interpreter costs ${fmt(floor.leanLifeUs, 1)} µs ` +
        `on the lean runner (${fmt(floor.actorLifeUs, 1)} µs as a createActor actor): added to the bare handshake, at best ` +
        `${ratio(bareCpu + floor.leanLifeUs, bareCpu)} bare's CPU while this machine runs in XState.`,
    );
  }
  const cl = results.idleCluster.ours;
  if (cl && cl.length > 0) {
    out.push(
      `- **${results.settings.idleClusterClients.toLocaleString('en')} idle clients** over ${results.settings.clusterWorkers} workers: all held in ` +
        `${cl.filter((r) => r.greeted === r.clients).length} of ${cl.length} runs, ` +
        `accepted in ${fmt(med(cl, (r) => r.acceptMs) / 1000, 1)} s (bare: ${fmt(med(results.idleCluster.bare, (r) => r.acceptMs) / 1000, 1)} s); ` +
        `saying goodbye to all of them took ${fmt(med(cl, (r) => r.shutdown.stopMs) / 1000, 1)} s to exit ` +
        `(bare, which just drops them: ${fmt(med(results.idleCluster.bare, (r) => r.shutdown.stopMs) / 1000, 1)} s)` +
        (med(cl, (r) => r.shutdown.stopMs) > defaultConfig.shutdownGraceMs
          ? `, longer than the default ${defaultConfig.shutdownGraceMs / 1000} s grace period.`
          : '.'),
    );
  }
  const o = results.profile.ours;
  if (o) {
    const x = (name: string): number => (100 * (o.categories.find((c) => c.name === name)?.ms ?? 0)) / o.totalMs;
    out.push(
      `- **Where ours spends it** (profile below): ${((100 * o.underXstateMs) / o.totalMs).toFixed(0)} % of its main thread's time is ` +
        `inside xstate calls (${x('xstate').toFixed(0)} % in xstate's own code), ${x('V8 garbage collector').toFixed(0)} % in the garbage ` +
        `collector, ${x('native bindings (syscalls via libuv)').toFixed(0)} % in syscalls.`,
    );
  }
  return out;
}

export function markdown(results: BenchResults, chartList: Chart[], irc: IrcResults | null = readIrcResults()): string {
  const m = results.machine;
  const s = results.settings;
  const v = verdicts(results);
  const notes = results.notes.length > 0 ? results.notes.map((n) => `- ${n}`).join('\n') : '- none';
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts) on ${results.startedAt.slice(0, 10)}; do not edit by hand.
\`npm run bench -- --from-json\` rebuilds this page and its charts from
[bench-results.json](bench-results.json) without measuring again. Figures from one shared
2-core machine are noisy: the ratios against the baselines measured in the same run are what to
compare.

${s.quick ? '**This is a --quick run: one run per figure, shorter windows, fewer clients. Not for comparison.**\n\n' : ''}Every figure is the median of ${s.runs} run${s.runs === 1 ? '' : 's'}; the whole benchmark took ${fmt(results.elapsedS / 60, 1)} minutes.

## Machine

| | |
|---|---|
| CPUs (\`nproc\`) | ${m.nproc} |
| CPU model | ${m.cpu} |
| Memory | ${m.memory} |
| Kernel | ${m.kernel} |
| Node | ${m.node} |
| Python | ${m.python ?? 'not found (the blocking baseline was skipped)'} |
| xstate | ${m.xstate} |
| Ephemeral ports per source address | ${fmt(m.ephemeralPorts, 0)} |
| Descriptors per process (\`ulimit -n\`) | ${m.descriptorLimit} |

## Summary

${summary(results).join('\n')}

## Targets

${markdownTable(verdictTable(v))}

## Charts

${chartList.map((c) => `![${c.alt}](${c.file})`).join('\n\n')}

## Method

- **Servers.** *Ours* is \`startServer\` (src/core/listener.ts) with \`defaultConfig\`, a silent
  logger, 127.0.0.1, port 0, a ${s.listenBacklog} listen backlog, \`replyTimeoutMs\` 10 minutes and
  \`maxConnections\` 30,000 (so nobody is turned away), alone in a forked Node process
  (bench/serverProcess.ts, \`--expose-gc\`). *Bare node:net* (bench/baselines/bareNetServer.ts) is
  the same protocol written directly on \`node:net\` with no state machines, in the same kind of
  process. *Python blocking* (bench/baselines/blocking_server.py) is the article's server in
  Python's standard library: one client at a time (accept, \`sendall\` the greeting, \`recv\` one line
  with a ${s.pythonClientTimeoutS} s per-client timeout, close), given the same listen backlog as the others
  (the article used 1) so that clients wait in the kernel's queue instead of being refused. None of
  them logs per client. The build under test is whatever \`npm run bench\` just compiled.
- **Load generator.** Plain \`node:net\` clients (bench/loadgen.ts) in their own processes
  (bench/loadgenProcess.ts), never in a server's process; each reports its own CPU time. Clients
  connect from several loopback source addresses (127.0.0.x), so that the idle scenarios are not
  limited by the ${fmt(m.ephemeralPorts, 0)} ephemeral ports of one address (and binding a source
  port stays fast: at most 2,500 clients per address) and no process holds more than
  ${s.clientsPerLoadProcess.toLocaleString('en')} sockets (a process may hold 20,000 descriptors here).
- **Handshakes.** A closed loop: at concurrency *c*, *c* clients each connect, read the greeting,
  send one line, wait for the server's close, and start again at once. In each run every server
  gets one fresh process, first loaded for 2 s at concurrency 100 (so V8 has optimised its hot
  paths); then, concurrency by concurrency, the servers take turns (the first one changes from
  one concurrency and run to the next), each with a ${s.warmupMs / 1000} s warm-up (not counted) and a ${s.measureMs / 1000} s
  measured window. The servers compared are thus measured seconds apart, not minutes: this
  shared machine's speed drifts (see *Every run*). Throughput is handshakes completed in the window per second;
  latency is from \`connect()\` to the server's close, for handshakes completed in the window and,
  as a lower bound, the age of those still in flight when it ended (nearest-rank p50/p99).
  **Server CPU per handshake** is the server's user + system CPU time in the window, read from
  \`/proc/<pid>/stat\` at the window's edges (summed over its processes; ${cpuTickMs} ms resolution),
  divided by the handshakes completed: on ${m.nproc} CPUs shared with the load generator, this is the
  figure that says what the server costs. Machine busy is from \`/proc/stat\`: the two processes,
  the part of the kernel's loopback TCP work that no process is charged for (softirq), and
  anything else running. Before
  each window the harness waits (within a ${quietBudgetMs / 1000} s budget per benchmark) until the machine is
  quiet, so that another process does not take the CPUs during a window.
- **One silent client.** After the concurrency series, the same server process gets two more
  concurrency-${s.silentConcurrency} windows back to back: one as before, then one where, after the warm-up, one more
  client connects first, reads the greeting and never replies (it stays connected through the
  window). The Python server's per-client timeout (${s.pythonClientTimeoutS} s) is longer than the window.
- **Idle.** After a short warm-up, ${s.idleSingleClients.toLocaleString('en')} clients (one server process) and then
  ${s.idleClusterClients.toLocaleString('en')} clients (our CLI with \`--workers ${s.clusterWorkers}\` against the bare server in
  ${s.clusterWorkers} node:cluster workers, bench/baselines/bareClusterServer.ts) connect, at most 200 ungreeted
  per load-generator process, read the greeting and stay silent. Memory per connection is
  (after − before) / clients, with RSS summed over the server's process tree from \`/proc\`; for the
  single-process servers also \`heapUsed\` and \`heapTotal\` after two forced GCs. Accept time runs
  from the first \`connect()\` to the last greeting. Then the server is asked to stop with every client
  connected (SIGTERM to our CLI's primary, \`server.shutdown\` in the forked server): the time to its
  exit, and to the last client's close. A stop is clean when the process exits 0 within the grace
  period, was not killed, every client was closed by the server and (CLI) no log line says
  \`"forced":true\`. The grace period is the default ${defaultConfig.shutdownGraceMs / 1000} s for the forked server and
  \`--shutdown-grace ${s.shutdownGraceMs}\` for the CLI: saying goodbye to ${s.idleClusterClients.toLocaleString('en')} clients takes our workers
  several seconds of CPU on ${m.nproc} cores (each client gets its \`error SHUTTING_DOWN\` line, and the CLI logs
  each close as a JSON line), more than the default; the table shows how often the default would
  have been enough. The CLI runs as shipped: \`--log-format json\`, one line per connection event,
  read by the harness. The Python server is not in
  the idle scenarios: it serves one client at a time, so it never holds more than one.
- **Fresh \`npm start\`.** What a new user sees: our CLI started as \`npm start\` starts it (default
  flags and human log lines; only \`--host 127.0.0.1 --port 0\` added so that nothing else is in the
  way), and the bare server, each measured from the moment it listens, with no warm-up:
  ${freshClients(results).toLocaleString('en')} clients connect, are greeted and stay silent (well within the default 30 s reply
  deadline); RSS growth per connection from \`/proc\`.
- **Churn.** ${s.churnCycles.toLocaleString('en')} handshakes against ours at concurrency ${s.churnConcurrency}, in two halves after a short
  warm-up; heap and RSS after two forced GCs before, halfway and after.
- **Runs.** Each scenario runs ${s.runs} time${s.runs === 1 ? '' : 's'}, changing which server goes first; every figure is
  the median over the runs and ratios are median(ours) / median(baseline).

## Results

### Handshakes

${markdownTable(handshakeTable(results))}

### One silent client

${markdownTable(silentTable(results))}

### Idle connections

${markdownTable(idleTable(results))}

### Churn

${results.churn.length > 0 ? markdownTable(churnTable(results)) : 'Not measured in this run.'}

### Every run, concurrency 100

The load generator does roughly the same work per handshake whatever the server, so its CPU time per
handshake shows how fast the machine was during each window.

${markdownTable(everyRunTable(results, 100))}

## Was the load generator the bottleneck?

${loadGeneratorNotes(results).join('\n')}

## Where our server's CPU goes

${profileSection(results)}

## The floor: the machines alone

${floorSection(results)}

## Notes from this run

${notes}
${irc ? `\n${ircSection(irc)}` : ''}`;
}

// --- Chat (IRC) ------------------------------------------------------------------------------
// The fan-out benchmark (bench/ircFanout.ts) writes docs/bench-irc-results.json with --write; the
// page ends with a section built from it when the file exists. The benchmark's terminal tables
// come from here too, so the two cannot disagree. JSON turns NaN into null: every figure is read
// through num().

export type IrcKind = 'ours' | 'bare' | 'ngircd' | 'inspircd' | 'redis2';
export const ircLabels: Record<IrcKind, string> = {
  ours: 'ours (xstate)',
  bare: 'bare relay',
  ngircd: 'ngircd',
  inspircd: 'InspIRCd',
  redis2: 'ours on Redis, 2 nodes',
};
export const ircResultsVersion = 1;
const ircResultsFile = fileURLToPath(new URL('../../../docs/bench-irc-results.json', import.meta.url));

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
  stop: { ms: number; exitCode: number | null; signal: string | null; killed: boolean } | null;
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
  /** Registrations in flight at once (absent in older results: IrcRegistration's concurrency). */
  concurrency?: number;
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

export interface IrcResults {
  version: number;
  startedAt: string;
  elapsedS: number;
  machine: BenchResults['machine'];
  settings: { runs: number; quick: boolean; warmupMs: number; windowMs: number; loadProcesses: number; textBytes: number };
  ngircd: string | null;
  /** Absent in results written before InspIRCd was measured. */
  inspircd?: string | null;
  redis: string | null;
  kinds: IrcKind[];
  scenarios: IrcScenario[];
  runs: IrcFigures[];
  nodeDeath: IrcDeath | null;
  /** Absent in results written before these were measured. */
  registration?: IrcRegistration | null;
  idle?: IrcIdle | null;
  neverReader?: IrcNeverReader | null;
  /** Each single-process kind's listen backlog (`ss -ltn`), read when it first started. */
  listenBacklogs?: Partial<Record<IrcKind, number | null>>;
  notes: string[];
}

type IrcPick = (f: IrcFigures) => number | null;
/** One row of a table of medians by kind; `ratio`: shown against the other kinds. */
interface IrcMetric<F> {
  label: string;
  digits: number;
  pick: (f: F) => number | null;
  ratio: boolean;
}
const perDelivery = (f: IrcFigures, v: number | null): number => num(v) / f.deliveries;
const perSent = (f: IrcFigures, v: number | null): number => num(v) / f.sentInWindow;

/** `ratio`: shown against the other kinds (ours/baseline, Redis/ours). */
const ircMetrics: Array<IrcMetric<IrcFigures>> = [
  { label: 'deliveries/s', digits: 0, pick: (f) => f.perSecond, ratio: true },
  { label: 'latency p50 (ms)', digits: 2, pick: (f) => f.p50Ms, ratio: true },
  { label: 'latency p99 (ms)', digits: 2, pick: (f) => f.p99Ms, ratio: true },
  { label: 'latency max (ms)', digits: 1, pick: (f) => f.maxMs, ratio: true },
  { label: 'server CPU per delivery (µs; both nodes)', digits: 2, pick: (f) => 1000 * perDelivery(f, f.serverCpuMs), ratio: true },
  { label: 'server CPU (% of one core; both nodes)', digits: 0, pick: (f) => (100 * f.serverCpuMs) / f.windowMs, ratio: true },
  { label: 'Redis CPU per delivery (µs)', digits: 2, pick: (f) => 1000 * perDelivery(f, f.redisCpuMs), ratio: false },
  { label: 'Redis CPU (% of one core)', digits: 0, pick: (f) => (100 * num(f.redisCpuMs)) / f.windowMs, ratio: false },
  { label: 'server + Redis CPU per delivery (µs)', digits: 2, pick: (f) => 1000 * perDelivery(f, f.serverCpuMs + (f.redisCpuMs ?? 0)), ratio: true },
  { label: 'Redis commands per delivery', digits: 3, pick: (f) => perDelivery(f, f.redisCalls), ratio: false },
  { label: 'Redis commands per message sent', digits: 2, pick: (f) => perSent(f, f.redisCalls), ratio: false },
  { label: 'server write syscalls per delivery', digits: 3, pick: (f) => f.serverWrites / f.deliveries, ratio: true },
  { label: 'server RSS before clients (MiB)', digits: 1, pick: (f) => mib(f.rssIdleBytes), ratio: true },
  { label: 'server RSS, peak in window (MiB)', digits: 1, pick: (f) => mib(f.rssPeakBytes), ratio: true },
  { label: 'load gen CPU, all processes (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMs) / f.windowMs, ratio: false },
  { label: 'load gen CPU, busiest process (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMaxMs) / f.windowMs, ratio: false },
  { label: 'load gen sends late > 10 ms', digits: 0, pick: (f) => f.lateSends, ratio: false },
  { label: 'machine busy in window (% of all CPUs)', digits: 0, pick: (f) => 100 * f.machineBusy, ratio: false },
  { label: 'rest of machine in window (% of one core)', digits: 0, pick: (f) => (100 * f.othersCpuMs) / f.windowMs, ratio: false },
  { label: 'machine busy just before (% of all CPUs)', digits: 0, pick: (f) => 100 * f.busyBefore, ratio: false },
  { label: 'deliveries missing 1-5 s after last send', digits: 0, pick: (f) => f.missing, ratio: false },
  { label: 'clients dropped in run', digits: 0, pick: (f) => f.disconnected, ratio: false },
  { label: 'clients not joined', digits: 0, pick: (f) => totalFailures(f.connectFailures), ratio: false },
  { label: 'connect + register + join (s)', digits: 2, pick: (f) => f.connectMs / 1000, ratio: false },
];

const ircOrder: IrcKind[] = ['ours', 'bare', 'ngircd', 'inspircd', 'redis2'];
/** The kinds ours is compared with (ours/kind columns). */
const ircBaselines: readonly IrcKind[] = ['bare', 'ngircd', 'inspircd'];

/** One scenario's medians by kind, with ours against each baseline and two nodes against ours. */
export function ircScenarioTable(runs: readonly IrcFigures[], kinds: readonly IrcKind[]): Table {
  return ircKindTable(runs, kinds, ircMetrics);
}

const registrationMetrics: Array<IrcMetric<IrcRegistrationFigures>> = [
  { label: 'registrations in flight', digits: 0, pick: (f) => f.concurrency ?? null, ratio: false },
  { label: 'registrations/s', digits: 0, pick: (f) => f.perSecond, ratio: true },
  { label: 'connect → 001 p50 (ms)', digits: 2, pick: (f) => f.p50Ms, ratio: true },
  { label: 'connect → 001 p99 (ms)', digits: 2, pick: (f) => f.p99Ms, ratio: true },
  { label: 'connect → 001 max (ms)', digits: 1, pick: (f) => f.maxMs, ratio: true },
  { label: 'server CPU per registration (µs)', digits: 1, pick: (f) => (1000 * f.serverCpuMs) / f.registrations, ratio: true },
  { label: 'server CPU (% of one core)', digits: 0, pick: (f) => (100 * f.serverCpuMs) / f.windowMs, ratio: true },
  { label: 'server RSS before the storm (MiB)', digits: 1, pick: (f) => mib(f.rssIdleBytes), ratio: true },
  { label: 'server RSS, peak in window (MiB)', digits: 1, pick: (f) => mib(f.rssPeakBytes), ratio: true },
  { label: 'load gen CPU per registration (µs)', digits: 1, pick: (f) => (1000 * f.loadCpuMs) / f.registrations, ratio: false },
  { label: 'load gen CPU, all processes (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMs) / f.windowMs, ratio: false },
  { label: 'load gen CPU, busiest process (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMaxMs) / f.windowMs, ratio: false },
  { label: 'machine busy in window (% of all CPUs)', digits: 0, pick: (f) => 100 * f.machineBusy, ratio: false },
  { label: 'rest of machine in window (% of one core)', digits: 0, pick: (f) => (100 * f.othersCpuMs) / f.windowMs, ratio: false },
  { label: 'machine busy just before (% of all CPUs)', digits: 0, pick: (f) => 100 * f.busyBefore, ratio: false },
  { label: 'attempts without a 001', digits: 0, pick: (f) => totalFailures(f.failures), ratio: false },
  { label: 'not closed after QUIT', digits: 0, pick: (f) => f.quitTimeouts, ratio: false },
  { label: 'SYNs dropped on a full accept queue', digits: 0, pick: (f) => f.listenOverflows, ratio: false },
];

/** Growth from the "before" reading to the "after" one, per registered client (bytes). */
const perIdleClient = (before: number | null, after: number | null, f: IrcIdleFigures): number => (num(after) - num(before)) / f.registered;

const idleMetrics: Array<IrcMetric<IrcIdleFigures>> = [
  { label: 'clients registered and idle', digits: 0, pick: (f) => f.registered, ratio: false },
  { label: 'RSS growth per client (KiB)', digits: 2, pick: (f) => kib(perIdleClient(f.rssBeforeBytes, f.rssAfterBytes, f)), ratio: true },
  { label: 'heap used after GC, growth per client (KiB)', digits: 2, pick: (f) => kib(perIdleClient(f.heapBeforeBytes, f.heapAfterBytes, f)), ratio: true },
  { label: 'server RSS before the clients (MiB)', digits: 1, pick: (f) => mib(f.rssBeforeBytes), ratio: true },
  { label: 'server RSS with the clients (MiB)', digits: 1, pick: (f) => mib(f.rssAfterBytes), ratio: true },
  { label: 'heap used after GC, before the clients (MiB)', digits: 1, pick: (f) => (f.heapBeforeBytes === null ? null : mib(f.heapBeforeBytes)), ratio: true },
  { label: 'heap used after GC, with the clients (MiB)', digits: 1, pick: (f) => (f.heapAfterBytes === null ? null : mib(f.heapAfterBytes)), ratio: true },
  { label: 'server CPU while idle (% of one core)', digits: 1, pick: (f) => (100 * f.idleCpuMs) / f.holdMs, ratio: false },
  { label: 'connect + register all (s)', digits: 2, pick: (f) => f.connectMs / 1000, ratio: true },
  { label: 'clients not registered', digits: 0, pick: (f) => totalFailures(f.failures), ratio: false },
];

/** The kinds the registration storm and the idle clients measure: one process each, no Redis. */
export const ircSingleKinds = (kinds: readonly IrcKind[]): IrcKind[] => kinds.filter((k) => k !== 'redis2');

/** The registration storm's medians by kind, with ours against each baseline. */
export function ircRegistrationTable(r: IrcRegistration, kinds: readonly IrcKind[]): Table {
  return ircKindTable(r.runs, ircSingleKinds(kinds), registrationMetrics);
}

/** The idle clients' medians by kind, with ours against each baseline. */
export function ircIdleTable(r: IrcIdle, kinds: readonly IrcKind[]): Table {
  return ircKindTable(r.runs, ircSingleKinds(kinds), idleMetrics);
}

/** Medians by kind, ours against each baseline and two nodes against ours. */
function ircKindTable<F extends { server: IrcKind }>(runs: readonly F[], kinds: readonly IrcKind[], metrics: ReadonlyArray<IrcMetric<F>>): Table {
  const shown = ircOrder.filter((k) => kinds.includes(k));
  const m = (kind: IrcKind, pick: (f: F) => number | null): number => med(runs.filter((f) => f.server === kind), pick);
  const baselines = shown.filter((k) => ircBaselines.includes(k));
  const redis = shown.includes('redis2') && shown.includes('ours');
  const header = ['figure (median)', ...shown.map((k) => ircLabels[k]), ...baselines.map((k) => `ours/${k}`), ...(redis ? ['2 nodes/ours'] : [])];
  const rows = metrics.map((x) => [
    x.label,
    ...shown.map((k) => fmt(m(k, x.pick), x.digits)),
    ...baselines.map((k) => (x.ratio ? ratio(m('ours', x.pick), m(k, x.pick)) : '')),
    ...(redis ? [x.ratio ? ratio(m('redis2', x.pick), m('ours', x.pick)) : ''] : []),
  ]);
  return { header, align: `l${'r'.repeat(header.length - 1)}`, rows };
}

/**
 * Redis's commands by name, per message sent (medians of the Redis kind's runs), most called
 * first. An EVALSHA's time includes the calls its script makes, which are also listed under their
 * own names: the times do not add up, so the total row has none.
 */
export function ircCommandTable(runs: readonly IrcFigures[]): Table | null {
  const withStats = runs.filter((f) => f.server === 'redis2' && f.redisByCommand);
  if (withStats.length === 0) return null;
  const names = [...new Set(withStats.flatMap((f) => Object.keys(f.redisByCommand ?? {})))];
  const of = (name: string, key: 'calls' | 'usec'): number => med(withStats, (f) => perSent(f, f.redisByCommand?.[name]?.[key] ?? 0));
  const rows = names
    .map((name) => ({ name, calls: of(name, 'calls'), usec: of(name, 'usec') }))
    .filter((r) => r.calls >= 0.005)
    .sort((a, b) => b.calls - a.calls);
  return {
    header: ['Redis command', 'calls per message sent', 'µs in Redis per message sent'],
    align: 'lrr',
    rows: [
      ...rows.map((r) => [r.name.toUpperCase(), fmt(r.calls, 2), fmt(r.usec, 1)]),
      ['all', fmt(med(withStats, (f) => perSent(f, f.redisCalls)), 2), ''],
    ],
  };
}

/** The node-death runs: SIGKILL and SIGTERM side by side. */
export function ircDeathTable(d: IrcDeath): Table {
  const by = (signal: IrcDeathRun['signal']): IrcDeathRun[] => d.runs.filter((r) => r.signal === signal);
  const s = (ms: number): string => fmt(ms / 1000, 2);
  const max = (rs: IrcDeathRun[], pick: (r: IrcDeathRun) => number | null): number =>
    rs.length > 0 && rs.every((r) => pick(r) !== null) ? Math.max(...rs.map((r) => num(pick(r)))) : Number.NaN;
  const row = (label: string, f: (rs: IrcDeathRun[]) => string): string[] => [label, f(by('SIGKILL')), f(by('SIGTERM'))];
  return {
    header: ['node B stopped by', 'SIGKILL', 'SIGTERM'],
    align: 'lrr',
    rows: [
      row('runs', (rs) => String(rs.length)),
      row(`runs where the observer saw all ${d.clients} QUITs`, (rs) => `${rs.filter((r) => r.allQuitsMs !== null).length}/${rs.length}`),
      row(`signal → all ${d.clients} QUITs seen on node A (s), median`, (rs) => s(med(rs, (r) => r.allQuitsMs))),
      row(`signal → all ${d.clients} QUITs seen on node A (s), max`, (rs) => s(max(rs, (r) => r.allQuitsMs))),
      row('signal → first QUIT seen (s), median', (rs) => s(med(rs, (r) => r.firstQuitMs))),
      row('signal → node B exited (s), median', (rs) => s(med(rs, (r) => r.exitMs))),
      row('signal → node B exited (s), max', (rs) => s(max(rs, (r) => r.exitMs))),
    ],
  };
}

const ircDeliveryCpu: IrcPick = (f) => 1000 * perDelivery(f, f.serverCpuMs);
/** One figure of a never-reader run, with it over without it (same process, back to back). */
const withOver =
  (pick: IrcPick) =>
  (r: IrcNeverReaderRun): number =>
    num(pick(r.with)) / num(pick(r.without));

const neverReaderMetrics: Array<IrcMetric<IrcNeverReaderRun>> = [
  { label: "the server's limit on a client's unread output (KiB)", digits: 0, pick: (r) => (r.sendqBytes === null ? null : kib(r.sendqBytes)), ratio: false },
  { label: 'its first unread line → dropped (s)', digits: 2, pick: (r) => (r.dropMs === null ? null : r.dropMs / 1000), ratio: true },
  { label: 'everyone else: latency p99 without it (ms)', digits: 2, pick: (r) => r.without.p99Ms, ratio: true },
  { label: 'everyone else: latency p99 with it (ms)', digits: 2, pick: (r) => r.with.p99Ms, ratio: true },
  { label: 'p99 with / without', digits: 2, pick: withOver((f) => f.p99Ms), ratio: false },
  { label: 'latency p50 without it (ms)', digits: 2, pick: (r) => r.without.p50Ms, ratio: false },
  { label: 'latency p50 with it (ms)', digits: 2, pick: (r) => r.with.p50Ms, ratio: false },
  { label: 'latency max without it (ms)', digits: 1, pick: (r) => r.without.maxMs, ratio: false },
  { label: 'latency max with it (ms)', digits: 1, pick: (r) => r.with.maxMs, ratio: false },
  { label: 'deliveries/s with / without', digits: 2, pick: withOver((f) => f.perSecond), ratio: false },
  { label: 'server CPU per delivery with / without', digits: 2, pick: withOver(ircDeliveryCpu), ratio: false },
  { label: 'server RSS, peak with it (MiB)', digits: 1, pick: (r) => mib(r.with.rssPeakBytes), ratio: true },
  { label: 'other clients dropped with it', digits: 0, pick: (r) => r.with.disconnected, ratio: false },
];

/**
 * Noise, for the never-reader: a p99 with it is "unchanged" while it stays under the highest p99
 * of the runs without it (their spread), and in any case under their median plus 10 % or 1 ms,
 * whichever is more, so that one run, or runs that agree closely, still leave room for a
 * scheduling delay on two shared cores.
 */
const ircNoiseShare = 0.1;
const ircNoiseFloorMs = 1;
const p99Without = (rs: readonly IrcNeverReaderRun[]): number[] => rs.map((x) => num(x.without.p99Ms)).filter(Number.isFinite);
function ircNoiseCeilingMs(rs: readonly IrcNeverReaderRun[]): number {
  const without = p99Without(rs);
  const m = median(without);
  return without.length === 0 ? Number.NaN : Math.max(...without, (1 + ircNoiseShare) * m, m + ircNoiseFloorMs);
}
const ircWithinNoise = (rs: readonly IrcNeverReaderRun[]): boolean | null => {
  const ceiling = ircNoiseCeilingMs(rs);
  const p99 = med(rs, (x) => x.with.p99Ms);
  return Number.isFinite(ceiling) && Number.isFinite(p99) ? p99 <= ceiling : null;
};

/** The never-reader's medians by kind, with the noise each p99 with it is held to. */
export function ircNeverReaderTable(nr: IrcNeverReader, kinds: readonly IrcKind[]): Table {
  const t = ircKindTable(nr.runs, ircSingleKinds(kinds), neverReaderMetrics);
  const shown = ircOrder.filter((k) => ircSingleKinds(kinds).includes(k));
  const blanks = t.header.length - 1 - shown.length;
  const by = (k: IrcKind): IrcNeverReaderRun[] => nr.runs.filter((x) => x.server === k);
  const row = (label: string, cell: (rs: IrcNeverReaderRun[]) => string): string[] => [label, ...shown.map((k) => cell(by(k))), ...Array<string>(blanks).fill('')];
  t.rows.push(
    row('runs dropped / runs', (rs) => `${rs.filter((x) => x.dropMs !== null).length}/${rs.length}`),
    row(`noise: p99 of the runs without it, highest (at least median +${pct(ircNoiseShare)}, +${ircNoiseFloorMs} ms) (ms)`, (rs) => fmt(ircNoiseCeilingMs(rs), 2)),
    row('p99 with it within that noise', (rs) => {
      const within = ircWithinNoise(rs);
      return within === null ? 'n/a' : within ? 'yes' : 'NO';
    }),
  );
  return t;
}

/** Issue 11's targets against ngircd (and InspIRCd, the figure to beat), from the medians. */
export function ircVerdicts(r: IrcResults): Verdict[] {
  const out: Verdict[] = [];
  const against = <F extends { server: IrcKind }>(runs: readonly F[], pick: (f: F) => number | null, digits: number, unit: string): { ours: number; ngircd: number; measured: string } => {
    const m = (kind: IrcKind): number => med(runs.filter((f) => f.server === kind), pick);
    const peers = (['ngircd', 'inspircd'] as const).filter((k) => Number.isFinite(m(k)));
    return {
      ours: m('ours'),
      ngircd: m('ngircd'),
      measured: `ours ${fmt(m('ours'), digits)} ${unit}${peers.map((k) => `, ${ircLabels[k]} ${fmt(m(k), digits)} (ours ${ratio(m('ours'), m(k))})`).join('')}`,
    };
  };
  const verdict = (ok: boolean, ...v: number[]): Verdict['verdict'] => (v.every(Number.isFinite) ? (ok ? 'PASS' : 'MISS') : 'n/a');
  for (const sc of r.scenarios) {
    const runs = r.runs.filter((f) => f.scenario === sc.name);
    const cpu = against(runs, ircDeliveryCpu, 2, 'µs');
    out.push({ target: `${sc.name}: server CPU per delivered message ≤ ngircd's (InspIRCd's the figure to beat)`, measured: cpu.measured, verdict: verdict(cpu.ours <= cpu.ngircd, cpu.ours, cpu.ngircd) });
    const p99 = against(runs, (f) => f.p99Ms, 2, 'ms');
    out.push({ target: `${sc.name}: p99 delivery latency ≤ ngircd's at the same load (${fmt(sc.offeredPerSecond, 0)} deliveries/s)`, measured: p99.measured, verdict: verdict(p99.ours <= p99.ngircd, p99.ours, p99.ngircd) });
  }
  if (r.idle && r.idle.runs.length > 0) {
    const rss = against(r.idle.runs, (f) => kib(perIdleClient(f.rssBeforeBytes, f.rssAfterBytes, f)), 2, 'KiB RSS');
    out.push({ target: "memory per idle registered client ≤ 2× ngircd's", measured: rss.measured, verdict: verdict(rss.ours <= 2 * rss.ngircd, rss.ours, rss.ngircd) });
  }
  const nr = r.neverReader?.runs.filter((x) => x.server === 'ours') ?? [];
  if (nr.length > 0) {
    const within = ircWithinNoise(nr);
    out.push({
      target: `a never-reading client changes nobody else's p99 beyond noise (the spread of the runs without it, at least +${pct(ircNoiseShare)} or +${ircNoiseFloorMs} ms)`,
      measured:
        `ours p99 ${fmt(med(nr, (x) => x.without.p99Ms), 2)} ms without it, ${fmt(med(nr, (x) => x.with.p99Ms), 2)} ms with it ` +
        `(noise ceiling ${fmt(ircNoiseCeilingMs(nr), 2)} ms); dropped after ${fmt(med(nr, (x) => (x.dropMs === null ? null : x.dropMs / 1000)), 2)} s`,
      verdict: within === null ? 'n/a' : within ? 'PASS' : 'MISS',
    });
  }
  return out;
}

/**
 * A window in which the rest of the machine (other processes, unattributed kernel work) used more
 * than this share of one core is named in the notes: its figures were shared with someone else.
 */
const ircDisturbedShare = 0.25;

function ircDisturbed(r: IrcResults): string[] {
  const hit = r.runs.filter((f) => num(f.othersCpuMs) / f.windowMs > ircDisturbedShare);
  if (hit.length === 0) return [];
  return [
    `${hit.length} of ${r.runs.length} windows had the rest of the machine above ${pct(ircDisturbedShare)} of a core (other work on this ` +
      `shared machine): ${hit.map((f) => `${f.scenario} ${ircLabels[f.server]} (${pct(f.othersCpuMs / f.windowMs)})`).join(', ')}. ` +
      'The medians lean on the other runs; the ratios compare kinds measured seconds apart.',
  ];
}

/** A few sentences from the medians: what two nodes on Redis cost against one node. */
function ircSummary(r: IrcResults): string[] {
  const out: string[] = [];
  for (const sc of r.scenarios) {
    const runs = r.runs.filter((f) => f.scenario === sc.name);
    const m = (kind: IrcKind, pick: IrcPick): number => med(runs.filter((f) => f.server === kind), pick);
    const one = (pick: IrcPick): number => m('ours', pick);
    const two = (pick: IrcPick): number => m('redis2', pick);
    if (!Number.isFinite(two((f) => f.perSecond))) continue;
    const cpu: IrcPick = (f) => 1000 * perDelivery(f, f.serverCpuMs);
    const rcpu: IrcPick = (f) => 1000 * perDelivery(f, f.redisCpuMs);
    const sent = (name: string): IrcPick => (f) => perSent(f, f.redisByCommand?.[name]?.calls ?? 0);
    out.push(
      `- **${sc.name}** (${fmt(sc.offeredPerSecond, 0)} deliveries/s offered): two nodes on Redis delivered ` +
        `${fmt(two((f) => f.perSecond), 0)}/s (${ratio(two((f) => f.perSecond), one((f) => f.perSecond))} one node's ` +
        `${fmt(one((f) => f.perSecond), 0)}/s), p99 ${fmt(two((f) => f.p99Ms), 2)} ms against ${fmt(one((f) => f.p99Ms), 2)} ms; ` +
        `a delivery cost ${fmt(two(cpu), 2)} µs of CPU in the two nodes plus ${fmt(two(rcpu), 2)} µs in Redis, against ` +
        `${fmt(one(cpu), 2)} µs in one node (${ratio(two((f) => 1000 * perDelivery(f, f.serverCpuMs + (f.redisCpuMs ?? 0))), one(cpu))}); ` +
        `Redis ran ${fmt(two((f) => perSent(f, f.redisCalls)), 1)} commands per message sent ` +
        `(${fmt(two(sent('evalsha')), 1)} EVALSHA and ${fmt(two(sent('publish')), 1)} PUBLISH among them, the rest mostly inside the scripts), ` +
        `${fmt(two((f) => perDelivery(f, f.redisCalls)), 3)} per delivery.`,
    );
  }
  const d = r.nodeDeath;
  if (d) {
    const kill = d.runs.filter((x) => x.signal === 'SIGKILL');
    const term = d.runs.filter((x) => x.signal === 'SIGTERM');
    out.push(
      `- **A node's death**: with \`--node-timeout ${d.nodeTimeoutMs}\`, the users of a SIGKILLed node were gone for the ` +
        `other node in ${fmt(med(kill, (x) => x.allQuitsMs) / 1000, 2)} s (median of ${kill.length}; slowest ` +
        `${fmt(Math.max(...kill.map((x) => num(x.allQuitsMs))) / 1000, 2)} s; at most timeout + one ${d.heartbeatMs / 1000} s beat is expected, ` +
        `so ${(d.defaultNodeTimeoutMs + d.heartbeatMs) / 1000} s with the default ${d.defaultNodeTimeoutMs / 1000} s timeout). ` +
        (term.length > 0
          ? `On SIGTERM they were gone in ${fmt(med(term, (x) => x.allQuitsMs) / 1000, 2)} s and the node had exited in ` +
            `${fmt(med(term, (x) => x.exitMs) / 1000, 2)} s.`
          : ''),
    );
  }
  return out;
}

/** The baselines' names in a sentence. */
const ircTheLabel = { bare: 'the bare relay', ngircd: 'ngircd', inspircd: 'InspIRCd' } as const;

/** The kinds whose storm ran with other than the usual number of slots, as `; InspIRCd 2,000`. */
function ircOtherSlots(g: IrcRegistration): string {
  const other = ircOrder
    .map((k) => [k, g.runs.find((f) => f.server === k)?.concurrency] as const)
    .filter(([, n]) => n !== undefined && n !== g.concurrency);
  return other.map(([k, n]) => `; ${ircLabels[k]} ${fmt(num(n), 0)}`).join('');
}

/** A few sentences from the medians: what a registration and an idle client cost against the baselines. */
function ircCostSummary(r: IrcResults): string[] {
  const out: string[] = [];
  const g = r.registration;
  if (g && g.runs.length > 0) {
    const m = (kind: IrcKind, pick: (f: IrcRegistrationFigures) => number | null): number => med(g.runs.filter((f) => f.server === kind), pick);
    const cpu = (f: IrcRegistrationFigures): number => (1000 * f.serverCpuMs) / f.registrations;
    const against = (['bare', 'ngircd', 'inspircd'] as const)
      .filter((kind) => Number.isFinite(m(kind, cpu)))
      .map((kind) => `${fmt(m(kind, cpu), 0)} µs in ${ircTheLabel[kind]} (ours ${ratio(m('ours', cpu), m(kind, cpu))})`);
    out.push(
      `- **A registration** (connect, NICK/USER, 001, QUIT, close; ${g.concurrency} at once${ircOtherSlots(g)}) cost ours ${fmt(m('ours', cpu), 0)} µs of CPU` +
        `${against.length > 0 ? `, against ${against.join(' and ')}` : ''}; ours completed ${fmt(m('ours', (f) => f.perSecond), 0)} registrations/s, ` +
        `its 001 came ${fmt(m('ours', (f) => f.p50Ms), 1)} ms after connect() at the median.`,
    );
  }
  const i = r.idle;
  if (i && i.runs.length > 0) {
    const m = (kind: IrcKind, pick: (f: IrcIdleFigures) => number | null): number => med(i.runs.filter((f) => f.server === kind), pick);
    const rss = (f: IrcIdleFigures): number => kib(perIdleClient(f.rssBeforeBytes, f.rssAfterBytes, f));
    const heap = (f: IrcIdleFigures): number => kib(perIdleClient(f.heapBeforeBytes, f.heapAfterBytes, f));
    const against = (['bare', 'ngircd', 'inspircd'] as const)
      .filter((kind) => Number.isFinite(m(kind, rss)))
      .map((kind) => `${fmt(m(kind, rss), 1)} KiB in ${ircTheLabel[kind]} (ours ${ratio(m('ours', rss), m(kind, rss))})`);
    out.push(
      `- **An idle registered client** (${i.clients.toLocaleString('en')} of them) grew ours' RSS by ${fmt(m('ours', rss), 1)} KiB` +
        `${against.length > 0 ? `, against ${against.join(' and ')}` : ''}; ` +
        `ours' heap after GC grew by ${fmt(m('ours', heap), 2)} KiB per client (bare relay: ${fmt(m('bare', heap), 2)} KiB, ${ratio(m('ours', heap), m('bare', heap))}).`,
    );
  }
  return out;
}

/** The listen backlogs `ss -ltn` showed, as a sentence (empty for results without them). */
function ircBacklogSentence(r: IrcResults): string {
  const known = ircOrder.filter((k) => r.listenBacklogs?.[k] != null);
  return known.length === 0 ? '' : ` Listen backlogs (\`ss -ltn\`): ${known.map((k) => `${ircLabels[k]} ${r.listenBacklogs?.[k]}`).join(', ')}.`;
}

/** The never-reader's subsection; empty when it was not measured. */
function ircNeverReaderSection(r: IrcResults): string {
  const nr = r.neverReader;
  if (!nr || nr.runs.length === 0) return '';
  const reasons = ircOrder
    .map((k) => [k, nr.runs.find((x) => x.server === k && x.dropReason !== null)?.dropReason] as const)
    .filter(([, why]) => why != null)
    .map(([k, why]) => `${ircLabels[k]} \`${why}\``);
  return `### One client that never reads

The ${nr.scenario} load, each server with its own limit on a client's unread output (ours: the default
\`--sendq\`; ngircd: its 32 KiB write buffer, compiled in; InspIRCd: its default \`hardsendq\` of 1 MiB; the
bare relay has none and is not waited for). In one server process, back to back: a ${nr.windowMs / 1000} s window after the
warm-up without it; then one more client joins the first channel, after everyone else, and never reads
again; a second ${nr.windowMs / 1000} s window starts with the first line sent after that, the first it does not read, and
the sends go on past it until the server drops it (everyone else sees its QUIT) or ${fmt(Math.max(...nr.runs.map((x) => x.holdMs)) / 1000, 0)} s pass. What the
others see is compared between the two windows. The never-reader is a python3 client that announces an
Ethernet path's MSS (1448; Node cannot set TCP_MAXSEG): with loopback's MSS of 64 KiB the kernel sizes the
server's send buffer at ~4 MB, 100 s of this load's lines, before any server's own limit is reached. Even
so its unread lines first fill the kernel's buffers, its receive buffer (128 KiB) and the server's send
buffer, which Linux may grow on its own (ours' grew from 69 KB to ~1 MB within 8 s in a probe with
\`ss -tm\`): the time to the drop is those plus the server's limit, at ~40 KB/s. ngircd's QUIT to the channel gives the nick as its reason (its log
says the write buffer was exhausted).
*Noise*: a p99 with it counts as unchanged while it is at most the highest p99 of the runs without it, and
in any case at most their median +${pct(ircNoiseShare)} or +${ircNoiseFloorMs} ms, whichever is more (one run has no spread).${reasons.length > 0 ? ` QUIT reasons seen: ${reasons.join(', ')}.` : ''}

${markdownTable(ircNeverReaderTable(nr, r.kinds))}`;
}

/** The registration storm's and the idle clients' subsections; empty when neither was measured. */
function ircCostSection(r: IrcResults): string {
  const parts: string[] = [];
  const g = r.registration;
  if (g && g.runs.length > 0) {
    parts.push(`### What a session costs: a registration storm

${g.concurrency} clients at once, in the load-generator processes: each connects, sends NICK and USER, waits for
the 001, sends QUIT and waits for the server to close (the server closes first, so TIME_WAIT stays on its
side), then starts again: a closed loop. ${g.warmupMs / 1000} s of storm before a ${g.windowMs / 1000} s window. *connect → 001* runs from
\`connect()\` to the 001 line. *Server CPU per registration* is the server's CPU in the window divided by the
001s received in it: accepting, registering, the welcome burst, the QUIT and the close, and the server's
own log lines (ours writes three JSON lines per connection, ngircd about five; the bare relay none). The
bursts differ: ours and ngircd send 001–005, LUSERS and the MOTD; the bare relay only 001 and 376.
ngircd listens with a backlog of 10 (compiled in, not in its config): a SYN that finds its accept queue full
is dropped and retried after 1 s, which shows in its max; the last row counts such drops on the whole machine.
InspIRCd 3 sends the 001 only on its once-a-second tick (UserManager::DoBackgroundUserStuff completes every
registration whose NICK and USER have come): its connect → 001 is about a second whatever its load (the closed
loop lines the attempts up behind the tick), and its registrations/s are its slots per second. It gets 2,000
slots instead of ${g.concurrency}, so that its CPU per registration rests on more than a few /proc ticks.${ircBacklogSentence(r)}

${markdownTable(ircRegistrationTable(g, r.kinds))}`);
  }
  const i = r.idle;
  if (i && i.runs.length > 0) {
    parts.push(`### What a session costs: idle clients

${i.clients.toLocaleString('en')} clients register (end of the MOTD seen), join nothing and stay idle for ${i.holdMs / 1000} s, answering any PING.
Before them, ${i.warmClients} clients register and leave, so that the code they run is compiled and warm; the
"before" reading comes after that. *RSS* is the server's process tree's (/proc); for the Node servers the
server is started with \`--expose-gc\` and a preloaded probe (bench/ircHeapProbe.ts) that, on a signal, runs
a full GC and reports *heap used*; their RSS is read just after it. Growth per client = (with the clients −
before) / clients registered. ngircd and InspIRCd are C and C++: RSS only. InspIRCd registers 1,000 at once
(the others 8, under ngircd's backlog of 10), since it completes registrations only once a second.

${markdownTable(ircIdleTable(i, r.kinds))}`);
  }
  return parts.join('\n\n');
}

/** The "Chat (IRC)" section of docs/benchmarks.md. */
function ircSection(r: IrcResults): string {
  const s = r.settings;
  const m = r.machine;
  const parts: string[] = [];
  for (const sc of r.scenarios) {
    const runs = r.runs.filter((f) => f.scenario === sc.name);
    if (runs.length === 0) continue;
    const commands = ircCommandTable(runs);
    parts.push(
      `### ${sc.name}: ${sc.clients.toLocaleString('en')} clients in ${sc.channels} channel${sc.channels > 1 ? 's' : ''} of ` +
        `${(sc.clients / sc.channels).toLocaleString('en')}, ${fmt(sc.offeredPerSecond, 0)} deliveries/s offered\n\n` +
        markdownTable(ircScenarioTable(runs, r.kinds)) +
        (commands ? `\n\nWhat Redis ran for two nodes, by command (scripts' own calls counted under their names):\n\n${markdownTable(commands)}` : ''),
    );
  }
  const d = r.nodeDeath;
  const death = d
    ? `Two nodes on a fresh Redis, both with \`--node-timeout ${d.nodeTimeoutMs}\` (a node beats every ${d.heartbeatMs} ms): one
observer on node A and ${d.clients} clients on node B in one channel. Then node B gets a signal, and the
time runs until the observer has seen the QUIT of each of the ${d.clients}. Run *i* of *n* sends the signal
(*i* − 1)/*n* of a beat after the last join, so that the runs meet node B's beat at different points. After a SIGKILL nobody says
goodbye: node B's presence key expires ${d.nodeTimeoutMs / 1000} s after its last beat, node A sees it on its next beat and
publishes the QUITs, so between ${(d.nodeTimeoutMs - d.heartbeatMs) / 1000} and ${(d.nodeTimeoutMs + d.heartbeatMs) / 1000} s is expected (timeout ± one beat, plus
the clean-up); with the default \`--node-timeout ${d.defaultNodeTimeoutMs}\`, ${(d.defaultNodeTimeoutMs - d.heartbeatMs) / 1000} to ${(d.defaultNodeTimeoutMs + d.heartbeatMs) / 1000} s. After a
SIGTERM node B quits its users itself and publishes each QUIT before it leaves.${
        d.runs.find((x) => x.reason) ? ` The QUIT reason the observer saw after a SIGKILL: \`${d.runs.find((x) => x.signal === 'SIGKILL' && x.reason)?.reason ?? ''}\`.` : ''
      }

${markdownTable(ircDeathTable(d))}`
    : 'Not measured in this run.';
  const allNotes = [...r.notes, ...ircDisturbed(r)];
  const notes = allNotes.length > 0 ? allNotes.map((n) => `- ${n}`).join('\n') : '- none';
  return `## Chat (IRC)

Generated by \`npm run bench:irc -- --write\` (bench/ircFanout.ts) on ${r.startedAt.slice(0, 10)}, from
[bench-irc-results.json](bench-irc-results.json); the run took ${fmt(r.elapsedS / 60, 1)} minutes. Every figure is the
median of ${s.runs} run${s.runs === 1 ? '' : 's'}.${s.quick ? ' **A --quick run: shorter windows, not for comparison.**' : ''}

**All on one ${m.nproc}-CPU machine** (${m.cpu}, Node ${m.node}). The server under test and ${s.loadProcesses} load-generator processes share ${m.nproc} cores;
for *ours on Redis, 2 nodes* that is two node processes, \`redis-server\` and the load generators on
the same ${m.nproc} cores. That column therefore shows what going through Redis costs, not what a second
machine would add: there is no spare core here for a second node to use.

${[...ircSummary(r), ...ircCostSummary(r)].join('\n')}

### Targets (issue 11)

${markdownTable(verdictTable(ircVerdicts(r)))}

### Method

- **Load.** Each client sends one PRIVMSG to its channel every *period* ms, its send time in the text
  (CLOCK_MONOTONIC, one clock for every process); every other member's client counts the delivery
  and its latency (receive − send). ${s.warmupMs / 1000} s of sending before a ${s.windowMs / 1000} s window; ${s.textBytes}-byte texts;
  the clients live in ${s.loadProcesses} load-generator processes, never in a server's. The kinds take turns
  within each run, the first one changing from run to run.
- **Servers.** *ours*: our CLI, \`--protocol irc\`, one process, state in memory, with flood control,
  the per-IP cap, sendq and recvq raised so they do not throttle the load. *bare relay*:
  bench/baselines/bareIrcRelay.ts, a naive \`node:net\` relay, the floor for Node. *ngircd*:
  ${r.ngircd ?? 'not installed'}. *InspIRCd*: ${r.inspircd ?? 'not measured'}, no module beyond its core ones,
  one connect class with no per-IP or class caps, no DNS lookups, flood control (threshold,
  commandrate) out of reach and fakelag off; its sendq raised like ours. Both C servers get a config
  written to a temp dir, loopback only, and run in the foreground. Neither sets TCP_NODELAY on a client's
  socket (strace: ngircd sets only IP_TOS, InspIRCd nothing): a line queued behind an unacknowledged one
  waits for the client's delayed ACK, up to 40 ms on Linux, which is where their p99 near 40 ms comes from;
  ours and the bare relay set it. *ours on Redis, 2 nodes*: a fresh \`redis-server\` (${r.redis ?? 'not installed'},
  \`--save '' --appendonly no\`, on 127.0.0.1) and two processes of the same CLI with \`--redis\`; the
  clients go to node A and node B in turn, so every channel has half its members on each node and
  every line reaches the other half through Redis.
- **CPU** is utime + stime from /proc over the window only (${cpuTickMs} ms ticks). *Server* counts every
  server process (both nodes); *Redis* is redis-server's own; *rest of machine* is the machine's busy
  time less the servers', Redis's, the load generators' and the harness's: other work on this
  shared machine, and the kernel's loopback TCP work charged to no process.
- **Redis commands**: \`INFO commandstats\` read before and after the window; every command counted,
  those Lua scripts run inside Redis included (so one EVALSHA counts as itself plus the calls it
  makes), the harness's own INFO left out. Divided by the deliveries in the window and by the
  messages sent in it. Heartbeats (a few commands per node per second) are in the count. The time
  per command is its \`usec\` from the same stats (an EVALSHA's includes its script's calls).
- **Ratios** are median / median: ours against each baseline, and two nodes against one node.

${parts.join('\n\n')}
${r.registration || r.idle ? `\n${ircCostSection(r)}\n` : ''}${r.neverReader?.runs.length ? `\n${ircNeverReaderSection(r)}\n` : ''}
### When a node dies

${death}

### Notes from this run

${notes}
`;
}

/** docs/bench-irc-results.json if it is there and of this version; null (and a word on stderr) if not. */
function readIrcResults(file = ircResultsFile): IrcResults | null {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as IrcResults;
    if (r.version === ircResultsVersion) return r;
    process.stderr.write(`${file}: results version ${r.version}, expected ${ircResultsVersion}: the chat section is left out\n`);
  } catch (err) {
    process.stderr.write(`${file}: ${err instanceof Error ? err.message : String(err)}: the chat section is left out\n`);
  }
  return null;
}
