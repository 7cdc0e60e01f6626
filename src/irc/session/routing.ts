// Where a handler's sends go: to this node's clients directly, to clients on other nodes
// through the bus (--redis). The session adapter delivers to its own clients itself and hands
// the rest to the bus; the bus hands what other nodes sent back through `deliverRemote` (and
// `localSession`). Without a bus this process is the whole network.

import { fold } from '../wire/casemap.js';
import type { CapVariant, Client, HostChange, Send } from '../commands/types.js';
import type { MonitorIndex } from '../state/monitorIndex.js';
import type { NetworkState } from '../state/networkState.js';
import { connectionOf, nodeOf } from '../state/ids.js';
import type { IrcMessage } from '../wire/message.js';
import type { RelayInit } from './relayTransport.js';
import { send, shared, verbatim, type SharedMessage } from './outbox.js';
import type { Session } from './session.js';

/**
 * What decides a message's form per recipient, besides its server-time: the sender's account
 * (account-tag), a capability without which the recipient gets nothing, another form for the
 * holders of a capability (see Send).
 */
export interface DeliveryForms {
  account?: string;
  onlyCap?: string;
  exceptCap?: string;
  capVariant?: CapVariant;
  /** The source is the recipient's own server (Send.fromServer). */
  fromServer?: true;
}

/** Who watches a monitored user's changes: extended-monitor's watchers (see Target). */
const EXTENDED_MONITOR = 'extended-monitor';

/** Delivery to clients on other nodes (implemented by src/irc/redis/bus.ts). */
export interface NetworkBus {
  /**
   * To the members of these (folded) channels on other nodes, each once, except `except`; with
   * `watchersOf`, also to their clients monitoring that nick with extended-monitor.
   */
  toChannels(channels: string[], except: number | undefined, message: IrcMessage, time: string, forms?: DeliveryForms, watchersOf?: string): void;
  /** To the clients on other nodes monitoring `nick` (MONITOR's 730/731). */
  toMonitors(nick: string, message: IrcMessage, time: string, forms?: DeliveryForms): void;
  /** A client on another node shows another user@host (CHGHOST). */
  changeHost(change: HostChange): void;
  /** To one client on another node. */
  toClient(clientId: number, message: IrcMessage, time: string, forms?: DeliveryForms): void;
  /** Removes a client on another node (KILL, GHOST): it quits with `reason`. */
  kill(clientId: number, reason: string): void;
  /** Every other node logs out its connections logged in to `account` (DROP). */
  logoutAccount(account: string): void;
  /** To every registered user on the other nodes with this user mode (WALLOPS). */
  toEveryone(userMode: string, message: IrcMessage, time: string, forms?: DeliveryForms): void;
  /** To every connection on the other nodes logged in to `account` (folded). */
  toAccount(account: string, message: IrcMessage, time: string, forms?: DeliveryForms): void;
  /** A frame of a relayed connection (multiclient across nodes) for node `nodeIndex`. */
  relay(nodeIndex: number, frame: RelayFrame): void;
}

/**
 * Multiclient across nodes (relay.ts, relayTransport.ts): what passes between the node
 * holding a client's socket and the home node of the user it joined. `conn` is the client's
 * id on the node holding its socket; `data` in `open` and `in` is the client's bytes, base64
 * (they need not be UTF-8), in `out` the lines the home wrote for it.
 */
export type RelayFrame =
  /** To the home: serve this client (what it sent that was not run yet comes with it). */
  | { op: 'open'; conn: number; init: RelayInit; data: string }
  /** To the home: bytes the client sent. */
  | { op: 'in'; conn: number; data: string }
  /** To the home: the client is gone (it closed, or its node is stopping). */
  | { op: 'closed'; conn: number }
  /** To the socket's node: output for the client. */
  | { op: 'out'; conn: number; data: string }
  /** To the socket's node: close the client (its goodbye was the last `out`). */
  | { op: 'end'; conn: number };

/** What another node sent for this node's clients. */
export type RemoteDelivery = (
  | { kind: 'channels'; channels: string[]; except?: number; watchersOf?: string; message: IrcMessage; time: string }
  | { kind: 'monitors'; nick: string; message: IrcMessage; time: string }
  | { kind: 'client'; clientId: number; message: IrcMessage; time: string }
  | { kind: 'everyone'; userMode: string; message: IrcMessage; time: string }
  | { kind: 'account'; account: string; message: IrcMessage; time: string }
) &
  DeliveryForms;

/** A delivery ready for this node's clients: each form shared by every recipient that gets it. */
interface LocalDelivery {
  message: SharedMessage;
  onlyCap: string | null;
  exceptCap: string | null;
  variant: { cap: string; message: SharedMessage | null } | null;
}

