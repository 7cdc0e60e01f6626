// The IRC benchmark's report: from its results (bench/irc/results.ts, measured now or read back
// from docs/bench-irc-results.json) to what a reader sees. For the terminal, one line per
// measurement as it ends and, at the end, the tables; for docs/benchmarks.md, the "Chat (IRC)"
// section. Both come from the same results, so the terminal and the page cannot disagree.

import { existsSync } from 'node:fs';
import { profileIntervalUs } from '../lib/cpuProfile.js';
import { cpuTickMs } from '../lib/procfs.js';
import { readResults } from '../lib/resultsFile.js';
import { median } from '../lib/stats.js';
import {
  ircLabels,
  ircResultsPath,
  ircResultsVersion,
  ircSingleKinds,
  type IrcDeath,
  type IrcDeathRun,
  type IrcFigures,
  type IrcIdle,
  type IrcIdleFigures,
  type IrcKind,
  type IrcLoginStorm,
  type IrcLoginStormRun,
  type IrcNeverReader,
  type IrcNeverReaderRun,
  type IrcProfile,
  type IrcRegistration,
  type IrcRegistrationFigures,
  type IrcResults,
  type IrcHistoryCost,
  type IrcTags,
  type IrcThreadTimes,
} from '../irc/results.js';
import { chatUserSection, chatUserTables } from './ircChatUser.js';
import { ircKindTable, ircOrder, mibText, share, stopped, type IrcMetric } from './ircKinds.js';

import { fmt, kib, markdownTable, med, mib, num, pct, ratio, textTable, totalFailures, verdictTable, type Table, type Verdict } from './format.js';

// --- Progress: one line per measurement ------------------------------------------------------


/** The part of a fan-out window's line after its tag: everything one window measured. */
function windowText(f: IrcFigures): string {
  return (
    `${fmt(f.perSecond, 0).padStart(7)}/s of ${fmt(f.offeredPerSecond, 0)} p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} max ${fmt(f.maxMs, 1)} ms  ` +
    `server ${fmt((1000 * f.serverCpuMs) / f.deliveries, 2)} µs/delivery (${share(f.serverCpuMs, f.windowMs)}), ${fmt(f.serverWrites / f.deliveries, 3)} writes/delivery, ` +
    `RSS ${mibText(f.rssIdleBytes)} → ${mibText(f.rssPeakBytes)} MiB  load gen ${share(f.loadCpuMs, f.windowMs)} ` +
    `(late sends ${f.lateSends}, max lag ${fmt(f.maxSendLagMs, 0)} ms)  machine ${fmt(100 * f.machineBusy, 0)} % (rest ${share(f.othersCpuMs, f.windowMs)} of a core), ` +
    `before ${fmt(100 * f.busyBefore, 0)} %  joined ${f.joined}/${f.clients} in ${fmt(f.connectMs / 1000, 2)} s  missing ${f.missing}, dropped ${f.disconnected}` +
    (f.redisCpuMs !== null && f.redisCalls !== null
      ? `  Redis ${fmt((1000 * f.redisCpuMs) / f.deliveries, 2)} µs/delivery (${share(f.redisCpuMs, f.windowMs)}), ` +
        `${fmt(f.redisCalls / f.sentInWindow, 2)} commands/message, ${fmt(f.redisCalls / f.deliveries, 3)}/delivery`
      : '') +
    (totalFailures(f.connectFailures) > 0 ? `  not joined ${JSON.stringify(f.connectFailures)}` : '') +
    stopped(f.stop)
  );
}

export const runLine = (tag: string, f: IrcFigures): string => `${tag} ${f.scenario.padEnd(7)} ${ircLabels[f.server].padEnd(22)} ${windowText(f)}`;

export function neverReaderLine(tag: string, r: IrcNeverReaderRun): string {
  const dropped = r.dropMs !== null ? `dropped after ${fmt(r.dropMs / 1000, 2)} s${r.droppedInWindow ? ' (in the window)' : ''}  ${JSON.stringify(r.dropReason)}` : r.holdMs > 0 ? `not dropped in ${fmt(r.holdMs / 1000, 0)} s` : 'not waited for (no sendq)';
  return (
    `${tag} never-reader ${ircLabels[r.server].padEnd(10)} sendq ${r.sendqBytes === null ? 'none' : `${fmt(r.sendqBytes / 1024, 0)} KiB`}: ${dropped}; ` +
    `p99 ${fmt(r.without.p99Ms, 2)} → ${fmt(r.with.p99Ms, 2)} ms (×${fmt(r.with.p99Ms / r.without.p99Ms, 2)})\n` +
    `    without: ${windowText(r.without)}\n    with:    ${windowText(r.with)}`
  );
}

/** One history window as it ends: the run line, and the server's event loop against its other threads. */
export function historyLine(tag: string, form: 'on' | 'off', w: { figures: IrcFigures; threads: IrcThreadTimes; entries: number; storeBytes: number }): string {
  const f = w.figures;
  const us = (ms: number): string => fmt((1000 * ms) / f.deliveries, 2);
  return (
    `${runLine(tag, f)}  [history ${form}${form === 'on' ? `, ${w.entries} kept, ${w.storeBytes} bytes` : ''}]\n` +
    `    CPU per delivery: event loop ${us(w.threads.mainRunMs)} µs, other threads ${us(otherRunMs(w.threads))} µs`
  );
}

