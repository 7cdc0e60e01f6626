// The seam between a session adapter and whatever carries its client's bytes: what a session
// needs from a connection, and nothing else. A net.Socket (or tls.TLSSocket) is a Transport as
// it is; a WebSocket client is one through WebSocketTransport (webSocketTransport.ts). The
// listener (tcpServer.ts) counts, caps and drains Transports, the session adapters
// (ircSession.ts, greetingSession.ts) read and write them, and neither knows which it has.
//
// Events, named as net.Socket names them, in the order net.Socket emits them:
//   'data'  (bytes: Buffer)  what the client sent, as it came; a stream, so a line may be split
//                            across chunks (a WebSocket message comes as its bytes and an LF)
//   'end'                    the client finished its side (TCP FIN; a WebSocket close frame)
//   'error' (err)            the connection failed; `err.code` names how (ECONNRESET,
//                            WS_ERR_INVALID_UTF8, ...). Emitted at most once; 'close' follows
//   'close'                  gone in both directions: always the last event

import type { EventEmitter } from 'node:events';
import net from 'node:net';

export interface Transport extends EventEmitter {
  /**
   * Queues output: lines ending in LF (CRLF for IRC). A stream transport sends the bytes as they
   * are; a message transport sends each line as one message, without its line ending.
   */
  write(data: string | Uint8Array, done?: (err?: Error | null) => void): boolean;
  /**
   * Sends `last` (if given) after everything queued, then ends our side. `done` runs once all of
   * it has been handed to the kernel (the listener then frees a turned-away client at once).
   */
  end(last?: string | Uint8Array, done?: () => void): unknown;
  /** Closes at once, dropping whatever is still queued; 'close' follows. */
  destroy(): unknown;
  /** Stops emitting 'data' until resume(); what the client sends meanwhile waits in the kernel. */
  pause(): unknown;
  resume(): unknown;
  /** Output is already batched once per event-loop turn: hold nothing back for Nagle. */
  setNoDelay(noDelay?: boolean): unknown;
  /** Bytes of output queued in the process, not yet taken by the kernel (the sendq reads it). */
  readonly writableLength: number;
  /** Output is still accepted (our side not ended, not destroyed). */
  readonly writable: boolean;
  readonly destroyed: boolean;
  /** The client's address and port, as the kernel reports them (undefined once destroyed). */
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /**
   * What the log says the client came from, for a transport with no address and port of its
   * own (a client relayed from another node, an always-on user brought back); else both.
   */
  readonly remoteLabel?: string;
  /** True when the bytes travel over TLS (a tls.TLSSocket, or a WebSocket on an https server). */
  readonly encrypted?: boolean;
}

/**
 * Gives up on a client that did not close within closeTimeoutMs of our goodbye. On plain TCP
 * the connection is reset (SO_LINGER 0, net.Socket#resetAndDestroy) rather than closed: a close
 * would leave the kernel an orphaned socket in FIN_WAIT holding whatever the client still sends
 * or has not read, and a client that ignored our FIN may go on writing into what is left of it
 * without being told (a test saw a flooder hear nothing for over 10 s, once in ~140 loaded
 * runs). The reset frees everything at once and the client's next read or write fails. A TLS socket's
 * handle is the TLS layer, which cannot reset, and a WebSocket is terminated by its library: those
 * are destroyed.
 */
export function abort(transport: Transport): void {
  if (transport.destroyed) return;
  if (transport instanceof net.Socket && !(transport as Transport).encrypted && !transport.connecting) transport.resetAndDestroy();
  else transport.destroy();
}
