// The only code that touches node:net. It turns net.Server and net.Socket events into machine
// events (every listener is attached in `listenOn` or `attachSocket`, named `<source>On<Event>`,
// so one read shows the whole mapping) and runs the side effects the machines name. It makes
// no decisions: when to greet, read, refuse, end or destroy is the machines' call.

import net from 'node:net';
import { assertEvent, createActor, type Actor, type InspectionEvent } from 'xstate';
import { connectionLimits, type ServerConfig } from '../config.js';
import { ChatError, type ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { connectionMachine, goodbyeLine, type ConnectionMachine } from '../machines/connectionMachine.js';
import { serverMachine, type ServerFailure, type ServerMachine } from '../machines/serverMachine.js';

export interface ServerOptions {
  logger?: Logger;
  /**
   * Called with each connection actor before it starts, so an observer (tests, inspection)
   * sees every snapshot from the first. Not set in normal runs: no cost per connection.
   */
  onConnectionActor?: (actor: Actor<ConnectionMachine>) => void;
  /**
   * XState inspection observer, attached to the server actor and every connection actor when
   * set (--inspect, --inspect-ws). Left unset, no observer runs: inspection halves throughput.
   */
  inspect?: (event: InspectionEvent) => void;
}

export interface ServerOutcome {
  /** `stopped` after a shutdown, `failed` when the address could not be claimed. */
  state: 'stopped' | 'failed';
  failure: ServerFailure | null;
  /** True when the grace period ran out (or a second shutdown came) and sockets were destroyed. */
  forced: boolean;
}

export interface ServerHandle {
  readonly actor: Actor<ServerMachine>;
  /** Resolves with the claimed address once clients can connect; rejects with a ChatError. */
  readonly listening: Promise<{ address: string; port: number }>;
  /** Resolves when the server machine reaches a final state. */
  readonly done: Promise<ServerOutcome>;
  /** Sends `server.shutdown` (a second call forces the stop). */
  shutdown(): void;
  /** How many connection actors are live (for tests and leak checks). */
  liveConnections(): number;
  /** The live connection actors by connection id (read-only view, for tests and inspection). */
  connections(): ReadonlyMap<number, Actor<ConnectionMachine>>;
}

type ConnectionActor = Actor<ConnectionMachine>;

// The connection actor serving a socket, kept on the socket itself so that the listeners below
// can be shared functions instead of closures per connection (as ws does with kWebSocket).
const kActor = Symbol('connectionActor');
interface ServedSocket extends net.Socket {
  [kActor]?: ConnectionActor;
}

export function formatRemote(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function socketOnData(this: ServedSocket, bytes: Buffer): void {
  this[kActor]?.send({ type: 'socket.data', bytes });
}
function socketOnEnd(this: ServedSocket): void {
  this[kActor]?.send({ type: 'socket.end' });
}
function socketOnError(this: ServedSocket, err: NodeJS.ErrnoException): void {
  // Every socket gets this listener the moment it is accepted: an 'error' with no listener
  // would throw and take the whole process down. Node destroys the socket and emits 'close'.
  this[kActor]?.send({ type: 'socket.error', code: err.code ?? 'UNKNOWN', message: err.message });
}
function socketOnClose(this: ServedSocket): void {
  this[kActor]?.send({ type: 'socket.close' });
}

export function startServer(config: ServerConfig, options: ServerOptions = {}): ServerHandle {
  const logger = options.logger ?? silentLogger;
  const limits = connectionLimits(config);
  // pauseOnConnect: nothing is read before the connection machine asks (startReading), so the
  // kernel, not our heap, holds what an early or hostile client sends. allowHalfOpen: a client's
  // FIN is an event for the machine (a reply may still be owed), not an automatic close.
  const listener = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  /** Every accepted socket not yet closed, served or being turned away. */
  const sockets = new Map<number, ServedSocket>();
  const connections = new Map<number, ConnectionActor>();
  const turnedAway = new WeakSet<net.Socket>();
  // Connection actors are created just after the server actor's step, not inside its action:
  // an actor created inside another actor's action is set up under that action's context
  // (xstate warns in development builds). The 'connection' listener runs these right after send.
  const afterServerStep: Array<() => void> = [];
  let nextId = 1;
  let forced = false;

  const socketOf = (id: number): ServedSocket | undefined => sockets.get(id);

  const connectionLogic = connectionMachine.provide({
    actions: {
      logOpened: ({ context }) => logger.log('info', 'connection.opened', { id: context.id, remote: context.remote }),
      sendGreeting: ({ context, self }) => {
        socketOf(context.id)?.write(`${context.limits.greeting}\n`, (err) => {
          // On failure the socket emits 'error' too; that is the event the machine acts on.
          if (!err) self.send({ type: 'socket.written' });
        });
      },
      startReading: ({ context }) => void socketOf(context.id)?.resume(),
      logReply: ({ context }) =>
        logger.log('info', 'connection.reply', { id: context.id, remote: context.remote, reply: context.reply ?? '' }),
      logSocketError: ({ context }) =>
        logger.log('info', 'connection.error', {
          id: context.id,
          remote: context.remote,
          code: 'SOCKET_ERROR',
          errno: context.socketErrorCode ?? 'UNKNOWN',
        }),
      endSocket: ({ context }) => {
        const socket = socketOf(context.id);
        if (!socket || socket.destroyed) return;
        const line = goodbyeLine(context);
        // Keep reading (and dropping) until the client closes: a paused socket would never see
        // the client's FIN and would wait for closeTimeoutMs every time.
        socket.resume();
        if (line === null) socket.end();
        else socket.end(line);
      },
      destroySocket: ({ context }) => void socketOf(context.id)?.destroy(),
      logClosed: ({ context }) =>
        logger.log('info', 'connection.closed', {
          id: context.id,
          remote: context.remote,
          reason: context.closeReason ?? 'unknown',
        }),
    },
  });

  function attachSocket(id: number, remote: string, socket: ServedSocket): void {
    const actor = createActor(connectionLogic, { input: { id, remote, limits }, inspect: options.inspect });
    socket[kActor] = actor;
    connections.set(id, actor);
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    actor.subscribe({
      complete: () => release(id),
      // A throwing action leaves the actor errored for good and its cleanups unrun (see
      // XSTATE-NOTES.md): free the socket here so nothing leaks, and keep serving others.
      error: (err) => {
        logger.log('error', 'connection.crashed', { id, message: err instanceof Error ? err.message : String(err) });
        socket.destroy();
        release(id);
      },
    });
    options.onConnectionActor?.(actor);
    actor.start();
  }

  function release(id: number): void {
    const socket = sockets.get(id);
    if (socket) {
      socket[kActor] = undefined;
      // The machine reaches `closed` on the socket's 'close', so this only happens if a path
      // skipped closing it: say so (tests look for it) and do not leak the descriptor.
      if (!socket.destroyed) {
        logger.log('error', 'connection.unclosed', { id });
        socket.destroy();
      }
    }
    sockets.delete(id);
    if (!connections.delete(id)) return;
    if (serverActor.getSnapshot().status === 'active') serverActor.send({ type: 'connection.closed', id });
  }

  function turnAway(id: number, remote: string, code: ErrorCode): void {
    const socket = socketOf(id);
    if (!socket) return;
    turnedAway.add(socket);
    const message = code === 'SERVER_BUSY' ? 'server busy, try again later' : 'server is shutting down';
    logger.log('info', 'connection.rejected', { id, remote, code });
    const timer = setTimeout(() => socket.destroy(), limits.closeTimeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      sockets.delete(id);
    });
    socket.resume();
    // Free the descriptor as soon as the line and our FIN are with the kernel: a flood of
    // turned-away clients that never read or close must not hold descriptors until
    // closeTimeoutMs, or the process runs out and new clients are dropped without a word.
    socket.end(new ChatError(code, message).toWireLine(), () => socket.destroy());
  }

  const serverLogic = serverMachine.provide({
    actions: {
      listen: () => void listener.listen({ host: config.host, port: config.port, backlog: config.listenBacklog }),
      logListening: ({ context }) =>
        logger.log('info', 'server.listening', {
          host: context.host,
          port: context.address?.port ?? context.port,
          address: context.address?.host ?? '',
        }),
      logFailure: ({ context }) =>
        logger.log('error', 'server.failed', {
          code: context.failure?.code ?? 'LISTEN_FAILED',
          message: context.failure?.message ?? 'cannot listen',
        }),
      logServerError: ({ event }) => {
        assertEvent(event, 'net.error');
        logger.log('error', 'server.error', { code: event.code, message: event.message });
      },
      acceptConnection: ({ event }) => {
        assertEvent(event, 'net.connection');
        const { id, remote } = event;
        const socket = socketOf(id);
        if (socket) afterServerStep.push(() => attachSocket(id, remote, socket));
      },
      rejectConnection: ({ event }, params: { code: ErrorCode }) => {
        assertEvent(event, 'net.connection');
        turnAway(event.id, event.remote, params.code);
      },
      closeListener: () => void listener.close(),
      notifyConnections: () => {
        for (const actor of [...connections.values()]) actor.send({ type: 'server.shutdown' });
      },
      destroyConnections: () => {
        forced = sockets.size > 0;
        for (const socket of [...sockets.values()]) socket.destroy();
      },
      logStopping: ({ context }) => logger.log('info', 'server.stopping', { live: context.live }),
      logStopped: () => logger.log('info', 'server.stopped', { forced }),
    },
  });

  const serverActor = createActor(serverLogic, {
    inspect: options.inspect,
    input: {
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      shutdownGraceMs: config.shutdownGraceMs,
    },
  });

  function listenOn(server: net.Server): void {
    server.on('listening', function serverOnListening() {
      const address = server.address() as net.AddressInfo;
      serverActor.send({ type: 'net.listening', host: address.address, port: address.port });
    });
    server.on('error', function serverOnError(err: NodeJS.ErrnoException) {
      serverActor.send({ type: 'net.error', code: err.code ?? 'UNKNOWN', message: err.message });
    });
    server.on('connection', function serverOnConnection(socket: ServedSocket) {
      socket.on('error', socketOnError);
      const id = nextId++;
      sockets.set(id, socket);
      serverActor.send({
        type: 'net.connection',
        id,
        remote: formatRemote(socket.remoteAddress, socket.remotePort),
      });
      for (const effect of afterServerStep.splice(0)) effect();
      // Not a decision, a safety net: a socket the machine neither served nor turned away
      // (it had already stopped) must not stay open with nobody owning it.
      if (!socket[kActor] && !turnedAway.has(socket)) {
        sockets.delete(id);
        socket.destroy();
      }
    });
    server.on('close', function serverOnClose() {
      serverActor.send({ type: 'net.close' });
    });
  }

  let resolveListening!: (address: { address: string; port: number }) => void;
  let rejectListening!: (err: ChatError) => void;
  const listening = new Promise<{ address: string; port: number }>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  // Callers that only await `done` must not see an unhandled rejection.
  listening.catch(() => {});

  const done = new Promise<ServerOutcome>((resolve) => {
    serverActor.subscribe({
      next: (snapshot) => {
        if (snapshot.matches('bound') && snapshot.context.address) {
          resolveListening({ address: snapshot.context.address.host, port: snapshot.context.address.port });
        }
      },
      complete: () => {
        const snapshot = serverActor.getSnapshot();
        const failure = snapshot.context.failure;
        if (failure) rejectListening(new ChatError(failure.code, failure.message));
        else rejectListening(new ChatError('SHUTTING_DOWN', 'server stopped before it was listening'));
        cleanUp();
        resolve({ state: snapshot.matches('failed') ? 'failed' : 'stopped', failure, forced });
      },
      error: (err) => {
        logger.log('error', 'server.crashed', { message: err instanceof Error ? err.message : String(err) });
        forced = true;
        cleanUp();
        resolve({ state: 'stopped', failure: null, forced });
      },
    });
  });

  // Whatever way the machine ended, nothing it owned may outlive it.
  function cleanUp(): void {
    if (listener.listening) listener.close();
    for (const socket of [...sockets.values()]) socket.destroy();
    for (const actor of [...connections.values()]) actor.stop();
    connections.clear();
  }

  listenOn(listener);
  serverActor.start();
  serverActor.send({ type: 'server.start' });

  return {
    actor: serverActor,
    listening,
    done,
    shutdown: () => {
      if (serverActor.getSnapshot().status === 'active') serverActor.send({ type: 'server.shutdown' });
    },
    liveConnections: () => connections.size,
    connections: () => connections,
  };
}
