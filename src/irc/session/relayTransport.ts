// A client connected to another node of the network, served here as a Transport (transport.ts):
// multiclient across nodes. When a connection logs in to an account whose user lives on another
// node (its home), the node it connected to stops running its commands and relays its bytes to
// the home over the bus, and the home serves it with this transport, as one more connection of
// that user, exactly as it serves its own sockets: the same framer, limits, fakelag, machine.
//   - in:  what the client sent, as the other node read it off its socket (receive), into the
//          session's line framer like TCP bytes;
//   - out: what the session writes goes back to the other node (RelayLink.out), which writes it
//          to the client's socket under that node's sendq; end() and destroy() ask that node to
//          close the client (RelayLink.end).
// It has no flow control of its own: pub/sub carries no backpressure. The node holding the
// socket bounds what its client leaves unread (its sendq) and this node bounds what the client
// leaves unrun (the recvq); either closes the client, and the other hears of it.
// kept.ts uses it too, with output going nowhere: an always-on user brought back at start is a
// client with no socket at all.
// Either way the client registers again here from what `registration` gives it (NICK, USER),
// already logged in to its account (RelayInit.account, set by the session adapter).

import { EventEmitter } from 'node:events';
import type { Transport } from '../../core/transport.js';

/** What the node holding the socket knows of the client when it hands it over. */
export interface RelayInit {
  ip: string;
  host: string;
  tls: boolean;
  certfp: string | null;
  /** The account it logged in to (SASL, before registration). */
  account: string;
  /** Its capabilities, as negotiated there. */
  caps: string[];
  capVersion: number;
  user: string;
  /** Never empty (USER needs one): `*` when there was none. */
  realname: string;
  /**
   * An always-on user brought back at start (kept.ts), not a connection: it leaves at once, and
   * its leaving keeps when the user's last real connection closed (KeptUser.leftAt).
   */
  restored?: true;
}

/** The lines that register the client again here, under its account's nick, before anything it sends. */
export function registration(init: RelayInit): string {
  return `NICK ${init.account}\r\nUSER ${init.user} 0 * :${init.realname}\r\n`;
}

/** How this transport reaches the node holding the socket. */
export interface RelayLink {
  /** Output for the client, in order. */
  out(data: string): void;
  /** Close the client once what was sent is written. */
  end(): void;
}

export class RelayTransport extends EventEmitter implements Transport {
  readonly remoteAddress: string;
  readonly remotePort = 0;
  readonly remoteLabel: string;
  readonly encrypted: boolean;
  writable = true;
  destroyed = false;
  readonly writableLength = 0;
  private paused = true;
  /** What came while paused (the listener accepts clients paused), handed on at resume(). */
  private held: Buffer[] = [];
  /** The other node said the client is gone: nothing more to tell it. */
  private remoteGone = false;

  constructor(
    /** The node holding the socket. */
    readonly origin: number,
    /** The client's id there (network-wide): names this relay in both directions. */
    readonly conn: number,
    readonly init: RelayInit,
    private readonly link: RelayLink,
  ) {
    super();
    this.remoteAddress = init.ip;
    this.encrypted = init.tls;
    this.remoteLabel = init.restored === true ? `${init.account}, always-on, brought back` : `${init.ip}, relayed from node ${origin}`;
  }

  /** Bytes the client sent, relayed by the node holding its socket. */
  receive(bytes: Buffer): void {
    if (this.destroyed) return;
    if (this.paused) this.held.push(bytes);
    else this.emit('data', bytes);
  }

  /** The client is gone from the node holding its socket (it closed, or that node stopped). */
  remoteClosed(): void {
    if (this.destroyed) return;
    this.remoteGone = true;
    this.emit('end');
    this.finish();
  }

  write(data: string | Uint8Array, done?: (err?: Error | null) => void): boolean {
    if (!this.writable) return false;
    this.link.out(typeof data === 'string' ? data : Buffer.from(data).toString());
    if (done) queueMicrotask(() => done(null));
    return true;
  }

  end(last?: string | Uint8Array, done?: () => void): this {
    if (this.writable && last !== undefined) this.write(last);
    this.finish();
    if (done) queueMicrotask(done);
    return this;
  }

  destroy(): this {
    this.finish();
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const bytes of held) if (!this.destroyed) this.emit('data', bytes);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  /** Closed in both directions: the other node is told (unless it told us), then 'close'. */
  private finish(): void {
    if (this.destroyed) return;
    this.writable = false;
    this.destroyed = true;
    if (!this.remoteGone) this.link.end();
    setImmediate(() => this.emit('close'));
  }
}
