// The parent's side of bench/soak/server.ts: fork it with --expose-gc, wait for its port, ask it
// for memory (after a GC) and CPU over the messages of bench/lib/ipc.ts, count its open file
// descriptors in /proc/<pid>/fd, and stop it through IPC, reporting how it exited. Every wait is
// bounded; a child that does not exit in time is killed (our own child, by its handle).

import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nextMessageFrom } from '../lib/childMessage.js';
import { isChildMessage, type ChildMessage, type ParentMessage } from '../lib/ipc.js';
import { soakServerConfig } from './config.js';

/** Time for the child to start and report its port. */
const startTimeoutMs = 10_000;
/** Time for one IPC request (two full GCs of a few MB take milliseconds, even under load). */
const requestTimeoutMs = 10_000;
/** Time for the child to exit after `stop`: the server's grace period plus the child's margin. */
const stopTimeoutMs = soakServerConfig.shutdownGraceMs + 5_000;

const serverScript = fileURLToPath(new URL('./server.js', import.meta.url));

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the child did not exit by itself within stopTimeoutMs and was killed. */
  killed: boolean;
}

export interface FdCount {
  /** Entries in /proc/<pid>/fd; NaN where /proc is not readable. */
  total: number;
  /** Of those, sockets (TCP connections and the listener, and the IPC channel). */
  sockets: number;
}

export interface SoakServer {
  readonly pid: number;
  readonly port: number;
  /** Set once the child has exited, for whatever reason. */
  exited(): ServerExit | null;
  /** Resolves when the child exits (a soak watches this to stop early if the server dies). */
  readonly exit: Promise<ServerExit>;
  /** Two GCs in the child, then its process.memoryUsage() and live connection count. */
  memory(): Promise<{ usage: NodeJS.MemoryUsage; live: number }>;
  /** The child's cumulative process.cpuUsage() and live connection count (no GC). */
  cpu(): Promise<{ usage: NodeJS.CpuUsage; live: number }>;
  /** The child's open file descriptors, from /proc/<pid>/fd. */
  fds(): FdCount;
  /** Sends `stop` and waits for the child to exit (killing it after stopTimeoutMs). */
  stop(): Promise<ServerExit>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function nextMessage(child: ChildProcess, accept: (m: ChildMessage) => boolean): Promise<ChildMessage> {
  return nextMessageFrom(child, isChildMessage, accept, 'server process');
}

export async function forkSoakServer(): Promise<SoakServer> {
  const child = fork(serverScript, [], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exitInfo: ServerExit | null = null;
  let killed = false;
  const exit = new Promise<ServerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, killed };
      resolve(exitInfo);
    });
  });
  let nextId = 1;

  let port: number;
  try {
    const first = nextMessage(child, (m) => m.type === 'listening' || m.type === 'failed');
    const message = await withTimeout(first, startTimeoutMs, 'soak server start');
    if (message.type !== 'listening') throw new Error(`soak server failed: ${JSON.stringify(message)}`);
    port = message.port;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (child.pid === undefined) throw new Error('soak server has no pid');
  const pid = child.pid;

  async function request<T extends 'memory' | 'cpu'>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    if (exitInfo) throw new Error(`soak server ${type} request: the server process has exited`);
    const id = nextId++;
    const answer = nextMessage(child, (m) => m.type === type && 'id' in m && m.id === id);
    // With a callback, a send on a channel that has just closed reports there instead of as an
    // 'error' event on the child; the exit (or the timeout) then rejects `answer`.
    child.send({ type, id } satisfies ParentMessage, () => {});
    return (await withTimeout(answer, requestTimeoutMs, `soak server ${type} request`)) as Extract<
      ChildMessage,
      { type: T }
    >;
  }

  return {
    pid,
    port,
    exit,
    exited: () => exitInfo,
    memory: async () => {
      const m = await request('memory');
      return { usage: m.usage, live: m.live };
    },
    cpu: async () => {
      const m = await request('cpu');
      return { usage: m.usage, live: m.live };
    },
    fds: () => {
      const dir = `/proc/${pid}/fd`;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return { total: Number.NaN, sockets: Number.NaN };
      }
      let sockets = 0;
      for (const name of names) {
        try {
          if (readlinkSync(`${dir}/${name}`).startsWith('socket:')) sockets += 1;
        } catch {
          // Closed between readdir and readlink: not open any more.
        }
      }
      return { total: names.length, sockets };
    },
    stop: async () => {
      if (exitInfo) return exitInfo;
      child.send({ type: 'stop' } satisfies ParentMessage, () => {});
      try {
        return await withTimeout(exit, stopTimeoutMs, 'soak server stop');
      } catch {
        killed = true;
        child.kill('SIGKILL');
        return exit;
      }
    },
  };
}
