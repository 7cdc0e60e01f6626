// The join storm, for run.ts (`npm run bench:irc -- --only join-storm`), issue 22 "the cost of a
// chat user": what N users joining one channel cost a server, for every single-process kind.
//   - A fresh server; a watcher (in the side load process, away from the storm's clients) that
//     registers, joins #storm and from then on sends `PING :<seq>` every watchPeriodMs, timing
//     each PONG; the server's RSS (process tree) with the watcher alone.
//   - N clients in the load-generator processes, a bounded number in flight (as the idle clients:
//     ngircd listens with a backlog of 10, InspIRCd registers once a second), each connect →
//     NICK/USER → 001 → JOIN #storm → its own 366; every client, once joined, reads all the server
//     sends it (the JOIN of each later client: ~N²/2 lines in all) until the end
//     (joinStormClients.ts has their side).
//   - The storm's time (first connect → the last client's own 366), the server's CPU over it and
//     until the clients have read everything (no line more in drainPollMs), its
//     RSS right after it and after a hold of holdMs with everyone still connected, and the
//     watcher's round trips, split into the PINGs sent during the storm and during the hold.
//   - Then the server is stopped with every client still in, and the clients are dropped.

import { treeCpuMs, treeRssBytes } from '../lib/procfs.js';
import type { StopResult } from '../lib/spawn.js';
import { histogramPercentile, mergeHistograms, percentileSorted, tally } from '../lib/stats.js';
import { monoUs, sleep, until } from '../lib/wait.js';
import type { JoinStormCount, JoinStormRequest, JoinStormResult, WatchResult } from './joinStormClients.js';
import { windowCpu, type IrcBench } from './measure.js';
import type { IrcJoinStormFigures, IrcKind, IrcPingFigures } from './results.js';

/** Clients in the storm by default, and at most (--storm-clients): the issue asks for 2,000 and 10,000. */
export const defaultStormClients = 2_000;
export const maxStormClients = 10_000;
/** The watcher's PING period. */
export const watchPeriodMs = 50;
/** Everyone stays connected this long after the storm before the last RSS reading (the "30 s after"). */
export const joinStormHoldMs = 30_000;
/** The issue's targets: ours' RSS growth per client after the hold ≤ 2× ngircd's; its watcher's p99 in the storm < 100 ms. */
export const joinStormRssTarget = 2;
export const joinStormPingP99TargetMs = 100;
const channel = '#storm';
/**
 * Clients between connect() and their 366 at once, over all load processes: as the idle clients'
 * (sessionCost.ts idleInFlight), 8 under ngircd's listen backlog of 10; InspIRCd completes
 * registrations once a second, so 1,000.
 */
const stormInFlight = (kind: IrcKind): number => (kind === 'inspircd' ? 1_000 : 8);
/** The whole storm, at most: 10,000 clients in one channel are 50 M JOIN lines to write. */
const stormTimeoutMs = 600_000;
/** The watcher's registration and join, at most. */
const watcherJoinTimeoutMs = 30_000;
/** After the watcher joined, before the "before" reading. */
const settleMs = 500;
/** How often the clients' lines are counted after the storm, until nothing more came. */
const drainPollMs = 250;
/** Margin on a load generator's answer past the work's own bound. */
const answerMarginMs = 15_000;

export interface JoinStormSettings {
  clients: number;
  holdMs: number;
}

/** The round trips of the PINGs sent in [fromUs, toUs). */
function pingFigures(w: WatchResult, fromUs: number, toUs: number): IrcPingFigures {
  const rtts: number[] = [];
  let lost = 0;
  w.sentUs.forEach((sent, i) => {
    if (sent < fromUs || sent >= toUs) return;
    const rtt = w.rttUs[i];
    if (rtt === null || rtt === undefined) lost += 1;
    else rtts.push(rtt / 1000);
  });
  rtts.sort((a, b) => a - b);
  const pick = (p: number): number | null => (rtts.length > 0 ? percentileSorted(rtts, p) : null);
  return { pings: rtts.length + lost, lost, p50Ms: pick(50), p99Ms: pick(99), maxMs: rtts.length > 0 ? rtts[rtts.length - 1]! : null };
}

const sumCounts = (counts: JoinStormCount[]): JoinStormCount =>
  counts.reduce((t, c) => ({ open: t.open + c.open, lines: t.lines + c.lines, bytes: t.bytes + c.bytes }), { open: 0, lines: 0, bytes: 0 });

