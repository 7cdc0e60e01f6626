// The life of one client connection, from accept to close: greet, wait for one reply within a
// deadline, say goodbye, close. This machine decides everything about a connection; it never
// touches a socket. Its side effects (write, resume, end, destroy, log) are named actions that
// the adapter provides (src/adapters/tcpServer.ts); tests provide fakes.
//
// One actor per client, created with createActor as a root actor (not spawned by the server
// machine): see ../shared/XSTATE-NOTES.md for why spawnChild does not scale to thousands.

import { assertEvent, assign, enqueueActions, setup } from 'xstate';
import type { ConnectionLimits } from '../config.js';
import { ChatError } from '../errors.js';
import { decodeUtf8, frameReply, unterminatedReply } from '../protocol/frame.js';

/** Why a connection ended; shown in the log and kept in the final snapshot. */
export type CloseReason =
  | 'replied' // the client sent its reply (a line, or bytes then quiet or end)
  | 'replyTimeout' // no complete reply within replyTimeoutMs
  | 'replyTooLong' // more than maxReplyBytes without a line end
  | 'clientEnded' // the client ended its side without sending anything
  | 'clientGone' // the socket closed under us (reset, or closed before we finished)
  | 'socketError' // the socket reported an error (ECONNRESET, EPIPE, ...)
  | 'shutdown'; // the server is shutting down

export interface ConnectionInput {
  id: number;
  /** `address:port` of the client, for logs. */
  remote: string;
  limits: ConnectionLimits;
}

export interface ConnectionContext extends ConnectionInput {
  /** Reply bytes received so far with no line end; never more than maxReplyBytes + 1. */
  buffered: Uint8Array;
  /** The decoded reply, once there is one. Raw client text: escape before printing. */
  reply: string | null;
  closeReason: CloseReason | null;
  /** The socket error's code (e.g. ECONNRESET), if one ended the connection. */
  socketErrorCode: string | null;
}

export type ConnectionEvent =
  // From the socket adapter, one per node:net socket event (or write callback).
  | { type: 'socket.written' }
  | { type: 'socket.data'; bytes: Uint8Array }
  | { type: 'socket.end' }
  | { type: 'socket.error'; code: string; message: string }
  | { type: 'socket.close' }
  // From the server (via the adapter) when it is shutting down.
  | { type: 'server.shutdown' }
  // Raised by this machine from the pure framer, one per socket.data.
  | { type: 'frame.partial'; buffered: Uint8Array }
  | { type: 'frame.line'; line: Uint8Array }
  | { type: 'frame.overflow' };

/** What produces each event: feeds the table in docs/statechart.md (typed, so none is missed). */
export const connectionEventSources: Record<ConnectionEvent['type'], string> = {
  'socket.written': "write callback of the greeting (`socket.write(greeting, cb)`): the bytes reached the kernel",
  'socket.data': "`'data'` on the `net.Socket` (only after `startReading` resumed it)",
  'socket.end': "`'end'` on the `net.Socket`: the client half-closed (sent FIN)",
  'socket.error': "`'error'` on the `net.Socket` (ECONNRESET, EPIPE, ...); Node destroys the socket",
  'socket.close': "`'close'` on the `net.Socket`: both directions are closed",
  'server.shutdown': 'the server machine\'s `notifyConnections` action, on `server.shutdown`',
  'frame.partial': '`frameData` (pure framer): bytes arrived, no line end yet',
  'frame.line': '`frameData` (pure framer): a whole line arrived within the limit',
  'frame.overflow': '`frameData` (pure framer): the line passed `maxReplyBytes`',
};

/** The line the server sends before ending its side, if the reason calls for one. */
export function goodbyeLine(context: ConnectionContext): string | null {
  const { limits } = context;
  switch (context.closeReason) {
    case 'replyTimeout':
      return new ChatError('REPLY_TIMEOUT', `no reply within ${limits.replyTimeoutMs} ms`).toWireLine();
    case 'replyTooLong':
      return new ChatError('REPLY_TOO_LONG', `reply is longer than ${limits.maxReplyBytes} bytes`).toWireLine();
    case 'shutdown':
      return new ChatError('SHUTTING_DOWN', 'server is shutting down, goodbye').toWireLine();
    default:
      return null;
  }
}

