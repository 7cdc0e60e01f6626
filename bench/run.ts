// The benchmark entry point (`npm run bench`, `--runs N`). Two scenarios, each run against our
// server (startServer from src/) and the bare node:net baseline, alternately, in a fresh child
// process per run; the load generator runs here. Prints a table of medians with the ratio
// ours / baseline and writes docs/benchmarks.md.
//
//   burst:  1,000 clients connect at once; each does connect → greeting → reply → server close.
//   idle:   2,000 clients hold a greeted, unanswered connection; server memory per connection
//           after a forced GC.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../src/config.js';
import { forkServer, type ForkedServer } from './forkServer.js';
import { benchReplyTimeoutMs, type ServerKind } from './ipc.js';
import { readListenCounters } from './kernelCounters.js';
import { openIdle, runBurst, type Failures, type ProtocolText } from './loadgen.js';
import { median, percentileSorted } from './stats.js';

// Every count and wait is bounded; the whole run stays at a few minutes.
/** Clients in the timed burst. */
const burstClients = 1_000;
/** Full-cycle clients run before anything is measured, so that lazy compilation and first-use
 * allocations in the server are not counted against either scenario. */
const warmupClients = 100;
/** Idle clients held for the memory figure (2 fds each across both processes). */
const idleClients = 2_000;
/** Idle clients are opened this many at a time, well below the listen backlog. */
const idleWaveSize = 250;
/** A burst that has not finished by then is cut short and its stragglers counted as failures. */
const burstTimeoutMs = 60_000;
/** Time for all idle clients to be greeted. */
const idleTimeoutMs = 60_000;
/** Pause between the last greeting and the memory reading, so pending callbacks have run. */
const idleSettleMs = 500;
/** After the warm-up, how long the server may take to release its last connections. */
const drainTimeoutMs = 5_000;
const defaultRuns = 5;
const maxRuns = 20;

const text: ProtocolText = { greeting: defaultConfig.greeting, reply: 'hello from the benchmark' };
const kinds: readonly ServerKind[] = ['ours', 'baseline'];
const root = fileURLToPath(new URL('../../', import.meta.url));

interface BurstRun {
  wallMs: number;
  connectLoopMs: number;
  /** SYNs dropped because the accept queue was full (TcpExt ListenOverflows), NaN if unknown. */
  listenOverflows: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMs: number;
  loadCpuMs: number;
  completed: number;
  failures: Failures;
}

interface IdleRun {
  rssPerConnBytes: number;
  heapUsedPerConnBytes: number;
  heapTotalPerConnBytes: number;
  externalPerConnBytes: number;
  greeted: number;
  liveAtMeasure: number;
  connectMs: number;
  loadCpuMs: number;
  failures: Failures;
}

type Results = Record<ServerKind, { burst: BurstRun[]; idle: IdleRun[] }>;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function cpuMs(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + (b.system - a.system)) / 1000;
}

