// The IRC benchmark's harness and its fan-out measurement (run.ts runs them):
//   IrcBench     the load-generator processes (loadgen.ts, forked), the wait for a quiet
//                machine, the servers (peers.ts), and the readings at a window's edges
//                (CPU from /proc of the server, the load generators, the machine; RSS) that
//                every measurement takes the same way (sessionCost.ts uses them too)
//   measure      one fan-out measurement: a server, its clients joined, one window of chat
//   neverReader  the same server and load, one window without and then one with a client that
//                joined the first channel and never reads (a python3 client, see neverReaderPy);
//                how long until the server drops it
//   twoWindows   the same server and load, two windows back to back, with work of the caller's
//                started at each window's first moment (the login storm, loginStorm.ts)
//   profile      one more window of ours under V8's CPU profiler

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { profileIntervalUs, summariseProfile, type CpuProfile } from '../lib/cpuProfile.js';
import { forkWorker, type Worker } from '../lib/ipc.js';
import { host } from '../lib/loopback.js';
import { cpuTickMs, machineCpuTicks, processWriteCalls, threadTimes, treeCpuMs, treeRssBytes } from '../lib/procfs.js';
import type { StopResult } from '../lib/spawn.js';
import { histogramPercentile, mergeHistograms, tally } from '../lib/stats.js';
import { monoUs, QuietWait, sleep, until, withTimeout } from '../lib/wait.js';
import type { ClientSpec, ConnectResult, LoadBody, RunRequest, RunResult } from './loadgen.js';
import { forgetChild, listenBacklog, sendqBytesOf, startUnderTest, tempDir, trackChild, type CommandStats, type PeerOptions, type UnderTest } from './peers.js';
import type { IrcFigures, IrcKind, IrcNeverReaderRun, IrcProfile, IrcThreadTimes } from './results.js';

// --- Scenarios and settings --------------------------------------------------------------------

export interface Scenario {
  name: string;
  clients: number;
  channels: number;
  /** Each client sends one PRIVMSG to its channel every periodMs. */
  periodMs: number;
}

export const scenarios: Scenario[] = [
  { name: '200x1', clients: 200, channels: 1, periodMs: 500 },
  { name: '1000x10', clients: 1_000, channels: 10, periodMs: 500 },
];

/** Deliveries per second the scenario asks for: each line goes to every other member. */
export function offeredPerSecond(s: Scenario, joinedByChannel?: Record<string, number>): number {
  const sizes = joinedByChannel ? Object.values(joinedByChannel) : Array.from({ length: s.channels }, () => s.clients / s.channels);
  return sizes.reduce((sum, n) => sum + (n * Math.max(0, n - 1) * 1000) / s.periodMs, 0);
}

export interface Settings {
  /** Sending before the window: every client has started and V8 has optimised the hot paths. */
  warmupMs: number;
  windowMs: number;
  loadProcesses: number;
  /** Bytes of each PRIVMSG's text (the send time, a space, padding). */
  textBytes: number;
  /** How long, from its first unread line, the never-reader is given to be dropped. */
  neverReaderHoldMs: number;
}

/** Registrations in flight per load-generator process, at most (well under the listen backlog). */
const maxPendingConnects = 50;
/** Connecting, registering and joining every client of one measurement, at most. */
export const connectTimeoutMs = 60_000;
/** The sends go on this long past the window, so that its last moments are steady too. */
const sendTailMs = 300;
/** From the run request to its first sends: every load process has its timers set by then. */
const sendLeadMs = 300;
/** After the last send, deliveries still arriving get this long at most (ngircd can hold a line back for most of a second). */
const drainMaxMs = 5_000;
/** QUIT, then each client is destroyed if still open after this. */
const quitTimeoutMs = 3_000;
/** How often the server's RSS is read in a window (the peak is reported). */
const rssSampleMs = 500;
/** Total time the whole benchmark may spend waiting for a quiet machine. */
const quietBudgetMs = 60_000;
/** The never-reader's nick; it joins the first channel (#c0) after everyone else. */
const neverReaderNick = 'never';
/**
 * The never-reader, in python3 because Node cannot set a socket's TCP_MAXSEG: it announces an
 * Ethernet path's MSS. With loopback's (64 KiB) the kernel sizes the server's send buffer for
 * 64 KiB segments, megabytes that would hide each server's own limit behind the kernel's
 * (docs/benchmarks.md, "One client that never reads"). It registers, joins, says `joined` and then
 * holds its socket without reading until it is killed.
 */
