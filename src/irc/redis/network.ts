// A node of a network on Redis (`--redis URL`): the only code that owns Redis connections. It
// connects (one connection for commands and PUBLISH, one for SUBSCRIBE), draws this node's
// index, and builds the three parts: the network state (state.ts), the bus between nodes
// (bus.ts), the presence of nodes (presence.ts). It maps the Redis client's connection events
// to the link machine's events (src/irc/redis/redisLinkMachine.ts), which decides what local
// users are told and when the node re-registers after an outage.

import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { createActor, fromPromise } from 'xstate';
import { ChatError } from '../../core/errors.js';
import { connectionOf } from '../state/ids.js';
import type { Logger } from '../../core/logger.js';
import { redisLinkMachine } from './redisLinkMachine.js';
import type { IrcProtocol } from '../session/protocol.js';
import { RedisBus } from './bus.js';
import { allocateNodeIndex, Presence } from './presence.js';
import { fold } from '../wire/casemap.js';
import { monitorOfflineMessage } from '../commands/monitor.js';
import { redisStateClientOptions } from './redisClient.js';
import { RedisState } from './redisState.js';
import type { RestoreChannel, RestoreUser } from './restore.js';

/**
 * Beats between two snapshots of this node's users in Redis (op/voice, channel topics and
 * modes, for a restore after Redis lost its data). A snapshot reads every local user: every
 * beat would cost a large node more than the chat itself.
 */
const snapshotEveryBeats = 10;

export interface RedisNetworkOptions {
  /** `--redis`: the Redis to use; unused when `sentinels` are given. */
  url: string;
  /** `--redis-sentinel`: the Sentinels that name the primary (`name`), followed through failovers. */
  sentinels?: Array<{ host: string; port: number }> | null;
  /** `--redis-name`: the primary's name in the Sentinels' configuration. */
  name?: string;
  /** The network's name: nodes with the same URL and name are one network. */
  network: string;
  serverName: string;
  heartbeatMs: number;
  nodeTimeoutMs: number;
  logger: Logger;
  /**
   * The node's store (accounts, channels, bans): every node of a network must use the same one,
   * or a nick registered on one would be free on another. Its id is recorded on the network by
   * the first node; a node with another store is refused (STORE_MISMATCH).
   */
  store?: { id: string; kind: string; where: string };
}

export interface RedisNetwork {
  readonly nodeIndex: number;
  readonly state: RedisState;
  readonly bus: RedisBus;
  /** The server is running: deliveries from other nodes go to its clients from now on. */
  attach(protocol: IrcProtocol): void;
  /**
   * Another node was found holding this node's index (Redis came back empty and a newcomer drew
   * it first): the node has already cut its link to Redis; `handler` stops the server.
   */
  whenIndexTaken(handler: () => void): void;
  /** After the server stopped (its users have quit): leave the network and disconnect. */
  close(): Promise<void>;
  /** The link machine's state (`up`, `down`, `resyncing`, ...), for --metrics. */
  linkState(): string;
  /** One PING's round trip to Redis in ms; rejects when Redis does not answer within `timeoutMs`. */
  ping(timeoutMs: number): Promise<number>;
}

/** Key prefix of a network: a hash tag, so a Redis Cluster keeps a network's keys together. */
export function prefixOf(network: string): string {
  return `irc:{${network}}:`;
}

/** What the URL looks like in logs: never its password. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Records the network's store on first use (or again, after Redis lost it); the store id the network has, or null. */
async function recordStore(redis: Redis, prefix: string, store: { id: string }): Promise<string | null> {
  const key = `${prefix}store`;
  await redis.set(key, store.id, 'NX');
  return redis.get(key);
}

/** Records the network's store on first use; refuses a node whose store is another one. */
async function claimStore(redis: Redis, prefix: string, store: { id: string; kind: string; where: string }): Promise<void> {
  const shared = await recordStore(redis, prefix, store);
  if (shared !== null && shared !== store.id) {
    throw new ChatError(
      'STORE_MISMATCH',
      `this node's store (${store.kind} ${store.where}) is not the one the network's other nodes share: give every node the same --database (or, on one machine, the same --data-dir)`,
    );
  }
}