function localDelivery(message: IrcMessage, time: string, forms: DeliveryForms): LocalDelivery {
  const account = forms.account ?? null;
  const variant = forms.capVariant;
  return {
    message: shared(message, time, account),
    onlyCap: forms.onlyCap ?? null,
    exceptCap: forms.exceptCap ?? null,
    variant: variant ? { cap: variant.cap, message: variant.message && shared(variant.message, time, account) } : null,
  };
}

/** Queues the delivery's form for one client, if it gets one. */
function sendTo(session: Session, d: LocalDelivery): void {
  if (d.onlyCap === null && d.exceptCap === null && d.variant === null) return send(session, d.message);
  const caps = session.client.caps;
  if (d.onlyCap !== null && !caps.has(d.onlyCap)) return;
  if (d.exceptCap !== null && caps.has(d.exceptCap)) return;
  if (d.variant !== null && caps.has(d.variant.cap)) {
    if (d.variant.message) send(session, d.variant.message);
    return;
  }
  send(session, d.message);
}

/**
 * The sender's account when the message is the sender's own (its source is the sender), for
 * account-tag: a NOTICE from NickServ or the server carries none. NICK's source is the old nick.
 */
function accountOf(client: Client, message: IrcMessage): string | undefined {
  if (client.account === null || message.source === null) return undefined;
  const bang = message.source.indexOf('!');
  if (bang < 0) return undefined;
  const nick = message.source.slice(0, bang);
  return message.command === 'NICK' || (client.nick !== null && fold(nick) === fold(client.nick)) ? client.account : undefined;
}

function formsOf(from: Session, s: Send): DeliveryForms {
  const forms: DeliveryForms = {};
  const account = accountOf(from.client, s.message);
  if (account !== undefined) forms.account = account;
  if (s.onlyCap !== undefined) forms.onlyCap = s.onlyCap;
  if (s.exceptCap !== undefined) forms.exceptCap = s.exceptCap;
  if (s.capVariant !== undefined) forms.capVariant = s.capVariant;
  if (s.fromServer) forms.fromServer = true;
  return forms;
}

/** What multiclient echoes to a user's other connections (echoToSiblings). */
const ECHOED = new Set(['PRIVMSG', 'NOTICE', 'TAGMSG']);

/** What of a Client belongs to its user rather than its connection: shared by multiclient siblings. */
const USER_FIELDS = ['nick', 'user', 'host', 'realname', 'modes', 'away', 'account'] as const;
export type UserFields = Pick<Client, (typeof USER_FIELDS)[number]>;

export function userFields(client: Client): UserFields {
  return { nick: client.nick, user: client.user, host: client.host, realname: client.realname, modes: client.modes, away: client.away, account: client.account };
}

export class Router {
  constructor(
    private readonly state: NetworkState,
    private readonly monitors: MonitorIndex,
    private readonly sessions: ReadonlyMap<number, Session>,
    readonly nodeIndex: number,
    private readonly bus: NetworkBus | null,
    private readonly now: () => number,
    /** This node's server name: the source of the numerics it delivers for other nodes. */
    private readonly serverName: string,
  ) {}

  /**
   * Users with more than one connection here (multiclient), or whose first connection has
   * gone while others stay: every session of each, by the user's id. A user with one
   * connection has no entry: its session is the one of its id's connection (localSession).
   */
  private readonly userSessions = new Map<number, Set<Session>>();

  /** This node's session for a network-wide client id, if the client is here. */
  localSession(clientId: number): Session | undefined {
    return nodeOf(clientId) === this.nodeIndex ? this.sessions.get(connectionOf(clientId)) : undefined;
  }

  /** Whether the user has a session here still. */
  hasSessions(userId: number): boolean {
    return this.userSessions.has(userId) || this.localSession(userId) !== undefined;
  }

  /** Every session of the user here: one, several (multiclient) or none. */
  sessionsOf(userId: number): Iterable<Session> {
    const set = this.userSessions.get(userId);
    if (set) return set;
    const one = this.localSession(userId);
    return one ? [one] : [];
  }

  /** PresenceIndex.attach: the client's session becomes one of `userId`'s. */
  attach(client: Client, userId: number): boolean {
    if (nodeOf(userId) !== this.nodeIndex || userId === client.id) return false;
    const session = this.localSession(client.id);
    if (!session) return false;
    let set = this.userSessions.get(userId);
    // A connection of the user that is leaving is not one of its connections any more.
    if (!set) this.userSessions.set(userId, (set = new Set([...this.sessionsOf(userId)].filter((s) => !s.departed))));
    set.add(session);
    client.id = userId;
    return true;
  }