const neverReaderPy = `
import socket, sys
host, port, nick, channel = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1448)
s.settimeout(60)
s.connect((host, port))
s.sendall(('NICK %s\\r\\nUSER u 0 * :never reads\\r\\n' % nick).encode())
buf = b''
while True:
    data = s.recv(65536)
    if not data:
        sys.exit('closed before joining')
    buf += data
    lines = buf.split(b'\\n')
    buf = lines.pop()
    for line in lines:
        words = line.rstrip(b'\\r').split(b' ')
        if words[0] == b'PING':
            s.sendall(b'PONG ' + b' '.join(words[1:]) + b'\\r\\n')
        elif len(words) > 1 and words[1] in (b'376', b'422'):
            s.sendall(('JOIN %s\\r\\n' % channel).encode())
        elif len(words) > 1 and words[1] == b'366':
            print('joined', flush=True)
            sys.stdin.read()
            sys.exit(0)
`;

/** The never-reader joined to `channel` on `port`; `stop` kills it (its socket goes with it). */
async function startNeverReader(port: number, channel: string): Promise<{ stop(): void }> {
  const child = spawn('python3', ['-c', neverReaderPy, host, String(port), neverReaderNick, channel], { stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child.pid);
  const stop = (): void => {
    child.kill('SIGKILL');
    forgetChild(child.pid);
  };
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = `${stderr}${chunk}`.slice(-500)));
  const joined = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => line === 'joined' && resolve());
    child.once('exit', (code) => reject(new Error(`the never-reader exited before joining (code ${code}): ${stderr.trim()}`)));
  });
  try {
    await withTimeout(joined, connectTimeoutMs, 'the never-reader joining');
  } catch (err) {
    stop();
    throw err;
  }
  return { stop };
}

// --- Load-generator processes (parent side) -------------------------------------------------

const loadScript = fileURLToPath(new URL('./loadgen.js', import.meta.url));

/** A load-generator process, remembered until it stops so that every way out can kill it. */
export type LoadProcess = Worker<LoadBody>;
const forkLoadProcess = (): Promise<LoadProcess> =>
  forkWorker<LoadBody>(loadScript, ['--load-process'], { what: 'irc load generator', answerMarginMs: 15_000, onFork: trackChild, onGone: forgetChild });

// --- Readings at a window's edges --------------------------------------------------------------

/** CPU of the server, each load process, Redis, the machine and this process, at one moment. */
interface Edge {
  server: number;
  loads: number[];
  redis: number;
  machine: { busy: number; total: number };
  self: NodeJS.CpuUsage;
}

function readEdge(serverPids: number[], loadPids: number[], redisPid: number | null): Edge {
  return {
    server: treeCpuMs(serverPids),
    loads: loadPids.map((p) => treeCpuMs([p])),
    redis: redisPid === null ? Number.NaN : treeCpuMs([redisPid]),
    machine: machineCpuTicks(),
    self: process.cpuUsage(),
  };
}

