// The network state in this process's memory: the NetworkState for a single server (or a
// single worker), no dependencies. Every operation answers synchronously, so each is atomic by
// construction (nothing else runs in between). Maps are keyed by folded names; records handed
// out are copies. Longer than 500 lines because it is every NetworkState operation in one
// class, each a few lines, kept together so that each one's atomicity can be read in place.
//
// What a client can make grow is bounded: its own channels (maxChannelsPerClient, checked at
// join), each of a channel's mask lists (maxBans, given by the caller from maxBansPerChannel), a channel's
// pending invites (`maxInvitesPerChannel`, oldest dropped), and the WHOWAS history (a ring of
// `whowasSize` entries for the whole network). Empty channels are deleted at once.

import { fold, matchesMask } from '../wire/casemap.js';
import type {
  BanRecord,
  ChannelModes,
  ChannelRecord,
  ChannelRefusal,
  ChannelSummary,
  JoinRequest,
  JoinResult,
  ListMode,
  MaskLists,
  SpeakCheck,
  Speaker,
  Member,
  Membership,
  ModeChange,
  ModeError,
  ModeOptions,
  ModeResult,
  NetworkCounts,
  NetworkState,
  NickClaim,
  PartResult,
  RenameRequest,
  RenameResult,
  TargetedResult,
  Topic,
  TopicResult,
  UserChannel,
  UserProfile,
  UserRecord,
  WhowasEntry,
} from './networkState.js';
import { channelFlags, isListMode, listMatches, maySpeakIn, resolveStateLimits, sortedLetters, type StateLimits } from './networkState.js';
import { WhowasRing } from './whowas.js';

/** WHOWAS ring size and pending invites per channel (stateLimitDefaults when absent). */
export type MemoryStateOptions = StateLimits;

/** A nick holder: its user record (filled in at registration), and what only the state keeps. */
interface UserEntry extends UserRecord {
  registered: boolean;
  /**
   * Folded names of the channels it is in, each the channel map's own key string (a user
   * keeps no copy of its own). A small array replaced on change rather than a Set: a user is in
   * at most maxChannelsPerClient channels, and a Set cost ~150 bytes per user even when empty;
   * users in no channel share `noChannels`.
   */
  channels: readonly string[];
}

interface ChannelEntry {
  name: string;
  /** The folded name: the key in `channels`, the string every member's `channels` holds. */
  folded: string;
  createdAt: number;
  /** When it was last renamed (ms), for the rename cooldown; null: never. */
  renamedAt: number | null;
  topic: Topic | null;
  flags: Set<string>;
  key: string | null;
  limit: number | null;
  /** The mask lists (+b +e +I +q), each oldest first. */
  lists: MaskLists;
  /** Client ids with a pending invite, oldest first (Set keeps insertion order). */
  invites: Set<number>;
  /** Members in join order; each value one of the shared `memberships`. */
  members: Map<number, Membership>;
}

const noChannels: readonly string[] = Object.freeze([]);

// A member's status is one of four records, shared by every member with that status (rather than
// a record of ~40 bytes per member per channel). Frozen: a change replaces the member's record.
const memberships: readonly Membership[] = [
  { op: false, voice: false },
  { op: false, voice: true },
  { op: true, voice: false },
  { op: true, voice: true },
].map((m) => Object.freeze(m));

function membershipOf(op: boolean, voice: boolean): Membership {
  return memberships[(op ? 2 : 0) + (voice ? 1 : 0)]!;
}

export class MemoryState implements NetworkState {
  private readonly users = new Map<number, UserEntry>();
  /** Folded nick -> client id of its holder. */
  private readonly nicks = new Map<string, number>();
  /** Folded channel name -> channel. */
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly whowasRing: WhowasRing;
  private registeredCount = 0;
  private maxUsers = 0;
  private readonly maxInvitesPerChannel: number;
  private readonly serverCount = 1;

  constructor(options: MemoryStateOptions = {}) {
    const limits = resolveStateLimits(options);
    this.whowasRing = new WhowasRing(limits.whowasSize);
    this.maxInvitesPerChannel = limits.maxInvitesPerChannel;
  }

  // ---- Users ----

