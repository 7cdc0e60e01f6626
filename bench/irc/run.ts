// The IRC benchmark: `npm run bench:irc [-- flags]`. Many clients in busy channels, each saying one
// line every P ms with its send time in the text; every delivery is counted and timed by the
// client that receives it. It measures, in the same run and taking turns:
//   ours      our CLI, `node dist/src/cli/server.js --protocol irc`
//   bare      bench/irc/bareIrcRelay.ts, a naive node:net relay: the floor for Node
//   ngircd    the Debian package's C ircd, if installed
//   inspircd  the Debian package's C++ ircd (InspIRCd 3), if installed
//   redis2    ours on Redis, 2 nodes: a fresh redis-server and two processes of our CLI with
//             --redis, the clients alternating between the two, so every line crosses Redis
// each in its own process, with the clients in separate load-generator processes, so that no one's
// CPU is mixed with another's. Per measurement: deliveries/s, delivery latency (receive time − the
// send time in the text, one monotonic clock for every process), the server's CPU per delivery and
// the load generators' CPU (from /proc, over the steady window only), the server's write syscalls
// per delivery, its RSS, and what the rest of the machine used meanwhile; for redis2 also Redis's
// CPU and commands. Then: a client that never reads (how long until each server drops it, and what
// it does to everyone else's latency), what a client costs when it is not chatting (a registration
// storm, idle registered clients), and, with Redis, a node's death. Each figure is the median of
// --runs runs; the tables (bench/report/irc.ts, which also renders them into docs/benchmarks.md from
// the JSON that --write leaves in docs/bench-irc-results.json) show every kind and the ratios.
//
// Layout: this file (flags, the order of the measurements, the results) · bench/irc/measure.ts
// (the harness, the fan-out and never-reader windows) · bench/irc/load.ts (the load-generator
// process) · bench/irc/peers.ts (the servers) · bench/irc/scenarios.ts (registration storm, idle
// clients) · bench/irc/nodeDeath.ts · bench/report/ircLines.ts (what is printed) · bench/irc/timing.ts
// (clock, histogram). Every count, wait and buffer is bounded; everything listens and connects on
// 127.0.0.1 only; every child process is stopped on the way out (normal end, error, SIGINT/SIGTERM).

import { existsSync, writeFileSync } from 'node:fs';
import { defaultConfig } from '../../src/core/config.js';
import { deathLine, idleLine, neverReaderLine, registrationLine, resultTables, runLine } from '../report/ircLines.js';
import { IrcBench, offeredPerSecond, scenarios, type Figures, type Settings } from './measure.js';
import { nodeDeath, nodeDeathOnce } from './nodeDeath.js';
import { inspircdVersion, installHints, killChildren, ngircdVersion, redisVersion } from './peers.js';
import { defaultIdleClients, idleWarmClients, maxIdleClients, measureIdle, measureRegistration, registrationConcurrency } from './scenarios.js';
import { describeMachine } from '../lib/machine.js';
import { cpuTickMs } from '../lib/procfs.js';
import {
  ircLabels as labels,
  ircResultsVersion,
  ircSingleKinds,
  type IrcDeathRun,
  type IrcIdleFigures,
  type IrcKind,
  type IrcNeverReaderRun,
  type IrcRegistrationFigures,
  type IrcResults,
} from './results.js';
import { rotate } from '../lib/stats.js';
import { cliScript, pythonAvailable, root } from '../lib/machine.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const resultsPath = `${root}docs/bench-irc-results.json`;

// --- Flags ---------------------------------------------------------------------------------

const defaultRuns = 3;
const maxRuns = 20;
const maxSeconds = 300;
const defaultLoadProcesses = 2;
const maxLoadProcesses = 8;
/** The names in --only of the measurements besides the fan-out scenarios. */
const neverReaderName = 'never-reader';
const deathName = 'node-death';
const registrationName = 'registration';
const idleName = 'idle';
const extraNames = [neverReaderName, deathName, registrationName, idleName];
/** The never-reader's load: the busy single channel. */
const neverReaderScenario = scenarios[0]!;
/** How long the never-reader is given to be dropped: InspIRCd's 1 MiB at ~40 KB/s of lines takes ~30 s. */
const neverReaderHoldMs = 60_000;