export async function connectRedisNetwork(options: RedisNetworkOptions): Promise<RedisNetwork> {
  const { logger } = options;
  const prefix = prefixOf(options.network);
  // Commands fail at once while Redis is away (the client is told), not queued for later: a
  // PRIVMSG sent during an outage must not arrive minutes later out of context.
  const clientOptions: RedisOptions = { ...redisStateClientOptions, lazyConnect: true };
  // Behind Sentinels: ioredis asks them for the primary at every (re)connect, and hears of a
  // failover at once (failoverDetector), so a node follows it like any reconnect.
  const sentinels = options.sentinels ?? null;
  const name = options.name ?? 'mymaster';
  const shown = sentinels ? `${sentinels.map((s) => `${s.host}:${s.port}`).join(',')} (Sentinel, ${name})` : shownUrl(options.url);
  const connect = (extra: RedisOptions): Redis =>
    sentinels ? new Redis({ sentinels, name, failoverDetector: true, ...extra }) : new Redis(options.url, extra);
  const redis = connect(clientOptions);
  // The subscriber resubscribes under our control after a reconnect (bus.resubscribe), so the
  // link is not called up before Redis confirmed it: ioredis's own 'ready' comes first.
  const subscriber = connect({ ...clientOptions, autoResubscribe: false });
  // ioredis reports every failed reconnect as 'error': the link machine logs the outage once.
  for (const client of [redis, subscriber]) client.on('error', () => {});
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
  } catch (err) {
    redis.disconnect();
    subscriber.disconnect();
    throw new ChatError('NETWORK_UNAVAILABLE', `cannot reach Redis at ${shown}: ${(err as Error).message}`);
  }

  if (options.store) {
    try {
      await claimStore(redis, prefix, options.store);
    } catch (err) {
      redis.disconnect();
      subscriber.disconnect();
      throw err;
    }
  }

  const nodeName = `${options.serverName}#${randomBytes(3).toString('hex')}`;
  const { index: nodeIndex, token } = await allocateNodeIndex(redis, prefix, nodeName, options.nodeTimeoutMs);
  let protocol: IrcProtocol | null = null;
  /** Another node holds our index (Redis came back empty and a newcomer drew it first). */
  let indexTaken = false;
  let onIndexTaken: (() => void) | null = null;

  /**
   * A user's QUIT that this node says on behalf of the network (its node died, or it left while
   * Redis was away): to this node's members of its channels and, once, to the other nodes; and
   * a user that was registered is offline for those monitoring its nick, on every node.
   */
  function announceQuit(source: string, channels: string[], reason: string, registered: boolean): void {
    const time = new Date().toISOString();
    if (registered) {
      const nick = source.slice(0, source.indexOf('!'));
      const offline = monitorOfflineMessage(options.serverName, nick);
      protocol?.deliverRemote({ kind: 'monitors', nick, message: offline, time });
      bus.toMonitors(nick, offline, time, { fromServer: true });
    }
    if (channels.length === 0) return;
    const quit = { tags: {}, source, command: 'QUIT', params: [reason] };
    protocol?.deliverRemote({ kind: 'channels', channels, message: quit, time });
    bus.toChannels(channels, undefined, quit, time);
  }

  const bus = new RedisBus({
    publisher: redis,
    subscriber,
    prefix,
    nodeIndex,
    onDelivery: (delivery) => protocol?.deliverRemote(delivery),
    onControl: (control) => state.applyControl(control),
    onKill: (clientId, reason) => protocol?.kill(clientId, reason),
    onAccountDropped: (account) => protocol?.accountDropped(account),
    onHostChange: (change) => protocol?.hostChanged(change),
    onRelay: (origin, frame) => protocol?.relayFrame(origin, frame),
    onPublishFailed: (err) => logger.log('error', 'network.publishFailed', { message: (err as Error).message }),
    onLost: (origin, channel, count) => {
      logger.log('error', 'network.deliveriesLost', { origin, channel: channel ?? '', count });
      // What passed between the two nodes may have been a relayed client's: those relays are
      // no longer what their clients sent and read, so they close.
      if (channel === null) return protocol?.relayLost(origin);
      // The members here who missed them are told, as the sender could not be.
      protocol?.noticeChannel(
        channel,
        `*** ${count} message(s) from another server to this channel were lost while this server's link to the network was down.`,
      );
    },
  });
  const state = new RedisState({
    redis,
    prefix,
    nodeIndex,
    notifyNode: (index, control) => bus.control(index, control),
    follow: (channel) => bus.follow(channel),
    unfollow: (channel) => bus.unfollow(channel),
    renamed: (_from, to) => bus.renamed(to),
  });
  await bus.start();

  const presence = new Presence({
    redis,
    prefix,
    nodeIndex,
    token,
    nodeName,
    heartbeatMs: options.heartbeatMs,
    nodeTimeoutMs: options.nodeTimeoutMs,
    onError: () => {},
    onRevived() {
      // Redis coming back is the link's to resync; this is the other case: this node went
      // silent past --node-timeout (a stalled event loop, a paused VM) while Redis stayed up,
      // and another node may have taken its users off the network. They are put back, as after
      // a restart of Redis; whoever saw them quit meanwhile sees them again when they speak.
      // Our key also goes when Redis restarts empty: the link's resync has put the users back
      // then, and this node was not silent. (Two resyncs at once would each restore them.)
      if (!link.getSnapshot().matches('up') || Date.now() - linkResyncAt < options.nodeTimeoutMs) return;
      logger.log('error', 'network.revived', { node: nodeIndex });
      resync().catch((err: unknown) => logger.log('error', 'network.resyncFailed', { message: String(err) }));
    },
    onIndexTaken() {
      indexTaken = true;
      logger.log('error', 'network.indexTaken', { node: nodeIndex, code: 'NODE_INDEX_TAKEN' });
      // Every id this node gave its clients is another node's to give now: it writes nothing
      // more to the network (a departure would remove the other node's user), and stops.
      redis.disconnect();
      subscriber.disconnect();
      onIndexTaken?.();
    },
    afterBeat: () => takeSnapshot(),
    // Clients relayed to it have lost their user; those it relayed here have lost their socket.
    onSilentNode: (index) => protocol?.relayLost(index),
    async onDeadNode(index, name) {
      const removed = await state.removeNode(index, Date.now(), true);
      logger.log('info', 'network.nodeLost', { node: index, name, users: removed.length });
      // Netsplit-style: the reason names this server and the one that was lost, as users know
      // it (its --server-name, without the suffix that tells one start of it from another).
      const lost = name.replace(/#[0-9a-f]+$/, '');
      for (const user of removed) announceQuit(`${user.nick}!${user.user}@${user.host}`, user.channels, `${options.serverName} ${lost}`, user.registered);
    },
  });

  // What Redis held of this node's users (their op/voice, their channels' topics and modes),
  // refreshed every few beats: what the node puts back if Redis loses it (restarted empty).
  // Who is in which channel comes from the local index, which is always current.
  let snapshot: RestoreUser[] = [];
  let beats = 0;
  /** When the link last began a resync (Redis back): see onRevived. */
  let linkResyncAt = -Infinity;
  async function takeSnapshot(): Promise<void> {
    if (beats++ % snapshotEveryBeats !== 0 || !link.getSnapshot().matches('up')) return;
    snapshot = await state.localSnapshot();
  }

  async function resync(): Promise<void> {
    if (!protocol) return;
    // Redis restarted empty has lost which store the network uses, too: a node starting now
    // would record its own and be let in with another store. The running nodes record theirs
    // again first thing (one that started meanwhile with another store is named in the log).
    if (options.store) {
      const shared = await recordStore(redis, prefix, options.store);
      if (shared !== null && shared !== options.store.id) logger.log('error', 'network.storeMismatch', { node: nodeIndex, kind: options.store.kind, where: options.store.where });
    }
    // What Redis holds of us now: everything, after a short blip; nothing, after a restart.
    const fresh = await state.localSnapshot();
    const here = new Set(protocol.clients().map((c) => c.id));
    const known = new Map([...snapshot, ...fresh].map((u) => [u.clientId, u]));
    // Always-on users left alone have no connection here, and are no ghosts: they stay, and
    // are put back with the clients (from the last snapshot, if Redis lost them).
    const alone: RestoreUser[] = [];
    for (const u of known.values()) if (!here.has(u.clientId) && (await protocol.leftAlone(u.nick, u.account))) alone.push(u);
    const aloneIds = new Set(alone.map((u) => u.clientId));
    // Clients that left while Redis was away could not be taken off the network then: do it
    // now, and tell their channels, as their QUIT would have.
    for (const ghost of fresh) {
      if (here.has(ghost.clientId) || aloneIds.has(ghost.clientId)) continue;
      const removed = await state.removeUser(ghost.clientId, Date.now());
      if (removed) announceQuit(`${ghost.nick}!${ghost.profile.user}@${ghost.profile.host}`, removed.channels, 'Connection closed', removed.registered);
    }
    const memberships = [...state.localChannels()];
    /** A local user's channels now (the local index), with the op/voice Redis last had. */
    const channelsOf = (id: number, saved: RestoreUser | undefined): RestoreChannel[] => {
      const channels: RestoreChannel[] = [];
      for (const [folded, ids] of memberships) {
        if (!ids.has(id)) continue;
        const was = saved?.channels.find((ch) => fold(ch.name) === folded);
        channels.push(was ?? { name: folded, op: false, voice: false });
      }
      return channels;
    };
    const users: RestoreUser[] = alone.map((u) => ({ ...u, channels: channelsOf(u.clientId, u) }));
    for (const c of protocol.clients()) {
      if (c.nick === null) continue;
      const saved = known.get(c.id);
      const channels = channelsOf(c.id, saved);
      users.push({
        clientId: c.id,
        nick: c.nick,
        profile: saved?.profile ?? {
          user: c.user ?? '~user',
          host: c.host,
          realname: c.realname ?? '',
          server: options.serverName,
          tls: c.tls,
          modes: [...c.modes].sort().join(''),
          signonAt: c.connectedAt,
        },
        registered: c.registered,
        away: c.away,
        account: c.account,
        lastActiveAt: c.lastActiveAt,
        channels,
      });
    }
    const results = await state.restore(users, Date.now());
    for (const result of results) {
      if (result.ok) continue;
      // The nick was taken by someone else while we were apart: ours gives way, as after a
      // netsplit, under a nick derived from its id, and sees the change as a NICK.
      const user = users.find((u) => u.clientId === result.clientId)!;
      const fallback = `${user.nick.slice(0, 20)}-${connectionOf(result.clientId).toString(36)}`;
      const [again] = await state.restore([{ ...user, nick: fallback }], Date.now());
      if (again?.ok) protocol.renamed(result.clientId, fallback, again.channels);
      logger.log('info', 'network.nickCollision', { id: connectionOf(result.clientId), nick: user.nick, now: fallback });
    }
  }

  const link = createActor(
    redisLinkMachine.provide({
      actions: {
        logUp: () => logger.log('info', 'network.up', { url: shown, node: nodeIndex }),
        logDown: () => logger.log('error', 'network.down', { url: shown, node: nodeIndex }),
        noticeDown: () => {
          // Relayed clients pass through the bus: with it gone, each would wait on nothing.
          protocol?.relayLost(null);
          protocol?.noticeAll(
            '*** The network is unreachable (its state server is down, or this server lost its link to it): you stay connected, but commands that need the network fail and messages from other servers may be missed until it is back.',
          );
        },
        noticeBack: () => protocol?.noticeAll('*** The network is back.'),
        logResyncFailed: ({ event }) =>
          logger.log('error', 'network.resyncFailed', { message: String((event as { error?: unknown }).error) }),
      },
      actors: {
        resync: fromPromise(() => {
          linkResyncAt = Date.now();
          return resync();
        }),
      },
    }),
    { input: { retryMs: 1_000 } },
  );
  link.subscribe({ error: (err) => logger.log('error', 'network.crashed', { message: String(err) }) });
  link.start();
  // The link is up only while BOTH connections are: commands answer, and the subscriber is
  // subscribed again (after a reconnect the node resubscribes itself and waits for Redis to
  // confirm; messages published to us in between are lost, which is why it counts as down).
  const ready = { commands: true, subscriber: true };
  let linkUp = true;
  const update = (): void => {
    const up = ready.commands && ready.subscriber;
    if (up === linkUp) return;
    linkUp = up;
    link.send({ type: up ? 'redis.ready' : 'redis.lost' });
  };
  redis.on('ready', () => {
    ready.commands = true;
    update();
  });
  redis.on('close', () => {
    ready.commands = false;
    update();
  });
  subscriber.on('ready', () => {
    if (ready.subscriber) return;
    bus.resubscribe().then(
      () => {
        ready.subscriber = true;
        update();
      },
      // Redis went away again mid-way: the next 'ready' tries again.
      () => {},
    );
  });
  subscriber.on('close', () => {
    ready.subscriber = false;
    update();
  });
  link.send({ type: 'redis.ready' });
  presence.start();
  await presence.beat();

  return {
    nodeIndex,
    state,
    bus,
    attach(p) {
      protocol = p;
    },
    whenIndexTaken(handler) {
      onIndexTaken = handler;
    },
    linkState() {
      const value = link.getSnapshot().value;
      return typeof value === 'string' ? value : JSON.stringify(value);
    },
    async ping(timeoutMs) {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([redis.ping(), late]);
      } finally {
        clearTimeout(timer);
      }
      return performance.now() - started;
    },
    async close() {
      link.send({ type: 'link.stop' });
      // Users still held here once every connection has gone are always-on users left alone:
      // they leave with the node, as a dead node's do (the store keeps them for its next start).
      if (!indexTaken) {
        try {
          for (const user of await state.removeNode(nodeIndex, Date.now())) {
            announceQuit(`${user.nick}!${user.user}@${user.host}`, user.channels, `${options.serverName} is shutting down`, user.registered);
          }
        } catch {
          // Redis away: the other nodes reap this node's users once its heartbeat is missed.
        }
      }
      await presence.stop().catch(() => {});
      // QUIT is answered after every command sent before it: the last PUBLISHes (our users'
      // QUITs) are through when it returns. If Redis is away, just drop the connections.
      await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1_000).unref())]).catch(() => {});
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