function describeFailures(failures: Failures): string {
  const parts = Object.entries(failures).map(([reason, n]) => `${reason}×${n}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** Waits (bounded) until the server has released every connection; returns how many are left. */
async function drained(server: ForkedServer): Promise<number> {
  const giveUpAt = Date.now() + drainTimeoutMs;
  for (;;) {
    const { live } = await server.cpu();
    if (live === 0 || Date.now() > giveUpAt) return live;
    await sleep(20);
  }
}

/** Full-cycle clients that are not measured, then wait for the server to release them all. */
async function warmUp(server: ForkedServer): Promise<void> {
  const warm = await runBurst(server.port, warmupClients, text, burstTimeoutMs);
  if (warm.completed !== warmupClients) log(`  warning: warm-up failures: ${describeFailures(warm.failures)}`);
  const left = await drained(server);
  if (left > 0) log(`  warning: ${left} warm-up connections still live after ${drainTimeoutMs} ms`);
}

async function burstOnce(kind: ServerKind): Promise<BurstRun> {
  const server = await forkServer(kind);
  try {
    await warmUp(server);
    const before = await server.cpu();
    const kernelBefore = readListenCounters();
    const burst = await runBurst(server.port, burstClients, text, burstTimeoutMs);
    const kernelAfter = readListenCounters();
    // The server's CPU time counts until it has released the last connection, not just until
    // the last client saw its close.
    const left = await drained(server);
    if (left > 0) log(`  warning: ${left} burst connections still live after ${drainTimeoutMs} ms`);
    const after = await server.cpu();
    return {
      wallMs: burst.wallMs,
      connectLoopMs: burst.connectLoopMs,
      listenOverflows: kernelBefore && kernelAfter ? kernelAfter.overflows - kernelBefore.overflows : Number.NaN,
      p50Ms: percentileSorted(burst.latenciesMs, 50),
      p99Ms: percentileSorted(burst.latenciesMs, 99),
      serverCpuMs: cpuMs(before.usage, after.usage),
      loadCpuMs: burst.cpuMs,
      completed: burst.completed,
      failures: burst.failures,
    };
  } finally {
    await server.stop();
  }
}

async function idleOnce(kind: ServerKind): Promise<IdleRun> {
  const server = await forkServer(kind);
  try {
    await warmUp(server);
    const before = await server.memory();
    if (before.live !== 0) log(`  warning: ${before.live} connections still live before the idle clients`);
    const idle = await openIdle(server.port, idleClients, text, idleWaveSize, idleTimeoutMs);
    try {
      await sleep(idleSettleMs);
      const after = await server.memory();
      const per = (field: 'rss' | 'heapUsed' | 'heapTotal' | 'external'): number =>
        (after.usage[field] - before.usage[field]) / idleClients;
      if (idle.open() !== idleClients || after.live !== idleClients) {
        log(`  warning: ${idle.open()} clients open, server counts ${after.live} live (expected ${idleClients})`);
      }
      return {
        rssPerConnBytes: per('rss'),
        heapUsedPerConnBytes: per('heapUsed'),
        heapTotalPerConnBytes: per('heapTotal'),
        externalPerConnBytes: per('external'),
        greeted: idle.greeted,
        liveAtMeasure: after.live,
        connectMs: idle.connectMs,
        loadCpuMs: idle.cpuMs,
        failures: idle.failures,
      };
    } finally {
      await idle.close();
    }
  } finally {
    await server.stop();
  }
}

// --- Report -------------------------------------------------------------------------------

interface Row {
  label: string;
  ours: number;
  baseline: number;
  digits: number;
  /** False where a ratio means nothing (counts of failures). */
  ratio: boolean;
}

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function ratioOf(row: Row): string {
  if (!row.ratio || !Number.isFinite(row.ours) || !Number.isFinite(row.baseline) || row.baseline === 0) return '–';
  return `${(row.ours / row.baseline).toFixed(2)}×`;
}

function medianRows(results: Results): Row[] {
  const m = (kind: ServerKind, pick: (r: Results[ServerKind]) => number[]): number => median(pick(results[kind]));
  const row = (label: string, digits: number, pick: (r: Results[ServerKind]) => number[], ratio = true): Row => ({
    label,
    ours: m('ours', pick),
    baseline: m('baseline', pick),
    digits,
    ratio,
  });
  const failed = (runs: { failures: Failures }[]): number[] =>
    runs.map((r) => Object.values(r.failures).reduce((a, b) => a + b, 0));
  const bytesPerKiB = 1024;
  return [
    row(`Burst: wall time, ${burstClients.toLocaleString('en')} clients (ms)`, 1, (r) => r.burst.map((b) => b.wallMs)),
    row('Burst: per-client latency p50 (ms)', 1, (r) => r.burst.map((b) => b.p50Ms)),
    row('Burst: per-client latency p99 (ms)', 1, (r) => r.burst.map((b) => b.p99Ms)),
    row('Burst: server CPU time (ms)', 0, (r) => r.burst.map((b) => b.serverCpuMs)),
    row('Burst: load generator CPU time (ms)', 0, (r) => r.burst.map((b) => b.loadCpuMs)),
    row('Burst: load generator CPU / wall (%)', 0, (r) => r.burst.map((b) => (100 * b.loadCpuMs) / b.wallMs)),
    row('Burst: SYNs dropped, accept queue full', 0, (r) => r.burst.map((b) => b.listenOverflows), false),
    row('Burst: the connect() loop itself (ms)', 1, (r) => r.burst.map((b) => b.connectLoopMs)),
    row('Burst: failed clients', 0, (r) => failed(r.burst), false),
    row('Idle: RSS per connection (KiB)', 2, (r) => r.idle.map((i) => i.rssPerConnBytes / bytesPerKiB)),
    row('Idle: heap used per connection (KiB)', 2, (r) => r.idle.map((i) => i.heapUsedPerConnBytes / bytesPerKiB)),
    row('Idle: V8 heap reserved (heapTotal) per connection (KiB)', 2, (r) => r.idle.map((i) => i.heapTotalPerConnBytes / bytesPerKiB)),
    row('Idle: external per connection (KiB)', 3, (r) => r.idle.map((i) => i.externalPerConnBytes / bytesPerKiB)),
    row(`Idle: time to greet ${idleClients.toLocaleString('en')} clients (ms)`, 0, (r) => r.idle.map((i) => i.connectMs)),
    row('Idle: load generator CPU while connecting (ms)', 0, (r) => r.idle.map((i) => i.loadCpuMs)),
    row('Idle: failed clients', 0, (r) => failed(r.idle), false),
  ];
}

function textTable(rows: Row[]): string {
  const header = ['metric (median)', 'ours', 'baseline', 'ours/baseline'];
  const cells = rows.map((r) => [r.label, fmt(r.ours, r.digits), fmt(r.baseline, r.digits), ratioOf(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

function markdownTable(rows: Row[]): string {
  const out = ['| Metric (median) | Ours | Baseline | Ours / baseline |', '|---|--:|--:|--:|'];
  for (const r of rows) out.push(`| ${r.label} | ${fmt(r.ours, r.digits)} | ${fmt(r.baseline, r.digits)} | ${ratioOf(r)} |`);
  return out.join('\n');
}

const kib = (bytes: number, digits = 2): string => fmt(bytes / 1024, digits);

/** One markdown table: a header row, its alignment row, then the body. */
function mdTable(header: string[], align: string[], body: string[][]): string {
  return [header, align, ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function runsTables(results: Results): string {
  const burst: string[][] = [];
  const idle: string[][] = [];
  const runs = results.ours.burst.length;
  for (let i = 0; i < runs; i += 1) {
    for (const kind of kinds) {
      const b = results[kind].burst[i]!;
      burst.push([
        String(i + 1),
        kind,
        fmt(b.wallMs, 1),
        fmt(b.p50Ms, 1),
        fmt(b.p99Ms, 1),
        fmt(b.serverCpuMs, 0),
        fmt(b.loadCpuMs, 0),
        fmt(b.listenOverflows, 0),
        describeFailures(b.failures),
      ]);
      const d = results[kind].idle[i]!;
      idle.push([
        String(i + 1),
        kind,
        kib(d.rssPerConnBytes),
        kib(d.heapUsedPerConnBytes),
        kib(d.heapTotalPerConnBytes),
        kib(d.externalPerConnBytes, 3),
        String(d.liveAtMeasure),
        fmt(d.connectMs, 0),
        describeFailures(d.failures),
      ]);
    }
  }
  const burstHeader = ['Run', 'Server', 'Wall (ms)', 'p50 (ms)', 'p99 (ms)', 'Server CPU (ms)', 'Load-gen CPU (ms)'];
  const idleHeader = ['Run', 'Server', 'RSS/conn (KiB)', 'Heap used/conn (KiB)', 'heapTotal/conn (KiB)'];
  const align = (n: number): string[] => ['--:', '---', ...Array<string>(n - 3).fill('--:'), '---'];
  return [
    '### Burst',
    mdTable([...burstHeader, 'SYNs dropped', 'Failures'], align(9), burst),
    '### Idle',
    mdTable([...idleHeader, 'External/conn (KiB)', 'Live at measure', 'Greet all (ms)', 'Failures'], align(9), idle),
  ].join('\n\n');
}

/** Sentences that follow from this run's numbers, so that the table is not misread. */
function readingNotes(results: Results): string {
  const notes: string[] = [];
  const all = [...results.ours.burst, ...results.baseline.burst];
  const dropped = all.map((b) => b.listenOverflows).filter(Number.isFinite);
  if (dropped.length > 0 && Math.max(...dropped) > 0) {
    notes.push(
      '- **The burst overflows the listen backlog.** In the bursts the kernel dropped ' +
        `${Math.min(...dropped)}–${Math.max(...dropped)} ` +
        `SYNs because the accept queue (backlog ${defaultConfig.listenBacklog}, capped by net.core.somaxconn) was full while the server was still ` +
        'accepting. Those clients retry after the initial retransmission timeout (1 s), so wall time and p99 ' +
        'contain a 1 s step for both servers and compress the ratio. Server CPU time per burst is the direct ' +
        'measure of the work per connection.',
    );
  }
  const share = all.map((b) => (100 * b.loadCpuMs) / b.wallMs);
  const busiest = Math.max(...share);
  notes.push(
    busiest < 70
      ? `- **The load generator was not the bottleneck:** its CPU time was at most ${busiest.toFixed(0)} % ` +
          "of a burst's wall time (one core = 100 %)."
      : `- **Warning:** the load generator's CPU time reached ${busiest.toFixed(0)} % of a burst's wall time; ` +
          'it may have limited the burst.',
  );
  notes.push(
    '- **RSS versus heap used.** Heap used is what stays reachable per connection after a full GC. RSS ' +
      'also counts heap pages V8 reserved and kept (the heapTotal row), such as a young generation grown ' +
      'under allocation pressure while the clients connected. That part is largely a fixed amount, so RSS ' +
      'divided by the connection count overstates the marginal cost of one more connection; heap used is ' +
      'the per-connection figure.',
  );
  return notes.join('\n');
}

function machine(): { nproc: string; cpu: string; node: string; kernel: string; memory: string; xstate: string } {
  let nproc: string;
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    nproc = String(os.availableParallelism());
  }
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  let xstate = 'unknown';
  try {
    xstate = (JSON.parse(readFileSync(`${root}node_modules/xstate/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    // Reported as unknown.
  }
  return {
    nproc,
    cpu,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    xstate,
  };
}

