// The contract between the three parts of IRC mode:
//   - the session adapter (src/irc/session/protocol.ts) owns sockets, the session machine, the
//     outbox and the order in which one client's commands run;
//   - the command core (src/irc/commands/table.ts and handlers) decides what a command does;
//   - the network state (src/irc/state/networkState.ts) holds nicks, channels and members, behind an
//     interface whose operations may answer later (Redis: src/irc/redis/).
// Handlers take a client and a message and return an Outcome: what to send to whom and what
// the session machine must hear. They never touch a socket, so they are tested without one.

import type { IrcConfig, OperBlock } from '../../core/config.js';
import type { LogFields } from '../../core/logger.js';
import type { LoginThrottle } from '../../identity/throttle.js';
import type { Store } from '../../store/store.js';
import type { HistoryEntry, HistoryStore } from '../../history/history.js';
import type { MonitorIndex } from '../state/monitorIndex.js';
import type { NetworkState } from '../state/networkState.js';
import type { IrcMessage } from '../wire/message.js';

/** What every handler may use besides the client and the message. */
export interface CommandContext {
  /** Limits, names and the password (config.irc). */
  config: IrcConfig;
  /** Nicks, users and channels of the network. */
  state: NetworkState;
  /** Accounts, registered channels and bans, kept across restarts (SQLite or PostgreSQL). */
  store: Store;
  /** What was said (draft/chathistory), in the store; null with `--history off`. */
  history: HistoryStore | null;
  /** Failed logins per account and per IP (IDENTIFY, SASL, OPER): guessing stays slow. */
  logins: LoginThrottle;
  /** Who on this node watches which nick (MONITOR); the router delivers `monitors` targets from it. */
  monitors: MonitorIndex;
  /** The IRC operators (the config file's `opers`) and how to read them again (REHASH). */
  operators: Operators;
  /** The clock (ms since the epoch); tests pass a fixed one. */
  now: () => number;
  /** A new msgid (IRCv3 message-ids), unique across the network: src/irc/state/ids.ts. */
  newMsgid: () => string;
  /** The server's greeting: the MOTD when config.motd is null. */
  greeting: string;
  /** Software name and version (002, 004, 351). */
  version: string;
  /** When the server started (ms), for 003. */
  createdAt: number;
  /**
   * The connections of this node that share one user (multiclient): the router's. Absent in
   * tests of a single connection and where several connections never share a user.
   */
  presence?: PresenceIndex;
}

/** Several connections of one account as one user (multiclient): session/routing.ts. */
export interface PresenceIndex {
  /**
   * Makes the client's connection one more of user `userId`'s, which this node holds: from
   * now on the client acts as that user (its id) and hears what the user hears. False when
   * the user is not on this node.
   */
  attach(client: Client, userId: number): boolean;
  /** Whether the user is on this node (only there can a connection join it). */
  isHere(userId: number): boolean;
  /** Whether a connection of the user is here and not leaving. */
  isPresent(userId: number): boolean;
  /**
   * Whether a connection here can join the user: it is here, or on another node of the
   * network, to which this node can relay the connection (welcome's `irc.relayed`).
   */
  reaches(userId: number): boolean;
}

export interface Operators {
  blocks: readonly OperBlock[];
  /** Reads the config file again and replaces `blocks`; says which file, or what is wrong. */
  rehash(): Promise<{ ok: true; file: string } | { ok: false; error: string }>;
}