/** What a window used, from its two edges: the figures every measurement reports. */
export function windowCpu(a: Edge, b: Edge) {
  const loadEach = b.loads.map((v, i) => v - a.loads[i]!);
  const serverCpuMs = b.server - a.server;
  const loadCpuMs = loadEach.reduce((x, y) => x + y, 0);
  const redisCpuMs = Number.isNaN(a.redis) ? null : b.redis - a.redis;
  const selfMs = (b.self.user - a.self.user + b.self.system - a.self.system) / 1000;
  return {
    serverCpuMs,
    loadCpuMs,
    loadCpuMaxMs: Math.max(...loadEach),
    redisCpuMs,
    machineBusy: (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total),
    othersCpuMs: (b.machine.busy - a.machine.busy) * cpuTickMs - serverCpuMs - (redisCpuMs ?? 0) - loadCpuMs - selfMs,
  };
}

// --- The harness ---------------------------------------------------------------------------------

/** A server with its chatting clients joined, between windows. */
interface Chat {
  kind: IrcKind;
  scenario: Scenario;
  server: UnderTest;
  joined: number;
  joinedByChannel: Record<string, number>;
  connectFailures: Record<string, number>;
  connectMs: number;
  rssIdleBytes: number;
  busyBefore: number;
}

/** A window's edges on the shared clock. */
export interface WindowEdges {
  startUs: number;
  endUs: number;
}

/** One window of a chat, and what the run saw of the watched client. */
type ChatWindow = IrcFigures & { window: WindowEdges; firstSendUs: number | null; watchQuitUs: number | null; watchQuitReason: string | null };

/**
 * The caller's work in a window (twoWindows): called before the window with its edges, so that
 * it can start at the window's first moment; awaited after the window's own figures.
 */
export type DuringWindow<T> = (window: WindowEdges, server: UnderTest) => Promise<T>;

/** The server's threads over `w`, read at its edges (its first process: ours is one). */
export async function threadsOver(w: WindowEdges, server: UnderTest): Promise<IrcThreadTimes> {
  const pid = server.pids()[0]!;
  await until(w.startUs);
  const a = threadTimes(pid);
  await until(w.endUs);
  const b = threadTimes(pid);
  return { mainRunMs: b.mainRunMs - a.mainRunMs, mainWaitMs: b.mainWaitMs - a.mainWaitMs, allRunMs: b.allRunMs - a.allRunMs, allWaitMs: b.allWaitMs - a.allWaitMs };
}

/** A window's figures alone. */
function figuresOf({ window, firstSendUs, watchQuitUs, watchQuitReason, during, ...figures }: ChatWindow & { during?: unknown }): IrcFigures {
  void [window, firstSendUs, watchQuitUs, watchQuitReason, during];
  return figures;
}

/** Calls and µs per command between two `INFO commandstats` readings. */
function commandDelta(before: CommandStats, after: CommandStats): CommandStats {
  const out: CommandStats = {};
  for (const [name, x] of Object.entries(after)) {
    const calls = x.calls - (before[name]?.calls ?? 0);
    if (calls > 0) out[name] = { calls, usec: x.usec - (before[name]?.usec ?? 0) };
  }
  return out;
}

export class IrcBench {
  private loads: LoadProcess[] = [];
  /** A load process of its own for work beside the chat (the login storm), forked when first asked for. */
  private side: LoadProcess | null = null;
  private readonly quiet = new QuietWait(quietBudgetMs);
  /** Each kind's listen backlog, read when it first started. */
  readonly backlogs: Partial<Record<IrcKind, number | null>> = {};

  constructor(private readonly settings: Settings) {}

  async loadProcesses(): Promise<LoadProcess[]> {
    while (this.loads.length < this.settings.loadProcesses) this.loads.push(await forkLoadProcess());
    return this.loads;
  }

  /**
   * The side load process: its clients' work is not the chat clients' load generators', whose
   * event loops time every delivery.
   */
  async sideProcess(): Promise<LoadProcess> {
    this.side ??= await forkLoadProcess();
    return this.side;
  }

  async close(): Promise<void> {
    await Promise.all([...this.loads, ...(this.side ? [this.side] : [])].map((l) => l.stop()));
    this.loads = [];
    this.side = null;
  }

