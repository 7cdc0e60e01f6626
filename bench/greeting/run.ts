// The greeting benchmark's entry point: `npm run bench [-- flags]`. It measures our server and
// the baselines in the same run (scenarios.ts), prints the tables of medians and ratios and the
// target verdicts, and writes docs/benchmarks.md, its charts (docs/bench-*.svg) and the raw
// results (docs/bench-results.json), from which `--from-json` rebuilds the page without
// measuring. Every count and wait is bounded; the full run takes about ten minutes on 2 CPUs.
//
// Layout (bench/greeting/):
//   run.ts          flags, the order of the runs, writing the results
//   scenarios.ts    each scenario, once: handshakes, silent client, idle (warm, fresh, cluster), churn, profile
//   servers.ts      starting and stopping every server under test (+ serverProcess.ts, baselines/)
//   loadgen.ts      the clients, in load-generator processes
//   floor.ts        the machines alone, no sockets: the least XState's interpreter costs
//   results.ts      the results' shape
// The report (tables, verdicts, charts, the page) is bench/report/greeting.ts; what every
// benchmark shares (/proc readings, waiting, forking, IPC, statistics) is in bench/lib/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { defaultConfig } from '../../src/core/config.js';
import { parseFlags, wholeNumber } from '../lib/flags.js';
import { describeMachine, pythonAvailable } from '../lib/machine.js';
import { readResults, root, writeResults } from '../lib/resultsFile.js';
import { rotate } from '../lib/stats.js';
import { benchmarksPage, charts, textReport } from '../report/greeting.js';
import { measureFloor } from './floor.js';
import { resultsVersion, type BenchResults, type ServerName, type Settings } from './results.js';
import { Bench } from './scenarios.js';
import { pythonClientTimeoutS } from './servers.js';

const defaultRuns = 3;
const maxRuns = 20;
const resultsPath = `${root}docs/bench-results.json`;
const scenarioNames = ['handshake', 'idle', 'fresh', 'cluster', 'churn', 'profile', 'floor'] as const;
type ScenarioName = (typeof scenarioNames)[number];

const usage = `usage: npm run bench [-- flags]

  --runs N          runs per figure, 1 to ${maxRuns} (default ${defaultRuns}); every figure is the median
  --quick           one run, short windows, fewer clients: a smoke test (docs are not written)
  --only A,B        only these scenarios: ${scenarioNames.join(', ')} (docs are not written)
  --write           write docs/benchmarks.md, the charts and the JSON even with --quick or --only
  --from-json [F]   no measuring: rebuild the page and charts from F (default docs/bench-results.json)
  -h, --help        this text`;

interface Flags {
  runs: number;
  quick: boolean;
  only: Set<ScenarioName>;
  write: boolean;
  fromJson: string | null;
}

