// The network state: who holds which nick, who is in which channel, and everything the
// queries read (user records, topics, modes, bans, invites, WHOWAS history, counts).
//
// It is an interface so that the in-memory implementation (memoryState.ts, one process) can be
// replaced by a shared store (Redis: src/irc/redis/) without touching a handler. For that:
//   - every operation may answer later (`MaybePromise`), so handlers `await` every call;
//   - every operation that decides something is ONE atomic step that a distributed store can
//     run as one transaction or script: claiming a nick (two racing claims: exactly one wins),
//     joining (the joiner learns whether it created the channel, and the channel's key, limit,
//     bans and invite are checked in the same step), kicking, setting a topic or modes (the
//     operator check is in the same step), and so on. Handlers never read-then-write;
//   - results are snapshots (plain data), never live objects a handler could mutate;
//   - the one synchronous method is `localMembers`, which the session adapter calls while it
//     delivers a message: it lists this process's clients in a channel, and a distributed
//     implementation keeps that index locally (its own clients' memberships).
//
// Names: every method takes names as the client spelled them and compares them folded
// (casemap.ts, rfc1459); records carry the display spelling. `localMembers` alone takes the
// folded name, as the `channels` Target carries it.
//
// Identity: a client acts on itself by its connection id (`clientId`, unique in its process);
// a distributed implementation maps that to its own network-wide key. Other users are named
// by nick.

import { matchesMask } from '../wire/casemap.js';

/** A value now, or later: the in-memory state answers at once, Redis later. */
export type MaybePromise<T> = T | Promise<T>;


/**
 * Bounds every implementation keeps by default: WHOWAS entries for the whole network (a client
 * changing nicks in a loop pushes older ones out, never grows memory) and pending invites per
 * channel (the oldest is forgotten).
 */
export const stateLimitDefaults = { whowasSize: 1024, maxInvitesPerChannel: 64 } as const;

/** The bounds above as an implementation's options; each defaults to stateLimitDefaults. */
export interface StateLimits {
  /** WHOWAS entries kept for the whole network, oldest dropped first. */
  whowasSize?: number;
  /** Pending invites one channel keeps; past it the oldest is forgotten. */
  maxInvitesPerChannel?: number;
}

/** The limits an implementation runs with: the defaults filled in, each at least 1. */
export function resolveStateLimits(options: StateLimits): Required<StateLimits> {
  return {
    whowasSize: Math.max(1, options.whowasSize ?? stateLimitDefaults.whowasSize),
    maxInvitesPerChannel: Math.max(1, options.maxInvitesPerChannel ?? stateLimitDefaults.maxInvitesPerChannel),
  };
}

/** A registered user, as WHOIS, WHO, USERHOST and ISON see it. */
export interface UserRecord {
  /** Connection id in the process that holds the user (a delivery target there). */
  clientId: number;
  /** Display spelling. */
  nick: string;
  /** `~`-prefixed username. */
  user: string;
  host: string;
  realname: string;
  /** Name of the server the user is connected to. */
  server: string;
  /** Connected over TLS (WHOIS 671). */
  tls: boolean;
  /** Away message, or null when not away. */
  away: string | null;
  /** The account the user is logged in to (display spelling), or null. */
  account: string | null;
  /** User modes, as letters in alphabetical order ('' or 'i'). */
  modes: string;
  /** Registration time, ms since the epoch (WHOIS 317 signon). */
  signonAt: number;
  /** Last command other than PING/PONG, ms (WHOIS 317 idle). */
  lastActiveAt: number;
}

/** What a user gives at registration, besides the nick it already holds. */
export interface UserProfile {
  user: string;
  host: string;
  realname: string;
  server: string;
  tls: boolean;
  modes: string;
  signonAt: number;
}

/** One WHOWAS entry: who held a nick, remembered when they changed it or left. */
export interface WhowasEntry {
  nick: string;
  user: string;
  host: string;
  realname: string;
  server: string;
  /** When they stopped using the nick (ms). */
  at: number;
}

/** A member's status in one channel. */
export interface Membership {
  op: boolean;
  voice: boolean;
}

export interface Member extends Membership {
  user: UserRecord;
}

export interface Topic {
  text: string;
  /** `nick!user@host` of whoever set it. */
  setBy: string;
  /** ms since the epoch. */
  setAt: number;
}

/**
 * The flag modes a channel can have (CHANMODES type D): +M only logged-in users (or voiced
 * members and operators) speak, +R only logged-in users join, and the RFC's i m n s t.
 */
export type ChannelFlag = 'M' | 'R' | 'i' | 'm' | 'n' | 's' | 't';

