// The benchmark's side of bench/greeting/loadgenProcess.ts: fork a load-generator process, send it
// requests, await its answers (each bounded by a timeout), stop it. A process that does not
// exit when asked is killed, by its own handle.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nextMessageFrom } from '../lib/childMessage.js';
import type { ClosedLoopOptions, ClosedLoopResult, CloseResult, IdleOptions, IdleResult } from './loadgen.js';
import { isLoadReply, type LoadReply, type LoadRequest } from './loadgenIpc.js';
import { withTimeout } from '../lib/wait.js';

const script = fileURLToPath(new URL('./loadgenProcess.js', import.meta.url));
const startTimeoutMs = 10_000;
const stopTimeoutMs = 5_000;
/** Added to each request's own duration for its answer to arrive. */
const answerMarginMs = 30_000;

type Request = LoadRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface LoadGenerator {
  readonly pid: number;
  closedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult>;
  openIdle(options: IdleOptions): Promise<IdleResult>;
  awaitClose(timeoutMs: number): Promise<CloseResult>;
  release(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function nextReply(child: ChildProcess, accept: (m: LoadReply) => boolean): Promise<LoadReply> {
  return nextMessageFrom(child, isLoadReply, accept, 'load generator');
}

export async function forkLoadGenerator(): Promise<LoadGenerator> {
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await withTimeout(nextReply(child, (m) => m.type === 'ready'), startTimeoutMs, 'load generator start');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let nextId = 1;

  async function request<T>(body: Request, durationMs: number): Promise<T> {
    const id = nextId++;
    const answer = nextReply(child, (m) => m.type !== 'ready' && m.id === id);
    child.send({ ...body, id } as LoadRequest);
    const reply = await withTimeout(answer, durationMs + answerMarginMs, `load generator ${body.type}`);
    if (reply.type === 'error') throw new Error(`load generator ${body.type}: ${reply.message}`);
    if (reply.type !== 'result') throw new Error(`load generator ${body.type}: unexpected ${reply.type}`);
    return reply.result as T;
  }

  return {
    pid: child.pid ?? -1,
    closedLoop: (options) =>
      request({ type: 'closedLoop', options }, options.warmupMs + options.measureMs + 2 * options.drainMs),
    openIdle: (options) => request({ type: 'openIdle', options }, options.timeoutMs),
    awaitClose: (timeoutMs) => request({ type: 'awaitClose', timeoutMs }, timeoutMs),
    release: (timeoutMs) => request({ type: 'release', timeoutMs }, timeoutMs),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      try {
        await withTimeout(exited, stopTimeoutMs, 'load generator stop');
      } catch {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