  /** Time spent waiting for other processes to leave the machine quiet. */
  get quietWaitedMs(): number {
    return this.quiet.waitedMs;
  }

  /** Waits (within a budget for the whole benchmark) for the machine to be quiet; its busy share. */
  awaitQuiet(): Promise<number> {
    return this.quiet.awaitQuiet();
  }

  async startServer(kind: IrcKind, o: PeerOptions = {}): Promise<UnderTest> {
    const server = await startUnderTest(kind, o);
    if (!(kind in this.backlogs) && kind !== 'redis2') this.backlogs[kind] = listenBacklog(server.ports[0]!);
    return server;
  }

  /** Each load process's share of `specs` (client i to process i mod L), connected; the results added up. */
  private async connect(specs: ClientSpec[], maxPending: number): Promise<ConnectResult> {
    const loads = await this.loadProcesses();
    const shares: ClientSpec[][] = loads.map(() => []);
    specs.forEach((spec, i) => shares[i % loads.length]!.push(spec));
    const each = await Promise.all(
      loads.map((l, i) => l.request<ConnectResult>({ type: 'connect', clients: shares[i]!, maxPending, timeoutMs: connectTimeoutMs }, connectTimeoutMs)),
    );
    const sum: ConnectResult = { joined: 0, joinedByChannel: {}, failures: {}, ms: Math.max(...each.map((c) => c.ms)) };
    for (const c of each) {
      sum.joined += c.joined;
      for (const [ch, n] of Object.entries(c.joinedByChannel)) tally(sum.joinedByChannel, ch, n);
      for (const [why, n] of Object.entries(c.failures)) tally(sum.failures, why, n);
    }
    return sum;
  }

  /** `n` clients registered on `port`, no channel, idle, spread over the load processes. */
  connectRegistered(port: number, n: number, nickPrefix: string, maxPending: number): Promise<ConnectResult> {
    return this.connect(Array.from({ length: n }, (_, i) => ({ nick: `${nickPrefix}${i}`, channel: null, port })), maxPending);
  }

  /** Every client of every load process QUITs (and is destroyed if still open after a bound). */
  async quitAll(): Promise<void> {
    await Promise.all(this.loads.map((l) => l.request<number>({ type: 'quit', timeoutMs: quitTimeoutMs }, quitTimeoutMs)));
  }

  /** CPU readings at one edge of a window: `serverPids`, the load processes, Redis if any. */
  readEdge(serverPids: number[], redisPid: number | null = null): Edge {
    return readEdge(serverPids, this.loads.map((l) => l.pid), redisPid);
  }

  /** The peak of the server's RSS from now until `endUs` (read every rssSampleMs). */
  async rssPeakUntil(serverPids: number[], endUs: number): Promise<number> {
    let peak = treeRssBytes(serverPids);
    while (monoUs() + rssSampleMs * 1000 < endUs) {
      await sleep(rssSampleMs);
      peak = Math.max(peak, treeRssBytes(serverPids));
    }
    await until(endUs);
    return Math.max(peak, treeRssBytes(serverPids));
  }

  /** A server of `kind` with the scenario's clients joined. */
  private async openChat(kind: IrcKind, scenario: Scenario, o: PeerOptions = {}, caps?: string): Promise<Chat> {
    await this.loadProcesses();
    const busyBefore = await this.awaitQuiet();
    const server = await this.startServer(kind, o);
    try {
      const rssIdleBytes = treeRssBytes(server.pids());
      // Client i: nick n<i>, channel #c<i / per channel>, load process i mod L, and with two
      // nodes node (i div L) mod 2: consecutive clients (one channel's) alternate between the
      // nodes, and each load process has clients on both.
      const perChannel = Math.ceil(scenario.clients / scenario.channels);
      const L = this.loads.length;
      const specs = Array.from({ length: scenario.clients }, (_, i) => ({
        nick: `n${i}`,
        channel: `#c${Math.floor(i / perChannel)}`,
        port: server.ports[Math.floor(i / L) % server.ports.length]!,
        ...(caps !== undefined && { caps }),
      }));
      const c = await this.connect(specs, maxPendingConnects);
      if (c.joined === 0) throw new Error(`no client joined (${JSON.stringify(c.failures)})`);
      return { kind, scenario, server, joined: c.joined, joinedByChannel: c.joinedByChannel, connectFailures: c.failures, connectMs: c.ms, rssIdleBytes, busyBefore };
    } catch (err) {
      await this.quitAll().catch(() => undefined);
      await server.stop().catch(() => null);
      throw err;
    }
  }