function markdown(results: Results, rows: Row[], runs: number, elapsedS: number): string {
  const m = machine();
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.ts). Rerun it rather than editing this file; numbers
from one machine are noisy, the ratios against the baseline measured in the same run are what
to compare.

Date: ${new Date().toISOString()} (${runs} runs per server and scenario, ${elapsedS.toFixed(0)} s in all)

## Machine

| | |
|---|---|
| CPUs (\`nproc\`) | ${m.nproc} |
| CPU model (/proc/cpuinfo) | ${m.cpu} |
| Memory | ${m.memory} |
| Kernel | ${m.kernel} |
| Node | ${m.node} |
| xstate | ${m.xstate} |

## Method

- **Servers.** *Ours* is \`startServer\` from src/adapters/tcpServer.ts with \`defaultConfig\`, a
  silent logger, host 127.0.0.1, port 0 and \`replyTimeoutMs\` ${benchReplyTimeoutMs / 60_000} minutes. The
  *baseline* (bench/baselines/bareNetServer.ts) is the same protocol on bare \`node:net\`, no
  xstate: greet, read the first line (up to ${defaultConfig.maxReplyBytes} bytes), close; it keeps the
  same per-connection reply timer. The same listen backlog for both (\`listenBacklog\`, ${defaultConfig.listenBacklog}).
- **Processes.** Each run forks a fresh server process (bench/serverProcess.ts, \`--expose-gc\`)
  that reports its port and, on request over IPC, its \`process.cpuUsage()\` or its
  \`process.memoryUsage()\` after two forced GCs. The load generator (bench/loadgen.ts,
  \`node:net\` clients on 127.0.0.1) runs in the parent process and measures its own CPU time.
  Every run starts with a warm-up of ${warmupClients} full-cycle clients that is not measured.
- **Burst.** ${burstClients.toLocaleString('en')} clients call \`connect()\` in one synchronous loop; each reads
  the greeting, sends one line and waits for the server to close. Wall time runs from the first
  \`connect()\` to the last client's \`close\`; latency per client from its \`connect()\` to its
  \`close\` (nearest-rank p50/p99). Server CPU is the child's CPU time from just before the
  first \`connect()\` until it has released the last connection (polled over IPC every 20 ms).
- **Idle memory.** After the warm-up, the server is GC'd and its memory read; then
  ${idleClients.toLocaleString('en')} clients connect (${idleWaveSize} at a time), read the greeting and stay silent.
  ${idleSettleMs} ms after the last greeting the server is GC'd and read again. Per connection =
  (after − before) / ${idleClients.toLocaleString('en')}, for RSS, \`heapUsed\`, \`heapTotal\` and \`external\`.
- **Kernel.** SYNs dropped on a full accept queue are the change in \`TcpExt ListenOverflows\`
  (/proc/net/netstat) across the burst; the counter is for the whole network namespace.
- **Order.** In each run the two servers alternate (ours first in odd runs, the baseline first in
  even runs). Each figure is the median over the runs; the ratio is median(ours) / median(baseline).

## Results (medians of ${runs} runs)

${markdownTable(rows)}

## Reading the figures

${readingNotes(results)}

## Every run

${runsTables(results)}
`;
}

