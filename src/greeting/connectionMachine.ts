// The life of one client connection, from accept to close: greet, wait for one reply within a
// deadline, say goodbye, close. This machine decides everything about a connection; it never
// touches a socket. Its side effects (write, resume, end, destroy, log) are named actions that
// the adapter provides (src/core/listener.ts); tests provide fakes.
//
// One session per client, never spawned by the server machine (spawnChild copies the parent's
// children on every spawn and stop: see ../shared/XSTATE-NOTES.md). Without inspection it runs on
// the lean runner (src/core/leanActor.ts), with it as a root XState actor; same machine.

import { assertEvent, assign, setup } from 'xstate';
import type { ConnectionLimits } from '../core/config.js';
import { ChatError } from '../core/errors.js';
import { decodeUtf8, frameReply, unterminatedReply, type FrameResult } from './frame.js';

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
  | { type: 'server.shutdown' };


/** What produces each event: feeds the table in docs/statechart.md (typed, so none is missed). */
export const connectionEventSources: Record<ConnectionEvent['type'], string> = {
  'socket.written': "write callback of the greeting (`socket.write(greeting, cb)`): the bytes reached the kernel",
  'socket.data': "`'data'` on the `net.Socket` (only after `startReading` resumed it)",
  'socket.end': "`'end'` on the `net.Socket`: the client half-closed (sent FIN)",
  'socket.error': "`'error'` on the `net.Socket` (ECONNRESET, EPIPE, ...); Node destroys the socket",
  'socket.close': "`'close'` on the `net.Socket`: both directions are closed",
  'server.shutdown': 'the server machine\'s `notifyConnections` action, on `server.shutdown`',
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

// Framing runs once per socket.data however many guards and actions ask about it: the result of
// the last framing is kept with the event object and the buffer it was computed from (the
// model tests apply one event object in several contexts, so both are checked). One entry, not
// a WeakMap: events are processed one at a time, and a WeakMap entry per data event cost GC time.
let lastFramed: { event: object; from: Uint8Array; result: FrameResult } | null = null;
function frameOf(context: ConnectionContext, event: ConnectionEvent): FrameResult {
  if (event.type !== 'socket.data') return { kind: 'partial', buffered: context.buffered };
  if (lastFramed !== null && lastFramed.event === event && lastFramed.from === context.buffered) return lastFramed.result;
  const result = frameReply(context.buffered, event.bytes, context.limits.maxReplyBytes);
  lastFramed = { event, from: context.buffered, result };
  return result;
}

/** socket.data in `empty` or `partial`: a whole line, too much, or more of a partial line. */
function onData(partial: 'partial', reenter: boolean) {
  return [
    { guard: 'completesLine', target: '#connection.closing', actions: ['takeLine', 'logReply'] },
    { guard: 'overflows', target: '#connection.closing', actions: ['dropBuffer', 'closeForOverflow'] },
    { target: partial, reenter, actions: 'keepPartial' },
  ] as const;
}

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

    keepPartial: assign({
      buffered: ({ context, event }) => {
        const framed = frameOf(context, event);
        return framed.kind === 'partial' ? framed.buffered : context.buffered;
      },
    }),
    takeLine: assign({
      reply: ({ context, event }) => {
        const framed = frameOf(context, event);
        return framed.kind === 'line' ? decodeUtf8(framed.line) : null;
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
    /** These bytes end the reply line within maxReplyBytes. */
    completesLine: ({ context, event }) => frameOf(context, event).kind === 'line',
    /** These bytes take the line past maxReplyBytes. */
    overflows: ({ context, event }) => frameOf(context, event).kind === 'overflow',
  },
  delays: {
    replyTimeout: ({ context }) => context.limits.replyTimeoutMs,
    replyQuiet: ({ context }) => context.limits.replyQuietMs,
    closeTimeout: ({ context }) => context.limits.closeTimeoutMs,
  },
}).createMachine({
  id: 'connection',
  description: 'One client, from accept to close.',
  // Written out rather than spread from input: this runs once per connection, and a spread of
  // the input object measured as 6 % of a connection's machine time.
  context: ({ input }) => ({
    id: input.id,
    remote: input.remote,
    limits: input.limits,
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
            'socket.end': [
              { guard: 'hasBufferedBytes', target: '#connection.closing', actions: ['takeBuffered', 'logReply'] },
              { target: '#connection.closing', actions: 'closeForClientEnd' },
            ],
          },
          states: {
            empty: {
              description: 'Nothing received yet.',
              on: { 'socket.data': onData('partial', false) },
            },
            partial: {
              description: 'Some bytes, no line end yet. Quiet for replyQuietMs means they are the reply.',
              after: {
                replyQuiet: { target: '#connection.closing', actions: ['takeBuffered', 'logReply'] },
              },
              // More bytes restart the quiet timer (re-entering `partial`); the deadline goes on.
              on: { 'socket.data': onData('partial', true) },
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
