// Delivery between nodes over Redis pub/sub. Each node delivers to its own clients itself and
// publishes once for the others:
//   - a message to one channel: one PUBLISH on that channel's pub/sub channel, to which every
//     node with members of it is subscribed (SUBSCRIBE before its first member's JOIN runs, so
//     nothing published after the JOIN can be missed; UNSUBSCRIBE after its last one leaves);
//   - a message to several channels at once (a QUIT, a NICK: each member once, however many of
//     the channels it shares): one PUBLISH on the network's `all` channel; every node picks its
//     own members of any of them;
//   - a message to one client, and the state's control messages: one PUBLISH on the node's own
//     channel; so does a client's new user@host (CHGHOST), for its node, and each frame of a
//     connection relayed to its user's home node (multiclient across nodes), either way;
//   - a message to the watchers of a nick (MONITOR), or to a channel and the extended-monitor
//     watchers of a nick: one PUBLISH on `all` (who watches whom only each node knows);
//   - a channel renamed (RENAME): its script publishes on `renames` itself, in the same step.
//     Each node follows the new name once it hears of it, so for a while (renameSettleMs) a
//     node sends what it has for that channel on `all`, which every node already receives: a
//     node can only learn the new name after the rename reached every subscriber in that order.
// Order: one node's PUBLISHes go out on one connection in the order made, and Redis delivers
// them to each subscriber in that order, so messages from one sender to one channel arrive in
// the order sent. A node ignores what it published itself (it already delivered it locally).
// Pub/sub does not store: what is published to a node while its subscriber is disconnected is
// lost, so the link counts as down until the subscriber has resubscribed (network.ts).

import type { Redis } from 'ioredis';
import { nodeOf } from '../state/ids.js';
import type { HostChange } from '../commands/types.js';
import type { IrcMessage } from '../wire/message.js';
import type { DeliveryForms, NetworkBus, RelayFrame, RemoteDelivery } from '../session/routing.js';
import type { StateControl } from './redisState.js';

/** `o` the publishing node, `s` its sequence number on that pub/sub channel. */
type Payload =
  | { o: number; s: number; d: RemoteDelivery }
  /** On `renames`, published by renameChannel.lua, there is no `s`. */
  | { o: number; s: number; c: StateControl }
  | { o: number; s: number; k: { clientId: number; reason: string } }
  | { o: number; s: number; x: { account: string } }
  | { o: number; s: number; h: HostChange }
  | { o: number; s: number; r: RelayFrame };

/**
 * How long after hearing of a rename a node sends the channel's messages on `all` instead of
 * the channel's own pub/sub channel: far more than one subscription round trip to Redis.
 */
export const renameSettleMs = 10_000;

export interface RedisBusOptions {
  /** The command connection (shared with the state, so a state's control message and the
   * deliveries that follow it leave in order). */
  publisher: Redis;
  /** A connection used only for pub/sub. */
  subscriber: Redis;
  prefix: string;
  nodeIndex: number;
  onDelivery(delivery: RemoteDelivery): void;
  onControl(control: StateControl): void;
  /** Another node removes one of this node's clients (KILL, GHOST). */
  onKill(clientId: number, reason: string): void;
  /** Another node dropped an account: log out this node's connections to it. */
  onAccountDropped(account: string): void;
  /** Another node changed the user@host of one of this node's clients (CHGHOST). */
  onHostChange(change: HostChange): void;
  /** A frame of a relayed connection from node `origin` (multiclient across nodes). */
  onRelay(origin: number, frame: RelayFrame): void;
  /** A PUBLISH failed (Redis unreachable): the caller logs it; nothing is retried. */
  onPublishFailed(error: unknown): void;
  /**
   * `count` messages from node `origin` never arrived (a gap in its sequence): our subscriber
   * was disconnected meanwhile. `channel` is the folded IRC channel they were for, or null
   * (messages to several channels, to one client, or control messages).
   */
  onLost(origin: number, channel: string | null, count: number): void;
}

export class RedisBus implements NetworkBus {
  private readonly allChannel: string;
  private readonly nodeChannel: string;
  /** Where renameChannel.lua announces renames. */
  private readonly renamesChannel: string;
  /** Folded names of channels renamed lately -> until when (ms) their messages go on `all`. */
  private readonly settling = new Map<string, number>();
  /** Pub/sub channels of IRC channels start with this; what follows is the folded name. */
  private readonly channelPrefix: string;
  private readonly subscribed = new Set<string>();
  /** The next sequence number per pub/sub channel we publish on. */
  private readonly sent = new Map<string, number>();
  /** The last sequence number seen per (origin node, pub/sub channel), to notice gaps. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly options: RedisBusOptions) {
    this.allChannel = `${options.prefix}all`;
    this.renamesChannel = `${options.prefix}renames`;
    this.channelPrefix = `${options.prefix}chan:`;
    this.nodeChannel = this.channelOfNode(options.nodeIndex);
  }

  /** Subscribes to this node's channel and the network-wide one, and starts listening. */
  async start(): Promise<void> {
    this.options.subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
    await this.options.subscriber.subscribe(this.nodeChannel, this.allChannel, this.renamesChannel);
  }

  /**
   * After the subscriber reconnected: subscribe again to everything this node follows, and
   * resolve once Redis has confirmed it (only then is nothing published to us lost).
   */
  async resubscribe(): Promise<void> {
    await this.options.subscriber.subscribe(this.nodeChannel, this.allChannel, this.renamesChannel, ...this.subscribed);
  }

