// The soak test (`npm run soak -- --minutes N`, or `--seconds N`; `--concurrency N`, default 50):
// the real server in a forked process (server.ts) under a closed loop of clients for a
// fixed time, looking for what only shows over time: connection actors, sockets or heap that
// are never released. A share of the clients are hostile (clients.ts).
//
// Order: fork; warm up for a few seconds and drain; GC and read the server's heap, RSS and open
// descriptors (start); run the load for the given time, printing a progress line every ~10 s;
// stop starting clients, let the running ones finish, destroy any straggler, wait for the
// server to release every connection; GC and read again (end); shut the server down over IPC
// and check it exits 0. Exits 1 when the end figures show a leak, the server died or its stop
// was not clean, 2 for bad flags; clients that saw something unexpected are listed and warned
// about. Every loop and wait is bounded by the duration or by a timeout.

import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../lib/flags.js';
import { forkServerProcess, type ForkedExit, type ForkedServer } from '../lib/forkedServer.js';
import { processFds, type FdCount } from '../lib/procfs.js';
import { bucketOf, histogramPercentile, histogramSize } from '../lib/stats.js';
import { sleep } from '../lib/wait.js';
import { clientDeadlineMs, hostileKinds, runClient, type ClientKind, type ClientResult } from './clients.js';
import { soakServerConfig } from './config.js';

const serverScript = fileURLToPath(new URL('./server.js', import.meta.url));

/** Load before the start reading, so that lazy compilation and first-use allocations in the
 * server are not counted as growth. */
const warmUpMs = 5_000;
/** How often a progress line is printed. */
const progressEveryMs = 10_000;
/** Share of the concurrency slots that run hostile clients (rounded, at least one from 2 up). */
const hostileShare = 0.1;
/** After the load stops and every client has closed, how long the server may take to release
 * its last connection actors (it only has to see the closes; the timeouts are upper bounds). */
const drainTimeoutMs = soakServerConfig.replyTimeoutMs + soakServerConfig.closeTimeoutMs + 5_000;
/** Leak thresholds at the end, against the start. Descriptors: a few for whatever Node opens
 * lazily, but not one more socket: with every client gone, each extra socket is a connection
 * the server still holds. Heap: growth must pass both thresholds to count. */
const maxFdGrowth = 3;
const maxSocketFdGrowth = 0;
const maxHeapGrowthRatio = 0.2;
const maxHeapGrowthBytes = 2 * 1024 * 1024;
/** Distinct problem texts kept; more are counted under one key (the map must not grow). */
const maxProblemKinds = 50;

const defaultConcurrency = 50;
const maxConcurrency = 5_000;
const defaultMinutes = 1;
const maxMinutes = 24 * 60;

interface Options {
  durationMs: number;
  concurrency: number;
}