const usage = `usage: npm run bench:irc [-- flags]

  --runs N              runs per figure, 1 to ${maxRuns} (default ${defaultRuns}); every figure is the median
  --quick               one run, shorter windows: a smoke test
  --seconds D           the measured window, 1 to ${maxSeconds} s (default 10, 4 with --quick)
  --only A,B            only these: ${[...scenarios.map((s) => s.name), ...extraNames].join(', ')}
  --idle-clients N      idle registered clients per server in ${idleName}, 1 to ${maxIdleClients} (default ${defaultIdleClients})
  --load-processes N    load-generator processes, 1 to ${maxLoadProcesses} (default ${defaultLoadProcesses})
  --no-ngircd           skip ngircd even if it is installed
  --no-inspircd         skip InspIRCd even if it is installed
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
  inspircd: boolean;
  redis: boolean;
  write: boolean;
  profile: boolean;
}

function parseFlags(argv: string[]): Flags | 'help' {
  const flags: Flags = {
    runs: defaultRuns,
    quick: false,
    seconds: null,
    only: null,
    loadProcesses: defaultLoadProcesses,
    idleClients: defaultIdleClients,
    ngircd: true,
    inspircd: true,
    redis: true,
    write: false,
    profile: false,
  };
  let runsGiven = false;
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${name} takes a whole number from ${min} to ${max}`);
    return n;
  };
  const switches: Record<string, () => void> = {
    '--quick': () => (flags.quick = true),
    '--no-ngircd': () => (flags.ngircd = false),
    '--no-inspircd': () => (flags.inspircd = false),
    '--no-redis': () => (flags.redis = false),
    '--write': () => (flags.write = true),
    '--profile': () => (flags.profile = true),
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string | undefined => (eq === -1 ? argv[++i] : arg.slice(eq + 1));
    if (name === '-h' || name === '--help') return 'help';
    if (switches[name]) switches[name]();
    else if (name === '--runs') {
      flags.runs = int(name, value(), 1, maxRuns);
      runsGiven = true;
    } else if (name === '--seconds') flags.seconds = int(name, value(), 1, maxSeconds);
    else if (name === '--idle-clients') flags.idleClients = int(name, value(), 1, maxIdleClients);
    else if (name === '--load-processes') flags.loadProcesses = int(name, value(), 1, maxLoadProcesses);
    else if (name === '--only') {
      const list = (value() ?? '').split(',').map((s) => s.trim());
      for (const s of list) if (!extraNames.includes(s) && !scenarios.some((sc) => sc.name === s)) throw new Error(`--only: unknown scenario ${JSON.stringify(s)}`);
      flags.only = new Set(list);
    } else throw new Error(`unknown flag: ${arg}`);
  }
  if (flags.quick && !runsGiven) flags.runs = 1;
  return flags;
}

