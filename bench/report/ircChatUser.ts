// The report of issue 22's measurements, "the cost of a chat user" (bench/irc/joinStorm.ts,
// saslRegistration.ts, historyJoin.ts): a line per run as it ends, the tables at the end of the
// terminal report, their verdicts, and their subsection of docs/benchmarks.md. irc.ts calls the
// tables and the section; the medians-by-kind table is its own (ircKindTable).

import type { HistoryJoinForm } from '../irc/historyJoin.js';
import {
  ircLabels,
  ircSingleKinds,
  type IrcHistoryJoin,
  type IrcJoinStorm,
  type IrcJoinStormFigures,
  type IrcKind,
  type IrcPingFigures,
  type IrcRegistrationFigures,
  type IrcResults,
  type IrcSaslRegistration,
} from '../irc/results.js';
import { fmt, kib, markdownTable, med, mib, num, ratio, textTable, totalFailures, verdictTable, type Table, type Verdict } from './format.js';
import { ircKindTable, registrationLine, type IrcMetric } from './ircKinds.js';

// --- Progress: one line per measurement ------------------------------------------------------

const pingText = (p: IrcPingFigures): string =>
  p.pings === 0 ? 'none' : `p50 ${fmt(num(p.p50Ms), 1)} p99 ${fmt(num(p.p99Ms), 1)} max ${fmt(num(p.maxMs), 1)} ms${p.lost > 0 ? ` (${p.lost} of ${p.pings} lost)` : ''}`;
/** RSS growth per joined client from the fresh reading to `after` (bytes). */
const perClient = (f: IrcJoinStormFigures, after: number): number => (after - f.rssBeforeBytes) / f.joined;

export function joinStormLine(tag: string, f: IrcJoinStormFigures): string {
  return (
    `${tag} join-storm ${ircLabels[f.server].padEnd(14)} ${f.joined}/${f.clients} joined in ${fmt(f.stormMs / 1000, 2)} s (${f.inFlight} in flight; ` +
    `connect → 366 p50 ${fmt(f.joinP50Ms, 1)} p99 ${fmt(f.joinP99Ms, 1)} ms)  server CPU ${fmt(f.serverCpuMs / 1000, 2)} s ` +
    `(${fmt((1000 * f.serverCpuMs) / f.joined, 0)} µs/client; ${f.drainedMs === null ? 'not drained in the hold' : `all read at ${fmt(f.drainedMs / 1000, 2)} s, CPU ${fmt(num(f.serverCpuDrainedMs) / 1000, 2)} s`})  RSS ${fmt(mib(f.rssBeforeBytes), 1)} → ${fmt(mib(f.rssAfterStormBytes), 1)} → ` +
    `${fmt(mib(f.rssAfterHoldBytes), 1)} MiB (${fmt(kib(perClient(f, f.rssAfterStormBytes)), 1)} → ${fmt(kib(perClient(f, f.rssAfterHoldBytes)), 1)} KiB/client ` +
    `after ${fmt(f.holdMs / 1000, 0)} s)  PING in storm ${pingText(f.pingStorm)}, after ${pingText(f.pingHold)}  ` +
    `lines read ${fmt(f.linesAtStorm / 1e6, 2)} M → ${fmt(f.linesAtHold / 1e6, 2)} M (JOINs ${fmt(f.expectedJoinLines / 1e6, 2)} M)  ` +
    `hold CPU ${fmt((100 * f.holdCpuMs) / f.holdMs, 1)} %  load gen ${fmt(f.loadCpuMs / 1000, 2)} s  machine ${fmt(100 * f.machineBusy, 0)} %, before ${fmt(100 * f.busyBefore, 0)} %` +
    (f.openAtHold < f.joined ? `  still connected ${f.openAtHold}` : '') +
    (f.watcherClosed ? `  watcher closed: ${f.watcherClosed}` : '') +
    (totalFailures(f.failures) > 0 ? `  not joined ${JSON.stringify(f.failures)}` : '') +
    (f.stop ? `  stop ${fmt(f.stop.ms, 0)} ms${f.stop.killed ? ' (killed)' : ''}` : '')
  );
}