  claimNick(clientId: number, nick: string, at: number): NickClaim {
    const folded = fold(nick);
    const holder = this.nicks.get(folded);
    if (holder !== undefined && holder !== clientId) return { ok: false };
    const entry = this.users.get(clientId);
    if (!entry) {
      this.users.set(clientId, {
        clientId,
        nick,
        registered: false,
        user: '',
        host: '',
        realname: '',
        server: '',
        tls: false,
        away: null,
        account: null,
        modes: '',
        signonAt: at,
        lastActiveAt: at,
        channels: noChannels,
      });
      this.nicks.set(folded, clientId);
      return { ok: true, previous: null, channels: [] };
    }
    const previous = entry.nick;
    if (entry.registered) this.whowasRing.remember(entry, at);
    this.nicks.delete(fold(previous));
    this.nicks.set(folded, clientId);
    entry.nick = nick;
    return { ok: true, previous, channels: [...entry.channels] };
  }

  register(clientId: number, profile: UserProfile): void {
    const entry = this.users.get(clientId);
    if (!entry) throw new Error(`register: client ${clientId} holds no nick`);
    if (!entry.registered) {
      this.registeredCount++;
      this.maxUsers = Math.max(this.maxUsers, this.registeredCount);
    }
    Object.assign(entry, profile, { registered: true, lastActiveAt: profile.signonAt });
  }

  user(nick: string): UserRecord | null {
    const entry = this.registeredByNick(nick);
    return entry ? record(entry) : null;
  }

  findUsers(mask: string): UserRecord[] {
    const out: UserRecord[] = [];
    for (const u of this.users.values()) {
      if (!u.registered) continue;
      if (
        matchesMask(mask, u.nick) ||
        matchesMask(mask, `${u.nick}!${u.user}@${u.host}`) ||
        matchesMask(mask, u.host) ||
        matchesMask(mask, u.server) ||
        matchesMask(mask, u.realname)
      ) {
        out.push(record(u));
      }
    }
    return out;
  }

  setAway(clientId: number, away: string | null): void {
    const entry = this.users.get(clientId);
    if (entry) entry.away = away;
  }

  setAccount(clientId: number, account: string | null): void {
    const entry = this.users.get(clientId);
    if (entry) entry.account = account;
  }

  setUserModes(clientId: number, modes: string): void {
    const entry = this.users.get(clientId);
    if (entry) entry.modes = sortedLetters(modes);
  }

  setRealname(clientId: number, realname: string): void {
    const entry = this.users.get(clientId);
    if (entry) entry.realname = realname;
  }

  setUserHost(nick: string, user: string, host: string): UserRecord | null {
    const entry = this.registeredByNick(nick);
    if (!entry) return null;
    const before = record(entry);
    entry.user = user;
    entry.host = host;
    return before;
  }

  touch(clientId: number, at: number): void {
    const entry = this.users.get(clientId);
    if (entry) entry.lastActiveAt = at;
  }

  removeUser(clientId: number, at: number): { nick: string; channels: string[]; registered: boolean } | null {
    const entry = this.users.get(clientId);
    if (!entry) return null;
    const channels = [...entry.channels];
    for (const name of channels) this.leave(entry, name);
    this.nicks.delete(fold(entry.nick));
    this.users.delete(clientId);
    if (entry.registered) {
      this.registeredCount--;
      this.whowasRing.remember(entry, at);
    }
    return { nick: entry.nick, channels, registered: entry.registered };
  }

  whowas(nick: string, max: number): WhowasEntry[] {
    return this.whowasRing.lookup(nick, max);
  }

  // ---- Channels ----

