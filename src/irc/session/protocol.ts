// The IRC protocol's session adapter: one ircSession actor per client. It is the only IRC code
// that touches a socket: a Transport (src/core/transport.ts), a TCP or TLS socket or a
// WebSocket client, served alike. It maps socket events to machine events (listeners attached
// in `open`, named `socketOn<Event>`) and provides the actions the machine names. The
// mechanics live beside it, one file each: session.ts (what is kept per client), inbox.ts
// (framing, the recvq, one command at a time, fakelag), outbox.ts (serialise once, sendq, one
// write per turn), routing.ts (this node's clients or the bus), jobs.ts (running commands and
// applying their outcomes). What a command does is src/irc/commands/'s business; where the
// nicks and channels live is the NetworkState's (src/irc/state/).

import type { TLSSocket } from 'node:tls';
import type { InspectionEvent } from 'xstate';
import { LoginThrottle, loginThrottleDefaults } from '../../identity/throttle.js';
import type { HistoryStore } from '../../history/history.js';
import type { Store } from '../../store/store.js';
import { accountDropped, enforceNick } from '../commands/accounts.js';
import { operRevoked } from '../commands/operators.js';
import { isLeftAlone } from '../commands/alwaysOn.js';
import type { OperBlock, ServerConfig } from '../../core/config.js';
import { startSession } from '../../core/leanActor.js';
import { packageVersion } from '../../core/packageInfo.js';
import type { Logger } from '../../core/logger.js';
import type { SessionProtocol } from '../../core/protocol.js';
import { sessionLogActions } from '../../core/sessionLog.js';
import { abort, type Transport } from '../../core/transport.js';
import { restoreKept } from './kept.js';
import { Relays } from './relay.js';
import { RelayTransport } from './relayTransport.js';
import { numeric, sourceOf, supportedCaps } from '../commands/common.js';
import { depart, dispatch, passwordMismatch, welcome, type CommandContext } from '../commands/table.js';
import { withMember, type Client, type HostChange } from '../commands/types.js';
import { monitorNickChange } from '../commands/monitor.js';
import { MonitorIndex } from '../state/monitorIndex.js';
import { clientIdOf, msgidSource } from '../state/ids.js';
import { MemoryState } from '../state/memoryState.js';
import type { NetworkState } from '../state/networkState.js';
import { message, serializeMessage, type IrcMessage } from '../wire/message.js';
import { ERR_NOTREGISTERED } from '../wire/numerics.js';
import { receive, stopInbox } from './inbox.js';
import { ircSessionMachine, quitText } from './ircSessionMachine.js';
import { JobRunner } from './jobs.js';
import { flush, forget, send } from './outbox.js';
import { Router, type NetworkBus, type RelayFrame, type RemoteDelivery } from './routing.js';
import { Session, type IrcStats } from './session.js';


/** The version 002 and 004 announce: the package's own (package.json). */
export const serverVersion = packageVersion();

const kSession = Symbol('ircSession');
interface ServedSocket extends Transport {
  [kSession]?: Session;
}

function socketOnData(this: ServedSocket, bytes: Buffer): void {
  const session = this[kSession];
  if (session) receive(session, bytes);
}
function socketOnEnd(this: ServedSocket): void {
  this[kSession]?.actor?.send({ type: 'socket.end' });
}
function socketOnError(this: ServedSocket, err: NodeJS.ErrnoException): void {
  // Node destroys the socket after 'error' and then emits 'close'.
  this[kSession]?.actor?.send({ type: 'socket.error', code: err.code ?? 'UNKNOWN', message: err.message });
}
function socketOnClose(this: ServedSocket): void {
  this[kSession]?.actor?.send({ type: 'socket.close' });
}

/**
 * The host shown in `nick!user@host` and WHO replies: the IP (there are no DNS lookups), an
 * IPv4-mapped address as plain IPv4, and an IPv6 address that starts with ':' given a leading
 * 0 (`0::1`), as InspIRCd does, since a parameter may not start with ':'.
 */
function certificateFingerprint(socket: ServedSocket): string | null {
  // Only a TLS socket has one (the listener asks for a client certificate and accepts any: the
  // fingerprint is what SASL EXTERNAL checks, not a CA).
  const peer = socket.encrypted === true ? (socket as unknown as TLSSocket).getPeerCertificate?.() : undefined;
  const fp = peer?.fingerprint256;
  return typeof fp === 'string' && fp !== '' ? fp.replaceAll(':', '').toLowerCase() : null;
}

