// The benchmark's entry point: `npm run bench [-- flags]`. It measures our server and the
// baselines in the same run (bench/greeting/scenarios.ts), prints the tables of medians and ratios and
// the target verdicts, and writes docs/benchmarks.md, its charts (docs/bench-*.svg) and the raw
// results (docs/bench-results.json), from which `--from-json` rebuilds the page without
// measuring. Every count and wait is bounded; the full run takes about ten minutes on 2 CPUs.
//
// Layout of bench/ (one folder per thing measured; shared code in lib/, the reports in report/):
//   greeting/run.ts            flags, the order of the runs, writing the results
//   greeting/scenarios.ts      each scenario, once: handshakes, silent client, idle (warm, fresh, cluster), churn, profile
//   greeting/servers.ts        starting and stopping every server under test
//   greeting/serverProcess.ts  ours or bare node:net in a forked process (+ forkServer.ts)
//   greeting/baselines/        bare node:net (single and cluster) and the blocking Python server
//   greeting/loadgen.ts        the clients (+ loadgenProcess.ts, loadgenFork.ts, loadgenIpc.ts)
//   greeting/floor.ts          the machines alone, no sockets: the least XState's interpreter costs
//   greeting/results.ts        the results' shape (the JSON's)
//   irc/                       the chat (IRC) benchmark: `npm run bench:irc` (irc/run.ts)
//   soak/                      the soak test: `npm run soak` (soak/run.ts)
//   report/                    tables, verdicts, charts and the markdown page (greeting.ts, irc.ts, tables.ts, svgChart.ts)
//   lib/                       procfs, stats, waits, profiles, spawned servers, IPC, the machine's description

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { defaultConfig } from '../../src/core/config.js';
import { measureFloor } from './floor.js';
import { describeMachine, pythonAvailable, root } from '../lib/machine.js';
import { charts, churnTable, floorTable, handshakeTable, idleTable, markdown, profileTables, silentTable, verdicts } from '../report/greeting.js';
import { textTable } from '../report/tables.js';
import { rotate } from '../lib/stats.js';
import { resultsVersion, type BenchResults, type Settings } from './results.js';
import { Bench } from './scenarios.js';
import { cliHasWorkers, pythonClientTimeoutS, type ServerName } from './servers.js';

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

function parseFlags(argv: string[]): Flags | 'help' {
  const flags: Flags = { runs: defaultRuns, quick: false, only: new Set(scenarioNames), write: false, fromJson: null };
  let runsGiven = false;
  let onlyGiven = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '-h':
      case '--help':
        return 'help';
      case '--runs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > maxRuns) throw new Error(`--runs takes a whole number from 1 to ${maxRuns}`);
        flags.runs = n;
        runsGiven = true;
        break;
      }
      case '--quick':
        flags.quick = true;
        break;
      case '--only': {
        const list = value().split(',').map((s) => s.trim());
        for (const s of list) {
          if (!(scenarioNames as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario ${JSON.stringify(s)}`);
        }
        flags.only = new Set(list as ScenarioName[]);
        onlyGiven = true;
        break;
      }
      case '--write':
        flags.write = true;
        break;
      case '--from-json':
        flags.fromJson = inline ?? (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[++i]! : resultsPath);
        break;
      default:
        throw new Error(`unknown flag: ${arg}`);
    }
  }
  if (flags.quick && !runsGiven) flags.runs = 1;
  if (!flags.quick && !onlyGiven) flags.write = true;
  return flags;
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
  let cluster = only.has('cluster');
  if (cluster && !cliHasWorkers()) {
    cluster = false;
    notes.push('Our CLI has no --workers flag yet: the multi-process idle scenario was skipped.');
    log('bench: our CLI has no --workers yet; skipping the cluster scenario');
  }
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
          const into = { single: results.idleSingle, cluster: results.idleCluster, fresh: (results.idleFresh ??= {}) }[mode];
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
      if (cluster) await idle('cluster');
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

function printReport(results: BenchResults): void {
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
  process.stdout.write(`${out.join('\n')}\n\n`);
}

function writeDocs(results: BenchResults, json: boolean): void {
  mkdirSync(`${root}docs`, { recursive: true });
  const list = charts(results);
  for (const c of list) writeFileSync(`${root}docs/${c.file}`, c.svg);
  writeFileSync(`${root}docs/benchmarks.md`, markdown(results, list));
  if (json) writeFileSync(resultsPath, `${JSON.stringify(results, null, 1)}\n`);
  process.stdout.write(
    `wrote docs/benchmarks.md, ${list.map((c) => `docs/${c.file}`).join(', ')}${json ? ', docs/bench-results.json' : ''}\n`,
  );
}

async function main(): Promise<void> {
  let flags: Flags | 'help';
  try {
    flags = parseFlags(process.argv.slice(2));
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
    const results = JSON.parse(readFileSync(flags.fromJson, 'utf8')) as BenchResults;
    if (results.version !== resultsVersion) throw new Error(`${flags.fromJson}: results version ${results.version}, expected ${resultsVersion}`);
    printReport(results);
    writeDocs(results, false);
    return;
  }
  const results = await measure(flags);
  printReport(results);
  if (flags.write) writeDocs(results, true);
  else process.stdout.write('docs not written (--quick or --only; add --write to write them)\n');
  process.stdout.write(`elapsed ${(results.elapsedS / 60).toFixed(1)} min\n`);
}

await main();