const usage = `usage: npm run soak -- [--minutes N | --seconds N] [--concurrency N]

  --minutes N       how long the load runs (default ${defaultMinutes}; fractions allowed)
  --seconds N       the same in seconds, for short runs
  --concurrency N   clients in flight at once (default ${defaultConcurrency}); ${hostileShare * 100}% of them hostile
  -h, --help        this text`;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function badFlag(message: string): never {
  process.stderr.write(`error: ${message}\n\n${usage}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  let v;
  try {
    v = parseFlags(argv, {
      minutes: { type: 'string', multiple: true },
      seconds: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
  } catch (err) {
    badFlag(err instanceof Error ? err.message : String(err));
  }
  if (v.help) {
    out(usage);
    process.exit(0);
  }
  const positive = (flag: string, text: string): number => {
    if (text.trim() === '') badFlag(`${flag} needs a number`);
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) badFlag(`${flag} must be a positive number, got ${JSON.stringify(text)}`);
    return n;
  };
  const durations = [...(v.minutes ?? []).map((t) => ['--minutes', t] as const), ...(v.seconds ?? []).map((t) => ['--seconds', t] as const)];
  if (durations.length > 1) badFlag('give one of --minutes and --seconds, once');
  let durationMs = defaultMinutes * 60_000;
  if (durations[0]) {
    const [flag, text] = durations[0];
    durationMs = flag === '--minutes' ? positive(flag, text) * 60_000 : positive(flag, text) * 1_000;
    if (durationMs > maxMinutes * 60_000) badFlag(`${flag} is longer than ${maxMinutes} minutes`);
    if (durationMs < 1_000) badFlag(`${flag} must be at least 1 second`);
  }
  const concurrency = v.concurrency === undefined ? defaultConcurrency : positive('--concurrency', v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency > maxConcurrency) badFlag(`--concurrency must be a whole number from 1 to ${maxConcurrency}`);
  return { durationMs, concurrency };
}

function cpuMs(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + (b.system - a.system)) / 1000;
}

const mb = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Latencies of normal clients (lib/stats.ts's histogram, µs), read in ms. */
class Latencies {
  private readonly buckets = new Uint32Array(histogramSize);
  add(ms: number): void {
    this.buckets[bucketOf(ms * 1000)]! += 1;
  }
  /** Nearest-rank percentile in ms; NaN when empty. */
  percentile(p: number): number {
    return histogramPercentile(this.buckets, p) / 1000;
  }
  reset(): void {
    this.buckets.fill(0);
  }
}

/** What the clients saw, over one phase. */
class Tally {
  handshakes = 0;
  hostile = 0;
  readonly byKind = new Map<ClientKind, number>();
  readonly problems = new Map<string, number>();
  unexpected = 0;
  readonly latency = new Latencies();
  readonly intervalLatency = new Latencies();
  intervalHandshakes = 0;

  record(result: ClientResult): void {
    this.byKind.set(result.kind, (this.byKind.get(result.kind) ?? 0) + 1);
    if (result.problem !== null) {
      this.unexpected += 1;
      let key = `${result.kind}: ${result.problem}`;
      if (!this.problems.has(key) && this.problems.size >= maxProblemKinds) key = 'other problems';
      this.problems.set(key, (this.problems.get(key) ?? 0) + 1);
    }
    if (result.kind !== 'normal') {
      this.hostile += 1;
    } else if (result.problem === null) {
      this.handshakes += 1;
      this.intervalHandshakes += 1;
      this.latency.add(result.ms);
      this.intervalLatency.add(result.ms);
    }
  }
}

/**
 * The closed loop: `concurrency` slots, each running one client after another until `untilMs`
 * (performance.now() time) or an abort; hostile slots take the hostile behaviours in turn.
 * Resolves once every slot's last client has closed.
 */
class Load {
  readonly open = new Set<net.Socket>();
  private aborted = false;
  private nextHostile = 0;
  private nextReply = 1;

  constructor(
    private readonly port: number,
    private readonly concurrency: number,
    private readonly hostileSlots: number,
  ) {}

  async run(untilMs: number, tally: Tally): Promise<void> {
    const slot = async (hostile: boolean): Promise<void> => {
      while (!this.aborted && performance.now() < untilMs) {
        const kind: ClientKind = hostile ? hostileKinds[this.nextHostile++ % hostileKinds.length]! : 'normal';
        tally.record(await runClient(kind, this.port, this.open, this.nextReply++));
      }
    };
    // Each client is bounded by its own deadline, so the slots end by untilMs + clientDeadlineMs;
    // this is only a net under that net.
    const straggle = setTimeout(() => this.abort(), untilMs - performance.now() + clientDeadlineMs + 2_000);
    const slots = Array.from({ length: this.concurrency }, (_, i) => slot(i < this.hostileSlots));
    await Promise.all(slots);
    clearTimeout(straggle);
  }

  /** Stops every slot and destroys every open client. */
  abort(): void {
    this.aborted = true;
    for (const socket of this.open) socket.destroy();
  }
}

/** Polls the server until it reports no live connection, up to drainTimeoutMs; returns the last count. */
async function drained(server: ForkedServer): Promise<number> {
  const giveUpAt = performance.now() + drainTimeoutMs;
  for (;;) {
    const { live } = await server.cpu();
    if (live === 0 || performance.now() >= giveUpAt) return live;
    await sleep(50);
  }
}

interface Reading {
  memory: NodeJS.MemoryUsage;
  live: number;
  fds: FdCount;
}

async function read(server: ForkedServer): Promise<Reading> {
  const { usage, live } = await server.memory();
  return { memory: usage, live, fds: processFds(server.pid) };
}

function printProblems(tally: Tally): void {
  for (const [problem, count] of [...tally.problems].sort((a, b) => b[1] - a[1])) {
    out(`    ${int(count).padStart(8)}  ${problem}`);
  }
}

const fdText = (fds: FdCount): string => `${fds.total} (${fds.sockets} sockets)`;

function describeExit(exit: ForkedExit): string {
  if (exit.killed) return `did not exit in time, killed (code ${exit.exitCode}, signal ${exit.signal})`;
  return exit.signal !== null ? `killed by ${exit.signal}` : `code ${exit.exitCode}`;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const { concurrency, durationMs } = options;
  const hostileSlots = concurrency >= 2 ? Math.max(1, Math.round(concurrency * hostileShare)) : 0;
  const { replyTimeoutMs, closeTimeoutMs, maxReplyBytes } = soakServerConfig;
  out(
    `soak: ${durationMs / 1000} s, concurrency ${concurrency} (${concurrency - hostileSlots} normal, ` +
      `${hostileSlots} hostile slots: ${hostileKinds.join(', ')}); server: replyTimeoutMs ${replyTimeoutMs}, ` +
      `closeTimeoutMs ${closeTimeoutMs}, maxReplyBytes ${maxReplyBytes}`,
  );

  // The child's stop is bounded by the grace period and its own margin; past that and more, it is killed.
  const server = await forkServerProcess(serverScript, [], { what: 'soak server', stopTimeoutMs: soakServerConfig.shutdownGraceMs + 5_000 });
  const load = new Load(server.port, concurrency, hostileSlots);
  let stopping = false;
  let diedEarly: ForkedExit | null = null;
  void server.exit.then((exit) => {
    if (stopping) return;
    diedEarly = exit;
    out(`server process exited during the soak (${describeExit(exit)})`);
    load.abort();
  });
  out(`server pid ${server.pid} listening on 127.0.0.1:${server.port}`);

  const failures: string[] = [];
  const warnings: string[] = [];
  try {
    // Warm-up, then a quiet server for the start reading (the end reading is quiet too).
    const warm = new Tally();
    await load.run(performance.now() + warmUpMs, warm);
    const warmLive = await drained(server);
    out(
      `warm-up: ${int(warm.handshakes)} handshakes, ${int(warm.hostile)} hostile, ` +
        `${warm.unexpected} unexpected; live after drain ${warmLive}`,
    );
    printProblems(warm);
    if (warm.unexpected > 0) warnings.push(`${warm.unexpected} client(s) saw something unexpected during the warm-up`);
    const start = await read(server);
    const serverCpuStart = (await server.cpu()).usage;
    out(
      `start: heap used ${mb(start.memory.heapUsed)}, rss ${mb(start.memory.rss)}, ` +
        `fds ${fdText(start.fds)}, live ${start.live}`,
    );

    // The measured load, with a progress line every progressEveryMs.
    const tally = new Tally();
    const t0 = performance.now();
    const loadCpuStart = process.cpuUsage();
    let last = { at: t0, loadCpu: loadCpuStart, serverCpu: serverCpuStart };
    let progressRun: Promise<void> | null = null;
    const progress = setInterval(() => {
      if (progressRun !== null) return;
      progressRun = (async () => {
        try {
          const now = performance.now();
          const loadCpu = process.cpuUsage();
          const { usage: mem, live } = await server.memory();
          const { usage: serverCpu } = await server.cpu();
          const wall = now - last.at;
          const rate = (tally.intervalHandshakes * 1000) / wall;
          out(
            `[${String(Math.round((now - t0) / 1000)).padStart(5)} s] handshakes ${int(tally.handshakes)} ` +
              `(${rate.toFixed(0)}/s, p50 ${tally.intervalLatency.percentile(50).toFixed(1)} ms, ` +
              `p99 ${tally.intervalLatency.percentile(99).toFixed(1)} ms) hostile ${int(tally.hostile)} ` +
              `unexpected ${tally.unexpected} | server live ${live} heap ${mb(mem.heapUsed)} rss ${mb(mem.rss)} ` +
              `fds ${fdText(processFds(server.pid))} cpu ${((cpuMs(last.serverCpu, serverCpu) / wall) * 100).toFixed(0)}% ` +
              `| loadgen cpu ${((cpuMs(last.loadCpu, loadCpu) / wall) * 100).toFixed(0)}%`,
          );
          last = { at: now, loadCpu, serverCpu };
          tally.intervalHandshakes = 0;
          tally.intervalLatency.reset();
        } catch (err) {
          out(`progress: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          progressRun = null;
        }
      })();
    }, progressEveryMs);
    // Rates and CPU shares are over the load's duration, sampled when it ends: after that only
    // the last clients finish (the slowest hostile ones hold for seconds) and nothing starts.
    const endSample = new Promise<{ at: number; loadCpu: NodeJS.CpuUsage; serverCpu: NodeJS.CpuUsage } | null>(
      (resolve) => {
        setTimeout(() => {
          const at = performance.now();
          const loadCpu = process.cpuUsage();
          server.cpu().then(
            ({ usage }) => resolve({ at, loadCpu, serverCpu: usage }),
            () => resolve(null),
          );
        }, durationMs).unref();
      },
    );
    await load.run(t0 + durationMs, tally);
    clearInterval(progress);
    await progressRun;
    const tailS = (performance.now() - t0 - durationMs) / 1000;
    // Every slot has finished; anything still open would be a bug in the clients' deadlines.
    const stragglers = load.open.size;
    load.abort();
    if (diedEarly !== null) throw new Error('the server process died during the soak');

    const endLive = await drained(server);
    const sample = await endSample;
    if (sample === null) throw new Error('no CPU reading from the server at the end of the load');
    const end = await read(server);
    stopping = true;
    const exit = await server.stop();

    // Summary.
    const wallS = (sample.at - t0) / 1000;
    const loadCpu = cpuMs(loadCpuStart, sample.loadCpu);
    const serverCpu = cpuMs(serverCpuStart, sample.serverCpu);
    const heapGrowth = end.memory.heapUsed - start.memory.heapUsed;
    const heapRatio = heapGrowth / start.memory.heapUsed;
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
    const signedMb = (x: number): string => `${x >= 0 ? '+' : '-'}${mb(Math.abs(x))}`;
    const kinds = hostileKinds.map((k) => `${k} ${int(tally.byKind.get(k) ?? 0)}`).join(', ');
    out('');
    out(
      `soak summary (${wallS.toFixed(1)} s of load, then ${tailS.toFixed(1)} s for the last clients to finish; ` +
        `concurrency ${concurrency}, ${hostileSlots} hostile slots)`,
    );
    const row = (label: string, value: string): void => out(`  ${label.padEnd(24)}${value}`);
    const ms = (p: number): string => `${tally.latency.percentile(p).toFixed(1)} ms`;
    const cpuText = (used: number): string =>
      `${(used / 1000).toFixed(1)} s (${((used / (wallS * 1000)) * 100).toFixed(0)}% of one core)`;
    const startEnd = (a: number, b: number): string => `start ${mb(a)}  end ${mb(b)}`;
    row(
      'handshakes',
      `${int(tally.handshakes)} (${(tally.handshakes / wallS).toFixed(1)}/s; ` +
        `latency p50 ${ms(50)}, p99 ${ms(99)}, max ${ms(100)})`,
    );
    row('hostile connections', `${int(tally.hostile)} (${kinds})`);
    const stragglerText = stragglers > 0 ? `, ${stragglers} clients still open after the load` : '';
    row('unexpected (clients)', `${tally.unexpected}${stragglerText}`);
    printProblems(tally);
    row(
      'server heap used',
      `${startEnd(start.memory.heapUsed, end.memory.heapUsed)}  (${signedMb(heapGrowth)}, ${pct(heapRatio)})`,
    );
    row('server heap total', startEnd(start.memory.heapTotal, end.memory.heapTotal));
    row('server external', startEnd(start.memory.external, end.memory.external));
    row(
      'server RSS',
      `${startEnd(start.memory.rss, end.memory.rss)}  (${signedMb(end.memory.rss - start.memory.rss)})`,
    );
    row('server fds', `start ${fdText(start.fds)}  end ${fdText(end.fds)}`);
    row('server live at end', String(endLive));
    row('server CPU', cpuText(serverCpu));
    row('load generator CPU', cpuText(loadCpu));
    row('server exit', describeExit(exit));

    if (endLive !== 0) failures.push(`${endLive} connection(s) still live in the server after the load (expected 0)`);
    // Written so that NaN (no /proc) fails rather than passes silently.
    if (!(end.fds.total - start.fds.total <= maxFdGrowth)) {
      failures.push(
        `server file descriptors grew from ${start.fds.total} to ${end.fds.total} (more than ${maxFdGrowth})`,
      );
    }
    if (!(end.fds.sockets - start.fds.sockets <= maxSocketFdGrowth)) {
      failures.push(
        `server socket descriptors grew from ${start.fds.sockets} to ${end.fds.sockets}: ` +
          'connections the server never closed',
      );
    }
    if (heapGrowth > maxHeapGrowthBytes && heapRatio > maxHeapGrowthRatio) {
      failures.push(
        `server heap used grew by ${mb(heapGrowth)} (${pct(heapRatio)}), ` +
          `more than ${mb(maxHeapGrowthBytes)} and ${pct(maxHeapGrowthRatio)}`,
      );
    }
    if (exit.exitCode !== 0 || exit.signal !== null || exit.killed) {
      failures.push(`server did not exit 0 after shutdown (${describeExit(exit)})`);
    }
    // Reported, not a failure: a client can see the unexpected without the server leaking (a
    // stall of replyQuietMs in either process turns a trickle into a reply), and the verdict is
    // about what is left behind. The list above says what happened.
    if (tally.unexpected > 0) warnings.push(`${tally.unexpected} client(s) saw something unexpected (listed above)`);
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
    load.abort();
    stopping = true;
    const exit = await server.stop();
    out(`server exit: ${describeExit(exit)}`);
  }

  if (failures.length === 0) {
    out(`\nsoak: PASS${warnings.length > 0 ? ' (with warnings)' : ''}`);
    for (const warning of warnings) out(`  warning: ${warning}`);
    return 0;
  }
  out('\nsoak: FAIL');
  for (const failure of failures) out(`  - ${failure}`);
  for (const warning of warnings) out(`  warning: ${warning}`);
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