  /** Before this node's first member of `channel` joins: receive what is said there. */
  async follow(channel: string): Promise<void> {
    const name = this.channelOf(channel);
    if (this.subscribed.has(name)) return;
    this.subscribed.add(name);
    try {
      await this.options.subscriber.subscribe(name);
    } catch (err) {
      // Not following after all (the subscriber is down): the JOIN fails with it, and the
      // next join of this channel asks again.
      this.subscribed.delete(name);
      throw err;
    }
  }

  /** A channel is now named `channel` (folded): its messages go on `all` for renameSettleMs. */
  renamed(channel: string): void {
    this.settling.set(channel, Date.now() + renameSettleMs);
  }

  /** Whether messages to `channel` still go on `all` after a rename (forgets it once settled). */
  private isSettling(channel: string): boolean {
    const until = this.settling.get(channel);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.settling.delete(channel);
    return false;
  }

  /** After this node's last member of `channel` left. */
  async unfollow(channel: string): Promise<void> {
    const name = this.channelOf(channel);
    if (!this.subscribed.delete(name)) return;
    // A later subscription starts afresh: what was said in between was not for us.
    for (const key of [...this.seen.keys()]) if (key.endsWith(`|${name}`)) this.seen.delete(key);
    await this.options.subscriber.unsubscribe(name);
  }

  toChannels(
    channels: string[],
    except: number | undefined,
    message: IrcMessage,
    time: string,
    forms: DeliveryForms = {},
    watchersOf?: string,
  ): void {
    const delivery: RemoteDelivery = { kind: 'channels', channels, message, time, ...forms };
    if (except !== undefined) delivery.except = except;
    if (watchersOf !== undefined) delivery.watchersOf = watchersOf;
    const one = channels.length === 1 && watchersOf === undefined && !this.isSettling(channels[0]!);
    const target = one ? this.channelOf(channels[0]!) : this.allChannel;
    this.publish(target, { d: delivery });
  }

  toMonitors(nick: string, message: IrcMessage, time: string, forms: DeliveryForms = {}): void {
    this.publish(this.allChannel, { d: { kind: 'monitors', nick, message, time, ...forms } });
  }

  changeHost(change: HostChange): void {
    this.publish(this.channelOfNode(nodeOf(change.clientId)), { h: change });
  }

  toClient(clientId: number, message: IrcMessage, time: string, forms: DeliveryForms = {}): void {
    this.publish(this.channelOfNode(nodeOf(clientId)), { d: { kind: 'client', clientId, message, time, ...forms } });
  }

  toEveryone(userMode: string, message: IrcMessage, time: string, forms: DeliveryForms = {}): void {
    this.publish(this.allChannel, { d: { kind: 'everyone', userMode, message, time, ...forms } });
  }

  /** On `all`: which node holds the account's connections only each node knows. */
  toAccount(account: string, message: IrcMessage, time: string, forms: DeliveryForms = {}): void {
    this.publish(this.allChannel, { d: { kind: 'account', account, message, time, ...forms } });
  }

  logoutAccount(account: string): void {
    this.publish(this.allChannel, { x: { account } });
  }

  kill(clientId: number, reason: string): void {
    this.publish(this.channelOfNode(nodeOf(clientId)), { k: { clientId, reason } });
  }

  /** A relayed connection's frame, on the node's own channel: in order with its other frames. */
  relay(nodeIndex: number, frame: RelayFrame): void {
    this.publish(this.channelOfNode(nodeIndex), { r: frame });
  }

  /** A control message of the network state for another node (e.g. its client was kicked). */
  control(nodeIndex: number, control: StateControl): void {
    this.publish(this.channelOfNode(nodeIndex), { c: control });
  }

  private publish(
    channel: string,
    body:
      | { d: RemoteDelivery }
      | { c: StateControl }
      | { k: { clientId: number; reason: string } }
      | { x: { account: string } }
      | { h: HostChange }
      | { r: RelayFrame },
  ): void {
    // Numbered per pub/sub channel, so a receiver that was cut off can tell how much it missed.
    const s = (this.sent.get(channel) ?? 0) + 1;
    this.sent.set(channel, s);
    const payload = { o: this.options.nodeIndex, s, ...body } as Payload;
    this.options.publisher.publish(channel, JSON.stringify(payload)).catch((err: unknown) => this.options.onPublishFailed(err));
  }

  private receive(channel: string, raw: string): void {
    let payload: Payload;
    try {
      payload = JSON.parse(raw) as Payload;
    } catch {
      return; // not ours: another program on the same Redis channel
    }
    if (payload.o === this.options.nodeIndex) return;
    // Published by a script, not a node's bus: no sequence to check.
    if (channel === this.renamesChannel) {
      if ('c' in payload) this.options.onControl(payload.c);
      return;
    }
    const key = `${payload.o}|${channel}`;
    const last = this.seen.get(key);
    this.seen.set(key, payload.s);
    if (last !== undefined && payload.s > last + 1) {
      const ircChannel = channel.startsWith(this.channelPrefix) ? channel.slice(this.channelPrefix.length) : null;
      this.options.onLost(payload.o, ircChannel, payload.s - last - 1);
    }
    if ('c' in payload) this.options.onControl(payload.c);
    else if ('k' in payload) this.options.onKill(payload.k.clientId, payload.k.reason);
    else if ('x' in payload) this.options.onAccountDropped(payload.x.account);
    else if ('h' in payload) this.options.onHostChange(payload.h);
    else if ('r' in payload) this.options.onRelay(payload.o, payload.r);
    else this.options.onDelivery(payload.d);
  }

  private channelOf(channel: string): string {
    return `${this.channelPrefix}${channel}`;
  }

  private channelOfNode(nodeIndex: number): string {
    return `${this.options.prefix}node:${nodeIndex}`;
  }
}
