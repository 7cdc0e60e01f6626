// The greeting benchmark's report: from its results (measured now or read back from
// docs/bench-results.json) to what a reader sees: the tables of medians and ratios (as text for
// the terminal and as markdown), the target verdicts, the charts and docs/benchmarks.md, whose
// last section, the chat fan-out, comes from the IRC report (./irc.ts). Pure apart from reading
// the IRC results; the caller writes the strings it returns.

import { defaultConfig } from '../../src/core/config.js';
import { serverLabels as labels, type BenchResults, type HandshakeRun, type IdleRun, type ServerName } from '../greeting/results.js';
import { quietBudgetMs } from '../greeting/scenarios.js';
import { profileIntervalUs, type ProfileSummary } from '../lib/cpuProfile.js';
import type { IrcResults } from '../irc/results.js';
import { cpuTickMs } from '../lib/procfs.js';
import { fmt, kib, markdownTable, med, mib, num, pct, ratio, textTable, totalFailures, verdictTable, type Table, type Verdict } from './format.js';
import { ircSection, readIrcResults } from './irc.js';
import { barChart, lineChart, type Series } from './svgChart.js';

const colors: Record<ServerName, string> = { ours: '#d9480f', bare: '#1c7ed6', python: '#2f9e44' };

// --- Tables --------------------------------------------------------------------------------

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

function handshakeTable(results: BenchResults): Table {
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

function silentTable(results: BenchResults): Table {
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

function idleTable(results: BenchResults): Table {
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
  section(`${results.settings.idleFreshClients.toLocaleString('en')}, fresh \`npm start\``, results.idleFresh, 'fresh');
  section(`${s.idleClusterClients.toLocaleString('en')}, ${s.clusterWorkers} workers`, results.idleCluster, 'cluster');
  return { header: ['idle clients', 'metric (median)', labels.ours, labels.bare, 'ours/bare'], align: 'llrrr', rows };
}

function churnTable(results: BenchResults): Table {
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
function everyRunTable(results: BenchResults, concurrency: number): Table {
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

/** Heap growth over the churn that still counts as flat: GC noise, far below one byte per cycle. */
const churnFlatBytes = 512 * 1024;

/** The machines with no sockets (greeting/floor.ts), against the handshake figures of this run. */
function floorTable(results: BenchResults): Table | null {
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

function verdicts(results: BenchResults): Verdict[] {
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
  const fresh = results.idleFresh.ours ?? [];
  const freshGrowth = kib(med(fresh, (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)));
  const freshBare = kib(med(results.idleFresh.bare ?? [], (r) => per(r, r.rssBeforeBytes, r.rssAfterBytes)));
  out.push({
    target: `${results.settings.idleFreshClients.toLocaleString('en')} idle connections on a freshly started server (\`npm start\`, default flags): RSS growth < ${freshGrowthLimitKib} KiB per connection`,
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


// --- The load generator --------------------------------------------------------------------

/** Sentences on whether the load generator limited each server, from this run's numbers. */
function loadGeneratorNotes(results: BenchResults): string[] {
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
function profileTables(results: BenchResults): { cats: Table; top: Table } | null {
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
function summary(results: BenchResults): string[] {
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
  const freshO = results.idleFresh.ours;
  if (freshO && freshO.length > 0) {
    const per = (r: IdleRun): number => kib((num(r.rssAfterBytes) - num(r.rssBeforeBytes)) / r.clients);
    out.push(
      `- **Fresh \`npm start\`.** ${results.settings.idleFreshClients.toLocaleString('en')} idle clients on a just-started CLI grow its RSS by ` +
        `${fmt(med(freshO, per), 2)} KiB each (bare node:net, also fresh: ${fmt(med(results.idleFresh.bare ?? [], per), 2)} KiB).`,
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

/** docs/benchmarks.md: this benchmark's page, then the chat section when the IRC results are there. */
export function benchmarksPage(results: BenchResults, chartList: Chart[], irc: IrcResults | null = readIrcResults()): string {
  const m = results.machine;
  const s = results.settings;
  const v = verdicts(results);
  const notes = results.notes.length > 0 ? results.notes.map((n) => `- ${n}`).join('\n') : '- none';
  return `# Benchmarks

Generated by \`npm run bench\` (bench/greeting/run.ts) on ${results.startedAt.slice(0, 10)}; do not edit by hand.
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
  (bench/greeting/serverProcess.ts, \`--expose-gc\`). *Bare node:net* (bench/greeting/baselines/bareNetServer.ts) is
  the same protocol written directly on \`node:net\` with no state machines, in the same kind of
  process. *Python blocking* (bench/greeting/baselines/blocking_server.py) is the article's server in
  Python's standard library: one client at a time (accept, \`sendall\` the greeting, \`recv\` one line
  with a ${s.pythonClientTimeoutS} s per-client timeout, close), given the same listen backlog as the others
  (the article used 1) so that clients wait in the kernel's queue instead of being refused. None of
  them logs per client. The build under test is whatever \`npm run bench\` just compiled.
- **Load generator.** Plain \`node:net\` clients (bench/greeting/loadgen.ts) in their own
  processes, never in a server's process; each reports its own CPU time. Clients
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
  ${s.clusterWorkers} node:cluster workers, bench/greeting/baselines/bareClusterServer.ts) connect, at most 200 ungreeted
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
  ${results.settings.idleFreshClients.toLocaleString('en')} clients connect, are greeted and stay silent (well within the default 30 s reply
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

/** The report for the terminal: every table, the verdicts and the run's notes. */
export function textReport(results: BenchResults): string {
  const out: string[] = [];
  out.push('', 'HANDSHAKES', textTable(handshakeTable(results)));
  out.push('', 'ONE SILENT CLIENT', textTable(silentTable(results)));
  out.push('', 'IDLE CONNECTIONS', textTable(idleTable(results)));
  if (results.churn.length > 0) out.push('', 'CHURN', textTable(churnTable(results)));
  const profile = profileTables(results);
  if (profile) out.push('', 'PROFILE (concurrency 100, self time)', textTable(profile.cats), '', textTable(profile.top));
  const floor = floorTable(results);
  if (floor) out.push('', 'FLOOR (the machines alone, no sockets)', textTable(floor));
  out.push('', 'TARGETS');
  for (const v of verdicts(results)) out.push(`[${v.verdict.padEnd(4)}] ${v.target}`, `       ${v.measured}`);
  if (results.notes.length > 0) out.push('', 'NOTES', ...results.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n\n`;
}