function settingsFor(flags: Flags): Settings & { runs: number; quick: boolean; idleClients: number; idleHoldMs: number } {
  return {
    runs: flags.runs,
    quick: flags.quick,
    warmupMs: flags.quick ? 1_500 : 3_000,
    windowMs: (flags.seconds ?? (flags.quick ? 4 : 10)) * 1000,
    loadProcesses: flags.loadProcesses,
    textBytes: 64,
    neverReaderHoldMs,
    idleClients: flags.idleClients,
    /** How long the idle clients stay idle before the "after" reading. */
    idleHoldMs: flags.quick ? 2_000 : 5_000,
  };
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
  const inspircd = flags.inspircd ? inspircdVersion() : null;
  const redisServer = flags.redis ? redisVersion() : null;
  const kinds: IrcKind[] = ['ours', 'bare', ...(ngircd ? (['ngircd'] as const) : []), ...(inspircd ? (['inspircd'] as const) : []), ...(redisServer ? (['redis2'] as const) : [])];
  if (!flags.ngircd) notes.push('ngircd skipped (--no-ngircd).');
  else if (!ngircd) notes.push(installHints.ngircd);
  if (!flags.inspircd) notes.push('InspIRCd skipped (--no-inspircd).');
  else if (!inspircd) notes.push(installHints.inspircd);
  if (!flags.redis) notes.push('ours on Redis and the node-death measurement skipped (--no-redis).');
  else if (!redisServer) notes.push(installHints.redis);
  const chosen = (name: string): boolean => flags.only === null || flags.only.has(name);
  // The never-reader is a python3 client (bench/irc/measure.ts says why).
  const neverReaderOn = chosen(neverReaderName) && pythonAvailable() !== null;
  if (chosen(neverReaderName) && !neverReaderOn) notes.push('The never-reader needs python3 (sudo apt-get install python3): skipped.');
  for (const n of notes) log(`bench:irc: ${n}`);
  const fanouts = scenarios.filter((s) => chosen(s.name));
  const singleKinds = ircSingleKinds(kinds);
  const machine = describeMachine();
  const bench = new IrcBench(settings);
  const all: Figures[] = [];
  const neverReaders: IrcNeverReaderRun[] = [];
  const registrations: IrcRegistrationFigures[] = [];
  const idles: IrcIdleFigures[] = [];
  const deaths: IrcDeathRun[] = [];
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
      const turns = (ks: IrcKind[], name: string): IrcKind[] => (chosen(name) ? rotate(ks, run - 1) : []);
      for (const scenario of fanouts) {
        for (const kind of rotate(kinds, run - 1)) {
          const fanout = async (): Promise<Figures> => {
            const { window, ...f } = await bench.measure(kind, scenario);
            void window;
            return f;
          };
          await attempt(tag, `${scenario.name} ${labels[kind]}`, fanout, (f) => runLine(tag, f), all);
        }
      }
      for (const kind of neverReaderOn ? turns(singleKinds, neverReaderName) : []) {
        await attempt(tag, `${neverReaderName} ${labels[kind]}`, () => bench.neverReader(kind, neverReaderScenario), (r) => neverReaderLine(tag, r), neverReaders);
      }
      for (const kind of turns(singleKinds, registrationName)) {
        const storm = { warmupMs: settings.warmupMs, windowMs: settings.windowMs };
        await attempt(tag, `${registrationName} ${labels[kind]}`, () => measureRegistration(bench, kind, storm), (f) => registrationLine(tag, f), registrations);
      }
      for (const kind of turns(singleKinds, idleName)) {
        const idle = { clients: settings.idleClients, holdMs: settings.idleHoldMs };
        await attempt(tag, `${idleName} ${labels[kind]}`, () => measureIdle(bench, kind, idle), (f) => idleLine(tag, f), idles);
      }
    }
    if (redisServer !== null && chosen(deathName)) {
      for (let run = 1; run <= settings.runs; run += 1) {
        for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
          const tag = `run ${run}/${settings.runs}`;
          // The runs spread the signal over one beat of node B.
          const once = async (): Promise<IrcDeathRun> => {
            await bench.awaitQuiet();
            return nodeDeathOnce(signal, ((run - 1) / settings.runs) * defaultConfig.irc.nodeHeartbeatMs);
          };
          await attempt(tag, `node death ${signal}`, once, (r) => deathLine(tag, r), deaths);
        }
      }
    }
    if (flags.profile && fanouts[0]) {
      for (const kind of kinds.includes('redis2') ? (['ours', 'redis2'] as const) : (['ours'] as const)) {
        try {
          profile.push(...(profile.length > 0 ? [''] : []), ...(await bench.profile(fanouts[0], kind)));
        } catch (err) {
          notes.push(`profile of ${labels[kind]} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  } finally {
    await bench.close();
  }
  if (bench.quietWaitedMs > 0) notes.push(`Waited ${(bench.quietWaitedMs / 1000).toFixed(0)} s in all for other processes to leave the machine quiet.`);
  const elapsedS = (Date.now() - started) / 1000;
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
    inspircd,
    redis: redisServer,
    kinds,
    scenarios: fanouts.map((s) => ({ name: s.name, clients: s.clients, channels: s.channels, periodMs: s.periodMs, offeredPerSecond: offeredPerSecond(s) })),
    runs: all,
    nodeDeath: redisServer !== null && chosen(deathName) ? nodeDeath(deaths) : null,
    registration: chosen(registrationName) ? { concurrency: registrationConcurrency, warmupMs: settings.warmupMs, windowMs: settings.windowMs, runs: registrations } : null,
    idle: chosen(idleName) ? { clients: settings.idleClients, warmClients: idleWarmClients, holdMs: settings.idleHoldMs, runs: idles } : null,
    neverReader: neverReaderOn ? { scenario: neverReaderScenario.name, windowMs: settings.windowMs, runs: neverReaders } : null,
    listenBacklogs: bench.backlogs,
    notes,
  };
  const out: string[] = [
    '',
    `IRC FAN-OUT  machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memory}, ${machine.kernel}; Node ${machine.node}` +
      [ngircd, inspircd, redisServer].map((v) => (v ? `; ${v}` : '')).join(''),
    `runs ${settings.runs}, warm-up ${settings.warmupMs / 1000} s, window ${settings.windowMs / 1000} s, ${settings.loadProcesses} load-generator processes, ` +
      `PRIVMSG text ${settings.textBytes} bytes, CPU from /proc in ${cpuTickMs} ms ticks`,
    `Everything shares these ${machine.nproc} CPUs: the server under test (for ours on Redis: two nodes and redis-server) and the load generators.`,
    ...resultTables(results),
  ];
  if (profile.length > 0) out.push('', ...profile);
  if (fanouts.length > 0 || neverReaders.length > 0) {
    out.push(
      '',
      "Latency: receive time (when the load generator's event loop saw the bytes) − send time (in the text), one monotonic clock.",
      'Server CPU (both nodes for ours on Redis), Redis CPU and load gen CPU: utime + stime from /proc over the window only; write syscalls: syscw of /proc/<pid>/io.',
      'Redis commands: INFO commandstats over the window (commands run by Lua scripts included, INFO not). Ratios are of the medians.',
    );
  }
  if (notes.length > 0) out.push('', 'NOTES', ...notes.map((n) => `- ${n}`));
  out.push('', `elapsed ${(elapsedS / 60).toFixed(1)} min`);
  if (flags.write) {
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 1)}\n`);
    out.push(`wrote docs/bench-irc-results.json (\`npm run bench -- --from-json\` puts it in docs/benchmarks.md)`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  await main();
} catch (err) {
  log(`bench:irc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  killChildren();
}
