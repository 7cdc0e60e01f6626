// One WebSocket client as a Transport (transport.ts), so that the IRC session adapter serves it
// exactly as it serves a TCP socket: the same framer, limits, fakelag, sendq and machine.
// The IRCv3 WebSocket spec carries one IRC line per message, without CR or LF:
//   - in:  each message is handed on as its bytes followed by an LF, into the session's line
//          framer like TCP bytes. So a too-long line gets 417 and the client stays, invalid UTF-8
//          in a binary message becomes U+FFFD, a trailing CRLF some clients add is harmless (the
//          framer drops the empty line), and an LF inside a message ends a line there, as it
//          would over TCP. A message past maxPayload is refused by ws before it is buffered
//          (close 1009, `error` WS_ERR_UNSUPPORTED_MESSAGE_LENGTH); a text message that is not
//          UTF-8 is refused by ws (close 1007, WS_ERR_INVALID_UTF8), as the spec asks.
//   - out: the session writes CRLF-ended lines (a turn's batch in one write); each line goes as
//          one message, as binary frames for `binary.ircv3.net`, text frames otherwise, corked
//          so that a batch is still one syscall.
// Listeners are attached in `listenTo` and named `<source>On<Event>`, as ws names its own.

import { EventEmitter } from 'node:events';
import type net from 'node:net';
import WebSocket from 'ws';
import { binarySubprotocol, type IrcSubprotocol } from './handshake.js';
import type { Transport } from '../core/transport.js';

const kTransport = Symbol('transport');
interface ServedWebSocket extends WebSocket {
  [kTransport]?: WebSocketTransport;
}
interface RawSocket extends net.Socket {
  [kTransport]?: WebSocketTransport;
}

const LF = 0x0a;
const CR = 0x0d;
const textFrames = { binary: false, compress: false } as const;
const binaryFrames = { binary: true, compress: false } as const;
const empty = Buffer.alloc(0);

/** ws reports a close with no close frame (the TCP connection just went) as 1006. */
const closedAbnormally = 1006;

export class WebSocketTransport extends EventEmitter implements Transport {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly encrypted: boolean;
  /** The negotiated subprotocol; null when the client asked for none (text frames). */
  readonly subprotocol: IrcSubprotocol | null;
  private readonly frames: typeof textFrames | typeof binaryFrames;
  private paused = true;
  /**
   * Messages ws had already read off the socket when it was paused (ws pauses the socket, but
   * hands on what it has parsed): held until resume(). At most one socket read's worth.
   */
  private held: Buffer[] | null = null;
  private errored = false;

  /** Wraps an upgraded connection; paused, like a socket accepted with pauseOnConnect. */
  constructor(
    private readonly ws: WebSocket,
    private readonly raw: net.Socket,
    subprotocol: IrcSubprotocol | null,
  ) {
    super();
    this.remoteAddress = raw.remoteAddress;
    this.remotePort = raw.remotePort;
    this.encrypted = 'encrypted' in raw && raw.encrypted === true;
    this.subprotocol = subprotocol;
    this.frames = subprotocol === binarySubprotocol ? binaryFrames : textFrames;
    listenTo(this, ws as ServedWebSocket, raw as RawSocket);
    ws.pause();
  }

  write(data: string | Uint8Array, done?: (err?: Error | null) => void): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) {
      if (done) process.nextTick(done, new Error('WebSocket is not open'));
      return false;
    }
    const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    // One syscall for the whole batch: ws corks per frame, this holds them all. Each line is
    // sent when the next is found, so that `done` goes with the last one.
    this.raw.cork();
    let pending: string | null = null;
    let start = 0;
    while (start < text.length) {
      let lf = text.indexOf('\n', start);
      if (lf === -1) lf = text.length;
      const stop = lf > start && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
      if (stop > start) {
        if (pending !== null) this.ws.send(pending, this.frames);
        pending = text.slice(start, stop);
      }
      start = lf + 1;
    }
    if (pending !== null) this.ws.send(pending, this.frames, done);
    else if (done) process.nextTick(done);
    this.raw.uncork();
    return this.raw.writableLength === 0;
  }

  end(last?: string | Uint8Array, done?: () => void): void {
    if (last !== undefined) this.write(last);
    this.ws.close(1000);
    if (!done) return;
    // ws gives no hook for "the close frame is written"; an empty write queued behind it
    // completes when it (and the last line) have been taken by the kernel.
    if (this.raw.writable) this.raw.write(empty, () => done());
    else process.nextTick(done);
  }

  destroy(): void {
    this.ws.terminate();
  }

  pause(): void {
    this.paused = true;
    this.ws.pause();
  }

  resume(): void {
    this.paused = false;
    this.ws.resume();
    // Later, as a socket's resume() emits later: never inside the caller's own step.
    if (this.held) process.nextTick(releaseHeld, this);
  }

  setNoDelay(noDelay = true): void {
    this.raw.setNoDelay(noDelay);
  }

  get writableLength(): number {
    return this.ws.bufferedAmount;
  }

  get writable(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get destroyed(): boolean {
    return this.raw.destroyed;
  }

  /** A message arrived: on to the session as a line of bytes (or held while paused). */
  receive(message: Buffer): void {
    const bytes = Buffer.allocUnsafe(message.length + 1);
    message.copy(bytes);
    bytes[message.length] = LF;
    if (this.paused) (this.held ??= []).push(bytes);
    else this.emit('data', bytes);
  }

  /** Hands on what was held while paused, unless paused again meanwhile. */
  release(): void {
    while (!this.paused && this.held && this.held.length > 0) this.emit('data', this.held.shift()!);
    if (this.held?.length === 0) this.held = null;
  }

  /** The first failure is reported; later ones (ws's and the socket's for one cause) are not. */
  fail(err: NodeJS.ErrnoException): void {
    if (this.errored) return;
    this.errored = true;
    this.emit('error', err);
  }

  /** ws closed: 'end' first when the client said goodbye with a close frame, then 'close'. */
  finish(code: number): void {
    if (!this.errored && code !== closedAbnormally) this.emit('end');
    this.emit('close');
  }
}

function releaseHeld(transport: WebSocketTransport): void {
  transport.release();
}

function listenTo(transport: WebSocketTransport, ws: ServedWebSocket, raw: RawSocket): void {
  ws[kTransport] = transport;
  raw[kTransport] = transport;
  ws.on('message', webSocketOnMessage);
  ws.on('error', webSocketOnError);
  ws.on('close', webSocketOnClose);
  // ws swallows the socket's own errors (ECONNRESET, ...) and reports a plain 1006 close; the
  // session should log them as it does for TCP.
  raw.on('error', rawOnError);
}

function webSocketOnMessage(this: ServedWebSocket, data: WebSocket.RawData): void {
  // binaryType is 'nodebuffer' (ws's default): a message is one Buffer, fragments joined.
  this[kTransport]?.receive(data as Buffer);
}
function webSocketOnError(this: ServedWebSocket, err: NodeJS.ErrnoException): void {
  // A protocol error (oversized message, invalid UTF-8 in a text frame, an unmasked frame...):
  // ws has already sent its close frame with the matching status code.
  this[kTransport]?.fail(err);
}
function webSocketOnClose(this: ServedWebSocket, code: number): void {
  const transport = this[kTransport];
  this[kTransport] = undefined;
  transport?.finish(code);
}
function rawOnError(this: RawSocket, err: NodeJS.ErrnoException): void {
  this[kTransport]?.fail(err);
}