/** A share of one core (or of a window, for waiting) in whole per cent. */
const coreShare = (ms: number, windowMs: number): string => `${fmt((100 * ms) / windowMs, 0)} %`;

export function loginStormLine(tag: string, r: IrcLoginStormRun): string {
  const w = r.with.windowMs;
  const storm =
    r.stormMs === null
      ? 'no answer at all'
      : `in ${fmt(r.stormMs / 1000, 2)} s (${fmt(loginsPerSecond(r), 0)} logins/s${r.stormMs > w ? `; longer than the ${fmt(w / 1000, 0)} s window, which it fills` : ''})`;
  const unwelcomed = r.succeeded + r.refused - r.welcomed;
  return (
    `${tag} login storm ${ircLabels[r.server]} ${r.logins} logins + ${r.wrongLogins} wrong at once: ${r.succeeded} × 903, ${r.refused} × 904 ${storm}; ` +
    `connect → 903 p50 ${fmt(r.loginP50Ms, 0)} p99 ${fmt(r.loginP99Ms, 0)} max ${fmt(r.loginMaxMs, 0)} ms; ` +
    `everyone else's p99 ${fmt(r.without.p99Ms, 2)} → ${fmt(r.with.p99Ms, 2)} ms (×${fmt(r.with.p99Ms / r.without.p99Ms, 2)})` +
    (totalFailures(r.failures) > 0 ? `  neither 903 nor 904 ${JSON.stringify(r.failures)}` : '') +
    (unwelcomed > 0 ? `  no 001 after CAP END ${unwelcomed}` : '') +
    `\n    server threads: main on a CPU ${coreShare(r.threadsWithout.mainRunMs, w)} → ${coreShare(r.threadsWith.mainRunMs, w)} of a core, ` +
    `main waiting for a CPU ${coreShare(r.threadsWithout.mainWaitMs, w)} → ${coreShare(r.threadsWith.mainWaitMs, w)} of the window, ` +
    `other threads on a CPU ${coreShare(otherRunMs(r.threadsWithout), w)} → ${coreShare(otherRunMs(r.threadsWith), w)} of a core` +
    `  (accounts created in ${fmt(r.prepareMs, 0)} ms)` +
    `\n    without: ${windowText(r.without)}\n    with:    ${windowText(r.with)}`
  );
}


export function idleLine(tag: string, f: IrcIdleFigures): string {
  const perClientKiB = (before: number | null, after: number | null): string =>
    before === null || after === null ? 'n/a' : fmt((after - before) / f.registered / 1024, 2);
  return (
    `${tag} idle ${ircLabels[f.server].padEnd(14)} ${f.registered}/${f.clients} registered in ${fmt(f.connectMs / 1000, 2)} s  ` +
    `RSS ${mibText(f.rssBeforeBytes)} → ${mibText(f.rssAfterBytes)} MiB (${perClientKiB(f.rssBeforeBytes, f.rssAfterBytes)} KiB/client)` +
    (f.heapBeforeBytes !== null && f.heapAfterBytes !== null
      ? `  heap after GC ${mibText(f.heapBeforeBytes)} → ${mibText(f.heapAfterBytes)} MiB (${perClientKiB(f.heapBeforeBytes, f.heapAfterBytes)} KiB/client)`
      : '') +
    `  idle CPU ${fmt((100 * f.idleCpuMs) / f.holdMs, 1)} % over ${fmt(f.holdMs / 1000, 1)} s  before ${fmt(100 * f.busyBefore, 0)} %` +
    (totalFailures(f.failures) > 0 ? `  not registered ${JSON.stringify(f.failures)}` : '') +
    stopped(f.stop)
  );
}

export function deathLine(tag: string, r: IrcDeathRun): string {
  const s = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  return (
    `${tag} node death ${r.signal.padEnd(7)} (after ${r.delayMs.toFixed(0)} ms) observer saw ${r.quits}/${r.clients} QUITs: first after ${s(r.firstQuitMs)}, all after ${s(r.allQuitsMs)}; ` +
    `node B exited after ${s(r.exitMs)}` +
    (r.reason !== null ? `  reason ${JSON.stringify(r.reason)}` : '')
  );
}

