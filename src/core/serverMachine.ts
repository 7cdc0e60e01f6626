// The life of the listening server: claim the address, serve clients up to a cap, shut down on
// command. It decides; the adapter (src/core/listener.ts) owns the net.Server and turns
// its events into the `net.*` events below, and runs the actions named here.
//
// Node's `server.listen()` binds and listens in one call and reports both with one
// `'listening'` event, so there is no moment that is "bound but not listening" to observe.
// `bound` is therefore the parent of every state that holds the address; inside it,
// `listening` / `accepting` / `full` say how many clients are being served.
//
// The machine is not stepped for every client. States tagged `admitting` (listening,
// accepting) admit a new socket as they are: the listener reads the tag and starts the session
// without asking. The listener counts sessions (a fact, like net.Server's connection count) and
// reports the count as `sessions.changed` only when it crosses a boundary the guards read: none
// ↔ some, and full ↔ not full. Between those no decision can change, and two steps per client
// (accept and close) would cost ~13 µs of CPU per connection (docs/benchmarks.md). A socket arriving
// in any other state (full, stopping) is handed to the machine as `net.connection`, and the
// machine turns it away.

import { assertEvent, assign, setup } from 'xstate';
import { type ErrorCode, listenFailure } from './errors.js';

export interface ServerInput {
  host: string;
  port: number;
  maxConnections: number;
  shutdownGraceMs: number;
}

export interface ServerContext extends ServerInput {
  /** The address actually claimed (port 0 becomes a real port). */
  address: { host: string; port: number } | null;
  /**
   * Sessions open, as of the last `sessions.changed`: exact at the boundaries the listener
   * reports (0, 1, maxConnections − 1, maxConnections), which are the only values decided on.
   */
  sessions: number;
  /** Clients turned away (full, or stopping). */
  rejected: number;
  /** Why the address could not be claimed. */
  failure: { code: ErrorCode; message: string } | null;
}

export type ServerEvent =
  // Commands, from the CLI (or whoever embeds the server).
  | { type: 'server.start' }
  | { type: 'server.shutdown' }
  // From the net.Server adapter, one per node:net server event (a WebSocket client the
  // listener adopts arrives as a `net.connection` too).
  | { type: 'net.listening'; host: string; port: number }
  | { type: 'net.error'; code: string; message: string }
  | { type: 'net.connection'; id: number; remote: string }
  | { type: 'net.close' }
  // From the listener's session count, when it crosses none ↔ some or full ↔ not full.
  | { type: 'sessions.changed'; sessions: number };

export const serverEventSources: Record<ServerEvent['type'], string> = {
  'server.start': '`startServer()` (the CLI calls it once)',
  'server.shutdown': 'SIGINT / SIGTERM in the CLI, or `ServerHandle.shutdown()`; a second one forces the stop',
  'net.listening': "`'listening'` on the `net.Server`: the address is bound and listening",
  'net.error':
    "`'error'` on the `net.Server`: while binding it means the address could not be claimed (EADDRINUSE, EACCES, ...); later it is an accept error (EMFILE, ...)",
  'net.connection':
    "`'connection'` on the `net.Server` (socket accepted paused), or a client adopted from another transport (a WebSocket), while the machine is not `admitting`: full or stopping",
  'net.close': "`'close'` on the `net.Server`: it stopped listening and every socket it accepted is closed",
  'sessions.changed':
    'the listener\'s session count crossed 0 ↔ 1 or maxConnections − 1 ↔ maxConnections (a session started, or its actor reached its final state)',
};

/** How a listen failure is kept in the snapshot: code and one sentence. */
export type ServerFailure = NonNullable<ServerContext['failure']>;

/** The session count a guard decides on: the event's when it reports one, else the last known. */
function sessionsAfter(context: ServerContext, event: ServerEvent): number {
  return event.type === 'sessions.changed' ? event.sessions : context.sessions;
}