  /** Every client QUITs, then the server stops. */
  private async closeChat(chat: Chat): Promise<StopResult> {
    await this.quitAll().catch(() => undefined);
    return chat.server.stop();
  }

  /**
   * One window of chat: sending from sendLeadMs from now, `warmupMs` of it before the window;
   * with `watch`, past the window until the watched client's QUIT or the bound.
   */
  private async chatWindow<T = null>(
    chat: Chat,
    warmupMs: number,
    watch: { nick: string; holdMs: number } | null,
    during: DuringWindow<T> | null = null,
  ): Promise<ChatWindow & { during: T | null }> {
    const { windowMs, textBytes } = this.settings;
    const { server, scenario } = chat;
    const redis = server.redis;
    const serverPids = server.pids();
    const serverWriteCalls = (): number => serverPids.reduce((sum, p) => sum + processWriteCalls(p), 0);
    const sendStartUs = monoUs() + sendLeadMs * 1000;
    const windowStartUs = sendStartUs + warmupMs * 1000;
    const windowEndUs = windowStartUs + windowMs * 1000;
    const sendEndUs = windowEndUs + sendTailMs * 1000;
    const untilUs = watch ? Math.max(sendEndUs, sendStartUs + watch.holdMs * 1000) : sendEndUs;
    const body: RunRequest = {
      type: 'run',
      sendStartUs,
      windowStartUs,
      windowEndUs,
      sendEndUs,
      periodMs: scenario.periodMs,
      textBytes,
      drainMaxMs,
      watch: watch ? { nick: watch.nick, untilUs } : null,
    };
    const runs = Promise.all(this.loads.map((l) => l.request<RunResult>(body, (untilUs - monoUs()) / 1000 + drainMaxMs + 1_000)));
    const work = during ? during({ startUs: windowStartUs, endUs: windowEndUs }, server) : null;
    // Awaited below; a failure before that must not surface as an unhandled rejection.
    runs.catch(() => undefined);
    work?.catch(() => undefined);
    await until(windowStartUs);
    const stats0 = redis ? await redis.commandStats() : null;
    const a = this.readEdge(serverPids, redis?.pid ?? null);
    const writes0 = serverWriteCalls();
    const rssPeakBytes = await this.rssPeakUntil(serverPids, windowEndUs);
    const b = this.readEdge(serverPids, redis?.pid ?? null);
    const writes1 = serverWriteCalls();
    const stats1 = redis ? await redis.commandStats() : null;
    const results = await runs;
    const duringResult = work ? await work : null;

    const histogram = mergeHistograms(results.map((r) => r.histogram));
    const sentByChannel: Record<string, number> = {};
    for (const r of results) for (const [ch, n] of Object.entries(r.sentByChannel)) tally(sentByChannel, ch, n);
    const expected = Object.entries(sentByChannel).reduce((s, [ch, n]) => s + n * Math.max(0, (chat.joinedByChannel[ch] ?? 0) - 1), 0);
    const sum = (pick: (r: RunResult) => number): number => results.reduce((s, r) => s + pick(r), 0);
    const earliest = (pick: (r: RunResult) => number | null): number | null => {
      const v = results.map(pick).filter((x): x is number => x !== null);
      return v.length > 0 ? Math.min(...v) : null;
    };
    const deliveries = sum((r) => r.delivered);
    const cpu = windowCpu(a, b);
    const byCommand = stats0 && stats1 ? commandDelta(stats0, stats1) : null;
    const sumOf = (key: 'calls' | 'usec'): number | null => (byCommand ? Object.values(byCommand).reduce((t, x) => t + x[key], 0) : null);
    const watchQuitUs = earliest((r) => r.watchQuitUs);
    return {
      server: chat.kind,
      scenario: scenario.name,
      clients: scenario.clients,
      joined: chat.joined,
      connectFailures: chat.connectFailures,
      connectMs: chat.connectMs,
      windowMs,
      offeredPerSecond: offeredPerSecond(scenario, chat.joinedByChannel),
      deliveries,
      sentInWindow: sum((r) => r.sentInWindow),
      perSecond: (deliveries * 1000) / windowMs,
      p50Ms: histogramPercentile(histogram, 50) / 1000,
      p99Ms: histogramPercentile(histogram, 99) / 1000,
      maxMs: Math.max(...results.map((r) => r.maxLatencyUs)) / 1000,
      nodes: server.ports.length,
      ...cpu,
      redisCalls: sumOf('calls'),
      redisUsec: sumOf('usec'),
      redisByCommand: byCommand,
      serverWrites: writes1 - writes0,
      rssIdleBytes: chat.rssIdleBytes,
      rssPeakBytes,
      expected,
      missing: expected - sum((r) => r.deliveredTotal),
      disconnected: sum((r) => r.disconnected),
      lateSends: sum((r) => r.lateSends),
      maxSendLagMs: Math.max(...results.map((r) => r.maxSendLagMs)),
      busyBefore: chat.busyBefore,
      stop: null,
      window: { startUs: windowStartUs, endUs: windowEndUs },
      firstSendUs: earliest((r) => r.firstSendUs),
      watchQuitUs,
      watchQuitReason: results.find((r) => r.watchQuitUs === watchQuitUs)?.watchQuitReason ?? null,
      during: duringResult,
    };
  }

