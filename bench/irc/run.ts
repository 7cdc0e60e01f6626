// The IRC benchmark: `npm run bench:irc [-- flags]`. Many clients in busy channels, each saying one
// line every P ms with its send time in the text; every delivery is counted and timed by the
// client that receives it. It measures, in the same run and taking turns:
//   ours      our CLI, `node dist/src/cli/server.js --protocol irc`
//   bare      bareIrcRelay.ts, a naive node:net relay: the floor for Node
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
// storm, idle registered clients), whether a storm of SASL logins moves everyone else's latency
// (ours only), what server-time and message-tags on every client cost ours per delivery (`tags`),
// what keeping history costs it per delivery and in bytes per message (`history`, historyCost.ts),
// what a chat user costs (issue 22: `join-storm` N clients joining one channel, joinStorm.ts;
// `sasl-registration`, saslRegistration.ts; `history-join`, historyJoin.ts) and, with Redis, a node's death. Each figure is the median of
// --runs runs; the tables (bench/report/irc.ts, which also renders them into docs/benchmarks.md
// from the JSON that --write leaves in docs/bench-irc-results.json) show every kind and the ratios.
//
// Layout (bench/irc/): run.ts (flags, the order of the measurements, the results) · measure.ts
// (the harness, the fan-out and never-reader windows) · loadgen.ts (the load-generator process) ·
// peers.ts (the servers) · bareIrcRelay.ts (the floor) · sessionCost.ts (registration storm, idle
// clients, with heapProbe.ts) · joinStorm.ts (with joinStormClients.ts) · saslRegistration.ts ·
// historyJoin.ts · loginStorm.ts · nodeDeath.ts · results.ts (the results' shape). Every count, wait
// and buffer is bounded; everything listens and connects on 127.0.0.1 only; every child process is
// stopped on the way out (normal end, error, SIGINT/SIGTERM).

import { existsSync } from 'node:fs';
import { defaultConfig } from '../../src/core/config.js';
import { parseFlags, wholeNumber } from '../lib/flags.js';
import { describeMachine, pythonAvailable } from '../lib/machine.js';
import { readResults, writeResults } from '../lib/resultsFile.js';
import { cliScript } from '../lib/spawn.js';
import { rotate } from '../lib/stats.js';
import { historyJoinLines, joinStormLine, saslRegistrationLine } from '../report/ircChatUser.js';
import { deathLine, historyLine, idleLine, ircProfileText, ircTextReport, loginStormLine, neverReaderLine, runLine } from '../report/irc.js';
import { registrationLine } from '../report/ircKinds.js';
import { defaultLogins, maxLogins, measureLoginStorm, wrongLoginsFor } from './loginStorm.js';
import { IrcBench, offeredPerSecond, scenarios, type Settings } from './measure.js';
import { bytesPerEntry, measureHistory, type HistoryForm, type HistoryWindow } from './historyCost.js';
import { nodeDeath, nodeDeathOnce } from './nodeDeath.js';
import { inspircdVersion, installHints, killChildren, ngircdVersion, redisVersion, setExtraOursArgs } from './peers.js';
import {
  ircLabels as labels,
  ircResultsPath,
  ircResultsVersion,
  ircSingleKinds,
  type IrcDeathRun,
  type IrcFigures,
  type IrcHistoryCost,
  type IrcIdleFigures,
  type IrcJoinStormFigures,
  type IrcKind,
  type IrcLoginStormRun,
  type IrcNeverReaderRun,
  type IrcRegistrationFigures,
  type IrcResults,
} from './results.js';
import { historyCaps, historyLatest, historyMessages, measureHistoryJoin, type HistoryJoinForm } from './historyJoin.js';
import { defaultStormClients, joinStormHoldMs, joinStormPingP99TargetMs, joinStormRssTarget, maxStormClients, measureJoinStorm, watchPeriodMs } from './joinStorm.js';
import { measureSaslRegistration, saslAccounts, type SaslForm } from './saslRegistration.js';
import { defaultIdleClients, idleWarmClients, maxIdleClients, measureIdle, measureRegistration, registrationConcurrency } from './sessionCost.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

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
const loginStormName = 'login-storm';
const tagsName = 'tags';
const historyName = 'history';
const joinStormName = 'join-storm';
const saslRegistrationName = 'sasl-registration';
const historyJoinName = 'history-join';
const extraNames = [neverReaderName, deathName, registrationName, idleName, loginStormName, tagsName, historyName, joinStormName, saslRegistrationName, historyJoinName];
/** What every client enables in the `tags` measurement: each delivery then carries `@time=...;msgid=...`. */
const taggedCaps = 'server-time message-tags';
/** The never-reader's load: the busy single channel. */
const neverReaderScenario = scenarios[0]!;
/** How long the never-reader is given to be dropped: InspIRCd's 1 MiB at ~40 KB/s of lines takes ~30 s. */
const neverReaderHoldMs = 60_000;
/** The tags measurement's load: the busy single channel. */
const tagsScenario = scenarios[0]!;
/** How much more server CPU per delivery tags and server-time may cost (issue 19): 10 %. */
const tagsCpuTarget = 1.1;
/** The history measurement's load: the busy single channel, every line kept. */
const historyScenario = scenarios[0]!;
/** How much more server CPU per delivery keeping history may cost (issue 20): 10 %. */
const historyCpuTarget = 1.1;

