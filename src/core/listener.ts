// The listener: the only code that owns the net.Server (or tls.Server). It turns the server's
// events into server-machine events (every listener is attached in `listenOn`, named
// `serverOn<Event>`) and runs the side effects the server machine names: accept, turn away,
// stop listening, notify and destroy. Accepting, capping and draining are written here once;
// each protocol brings its own session machine and adapter (a SessionProtocol, protocol.ts: the
// greeting in src/greeting/, IRC in src/irc/), built by the CLI and handed in, so the listener
// knows no protocol. It makes no decisions: when to accept, refuse or stop is the server
// machine's call, and everything about a session is its machine's.
// Clients of another transport (WebSocket, from webServer.ts) are handed in with `adopt` and
// from there are counted, capped, turned away and drained exactly like accepted sockets: the
// listener and the sessions see a Transport (transport.ts), never which kind.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { assertEvent, createActor, type Actor, type InspectionEvent } from 'xstate';
import type { ServerConfig } from './config.js';
import { ChatError, type ErrorCode } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { serverMachine, type ServerFailure, type ServerMachine } from './serverMachine.js';
import type { SessionActor, SessionProtocol } from './protocol.js';
import { abort, type Transport } from './transport.js';

export interface ServerOptions {
  logger?: Logger;
  /**
   * Called with each session actor before it starts, so an observer (tests, inspection) sees
   * every snapshot from the first. Not set in normal runs: no cost per connection.
   */
  onConnectionActor?: (actor: SessionActor) => void;
  /**
   * XState inspection observer, attached to the server actor and every session actor when set
   * (--inspect, --inspect-ws). Left unset, no observer runs: inspection halves throughput.
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
  /** How many session actors are live (for tests and leak checks). */
  liveConnections(): number;
  /** How many clients were admitted as sessions since start (turned-away ones are the machine's `rejected`). */
  accepted(): number;
  /** Finished sessions by their machine's close reason (`crashed` for one whose action threw). */
  closedByReason(): ReadonlyMap<string, number>;
  /** TLS clients dropped before they were sessions: a failed or timed-out handshake (--tls-cert). */
  tlsFailures(): number;
  /** The live session actors by connection id (read-only view, for tests and inspection). */
  connections(): ReadonlyMap<number, SessionActor>;
  /** The protocol the sessions speak, as handed to startServer. */
  readonly protocol: SessionProtocol;
  /**
   * A client that connected through another transport (a WebSocket, upgraded by webServer.ts),
   * paused: from here it is served, capped, turned away and drained like an accepted socket.
   * Returns its connection id (for the caller's log line).
   */
  adopt(client: Transport): number;
}