  join(clientId: number, name: string, request: JoinRequest): JoinResult {
    const entry = this.users.get(clientId);
    if (!entry) throw new Error(`join: client ${clientId} is not a user`);
    const folded = fold(name);
    let channel = this.channels.get(folded);
    if (channel?.members.has(clientId)) return { ok: false, reason: 'alreadyOn' };
    if (entry.channels.length >= request.maxChannels) return { ok: false, reason: 'tooManyChannels' };
    let created = false;
    if (!channel) {
      channel = {
        name,
        folded,
        createdAt: request.at,
        renamedAt: null,
        topic: null,
        flags: new Set([...request.createFlags].filter((c) => channelFlags.has(c))),
        key: null,
        limit: null,
        lists: { b: [], e: [], I: [], q: [] },
        invites: new Set(),
        members: new Map(),
      };
      this.channels.set(folded, channel);
      created = true;
    } else {
      const mask = `${entry.nick}!${entry.user}@${entry.host}`;
      const lists = channel.lists;
      const matched = (mode: ListMode): boolean => listMatches(lists, mode, mask);
      const invited = channel.invites.has(clientId) || matched('I');
      if (matched('b') && !matched('e')) return { ok: false, reason: 'banned' };
      if (channel.flags.has('i') && !invited) return { ok: false, reason: 'inviteOnly' };
      if (channel.key !== null && request.key !== channel.key) return { ok: false, reason: 'badKey' };
      if (channel.limit !== null && channel.members.size >= channel.limit) return { ok: false, reason: 'full' };
      if (channel.flags.has('R') && entry.account === null && !invited) return { ok: false, reason: 'needsAccount' };
    }
    channel.invites.delete(clientId);
    channel.members.set(clientId, membershipOf(created, false));
    entry.channels = [...entry.channels, channel.folded];
    return { ok: true, created, channel: channelRecord(channel) };
  }

  part(clientId: number, name: string): PartResult {
    const entry = this.users.get(clientId);
    const folded = fold(name);
    const channel = this.channels.get(folded);
    if (!channel) return { ok: false, reason: 'noSuchChannel' };
    if (!entry || !channel.members.has(clientId)) return { ok: false, reason: 'notOn' };
    this.leave(entry, folded);
    return { ok: true, channel: channel.name };
  }

  partAll(clientId: number): string[] {
    const entry = this.users.get(clientId);
    if (!entry) return [];
    const names: string[] = [];
    for (const folded of [...entry.channels]) {
      const channel = this.channels.get(folded);
      if (channel) names.push(channel.name);
      this.leave(entry, folded);
    }
    return names;
  }

  channel(name: string): ChannelRecord | null {
    const channel = this.channels.get(fold(name));
    return channel ? channelRecord(channel) : null;
  }

  members(name: string): Member[] {
    const channel = this.channels.get(fold(name));
    if (!channel) return [];
    const out: Member[] = [];
    for (const [id, m] of channel.members) {
      const u = this.users.get(id);
      if (u) out.push({ user: record(u), op: m.op, voice: m.voice });
    }
    return out;
  }

  membership(name: string, nick: string): Membership | null {
    const channel = this.channels.get(fold(name));
    const id = this.nicks.get(fold(nick));
    if (!channel || id === undefined) return null;
    const m = channel.members.get(id);
    return m ? { ...m } : null;
  }

  channelsOf(nick: string): UserChannel[] {
    const entry = this.registeredByNick(nick);
    if (!entry) return [];
    const out: UserChannel[] = [];
    for (const folded of entry.channels) {
      const channel = this.channels.get(folded);
      const m = channel?.members.get(entry.clientId);
      if (channel && m) out.push({ name: channel.name, secret: channel.flags.has('s'), op: m.op, voice: m.voice });
    }
    return out;
  }

  setTopic(clientId: number, name: string, topic: Topic | null, asService = false): TopicResult {
    const channel = this.channels.get(fold(name));
    if (!channel) return { ok: false, reason: 'noSuchChannel' };
    const m = channel.members.get(clientId);
    if (!asService && !m) return { ok: false, reason: 'notOn' };
    if (!asService && channel.flags.has('t') && !m?.op) return { ok: false, reason: 'notOp' };
    channel.topic = topic ? { ...topic } : null;
    return { ok: true, channel: channel.name };
  }