/** One join storm against a fresh server of `kind`. */
export async function measureJoinStorm(h: IrcBench, kind: IrcKind, s: JoinStormSettings): Promise<IrcJoinStormFigures> {
  const loads = await h.loadProcesses();
  const side = await h.sideProcess();
  const busyBefore = await h.awaitQuiet();
  const server = await h.startServer(kind);
  const port = server.ports[0]!;
  let stop: StopResult | null = null;
  let watching = false;
  const counts = async (type: 'joinStormCount' | 'joinStormDrop'): Promise<JoinStormCount> =>
    sumCounts(await Promise.all(loads.map((l) => l.request<JoinStormCount>({ type }, answerMarginMs))));
  try {
    await side.request<null>({ type: 'watchStart', port, channel, nick: 'watcher', periodMs: watchPeriodMs, timeoutMs: watcherJoinTimeoutMs }, watcherJoinTimeoutMs);
    watching = true;
    await sleep(settleMs);
    const serverPids = server.pids();
    const rssBeforeBytes = treeRssBytes(serverPids);
    const startUs = monoUs() + 300_000;
    const maxPending = Math.max(1, Math.floor(stormInFlight(kind) / loads.length));
    const storms = Promise.all(
      loads.map((l, i) => {
        const clients = Math.floor(s.clients / loads.length) + (i < s.clients % loads.length ? 1 : 0);
        const body: JoinStormRequest = { type: 'joinStorm', port, channel, nickPrefix: `j${i}n`, clients, maxPending, startUs, timeoutMs: stormTimeoutMs };
        return l.request<JoinStormResult>(body, (startUs - monoUs()) / 1000 + stormTimeoutMs + answerMarginMs);
      }),
    );
    // Awaited below; a failure before that must not surface as an unhandled rejection.
    storms.catch(() => undefined);
    await until(startUs);
    const a = h.readEdge(serverPids);
    const results = await storms;
    const b = h.readEdge(serverPids);
    const rssAfterStormBytes = treeRssBytes(serverPids);
    const atStorm = await counts('joinStormCount');
    const stormEndUs = Math.max(...results.map((r) => r.lastJoinedUs ?? startUs));
    const holdEndUs = monoUs() + s.holdMs * 1000;
    const cpu0 = treeCpuMs(serverPids);
    // The last 366 is not the last line: the server (or the clients) may still be catching up.
    // Drained: one poll that found nothing read since the one before.
    let drained: { us: number; edge: ReturnType<IrcBench['readEdge']> } | null = null;
    for (let last = atStorm.lines; monoUs() + drainPollMs * 1000 < holdEndUs; ) {
      await sleep(drainPollMs);
      const lines = (await counts('joinStormCount')).lines;
      if (lines === last) {
        drained = { us: monoUs(), edge: h.readEdge(serverPids) };
        break;
      }
      last = lines;
    }
    await until(holdEndUs);
    const holdCpuMs = treeCpuMs(serverPids) - cpu0;
    const rssAfterHoldBytes = treeRssBytes(serverPids);
    const atHold = await counts('joinStormCount');
    const watch = await side.request<WatchResult>({ type: 'watchStop' }, answerMarginMs);
    watching = false;
    const histogram = mergeHistograms(results.map((r) => r.histogram));
    const failures: Record<string, number> = {};
    for (const r of results) for (const [why, n] of Object.entries(r.failures)) tally(failures, why, n);
    const joined = results.reduce((sum, r) => sum + r.joined, 0);
    const { serverCpuMs, loadCpuMs, machineBusy } = windowCpu(a, b);
    const toDrained = drained ? windowCpu(a, drained.edge) : null;
    const figures: IrcJoinStormFigures = {
      server: kind,
      clients: s.clients,
      inFlight: maxPending * loads.length,
      joined,
      failures,
      stormMs: (stormEndUs - startUs) / 1000,
      joinP50Ms: histogramPercentile(histogram, 50) / 1000,
      joinP99Ms: histogramPercentile(histogram, 99) / 1000,
      serverCpuMs,
      loadCpuMs,
      drainedMs: drained ? (drained.us - startUs) / 1000 : null,
      serverCpuDrainedMs: toDrained?.serverCpuMs ?? null,
      loadCpuDrainedMs: toDrained?.loadCpuMs ?? null,
      rssBeforeBytes,
      rssAfterStormBytes,
      rssAfterHoldBytes,
      holdMs: s.holdMs,
      holdCpuMs,
      linesAtStorm: atStorm.lines,
      linesAtHold: atHold.lines,
      expectedJoinLines: (joined * (joined + 1)) / 2,
      openAtHold: atHold.open,
      pingStorm: pingFigures(watch, startUs, stormEndUs),
      pingHold: pingFigures(watch, stormEndUs, holdEndUs),
      watcherClosed: watch.closed,
      machineBusy,
      busyBefore,
      stop: null,
    };
    // Stopped with everyone in: N QUITs in one channel would be another storm.
    stop = await server.stop();
    await counts('joinStormDrop');
    return { ...figures, stop };
  } finally {
    if (watching) await side.request<WatchResult>({ type: 'watchStop' }, answerMarginMs).catch(() => null);
    if (stop === null) {
      await server.stop().catch(() => null);
      await counts('joinStormDrop').catch(() => null);
    }
  }
}