/** Facts about one connected client that handlers read and change. Owned by its session. */
export interface Client {
  /**
   * The user's network-wide id (ids.ts): its connection's, or, once this connection has joined
   * another of the same account (multiclient), that user's (set by PresenceIndex.attach only).
   */
  id: number;
  /** The client's IP address as text (no port), shown as its host. */
  readonly ip: string;
  /** The host shown in `nick!user@host`: the IP (there are no DNS lookups) until a CHGHOST. */
  host: string;
  /** True when the client connected over TLS. */
  readonly tls: boolean;
  /** When the connection was accepted (ms since the epoch), for WHOIS signon. */
  readonly connectedAt: number;
  /** The nick as the client spelled it (display form), once it holds one. */
  nick: string | null;
  /**
   * Before registration only: `nick` is held by the user of the account of that name, which
   * this client may be logging in to (multiclient). It is claimed at the welcome if the client
   * does not join that user; else the client gets a guest nick.
   */
  nickUnclaimed: boolean;
  /** USER's username, `~`-prefixed (there is no ident lookup), once given. */
  user: string | null;
  realname: string | null;
  /**
   * Whether the session machine has registered the client (its `registered` state). Read
   * through to the session: handlers read it and never set it, so there is one source of truth.
   */
  readonly registered: boolean;
  /** Before registration, CAP holds it open (the machine's `negotiating` state): read through too. */
  readonly negotiating: boolean;
  /**
   * An always-on user being brought back at start (session/kept.ts), not a connection: read
   * through to its session too, so that it costs an ordinary client nothing.
   */
  readonly restored: boolean;
  /** Capabilities the client has enabled (CAP REQ acknowledged). Shared: see sharedSet. */
  caps: ReadonlySet<string>;
  /** 302 once the client sent `CAP LS 302` (cap-notify is then implied); 0 otherwise. */
  capVersion: number;
  /** What PASS gave, if anything (compared with the server password at registration). */
  password: string | null;
  /** User modes set on this client (`i`). Shared: see sharedSet. */
  modes: ReadonlySet<string>;
  /** The away message, or null when not away. */
  away: string | null;
  /** The account the client is logged in to (its display spelling), or null. */
  account: string | null;
  /** SHA-256 fingerprint (lowercase hex) of the TLS client certificate it presented, or null. */
  readonly certfp: string | null;
  /** The SASL exchange under way (AUTHENTICATE), or null. */
  sasl: SaslExchange | null;
  /**
   * Read markers of a connection not logged in (MARKREAD): folded target -> ms, oldest set
   * first; null until it sets one. A logged-in client's are its account's, in the store.
   */
  markers: Map<string, number> | null;
  /** The multiline message the client is sending (BATCH +ref draft/multiline), or null. */
  batch: OpenBatch | null;
  /** Last time the client sent a command other than PING/PONG (ms), for WHOIS idle. */
  lastActiveAt: number;
  /** The operator block it became an operator with (OPER): if REHASH finds it gone, +o goes. */
  oper: string | null;
}

/** An AUTHENTICATE exchange in progress: the mechanism and what it needs between steps. */
export interface SaslExchange {
  mechanism: string;
  /** The client's payload so far (it comes in 400-byte chunks). */
  payload: unknown;
  /** Mechanism state between messages (SCRAM's first exchange). */
  step: unknown;
}

/** A draft/multiline batch the client has opened and not yet closed (multiline.ts). */
export interface OpenBatch {
  ref: string;
  /** The target named in BATCH +ref, as the client spelled it. */
  target: string;
  /** PRIVMSG or NOTICE, from its first line. */
  command: string | null;
  /** The client-only tags of the BATCH line: they go on the message as a whole. */
  tags: Record<string, string>;
  lines: Array<{ text: string; concat: boolean }>;
  /** The lines' text bytes so far (multilineMaxBytes). */
  bytes: number;
  /** A limit was passed or a line was wrong: FAIL was said once, the rest is dropped at BATCH -. */
  failed: boolean;
  /** The label of the BATCH + line (labeled-response): the whole message's answer carries it. */
  label: string | null;
}