// One empty buffer shared by every connection: it is never written to (framing copies).
const noBytes = new Uint8Array(0);

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actions: {
    // Side effects, provided by the adapter. The defaults do nothing so that the machine can
    // be run (and drawn) on its own.
    logOpened: () => {},
    /** Write the greeting line; the adapter answers with socket.written. */
    sendGreeting: () => {},
    /** Resume reading (sockets are accepted paused, so nothing is read before the greeting). */
    startReading: () => {},
    logReply: () => {},
    logSocketError: () => {},
    /** Write goodbyeLine(context) if there is one, then end our side (FIN). */
    endSocket: () => {},
    /** Give up on a client that neither reads nor closes. */
    destroySocket: () => {},
    logClosed: () => {},

    frameData: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'socket.data');
      const result = frameReply(context.buffered, event.bytes, context.limits.maxReplyBytes);
      if (result.kind === 'line') enqueue.raise({ type: 'frame.line', line: result.line });
      else if (result.kind === 'partial') enqueue.raise({ type: 'frame.partial', buffered: result.buffered });
      else enqueue.raise({ type: 'frame.overflow' });
    }),
    keepPartial: assign({
      buffered: ({ event }) => {
        assertEvent(event, 'frame.partial');
        return event.buffered;
      },
    }),
    takeLine: assign({
      reply: ({ event }) => {
        assertEvent(event, 'frame.line');
        return decodeUtf8(event.line);
      },
      buffered: noBytes,
      closeReason: 'replied' as const,
    }),
    takeBuffered: assign({
      reply: ({ context }) => decodeUtf8(unterminatedReply(context.buffered)),
      buffered: noBytes,
      closeReason: 'replied' as const,
    }),
    dropBuffer: assign({ buffered: noBytes }),
    recordSocketError: assign({
      socketErrorCode: ({ event }) => {
        assertEvent(event, 'socket.error');
        return event.code;
      },
      closeReason: 'socketError' as const,
    }),
    closeForTimeout: assign({ closeReason: 'replyTimeout' as const }),
    closeForOverflow: assign({ closeReason: 'replyTooLong' as const }),
    closeForShutdown: assign({ closeReason: 'shutdown' as const }),
    closeForClientEnd: assign({ closeReason: 'clientEnded' as const }),
    closeForClientGone: assign({ closeReason: 'clientGone' as const }),
  },
  guards: {
    hasBufferedBytes: ({ context }) => context.buffered.length > 0,
  },
  delays: {
    replyTimeout: ({ context }) => context.limits.replyTimeoutMs,
    replyQuiet: ({ context }) => context.limits.replyQuietMs,
    closeTimeout: ({ context }) => context.limits.closeTimeoutMs,
  },
}).createMachine({
  id: 'connection',
  description: 'One client, from accept to close.',
  context: ({ input }) => ({
    ...input,
    buffered: noBytes,
    reply: null,
    closeReason: null,
    socketErrorCode: null,
  }),
  initial: 'open',
  states: {
    open: {
      description:
        'The client is connected and owes us a reply. The reply deadline runs from accept and is not reset by incoming bytes.',
      entry: 'logOpened',
      initial: 'greeting',
      after: {
        replyTimeout: { target: 'closing', actions: ['dropBuffer', 'closeForTimeout'] },
      },
      on: {
        'socket.close': { target: 'closed', actions: 'closeForClientGone' },
        'socket.error': { target: 'closing', actions: ['recordSocketError', 'logSocketError'] },
        'server.shutdown': { target: 'closing', actions: 'closeForShutdown' },
      },
      states: {
        greeting: {
          description: 'Greeting written; the socket stays paused until the kernel has taken it.',
          entry: 'sendGreeting',
          on: { 'socket.written': 'awaitingReply' },
        },
        awaitingReply: {
          description:
            'Reading. The first line (LF or CRLF) is the reply; so are bytes followed by quiet or by the client ending its side.',
          entry: 'startReading',
          initial: 'empty',
          on: {
            'socket.data': { actions: 'frameData' },
            'frame.line': { target: '#connection.closing', actions: ['takeLine', 'logReply'] },
            'frame.overflow': { target: '#connection.closing', actions: ['dropBuffer', 'closeForOverflow'] },
            'socket.end': [
              { guard: 'hasBufferedBytes', target: '#connection.closing', actions: ['takeBuffered', 'logReply'] },
              { target: '#connection.closing', actions: 'closeForClientEnd' },
            ],
          },
          states: {
            empty: {
              description: 'Nothing received yet.',
              on: { 'frame.partial': { target: 'partial', actions: 'keepPartial' } },
            },
            partial: {
              description: 'Some bytes, no line end yet. Quiet for replyQuietMs means they are the reply.',
              after: {
                replyQuiet: { target: '#connection.closing', actions: ['takeBuffered', 'logReply'] },
              },
              on: { 'frame.partial': { target: 'partial', reenter: true, actions: 'keepPartial' } },
            },
          },
        },
      },
    },
    closing: {
      description:
        'Goodbye (or error) line written and our side ended; waiting for the socket to close. Further client bytes are ignored.',
      entry: 'endSocket',
      after: { closeTimeout: { actions: 'destroySocket' } },
      on: { 'socket.close': 'closed' },
    },
    closed: {
      description: 'Socket closed; the actor is done and releases its slot.',
      type: 'final',
      entry: 'logClosed',
    },
  },
});

export type ConnectionMachine = typeof connectionMachine;