/** The tables at the end, from the results as --write saves them. */
/** The tables at the end, from the results as --write saves them. */
function resultTables(r: IrcResults): string[] {
  const out: string[] = [];
  for (const s of r.scenarios) {
    const runs = r.runs.filter((f) => f.scenario === s.name);
    out.push(
      '',
      `${s.name}: ${s.clients} clients in ${s.channels} channel${s.channels > 1 ? 's' : ''} of ${s.clients / s.channels}, ` +
        `one PRIVMSG each every ${s.periodMs} ms: ${fmt(s.offeredPerSecond, 0)} deliveries/s offered`,
      textTable(ircScenarioTable(runs, r.kinds)),
    );
    const commands = ircCommandTable(runs);
    if (commands) out.push('', `${s.name}, ${ircLabels.redis2}: Redis commands per message sent (medians; those scripts run counted under their names)`, textTable(commands));
  }
  const nr = r.neverReader;
  if (nr && nr.runs.length > 0) {
    out.push(
      '',
      `NEVER-READER: ${nr.scenario}, each server with its own sendq; a ${nr.windowMs / 1000} s window without it, then it joins #c0 and never reads; ` +
        'a window of the same length from its first unread line, sends going on until it is dropped',
      textTable(ircNeverReaderTable(nr, r.kinds)),
    );
  }
  const ls = r.loginStorm;
  if (ls && ls.runs.length > 0) {
    out.push(
      '',
      `LOGIN STORM: ${ls.scenario}, one server of ours with ${ls.logins} accounts in its store; a ${ls.windowMs / 1000} s window without logins, then one that starts ` +
        `with ${ls.logins} SASL PLAIN logins and ${ls.wrongLogins} wrong passwords at once (CAP REQ sasl → AUTHENTICATE PLAIN → 903/904 → CAP END → 001 → QUIT)`,
      textTable(ircLoginStormTable(ls)),
    );
  }
  const tg = r.tags;
  if (tg && tg.plain.length + tg.tagged.length > 0) {
    out.push(
      '',
      `TAGS: ${tg.scenario}, ours only; in each run one window of plain clients and one of clients enabling ${capsText(tg)} ` +
        '(CAP LS 302 → REQ → ACK → END; every delivery then carries @time=...;msgid=...), which goes first alternating',
      textTable(ircTagsTable(tg)),
      tagsSummaryLine(tg),
    );
  }
  const hc = r.history;
  if (hc && hc.on.length + hc.off.length > 0) {
    out.push(
      '',
      `HISTORY: ${hc.scenario}, ours only; in each run one window with --history off and one with --history on (every channel message kept in SQLite), which goes first alternating`,
      textTable(ircHistoryTable(hc)),
      historySummaryLine(hc),
    );
  }
  const d = r.nodeDeath;
  if (d) {
    const beat = d.heartbeatMs / 1000;
    out.push(
      '',
      `NODE DEATH: two nodes with --node-timeout ${d.nodeTimeoutMs}, ${d.clients} clients on node B and an observer on node A in one channel; ` +
        `node B signalled. Expected after SIGKILL: ${d.nodeTimeoutMs / 1000 - beat} to ${d.nodeTimeoutMs / 1000 + beat} s ` +
        `(timeout ± one ${beat} s beat); with the default --node-timeout ${d.defaultNodeTimeoutMs}: ` +
        `${d.defaultNodeTimeoutMs / 1000 - beat} to ${d.defaultNodeTimeoutMs / 1000 + beat} s.`,
      textTable(ircDeathTable(d)),
    );
  }
  const g = r.registration;
  if (g) {
    out.push(
      '',
      `REGISTRATION STORM: ${g.concurrency} clients at once (InspIRCd: see the first row), each connect → NICK/USER → 001 → QUIT → the server closes, then again; ` +
        `${g.warmupMs / 1000} s warm-up, ${g.windowMs / 1000} s window`,
      textTable(ircRegistrationTable(g, r.kinds)),
    );
  }
  const i = r.idle;
  if (i) {
    out.push(
      '',
      `IDLE CLIENTS: ${i.clients} clients registered (end of MOTD seen) and idle for ${i.holdMs / 1000} s; growth from a reading taken after ` +
        `${i.warmClients} warm-up clients came and went (Node servers: heap after a full GC, RSS read after it)`,
      textTable(ircIdleTable(i, r.kinds)),
    );
  }
  out.push(...chatUserTables(r));
  const verdicts = ircVerdicts(r);
  if (verdicts.length > 0) out.push('', 'TARGETS (issue 11)', textTable(verdictTable(verdicts)));
  const backlogs = Object.entries(r.listenBacklogs ?? {}).filter(([, n]) => n !== null);
  if (backlogs.length > 0) out.push('', `Listen backlogs (ss -ltn): ${backlogs.map(([k, n]) => `${ircLabels[k as IrcKind]} ${n}`).join(', ')}`);
  return out;
}

/** Each run with --only merged into these results: what it replaced, when, with which settings, and its notes. */
function ircMergedNotes(r: IrcResults): string[] {
  return (r.merged ?? []).map((m) => {
    const s = m.settings;
    return (
      `${m.measured.join(', ')}: measured on ${m.startedAt.slice(0, 10)} by \`npm run bench:irc -- --only ${m.measured.join(',')}\` ` +
      `(${s.runs} run${s.runs === 1 ? '' : 's'}, ${s.warmupMs / 1000} s warm-up, ${s.windowMs / 1000} s window${s.quick ? ', --quick' : ''}; ` +
      `${fmt(m.elapsedS / 60, 1)} min) and merged into these results.${m.notes.map((n) => ` ${n}`).join('')}`
    );
  });
}