export const saslRegistrationLine = (tag: string, form: 'plain' | 'sasl', f: IrcRegistrationFigures): string => `${registrationLine(tag, f)}  [${form}]`;

export function historyJoinLines(tag: string, r: Record<HistoryJoinForm, IrcRegistrationFigures>): string {
  return (['register', 'join', 'replay'] as const)
    .map((form) => `${registrationLine(tag, r[form])}  [history-join ${form}${r[form].replayedLines !== undefined ? `, ${fmt(replayedPerCycle(r[form]), 1)} lines replayed each` : ''}]`)
    .join('\n');
}

// --- Tables ----------------------------------------------------------------------------------

const joinStormMetrics: Array<IrcMetric<IrcJoinStormFigures>> = [
  { label: 'clients joined', digits: 0, pick: (f) => f.joined, ratio: false },
  { label: 'clients in flight (connect → own 366)', digits: 0, pick: (f) => f.inFlight, ratio: false },
  { label: 'storm: first connect → last 366 (s)', digits: 2, pick: (f) => f.stormMs / 1000, ratio: true },
  { label: 'connect → own 366 p50 (ms)', digits: 1, pick: (f) => f.joinP50Ms, ratio: true },
  { label: 'connect → own 366 p99 (ms)', digits: 1, pick: (f) => f.joinP99Ms, ratio: true },
  { label: 'server CPU in the storm (s)', digits: 2, pick: (f) => f.serverCpuMs / 1000, ratio: true },
  { label: 'server CPU per client joined (µs)', digits: 0, pick: (f) => (1000 * f.serverCpuMs) / f.joined, ratio: true },
  { label: 'first connect → every line read (s)', digits: 2, pick: (f) => (f.drainedMs === null ? null : f.drainedMs / 1000), ratio: true },
  { label: 'server CPU until every line read (s)', digits: 2, pick: (f) => (f.serverCpuDrainedMs === null ? null : f.serverCpuDrainedMs / 1000), ratio: true },
  { label: 'server RSS fresh, watcher only (MiB)', digits: 1, pick: (f) => mib(f.rssBeforeBytes), ratio: true },
  { label: 'RSS growth per client, right after the storm (KiB)', digits: 1, pick: (f) => kib(perClient(f, f.rssAfterStormBytes)), ratio: true },
  { label: 'RSS growth per client, after the hold (KiB)', digits: 1, pick: (f) => kib(perClient(f, f.rssAfterHoldBytes)), ratio: true },
  { label: 'server CPU in the hold (% of one core)', digits: 1, pick: (f) => (100 * f.holdCpuMs) / f.holdMs, ratio: false },
  { label: 'watcher PING p50 in the storm (ms)', digits: 1, pick: (f) => f.pingStorm.p50Ms, ratio: true },
  { label: 'watcher PING p99 in the storm (ms)', digits: 1, pick: (f) => f.pingStorm.p99Ms, ratio: true },
  { label: 'watcher PING max in the storm (ms)', digits: 1, pick: (f) => f.pingStorm.maxMs, ratio: true },
  { label: 'watcher PINGs in the storm without a PONG', digits: 0, pick: (f) => f.pingStorm.lost, ratio: false },
  { label: 'watcher PING p99 in the hold (ms)', digits: 1, pick: (f) => f.pingHold.p99Ms, ratio: true },
  { label: 'lines the clients read, all joined (M)', digits: 2, pick: (f) => f.linesAtStorm / 1e6, ratio: false },
  { label: 'lines the clients read, end of hold (M)', digits: 2, pick: (f) => f.linesAtHold / 1e6, ratio: false },
  { label: 'JOIN lines the members see, n(n+1)/2 (M)', digits: 2, pick: (f) => f.expectedJoinLines / 1e6, ratio: false },
  { label: 'clients still connected at the end', digits: 0, pick: (f) => f.openAtHold, ratio: false },
  { label: 'clients not joined', digits: 0, pick: (f) => totalFailures(f.failures), ratio: false },
  { label: 'load gen CPU in the storm (s)', digits: 2, pick: (f) => f.loadCpuMs / 1000, ratio: false },
  { label: 'load gen CPU until every line read (s)', digits: 2, pick: (f) => (f.loadCpuDrainedMs === null ? null : f.loadCpuDrainedMs / 1000), ratio: false },
  { label: 'machine busy in the storm (% of all CPUs)', digits: 0, pick: (f) => 100 * f.machineBusy, ratio: false },
];