  /** PresenceIndex.isHere. */
  isHere(userId: number): boolean {
    return nodeOf(userId) === this.nodeIndex;
  }

  /** PresenceIndex.isPresent. */
  isPresent(userId: number): boolean {
    for (const session of this.sessionsOf(userId)) if (!session.departed) return true;
    return false;
  }

  /** PresenceIndex.reaches: here, or on another node, to which the bus relays a connection. */
  reaches(userId: number): boolean {
    return this.isHere(userId) || this.bus !== null;
  }

  /** The session leaves its user: how many of the user's sessions are left here. */
  detach(session: Session): number {
    const id = session.client.id;
    const set = this.userSessions.get(id);
    if (!set) return 0;
    set.delete(session);
    if (set.size === 0) this.userSessions.delete(id);
    return set.size;
  }

  /**
   * What a job changed of its user (nick, modes, away...), given to the user's other sessions,
   * so that each answers as the same user. Only the fields that changed: a sibling's job may
   * have changed another meanwhile.
   */
  syncSiblings(session: Session, before: UserFields | null): void {
    if (before === null) return;
    const set = this.userSessions.get(session.client.id);
    if (!set || set.size < 2) return;
    const now = userFields(session.client);
    for (const key of USER_FIELDS) {
      if (now[key] === before[key]) continue;
      for (const sibling of set) if (sibling !== session) (sibling.client as unknown as Record<string, unknown>)[key] = now[key];
    }
  }

  /** To every session of the user here. Per recipient of every delivery: no allocation. */
  private toUser(userId: number, d: LocalDelivery): void {
    const set = this.userSessions.size === 0 ? undefined : this.userSessions.get(userId);
    if (set) {
      for (const session of set) sendTo(session, d);
      return;
    }
    const one = this.localSession(userId);
    if (one) sendTo(one, d);
  }

  /** Whether the session's user has other sessions here (multiclient). */
  hasSiblings(session: Session): boolean {
    return this.userSessions.size > 0 && (this.userSessions.get(session.client.id)?.size ?? 0) > 1;
  }

  /**
   * Multiclient: what one connection says (to a channel, to someone) is echoed to its user's
   * other connections, which the delivery itself skipped (the sender is its `except`, or the
   * target was someone else).
   */
  private echoToSiblings(from: Session, s: Send, d: LocalDelivery): void {
    const set = this.userSessions.get(from.client.id);
    if (!set || set.size < 2 || !ECHOED.has(s.message.command) || s.message.source === null) return;
    const to = s.to;
    const skipped = (to.kind === 'channels' && to.except === from.client.id) || (to.kind === 'client' && to.clientId !== from.client.id);
    if (!skipped || !s.message.source.startsWith(`${from.client.nick}!`)) return;
    for (const sibling of set) if (sibling !== from) sendTo(sibling, d);
  }

  deliver(from: Session, s: Send): void {
    const to = s.to;
    const plain = s.onlyCap === undefined && s.exceptCap === undefined && s.capVariant === undefined && s.fromServer === undefined && from.client.account === null;
    if (s.verbatim) return send(from, verbatim(s.message));
    if (to.kind === 'self' && plain && s.time === undefined) return send(from, s.message);
    const time = s.time ?? new Date(this.now()).toISOString();
    const forms = plain ? {} : formsOf(from, s);
    const d = localDelivery(s.message, time, forms);
    if (to.kind === 'self') return sendTo(from, d);
    const bus = this.bus;
    if (to.kind === 'client') {
      if (nodeOf(to.clientId) === this.nodeIndex) {
        for (const target of this.sessionsOf(to.clientId)) {
          // A message a client sends itself reaches it as any recipient, apart from the answer
          // to its labeled command (the echo is that answer).
          if (target === from && from.labeled !== null) {
            const caught = from.labeled;
            from.labeled = null;
            sendTo(target, d);
            from.labeled = caught;
          } else sendTo(target, d);
        }
      } else bus?.toClient(to.clientId, s.message, time, forms);
      this.echoToSiblings(from, s, d);
      return;
    }
    if (to.kind === 'account') {
      this.deliverToAccount(to.account, d);
      bus?.toAccount(to.account, s.message, time, forms);
      return;
    }
    if (to.kind === 'everyone') {
      this.deliverToEveryone(to.userMode, d);
      bus?.toEveryone(to.userMode, s.message, time, forms);
      return;
    }
    if (to.kind === 'monitors') {
      this.deliverToWatchers(to.nick, d);
      bus?.toMonitors(to.nick, s.message, time, forms);
      return;
    }
    this.deliverToMembers(to.channels, to.except, d, to.watchersOf);
    this.echoToSiblings(from, s, d);
    // Other nodes' members get one message per node from the bus; a `plus` client elsewhere
    // (kicked: no longer a member there) gets its own.
    bus?.toChannels(to.channels, to.except, s.message, time, forms, to.watchersOf);
    for (const id of to.plus ?? []) {
      if (id === to.except) continue;
      if (nodeOf(id) !== this.nodeIndex) bus?.toClient(id, s.message, time, forms);
      else if (!this.isMemberOfAny(id, to.channels) && !(to.watchersOf !== undefined && this.isExtendedWatcher(id, to.watchersOf))) this.toUser(id, d);
    }
  }

