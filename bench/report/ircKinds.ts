// What the IRC report's tables and lines share (bench/report/irc.ts, ircChatUser.ts): the kinds
// in their order, the medians-by-kind table, and the registration storm's line.

import type { IrcFigures, IrcKind, IrcRegistrationFigures } from '../irc/results.js';
import { ircLabels } from '../irc/results.js';
import { fmt, med, mib, ratio, totalFailures, type Table } from './format.js';

export const mibText = (bytes: number): string => fmt(mib(bytes), 1);
export const share = (ms: number, windowMs: number): string => `${fmt((100 * ms) / windowMs, 0)} %`;
export const stopped = (stop: IrcFigures['stop']): string => (stop ? `  stop ${fmt(stop.ms, 0)} ms${stop.killed ? ' (killed)' : ''}` : '');

export const ircOrder: IrcKind[] = ['ours', 'bare', 'ngircd', 'inspircd', 'redis2'];
/** The kinds ours is compared with (ours/kind columns). */
export const ircBaselines: readonly IrcKind[] = ['bare', 'ngircd', 'inspircd'];

/** One row of a table of medians by kind; `ratio`: shown against the other kinds. */
export interface IrcMetric<F> {
  label: string;
  digits: number;
  pick: (f: F) => number | null;
  ratio: boolean;
}

/** Medians by kind, ours against each baseline and two nodes against ours. */
export function ircKindTable<F extends { server: IrcKind }>(runs: readonly F[], kinds: readonly IrcKind[], metrics: ReadonlyArray<IrcMetric<F>>): Table {
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

export function registrationLine(tag: string, f: IrcRegistrationFigures): string {
  return (
    `${tag} registration ${ircLabels[f.server].padEnd(14)} ${fmt(f.perSecond, 0).padStart(6)}/s  connect → 001 p50 ${fmt(f.p50Ms, 2)} p99 ${fmt(f.p99Ms, 2)} ` +
    `max ${fmt(f.maxMs, 1)} ms  server ${fmt((1000 * f.serverCpuMs) / f.registrations, 1)} µs/registration (${share(f.serverCpuMs, f.windowMs)})  ` +
    `load gen ${fmt((1000 * f.loadCpuMs) / f.registrations, 1)} µs/registration (${share(f.loadCpuMs, f.windowMs)})  ` +
    `RSS ${mibText(f.rssIdleBytes)} → ${mibText(f.rssPeakBytes)} MiB  machine ${fmt(100 * f.machineBusy, 0)} % ` +
    `(rest ${share(f.othersCpuMs, f.windowMs)} of a core), before ${fmt(100 * f.busyBefore, 0)} %` +
    (totalFailures(f.failures) > 0 ? `  failed ${JSON.stringify(f.failures)}` : '') +
    (f.quitTimeouts > 0 ? `  not closed after QUIT ${f.quitTimeouts}` : '') +
    (f.listenOverflows ? `  listen queue overflows ${f.listenOverflows}` : '') +
    stopped(f.stop)
  );
}