function joinStormTable(j: IrcJoinStorm, kinds: readonly IrcKind[]): Table {
  return ircKindTable(j.runs, ircSingleKinds(kinds), joinStormMetrics);
}

/** Per registration, or per cycle of a storm with a session. */
const cpuPerCycleUs = (f: IrcRegistrationFigures): number => (1000 * f.serverCpuMs) / f.registrations;
const replayedPerCycle = (f: IrcRegistrationFigures): number => num(f.replayedLines) / f.registrations;

interface Column {
  name: string;
  runs: readonly IrcRegistrationFigures[];
}

const stormRows: Array<{ label: string; digits: number; pick: (f: IrcRegistrationFigures) => number | null }> = [
  { label: 'in flight', digits: 0, pick: (f) => f.concurrency },
  { label: 'cycles/s', digits: 0, pick: (f) => f.perSecond },
  { label: 'connect → done p50 (ms)', digits: 2, pick: (f) => f.p50Ms },
  { label: 'connect → done p99 (ms)', digits: 2, pick: (f) => f.p99Ms },
  { label: 'connect → done max (ms)', digits: 1, pick: (f) => f.maxMs },
  { label: 'server CPU per cycle (µs)', digits: 1, pick: cpuPerCycleUs },
  { label: 'server CPU (% of one core)', digits: 0, pick: (f) => (100 * f.serverCpuMs) / f.windowMs },
  { label: 'server RSS, peak in window (MiB)', digits: 1, pick: (f) => mib(f.rssPeakBytes) },
  { label: 'load gen CPU per cycle (µs)', digits: 1, pick: (f) => (1000 * f.loadCpuMs) / f.registrations },
  { label: 'machine busy in window (% of all CPUs)', digits: 0, pick: (f) => 100 * f.machineBusy },
  { label: 'attempts that failed', digits: 0, pick: (f) => totalFailures(f.failures) },
];

/** Medians of each storm form side by side, and the last column over the first. */
function formsTable(columns: readonly Column[], extra: Array<{ label: string; digits: number; pick: (f: IrcRegistrationFigures) => number | null }> = []): Table {
  const first = columns[0]!;
  const last = columns[columns.length - 1]!;
  const header = ['figure (median)', ...columns.map((c) => c.name), `${last.name}/${first.name}`];
  const rows = [...stormRows, ...extra].map((x) => [x.label, ...columns.map((c) => fmt(med(c.runs, x.pick), x.digits)), ratio(med(last.runs, x.pick), med(first.runs, x.pick))]);
  return { header, align: `l${'r'.repeat(header.length - 1)}`, rows };
}

const saslTable = (s: IrcSaslRegistration): Table =>
  formsTable([
    { name: 'plain', runs: s.plain },
    { name: 'SASL PLAIN', runs: s.sasl },
  ]);

const historyJoinTable = (h: IrcHistoryJoin): Table =>
  formsTable(
    [
      { name: 'register', runs: h.register },
      { name: 'join', runs: h.join },
      { name: 'join + replay', runs: h.replay },
    ],
    [{ label: 'lines replayed per cycle', digits: 1, pick: (f) => (f.replayedLines === undefined ? 0 : replayedPerCycle(f)) }],
  );

/** What the joins themselves cost: each form's CPU per cycle over the registration's, and their ratio. */
function historyJoinCosts(h: IrcHistoryJoin): { joinUs: number; replayUs: number; ratio: number; cycleRatio: number } {
  const register = med(h.register, cpuPerCycleUs);
  const join = med(h.join, cpuPerCycleUs);
  const replay = med(h.replay, cpuPerCycleUs);
  return { joinUs: join - register, replayUs: replay - register, ratio: (replay - register) / (join - register), cycleRatio: replay / join };
}