export const serverMachine = setup({
  types: {
    context: {} as ServerContext,
    events: {} as ServerEvent,
    input: {} as ServerInput,
  },
  actions: {
    // Side effects, provided by the adapter.
    /** `server.listen({ host, port })`. */
    listen: () => {},
    logListening: () => {},
    logFailure: () => {},
    logServerError: () => {},
    /** Send `error <code>` to the socket with this id and close it. */
    rejectConnection: (_, _params: { code: ErrorCode }) => {},
    /** `server.close()`: stop accepting. Node emits 'close' once every socket has closed. */
    closeListener: () => {},
    /** Send `server.shutdown` to every live connection actor. */
    notifyConnections: () => {},
    /** Destroy every socket still open: the grace period is over, or a second shutdown asked. */
    destroyConnections: (_, _params: { why: 'grace' | 'forced' }) => {},
    /** Says how many sessions are being closed (the listener's count). */
    logStopping: () => {},
    logStopped: () => {},

    recordAddress: assign({
      address: ({ event }) => {
        assertEvent(event, 'net.listening');
        return { host: event.host, port: event.port };
      },
    }),
    recordFailure: assign({
      failure: ({ context, event }) => {
        assertEvent(event, 'net.error');
        const failure = listenFailure(event.code, event.message, context.host, context.port);
        return { code: failure.code, message: failure.message };
      },
    }),
    countRejected: assign({ rejected: ({ context }) => context.rejected + 1 }),
    recordSessions: assign({
      sessions: ({ event }) => {
        assertEvent(event, 'sessions.changed');
        return event.sessions;
      },
    }),
  },
  guards: {
    /** Every slot is taken. */
    isFull: ({ context, event }) => sessionsAfter(context, event) >= context.maxConnections,
    /** No session is open. */
    hasNoSessions: ({ context, event }) => sessionsAfter(context, event) === 0,
  },
  delays: {
    shutdownGrace: ({ context }) => context.shutdownGraceMs,
  },
}).createMachine({
  id: 'server',
  description: 'The listening server: claims host:port, serves up to maxConnections clients, shuts down on command.',
  context: ({ input }) => ({
    ...input,
    address: null,
    sessions: 0,
    rejected: 0,
    failure: null,
  }),
  initial: 'idle',
  states: {
    idle: {
      description: 'Created; nothing claimed yet.',
      on: { 'server.start': 'binding' },
    },
    binding: {
      description: '`listen()` called: resolving the host, binding and listening happen in this one call.',
      entry: 'listen',
      on: {
        'net.listening': { target: 'bound', actions: ['recordAddress', 'logListening'] },
        'net.error': { target: 'failed', actions: ['recordFailure', 'logFailure'] },
        'server.shutdown': 'abandoning',
      },
    },
    abandoning: {
      description:
        'Shutdown asked while `listen()` is in flight. Node cannot close a server mid-listen (under node:cluster it crashes), so wait for its answer.',
      on: {
        'net.listening': { target: 'stopping', actions: 'recordAddress' },
        'net.error': 'stopped',
      },
    },
    bound: {
      description: 'The address is ours and the kernel is completing handshakes for us.',
      initial: 'listening',
      on: {
        'server.shutdown': 'stopping',
        'net.error': { actions: 'logServerError' },
      },
      states: {
        listening: {
          description: 'No client connected; a new one is admitted as it comes.',
          tags: ['admitting'],
          on: {
            'sessions.changed': [
              { guard: 'isFull', target: 'full', actions: 'recordSessions' },
              { guard: 'hasNoSessions', actions: 'recordSessions' },
              { target: 'accepting', actions: 'recordSessions' },
            ],
          },
        },
        accepting: {
          description: 'Serving clients, with room for more: a new one is admitted as it comes.',
          tags: ['admitting'],
          on: {
            'sessions.changed': [
              { guard: 'isFull', target: 'full', actions: 'recordSessions' },
              { guard: 'hasNoSessions', target: 'listening', actions: 'recordSessions' },
              { actions: 'recordSessions' },
            ],
          },
        },
        full: {
          description: 'At maxConnections: new clients are told the server is busy and closed; the others are served.',
          on: {
            'net.connection': {
              actions: ['countRejected', { type: 'rejectConnection', params: { code: 'SERVER_BUSY' } }],
            },
            'sessions.changed': [
              { guard: 'hasNoSessions', target: 'listening', actions: 'recordSessions' },
              { guard: 'isFull', actions: 'recordSessions' },
              { target: 'accepting', actions: 'recordSessions' },
            ],
          },
        },
      },
    },
    stopping: {
      description:
        'Not accepting. Every connection has been told; waiting for them to close, up to the shutdown grace period.',
      entry: ['logStopping', 'closeListener', 'notifyConnections'],
      after: {
        shutdownGrace: { target: 'stopped', actions: { type: 'destroyConnections', params: { why: 'grace' } } },
      },
      on: {
        'net.connection': {
          actions: ['countRejected', { type: 'rejectConnection', params: { code: 'SHUTTING_DOWN' } }],
        },
        'sessions.changed': { actions: 'recordSessions' },
        'server.shutdown': { target: 'stopped', actions: { type: 'destroyConnections', params: { why: 'forced' } } },
      },
      // Node emits the listener's 'close' as soon as its last socket is destroyed, which can be
      // before that socket's own 'close' reaches its connection actor. So the listener closing
      // and the last actor finishing are two conditions, awaited in either order.
      initial: 'closingListener',
      states: {
        closingListener: {
          description: 'Waiting for Node to report the listener closed (every accepted socket gone).',
          on: {
            'net.close': [{ guard: 'hasNoSessions', target: '#server.stopped' }, { target: 'draining' }],
          },
        },
        draining: {
          description: 'Listener closed; waiting for the last connection actors to reach their final state.',
          on: {
            'sessions.changed': { guard: 'hasNoSessions', target: '#server.stopped', actions: 'recordSessions' },
          },
        },
      },
    },
    stopped: {
      description: 'Listener closed and every connection gone (or destroyed when the grace period ran out).',
      type: 'final',
      entry: 'logStopped',
    },
    failed: {
      description: 'The address could not be claimed (in use, not ours, no permission, unknown host).',
      type: 'final',
    },
  },
});

export type ServerMachine = typeof serverMachine;