function parse(argv: string[]): Flags | 'help' {
  // --from-json's file is optional: without one (last, or before another flag) it is the default.
  const args = argv.map((a, i) => (a === '--from-json' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) ? `--from-json=${resultsPath}` : a));
  const v = parseFlags(args, {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    write: { type: 'boolean', default: false },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const only = v.only?.split(',').map((s) => s.trim());
  for (const s of only ?? []) {
    if (!(scenarioNames as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario ${JSON.stringify(s)}`);
  }
  return {
    runs: v.runs !== undefined ? wholeNumber('--runs', v.runs, 1, maxRuns) : v.quick ? 1 : defaultRuns,
    quick: v.quick,
    only: new Set((only ?? scenarioNames) as ScenarioName[]),
    write: v.write || (!v.quick && only === undefined),
    fromJson: v['from-json'] ?? null,
  };
}

function settingsFor(flags: Flags): Settings {
  const quick = flags.quick;
  return {
    runs: flags.runs,
    quick,
    warmupMs: quick ? 500 : 1_000,
    measureMs: quick ? 1_500 : 4_000,
    concurrencies: [1, 10, 100, 1_000],
    silentConcurrency: 10,
    idleSingleClients: quick ? 2_000 : 10_000,
    idleFreshClients: 2_000,
    idleClusterClients: quick ? 10_000 : 50_000,
    clusterWorkers: 4,
    clientsPerLoadProcess: 12_500,
    churnCycles: quick ? 10_000 : 100_000,
    churnConcurrency: 100,
    shutdownGraceMs: 30_000,
    pythonClientTimeoutS,
    listenBacklog: defaultConfig.listenBacklog,
  };
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

async function measure(flags: Flags): Promise<BenchResults> {
  const settings = settingsFor(flags);
  const started = Date.now();
  const notes: string[] = [];
  const python = pythonAvailable();
  const servers: ServerName[] = python ? ['ours', 'bare', 'python'] : ['ours', 'bare'];
  if (!python) notes.push('python3 was not found: the blocking Python baseline was skipped.');
  const results: BenchResults = {
    version: resultsVersion,
    startedAt: new Date(started).toISOString(),
    elapsedS: 0,
    machine: describeMachine(),
    settings,
    notes,
    servers,
    handshake: {},
    silent: {},
    silentWithout: {},
    idleSingle: {},
    idleCluster: {},
    idleFresh: {},
    churn: [],
    profile: {},
  };
  const only = flags.only;
  const bench = new Bench(settings, log);
  /** Runs one measurement; a failure is logged and noted, and the benchmark goes on. */
  const attempt = async <T>(what: string, body: () => Promise<T>): Promise<T | null> => {
    try {
      return await body();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`bench: ${what} failed: ${message}`);
      notes.push(`${what} failed: ${message}`);
      return null;
    }
  };
  try {
    for (let run = 1; run <= settings.runs; run += 1) {
      const tag = `run ${run}/${settings.runs}`;
      if (only.has('handshake')) {
        const round = await attempt(`${tag} handshakes`, () => bench.handshakeRound(servers, run - 1));
        for (const [name, series] of round ?? []) {
          const byC = (results.handshake[name] ??= {});
          for (const [c, r] of Object.entries(series.byConcurrency)) {
            (byC[c] ??= []).push(r);
            log(
              `${tag} ${name.padEnd(6)} c=${c.padEnd(4)} ${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${f1(r.p50Ms)} p99 ${f1(r.p99Ms)} ` +
                `max ${f1(r.maxMs)} ms  server ${((1000 * r.serverCpuMs) / r.completed).toFixed(0)} µs/hs  ` +
                `load-gen ${((100 * r.loadCpuMs) / r.windowMs).toFixed(0)} %  machine ${(100 * r.machineBusy).toFixed(0)} %` +
                (Object.keys(r.failures).length > 0 ? `  failures ${JSON.stringify(r.failures)}` : ''),
            );
          }
          const s = series.silent;
          const w = series.silentWithout;
          if (!s || !w) continue;
          (results.silent[name] ??= []).push(s);
          (results.silentWithout[name] ??= []).push(w);
          log(
            `${tag} ${name.padEnd(6)} c=${settings.silentConcurrency} again ${w.perSecond.toFixed(0).padStart(6)}/s  p99 ${f1(w.p99Ms)} ms; ` +
              `with a silent client ${s.perSecond.toFixed(0).padStart(6)}/s  p99 ${f1(s.p99Ms)} ms  ` +
              `unfinished ${s.unfinished} (oldest ${s.oldestUnfinishedMs.toFixed(0)} ms), silent client greeted ${s.silentGreeted}, held ${s.silentOpenAfter}`,
          );
        }
      }
      const idle = async (mode: 'single' | 'cluster' | 'fresh'): Promise<void> => {
        const clients = { single: settings.idleSingleClients, cluster: settings.idleClusterClients, fresh: settings.idleFreshClients }[mode];
        for (const kind of rotate(['ours', 'bare'] as const, run - 1)) {
          const r = await attempt(`${tag} idle ${mode} ${kind}`, () => bench.idleOnce(kind, mode, clients));
          if (!r) continue;
          const into = { single: results.idleSingle, cluster: results.idleCluster, fresh: results.idleFresh }[mode];
          (into[kind] ??= []).push(r);
          log(
            `${tag} idle ${mode} ${kind.padEnd(4)} ${r.greeted}/${r.clients} greeted in ${(r.acceptMs / 1000).toFixed(2)} s, ` +
              `RSS ${((r.rssAfterBytes - r.rssBeforeBytes) / r.clients / 1024).toFixed(2)} KiB/conn` +
              (mode === 'single' ? `, heap ${((r.heapUsedAfterBytes - r.heapUsedBeforeBytes) / r.clients / 1024).toFixed(2)} KiB/conn` : '') +
              `, ${r.serverProcesses} process(es), max ${r.maxServerFds} fds; stop ${(r.shutdown.stopMs / 1000).toFixed(2)} s ` +
              `(exit ${r.shutdown.exitCode}${r.shutdown.killed ? ', killed' : ''}, closed by server ${r.shutdown.closedByServer}, ` +
              `errored ${r.shutdown.errored}, open ${r.shutdown.stillOpen}, forced ${r.shutdown.forcedStops})`,
          );
        }
      };
      if (only.has('idle')) await idle('single');
      if (only.has('fresh')) await idle('fresh');
      if (only.has('cluster')) await idle('cluster');
      if (only.has('churn')) {
        const c = await attempt(`${tag} churn`, () => bench.churnOnce());
        if (c) {
          results.churn.push(c);
          log(
            `${tag} churn ${c.halves.reduce((a, h) => a + h.completed, 0)} handshakes; heap used ` +
              `${(c.before.heapUsedBytes / 2 ** 20).toFixed(2)} → ${(c.mid.heapUsedBytes / 2 ** 20).toFixed(2)} → ` +
              `${(c.after.heapUsedBytes / 2 ** 20).toFixed(2)} MiB, RSS ${(c.before.rssBytes / 2 ** 20).toFixed(1)} → ` +
              `${(c.after.rssBytes / 2 ** 20).toFixed(1)} MiB, live after ${c.after.live}`,
          );
        }
      }
    }
    if (only.has('floor')) {
      const f = await attempt('floor', async () => measureFloor(settings.quick));
      if (f) {
        results.floor = f;
        log(`floor: a connection's life ${f.leanLifeUs.toFixed(1)} µs (lean runner), ${f.actorLifeUs.toFixed(1)} µs (createActor); server step ${f.serverStepUs.toFixed(1)} µs`);
      }
    }
    if (only.has('profile')) {
      for (const kind of ['ours', 'bare'] as const) {
        const p = await attempt(`profile ${kind}`, () => bench.profile(kind));
        if (!p) continue;
        results.profile[kind] = p;
        log(`profile ${kind}: ${p.totalMs.toFixed(0)} ms sampled, ${p.handshakes} handshakes`);
      }
    }
  } finally {
    await bench.close();
  }
  if (bench.quietWaitedMs > 0) {
    notes.push(
      `The harness waited ${(bench.quietWaitedMs / 1000).toFixed(0)} s in all for other processes to leave the machine quiet before its windows.`,
    );
  }
  results.elapsedS = (Date.now() - started) / 1000;
  return results;
}

function writeDocs(results: BenchResults, json: boolean): void {
  mkdirSync(`${root}docs`, { recursive: true });
  const list = charts(results);
  for (const c of list) writeFileSync(`${root}docs/${c.file}`, c.svg);
  writeFileSync(`${root}docs/benchmarks.md`, benchmarksPage(results, list));
  if (json) writeResults(resultsPath, results);
  process.stdout.write(
    `wrote docs/benchmarks.md, ${list.map((c) => `docs/${c.file}`).join(', ')}${json ? ', docs/bench-results.json' : ''}\n`,
  );
}

async function main(): Promise<void> {
  let flags: Flags | 'help';
  try {
    flags = parse(process.argv.slice(2));
  } catch (err) {
    log(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  if (flags === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (flags.fromJson !== null) {
    const results = readResults<BenchResults>(flags.fromJson, resultsVersion);
    process.stdout.write(textReport(results));
    writeDocs(results, false);
    return;
  }
  const results = await measure(flags);
  process.stdout.write(textReport(results));
  if (flags.write) writeDocs(results, true);
  else process.stdout.write('docs not written (--quick or --only; add --write to write them)\n');
  process.stdout.write(`elapsed ${(results.elapsedS / 60).toFixed(1)} min\n`);
}

await main();