  applyModes(clientId: number, name: string, changes: ModeChange[], options: ModeOptions): ModeResult {
    const channel = this.channels.get(fold(name));
    if (!channel) return { ok: false, reason: 'noSuchChannel' };
    if (options.asService !== true && !channel.members.get(clientId)?.op) return { ok: false, reason: 'notOp' };
    const applied: ModeChange[] = [];
    const errors: ModeError[] = [];
    for (const change of changes) {
      const { adding, mode } = change;
      const param = change.param ?? '';
      if (channelFlags.has(mode)) {
        if (channel.flags.has(mode) === adding) continue;
        if (adding) channel.flags.add(mode);
        else channel.flags.delete(mode);
        applied.push({ adding, mode });
      } else if (mode === 'k') {
        if (adding) {
          if (channel.key === param || param === '') continue;
          channel.key = param;
          applied.push({ adding, mode, param });
        } else {
          if (channel.key === null) continue;
          channel.key = null;
          applied.push({ adding, mode, param: '*' });
        }
      } else if (mode === 'l') {
        if (adding) {
          const limit = Number(param);
          if (!Number.isSafeInteger(limit) || limit <= 0 || channel.limit === limit) continue;
          channel.limit = limit;
          applied.push({ adding, mode, param: String(limit) });
        } else {
          if (channel.limit === null) continue;
          channel.limit = null;
          applied.push({ adding, mode });
        }
      } else if (mode === 'o' || mode === 'v') {
        const target = this.registeredByNick(param);
        if (!target) {
          errors.push({ error: 'noSuchNick', mode, param });
          continue;
        }
        const m = channel.members.get(target.clientId);
        if (!m) {
          errors.push({ error: 'notOnChannel', mode, param: target.nick });
          continue;
        }
        const key = mode === 'o' ? 'op' : 'voice';
        if (m[key] === adding) continue;
        channel.members.set(target.clientId, key === 'op' ? membershipOf(adding, m.voice) : membershipOf(m.op, adding));
        applied.push({ adding, mode, param: target.nick });
      } else if (isListMode(mode)) {
        const list = channel.lists[mode];
        const folded = fold(param);
        const index = list.findIndex((b) => fold(b.mask) === folded);
        if (adding) {
          if (index !== -1 || param === '') continue;
          if (list.length >= options.maxBans) {
            errors.push({ error: 'listFull', mode, param });
            continue;
          }
          list.push({ mask: param, setBy: options.setBy, setAt: options.at });
          applied.push({ adding, mode, param });
        } else {
          const entry = list[index];
          if (!entry) continue;
          list.splice(index, 1);
          applied.push({ adding, mode, param: entry.mask });
        }
      }
    }
    return { ok: true, channel: channel.name, applied, errors };
  }

  speakIn(name: string, speaker: Speaker): SpeakCheck | null {
    const channel = this.channels.get(fold(name));
    if (!channel) return null;
    const m = channel.members.get(speaker.clientId);
    const membership = m ? { ...m } : null;
    const record = channelRecord(channel);
    return { channel: record, membership, allowed: maySpeakIn(record.modes.flags, membership, speaker, () => channel.lists) };
  }

  maskLists(name: string): MaskLists {
    const channel = this.channels.get(fold(name));
    const copy = (list: BanRecord[] | undefined): BanRecord[] => (list ?? []).map((b) => ({ ...b }));
    return { b: copy(channel?.lists.b), e: copy(channel?.lists.e), I: copy(channel?.lists.I), q: copy(channel?.lists.q) };
  }

  invite(clientId: number, name: string, nick: string): TargetedResult {
    const target = this.registeredByNick(nick);
    if (!target) return { ok: false, reason: 'noSuchNick' };
    const channel = this.channels.get(fold(name));
    if (!channel) return { ok: false, reason: 'noSuchChannel' };
    const m = channel.members.get(clientId);
    if (!m) return { ok: false, reason: 'notOn' };
    if (channel.flags.has('i') && !m.op) return { ok: false, reason: 'notOp' };
    if (channel.members.has(target.clientId)) return { ok: false, reason: 'alreadyOn' };
    channel.invites.delete(target.clientId);
    channel.invites.add(target.clientId);
    if (channel.invites.size > this.maxInvitesPerChannel) {
      const oldest = channel.invites.values().next();
      if (!oldest.done) channel.invites.delete(oldest.value);
    }
    return { ok: true, channel: channel.name, target: record(target) };
  }

  /** The channel `clientId` is an operator of, or why it is not one. */
  private operatorOf(clientId: number, folded: string): ChannelEntry | { refusal: ChannelRefusal } {
    const channel = this.channels.get(folded);
    if (!channel) return { refusal: 'noSuchChannel' };
    const m = channel.members.get(clientId);
    if (!m) return { refusal: 'notOn' };
    return m.op ? channel : { refusal: 'notOp' };
  }