/** The login storm's load: the busy single channel too. */
const loginStormScenario = scenarios[0]!;

const usage = `usage: npm run bench:irc [-- flags]

  --runs N              runs per figure, 1 to ${maxRuns} (default ${defaultRuns}); every figure is the median
  --quick               one run, shorter windows: a smoke test
  --seconds D           the measured window, 1 to ${maxSeconds} s (default 10, 4 with --quick)
  --only A,B            only these: ${[...scenarios.map((s) => s.name), ...extraNames].join(', ')}
  --idle-clients N      idle registered clients per server in ${idleName}, 1 to ${maxIdleClients} (default ${defaultIdleClients})
  --storm-clients N     clients joining one channel in ${joinStormName}, 1 to ${maxStormClients} (default ${defaultStormClients})
  --logins N            SASL PLAIN logins at once in ${loginStormName}, 1 to ${maxLogins} (default ${defaultLogins}),
                        and one wrong password per ten from addresses of their own
  --load-processes N    load-generator processes, 1 to ${maxLoadProcesses} (default ${defaultLoadProcesses})
  --no-ngircd           skip ngircd even if it is installed
  --no-inspircd         skip InspIRCd even if it is installed
  --no-bare             skip the bare Node relay (e.g. a 10,000-client join storm, minutes per server)
  --no-redis            skip ours on Redis (2 nodes) and the node-death measurement
  --write               write the results to docs/bench-irc-results.json (docs/benchmarks.md
                        shows them after \`npm run bench -- --from-json\`)
  --ours-args="FLAGS"   flags added to every server of ours (e.g. --ours-args="--output-coalesce 3"), for an
                        A/B of one setting against the peers of the same run
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
  stormClients: number;
  logins: number;
  ngircd: boolean;
  inspircd: boolean;
  bare: boolean;
  redis: boolean;
  write: boolean;
  profile: boolean;
  oursArgs: string[];
}

function parse(argv: string[]): Flags | 'help' {
  const v = parseFlags(argv, {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    only: { type: 'string' },
    'idle-clients': { type: 'string' },
    'storm-clients': { type: 'string' },
    logins: { type: 'string' },
    'load-processes': { type: 'string' },
    'no-ngircd': { type: 'boolean', default: false },
    'no-inspircd': { type: 'boolean', default: false },
    'no-bare': { type: 'boolean', default: false },
    'no-redis': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'ours-args': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const only = v.only?.split(',').map((s) => s.trim());
  for (const s of only ?? []) if (!extraNames.includes(s) && !scenarios.some((sc) => sc.name === s)) throw new Error(`--only: unknown scenario ${JSON.stringify(s)}`);
  return {
    runs: v.runs !== undefined ? wholeNumber('--runs', v.runs, 1, maxRuns) : v.quick ? 1 : defaultRuns,
    quick: v.quick,
    seconds: v.seconds !== undefined ? wholeNumber('--seconds', v.seconds, 1, maxSeconds) : null,
    only: only ? new Set(only) : null,
    loadProcesses: v['load-processes'] !== undefined ? wholeNumber('--load-processes', v['load-processes'], 1, maxLoadProcesses) : defaultLoadProcesses,
    idleClients: v['idle-clients'] !== undefined ? wholeNumber('--idle-clients', v['idle-clients'], 1, maxIdleClients) : defaultIdleClients,
    stormClients: v['storm-clients'] !== undefined ? wholeNumber('--storm-clients', v['storm-clients'], 1, maxStormClients) : defaultStormClients,
    logins: v.logins !== undefined ? wholeNumber('--logins', v.logins, 1, maxLogins) : defaultLogins,
    ngircd: !v['no-ngircd'],
    inspircd: !v['no-inspircd'],
    bare: !v['no-bare'],
    redis: !v['no-redis'],
    write: v.write,
    profile: v.profile,
    oursArgs: v['ours-args']?.split(/\s+/).filter((a) => a !== '') ?? [],
  };
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
    /**
     * How long the idle clients stay idle before the "after" reading: 20 s, a server's steady
     * state rather than the moment after the registrations (ours gives back what the burst of
     * registrations grew within --reclaim-check, 10 s, of a quiet interval; ngircd holds none).
     */
    idleHoldMs: flags.quick ? 2_000 : 20_000,
  };
}

// --- Main ----------------------------------------------------------------------------------

/**
 * A partial run (--only) written over the file's results: the fan-out runs of the scenarios it
 * measured and the sections it measured replace the file's; the rest stays as the file has it,
 * header and notes included. `merged` records the run (what it measured, when, with which
 * settings, its notes); an earlier record keeps only what this one did not measure again, and
 * goes when nothing is left.
 */
function mergedResults(previous: IrcResults, fresh: IrcResults, only: string[]): IrcResults {
  const measured = new Set(fresh.scenarios.map((s) => s.name));
  const older = (previous.merged ?? []).map((m) => ({ ...m, measured: m.measured.filter((x) => !only.includes(x)) })).filter((m) => m.measured.length > 0);
  return {
    ...previous,
    scenarios: [...previous.scenarios.filter((s) => !measured.has(s.name)), ...fresh.scenarios],
    runs: [...previous.runs.filter((f) => !measured.has(f.scenario)), ...fresh.runs],
    nodeDeath: fresh.nodeDeath ?? previous.nodeDeath,
    registration: fresh.registration ?? previous.registration,
    idle: fresh.idle ?? previous.idle,
    neverReader: fresh.neverReader ?? previous.neverReader,
    loginStorm: fresh.loginStorm ?? previous.loginStorm ?? null,
    tags: fresh.tags ?? previous.tags ?? null,
    history: fresh.history ?? previous.history ?? null,
    joinStorm: fresh.joinStorm ?? previous.joinStorm ?? null,
    saslRegistration: fresh.saslRegistration ?? previous.saslRegistration ?? null,
    historyJoin: fresh.historyJoin ?? previous.historyJoin ?? null,
    // The note an older build left instead of a record, for what this run measured again.
    notes: previous.notes.filter((n) => !/^(.+) measured again on \S+ \(--only\)\.$/.exec(n)?.[1]!.split(', ').every((x) => only.includes(x))),
    merged: [...older, { measured: only, startedAt: fresh.startedAt, elapsedS: fresh.elapsedS, settings: fresh.settings, notes: fresh.notes }],
  };
}

/** The history measurement's results: the runs paired in order for bytes per entry. */
function historyCost(runs: Record<HistoryForm, HistoryWindow[]>): IrcHistoryCost {
  const pairs = Math.min(runs.on.length, runs.off.length);
  return {
    scenario: historyScenario.name,
    cpuTarget: historyCpuTarget,
    on: runs.on.map((w) => w.figures),
    off: runs.off.map((w) => w.figures),
    threadsOn: runs.on.map((w) => w.threads),
    threadsOff: runs.off.map((w) => w.threads),
    entries: runs.on.map((w) => w.entries),
    bytesPerEntry: Array.from({ length: pairs }, (_, i) => bytesPerEntry(runs.on[i]!, runs.off[i]!)),
  };
}

async function main(): Promise<void> {
  let flags: Flags | 'help';
  try {
    flags = parse(process.argv.slice(2));
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
  if (flags.oursArgs.length > 0 && flags.write) {
    // The record is of the server as shipped; an A/B of a setting is printed, not written.
    log('bench:irc: --ours-args and --write do not go together');
    process.exitCode = 2;
    return;
  }
  setExtraOursArgs(flags.oursArgs);
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
  const kinds: IrcKind[] = ['ours', ...(flags.bare ? (['bare'] as const) : []), ...(ngircd ? (['ngircd'] as const) : []), ...(inspircd ? (['inspircd'] as const) : []), ...(redisServer ? (['redis2'] as const) : [])];
  if (!flags.ngircd) notes.push('ngircd skipped (--no-ngircd).');
  else if (!ngircd) notes.push(installHints.ngircd);
  if (!flags.inspircd) notes.push('InspIRCd skipped (--no-inspircd).');
  else if (!inspircd) notes.push(installHints.inspircd);
  if (!flags.bare) notes.push('The bare Node relay skipped (--no-bare).');
  if (!flags.redis) notes.push('ours on Redis and the node-death measurement skipped (--no-redis).');
  else if (!redisServer) notes.push(installHints.redis);
  const chosen = (name: string): boolean => flags.only === null || flags.only.has(name);
  // The never-reader is a python3 client (measure.ts says why).
  const neverReaderOn = chosen(neverReaderName) && pythonAvailable() !== null;
  if (chosen(neverReaderName) && !neverReaderOn) notes.push('The never-reader needs python3 (sudo apt-get install python3): skipped.');
  // The pool's size decides how many password hashes run at once (loginStorm.ts).
  if (process.env.UV_THREADPOOL_SIZE) notes.push(`UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE} in the environment: every server and load generator inherits it.`);
  for (const n of notes) log(`bench:irc: ${n}`);
  const fanouts = scenarios.filter((s) => chosen(s.name));
  const singleKinds = ircSingleKinds(kinds);
  const machine = describeMachine();
  const bench = new IrcBench(settings);
  const all: IrcFigures[] = [];
  const neverReaders: IrcNeverReaderRun[] = [];
  const registrations: IrcRegistrationFigures[] = [];
  const idles: IrcIdleFigures[] = [];
  const deaths: IrcDeathRun[] = [];
  const loginStorms: IrcLoginStormRun[] = [];
  const profile: string[] = [];
  const tagRuns: Record<'plain' | 'tagged', IrcFigures[]> = { plain: [], tagged: [] };
  const historyRuns: Record<HistoryForm, HistoryWindow[]> = { on: [], off: [] };
  const joinStorms: IrcJoinStormFigures[] = [];
  const saslRuns: Record<SaslForm, IrcRegistrationFigures[]> = { plain: [], sasl: [] };
  const historyJoinRuns: Array<Record<HistoryJoinForm, IrcRegistrationFigures>> = [];
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
          await attempt(tag, `${scenario.name} ${labels[kind]}`, () => bench.measure(kind, scenario), (f) => runLine(tag, f), all);
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
      for (const kind of turns(singleKinds, joinStormName)) {
        const storm = { clients: flags.stormClients, holdMs: joinStormHoldMs };
        await attempt(tag, `${joinStormName} ${labels[kind]}`, () => measureJoinStorm(bench, kind, storm), (f) => joinStormLine(tag, f), joinStorms);
      }
      if (chosen(saslRegistrationName)) {
        // Plain and SASL alternate (which goes first too), as the tags measurement's forms do.
        const order = run % 2 === 1 ? (['plain', 'sasl'] as const) : (['sasl', 'plain'] as const);
        const storm = { warmupMs: settings.warmupMs, windowMs: settings.windowMs };
        for (const form of order) {
          await attempt(tag, `${saslRegistrationName} ${form}`, () => measureSaslRegistration(bench, form, storm), (f) => saslRegistrationLine(tag, form, f), saslRuns[form]);
        }
      }
      if (chosen(historyJoinName)) {
        const storm = { warmupMs: settings.warmupMs, windowMs: settings.windowMs };
        await attempt(tag, historyJoinName, () => measureHistoryJoin(bench, run, storm), (r) => historyJoinLines(tag, r), historyJoinRuns);
      }
      if (chosen(loginStormName)) {
        await attempt(tag, `${loginStormName} ${labels.ours}`, () => measureLoginStorm(bench, loginStormScenario, { logins: flags.logins }), (r) => loginStormLine(tag, r), loginStorms);
      }
      if (chosen(tagsName)) {
        // Plain and tagged alternate (which goes first too), so the machine's drift hits both alike.
        const order = run % 2 === 1 ? (['plain', 'tagged'] as const) : (['tagged', 'plain'] as const);
        for (const form of order) {
          const caps = form === 'tagged' ? taggedCaps : undefined;
          await attempt(tag, `${tagsName} ${form}`, () => bench.measure('ours', tagsScenario, caps), (f) => `${runLine(tag, f)}  [${form}]`, tagRuns[form]);
        }
      }
      if (chosen(historyName)) {
        // On and off alternate (which goes first too), as the tags measurement's forms do.
        const order = run % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const);
        for (const form of order) {
          await attempt(tag, `${historyName} ${form}`, () => measureHistory(bench, historyScenario, form), (w) => historyLine(tag, form, w), historyRuns[form]);
        }
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
          profile.push(...(profile.length > 0 ? [''] : []), ...ircProfileText(await bench.profile(fanouts[0], kind)));
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
    loginStorm: chosen(loginStormName)
      ? { scenario: loginStormScenario.name, logins: flags.logins, wrongLogins: wrongLoginsFor(flags.logins), windowMs: settings.windowMs, runs: loginStorms }
      : null,
    tags: chosen(tagsName) ? { scenario: tagsScenario.name, caps: taggedCaps, cpuTarget: tagsCpuTarget, ...tagRuns } : null,
    history: chosen(historyName) ? historyCost(historyRuns) : null,
    joinStorm: chosen(joinStormName)
      ? { clients: flags.stormClients, holdMs: joinStormHoldMs, watchPeriodMs, rssTarget: joinStormRssTarget, pingP99TargetMs: joinStormPingP99TargetMs, runs: joinStorms }
      : null,
    saslRegistration: chosen(saslRegistrationName)
      ? { concurrency: registrationConcurrency, accounts: saslAccounts, warmupMs: settings.warmupMs, windowMs: settings.windowMs, ...saslRuns }
      : null,
    historyJoin: chosen(historyJoinName)
      ? {
          messages: historyMessages,
          latest: historyLatest,
          caps: historyCaps,
          concurrency: registrationConcurrency,
          warmupMs: settings.warmupMs,
          windowMs: settings.windowMs,
          register: historyJoinRuns.map((r) => r.register),
          join: historyJoinRuns.map((r) => r.join),
          replay: historyJoinRuns.map((r) => r.replay),
        }
      : null,
    listenBacklogs: bench.backlogs,
    notes,
  };
  const out = ircTextReport(results, profile);
  if (flags.write) {
    // With --only, what was not measured this time stays as the file has it.
    writeResults(ircResultsPath, flags.only !== null && existsSync(ircResultsPath) ? mergedResults(readResults<IrcResults>(ircResultsPath, ircResultsVersion), results, [...flags.only]) : results);
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