// --- Main ---------------------------------------------------------------------------------

function parseRuns(argv: string[]): number {
  let runs = defaultRuns;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === '--runs') value = argv[++i];
    else if (arg.startsWith('--runs=')) value = arg.slice('--runs='.length);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: npm run bench [-- --runs N]   (N from 1 to ${maxRuns}, default ${defaultRuns})\n`);
      process.exit(0);
    } else throw new Error(`unknown argument: ${arg}`);
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > maxRuns) throw new Error(`--runs takes a whole number from 1 to ${maxRuns}`);
    runs = n;
  }
  return runs;
}

async function main(): Promise<void> {
  let runs: number;
  try {
    runs = parseRuns(process.argv.slice(2));
  } catch (err) {
    log(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
    return;
  }
  const started = Date.now();
  const results: Results = { ours: { burst: [], idle: [] }, baseline: { burst: [], idle: [] } };
  for (let run = 1; run <= runs; run += 1) {
    const order: ServerKind[] = run % 2 === 1 ? ['ours', 'baseline'] : ['baseline', 'ours'];
    for (const kind of order) {
      const b = await burstOnce(kind);
      results[kind].burst.push(b);
      log(
        `run ${run}/${runs} burst ${kind.padEnd(8)} wall ${fmt(b.wallMs, 1)} ms, p50 ${fmt(b.p50Ms, 1)} ms, ` +
          `p99 ${fmt(b.p99Ms, 1)} ms, server CPU ${fmt(b.serverCpuMs, 0)} ms, load-gen CPU ${fmt(b.loadCpuMs, 0)} ms, ` +
          `SYNs dropped ${fmt(b.listenOverflows, 0)}, failures ${describeFailures(b.failures)}`,
      );
    }
    for (const kind of order) {
      const i = await idleOnce(kind);
      results[kind].idle.push(i);
      log(
        `run ${run}/${runs} idle  ${kind.padEnd(8)} RSS ${kib(i.rssPerConnBytes)} KiB/conn, ` +
          `heap used ${kib(i.heapUsedPerConnBytes)} KiB/conn, live ${i.liveAtMeasure}, failures ${describeFailures(i.failures)}`,
      );
    }
  }
  const elapsedS = (Date.now() - started) / 1000;
  const rows = medianRows(results);
  process.stdout.write(`\n${textTable(rows)}\n\n`);
  mkdirSync(`${root}docs`, { recursive: true });
  writeFileSync(`${root}docs/benchmarks.md`, markdown(results, rows, runs, elapsedS));
  process.stdout.write(`wrote docs/benchmarks.md (${elapsedS.toFixed(0)} s)\n`);
}

await main();