  /**
   * One fan-out measurement: a fresh server of `kind`, the scenario's clients (each enabling
   * `caps` when given), one window.
   */
  async measure(kind: IrcKind, scenario: Scenario, caps?: string, o: PeerOptions = {}): Promise<IrcFigures> {
    return (await this.fanOut(kind, scenario, [], caps, o)).figures;
  }

  /** The same, and the server's threads over the window (ours: one process). */
  async measureThreads(kind: IrcKind, scenario: Scenario, o: PeerOptions = {}): Promise<{ figures: IrcFigures; threads: IrcThreadTimes }> {
    const { figures, during } = await this.fanOut(kind, scenario, [], undefined, o, threadsOver);
    return { figures, threads: during! };
  }

  /**
   * The same, with Node flags for the server, and the window's edges (for the profiler) and what
   * `during` (started at the window's first moment) returned.
   */
  private async fanOut<T = null>(
    kind: IrcKind,
    scenario: Scenario,
    nodeFlags: string[],
    caps?: string,
    o: PeerOptions = {},
    during: DuringWindow<T> | null = null,
  ): Promise<{ figures: IrcFigures; window: ChatWindow['window']; during: T | null }> {
    const chat = await this.openChat(kind, scenario, { ...o, nodeFlags }, caps);
    let stop: StopResult | null = null;
    try {
      const w = await this.chatWindow(chat, this.settings.warmupMs, null, during);
      stop = await this.closeChat(chat);
      return { figures: { ...figuresOf(w), stop }, window: w.window, during: w.during };
    } finally {
      if (stop === null) await this.closeChat(chat).catch(() => null);
    }
  }