  kick(clientId: number, name: string, nick: string): TargetedResult {
    const folded = fold(name);
    const channel = this.operatorOf(clientId, folded);
    if ('refusal' in channel) return { ok: false, reason: channel.refusal };
    const target = this.registeredByNick(nick);
    if (!target) return { ok: false, reason: 'noSuchNick' };
    if (!channel.members.has(target.clientId)) return { ok: false, reason: 'targetNotOn' };
    this.leave(target, folded);
    return { ok: true, channel: channel.name, target: record(target) };
  }

  renameChannel(clientId: number, name: string, newName: string, request: RenameRequest): RenameResult {
    const folded = fold(name);
    const channel = this.operatorOf(clientId, folded);
    if ('refusal' in channel) return { ok: false, reason: channel.refusal };
    if (channel.renamedAt !== null && request.at - channel.renamedAt < request.cooldownMs) return { ok: false, reason: 'renamedRecently' };
    const to = fold(newName);
    const from = channel.name;
    if (to !== folded) {
      if (this.channels.has(to)) return { ok: false, reason: 'nameInUse' };
      // The map rebuilt so the channel keeps its place in LIST (creation) order, as Redis keeps
      // its creation sequence; a rename is rare and operator-only, so O(channels) is fine.
      const entries = [...this.channels].map(([key, c]): [string, ChannelEntry] => (key === folded ? [to, c] : [key, c]));
      this.channels.clear();
      for (const [key, c] of entries) this.channels.set(key, c);
      channel.folded = to;
      for (const id of channel.members.keys()) {
        const member = this.users.get(id);
        if (member) member.channels = member.channels.map((c) => (c === folded ? to : c));
      }
    }
    channel.name = newName;
    channel.renamedAt = request.at;
    return { ok: true, from, channel: channelRecord(channel), members: [...channel.members.keys()] };
  }

  listChannels(): ChannelSummary[] {
    const out: ChannelSummary[] = [];
    for (const c of this.channels.values()) {
      out.push({
        name: c.name,
        memberCount: c.members.size,
        topic: c.topic?.text ?? null,
        secret: c.flags.has('s'),
        createdAt: c.createdAt,
        topicSetAt: c.topic?.setAt ?? null,
      });
    }
    return out;
  }

  counts(): NetworkCounts {
    let invisible = 0;
    let unknown = 0;
    let operators = 0;
    for (const u of this.users.values()) {
      if (!u.registered) unknown++;
      else {
        if (u.modes.includes('i')) invisible++;
        if (u.modes.includes('o')) operators++;
      }
    }
    return {
      users: this.registeredCount,
      invisible,
      unknown,
      operators,
      channels: this.channels.size,
      servers: this.serverCount,
      localUsers: this.registeredCount,
      maxLocalUsers: this.maxUsers,
      globalUsers: this.registeredCount,
      maxGlobalUsers: this.maxUsers,
    };
  }

  localMembers(channel: string): Iterable<number> {
    return this.channels.get(channel)?.members.keys() ?? [];
  }

  // ---- Internals ----

  private registeredByNick(nick: string): UserEntry | null {
    const id = this.nicks.get(fold(nick));
    const entry = id === undefined ? undefined : this.users.get(id);
    return entry?.registered ? entry : null;
  }

  /** Takes a user out of a channel; deletes the channel if that left it empty. */
  private leave(entry: UserEntry, folded: string): void {
    const rest = entry.channels.filter((c) => c !== folded);
    entry.channels = rest.length === 0 ? noChannels : rest;
    const channel = this.channels.get(folded);
    if (!channel) return;
    channel.members.delete(entry.clientId);
    if (channel.members.size === 0) this.channels.delete(folded);
  }
}

function record(u: UserEntry): UserRecord {
  return {
    clientId: u.clientId,
    nick: u.nick,
    user: u.user,
    host: u.host,
    realname: u.realname,
    server: u.server,
    tls: u.tls,
    away: u.away,
    account: u.account,
    modes: u.modes,
    signonAt: u.signonAt,
    lastActiveAt: u.lastActiveAt,
  };
}

function channelRecord(c: ChannelEntry): ChannelRecord {
  const modes: ChannelModes = { flags: sortedLetters(c.flags), key: c.key, limit: c.limit };
  return {
    name: c.name,
    createdAt: c.createdAt,
    topic: c.topic ? { ...c.topic } : null,
    modes,
    memberCount: c.members.size,
  };
}