/** The whole report for the terminal: the run's setting, every table, the profile if any, the notes. */
export function ircTextReport(r: IrcResults, profile: readonly string[]): string[] {
  const m = r.machine;
  const s = r.settings;
  const out: string[] = [
    '',
    `IRC FAN-OUT  machine: ${m.nproc} CPUs (${m.cpu}), ${m.memory}, ${m.kernel}; Node ${m.node}` +
      [r.ngircd, r.inspircd, r.redis].map((v) => (v ? `; ${v}` : '')).join(''),
    `runs ${s.runs}, warm-up ${s.warmupMs / 1000} s, window ${s.windowMs / 1000} s, ${s.loadProcesses} load-generator processes, ` +
      `PRIVMSG text ${s.textBytes} bytes, CPU from /proc in ${cpuTickMs} ms ticks`,
    `Everything shares these ${m.nproc} CPUs: the server under test (for ours on Redis: two nodes and redis-server) and the load generators.`,
    ...resultTables(r),
  ];
  if (profile.length > 0) out.push('', ...profile);
  if (r.scenarios.length > 0 || (r.neverReader?.runs.length ?? 0) > 0) {
    out.push(
      '',
      "Latency: receive time (when the load generator's event loop saw the bytes) − send time (in the text), one monotonic clock.",
      'Server CPU (both nodes for ours on Redis), Redis CPU and load gen CPU: utime + stime from /proc over the window only; write syscalls: syscw of /proc/<pid>/io.',
      'Redis commands: INFO commandstats over the window (commands run by Lua scripts included, INFO not). Ratios are of the medians.',
    );
  }
  const notes = [...r.notes, ...ircMergedNotes(r)];
  if (notes.length > 0) out.push('', 'NOTES', ...notes.map((n) => `- ${n}`));
  out.push('', `elapsed ${(r.elapsedS / 60).toFixed(1)} min`);
  return out;
}

/** A profiled window as text: per process, self time by category and the busiest functions. */
export function ircProfileText(p: IrcProfile): string[] {
  const perDelivery = (ms: number): string => `${((1000 * ms) / p.deliveries).toFixed(2)} µs/delivery`;
  const out: string[] = [];
  for (const [i, s] of p.processes.entries()) {
    const which = p.processes.length > 1 ? ` (process ${i + 1} of ${p.processes.length})` : '';
    out.push(
      ...(i > 0 ? [''] : []),
      `PROFILE ${ircLabels[p.kind]}${which}, ${p.scenario}: node --cpu-prof --cpu-prof-interval=${profileIntervalUs}, window only;` +
        ` ${s.totalMs.toFixed(0)} ms sampled, ${p.deliveries} deliveries in all (${perDelivery(s.totalMs)}; the profiler adds its own cost)`,
      `with xstate on the stack: ${s.underXstateMs.toFixed(0)} ms (${perDelivery(s.underXstateMs)})`,
      textTable({ header: ['self time by category', 'ms', 'share'], align: 'lrr', rows: s.categories.map((c) => [c.name, c.ms.toFixed(0), `${((100 * c.ms) / s.totalMs).toFixed(1)} %`]) }),
      '',
      textTable({ header: ['function (self time)', 'where', 'ms'], align: 'llr', rows: s.top.map((f) => [f.fn, f.where, f.ms.toFixed(0)]) }),
    );
  }
  return out;
}

// --- Tables and the page --------------------------------------------------------------------

type IrcPick = (f: IrcFigures) => number | null;
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


/** One scenario's medians by kind, with ours against each baseline and two nodes against ours. */
function ircScenarioTable(runs: readonly IrcFigures[], kinds: readonly IrcKind[]): Table {
  return ircKindTable(runs, kinds, ircMetrics);
}