function shownHost(ip: string): string {
  const v4 = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  return v4.startsWith(':') ? `0${v4}` : v4;
}

/**
 * The label of a command whose replies are to be one labeled response (labeled-response, which
 * needs batch too), or null. The label is the client's own text, bounded like every tag by
 * maxTagBytes, and only ever sent back to it.
 */
function labelOf(client: Client, msg: IrcMessage): string | null {
  // A multiline message is answered at its BATCH -, with the label its BATCH + carried.
  const multiline = msg.command.toUpperCase() === 'BATCH' && client.caps.has('draft/multiline');
  const opening = multiline && msg.params[0]?.startsWith('+') === true;
  const label = opening ? undefined : multiline && client.batch !== null ? (client.batch.label ?? undefined) : msg.tags.label;
  if (label === undefined || label === '' || !client.caps.has('labeled-response') || !client.caps.has('batch')) return null;
  return label;
}

/** What the live view shows of a chat server. */
export interface ChatTotals {
  users: number;
  channels: number;
  /** PRIVMSG and NOTICE commands run since start. */
  messages: number;
}

/** The IRC protocol as the listener sees it, plus what the network layer (Redis) needs. */
export interface IrcProtocol extends SessionProtocol {
  state: NetworkState;
  sessions: ReadonlyMap<number, { client: Client }>;
  nodeIndex: number;
  /** A NOTICE from the server to every local client (the network went away, or came back). */
  noticeAll(text: string): void;
  /** A NOTICE from the server to this node's members of a (folded) channel. */
  noticeChannel(channel: string, text: string): void;
  /** This node's clients. */
  clients(): Client[];
  /**
   * Whether a user of this node with no connection here is an always-on user left alone (kept
   * for its next connection), not a ghost: alwaysOn.ts isLeftAlone.
   */
  leftAlone(nick: string, account: string | null): Promise<boolean>;
  /** Resolves once no job waits on the network state (departures included): before leaving it. */
  settled(): Promise<void>;
  /**
   * The network gave a local client another nick (a netsplit nick collision after Redis came
   * back): it and the members of `channels` (folded) see it change, as for a NICK.
   */
  renamed(clientId: number, nick: string, channels: string[]): void;
  /** Delivers what another node sent for this node's clients. */
  deliverRemote(delivery: RemoteDelivery): void;
  /** Removes one of this node's clients (another node's KILL or GHOST). */
  kill(clientId: number, reason: string): void;
  /** Another node dropped an account: this node's connections to it are logged out. */
  accountDropped(account: string): void;
  /** Another node changed one of this node's clients' user@host (CHGHOST). */
  hostChanged(change: HostChange): void;
  /** A frame of a relayed connection from node `origin` (multiclient across nodes). */
  relayFrame(origin: number, frame: RelayFrame): void;
  /**
   * Node `node` is gone, or what it sent this node was lost: the connections relayed to it
   * close, and those it relayed here leave. Null: every node (the bus itself is down).
   */
  relayLost(node: number | null): void;
  /**
   * Who serves the clients that come without a socket of this node (relayed by other nodes,
   * always-on users brought back): the listener, once it runs.
   */
  adoptWith(adopter: { adopt(client: Transport): number }): void;
  /** Brings back the always-on users kept when the server last stopped (kept.ts); once listening. */
  restoreKept(): Promise<number>;
  /** Reads the operators again from the config file (SIGHUP; REHASH does the same). */
  rehash(): ReturnType<CommandContext['operators']['rehash']>;
  /** Users, channels and chat messages so far, for the live view. */
  totals(): Promise<ChatTotals>;
  /** What the adapter has counted since start, for --metrics. */
  readonly stats: Readonly<IrcStats>;
}

