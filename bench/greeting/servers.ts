// Every server the benchmark measures, started the same way from the benchmark's point of view:
// a port on 127.0.0.1, the process tree to read CPU and memory from (/proc), and a stop that
// reports how long the server took to exit and whether it stopped cleanly.
//
//   ours         startServer from src/ in a forked process (bench/greeting/serverProcess.ts), silent logger
//   bare         bench/greeting/baselines/bareNetServer.ts in the same kind of forked process
//   python       bench/greeting/baselines/blocking_server.py, the article's one-client-at-a-time server
//   oursCluster  our CLI, `node dist/src/cli/server.js --workers N` (JSON log read for the port)
//   bareCluster  bench/greeting/baselines/bareClusterServer.ts, the bare server in N cluster workers

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/core/config.js';
import { forkServer, type ForkedServer } from './forkServer.js';
import { sharedNowMs } from './loadgen.js';
import { benchReplyTimeoutMs } from '../lib/ipc.js';
import { cliScript, root } from '../lib/machine.js';
import { spawned, type RunningServer } from '../lib/spawned.js';
import { processTree } from '../lib/procfs.js';

export type ServerName = 'ours' | 'bare' | 'python';
const serverLabels: Record<ServerName, string> = {
  ours: 'ours (xstate)',
  bare: 'bare node:net',
  python: 'python blocking',
};

const pythonScript = `${root}bench/greeting/baselines/blocking_server.py`;
const bareClusterScript = fileURLToPath(new URL('./baselines/bareClusterServer.js', import.meta.url));


/** The Python server's per-client timeout: how long one silent client blocks everyone. */
export const pythonClientTimeoutS = 5;

/** `--workers` is in our CLI (someone may still be adding it). */
export function cliHasWorkers(): boolean {
  if (!existsSync(cliScript)) return false;
  try {
    return execFileSync(process.execPath, [cliScript, '--help'], { encoding: 'utf8' }).includes('--workers');
  } catch {
    return false;
  }
}

function forked(server: ForkedServer, name: string, pid: number): RunningServer {
  return {
    name,
    port: server.port,
    pid,
    pids: () => processTree(pid),
    memory: () => server.memory(),
    live: async () => (await server.cpu()).live,
    stop: async () => {
      const t0 = performance.now();
      const exit = await server.stop();
      return { ms: performance.now() - t0, ...exit };
    },
  };
}

/** One of the single-process servers: ours and bare forked, python spawned. */
export async function startServerUnderTest(name: ServerName): Promise<RunningServer> {
  if (name === 'ours' || name === 'bare') {
    const server = await forkServer(name === 'ours' ? 'ours' : 'baseline');
    return forked(server, serverLabels[name], server.pid);
  }
  return spawned(
    serverLabels.python,
    'python3',
    [pythonScript, '--backlog', String(defaultConfig.listenBacklog), '--timeout', String(pythonClientTimeoutS)],
    (line) => /^listening (\d+)$/.exec(line)?.[1],
    5_000,
  );
}

export interface ClusterLog {
  /** `server.stopped` (each worker) and `primary.stopped` lines, and how many said forced. */
  stoppedLines: number;
  forcedStops: number;
  /** Shared-clock time of the last worker's `server.stopped` and of `primary.stopped` (NaN if none). */
  lastWorkerStoppedAt: number;
  primaryStoppedAt: number;
  errorLines: string[];
}

export interface ClusterServer extends RunningServer {
  /** What the server's log said when it stopped (ours only). */
  readonly log: ClusterLog;
}

/** Our CLI with --workers N, or the bare cluster baseline. */
export async function startCluster(kind: 'ours' | 'bare', workers: number, shutdownGraceMs: number): Promise<ClusterServer> {
  const log: ClusterLog = {
    stoppedLines: 0,
    forcedStops: 0,
    lastWorkerStoppedAt: Number.NaN,
    primaryStoppedAt: Number.NaN,
    errorLines: [],
  };
  if (kind === 'bare') {
    const s = await spawned(
      `bare node:net ×${workers}`,
      process.execPath,
      [bareClusterScript, '--workers', String(workers), '--reply-timeout', String(benchReplyTimeoutMs)],
      (line) => /^listening (\d+)$/.exec(line)?.[1],
      shutdownGraceMs,
    );
    return { ...s, log };
  }
  const args = [
    cliScript,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    String(workers),
    '--reply-timeout',
    String(benchReplyTimeoutMs),
    '--max-connections',
    '30000',
    '--shutdown-grace',
    String(shutdownGraceMs),
    '--log-format',
    'json',
  ];
  const s = await spawned(
    `ours ×${workers}`,
    process.execPath,
    args,
    (line) => {
      // The primary's own line (worker lines carry a `worker` field) once all workers listen.
      if (!line.includes('listening')) return undefined;
      try {
        const entry = JSON.parse(line) as { worker?: unknown; port?: unknown; event?: unknown };
        if (entry.worker !== undefined) return undefined;
        return typeof entry.port === 'number' && entry.port > 0 ? String(entry.port) : undefined;
      } catch {
        return undefined;
      }
    },
    shutdownGraceMs,
    (line) => {
      // Every connection is logged; only the stop lines and errors are kept.
      if (line.includes('stopped"')) {
        log.stoppedLines += 1;
        if (line.includes('"forced":true')) log.forcedStops += 1;
        if (line.includes('"event":"server.stopped"')) log.lastWorkerStoppedAt = sharedNowMs();
        if (line.includes('"event":"primary.stopped"')) log.primaryStoppedAt = sharedNowMs();
      }
      if (line.includes('"level":"error"') && log.errorLines.length < 20) log.errorLines.push(line.slice(0, 300));
    },
  );
  return { ...s, log };
}

/**
 * Our CLI as a new user starts it (`npm start`: default flags, human log lines on stdout), on a
 * free loopback port instead of 8028 so that nothing else on the machine is in the way.
 */
export async function startFreshCli(): Promise<RunningServer> {
  return spawned(
    'ours (npm start)',
    process.execPath,
    [cliScript, '--host', '127.0.0.1', '--port', '0'],
    (line) => /^Socket server listening on [^ ]+:(\d+)/.exec(line)?.[1],
    defaultConfig.shutdownGraceMs,
  );
}