/** Where a message goes. Resolved by the session adapter when the outcome is applied. */
export type Target =
  /** The client whose command this is. */
  | { kind: 'self' }
  /** One client by connection id. */
  | { kind: 'client'; clientId: number }
  /**
   * Every member of these channels (folded names) at the time the outcome is applied, each
   * client once even if it shares several of them, except `except`, plus `plus` (clients that
   * must also get it, e.g. the one who just PARTed or was KICKed and is no longer a member).
   */
  | {
      kind: 'channels';
      channels: string[];
      except?: number;
      plus?: number[];
      /**
       * Also the clients monitoring this nick that enabled extended-monitor (AWAY, ACCOUNT,
       * SETNAME, CHGHOST of a monitored user), wherever they are: each recipient still once.
       */
      watchersOf?: string;
    }
  /**
   * The clients monitoring `nick` (MONITOR), on every node. Their 730/731 carry `*` as the
   * `<client>` parameter (the spec allows it), so one line serves every watcher.
   */
  | { kind: 'monitors'; nick: string }
  /** Every registered user of the network with this user mode (WALLOPS: `w`). */
  | { kind: 'everyone'; userMode: string }
  /** Every connection logged in to this account (folded), on every node (MARKREAD). */
  | { kind: 'account'; account: string };

export interface Send {
  to: Target;
  message: IrcMessage;
  /** Only recipients that enabled this capability get it (account-notify's ACCOUNT). */
  onlyCap?: string;
  /** Recipients that enabled this capability get nothing (CHGHOST's QUIT and JOIN fallback). */
  exceptCap?: string;
  /**
   * Recipients that enabled `cap` get `message` here instead (null: nothing), e.g. the longer
   * JOIN of extended-join.
   */
  capVariant?: CapVariant;
  /**
   * The message comes from the recipient's own server (a numeric sent to another client): a
   * node that delivers it for another node names itself as the source, as a server of a
   * network answers its own clients.
   */
  fromServer?: true;
  /**
   * The message is for its one recipient (`self`) exactly as it is: its tags are the ones this
   * client gets, nothing added (a replayed message, built for the client's capabilities).
   */
  verbatim?: true;
  /**
   * Its server-time (ISO 8601), when one message reaches its recipients in several sends (a
   * message and its echo, the lines of a multiline message) and all must show the same time;
   * else the time it is delivered.
   */
  time?: string;
}

export interface CapVariant {
  cap: string;
  message: IrcMessage | null;
}

/**
 * What the session machine must hear after a command, as machine events (ircSessionMachine).
 * Registration facts are reported here and the machine decides when registration completes.
 */
export type SessionEffect =
  /** CAP LS or CAP REQ before registration: hold registration open until CAP END. */
  | { type: 'irc.capHeld' }
  /** CAP END. */
  | { type: 'irc.capEnded' }
  /** The client now holds a nick (NICK accepted). */
  | { type: 'irc.nickSet' }
  /** USER accepted. */
  | { type: 'irc.userSet' }
  /** PASS given; `matches` says whether it equals the server password (true when none is set). */
  | { type: 'irc.passGiven'; matches: boolean }
  /** The account's user lives on node `home`: the client is relayed there (multiclient across nodes). */
  | { type: 'irc.relayed'; home: number }
  /** QUIT: the client leaves with this reason (already formatted, e.g. `Quit: bye`). */
  | { type: 'irc.quit'; reason: string }
  /** It holds a registered nick without being logged in to that account: the grace starts. */
  | { type: 'irc.nickUnowned' }
  /** It no longer does (logged in, or changed to a nick it may use). */
  | { type: 'irc.nickOwned' };

/** A client's new `user@host` (CHGHOST), for its session wherever it is connected. */
export interface HostChange {
  clientId: number;
  user: string;
  host: string;
}

/** Another client to remove from the network (GHOST, KILL), wherever it is connected. */
export interface Kill {
  clientId: number;
  /** Its QUIT reason, as others see it (`Killed (NickServ (GHOST command used by bob))`). */
  reason: string;
}

export interface Outcome {
  /** Applied in order: a JOIN must reach the joiner before the topic and NAMES replies. */
  sends: Send[];
  effects: SessionEffect[];
  /** Other clients to remove, after the sends. */
  kills?: Kill[];
  /** Accounts whose every connection, on every node, is to be logged out (DROP). */
  logouts?: string[];
  /** Clients whose displayed user@host changed (CHGHOST), applied after the sends. */
  hostChanges?: HostChange[];
  /** What the history keeps of this command's messages, handed to it after the sends. */
  history?: HistoryEntry[];
  /** Lines for the server's log (an operator's OPER, KILL, KLINE): handlers have no logger. */
  log?: OperatorLogEntry[];
}

