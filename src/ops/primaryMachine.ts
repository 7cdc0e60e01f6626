// The primary process of `--workers N`: start N worker processes that share the port, keep N
// running (a worker that dies is replaced and the death logged), and on shutdown have every
// worker drain within the grace period before exiting. It decides; src/ops/cluster.ts owns
// node:cluster, turns its events into the `cluster.*` events below and runs the actions.

import { assertEvent, assign, setup } from 'xstate';

export interface PrimaryInput {
  workers: number;
  /** The workers' own grace period; the primary waits this plus a margin, then kills. */
  shutdownGraceMs: number;
}

export interface PrimaryContext extends PrimaryInput {
  /** Worker processes alive now. */
  alive: number;
  /** Workers whose server is listening. */
  listening: number;
  /** Workers started to replace ones that died. */
  restarts: number;
  /** Why starting failed: the first worker's own failure. */
  failure: { code: string; message: string } | null;
}

export type PrimaryEvent =
  | { type: 'server.start' }
  | { type: 'server.shutdown' }
  | { type: 'cluster.listening'; workerId: number; address: string; port: number }
  | { type: 'cluster.failed'; workerId: number; code: string; message: string }
  | { type: 'cluster.exit'; workerId: number; pid: number; code: number | null; signal: string | null };

export const primaryEventSources: Record<PrimaryEvent['type'], string> = {
  'server.start': 'the CLI, once, with `--workers N` (N > 1)',
  'server.shutdown': 'SIGINT / SIGTERM in the primary; a second one kills the workers at once',
  'cluster.listening': "`'listening'` on `node:cluster`: a worker's server is accepting on the shared port",
  'cluster.failed': "a worker's IPC message: its server could not claim the address (it then exits 1)",
  'cluster.exit': "`'exit'` on `node:cluster`: a worker process ended (code or signal)",
};

/** How long the primary waits for workers after asking them to stop, beyond their grace. */
export const primaryKillMarginMs = 1_000;

export const primaryMachine = setup({
  types: {
    context: {} as PrimaryContext,
    events: {} as PrimaryEvent,
    input: {} as PrimaryInput,
  },
  actions: {
    // Side effects, provided by the adapter.
    /** Fork `context.workers` worker processes. */
    forkWorkers: () => {},
    /** Fork one worker to replace one that died. */
    forkWorker: () => {},
    /** Ask every worker to shut down (IPC `server.shutdown`). */
    stopWorkers: () => {},
    /** SIGKILL every worker still alive. */
    killWorkers: () => {},
    logListening: () => {},
    logWorkerDied: () => {},
    logFailure: () => {},
    logStopping: () => {},
    logStopped: () => {},

    countForked: assign({ alive: ({ context }) => context.workers }),
    countRestart: assign({
      alive: ({ context }) => context.alive + 1,
      restarts: ({ context }) => context.restarts + 1,
    }),
    countListening: assign({ listening: ({ context }) => context.listening + 1 }),
    countExit: assign({
      alive: ({ context }) => Math.max(0, context.alive - 1),
      listening: ({ context }) => Math.max(0, context.listening - 1),
    }),
    recordFailure: assign({
      failure: ({ context, event }) => {
        assertEvent(event, 'cluster.failed');
        return context.failure ?? { code: event.code, message: event.message };
      },
    }),
  },
  guards: {
    /** This listening worker is the last one the primary was waiting for. */
    isLastToListen: ({ context }) => context.listening + 1 >= context.workers,
    /** The worker that exited now was the last one alive. */
    isLastAlive: ({ context }) => context.alive <= 1,
    hasNoWorkersAlive: ({ context }) => context.alive === 0,
  },
  delays: {
    killAfter: ({ context }) => context.shutdownGraceMs + primaryKillMarginMs,
  },
}).createMachine({
  id: 'primary',
  description: 'The primary process of --workers N: keeps N servers running on one port, drains them on shutdown.',
  context: ({ input }) => ({ ...input, alive: 0, listening: 0, restarts: 0, failure: null }),
  initial: 'idle',
  states: {
    idle: {
      description: 'Nothing started yet.',
      on: { 'server.start': { target: 'starting', actions: ['countForked', 'forkWorkers'] } },
    },
    starting: {
      description: 'Workers forked; waiting for every one to listen. A worker that cannot listen fails the start.',
      on: {
        'cluster.listening': [
          { guard: 'isLastToListen', target: 'running', actions: ['countListening', 'logListening'] },
          { actions: 'countListening' },
        ],
        'cluster.failed': { target: 'failing', actions: ['recordFailure', 'logFailure'] },
        // Dying before listening without saying why is a failure too: do not restart in a loop.
        'cluster.exit': { target: 'failing', actions: 'countExit' },
        'server.shutdown': 'stopping',
      },
    },
    running: {
      description: 'Every worker is serving. A worker that dies is logged and replaced.',
      on: {
        'cluster.listening': { actions: 'countListening' },
        'cluster.exit': { actions: ['countExit', 'logWorkerDied', 'countRestart', 'forkWorker'] },
        'server.shutdown': 'stopping',
      },
    },
    stopping: {
      description: 'Every worker was asked to drain; waiting for all to exit, up to their grace period plus a margin.',
      entry: ['logStopping', 'stopWorkers'],
      after: { killAfter: { target: 'stopped', actions: 'killWorkers' } },
      on: {
        'cluster.exit': [{ guard: 'isLastAlive', target: 'stopped', actions: 'countExit' }, { actions: 'countExit' }],
        'server.shutdown': { target: 'stopped', actions: 'killWorkers' },
      },
    },
    failing: {
      description: 'A worker could not start: the others are stopped before the primary exits 1.',
      entry: 'stopWorkers',
      after: { killAfter: { target: 'failed', actions: 'killWorkers' } },
      always: { guard: 'hasNoWorkersAlive', target: 'failed' },
      on: {
        'cluster.failed': { actions: 'recordFailure' },
        'cluster.exit': [{ guard: 'isLastAlive', target: 'failed', actions: 'countExit' }, { actions: 'countExit' }],
      },
    },
    stopped: {
      description: 'Every worker has exited (or was killed when the grace period ran out).',
      type: 'final',
      entry: 'logStopped',
    },
    failed: {
      description: 'The servers could not start (the address could not be claimed).',
      type: 'final',
    },
  },
});

export type PrimaryMachine = typeof primaryMachine;