/** The ChannelFlag letters, to tell a flag mode from the others. */
export const channelFlags: ReadonlySet<string> = new Set<ChannelFlag>(['M', 'R', 'i', 'm', 'n', 's', 't']);

/**
 * The mask lists a channel keeps (CHANMODES type A): +b bans, +e ban exceptions (over +b and
 * +q), +I invite exceptions (over +i), +q quiets (a matching member without voice cannot speak).
 */
export type ListMode = 'b' | 'e' | 'I' | 'q';

/** The ListMode letters, in the order CHANMODES gives them. */
export const listModes: readonly ListMode[] = ['b', 'e', 'I', 'q'];

export function isListMode(letter: string): letter is ListMode {
  return (listModes as readonly string[]).includes(letter);
}

/** Whether a mask of a channel's `mode` list matches `nick!user@host`. */
export function listMatches(lists: MaskLists, mode: ListMode, source: string): boolean {
  return lists[mode].some((entry) => matchesMask(entry.mask, source));
}

/** Mode letters as records carry them: in alphabetical order. */
export function sortedLetters(letters: Iterable<string>): string {
  return [...letters].sort().join('');
}

export interface ChannelModes {
  /** Flag modes set, letters in alphabetical order (e.g. 'nt'). */
  flags: string;
  /** +k: the key, or null. */
  key: string | null;
  /** +l: the member limit, or null. */
  limit: number | null;
}

export interface ChannelRecord {
  /** Display spelling, as its creator wrote it. */
  name: string;
  /** ms since the epoch (329 RPL_CREATIONTIME). */
  createdAt: number;
  topic: Topic | null;
  modes: ChannelModes;
  memberCount: number;
}

/** One entry of a channel's mask list (+b, +e, +I or +q). */
export interface BanRecord {
  /** Normalised `nick!user@host` mask with `*` and `?`. */
  mask: string;
  /** Nick of whoever set it. */
  setBy: string;
  setAt: number;
}

/** A channel's four mask lists, each oldest first. */
export type MaskLists = Record<ListMode, BanRecord[]>;

/** Who asks to speak in a channel: its id, `nick!user@host`, and whether it is logged in. */
export interface Speaker {
  clientId: number;
  mask: string;
  loggedIn: boolean;
}

/** What speakIn found: the channel, the speaker's status there (null: not a member), the verdict. */
export interface SpeakCheck {
  channel: ChannelRecord;
  membership: Membership | null;
  allowed: boolean;
}

/**
 * The rule for speaking in a channel: ops and voiced members always; others not when +n and
 * outside it, +m, +M and not logged in, or banned or quieted (a +b or +q mask matching their
 * nick!user@host, and no +e mask). lua/speakIn.lua is its copy inside Redis.
 */
export function maySpeakIn(flags: string, membership: Membership | null, speaker: Speaker, lists: () => MaskLists): boolean {
  if (membership && (membership.op || membership.voice)) return true;
  if ((flags.includes('n') && !membership) || flags.includes('m') || (flags.includes('M') && !speaker.loggedIn)) return false;
  const all = lists();
  const matched = (mode: ListMode): boolean => listMatches(all, mode, speaker.mask);
  return !((matched('b') || matched('q')) && !matched('e'));
}

/** One of a user's channels, as WHOIS lists it. */
export interface UserChannel extends Membership {
  name: string;
  secret: boolean;
}

/** One channel, as LIST shows it. */
export interface ChannelSummary {
  name: string;
  memberCount: number;
  topic: string | null;
  secret: boolean;
  /** ms since the epoch: when the channel was created, and its topic set (null: no topic). For ELIST C and T. */
  createdAt: number;
  topicSetAt: number | null;
}

/** Counts for LUSERS. */
export interface NetworkCounts {
  /** Registered users, visible and invisible. */
  users: number;
  /** Registered users with +i. */
  invisible: number;
  /** Connections holding a nick that have not finished registering. */
  unknown: number;
  /** IRC operators (this server has none yet). */
  operators: number;
  channels: number;
  /** Servers in the network (1 for the in-memory state). */
  servers: number;
  /** Registered users on this server, and the most there have been at once. */
  localUsers: number;
  maxLocalUsers: number;
  /** Registered users on the whole network, and the most there have been at once. */
  globalUsers: number;
  maxGlobalUsers: number;
}

export type NickClaim =
  /**
   * The client now holds the nick; its previous nick (null if none) is released in the same
   * step and remembered for WHOWAS when the client was registered. `channels` are the folded
   * names of the channels the client is in, who must see the change.
   */
  | { ok: true; previous: string | null; channels: string[] }
  /** Another client holds it (433). */
  | { ok: false };