/** One line of the server's log that a command asks for; the session adapter writes it. */
export interface OperatorLogEntry {
  event: 'irc.oper' | 'irc.operFailed' | 'irc.operRevoked' | 'irc.kill' | 'irc.kline' | 'irc.unkline';
  fields: LogFields;
}

export type { MaybePromise } from '../state/networkState.js';

// A client's caps and user modes are a few words out of a short fixed list (supportedCaps, the
// user mode letters): every client with the same ones shares one immutable set, at most 2^n of
// them for n words, instead of holding a Set of its own (~150 bytes each, most of them empty).
// A change replaces the client's set (withMember, withoutMember); nothing mutates one. Only words
// a handler has checked against its list go in, so the number of shared sets stays bounded.
const sharedSets = new Map<string, ReadonlySet<string>>();

/** The shared set holding exactly these members. */
function sharedSet(members: Iterable<string>): ReadonlySet<string> {
  const sorted = [...new Set(members)].sort();
  const key = sorted.join(' ');
  let set = sharedSets.get(key);
  if (!set) sharedSets.set(key, (set = new Set(sorted)));
  return set;
}

const noMembers = sharedSet([]);

/** The shared set of these mode letters (a UserRecord's `modes`). */
export function modeSet(letters: string): ReadonlySet<string> {
  return sharedSet(letters);
}

/** `set` with `member` in it (the same set if it already was). */
export function withMember(set: ReadonlySet<string>, member: string): ReadonlySet<string> {
  return set.has(member) ? set : sharedSet([...set, member]);
}

/** `set` without `member` (the same set if it was not in it). */
export function withoutMember(set: ReadonlySet<string>, member: string): ReadonlySet<string> {
  return set.has(member) ? sharedSet([...set].filter((m) => m !== member)) : set;
}

/** What is known of a client when it is accepted. */
export interface ClientInit {
  id: number;
  ip: string;
  host: string;
  tls: boolean;
  at: number;
  /** SHA-256 fingerprint of the TLS client certificate, lowercase hex; null when none. */
  certfp?: string | null;
}

/** Who says whether a client is registered (or negotiating): its session (the machine's state), or a test. */
export interface Registration {
  readonly registered: boolean;
  /** Before registration: CAP holds it open, so the client may still log in (SASL) first. */
  readonly negotiating: boolean;
  /** Client.restored; absent: false. */
  readonly restored?: boolean;
}

// A class rather than an object literal: `registered` is a getter on the prototype, shared by
// every client, reading through to the session that owns the decision.
class ClientRecord implements Client {
  id: number;
  readonly ip: string;
  host: string;
  readonly tls: boolean;
  readonly connectedAt: number;
  nick: string | null = null;
  nickUnclaimed = false;
  user: string | null = null;
  realname: string | null = null;
  caps: ReadonlySet<string> = noMembers;
  capVersion = 0;
  password: string | null = null;
  modes: ReadonlySet<string> = noMembers;
  away: string | null = null;
  account: string | null = null;
  readonly certfp: string | null;
  sasl: SaslExchange | null = null;
  markers: Map<string, number> | null = null;
  batch: OpenBatch | null = null;
  lastActiveAt: number;
  oper: string | null = null;

  constructor(
    init: ClientInit,
    private readonly registration: Registration,
  ) {
    this.id = init.id;
    this.ip = init.ip;
    this.host = init.host;
    this.tls = init.tls;
    this.connectedAt = init.at;
    this.certfp = init.certfp ?? null;
    this.lastActiveAt = init.at;
  }

  get registered(): boolean {
    return this.registration.registered;
  }

  get negotiating(): boolean {
    return this.registration.negotiating;
  }

  get restored(): boolean {
    return this.registration.restored === true;
  }
}

/** A client just accepted: no nick, no caps, no modes; registered when `registration` says. */
export function newClient(init: ClientInit, registration: Registration): Client {
  return new ClientRecord(init, registration);
}