const registrationMetrics: Array<IrcMetric<IrcRegistrationFigures>> = [
  { label: 'registrations in flight', digits: 0, pick: (f) => f.concurrency, ratio: false },
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
/** The registration storm's medians by kind, with ours against each baseline. */
function ircRegistrationTable(r: IrcRegistration, kinds: readonly IrcKind[]): Table {
  return ircKindTable(r.runs, ircSingleKinds(kinds), registrationMetrics);
}

/** The idle clients' medians by kind, with ours against each baseline. */
function ircIdleTable(r: IrcIdle, kinds: readonly IrcKind[]): Table {
  return ircKindTable(r.runs, ircSingleKinds(kinds), idleMetrics);
}


/**
 * Redis's commands by name, per message sent (medians of the Redis kind's runs), most called
 * first. An EVALSHA's time includes the calls its script makes, which are also listed under their
 * own names: the times do not add up, so the total row has none.
 */
function ircCommandTable(runs: readonly IrcFigures[]): Table | null {
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
function ircDeathTable(d: IrcDeath): Table {
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
  (r: WithoutWith): number =>
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
/** Runs of one load measured twice in one process: without something, then with it. */
interface WithoutWith {
  without: IrcFigures;
  with: IrcFigures;
}
const p99Without = (rs: readonly WithoutWith[]): number[] => rs.map((x) => num(x.without.p99Ms)).filter(Number.isFinite);
function ircNoiseCeilingMs(rs: readonly WithoutWith[]): number {
  const without = p99Without(rs);
  const m = median(without);
  return without.length === 0 ? Number.NaN : Math.max(...without, (1 + ircNoiseShare) * m, m + ircNoiseFloorMs);
}
const ircWithinNoise = (rs: readonly WithoutWith[]): boolean | null => {
  const ceiling = ircNoiseCeilingMs(rs);
  const p99 = med(rs, (x) => x.with.p99Ms);
  return Number.isFinite(ceiling) && Number.isFinite(p99) ? p99 <= ceiling : null;
};

/** The never-reader's medians by kind, with the noise each p99 with it is held to. */
function ircNeverReaderTable(nr: IrcNeverReader, kinds: readonly IrcKind[]): Table {
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

/** The server's threads other than the main one: on a CPU (ms). */
const otherRunMs = (t: IrcThreadTimes): number => t.allRunMs - t.mainRunMs;
const loginsPerSecond = (r: IrcLoginStormRun): number => (r.stormMs === null ? Number.NaN : (1000 * r.succeeded) / r.stormMs);
/** A share of the window, in per cent. */
const ofWindow = (ms: number, f: IrcFigures): number => (100 * ms) / f.windowMs;

const loginStormMetrics: Array<IrcMetric<IrcLoginStormRun>> = [
  { label: 'logins at once, right password', digits: 0, pick: (r) => r.logins, ratio: false },
  { label: 'logins at once, wrong password (each from its own address)', digits: 0, pick: (r) => r.wrongLogins, ratio: false },
  { label: 'storm: its start → the last 903 or 904 (s)', digits: 2, pick: (r) => (r.stormMs === null ? null : r.stormMs / 1000), ratio: false },
  { label: 'logins/s (903s over that time)', digits: 0, pick: loginsPerSecond, ratio: false },
  { label: 'storm time / window (above 1: the window is all storm)', digits: 2, pick: (r) => (r.stormMs === null ? null : r.stormMs / r.with.windowMs), ratio: false },
  { label: 'connect → 903 p50 (ms)', digits: 0, pick: (r) => r.loginP50Ms, ratio: false },
  { label: 'connect → 903 p99 (ms)', digits: 0, pick: (r) => r.loginP99Ms, ratio: false },
  { label: 'attempts with neither 903 nor 904', digits: 0, pick: (r) => totalFailures(r.failures), ratio: false },
  { label: 'everyone else: latency p99 without the storm (ms)', digits: 2, pick: (r) => r.without.p99Ms, ratio: false },
  { label: 'everyone else: latency p99 from its start (ms)', digits: 2, pick: (r) => r.with.p99Ms, ratio: false },
  { label: 'p99 with / without', digits: 2, pick: withOver((f) => f.p99Ms), ratio: false },
  { label: 'latency p50 without the storm (ms)', digits: 2, pick: (r) => r.without.p50Ms, ratio: false },
  { label: 'latency p50 from its start (ms)', digits: 2, pick: (r) => r.with.p50Ms, ratio: false },
  { label: 'latency max without the storm (ms)', digits: 1, pick: (r) => r.without.maxMs, ratio: false },
  { label: 'latency max from its start (ms)', digits: 1, pick: (r) => r.with.maxMs, ratio: false },
  { label: 'deliveries/s with / without', digits: 2, pick: withOver((f) => f.perSecond), ratio: false },
  { label: 'server CPU without the storm (% of one core)', digits: 0, pick: (r) => ofWindow(r.without.serverCpuMs, r.without), ratio: false },
  { label: 'server CPU from its start (% of one core)', digits: 0, pick: (r) => ofWindow(r.with.serverCpuMs, r.with), ratio: false },
  { label: 'its main thread (event loop) on a CPU, without (% of one core)', digits: 0, pick: (r) => ofWindow(r.threadsWithout.mainRunMs, r.without), ratio: false },
  { label: 'its main thread (event loop) on a CPU, with (% of one core)', digits: 0, pick: (r) => ofWindow(r.threadsWith.mainRunMs, r.with), ratio: false },
  { label: 'its main thread runnable but waiting for a CPU, without (% of the window)', digits: 1, pick: (r) => ofWindow(r.threadsWithout.mainWaitMs, r.without), ratio: false },
  { label: 'its main thread runnable but waiting for a CPU, with (% of the window)', digits: 1, pick: (r) => ofWindow(r.threadsWith.mainWaitMs, r.with), ratio: false },
  { label: 'its other threads (libuv pool, store worker, V8) on a CPU, without (% of one core)', digits: 0, pick: (r) => ofWindow(otherRunMs(r.threadsWithout), r.without), ratio: false },
  { label: 'its other threads on a CPU, with (% of one core)', digits: 0, pick: (r) => ofWindow(otherRunMs(r.threadsWith), r.with), ratio: false },
  { label: 'machine busy without the storm (% of all CPUs)', digits: 0, pick: (r) => 100 * r.without.machineBusy, ratio: false },
  { label: 'machine busy from its start (% of all CPUs)', digits: 0, pick: (r) => 100 * r.with.machineBusy, ratio: false },
  { label: 'load gen sends late > 10 ms, with the storm', digits: 0, pick: (r) => r.with.lateSends, ratio: false },
];

/** The login storm's medians (ours), with the noise its p99 is held to. */
function ircLoginStormTable(ls: IrcLoginStorm): Table {
  const t = ircKindTable(ls.runs, ['ours'], loginStormMetrics);
  const within = ircWithinNoise(ls.runs);
  t.rows.push(
    ['runs', String(ls.runs.length)],
    [`noise: p99 of the runs without it, highest (at least median +${pct(ircNoiseShare)}, +${ircNoiseFloorMs} ms) (ms)`, fmt(ircNoiseCeilingMs(ls.runs), 2)],
    ['p99 with the storm within that noise', within === null ? 'n/a' : within ? 'yes' : 'NO'],
  );
  return t;
}

/** The caps as a reader says them: `server-time + message-tags`. */
const capsText = (t: IrcTags): string => t.caps.split(' ').join(' + ');

/** The metrics the tags table shows for plain and tagged clients, and tagged/plain. */
const tagsMetrics: Array<IrcMetric<IrcFigures>> = [
  { label: 'deliveries/s', digits: 0, pick: (f) => f.perSecond, ratio: true },
  { label: 'server CPU per delivery (µs)', digits: 2, pick: (f) => ircDeliveryCpu(f), ratio: true },
  { label: 'server CPU (% of one core)', digits: 0, pick: (f) => (100 * f.serverCpuMs) / f.windowMs, ratio: true },
  { label: 'server write syscalls per delivery', digits: 3, pick: (f) => f.serverWrites / f.deliveries, ratio: true },
  { label: 'latency p50 (ms)', digits: 2, pick: (f) => f.p50Ms, ratio: true },
  { label: 'latency p99 (ms)', digits: 2, pick: (f) => f.p99Ms, ratio: true },
  { label: 'load gen CPU, all processes (% of one core)', digits: 0, pick: (f) => (100 * f.loadCpuMs) / f.windowMs, ratio: true },
  { label: 'rest of machine in window (% of one core)', digits: 0, pick: (f) => (100 * f.othersCpuMs) / f.windowMs, ratio: false },
  { label: 'deliveries missing 1-5 s after last send', digits: 0, pick: (f) => f.missing, ratio: false },
  { label: 'clients not joined', digits: 0, pick: (f) => totalFailures(f.connectFailures), ratio: false },
];

/**
 * Two forms of one load measured in turns (a baseline and a variant: plain and tagged clients,
 * history off and on): their medians side by side, variant/baseline, and each run's pair.
 */
function pairedRows(base: readonly IrcFigures[], variant: readonly IrcFigures[]): string[][] {
  const rows = tagsMetrics.map((x) => {
    const a = med(base, x.pick);
    const b = med(variant, x.pick);
    return [x.label, fmt(a, x.digits), fmt(b, x.digits), x.ratio ? ratio(b, a) : ''];
  });
  const n = Math.min(base.length, variant.length);
  const pairs = Array.from({ length: n }, (_, i) => ratio(num(ircDeliveryCpu(variant[i]!)), num(ircDeliveryCpu(base[i]!)))).join(' ');
  rows.push(['runs', String(base.length), String(variant.length), ''], ['server CPU per delivery, each run in order', '', '', pairs]);
  return rows;
}

/** Variant over baseline CPU per delivery of each run, in order (the pairs a run measured together). */
function pairRatios(base: readonly IrcFigures[], variant: readonly IrcFigures[]): number[] {
  return Array.from({ length: Math.min(base.length, variant.length) }, (_, i) => num(ircDeliveryCpu(variant[i]!)) / num(ircDeliveryCpu(base[i]!))).filter(Number.isFinite);
}

/**
 * The CPU-per-delivery verdict of a paired measurement: variant within `target` of baseline.
 * It goes by the median of the per-run ratios: the two forms take turns within a run, so each
 * pair shares the machine's conditions of its moment, which a ratio of the two medians (also
 * shown) does not, on a machine whose load moves from run to run.
 */
function pairedVerdict(base: readonly IrcFigures[], variant: readonly IrcFigures[], target: number, names: [string, string]): { ratio: number; measured: string; verdict: Verdict['verdict'] } {
  const a = med(base, ircDeliveryCpu);
  const b = med(variant, ircDeliveryCpu);
  const pairs = pairRatios(base, variant);
  const paired = median(pairs);
  const per = (figures: readonly IrcFigures[], v: number, name: string): string => `${name} ${fmt(v, 2)} µs at ${fmt(med(figures, (f) => f.perSecond), 0)}/s`;
  return {
    ratio: paired,
    measured:
      `${per(base, a, names[0])}, ${per(variant, b, names[1])}: median of the ${pairs.length} per-run ${names[1]}/${names[0]} ratios ×${fmt(paired, 3)} ` +
      `(the verdict's), ratio of the medians ×${fmt(b / a, 3)}`,
    verdict: Number.isFinite(paired) ? (paired <= target ? 'PASS' : 'MISS') : 'n/a',
  };
}

/** Plain and tagged medians side by side, tagged/plain, and each run's pair. */
function ircTagsTable(t: IrcTags): Table {
  return { header: ['figure (median)', 'plain (baseline)', `tagged (${capsText(t)})`, 'tagged/plain'], align: 'lrrr', rows: pairedRows(t.plain, t.tagged) };
}

/** Issue 19's target: tagged server CPU per delivery within cpuTarget of plain's. */
export function ircTagsVerdict(t: IrcTags): Verdict {
  const v = pairedVerdict(t.plain, t.tagged, t.cpuTarget, ['plain', 'tagged']);
  return {
    target: `${t.scenario}: server CPU per delivered message with ${capsText(t)} on every client within ${pct(t.cpuTarget - 1)} of plain clients' (the baseline, run alongside)`,
    measured: v.measured,
    verdict: v.verdict,
  };
}

/** The tags verdict as one line for the terminal. */
export function tagsSummaryLine(t: IrcTags): string {
  const v = ircTagsVerdict(t);
  return `TAGS (issue 19) ${v.verdict}: ${v.measured} (target ≤ ×${t.cpuTarget}; ${t.plain.length}/${t.tagged.length} alternating runs; plain is the baseline: an older build cannot be run beside this one)`;
}

/** The history table's rows on the server's threads, from each window's schedstat readings; none for results without. */
function historyThreadRows(h: IrcHistoryCost): string[][] {
  if (!h.threadsOn?.length || !h.threadsOff?.length) return [];
  const rows: Array<{ label: string; digits: number; pick: (t: IrcThreadTimes, f: IrcFigures) => number }> = [
    { label: 'its main thread (event loop) on a CPU per delivery (µs)', digits: 2, pick: (t, f) => (1000 * t.mainRunMs) / f.deliveries },
    { label: 'its other threads (store worker, V8 helpers, libuv pool) on a CPU per delivery (µs)', digits: 2, pick: (t, f) => (1000 * otherRunMs(t)) / f.deliveries },
    { label: 'its main thread runnable but waiting for a CPU (% of the window)', digits: 1, pick: (t, f) => (100 * t.mainWaitMs) / f.windowMs },
  ];
  const values = (threads: readonly IrcThreadTimes[], figures: readonly IrcFigures[], pick: (t: IrcThreadTimes, f: IrcFigures) => number): number[] =>
    threads.map((t, i) => (figures[i] ? pick(t, figures[i]!) : Number.NaN));
  return rows.map((x) => {
    const a = median(values(h.threadsOff!, h.off, x.pick).filter(Number.isFinite));
    const b = median(values(h.threadsOn!, h.on, x.pick).filter(Number.isFinite));
    return [x.label, fmt(a, x.digits), fmt(b, x.digits), ratio(b, a)];
  });
}

/** History off and on side by side (the tags table's figures and the server's threads), on/off, and what is stored. */
function ircHistoryTable(h: IrcHistoryCost): Table {
  const rows = pairedRows(h.off, h.on);
  rows.splice(2, 0, ...historyThreadRows(h));
  rows.push(
    ['entries kept', '0', fmt(median(h.entries), 0), ''],
    ['bytes stored per message (database growth over off, per entry)', '', fmt(median(h.bytesPerEntry.filter(Number.isFinite)), 0), ''],
  );
  return { header: ['figure (median)', 'history off (baseline)', 'history on', 'on/off'], align: 'lrrr', rows };
}

/** Issue 20's target: server CPU per delivery with history on within cpuTarget of off's. */
export function ircHistoryVerdict(h: IrcHistoryCost): Verdict {
  const v = pairedVerdict(h.off, h.on, h.cpuTarget, ['off', 'on']);
  return {
    target: `${h.scenario}: server CPU per delivered message with history on within ${pct(h.cpuTarget - 1)} of history off (run alongside)`,
    measured: `${v.measured}; ${fmt(median(h.bytesPerEntry.filter(Number.isFinite)), 0)} bytes stored per message`,
    verdict: v.verdict,
  };
}

export function historySummaryLine(h: IrcHistoryCost): string {
  const v = ircHistoryVerdict(h);
  return `HISTORY (issue 20) ${v.verdict}: ${v.measured} (target ≤ ×${h.cpuTarget}; ${h.off.length}/${h.on.length} alternating runs)`;
}

/** Issue 11's targets against ngircd (and InspIRCd, the figure to beat), from the medians. */
function ircVerdicts(r: IrcResults): Verdict[] {
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
  const ls = r.loginStorm;
  if (ls && ls.runs.length > 0) {
    const within = ircWithinNoise(ls.runs);
    out.push({
      target: `a login storm (${ls.logins} SASL PLAIN logins and ${ls.wrongLogins} wrong passwords at once) does not move the other clients' delivery p99 (beyond the same noise)`,
      measured:
        `ours p99 ${fmt(med(ls.runs, (x) => x.without.p99Ms), 2)} ms without it, ${fmt(med(ls.runs, (x) => x.with.p99Ms), 2)} ms from its start ` +
        `(noise ceiling ${fmt(ircNoiseCeilingMs(ls.runs), 2)} ms); storm ${fmt(med(ls.runs, (x) => (x.stormMs === null ? null : x.stormMs / 1000)), 2)} s, ` +
        `${fmt(med(ls.runs, loginsPerSecond), 0)} logins/s`,
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
  const out: string[] = [];
  const over = (f: IrcFigures): boolean => num(f.othersCpuMs) / f.windowMs > ircDisturbedShare;
  const hit = r.runs.filter(over);
  if (hit.length > 0) {
    out.push(
      `${hit.length} of ${r.runs.length} windows had the rest of the machine above ${pct(ircDisturbedShare)} of a core (other work on this ` +
        `shared machine): ${hit.map((f) => `${f.scenario} ${ircLabels[f.server]} (${pct(f.othersCpuMs / f.windowMs)})`).join(', ')}. ` +
        'The medians lean on the other runs; the ratios compare kinds measured seconds apart.',
    );
  }
  const tagRuns = r.tags ? [...r.tags.plain, ...r.tags.tagged] : [];
  const tagsHit = tagRuns.filter(over).length;
  if (tagsHit > 0) {
    out.push(`${tagsHit} of ${tagRuns.length} tags windows had the rest of the machine above ${pct(ircDisturbedShare)} of a core; plain and tagged alternate so that it falls on both alike.`);
  }
  return out;
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
server is started with \`--expose-gc\` and a preloaded probe (bench/irc/heapProbe.ts) that, on a signal, runs
a full GC and reports *heap used*; their RSS is read just after it. Growth per client = (with the clients −
before) / clients registered. ngircd and InspIRCd are C and C++: RSS only. InspIRCd registers 1,000 at once
(the others 8, under ngircd's backlog of 10), since it completes registrations only once a second.

${markdownTable(ircIdleTable(i, r.kinds))}`);
  }
  return parts.join('\n\n');
}

/** The tags subsection; empty when it was not measured. */
function ircTagsSection(r: IrcResults): string {
  const t = r.tags;
  if (!t || t.plain.length + t.tagged.length === 0) return '';
  return `### Tags and server-time (issue 19)

The ${t.scenario} load against ours, twice in each run: clients registering as in the tables above, and
clients that each enable \`${t.caps}\` (\`CAP LS 302\`, \`CAP REQ\`, the ACK, \`CAP END\`) so that every
delivery carries \`@time=...;msgid=...\`. Which of the two goes first alternates from run to run, so the
machine's drift falls on both alike. The plain clients are the baseline: the build before tags cannot be
run beside this one. The target: server CPU per delivered message at most ×${t.cpuTarget} the plain one's.

${markdownTable(ircTagsTable(t))}

${markdownTable(verdictTable([ircTagsVerdict(t)]))}`;
}

/** The history subsection; empty when it was not measured. */
function ircHistorySection(r: IrcResults): string {
  const h = r.history;
  if (!h || h.on.length + h.off.length === 0) return '';
  return `### Keeping history (issue 20)

The ${h.scenario} load against ours, twice in each run: with \`--history off\` and with \`--history on\` (the
default: every channel message kept in SQLite, written in batches by the store's worker thread, in the
server's process and so in its CPU), each in a fresh \`--data-dir\`; which goes first alternates. Bytes
per message: the database file's growth over the \`off\` run's (same schema, no history), per entry kept.
*Server CPU* is utime + stime of its process (/proc), every thread of it; the rows on its threads split
it (/proc schedstat): the main thread, which runs the event loop, against all the others (the store's
worker thread that runs the SQLite writes, V8's GC and compiler helpers, libuv's pool).
The target: server CPU per delivered message with history at most ×${h.cpuTarget} the one without. The verdict
goes by the median of the per-run on/off ratios: the two windows of a run are back to back, so each pair
shares the machine's load of its moment, which moves from run to run on a shared machine; the ratio of
the two medians is shown beside it.

${markdownTable(ircHistoryTable(h))}

${markdownTable(verdictTable([ircHistoryVerdict(h)]))}`;
}

/** The "Chat (IRC)" section of docs/benchmarks.md. */
export function ircSection(r: IrcResults): string {
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
  const allNotes = [...r.notes, ...ircMergedNotes(r), ...ircDisturbed(r)];
  const chatUser = chatUserSection(r);
  const notes = allNotes.length > 0 ? allNotes.map((n) => `- ${n}`).join('\n') : '- none';
  return `## Chat (IRC)

Generated by \`npm run bench:irc -- --write\` (bench/irc/run.ts) on ${r.startedAt.slice(0, 10)}, from
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
  bench/irc/bareIrcRelay.ts, a naive \`node:net\` relay, the floor for Node. *ngircd*:
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
${r.registration || r.idle ? `\n${ircCostSection(r)}\n` : ''}${r.neverReader?.runs.length ? `\n${ircNeverReaderSection(r)}\n` : ''}${r.tags?.plain.length ? `\n${ircTagsSection(r)}\n` : ''}${r.history?.on.length ? `\n${ircHistorySection(r)}\n` : ''}${chatUser ? `\n${chatUser}\n` : ''}
### When a node dies

${death}

### Notes from this run

${notes}
`;
}

/** docs/bench-irc-results.json if it is there and of this version; null (and a word on stderr) if not. */

/** docs/bench-irc-results.json if it is there and of this version; null (and a word on stderr) if not. */
export function readIrcResults(file = ircResultsPath): IrcResults | null {
  if (!existsSync(file)) return null;
  try {
    return readResults<IrcResults>(file, ircResultsVersion);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}: the chat section is left out\n`);
    return null;
  }
}
