// The only code that touches node:cluster. In the primary it turns cluster events into
// primary-machine events and runs the machine's actions (fork, ask to drain, kill, log). In a
// worker it is the IPC side: shutdown requests in, a listen failure out. Workers share the port
// through the primary (Node's round-robin distribution), so each runs the ordinary server.

import cluster, { type Worker } from 'node:cluster';
import { assertEvent, createActor, type Actor } from 'xstate';
import type { Logger } from '../core/logger.js';
import { primaryMachine, type PrimaryMachine } from './primaryMachine.js';

export const isWorker = cluster.isWorker;

/** This process's worker id under `--workers`, or undefined in the primary / a single process. */
export function workerId(): number | undefined {
  return cluster.isWorker ? cluster.worker?.id : undefined;
}

export interface PrimaryOutcome {
  state: 'stopped' | 'failed';
  failure: { code: string; message: string } | null;
  forced: boolean;
}

export interface PrimaryHandle {
  readonly actor: Actor<PrimaryMachine>;
  readonly done: Promise<PrimaryOutcome>;
  shutdown(): void;
  /** Passes a signal on to every living worker (SIGHUP: each reads its config file again). */
  signalWorkers(signal: NodeJS.Signals): void;
}

type WorkerMessage =
  | { type: 'worker.failed'; code: string; message: string }
  /** An operator's REHASH read the config file in this worker: the others read it too. */
  | { type: 'worker.rehashed' };

const isWorkerMessage = (m: unknown): m is WorkerMessage =>
  typeof m === 'object' && m !== null && ['worker.failed', 'worker.rehashed'].includes((m as { type?: unknown }).type as string);

export function startPrimary(options: {
  workers: number;
  shutdownGraceMs: number;
  logger: Logger;
  /** What the workers serve, for the listening line. */
  protocol?: 'greeting' | 'irc';
  /**
   * The host as the operator gave it (`localhost`), for the listening line: the workers name
   * it so, while node:cluster reports the address it resolved to (`127.0.0.1`).
   */
  host?: string;
  /**
   * Addresses each worker claims, one after the other: with --websocket its WebSocket port,
   * then the protocol's port (the CLI binds them in that order). A worker is listening once it
   * has reported the last of them, whose address is the one the listening line shows.
   */
  listeners?: number;
}): PrimaryHandle {
  const { logger } = options;
  const pids = new Map<number, number>();
  let forced = false;
  let address: { host: string; port: number } | null = null;

  const living = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  /** Sends `name` to every living worker but `except`. */
  const signal = (name: NodeJS.Signals, except?: Worker): void => {
    for (const worker of living()) if (worker !== except && !worker.isDead()) worker.process.kill(name);
  };
  function fork(): void {
    const worker = cluster.fork();
    // IPC to a worker that is already going away fails with EPIPE; its 'exit' is what counts.
    worker.on('error', () => {});
    pids.set(worker.id, worker.process.pid ?? 0);
    logger.log('info', 'primary.worker', { worker: worker.id, pid: worker.process.pid ?? 0 });
  }

  const logic = primaryMachine.provide({
    actions: {
      forkWorkers: ({ context }) => {
        for (let i = 0; i < context.workers; i++) fork();
      },
      forkWorker: () => fork(),
      stopWorkers: () => {
        for (const worker of living()) if (worker.isConnected()) worker.send({ type: 'server.shutdown' });
      },
      killWorkers: () => {
        const left = living().filter((w) => !w.isDead());
        forced = forced || left.length > 0;
        for (const worker of left) worker.process.kill('SIGKILL');
      },
      logListening: ({ context }) =>
        logger.log('info', 'primary.listening', {
          host: options.host ?? address?.host ?? '',
          port: address?.port ?? 0,
          workers: context.workers,
          protocol: options.protocol ?? 'greeting',
        }),
      logWorkerDied: ({ event }) => {
        assertEvent(event, 'cluster.exit');
        logger.log('error', 'primary.workerDied', {
          worker: event.workerId,
          pid: event.pid,
          reason: event.signal ?? `exit code ${event.code ?? '?'}`,
        });
      },
      logFailure: ({ context }) =>
        logger.log('error', 'server.failed', {
          code: context.failure?.code ?? 'LISTEN_FAILED',
          message: context.failure?.message ?? 'a worker could not start',
        }),
      logStopping: ({ context }) => logger.log('info', 'primary.stopping', { alive: context.alive }),
      logStopped: () => logger.log('info', 'primary.stopped', { forced }),
    },
  });

  const actor = createActor(logic, { input: { workers: options.workers, shutdownGraceMs: options.shutdownGraceMs } });

  const listeners = options.listeners ?? 1;
  /** How many of its addresses each worker has reported listening on. */
  const reported = new Map<number, number>();
  cluster.on('listening', function clusterOnListening(worker, where) {
    const claimed = (reported.get(worker.id) ?? 0) + 1;
    reported.set(worker.id, claimed);
    if (claimed < listeners) return;
    address ??= { host: where.address ?? '', port: where.port };
    actor.send({ type: 'cluster.listening', workerId: worker.id, address: where.address ?? '', port: where.port });
  });
  cluster.on('message', function clusterOnMessage(worker, message: unknown) {
    if (!isWorkerMessage(message)) return;
    if (message.type === 'worker.failed') {
      actor.send({ type: 'cluster.failed', workerId: worker.id, code: message.code, message: message.message });
    } else {
      // As SIGHUP would: every other worker reads the file's operators again, so an operator
      // added or removed is so on the whole port, not only on the worker that took the REHASH.
      signal('SIGHUP', worker);
    }
  });
  cluster.on('exit', function clusterOnExit(worker, code, signal) {
    reported.delete(worker.id);
    actor.send({ type: 'cluster.exit', workerId: worker.id, pid: pids.get(worker.id) ?? 0, code, signal });
    pids.delete(worker.id);
  });

  const done = new Promise<PrimaryOutcome>((resolve) => {
    actor.subscribe({
      complete: () => {
        const snapshot = actor.getSnapshot();
        resolve({ state: snapshot.matches('failed') ? 'failed' : 'stopped', failure: snapshot.context.failure, forced });
      },
      error: (err) => {
        logger.log('error', 'server.crashed', { message: err instanceof Error ? err.message : String(err) });
        for (const worker of living()) worker.process.kill('SIGKILL');
        resolve({ state: 'failed', failure: null, forced: true });
      },
    });
  });

  actor.start();
  actor.send({ type: 'server.start' });
  return {
    actor,
    done,
    shutdown: () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'server.shutdown' });
    },
    signalWorkers: (name) => signal(name),
  };
}

/** Worker side: calls `onShutdown` when the primary asks this worker to drain. */
export function onPrimaryShutdown(onShutdown: () => void): void {
  // The same on this side: once the primary is gone, IPC writes fail; nothing to do about it.
  cluster.worker?.on('error', () => {});
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'server.shutdown') {
      onShutdown();
    }
  });
}

/** Worker side: tells the primary why this worker's server could not start. */
export function reportFailure(code: string, message: string): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send({ type: 'worker.failed', code, message } satisfies WorkerMessage, () => resolve());
  });
}

/** Worker side: an operator's REHASH read the config file here; the primary has the others read it. */
export function shareRehash(): void {
  if (process.connected) process.send?.({ type: 'worker.rehashed' } satisfies WorkerMessage);
}

/** Worker side: closes the IPC channel once the server has stopped, so the process can end. */
export function leaveCluster(): void {
  if (process.connected) process.disconnect();
}