function historyJoinSummary(h: IrcHistoryJoin): string {
  const c = historyJoinCosts(h);
  return (
    `A JOIN of the channel without history (with the caps) costs ${fmt(c.joinUs, 0)} µs of server CPU over a bare registration; the JOIN with ` +
    `CHATHISTORY LATEST * ${h.latest} of ${h.messages} messages ${fmt(c.replayUs, 0)} µs: ${fmt(c.ratio, 2)}× (whole cycles: ${fmt(c.cycleRatio, 2)}×).`
  );
}

function saslSummary(s: IrcSaslRegistration): string {
  const plain = med(s.plain, cpuPerCycleUs);
  const sasl = med(s.sasl, cpuPerCycleUs);
  return (
    `A registration with SASL PLAIN costs ours ${fmt(sasl, 0)} µs of server CPU, a plain one ${fmt(plain, 0)} µs: ${ratio(sasl, plain)}; ` +
    `${fmt(med(s.sasl, (f) => f.perSecond), 0)} against ${fmt(med(s.plain, (f) => f.perSecond), 0)} registrations/s.`
  );
}

export function chatUserVerdicts(r: IrcResults): Verdict[] {
  const j = r.joinStorm;
  if (!j || j.runs.length === 0) return [];
  const m = (kind: IrcKind, pick: (f: IrcJoinStormFigures) => number | null): number => med(j.runs.filter((f) => f.server === kind), pick);
  const growth = (f: IrcJoinStormFigures): number => kib(perClient(f, f.rssAfterHoldBytes));
  const ours = m('ours', growth);
  const ngircd = m('ngircd', growth);
  const p99 = m('ours', (f) => f.pingStorm.p99Ms);
  const verdict = (ok: boolean, ...v: number[]): Verdict['verdict'] => (v.every(Number.isFinite) ? (ok ? 'PASS' : 'MISS') : 'n/a');
  return [
    {
      target: `join storm of ${j.clients.toLocaleString('en')}: RSS growth per client ${j.holdMs / 1000} s after ≤ ${j.rssTarget}× ngircd's`,
      measured: `ours ${fmt(ours, 1)} KiB, ngircd ${fmt(ngircd, 1)} KiB (${ratio(ours, ngircd)})`,
      verdict: verdict(ours <= j.rssTarget * ngircd, ours, ngircd),
    },
    {
      target: `join storm of ${j.clients.toLocaleString('en')}: a member's PING round trip p99 during the storm < ${j.pingP99TargetMs} ms`,
      measured: `ours ${fmt(p99, 1)} ms`,
      verdict: verdict(p99 < j.pingP99TargetMs, p99),
    },
  ];
}

const joinStormHeading = (j: IrcJoinStorm): string =>
  `JOIN STORM: a fresh server, a watcher in #storm PINGing every ${j.watchPeriodMs} ms, then ${j.clients.toLocaleString('en')} clients connect → NICK/USER → 001 → ` +
  `JOIN #storm → own 366, reading everything after; all stay ${j.holdMs / 1000} s more, then the server stops`;

/** The terminal's tables for what was measured. */
export function chatUserTables(r: IrcResults): string[] {
  const out: string[] = [];
  const j = r.joinStorm;
  if (j && j.runs.length > 0) out.push('', joinStormHeading(j), textTable(joinStormTable(j, r.kinds)));
  const s = r.saslRegistration;
  if (s && s.plain.length + s.sasl.length > 0) {
    out.push(
      '',
      `SASL REGISTRATION: ours only (ngircd and InspIRCd have no SASL without services); a storm of ${s.concurrency} at once, plain (NICK/USER → 001 → QUIT) ` +
        `and with SASL (CAP LS 302 → REQ sasl → AUTHENTICATE PLAIN → 903 → NICK/USER → CAP END → 001 → QUIT), one account per slot; which goes first alternates`,
      textTable(saslTable(s)),
      saslSummary(s),
    );
  }
  const h = r.historyJoin;
  if (h && h.register.length + h.join.length + h.replay.length > 0) {
    out.push(
      '',
      `HISTORY JOIN: ours only, one server per run with #history holding ${h.messages} messages; storms of ${h.concurrency} at once: register only; ` +
        `CAP REQ ${h.caps} + JOIN #plain (no messages); the same + JOIN #history + CHATHISTORY LATEST #history * ${h.latest} (our JOIN replays nothing by itself)`,
      textTable(historyJoinTable(h)),
      historyJoinSummary(h),
    );
  }
  const v = chatUserVerdicts(r);
  if (v.length > 0) out.push('', 'TARGETS (issue 22)', textTable(verdictTable(v)));
  return out;
}

