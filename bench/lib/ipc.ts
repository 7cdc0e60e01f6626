// Talking to a forked child over the IPC channel that child_process.fork opens. A worker (a load
// generator) says `ready`, then answers requests, each carrying an id that its answer repeats;
// a forked server under test (lib/forkedServer.ts) speaks its own messages the same way. Every
// wait is bounded, and a child that does not exit when asked is killed, by its own handle.

import { fork, type ChildProcess } from 'node:child_process';
import { withTimeout } from './wait.js';

/** The child's next IPC message that passes `accept`, or its exit (an error naming `what`). */
export function nextMessageFrom<T>(
  child: ChildProcess,
  isMessage: (value: unknown) => value is T,
  accept: (message: T) => boolean,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const childOnMessage = (message: unknown): void => {
      if (!isMessage(message) || !accept(message)) return;
      cleanUp();
      resolve(message);
    };
    const childOnExit = (code: number | null, signal: string | null): void => {
      cleanUp();
      reject(new Error(`${what} exited (code ${code}, signal ${signal})`));
    };
    const cleanUp = (): void => {
      child.off('message', childOnMessage);
      child.off('exit', childOnExit);
    };
    child.on('message', childOnMessage);
    child.on('exit', childOnExit);
  });
}

/** Any message with a string `type`: the only shape either side relies on before it switches. */
export const isTyped = (value: unknown): value is { type: string } =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

// --- Workers ---------------------------------------------------------------------------------

type WorkerReply = { type: 'ready' } | { type: 'result'; id: number; result: unknown } | { type: 'error'; id: number; message: string };

/**
 * In the worker: says `ready`, then answers each request (an object with a numeric id) with what
 * `handle` resolves to, or with its error; exits when the benchmark goes away.
 */
export function serveRequests<R extends { type: string; id: number }>(name: string, handle: (request: R) => Promise<unknown>): void {
  if (!process.send) {
    process.stderr.write(`${name} must be started with child_process.fork\n`);
    process.exit(2);
  }
  const reply = (message: WorkerReply): void => void process.send?.(message);
  process.on('message', (message: unknown) => {
    if (typeof message !== 'object' || message === null || typeof (message as { id?: unknown }).id !== 'number') return;
    const request = message as R;
    Promise.resolve()
      .then(() => handle(request))
      .then(
        (result) => reply({ type: 'result', id: request.id, result }),
        (err: unknown) => reply({ type: 'error', id: request.id, message: err instanceof Error ? err.message : String(err) }),
      );
  });
  // The benchmark went away: do not outlive it.
  process.on('disconnect', () => process.exit(0));
  reply({ type: 'ready' });
}

/** The benchmark's handle on a worker. */
export interface Worker<B extends { type: string }> {
  readonly pid: number;
  /** One request; its answer within `durationMs` (the work's own bound) plus the worker's margin. */
  request<T>(body: B, durationMs: number): Promise<T>;
  /** Disconnects, which ends the worker; kills it if it has not exited within a bound. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Names the worker in errors. */
  what: string;
  /** Added to each request's own bound for its answer to arrive. */
  answerMarginMs: number;
  /** Told the child's pid when it is forked and when it is gone (a benchmark that kills what is left on its way out). */
  onFork?: (pid: number | undefined) => void;
  onGone?: (pid: number | undefined) => void;
}

const workerStartTimeoutMs = 10_000;
const workerStopTimeoutMs = 5_000;

/** Forks `script` with `args` and waits for its `ready`. */
export async function forkWorker<B extends { type: string }>(script: string, args: string[], o: WorkerOptions): Promise<Worker<B>> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  o.onFork?.(child.pid);
  const next = (accept: (m: WorkerReply) => boolean): Promise<WorkerReply> =>
    nextMessageFrom(child, (v): v is WorkerReply => isTyped(v), accept, o.what);
  try {
    await withTimeout(next((m) => m.type === 'ready'), workerStartTimeoutMs, `${o.what} start`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  let nextId = 1;
  return {
    pid: child.pid ?? -1,
    async request<T>(body: B, durationMs: number): Promise<T> {
      const id = nextId++;
      const answer = next((m) => m.type !== 'ready' && m.id === id);
      child.send({ ...body, id });
      const reply = await withTimeout(answer, durationMs + o.answerMarginMs, `${o.what} ${body.type}`);
      if (reply.type === 'error') throw new Error(`${o.what} ${body.type}: ${reply.message}`);
      if (reply.type !== 'result') throw new Error(`${o.what} ${body.type}: unexpected ${reply.type}`);
      return reply.result as T;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.disconnect();
        try {
          await withTimeout(exited, workerStopTimeoutMs, `${o.what} stop`);
        } catch {
          child.kill('SIGKILL');
          await exited;
        }
      }
      o.onGone?.(child.pid);
    },
  };
}
