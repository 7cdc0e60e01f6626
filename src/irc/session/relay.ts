// Multiclient across nodes, both ends of a relayed connection. A connection that logs in to an
// account whose user lives on another node (its home) is welcomed there, not here:
//   - on the node holding the socket (`start`): once the welcome says `irc.relayed`, the
//     client's bytes go to the home unread (frame `in`), and what the home writes for it comes
//     back into its outbox (`out`), under this node's sendq; the home's `end` closes it.
//   - on the home (`frame` `open`): the client is a RelayTransport (relayTransport.ts), adopted
//     by the listener as any client, so it registers again and joins the user as a connection
//     of this node would (registration.ts joinOwnUser): echo, nick and away in step, always-on
//     and leaving alone all work as on one node, because there it is on one node.
// Either side hears when the other lets go (`closed`, `end`); a node that dies, or whose
// frames were lost on the bus, takes its relays with it (`lost`).

import type { Logger } from '../../core/logger.js';
import type { Transport } from '../../core/transport.js';
import { connectionOf, nodeOf } from '../state/ids.js';
import { stopInbox } from './inbox.js';
import { flush, sendRaw } from './outbox.js';
import { RelayTransport, registration, type RelayInit } from './relayTransport.js';
import type { NetworkBus, RelayFrame } from './routing.js';
import type { Session } from './session.js';

export class Relays {
  /** Clients other nodes relay here, by their id on the node holding their socket. */
  private readonly served = new Map<number, RelayTransport>();
  private adopter: { adopt(client: Transport): number } | null = null;

  constructor(
    private readonly bus: NetworkBus,
    private readonly nodeIndex: number,
    private readonly sessions: ReadonlyMap<number, Session>,
    private readonly logger: Logger,
  ) {}

  /** Who serves the clients other nodes relay here: the listener, once it runs. */
  accept(adopter: { adopt(client: Transport): number }): void {
    this.adopter = adopter;
  }

  /**
   * On the node holding the socket: hands the (welcomed) client to its user's home. The home
   * registers it again, under the account's nick (its user's, since it is logged in to it);
   * then come the lines it sent that did not run here, and the start of the line it is sending.
   */
  start(session: Session, home: number): void {
    const client = session.client;
    if (client.account === null) return;
    const init: RelayInit = {
      ip: client.ip,
      host: client.host,
      tls: client.tls,
      certfp: client.certfp,
      account: client.account,
      caps: [...client.caps],
      capVersion: client.capVersion,
      user: client.user ?? '~user',
      realname: client.realname || '*',
    };
    const parts = [Buffer.from(registration(init))];
    const inbox = session.inbox;
    if (inbox !== null) for (let i = session.inboxHead; i < inbox.length; i++) parts.push(Buffer.from(`${inbox[i]!.text}\r\n`));
    parts.push(Buffer.from(session.framer.rest()));
    session.inbox = null;
    session.inboxHead = 0;
    session.inboxBytes = 0;
    stopInbox(session);
    session.relay = home;
    // This node no longer acts for the client: nothing addressed to its account here is its.
    client.account = null;
    const conn = client.id;
    const socket = session.socket;
    // The session's own reader stops here (its framer and inbox are done with).
    socket.removeAllListeners('data');
    socket.on('data', (bytes: Buffer) => {
      session.stats.bytesIn += bytes.length;
      this.bus.relay(home, { op: 'in', conn, data: bytes.toString('base64') });
    });
    this.bus.relay(home, { op: 'open', conn, init, data: Buffer.concat(parts).toString('base64') });
    this.logger.log('info', 'irc.relayed', { id: session.id, home });
  }

  /** On the node holding the socket: the relayed client left; its home hears it, unless the home let it go. */
  departed(session: Session, homeLetGo: boolean): void {
    if (session.relay !== null && !homeLetGo) this.bus.relay(session.relay, { op: 'closed', conn: session.client.id });
  }

  /** A frame from node `origin`, for either end. */
  frame(origin: number, frame: RelayFrame): void {
    switch (frame.op) {
      case 'open':
        return this.open(origin, frame.conn, frame.init, frame.data);
      case 'in':
        return this.servedBy(origin, frame.conn)?.receive(Buffer.from(frame.data, 'base64'));
      case 'closed':
        return this.servedBy(origin, frame.conn)?.remoteClosed();
      case 'out': {
        const session = this.relayedTo(origin, frame.conn);
        if (session) sendRaw(session, frame.data);
        return;
      }
      case 'end': {
        const session = this.relayedTo(origin, frame.conn);
        if (!session) return;
        flush(session);
        session.actor?.send({ type: 'relay.ended' });
        return;
      }
    }
  }

  /** Node `node` is gone, or frames from it were lost: every relay with it ends (null: every relay). */
  lost(node: number | null): void {
    for (const session of this.sessions.values()) {
      if (session.relay !== null && (node === null || session.relay === node)) session.actor?.send({ type: 'relay.lost' });
    }
    for (const transport of [...this.served.values()]) if (node === null || transport.origin === node) transport.remoteClosed();
  }

  /** On the home: serve a client node `origin` relays here. */
  private open(origin: number, conn: number, init: RelayInit, data: string): void {
    if (this.adopter === null || this.served.has(conn) || nodeOf(conn) !== origin) return this.bus.relay(origin, { op: 'end', conn });
    const transport = new RelayTransport(origin, conn, init, {
      out: (text) => this.bus.relay(origin, { op: 'out', conn, data: text }),
      end: () => this.bus.relay(origin, { op: 'end', conn }),
    });
    this.served.set(conn, transport);
    transport.once('close', () => this.served.delete(conn));
    this.adopter.adopt(transport);
    transport.receive(Buffer.from(data, 'base64'));
  }

  private servedBy(origin: number, conn: number): RelayTransport | undefined {
    const transport = this.served.get(conn);
    return transport?.origin === origin ? transport : undefined;
  }

  /** A client of this node relayed to `origin`, named by a frame from it. */
  private relayedTo(origin: number, conn: number): Session | undefined {
    if (nodeOf(conn) !== this.nodeIndex) return undefined;
    const session = this.sessions.get(connectionOf(conn));
    return session?.relay === origin ? session : undefined;
  }
}