export interface IrcProtocolOptions {
  /** Accounts, registered channels and bans (src/irc/service.ts opens it from the flags). */
  store: Store;
  /** What was said, kept in the store (service.ts buffers its writes); absent with --history off. */
  history?: HistoryStore;
  /**
   * Reads the operators again from the config file (REHASH, SIGHUP): the file's name and its
   * `opers`, or a ChatError saying what is wrong. Absent without --config.
   */
  reloadOpers?: () => { file: string; opers: readonly OperBlock[] };
  /**
   * A REHASH command read the file here: the other processes serving from it (--workers) read
   * it too. Not called for SIGHUP, which reaches each process on its own.
   */
  shareRehash?: () => void;
  /** The network state; an in-memory one for this process when not given. */
  state?: NetworkState;
  /** This node's index in the network (client ids are network-wide: src/irc/state/ids.ts); 0 alone. */
  nodeIndex?: number;
  /** Delivery to other nodes; absent when this process is the whole network. */
  bus?: NetworkBus;
  now?: () => number;
}

export function ircProtocol(
  config: ServerConfig,
  logger: Logger,
  inspect: ((event: InspectionEvent) => void) | undefined,
  options: IrcProtocolOptions,
): IrcProtocol {
  const irc = config.irc;
  const now = options.now ?? Date.now;
  const state = options.state ?? new MemoryState();
  const nodeIndex = options.nodeIndex ?? 0;
  const bus = options.bus ?? null;
  /** The config file's operators read again (REHASH here, or SIGHUP). */
  function reload(): { ok: true; file: string } | { ok: false; error: string } {
    if (!options.reloadOpers) return { ok: false, error: 'the server was started without --config' };
    try {
      const { file, opers } = options.reloadOpers();
      ctx.operators.blocks = opers;
      logger.log('info', 'irc.rehashed', { file, opers: opers.length });
      for (const session of sessions.values()) {
        if (session.client.oper !== null && !session.departed) jobs.runAfter(session, 'operRevoked', () => operRevoked(ctx, session.client));
      }
      return { ok: true, file };
    } catch (err) {
      logger.log('error', 'irc.rehashFailed', { message: (err as Error).message });
      return { ok: false, error: (err as Error).message };
    }
  }
  const ctx: CommandContext = {
    config: irc,
    state,
    store: options.store,
    history: options.history ?? null,
    logins: new LoginThrottle(
      { ...loginThrottleDefaults, failuresPerWindow: irc.loginFailuresPerWindow, windowMs: irc.loginWindowMs },
      now,
    ),
    operators: {
      blocks: irc.opers,
      async rehash() {
        const result = reload();
        if (result.ok) options.shareRehash?.();
        return result;
      },
    },
    monitors: new MonitorIndex(),
    now,
    newMsgid: msgidSource(),
    greeting: config.greeting,
    version: serverVersion,
    createdAt: now(),
  };
  const sessions = new Map<number, Session>();
  const perIp = new Map<string, number>();
  const router = new Router(state, ctx.monitors, sessions, nodeIndex, bus, now, ctx.config.serverName);
  if (irc.multiclient === 'on') ctx.presence = router;
  const jobs = new JobRunner(ctx, router, logger);
  /** A dropped account (here, or on another node): this node's connections to it are logged out. */
  const logOutDropped = (account: string): void => {
    for (const session of sessions.values()) {
      if (session.client.account !== null && !session.departed) jobs.runAfter(session, 'accountDropped', () => accountDropped(ctx, session.client, account));
    }
  };
  router.onAccountDropped = logOutDropped;

  // Multiclient across nodes (relay.ts): both ends of the connections relayed between nodes.
  const relays = bus ? new Relays(bus, nodeIndex, sessions, logger) : null;
  let adopter: { adopt(client: Transport): number } | null = null;
  const stats: IrcStats = { registrations: 0, commands: 0, chatMessages: 0, linesOut: 0, bytesIn: 0, bytesOut: 0 };
  const limits = {
    registrationTimeoutMs: irc.registrationTimeoutMs,
    pingIntervalMs: irc.pingIntervalMs,
    pingTimeoutMs: irc.pingTimeoutMs,
    closeTimeoutMs: config.closeTimeoutMs,
    nickEnforceGraceMs: irc.nickEnforceGraceMs,
  };

  const sessionLogic = ircSessionMachine.provide({
    actions: {
      ...sessionLogActions(logger),
      sendConnectNotice: ({ context }) => {
        const session = sessions.get(context.id);
        // Before registration the client has no nick: the target is `*`. A relayed client
        // had its notice from the node holding its socket.
        if (session && !(session.socket instanceof RelayTransport)) send(session, numeric(ctx, session.client, 'NOTICE', config.greeting));
      },
      startReading: ({ context }) => void sessions.get(context.id)?.socket.resume(),
      runCommand: ({ context, event }) => {
        const session = sessions.get(context.id);
        if (!session || event.type !== 'irc.message') return;
        const command = event.message.command.toUpperCase();
        stats.commands++;
        if (command === 'PRIVMSG' || command === 'NOTICE') stats.chatMessages++;
        jobs.run(session, command, () => dispatch(ctx, session.client, event.message), labelOf(session.client, event.message));
      },
      replyNotRegistered: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) send(session, numeric(ctx, session.client, ERR_NOTREGISTERED, 'You have not registered'));
      },
      refusePassword: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) jobs.run(session, 'PASS', () => passwordMismatch(ctx, session.client));
      },
      startRelay: ({ context, event }) => {
        const session = sessions.get(context.id);
        if (session && event.type === 'irc.relayed') relays?.start(session, event.home);
      },
      welcome: ({ context }) => {
        stats.registrations++;
        const session = sessions.get(context.id);
        if (!session) return;
        jobs.run(session, 'welcome', async () => {
          const outcome = await welcome(ctx, session.client);
          // Logged once the welcome has settled the nick: a guest nick, or its user's
          // (multiclient), is what the client has from now on, not what it asked for. A client
          // a network ban keeps out was never on the network: its close says why.
          const refused = outcome.kills?.some((k) => k.clientId === session.client.id) ?? false;
          if (!refused) logger.log('info', 'irc.registered', { id: context.id, remote: context.remote, nick: session.client.nick ?? '' });
          return outcome;
        });
      },
      sendPing: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) send(session, { tags: {}, source: null, command: 'PING', params: [irc.serverName] });
      },
      depart: ({ context }) => {
        const session = sessions.get(context.id);
        if (!session || session.departed) return;
        session.departed = true;
        // Relayed: not on the network here. Its home hears that it is gone, unless it is the
        // one that closed it (or is itself gone).
        if (session.relay !== null) return relays?.departed(session, context.closeReason === 'relayEnded' || context.closeReason === 'relayLost');
        const reason = quitText(context);
        // Multiclient: a connection that leaves while others of its user stay takes nothing
        // with it; the user stays on the network. A KILL (sent to every one of them) or the
        // shutdown ends the user with its last connection, always-on or not.
        const others = router.detach(session);
        const leaving =
          others > 0 ? 'connection' : context.closeReason === 'killed' ? 'forced' : session.client.restored ? 'restored' : context.closeReason === 'shutdown' ? 'shutdown' : 'user';
        // A command still running (its state answers later) finishes first: departing under
        // it would let it add the client back to a channel after it left. What an always-on
        // user missed starts now, not when that command lets the departure run.
        const at = now();
        jobs.runAfter(session, 'depart', () => depart(ctx, session.client, reason, leaving, at));
      },
      endSocket: ({ context }) => {
        const session = sessions.get(context.id);
        if (!session) return;
        const { socket, client } = session;
        if (socket.destroyed) return;
        // A client that overflowed its sendq gets no more of its backlog, only the goodbye.
        if (context.closeReason !== 'sendqExceeded') flush(session);
        session.muted = true;
        stopInbox(session);
        const who = `${client.user ?? client.nick ?? '*'}@${client.host}`;
        const goodbye = serializeMessage({
          tags: {},
          source: null,
          command: 'ERROR',
          params: [`Closing link: (${who}) [${quitText(context)}]`],
        });
        // Keep reading (and dropping) until the client closes: a paused socket would never
        // see its FIN and would wait for closeTimeoutMs every time.
        socket.removeAllListeners('data');
        socket.on('data', () => {});
        socket.resume();
        // A relayed client's home wrote its goodbye when it closed it.
        socket.end(context.closeReason === 'relayEnded' ? undefined : goodbye);
      },
      enforceNick: ({ context }) => {
        const session = sessions.get(context.id);
        if (session && !session.departed) jobs.runAfter(session, 'nickEnforce', () => enforceNick(ctx, session.client));
      },
      destroySocket: ({ context }) => {
        const session = sessions.get(context.id);
        if (session) abort(session.socket);
      },
    },
  });

  return {
    name: 'irc',
    sessionMachine: ircSessionMachine,
    state,
    sessions,
    nodeIndex,
    stats,
    noticeAll(text) {
      for (const session of sessions.values()) send(session, numeric(ctx, session.client, 'NOTICE', text));
    },
    noticeChannel(channel, text) {
      for (const id of state.localMembers(channel)) {
        const session = router.localSession(id);
        if (session) send(session, numeric(ctx, session.client, 'NOTICE', text));
      }
    },
    // A client relayed to another node is that node's.
    clients: () => [...sessions.values()].filter((s) => s.relay === null).map((s) => s.client),
    leftAlone: (nick, account) => isLeftAlone(ctx, nick, account),
    settled: () => jobs.settled(),
    renamed(clientId, nick, channels) {
      const all = [...router.sessionsOf(clientId)];
      const session = all[0];
      if (!session) return;
      const change = message('NICK', nick);
      change.source = sourceOf(session.client);
      const previous = session.client.nick;
      for (const one of all) {
        one.client.nick = nick;
        send(one, change);
      }
      router.deliver(session, { to: { kind: 'channels', channels, except: clientId }, message: change });
      for (const s of monitorNickChange(ctx, session.client, previous)) router.deliver(session, s);
    },
    deliverRemote: (delivery) => router.deliverRemote(delivery),
    kill: (clientId, reason) => router.kill(clientId, reason),
    accountDropped: logOutDropped,
    hostChanged: (change) => router.changeHost(change),
    relayFrame: (origin, frame) => relays?.frame(origin, frame),
    relayLost: (node) => relays?.lost(node),
    adoptWith(listener) {
      adopter = listener;
      relays?.accept(listener);
    },
    restoreKept: () => (adopter !== null && ctx.presence !== undefined ? restoreKept(ctx, adopter, nodeIndex, logger) : Promise.resolve(0)),
    rehash: async () => reload(),
    async totals() {
      const counts = await state.counts();
      return { users: counts.localUsers, channels: counts.channels, messages: stats.chatMessages };
    },
    open(id, remote, socket: ServedSocket) {
      // A client relayed from another node comes as it was there: address, TLS, certificate.
      const relay = socket instanceof RelayTransport ? socket.init : null;
      const ip = socket.remoteAddress ?? 'unknown';
      const fromIp = (perIp.get(ip) ?? 0) + 1;
      perIp.set(ip, fromIp);
      const session = new Session(id, ctx, stats, socket, {
        id: clientIdOf(nodeIndex, id),
        ip,
        host: relay?.host ?? shownHost(ip),
        tls: socket.encrypted === true,
        at: now(),
        certfp: relay ? relay.certfp : certificateFingerprint(socket),
      });
      if (relay) {
        // Logged in and its capabilities negotiated where its socket is; only words of the
        // supported list make a client's set.
        for (const cap of relay.caps) if (supportedCaps.includes(cap)) session.client.caps = withMember(session.client.caps, cap);
        session.client.capVersion = relay.capVersion;
        session.client.account = relay.account;
      }
      sessions.set(id, session);
      socket[kSession] = session;
      socket.on('data', socketOnData);
      socket.on('end', socketOnEnd);
      socket.on('error', socketOnError);
      socket.on('close', socketOnClose);
      // Output is already batched into one write per event-loop turn; Nagle's algorithm would
      // only hold a line back until the client ACKs the previous one (~40 ms on Linux).
      socket.setNoDelay(true);
      const actor = startSession(
        sessionLogic,
        // A relayed client was admitted (and gave the password) where its socket is.
        { id, remote, limits, overIpLimit: relay === null && fromIp > irc.maxConnectionsPerIp, passwordRequired: relay === null && irc.password !== null },
        inspect,
      );
      session.actor = actor;
      return actor;
    },
    closed(id) {
      const session = sessions.get(id);
      if (!session) return;
      sessions.delete(id);
      // The user's MONITOR list is the user's: it stays while another connection of it does.
      if (!router.hasSessions(session.client.id)) ctx.monitors.clear(session.client.id);
      stopInbox(session);
      session.actor = null;
      session.muted = true;
      (session.socket as ServedSocket)[kSession] = undefined;
      forget(session);
      const left = (perIp.get(session.client.ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(session.client.ip);
      else perIp.set(session.client.ip, left);
    },
    turnAwayLine: (code) =>
      serializeMessage({
        tags: {},
        source: null,
        command: 'ERROR',
        params: [code === 'SERVER_BUSY' ? 'Closing link: [Server is full, try again later]' : 'Closing link: [Server shutting down]'],
      }),
  };
}