  /**
   * To this node's members of the channels, each once even when they share several; with
   * `watchersOf`, also to this node's extended-monitor watchers of that nick not among them.
   */
  private deliverToMembers(channels: string[], except: number | undefined, d: LocalDelivery, watchersOf?: string): void {
    const seen = channels.length > 1 || watchersOf !== undefined ? new Set<number>() : null;
    for (const channel of channels) {
      for (const id of this.state.localMembers(channel)) {
        if (id === except) continue;
        if (seen) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        this.toUser(id, d);
      }
    }
    if (watchersOf === undefined) return;
    for (const id of this.monitors.watchersOf(watchersOf)) {
      if (id === except || seen?.has(id)) continue;
      for (const target of this.sessionsOf(id)) if (target.client.caps.has(EXTENDED_MONITOR)) sendTo(target, d);
    }
  }

  /** To this node's clients monitoring `nick`. */
  private deliverToWatchers(nick: string, d: LocalDelivery): void {
    for (const id of this.monitors.watchersOf(nick)) this.toUser(id, d);
  }

  private isExtendedWatcher(id: number, nick: string): boolean {
    for (const watcher of this.monitors.watchersOf(nick)) if (watcher === id) return this.localSession(id)?.client.caps.has(EXTENDED_MONITOR) === true;
    return false;
  }

  /** A client shows another user@host (CHGHOST): its session here, or its node by the bus. */
  changeHost(change: HostChange): void {
    if (nodeOf(change.clientId) !== this.nodeIndex) return this.bus?.changeHost(change);
    for (const session of this.sessionsOf(change.clientId)) {
      session.client.user = change.user;
      session.client.host = change.host;
    }
  }

  /** To this node's registered users with the user mode. */
  private deliverToEveryone(userMode: string, d: LocalDelivery): void {
    for (const session of this.sessions.values()) {
      if (session.client.registered && session.client.modes.has(userMode)) sendTo(session, d);
    }
  }

  /** To this node's connections logged in to `account` (folded). */
  private deliverToAccount(account: string, d: LocalDelivery): void {
    for (const session of this.sessions.values()) {
      const own = session.client.account;
      if (own !== null && fold(own) === account) sendTo(session, d);
    }
  }

  /** Logs out every connection logged in to `account`, on this node and (by the bus) the others. */
  logoutAccount(account: string): void {
    this.onAccountDropped?.(account);
    this.bus?.logoutAccount(account);
  }

  /** Logs out this node's connections to a dropped account (set by protocol.ts). */
  onAccountDropped: ((account: string) => void) | null = null;

  /** Removes a client from the network wherever it is connected: it quits with `reason`. */
  kill(clientId: number, reason: string): void {
    if (nodeOf(clientId) !== this.nodeIndex) return this.bus?.kill(clientId, reason);
    for (const session of [...this.sessionsOf(clientId)]) session.actor?.send({ type: 'irc.killed', reason });
  }

  /** Delivers what another node sent for this node's clients. */
  deliverRemote(delivery: RemoteDelivery): void {
    const message = delivery.fromServer ? { ...delivery.message, source: this.serverName } : delivery.message;
    const d = localDelivery(message, delivery.time, delivery);
    if (delivery.kind === 'channels') return this.deliverToMembers(delivery.channels, delivery.except, d, delivery.watchersOf);
    if (delivery.kind === 'monitors') return this.deliverToWatchers(delivery.nick, d);
    if (delivery.kind === 'everyone') return this.deliverToEveryone(delivery.userMode, d);
    if (delivery.kind === 'account') return this.deliverToAccount(delivery.account, d);
    this.toUser(delivery.clientId, d);
  }

  private isMemberOfAny(id: number, channels: string[]): boolean {
    for (const channel of channels) for (const member of this.state.localMembers(channel)) if (member === id) return true;
    return false;
  }
}
