// Where a handler's sends go: to this node's clients directly, to clients on other nodes
// through the bus (--redis). The session adapter delivers to its own clients itself and hands
// the rest to the bus; the bus hands what other nodes sent back through `deliverToMembers` and
// `localSession`. Without a bus this process is the whole network.

import type { Send } from '../commands/types.js';
import type { NetworkState } from '../state/networkState.js';
import { connectionOf, nodeOf } from '../state/ids.js';
import type { IrcMessage } from '../wire/message.js';
import { send, shared, type SharedMessage } from './outbox.js';
import type { Session } from './session.js';

/** Delivery to clients on other nodes (implemented by src/irc/redis/bus.ts). */
export interface NetworkBus {
  /** To the members of these (folded) channels on other nodes, each once, except `except`. */
  toChannels(channels: string[], except: number | undefined, message: IrcMessage, time: string): void;
  /** To one client on another node. */
  toClient(clientId: number, message: IrcMessage, time: string): void;
}

/** What another node sent for this node's clients. */
export type RemoteDelivery =
  | { kind: 'channels'; channels: string[]; except?: number; message: IrcMessage; time: string }
  | { kind: 'client'; clientId: number; message: IrcMessage; time: string };

export class Router {
  constructor(
    private readonly state: NetworkState,
    private readonly sessions: ReadonlyMap<number, Session>,
    readonly nodeIndex: number,
    private readonly bus: NetworkBus | null,
    private readonly now: () => number,
  ) {}

  /** This node's session for a network-wide client id, if the client is here. */
  localSession(clientId: number): Session | undefined {
    return nodeOf(clientId) === this.nodeIndex ? this.sessions.get(connectionOf(clientId)) : undefined;
  }

  deliver(from: Session, s: Send): void {
    const to = s.to;
    if (to.kind === 'self') return send(from, s.message);
    const message = shared(s.message, new Date(this.now()).toISOString());
    const bus = this.bus;
    if (to.kind === 'client') {
      if (nodeOf(to.clientId) === this.nodeIndex) {
        const target = this.localSession(to.clientId);
        if (target) send(target, message);
      } else bus?.toClient(to.clientId, s.message, message.time);
      return;
    }
    this.deliverToMembers(to.channels, to.except, message);
    // Other nodes' members get one message per node from the bus; a `plus` client elsewhere
    // (kicked: no longer a member there) gets its own.
    bus?.toChannels(to.channels, to.except, s.message, message.time);
    for (const id of to.plus ?? []) {
      if (id === to.except) continue;
      if (nodeOf(id) !== this.nodeIndex) bus?.toClient(id, s.message, message.time);
      else if (!this.isMemberOfAny(id, to.channels)) {
        const target = this.localSession(id);
        if (target) send(target, message);
      }
    }
  }

  /** To this node's members of the channels, each once even when they share several. */
  deliverToMembers(channels: string[], except: number | undefined, message: SharedMessage): void {
    const seen = channels.length > 1 ? new Set<number>() : null;
    for (const channel of channels) {
      for (const id of this.state.localMembers(channel)) {
        if (id === except) continue;
        if (seen) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        const target = this.localSession(id);
        if (target) send(target, message);
      }
    }
  }

  /** Delivers what another node sent for this node's clients. */
  deliverRemote(delivery: RemoteDelivery): void {
    const message = shared(delivery.message, delivery.time);
    if (delivery.kind === 'channels') return this.deliverToMembers(delivery.channels, delivery.except, message);
    const target = this.localSession(delivery.clientId);
    if (target) send(target, message);
  }

  private isMemberOfAny(id: number, channels: string[]): boolean {
    for (const channel of channels) for (const member of this.state.localMembers(channel)) if (member === id) return true;
    return false;
  }
}
