// Every server the greeting benchmark measures, started the same way from the benchmark's point
// of view (lib/spawn.ts: a port on 127.0.0.1, a process tree, a stop that says how it went):
//
//   ours         startServer from src/ in a forked process (serverProcess.ts), silent logger
//   bare         baselines/bareNetServer.ts in the same kind of forked process
//   python       baselines/blocking_server.py, the article's one-client-at-a-time server
//   oursCluster  our CLI, `node dist/src/cli/server.js --workers N` (JSON log read for the port)
//   bareCluster  baselines/bareClusterServer.ts, the bare server in N cluster workers

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/core/config.js';
import { forkServerProcess, type ForkedServer } from '../lib/forkedServer.js';
import { host } from '../lib/loopback.js';
import { processTree } from '../lib/procfs.js';
import { root } from '../lib/resultsFile.js';
import { cliScript, spawned, type RunningServer } from '../lib/spawn.js';
import { sharedNowMs } from '../lib/wait.js';
import { serverLabels, type ServerName } from './results.js';

const pythonScript = `${root}bench/greeting/baselines/blocking_server.py`;
const serverScript = fileURLToPath(new URL('./serverProcess.js', import.meta.url));
const bareClusterScript = fileURLToPath(new URL('./baselines/bareClusterServer.js', import.meta.url));

/** The servers' reply deadline: long enough that no idle client is timed out while it is held. */
export const benchReplyTimeoutMs = 10 * 60_000;

/** The Python server's per-client timeout: how long one silent client blocks everyone. */
export const pythonClientTimeoutS = 5;

/** Time for a forked server to shut down before it is killed. */
const forkedStopTimeoutMs = 8_000;

/** A running server; the forked single-process ones can also tell their heap after a full GC. */
export interface ServerUnderTest extends RunningServer {
  memory?: ForkedServer['memory'];
}

/** Ours or bare in a forked process; `execArgv` adds Node flags (the profiler's --cpu-prof, for one). */
export async function forkServer(kind: 'ours' | 'bare', execArgv: string[] = []): Promise<ServerUnderTest> {
  const server = await forkServerProcess(serverScript, [kind === 'ours' ? 'ours' : 'baseline'], {
    what: `${kind} server`,
    execArgv,
    stopTimeoutMs: forkedStopTimeoutMs,
  });
  return {
    name: serverLabels[kind],
    port: server.port,
    pid: server.pid,
    pids: () => processTree(server.pid),
    memory: () => server.memory(),
    stop: async () => {
      const t0 = performance.now();
      const exit = await server.stop();
      return { ms: performance.now() - t0, ...exit };
    },
  };
}

/** One of the single-process servers: ours and bare forked, python spawned. */
export async function startServerUnderTest(name: ServerName): Promise<ServerUnderTest> {
  if (name === 'ours' || name === 'bare') return forkServer(name);
  return spawned(
    serverLabels.python,
    'python3',
    [pythonScript, '--backlog', String(defaultConfig.listenBacklog), '--timeout', String(pythonClientTimeoutS)],
    (line) => /^listening (\d+)$/.exec(line)?.[1],
    5_000,
  );
}

export interface ClusterLog {
  /** Log lines that said a stop was forced. */
  forcedStops: number;
  /** Shared-clock time of the last worker's `server.stopped` and of `primary.stopped` (NaN if none). */
  lastWorkerStoppedAt: number;
  primaryStoppedAt: number;
}

export interface ClusterServer extends ServerUnderTest {
  /** What the server's log said when it stopped (ours only). */
  readonly log: ClusterLog;
}

/** Our CLI with --workers N, or the bare cluster baseline. */
export async function startCluster(kind: 'ours' | 'bare', workers: number, shutdownGraceMs: number): Promise<ClusterServer> {
  const log: ClusterLog = { forcedStops: 0, lastWorkerStoppedAt: Number.NaN, primaryStoppedAt: Number.NaN };
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
    host,
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
        const entry = JSON.parse(line) as { worker?: unknown; port?: unknown };
        if (entry.worker !== undefined) return undefined;
        return typeof entry.port === 'number' && entry.port > 0 ? String(entry.port) : undefined;
      } catch {
        return undefined;
      }
    },
    shutdownGraceMs,
    (line) => {
      // Every connection is logged; only the stop lines are read.
      if (!line.includes('stopped"')) return;
      if (line.includes('"forced":true')) log.forcedStops += 1;
      if (line.includes('"event":"server.stopped"')) log.lastWorkerStoppedAt = sharedNowMs();
      if (line.includes('"event":"primary.stopped"')) log.primaryStoppedAt = sharedNowMs();
    },
  );
  return { ...s, log };
}

/**
 * Our CLI as a new user starts it (`npm start`: default flags, human log lines on stdout), on a
 * free loopback port instead of 8028 so that nothing else on the machine is in the way.
 */
export async function startFreshCli(): Promise<ServerUnderTest> {
  return spawned(
    'ours (npm start)',
    process.execPath,
    [cliScript, '--host', host, '--port', '0'],
    (line) => /^Socket server listening on [^ ]+:(\d+)/.exec(line)?.[1],
    defaultConfig.shutdownGraceMs,
  );
}
