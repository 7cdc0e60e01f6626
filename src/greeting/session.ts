// The greeting protocol's session adapter: the article's server, one connection actor per
// client. It attaches the socket listeners (named `socketOn<Event>`, so one read shows the whole
// mapping from socket events to machine events) and provides the connection machine's side
// effects. Accepting, capping and draining are the listener's (src/core/listener.ts), written
// once for every protocol.

import type { InspectionEvent } from 'xstate';
import { connectionLimits, type ServerConfig } from '../core/config.js';
import { ChatError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { connectionMachine, goodbyeLine, type ConnectionMachine } from './connectionMachine.js';
import { startSession, type SessionActor } from '../core/leanActor.js';
import { sessionLogActions } from '../core/sessionLog.js';
import type { SessionProtocol } from '../core/protocol.js';
import { abort, type Transport } from '../core/transport.js';

type ConnectionActor = SessionActor<ConnectionMachine>;

// The actor serving a socket, kept on the socket itself so that the listeners below are shared
// functions instead of closures per connection (as ws does with kWebSocket).
const kActor = Symbol('connectionActor');
interface ServedSocket extends Transport {
  [kActor]?: ConnectionActor;
}

function socketOnData(this: ServedSocket, bytes: Buffer): void {
  this[kActor]?.send({ type: 'socket.data', bytes });
}
function socketOnEnd(this: ServedSocket): void {
  this[kActor]?.send({ type: 'socket.end' });
}
function socketOnError(this: ServedSocket, err: NodeJS.ErrnoException): void {
  // Node destroys the socket after 'error' and then emits 'close'.
  this[kActor]?.send({ type: 'socket.error', code: err.code ?? 'UNKNOWN', message: err.message });
}
function socketOnClose(this: ServedSocket): void {
  this[kActor]?.send({ type: 'socket.close' });
}

export function greetingProtocol(
  config: ServerConfig,
  logger: Logger,
  inspect: ((event: InspectionEvent) => void) | undefined,
): SessionProtocol {
  const limits = connectionLimits(config);
  const sockets = new Map<number, ServedSocket>();
  const socketOf = (id: number): ServedSocket | undefined => sockets.get(id);
  // Encoded once: every client gets the same bytes, and a Buffer skips the per-write UTF-8 encode.
  const greetingBytes = Buffer.from(`${limits.greeting}\n`);

  const connectionLogic = connectionMachine.provide({
    actions: {
      ...sessionLogActions(logger),
      sendGreeting: ({ context, self }) => {
        socketOf(context.id)?.write(greetingBytes, (err) => {
          // On failure the socket emits 'error' too; that is the event the machine acts on.
          if (!err) self.send({ type: 'socket.written' });
        });
      },
      startReading: ({ context }) => void socketOf(context.id)?.resume(),
      logReply: logger.silent
        ? () => {}
        : ({ context }) => logger.log('info', 'connection.reply', { id: context.id, remote: context.remote, reply: context.reply ?? '' }),
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
      destroySocket: ({ context }) => {
        const socket = socketOf(context.id);
        if (socket) abort(socket);
      },
    },
  });

  return {
    name: 'greeting',
    sessionMachine: connectionMachine,
    open(id, remote, socket: ServedSocket) {
      const actor = startSession(connectionLogic, { id, remote, limits }, inspect);
      socket[kActor] = actor;
      sockets.set(id, socket);
      socket.on('data', socketOnData);
      socket.on('end', socketOnEnd);
      socket.on('error', socketOnError);
      socket.on('close', socketOnClose);
      return actor;
    },
    closed(id) {
      const socket = sockets.get(id);
      if (socket) socket[kActor] = undefined;
      sockets.delete(id);
    },
    turnAwayLine: (code) =>
      new ChatError(code, code === 'SERVER_BUSY' ? 'server busy, try again later' : 'server is shutting down').toWireLine(),
  };
}