/** The docs/benchmarks.md subsection; empty when none of the three was measured. */
export function chatUserSection(r: IrcResults): string {
  const parts: string[] = [];
  const j = r.joinStorm;
  if (j && j.runs.length > 0) {
    parts.push(`#### ${j.clients.toLocaleString('en')} users joining one channel

Each server fresh, one process. A *watcher* client (in a load-generator process of its own) registers, joins
#storm and sends \`PING :<n>\` every ${j.watchPeriodMs} ms from then on, timing each PONG: its round trip waits behind
everything the server queued for it, the storm's JOIN lines included. The server's RSS (process tree, /proc)
is read with the watcher alone. Then ${j.clients.toLocaleString('en')} clients, in the load-generator processes, each connect, send NICK
and USER, JOIN #storm after the 001, and count as joined at their own 366 (the end of NAMES); a bounded number
at once (the first row: 8 under ngircd's listen backlog of 10; InspIRCd 1,000, since it registers only once a
second). Every client reads everything the server sends it to the end (~n²/2 JOIN lines in all: the clients
only find the line ends). *Storm* runs from the first connect to the last client's 366; the server's CPU is
taken over it, and again up to when the clients had read everything (no line more in 250 ms: the last 366
is not the last line written). InspIRCd's clients join in waves of up to 1,000 at its once-a-second tick, so each
member's JOIN lines leave in a few large writes instead of one per join: its CPU and its buffers are those of
a different load from the 8-at-once servers', which meet every JOIN one by one. The RSS is read again then and after ${j.holdMs / 1000} s more with everyone connected; growth per client =
(reading − fresh) / clients joined, with the code the storm compiled and the buffers it grew in it (no warm-up:
the fresh server's RSS is the baseline). Then the server is stopped with everyone still in.

${markdownTable(joinStormTable(j, r.kinds))}`);
  }
  const s = r.saslRegistration;
  if (s && s.plain.length + s.sasl.length > 0) {
    parts.push(`#### Registering with SASL

Ours only: ngircd and InspIRCd have no SASL without services, so ours is compared with itself. The registration
storm above (${s.concurrency} at once, a closed loop, ${s.warmupMs / 1000} s warm-up, ${s.windowMs / 1000} s window) against a fresh server with
${s.accounts} accounts in its store (one per slot, created directly in SQLite before it starts), in two forms: plain, and
CAP LS 302 → CAP REQ :sasl → AUTHENTICATE PLAIN → 903 → NICK/USER → CAP END → 001 → QUIT. Which goes first alternates.

${markdownTable(saslTable(s))}

${saslSummary(s)}`);
  }
  const h = r.historyJoin;
  if (h && h.register.length + h.join.length + h.replay.length > 0) {
    parts.push(`#### Joining a channel with history

Ours only. Our JOIN replays nothing by itself: a client with \`draft/chathistory\` asks, so the replay measured
is \`CHATHISTORY LATEST #history * ${h.latest}\` after the 366. One server per run (\`--history on\`, a fresh
\`--data-dir\`); a client says ${h.messages} messages in #history and stays in it and in #plain. Then three storms
of ${h.concurrency} at once on it (the first changing from run to run): *register* (NICK/USER → 001 → QUIT), *join*
(CAP REQ :${h.caps}, NICK/USER, CAP END, 001, then JOIN #plain → 366 → QUIT) and *join + replay* (the same caps,
then JOIN #history → 366 → CHATHISTORY → the end of its batch → QUIT): the last two differ by the replay alone. Both channels keep each JOIN and QUIT as events, replayed only with
\`draft/event-playback\` (not asked for): they differ by the messages alone.

${markdownTable(historyJoinTable(h))}

${historyJoinSummary(h)}`);
  }
  if (parts.length === 0) return '';
  const v = chatUserVerdicts(r);
  return `### What a chat user costs (issue 22)

${parts.join('\n\n')}${v.length > 0 ? `\n\n${markdownTable(verdictTable(v))}` : ''}`;
}