  /**
   * One server of `kind` (started with `o`) with the scenario's clients joined, and two windows
   * back to back: the first after the warm-up, the second after `secondWarmupMs` more of sending
   * (the sends pause between windows). `during[i]` starts at window i's first moment; its result
   * comes back beside the window's figures.
   */
  async twoWindows<A, B>(
    kind: IrcKind,
    scenario: Scenario,
    o: PeerOptions,
    secondWarmupMs: number,
    during: [DuringWindow<A>, DuringWindow<B>],
  ): Promise<{ first: IrcFigures; firstDuring: A; second: IrcFigures; secondDuring: B }> {
    const chat = await this.openChat(kind, scenario, o);
    let stop: StopResult | null = null;
    try {
      const first = await this.chatWindow(chat, this.settings.warmupMs, null, during[0]);
      const second = await this.chatWindow(chat, secondWarmupMs, null, during[1]);
      stop = await this.closeChat(chat);
      return { first: figuresOf(first), firstDuring: first.during as A, second: { ...figuresOf(second), stop }, secondDuring: second.during as B };
    } finally {
      if (stop === null) await this.closeChat(chat).catch(() => null);
    }
  }

  /**
   * The never-reader: one server of `kind` with its own sendq, the scenario's clients joined, one
   * window (after the warm-up) without it; then it joins the first channel, after everyone else,
   * and reads nothing more; a second window of the same length starts with the first line sent
   * after that (nothing else is sent to it before), and the sends go on past it until the
   * server drops it (its QUIT, seen by the others) or neverReaderHoldMs. The bare relay has no
   * limit: it is not waited for.
   */
  async neverReader(kind: IrcKind, scenario: Scenario): Promise<IrcNeverReaderRun> {
    const chat = await this.openChat(kind, scenario, { sendq: 'shipped' });
    let stop: StopResult | null = null;
    try {
      const without = await this.chatWindow(chat, this.settings.warmupMs, null);
      const holdMs = sendqBytesOf(kind, 'shipped') === null ? 0 : this.settings.neverReaderHoldMs;
      const neverReader = await startNeverReader(chat.server.ports[0]!, '#c0');
      const withIt = await this.chatWindow(chat, 0, holdMs > 0 ? { nick: neverReaderNick, holdMs } : null).finally(() => neverReader.stop());
      const dropMs = withIt.watchQuitUs !== null && withIt.firstSendUs !== null ? (withIt.watchQuitUs - withIt.firstSendUs) / 1000 : null;
      stop = await this.closeChat(chat);
      return {
        server: kind,
        sendqBytes: sendqBytesOf(kind, 'shipped'),
        holdMs,
        without: figuresOf(without),
        with: { ...figuresOf(withIt), stop },
        dropMs,
        droppedInWindow: withIt.watchQuitUs !== null && withIt.watchQuitUs < withIt.window.endUs,
        dropReason: withIt.watchQuitReason,
      };
    } finally {
      if (stop === null) await this.closeChat(chat).catch(() => null);
    }
  }

  /**
   * One more window of ours (or of the two nodes on Redis, each process profiled) under V8's
   * sampling profiler: where its CPU goes. Per-delivery figures divide by every delivery of the
   * window, so two nodes' figures add up.
   */
  async profile(scenario: Scenario, kind: 'ours' | 'redis2' = 'ours'): Promise<IrcProfile> {
    const dir = tempDir('irc-fanout-profile-');
    try {
      const { figures, window } = await this.fanOut(kind, scenario, ['--cpu-prof', `--cpu-prof-dir=${dir.path}`, `--cpu-prof-interval=${profileIntervalUs}`]);
      const files = readdirSync(dir.path).filter((f) => f.endsWith('.cpuprofile')).sort();
      if (files.length === 0) throw new Error('the profiled server wrote no .cpuprofile');
      const processes = files.map((file) =>
        summariseProfile(JSON.parse(readFileSync(`${dir.path}/${file}`, 'utf8')) as CpuProfile, { startUs: window.startUs, endUs: window.endUs, handshakes: figures.deliveries }),
      );
      return { kind, scenario: scenario.name, deliveries: figures.deliveries, processes };
    } finally {
      dir.remove();
    }
  }
}
