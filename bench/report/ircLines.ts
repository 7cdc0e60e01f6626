// What the IRC benchmark (bench/irc/run.ts) prints: one line per measurement as it ends (on
// stderr, as progress), and at the end the tables, made by bench/report/irc.ts from the same results
// that --write saves, so that the terminal and docs/benchmarks.md cannot disagree.

import {
  ircCommandTable,
  ircDeathTable,
  ircIdleTable,
  ircNeverReaderTable,
  ircRegistrationTable,
  ircScenarioTable,
  ircVerdicts,
} from './irc.js';
import { ircLabels as labels, type IrcDeathRun, type IrcFigures, type IrcIdleFigures, type IrcNeverReaderRun, type IrcRegistrationFigures, type IrcResults } from '../irc/results.js';
import { textTable, verdictTable } from './tables.js';

const fmt = (v: number, digits: number): string =>
  Number.isFinite(v) ? v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const sumValues = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const mib = (bytes: number): string => fmt(bytes / 2 ** 20, 1);
const share = (ms: number, windowMs: number): string => `${fmt((100 * ms) / windowMs, 0)} %`;
const stopped = (stop: IrcFigures['stop']): string => (stop ? `  stop ${fmt(stop.ms, 0)} ms${stop.killed ? ' (killed)' : ''}` : '');

/** The part of a fan-out window's line after its tag: everything one window measured. */
function windowText(f: IrcFigures): string {
  return (
    `${fmt(f.perSecond, 0).padStart(7)}/s of ${fmt(f.offeredPerSecond, 0)} p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} max ${fmt(f.maxMs, 1)} ms  ` +
    `server ${fmt((1000 * f.serverCpuMs) / f.deliveries, 2)} µs/delivery (${share(f.serverCpuMs, f.windowMs)}), ${fmt(f.serverWrites / f.deliveries, 3)} writes/delivery, ` +
    `RSS ${mib(f.rssIdleBytes)} → ${mib(f.rssPeakBytes)} MiB  load gen ${share(f.loadCpuMs, f.windowMs)} ` +
    `(late sends ${f.lateSends}, max lag ${fmt(f.maxSendLagMs, 0)} ms)  machine ${fmt(100 * f.machineBusy, 0)} % (rest ${share(f.othersCpuMs, f.windowMs)} of a core), ` +
    `before ${fmt(100 * f.busyBefore, 0)} %  joined ${f.joined}/${f.clients} in ${fmt(f.connectMs / 1000, 2)} s  missing ${f.missing}, dropped ${f.disconnected}` +
    (f.redisCpuMs !== null && f.redisCalls !== null
      ? `  Redis ${fmt((1000 * f.redisCpuMs) / f.deliveries, 2)} µs/delivery (${share(f.redisCpuMs, f.windowMs)}), ` +
        `${fmt(f.redisCalls / f.sentInWindow, 2)} commands/message, ${fmt(f.redisCalls / f.deliveries, 3)}/delivery`
      : '') +
    (sumValues(f.connectFailures) > 0 ? `  not joined ${JSON.stringify(f.connectFailures)}` : '') +
    stopped(f.stop)
  );
}

export const runLine = (tag: string, f: IrcFigures): string => `${tag} ${f.scenario.padEnd(7)} ${labels[f.server].padEnd(22)} ${windowText(f)}`;

export function neverReaderLine(tag: string, r: IrcNeverReaderRun): string {
  const dropped = r.dropMs !== null ? `dropped after ${fmt(r.dropMs / 1000, 2)} s${r.droppedInWindow ? ' (in the window)' : ''}  ${JSON.stringify(r.dropReason)}` : r.holdMs > 0 ? `not dropped in ${fmt(r.holdMs / 1000, 0)} s` : 'not waited for (no sendq)';
  return (
    `${tag} never-reader ${labels[r.server].padEnd(10)} sendq ${r.sendqBytes === null ? 'none' : `${fmt(r.sendqBytes / 1024, 0)} KiB`}: ${dropped}; ` +
    `p99 ${fmt(r.without.p99Ms, 2)} → ${fmt(r.with.p99Ms, 2)} ms (×${fmt(r.with.p99Ms / r.without.p99Ms, 2)})\n` +
    `    without: ${windowText(r.without)}\n    with:    ${windowText(r.with)}`
  );
}

export function registrationLine(tag: string, f: IrcRegistrationFigures): string {
  return (
    `${tag} registration ${labels[f.server].padEnd(14)} ${fmt(f.perSecond, 0).padStart(6)}/s  connect → 001 p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} ` +
    `max ${fmt(f.maxMs, 1)} ms  server ${fmt((1000 * f.serverCpuMs) / f.registrations, 1)} µs/registration (${share(f.serverCpuMs, f.windowMs)})  ` +
    `load gen ${fmt((1000 * f.loadCpuMs) / f.registrations, 1)} µs/registration (${share(f.loadCpuMs, f.windowMs)})  ` +
    `RSS ${mib(f.rssIdleBytes)} → ${mib(f.rssPeakBytes)} MiB  machine ${fmt(100 * f.machineBusy, 0)} % ` +
    `(rest ${share(f.othersCpuMs, f.windowMs)} of a core), before ${fmt(100 * f.busyBefore, 0)} %` +
    (sumValues(f.failures) > 0 ? `  failed ${JSON.stringify(f.failures)}` : '') +
    (f.quitTimeouts > 0 ? `  not closed after QUIT ${f.quitTimeouts}` : '') +
    (f.listenOverflows ? `  listen queue overflows ${f.listenOverflows}` : '') +
    stopped(f.stop)
  );
}

export function idleLine(tag: string, f: IrcIdleFigures): string {
  const perClientKiB = (before: number | null, after: number | null): string =>
    before === null || after === null ? 'n/a' : fmt((after - before) / f.registered / 1024, 2);
  return (
    `${tag} idle ${labels[f.server].padEnd(14)} ${f.registered}/${f.clients} registered in ${fmt(f.connectMs / 1000, 2)} s  ` +
    `RSS ${mib(f.rssBeforeBytes)} → ${mib(f.rssAfterBytes)} MiB (${perClientKiB(f.rssBeforeBytes, f.rssAfterBytes)} KiB/client)` +
    (f.heapBeforeBytes !== null && f.heapAfterBytes !== null
      ? `  heap after GC ${mib(f.heapBeforeBytes)} → ${mib(f.heapAfterBytes)} MiB (${perClientKiB(f.heapBeforeBytes, f.heapAfterBytes)} KiB/client)`
      : '') +
    `  idle CPU ${fmt((100 * f.idleCpuMs) / f.holdMs, 1)} % over ${fmt(f.holdMs / 1000, 1)} s  before ${fmt(100 * f.busyBefore, 0)} %` +
    (sumValues(f.failures) > 0 ? `  not registered ${JSON.stringify(f.failures)}` : '') +
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
export function resultTables(r: IrcResults): string[] {
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
    if (commands) out.push('', `${s.name}, ${labels.redis2}: Redis commands per message sent (medians; those scripts run counted under their names)`, textTable(commands));
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
  const verdicts = ircVerdicts(r);
  if (verdicts.length > 0) out.push('', 'TARGETS (issue 11)', textTable(verdictTable(verdicts)));
  const backlogs = Object.entries(r.listenBacklogs ?? {}).filter(([, n]) => n !== null);
  if (backlogs.length > 0) out.push('', `Listen backlogs (ss -ltn): ${backlogs.map(([k, n]) => `${labels[k as keyof typeof labels]} ${n}`).join(', ')}`);
  return out;
}