export interface JoinRequest {
  /** The key the joiner gave for this channel, if any. */
  key: string | null;
  /** Channels a client may be in at once (405 when it would pass it). */
  maxChannels: number;
  /** Flag modes a channel gets when this join creates it. */
  createFlags: string;
  at: number;
}

export type JoinRefusal = 'alreadyOn' | 'tooManyChannels' | 'banned' | 'inviteOnly' | 'badKey' | 'full' | 'needsAccount';

export type JoinResult =
  /** Joined; `created`: the channel did not exist and the joiner is its first operator. */
  | { ok: true; created: boolean; channel: ChannelRecord }
  | { ok: false; reason: JoinRefusal };

export type PartResult = { ok: true; channel: string } | { ok: false; reason: 'noSuchChannel' | 'notOn' };

/** Reasons shared by the operator-only operations. */
export type ChannelRefusal = 'noSuchChannel' | 'notOn' | 'notOp';

export type TopicResult = { ok: true; channel: string } | { ok: false; reason: ChannelRefusal };

export type RenameResult =
  /**
   * Renamed: `from` its display name before, `channel` it now (topic, modes, count kept), and
   * `members` the client ids of its members in join order (each node's own move with it).
   */
  | { ok: true; from: string; channel: ChannelRecord; members: number[] }
  /**
   * `nameInUse`: another channel holds the new name (folded); `renamedRecently`: the channel
   * was renamed less than `cooldownMs` ago.
   */
  | { ok: false; reason: ChannelRefusal | 'nameInUse' | 'renamedRecently' };

export interface RenameRequest {
  at: number;
  /** Time a channel keeps its name after a rename before it may be renamed again. */
  cooldownMs: number;
}

export type TargetedResult =
  /** Done to `target` in `channel` (display name). */
  | { ok: true; channel: string; target: UserRecord }
  | { ok: false; reason: ChannelRefusal | 'noSuchNick' | 'targetNotOn' | 'alreadyOn' };

/** One mode change as asked for, or as it took effect. */
export interface ModeChange {
  adding: boolean;
  /** One of b e I q (lists), k l o v, and the flags M R i m n s t. */
  mode: string;
  /**
   * Asked: the nick (o/v), normalised mask (b e I q), key (+k), limit (+l). Applied: the same
   * with the nick's display spelling, the mask as stored, '*' for -k; absent for flags and -l.
   */
  param?: string;
}

export interface ModeError {
  /** listFull: the mode's list already holds maxBans masks (478). */
  error: 'noSuchNick' | 'notOnChannel' | 'listFull';
  mode: string;
  param: string;
}

export type ModeResult =
  /** `applied`: only the changes that changed something, in the order asked. */
  | { ok: true; channel: string; applied: ModeChange[]; errors: ModeError[] }
  | { ok: false; reason: 'noSuchChannel' | 'notOp' };

export interface ModeOptions {
  /** Masks each of a channel's lists (b e I q) may hold (478 past it). */
  maxBans: number;
  /** Nick of whoever changes the modes (recorded with bans). */
  setBy: string;
  at: number;
  /**
   * A service makes the change (ChanServ: a registered channel's founder opped, its modes
   * restored): no operator check, and `clientId` is not used.
   */
  asService?: boolean;
}

export interface NetworkState {
  // ---- Users ----

  /**
   * Atomically gives `nick` to the client unless another client holds it (folded). A change of
   * case of the client's own nick succeeds. The previous nick is released in the same step.
   */
  claimNick(clientId: number, nick: string, at: number): MaybePromise<NickClaim>;

  /** Makes the client (holding a nick) a registered user: visible to queries and counted. */
  register(clientId: number, profile: UserProfile): MaybePromise<void>;

  /** The registered user holding `nick`, or null. Unregistered nick holders are not users. */
  user(nick: string): MaybePromise<UserRecord | null>;

  /**
   * Registered users matching a WHO mask (`*` and `?`, folded) on their nick, their
   * `nick!user@host`, host, server or realname.
   */
  findUsers(mask: string): MaybePromise<UserRecord[]>;

  setAway(clientId: number, away: string | null): MaybePromise<void>;

  /** Records the account the client logged in to (or out of, with null), for WHOIS and other nodes. */
  setAccount(clientId: number, account: string | null): MaybePromise<void>;

  /** Sets the client's user modes (letters, e.g. 'i' or ''). */
  setUserModes(clientId: number, modes: string): MaybePromise<void>;

  /** Sets the client's realname (SETNAME), for WHOIS, WHO and WHOWAS. */
  setRealname(clientId: number, realname: string): MaybePromise<void>;

