// Delivery between nodes over Redis pub/sub. Each node delivers to its own clients itself and
// publishes once for the others:
//   - a message to one channel: one PUBLISH on that channel's pub/sub channel, to which every
//     node with members of it is subscribed (SUBSCRIBE before its first member's JOIN runs, so
//     nothing published after the JOIN can be missed; UNSUBSCRIBE after its last one leaves);
//   - a message to several channels at once (a QUIT, a NICK: each member once, however many of
//     the channels it shares): one PUBLISH on the network's `all` channel; every node picks its
//     own members of any of them;
//   - a message to one client, and the state's control messages: one PUBLISH on the node's own
//     channel.
// Order: one node's PUBLISHes go out on one connection in the order made, and Redis delivers
// them to each subscriber in that order, so messages from one sender to one channel arrive in
// the order sent. A node ignores what it published itself (it already delivered it locally).

import type { Redis } from 'ioredis';
import { nodeOf } from '../../irc/ids.js';
import type { IrcMessage } from '../../protocol/irc/message.js';
import type { NetworkBus, RemoteDelivery } from '../ircSession.js';
import type { StateControl } from './state.js';

type Payload = { o: number; d: RemoteDelivery } | { o: number; c: StateControl };

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
  /** A PUBLISH failed (Redis unreachable): the caller logs it; nothing is retried. */
  onPublishFailed(error: unknown): void;
}

export class RedisBus implements NetworkBus {
  private readonly allChannel: string;
  private readonly nodeChannel: string;
  private readonly subscribed = new Set<string>();

  constructor(private readonly options: RedisBusOptions) {
    this.allChannel = `${options.prefix}all`;
    this.nodeChannel = this.channelOfNode(options.nodeIndex);
  }

  /** Subscribes to this node's channel and the network-wide one, and starts listening. */
  async start(): Promise<void> {
    this.options.subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.receive(message));
    await this.options.subscriber.subscribe(this.nodeChannel, this.allChannel);
  }

  /** Before this node's first member of `channel` joins: receive what is said there. */
  async follow(channel: string): Promise<void> {
    const name = this.channelOf(channel);
    if (this.subscribed.has(name)) return;
    this.subscribed.add(name);
    await this.options.subscriber.subscribe(name);
  }

  /** After this node's last member of `channel` left. */
  async unfollow(channel: string): Promise<void> {
    const name = this.channelOf(channel);
    if (!this.subscribed.delete(name)) return;
    await this.options.subscriber.unsubscribe(name);
  }

  toChannels(channels: string[], except: number | undefined, message: IrcMessage, time: string): void {
    const delivery: RemoteDelivery = { kind: 'channels', channels, message, time };
    if (except !== undefined) delivery.except = except;
    const target = channels.length === 1 ? this.channelOf(channels[0]!) : this.allChannel;
    this.publish(target, { o: this.options.nodeIndex, d: delivery });
  }

  toClient(clientId: number, message: IrcMessage, time: string): void {
    this.publish(this.channelOfNode(nodeOf(clientId)), { o: this.options.nodeIndex, d: { kind: 'client', clientId, message, time } });
  }

  /** A control message of the network state for another node (e.g. its client was kicked). */
  control(nodeIndex: number, control: StateControl): void {
    this.publish(this.channelOfNode(nodeIndex), { o: this.options.nodeIndex, c: control });
  }

  private publish(channel: string, payload: Payload): void {
    this.options.publisher.publish(channel, JSON.stringify(payload)).catch((err: unknown) => this.options.onPublishFailed(err));
  }

  private receive(raw: Buffer): void {
    let payload: Payload;
    try {
      payload = JSON.parse(raw.toString('utf8')) as Payload;
    } catch {
      return; // not ours: another program on the same Redis channel
    }
    if (payload.o === this.options.nodeIndex) return;
    if ('c' in payload) this.options.onControl(payload.c);
    else this.options.onDelivery(payload.d);
  }

  private channelOf(channel: string): string {
    return `${this.options.prefix}chan:${channel}`;
  }

  private channelOfNode(nodeIndex: number): string {
    return `${this.options.prefix}node:${nodeIndex}`;
  }
}
