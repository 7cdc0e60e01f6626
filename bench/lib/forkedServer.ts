// A server under test alone in a forked process, so that its heap, CPU and descriptors are its
// own and not the load generator's: the messages over the IPC channel (a request carries an id
// that its answer repeats), the child's side (serveForked: report the port, answer readings, stop
// when told) and the parent's (forkServerProcess). The greeting benchmark's server and the soak's
// both run this way. Every wait is bounded; a child that does not stop in time is killed (our
// own child, by its handle).

import { fork } from 'node:child_process';
import { isTyped, nextMessageFrom } from './ipc.js';
import { withTimeout } from './wait.js';

type ParentMessage =
  /** Run a full GC (twice) and report process.memoryUsage(). */
  | { type: 'memory'; id: number }
  /** Report process.cpuUsage() (cumulative since the child started). */
  | { type: 'cpu'; id: number }
  /** Shut the server down and exit. */
  | { type: 'stop' };

type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'memory'; id: number; usage: NodeJS.MemoryUsage; live: number }
  | { type: 'cpu'; id: number; usage: NodeJS.CpuUsage; live: number };

// --- The child -------------------------------------------------------------------------------

/** The server a child runs. */
export interface ServedServer {
  listening: Promise<{ port: number }>;
  liveConnections(): number;
  /** Shuts the server down; resolves with the exit code that says how (0: a clean stop). */
  stop(): Promise<number>;
}

/** A full collection, twice: the second one frees what finalizers of the first released. */
async function collect(name: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error(`${name} needs --expose-gc`);
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/**
 * In the child: starts the server, reports its port, answers the parent's readings. On `stop` it
 * exits with the code the server's stop resolves to, or with `stopTimeout.exitCode` if that takes
 * longer than `stopTimeout.ms`.
 */
export function serveForked(name: string, start: () => ServedServer, stopTimeout: { ms: number; exitCode: number }): void {
  if (!process.send) {
    process.stderr.write(`${name} must be started with child_process.fork\n`);
    process.exit(2);
  }
  const send = (message: ChildMessage): void => void process.send?.(message);
  const server = start();
  server.listening.then(
    ({ port }) => send({ type: 'listening', port }),
    (err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    },
  );
  let stopping = false;
  process.on('message', (message: unknown) => {
    if (!isTyped(message)) return;
    const m = message as ParentMessage;
    switch (m.type) {
      case 'memory':
        void collect(name).then(() => send({ type: 'memory', id: m.id, usage: process.memoryUsage(), live: server.liveConnections() }));
        break;
      case 'cpu':
        send({ type: 'cpu', id: m.id, usage: process.cpuUsage(), live: server.liveConnections() });
        break;
      case 'stop':
        if (stopping) return;
        stopping = true;
        setTimeout(() => {
          process.stderr.write(`${name}: no stop within ${stopTimeout.ms} ms\n`);
          process.exit(stopTimeout.exitCode);
        }, stopTimeout.ms).unref();
        void server.stop().then((code) => process.exit(code));
        break;
    }
  });
  // The parent went away: do not outlive it.
  process.on('disconnect', () => {
    if (!stopping) process.exit(0);
  });
}

// --- The parent ------------------------------------------------------------------------------

/** Time for the child to start and report its port. */
const startTimeoutMs = 10_000;
/** Time for one reading (two full GCs of a few MB take milliseconds, even under load). */
const requestTimeoutMs = 10_000;

export interface ForkedExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** It did not exit by itself in time and was killed. */
  killed: boolean;
}

export interface ForkedServer {
  readonly pid: number;
  readonly port: number;
  /** Resolves when the child exits, for whatever reason. */
  readonly exit: Promise<ForkedExit>;
  /** Two GCs in the child, then its process.memoryUsage() and the connections it says are live. */
  memory(): Promise<{ usage: NodeJS.MemoryUsage; live: number }>;
  /** The child's cumulative process.cpuUsage() and live connections (no GC). */
  cpu(): Promise<{ usage: NodeJS.CpuUsage; live: number }>;
  /** Asks the server to shut down; resolves with how the process exited (killed after stopTimeoutMs). */
  stop(): Promise<ForkedExit>;
}

export interface ForkOptions {
  /** Names the server in errors. */
  what: string;
  /** Node flags besides --expose-gc (the profiler's --cpu-prof, for one). */
  execArgv?: string[];
  /** Time for the child to exit after `stop` before it is killed. */
  stopTimeoutMs: number;
}

/** Forks `script` (a serveForked child) with --expose-gc and waits for its port. */
export async function forkServerProcess(script: string, args: string[], o: ForkOptions): Promise<ForkedServer> {
  const child = fork(script, args, { execArgv: ['--expose-gc', ...(o.execArgv ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let exitInfo: ForkedExit | null = null;
  let killed = false;
  const exit = new Promise<ForkedExit>((resolve) => {
    child.once('exit', (exitCode, signal) => {
      exitInfo = { exitCode, signal, killed };
      resolve(exitInfo);
    });
  });
  const next = (accept: (m: ChildMessage) => boolean): Promise<ChildMessage> =>
    nextMessageFrom(child, (v): v is ChildMessage => isTyped(v), accept, `${o.what} process`);
  let port: number;
  try {
    const message = await withTimeout(next((m) => m.type === 'listening' || m.type === 'failed'), startTimeoutMs, `${o.what} start`);
    if (message.type !== 'listening') throw new Error(`${o.what} failed: ${JSON.stringify(message)}`);
    port = message.port;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let nextId = 1;
  async function request<T extends 'memory' | 'cpu'>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    if (exitInfo) throw new Error(`${o.what} ${type} request: the server process has exited`);
    const id = nextId++;
    const answer = next((m) => m.type === type && 'id' in m && m.id === id);
    // With a callback, a send on a channel that has just closed reports there instead of as an
    // 'error' event on the child; the exit (or the timeout) then rejects `answer`.
    child.send({ type, id } satisfies ParentMessage, () => {});
    return (await withTimeout(answer, requestTimeoutMs, `${o.what} ${type} request`)) as Extract<ChildMessage, { type: T }>;
  }
  return {
    pid: child.pid ?? -1,
    port,
    exit,
    memory: async () => {
      const m = await request('memory');
      return { usage: m.usage, live: m.live };
    },
    cpu: async () => {
      const m = await request('cpu');
      return { usage: m.usage, live: m.live };
    },
    stop: async () => {
      if (exitInfo) return exitInfo;
      child.send({ type: 'stop' } satisfies ParentMessage, () => {});
      try {
        return await withTimeout(exit, o.stopTimeoutMs, `${o.what} stop`);
      } catch {
        killed = true;
        child.kill('SIGKILL');
        return exit;
      }
    },
  };
}