  /**
   * Gives the registered user holding `nick` another displayed user and host (CHGHOST), in one
   * step: its record as it was before the change, or null when no registered user holds it.
   */
  setUserHost(nick: string, user: string, host: string): MaybePromise<UserRecord | null>;

  /** Records activity for WHOIS idle time. */
  touch(clientId: number, at: number): MaybePromise<void>;

  /**
   * The client leaves the network: out of every channel (channels left empty disappear), its
   * nick freed, a WHOWAS entry if it was registered. Null when it was already gone (or never
   * held a nick), so calling it twice is harmless. `channels`: folded names of those it left;
   * `registered`: whether it was a user (an unregistered nick holder was never online).
   */
  removeUser(clientId: number, at: number): MaybePromise<{ nick: string; channels: string[]; registered: boolean } | null>;

  /** WHOWAS history for `nick`, newest first, at most `max` entries. Bounded in total. */
  whowas(nick: string, max: number): MaybePromise<WhowasEntry[]>;

  // ---- Channels ----

  /**
   * Joins the client to `channel`, creating it (the joiner its operator) when it does not
   * exist. In the same step: refused when already on it, at maxChannels, banned (a +b mask
   * matches its nick!user@host and no +e mask does), +i and neither invited nor matching a +I
   * mask, +k and the wrong key, +l and full, +R and not logged in (unless invited or matching
   * +I), checked in that order. A pending invite is used up by the join.
   */
  join(clientId: number, channel: string, request: JoinRequest): MaybePromise<JoinResult>;

  /** Takes the client out of `channel`; a channel left empty disappears. */
  part(clientId: number, channel: string): MaybePromise<PartResult>;

  /** Takes the client out of every channel (`JOIN 0`); returns their display names. */
  partAll(clientId: number): MaybePromise<string[]>;

  channel(channel: string): MaybePromise<ChannelRecord | null>;

  /** Members in join order, with their user records. Empty when there is no such channel. */
  members(channel: string): MaybePromise<Member[]>;

  /** The status of `nick` in `channel`, or null when it is not a member. */
  membership(channel: string, nick: string): MaybePromise<Membership | null>;

  /**
   * Whether `speaker` may speak in `channel` (maySpeakIn), with the channel and the speaker's
   * status in it, read in one atomic step (one round trip on Redis: a message to a channel is
   * the commonest command). Null when there is no such channel.
   */
  speakIn(channel: string, speaker: Speaker): MaybePromise<SpeakCheck | null>;

  /** The channels `nick` is in, with its status and each channel's secrecy. */
  channelsOf(nick: string): MaybePromise<UserChannel[]>;

  /**
   * Sets (or clears, with null) the topic: the setter must be a member, and an op when +t;
   * `asService` (ChanServ restoring a registered channel's topic) skips both checks.
   */
  setTopic(clientId: number, channel: string, topic: Topic | null, asService?: boolean): MaybePromise<TopicResult>;

  /**
   * Applies channel mode changes as one step, the client being checked as an operator in it.
   * Changes that would change nothing are left out of `applied`; a mask past `maxBans`, an o/v
   * naming no user or a non-member are reported in `errors` and the rest still apply.
   */
  applyModes(clientId: number, channel: string, changes: ModeChange[], options: ModeOptions): MaybePromise<ModeResult>;

  /** The channel's mask lists (+b +e +I +q), each oldest first; all empty for no such channel. */
  maskLists(channel: string): MaybePromise<MaskLists>;

  /**
   * Invites `nick` to `channel`: the inviter must be a member (an op when +i), the invitee a
   * registered user not already in it. The invite lets the invitee pass +i once.
   */
  invite(clientId: number, channel: string, nick: string): MaybePromise<TargetedResult>;

  /** Removes `nick` from `channel`: the kicker must be an op in it. */
  kick(clientId: number, channel: string, nick: string): MaybePromise<TargetedResult>;

  /**
   * Renames `channel` to `newName` (draft/channel-rename) in one step: its members in join
   * order with op/voice, topic, modes, bans and pending invites move to the new folded name.
   * The renamer must be an operator in it; refused when another channel holds the new name. A
   * change of case only keeps everything where it is and changes the display name. Each rename
   * (a change of case too) starts the channel's cooldown, checked in the same step.
   */
  renameChannel(clientId: number, channel: string, newName: string, request: RenameRequest): MaybePromise<RenameResult>;

  /** Every channel, for LIST (the handler hides secret ones). */
  listChannels(): MaybePromise<ChannelSummary[]>;

  counts(): MaybePromise<NetworkCounts>;

  /**
   * Connection ids of this process's clients in the (folded) channel, for delivery. Synchronous:
   * the adapter calls it while applying an outcome.
   */
  localMembers(channel: string): Iterable<number>;
}