export function formatRemote(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return 'unknown';
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Where a client came from, as the log says it: its label, or its address and port. */
function remoteOf(client: Transport): string {
  return client.remoteLabel ?? formatRemote(client.remoteAddress, client.remotePort);
}

/**
 * The 'tlsClientError' listener of a TLS server (this one, and the web server's https://): a
 * failed handshake (plain text on a TLS port, a bad certificate, a timeout) never was a
 * session. Logged and destroyed: Node destroys the socket after a TLS error, but not after the
 * handshake timeout (it only emits ERR_TLS_HANDSHAKE_TIMEOUT), and a client that connects and
 * says nothing would otherwise hold a descriptor forever, outside every cap, and hold up the
 * shutdown.
 */
export function dropFailedHandshake(
  logger: Logger,
  onDropped: () => void = () => {},
): (err: NodeJS.ErrnoException, socket: net.Socket) => void {
  return function serverOnTlsClientError(err, socket) {
    onDropped();
    logger.log('info', 'connection.tlsFailed', { remote: formatRemote(socket.remoteAddress, socket.remotePort), errno: err.code ?? 'UNKNOWN' });
    socket.destroy();
  };
}

// Marks a socket the listener has handed to a session or is turning away.
const kOwned = Symbol('owned');
interface AcceptedSocket extends Transport {
  [kOwned]?: boolean;
}

function acceptedSocketOnError(this: Transport, _err: NodeJS.ErrnoException): void {
  // Every socket gets a listener the moment it is accepted: an 'error' with no listener would
  // throw and take the whole process down. Node destroys the socket and emits 'close'; the
  // session adapter adds its own listener to tell its machine.
}

/** A net.Server, or a tls.Server when a certificate and key are configured. */
function createListener(config: ListenerConfig): { server: net.Server; tls: boolean } {
  if (config.tlsCert && config.tlsKey) {
    // TLS sockets cannot be accepted paused (the handshake must read), so they are paused
    // right after the handshake instead, before any session listener is attached.
    const server = tls.createServer({
      cert: readFileSync(config.tlsCert),
      key: readFileSync(config.tlsKey),
      allowHalfOpen: true,
      handshakeTimeout: config.tlsHandshakeTimeoutMs,
      // A client may present a certificate (IRC's SASL EXTERNAL logs in by its fingerprint);
      // none is required and none is checked against a CA: self-signed is the norm there.
      requestCert: true,
      rejectUnauthorized: false,
    });
    return { server, tls: true };
  }
  // pauseOnConnect: nothing is read before the session asks, so the kernel, not our heap,
  // holds what an early or hostile client sends. allowHalfOpen: a client's FIN is an event for
  // the machine (a reply may still be owed), not an automatic close.
  return { server: net.createServer({ pauseOnConnect: true, allowHalfOpen: true }), tls: false };
}

/** What the listener reads of the configuration: addresses, caps, timeouts and TLS. */
export type ListenerConfig = Pick<
  ServerConfig,
  | 'host'
  | 'port'
  | 'listenBacklog'
  | 'maxConnections'
  | 'shutdownGraceMs'
  | 'closeTimeoutMs'
  | 'tlsCert'
  | 'tlsKey'
  | 'tlsHandshakeTimeoutMs'
>;

export function startServer(config: ListenerConfig, protocol: SessionProtocol, options: ServerOptions = {}): ServerHandle {
  const logger = options.logger ?? silentLogger;
  const { server: listener, tls: secure } = createListener(config);
  /** Every accepted socket not yet closed, served or being turned away. */
  const sockets = new Map<number, AcceptedSocket>();
  const connections = new Map<number, SessionActor>();
  let nextId = 1;
  /** Finished sessions by close reason; with the live ones, every session ever admitted. */
  const closed = new Map<string, number>();
  /** TLS clients whose handshake failed or timed out (never sessions). */
  let tlsFailures = 0;
  /** Why sockets were still open to destroy at the stop (the grace period ran out, a second signal), if they were. */
  let forcedBy: 'grace' | 'forced' | null = null;
  // The remote address costs a getpeername() and a string per client (~14 µs under load, 7 % of
  // a handshake): built only when a log line or the inspector will show it.
  const remoteShown = !logger.silent || options.inspect !== undefined;

  /** The session count crossed a boundary the server machine decides on (none/some, full). */
  function reportSessions(): void {
    serverActor.send({ type: 'sessions.changed', sessions: connections.size });
  }

  // Each session's actor is watched by one small object: the id, socket and actor in its
  // fields, the callbacks on the prototype. Two closures per session (and the context they
  // share) cost ~200 bytes of heap for every idle client.
  class SessionWatcher {
    constructor(
      private readonly id: number,
      private readonly socket: AcceptedSocket,
      private readonly actor: SessionActor,
    ) {}

    complete(): void {
      countClosed((this.actor.getSnapshot().context as { closeReason?: string | null }).closeReason ?? 'unknown');
      release(this.id, this.socket);
    }

    // A throwing action leaves the actor errored for good and its cleanups unrun (see
    // XSTATE-NOTES.md): free the socket here so nothing leaks, and keep serving others.
    error(err: unknown): void {
      logger.log('error', 'connection.crashed', { id: this.id, message: err instanceof Error ? err.message : String(err) });
      countClosed('crashed');
      this.socket.destroy();
      release(this.id, this.socket);
    }
  }

  function admit(id: number, socket: AcceptedSocket): void {
    socket[kOwned] = true;
    const remote = remoteShown ? remoteOf(socket) : '';
    const actor = protocol.open(id, remote, socket);
    connections.set(id, actor);
    actor.subscribe(new SessionWatcher(id, socket, actor));
    options.onConnectionActor?.(actor);
    if (connections.size === 1 || connections.size === config.maxConnections) reportSessions();
    actor.start();
  }

  function countClosed(reason: string): void {
    closed.set(reason, (closed.get(reason) ?? 0) + 1);
  }

  function release(id: number, socket: AcceptedSocket): void {
    protocol.closed(id);
    // The session reaches its final state on the socket's 'close', so this only happens if a
    // path skipped closing it: say so (tests look for it) and do not leak the descriptor.
    if (!socket.destroyed) {
      logger.log('error', 'connection.unclosed', { id });
      socket.destroy();
    }
    sockets.delete(id);
    if (!connections.delete(id)) return;
    const left = connections.size;
    if ((left === 0 || left === config.maxConnections - 1) && serverActor.getSnapshot().status === 'active') reportSessions();
  }

  function turnAway(id: number, remote: string, code: 'SERVER_BUSY' | 'SHUTTING_DOWN'): void {
    const socket = sockets.get(id);
    if (!socket) return;
    socket[kOwned] = true;
    logger.log('info', 'connection.rejected', { id, remote, code });
    const timer = setTimeout(() => abort(socket), config.closeTimeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      sockets.delete(id);
    });
    socket.resume();
    // Free the descriptor as soon as the line and our FIN are with the kernel: a flood of
    // turned-away clients that never read or close must not hold descriptors until
    // closeTimeoutMs, or the process runs out and new clients are dropped without a word.
    socket.end(protocol.turnAwayLine(code), () => socket.destroy());
  }

  const serverLogic = serverMachine.provide({
    actions: {
      listen: () => void listener.listen({ host: config.host, port: config.port, backlog: config.listenBacklog }),
      logListening: ({ context }) =>
        logger.log('info', 'server.listening', {
          host: context.host,
          port: context.address?.port ?? context.port,
          address: context.address?.host ?? '',
          protocol: protocol.name,
          tls: secure,
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
      rejectConnection: ({ event }, params: { code: ErrorCode }) => {
        assertEvent(event, 'net.connection');
        turnAway(event.id, event.remote, params.code === 'SERVER_BUSY' ? 'SERVER_BUSY' : 'SHUTTING_DOWN');
      },
      closeListener: () => void listener.close(),
      notifyConnections: () => {
        for (const actor of [...connections.values()]) actor.send({ type: 'server.shutdown' });
      },
      destroyConnections: (_, params) => {
        if (sockets.size > 0) forcedBy = params.why;
        for (const socket of [...sockets.values()]) socket.destroy();
      },
      logStopping: () => logger.log('info', 'server.stopping', { live: connections.size }),
      logStopped: () => logger.log('info', 'server.stopped', { forced: forcedBy !== null, ...(forcedBy ? { by: forcedBy } : {}) }),
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

  /** A socket is ready to be served: a TCP accept, or a finished TLS handshake. */
  function serverOnSocket(socket: net.Socket): void {
    // A TLS socket could not be accepted paused; pause it before anything reads it.
    if (secure) socket.pause();
    take(socket);
  }

  /** A paused client, from this listener or adopted from another transport: served or turned away. */
  function take(socket: AcceptedSocket): number {
    socket.on('error', acceptedSocketOnError);
    const id = nextId++;
    sockets.set(id, socket);
    // The machine's state decides: an `admitting` state takes the client as it is; any other
    // hears about it and turns it away (see serverMachine.ts).
    if (serverActor.getSnapshot().hasTag('admitting')) {
      admit(id, socket);
      return id;
    }
    // A client adopted after the machine stopped (its transport's listener closes after it) has
    // nobody to hear about it.
    if (serverActor.getSnapshot().status === 'active') {
      serverActor.send({ type: 'net.connection', id, remote: remoteOf(socket) });
    }
    // Not a decision, a safety net: a socket the machine neither served nor turned away (it
    // had already stopped) must not stay open with nobody owning it.
    if (!socket[kOwned]) {
      sockets.delete(id);
      socket.destroy();
    }
    return id;
  }

  function listenOn(server: net.Server): void {
    server.on('listening', function serverOnListening() {
      const address = server.address() as net.AddressInfo;
      serverActor.send({ type: 'net.listening', host: address.address, port: address.port });
    });
    server.on('error', function serverOnError(err: NodeJS.ErrnoException) {
      serverActor.send({ type: 'net.error', code: err.code ?? 'UNKNOWN', message: err.message });
    });
    if (secure) {
      server.on('secureConnection', serverOnSocket);
      server.on('tlsClientError', dropFailedHandshake(logger, () => tlsFailures++));
    } else {
      server.on('connection', serverOnSocket);
    }
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
        resolve({ state: snapshot.matches('failed') ? 'failed' : 'stopped', failure, forced: forcedBy !== null });
      },
      error: (err) => {
        logger.log('error', 'server.crashed', { message: err instanceof Error ? err.message : String(err) });
        cleanUp();
        resolve({ state: 'stopped', failure: null, forced: true });
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
    accepted: () => {
      let finished = 0;
      for (const n of closed.values()) finished += n;
      return connections.size + finished;
    },
    closedByReason: () => closed,
    tlsFailures: () => tlsFailures,
    connections: () => connections,
    protocol,
    adopt: take,
  };
}
