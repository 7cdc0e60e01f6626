// The parent's side of bench/greeting/serverProcess.ts: fork it (with --expose-gc), wait for its port,
// ask it for memory and CPU figures over IPC, stop it. Every wait is bounded by a timeout, and
// a child that does not stop in time is killed (it is our own child, by its handle).

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nextMessageFrom } from '../lib/childMessage.js';
import { isChildMessage, type ChildMessage, type ParentMessage, type ServerKind } from '../lib/ipc.js';
import type { MemoryReport } from '../lib/spawned.js';
import { withTimeout } from '../lib/wait.js';

/** Time for the child to start and report its port. */
const startTimeoutMs = 10_000;
/** Time for one IPC request (a full GC of a few MB takes milliseconds). */
const requestTimeoutMs = 10_000;
/** Time for the child to shut down before it is killed. */
const stopTimeoutMs = 8_000;

const serverScript = fileURLToPath(new URL('./serverProcess.js', import.meta.url));

export interface CpuReport {
  usage: NodeJS.CpuUsage;
  live: number;
}

export interface ForkedServer {
  readonly kind: ServerKind;
  readonly port: number;
  readonly pid: number;
  /** GC twice in the child, then its process.memoryUsage(). */
  memory(): Promise<MemoryReport>;
  /** The child's cumulative process.cpuUsage(). */
  cpu(): Promise<CpuReport>;
  /** Asks the server to shut down; resolves with how the process exited (killed if it did not). */
  stop(): Promise<ForkedExit>;
}

export interface ForkedExit {
  exitCode: number | null;
  signal: string | null;
  killed: boolean;
}

function nextMessage(child: ChildProcess, accept: (m: ChildMessage) => boolean): Promise<ChildMessage> {
  return nextMessageFrom(child, isChildMessage, accept, 'server process');
}

/** `execArgv` adds Node flags (the profiler's --cpu-prof, for one). */
export async function forkServer(kind: ServerKind, execArgv: string[] = []): Promise<ForkedServer> {
  const child = fork(serverScript, [kind], {
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;

  const first = nextMessage(child, (m) => m.type === 'listening' || m.type === 'failed');
  let port: number;
  try {
    const message = await withTimeout(first, startTimeoutMs, `${kind} server start`);
    if (message.type !== 'listening') throw new Error(`${kind} server failed: ${JSON.stringify(message)}`);
    port = message.port;
  } catch (err) {
    child.kill();
    throw err;
  }

  async function request<T extends 'memory' | 'cpu'>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    const id = nextId++;
    const answer = nextMessage(child, (m) => m.type === type && 'id' in m && m.id === id);
    child.send({ type, id } satisfies ParentMessage);
    return (await withTimeout(answer, requestTimeoutMs, `${kind} ${type} request`)) as Extract<ChildMessage, { type: T }>;
  }

  return {
    kind,
    port,
    pid: child.pid ?? -1,
    memory: async () => {
      const m = await request('memory');
      return { usage: m.usage, live: m.live };
    },
    cpu: async () => {
      const m = await request('cpu');
      return { usage: m.usage, live: m.live };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        return { exitCode: child.exitCode, signal: child.signalCode, killed: false };
      }
      const exited = new Promise<ForkedExit>((resolve) =>
        child.once('exit', (exitCode, signal) => resolve({ exitCode, signal, killed: false })),
      );
      child.send({ type: 'stop' } satisfies ParentMessage);
      try {
        return await withTimeout(exited, stopTimeoutMs, `${kind} server stop`);
      } catch {
        child.kill('SIGKILL');
        return { ...(await exited), killed: true };
      }
    },
  };
}
