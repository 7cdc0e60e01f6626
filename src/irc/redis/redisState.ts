// The network state in Redis: the NetworkState shared by every node (server process) of one IRC
// network. Each operation that decides something is ONE Lua script (ioredis `defineCommand`, so
// EVALSHA), so two nodes racing get exactly the semantics MemoryState has in one process
// (memoryState.ts is the behavioural reference; test/unit/irc/stateContract.ts holds both to it).
// Scripts keep every check before the first write: Redis does not roll a script back on error.
//
// Around it, one file per concern: lua/ the steps (lib.lua shared locals and the key schema, one
// file per step) and scripts.ts their loader; scriptShapes.ts what the scripts answer;
// redisClient.ts the fail-fast client and a ChatError NETWORK_UNAVAILABLE; restore.ts the shapes of a
// restore after Redis lost data.
//
// Locally (this process only) localIndex.ts keeps this node's members of each channel, for the
// synchronous `localMembers`; this node's own results keep it current, and `applyControl` applies
// what another node tells us (a KICK there of a client of ours). The optional `follow` and
// `unfollow` hooks hear when a channel gains its first local member and loses its last one.
//
// Redis must not evict (maxmemory-policy noeviction): a lost key is lost state. When Redis is
// unreachable every operation rejects with a ChatError NETWORK_UNAVAILABLE; other errors are bugs.

import type { Redis } from 'ioredis';
import { fold } from '../wire/casemap.js';
import { nodeOf } from '../state/ids.js';
import type {
  ChannelRecord,
  ChannelSummary,
  JoinRefusal,
  JoinRequest,
  JoinResult,
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
} from '../state/networkState.js';
import { resolveStateLimits, sortedLetters, type StateLimits } from '../state/networkState.js';
import { LocalIndex } from './localIndex.js';
import { guard } from './redisClient.js';
import { restorePayload, restoreUserOf, type RawSnapshot, type RestoreResult, type RestoreUser } from './restore.js';
import { commandName, defineScripts, type ScriptName } from './scripts.js';
import { channelRecord, flagLetters, list, maskListsOf, targeted, userRecord, type RawChannel, type RawTargeted, type RawUser, type Refusal } from './scriptShapes.js';

/** What one node tells another about the other's local index (sent by the caller's transport). */
export type StateControl =
  /** `clientId` (held by the receiving node) is no longer in `channel` (folded): kicked. */
  | { type: 'dropMember'; channel: string; clientId: number }
  /**
   * The channel folded `from` is now folded `to` (RENAME): the node's members of it move. Sent
   * by the rename's own script (renameChannel.lua) to every node, on the `renames` channel.
   */
  | { type: 'renameChannel'; from: string; to: string };

export interface RedisStateOptions extends StateLimits {
  /** Connected ioredis client for commands (not subscribed); see redisStateClientOptions. */
  redis: Redis;
  /** Start of every key, e.g. `irc:{TestNet}:`. */
  prefix: string;
  /** This node's index (ids.ts): clients with nodeOf(id) === nodeIndex are local. */
  nodeIndex: number;
  /** Sends a control message to another node (it calls `applyControl` there). */
  notifyNode: (nodeIndex: number, control: StateControl) => void;
  /**
   * Called (and awaited) before this node's first member of a channel joins it, so the caller
   * can start receiving what is said there before the join is visible to anyone.
   */
  follow?: (channel: string) => void | Promise<void>;
  /** Called once this node has no member of the channel left (and no join of it in flight). */
  unfollow?: (channel: string) => void | Promise<void>;
  /** Called when a channel this node knows of was renamed, here or on another node (folded names). */
  renamed?: (from: string, to: string) => void;
}

/** A user removeNode took off the network, so the caller can send its QUIT. */
export interface RemovedUser {
  clientId: number;
  nick: string;
  user: string;
  host: string;
  /** Folded names of the channels it was in. */
  channels: string[];
  /** Whether it was a user (MONITOR watchers are told it went offline), not a nick holder only. */
  registered: boolean;
}

type ScriptCall = (prefix: string, ...args: string[]) => Promise<unknown>;

export class RedisState implements NetworkState {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly nodeIndex: number;
  private readonly notifyNode: (nodeIndex: number, control: StateControl) => void;
  private readonly whowasSize: number;
  private readonly maxInvitesPerChannel: number;
  private readonly local: LocalIndex;
  private readonly renamed: (from: string, to: string) => void;

  constructor(options: RedisStateOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.nodeIndex = options.nodeIndex;
    this.notifyNode = options.notifyNode;
    this.local = new LocalIndex({ nodeIndex: this.nodeIndex, follow: options.follow ?? (() => {}), unfollow: options.unfollow ?? (() => {}) });
    this.renamed = options.renamed ?? (() => {});
    const limits = resolveStateLimits(options);
    this.whowasSize = limits.whowasSize;
    this.maxInvitesPerChannel = limits.maxInvitesPerChannel;
    defineScripts(this.redis);
  }

  // ---- Users ----

  async claimNick(clientId: number, nick: string, at: number): Promise<NickClaim> {
    const r = await this.run<{ ok: true; previous: string | null; channels: unknown } | { ok: false }>(
      'claimNick', String(clientId), nick, fold(nick), String(at), String(nodeOf(clientId)), String(this.whowasSize));
    return r.ok ? { ok: true, previous: r.previous ?? null, channels: list<string>(r.channels) } : { ok: false };
  }

  async register(clientId: number, profile: UserProfile): Promise<void> {
    const r = await this.run<{ ok: boolean }>('register', String(clientId), profile.user, profile.host,
      profile.realname, profile.server, profile.tls ? '1' : '0', profile.modes, String(profile.signonAt));
    if (!r.ok) throw new Error(`register: client ${clientId} holds no nick`);
  }

  async user(nick: string): Promise<UserRecord | null> {
    const r = await this.run<RawUser | null>('user', fold(nick));
    return r ? userRecord(r) : null;
  }

  async findUsers(mask: string): Promise<UserRecord[]> {
    const r = await this.run<unknown>('findUsers', mask);
    // Claim order, as MemoryState lists them (ids grow with each connection).
    return list<RawUser>(r).map(userRecord).sort((a, b) => a.clientId - b.clientId);
  }

  async setAway(clientId: number, away: string | null): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'away', away === null ? '0' : '1', away ?? '');
  }

  async setAccount(clientId: number, account: string | null): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'account', account === null ? '0' : '1', account ?? '');
  }

  async setUserModes(clientId: number, modes: string): Promise<void> {
    await this.runRaw('setUserModes', String(clientId), sortedLetters(modes));
  }

  async setRealname(clientId: number, realname: string): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'realname', '1', realname);
  }

  async setUserHost(nick: string, user: string, host: string): Promise<UserRecord | null> {
    const r = await this.run<RawUser | null>('setUserHost', fold(nick), user, host);
    return r ? userRecord(r) : null;
  }

  async touch(clientId: number, at: number): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'lastActiveAt', '1', String(at));
  }

  async removeUser(clientId: number, at: number): Promise<{ nick: string; channels: string[]; registered: boolean } | null> {
    const r = await this.run<{ nick: string; channels: unknown; registered: boolean } | null>(
      'removeUser', String(clientId), String(at), String(this.whowasSize));
    if (!r) return null;
    const channels = list<string>(r.channels);
    for (const f of channels) this.local.drop(f, clientId);
    return { nick: r.nick, channels, registered: r.registered };
  }

  async whowas(nick: string, max: number): Promise<WhowasEntry[]> {
    const raw = await guard(() => this.redis.lrange(`${this.prefix}whowas`, 0, -1));
    const folded = fold(nick);
    const out: WhowasEntry[] = [];
    for (const line of raw) {
      if (out.length >= max) break;
      const e = JSON.parse(line) as Omit<WhowasEntry, 'at'> & { at: string };
      if (fold(e.nick) === folded) out.push({ ...e, at: Number(e.at) });
    }
    return out;
  }

  // ---- Channels ----

  async join(clientId: number, name: string, request: JoinRequest): Promise<JoinResult> {
    const folded = fold(name);
    const createFlags = flagLetters(request.createFlags);
    const local = nodeOf(clientId) === this.nodeIndex;
    if (local) await this.local.beginJoin(folded);
    try {
      const r = await this.run<{ ok: true; created: boolean; channel: RawChannel } | Refusal<JoinRefusal | 'notUser'>>(
        'join', String(clientId), name, folded, request.key === null ? '0' : '1', request.key ?? '',
        String(request.maxChannels), createFlags, String(request.at));
      if (!r.ok) {
        if (r.reason === 'notUser') throw new Error(`join: client ${clientId} is not a user`);
        return { ok: false, reason: r.reason };
      }
      this.local.add(folded, clientId);
      return { ok: true, created: r.created, channel: channelRecord(r.channel) };
    } finally {
      if (local) this.local.endJoin(folded);
    }
  }

  async part(clientId: number, name: string): Promise<PartResult> {
    const folded = fold(name);
    const r = await this.run<PartResult>('part', String(clientId), folded);
    if (r.ok) this.local.drop(folded, clientId);
    return r;
  }

  async partAll(clientId: number): Promise<string[]> {
    const r = await this.run<{ names: unknown; folded: unknown }>('partAll', String(clientId));
    for (const f of list<string>(r.folded)) this.local.drop(f, clientId);
    return list<string>(r.names);
  }

  async channel(name: string): Promise<ChannelRecord | null> {
    const r = await this.run<RawChannel | null>('channel', fold(name));
    return r ? channelRecord(r) : null;
  }

  async members(name: string): Promise<Member[]> {
    const r = await this.run<unknown>('members', fold(name));
    return list<{ user: RawUser; op: boolean; voice: boolean }>(r).map((m) => ({ user: userRecord(m.user), op: m.op, voice: m.voice }));
  }

  async membership(name: string, nick: string): Promise<Membership | null> {
    return this.run<Membership | null>('membership', fold(name), fold(nick));
  }

  async channelsOf(nick: string): Promise<UserChannel[]> {
    return list<UserChannel>(await this.run<unknown>('channelsOf', fold(nick)));
  }

  async setTopic(clientId: number, name: string, topic: Topic | null, asService = false): Promise<TopicResult> {
    return this.run<TopicResult>('setTopic', String(clientId), fold(name), topic ? '1' : '0',
      topic?.text ?? '', topic?.setBy ?? '', String(topic?.setAt ?? 0), asService ? '1' : '0');
  }

  async applyModes(clientId: number, name: string, changes: ModeChange[], options: ModeOptions): Promise<ModeResult> {
    const quads: string[] = [];
    for (const change of changes) {
      let param = change.param ?? '';
      if (change.mode === 'l' && change.adding) {
        // Normalised here so Lua only compares strings: Lua prints big numbers as 1e+15.
        const limit = Number(param);
        param = Number.isSafeInteger(limit) && limit > 0 ? String(limit) : '';
      }
      quads.push(change.adding ? '1' : '0', change.mode, param, fold(param));
    }
    const r = await this.run<{ ok: true; channel: string; applied: unknown; errors: unknown } | Refusal<'noSuchChannel' | 'notOp'>>(
      'applyModes', String(clientId), fold(name), String(options.maxBans), options.setBy, String(options.at),
      options.asService === true ? '1' : '0', ...quads);
    if (!r.ok) return r;
    return { ok: true, channel: r.channel, applied: list<ModeChange>(r.applied), errors: list<ModeError>(r.errors) };
  }

  async speakIn(name: string, speaker: Speaker): Promise<SpeakCheck | null> {
    const r = await this.run<{ channel: RawChannel; membership: Membership | null; allowed: boolean } | null>(
      'speakIn', fold(name), String(speaker.clientId), speaker.mask, speaker.loggedIn ? '1' : '0');
    return r ? { channel: channelRecord(r.channel), membership: r.membership, allowed: r.allowed } : null;
  }

  async maskLists(name: string): Promise<MaskLists> {
    return maskListsOf(await this.run<unknown>('maskLists', fold(name)));
  }

  async invite(clientId: number, name: string, nick: string): Promise<TargetedResult> {
    const r = await this.run<RawTargeted>('invite', String(clientId), fold(name), fold(nick), String(this.maxInvitesPerChannel));
    return targeted(r);
  }

  async kick(clientId: number, name: string, nick: string): Promise<TargetedResult> {
    const folded = fold(name);
    const result = targeted(await this.run<RawTargeted>('kick', String(clientId), folded, fold(nick)));
    if (result.ok) {
      const kicked = result.target.clientId;
      const node = nodeOf(kicked);
      if (node === this.nodeIndex) this.local.drop(folded, kicked);
      else this.notifyNode(node, { type: 'dropMember', channel: folded, clientId: kicked });
    }
    return result;
  }

  async renameChannel(clientId: number, name: string, newName: string, request: RenameRequest): Promise<RenameResult> {
    const folded = fold(name);
    const to = fold(newName);
    const r = await this.run<{ ok: true; from: string; channel: RawChannel; members: unknown } | Refusal<Exclude<RenameResult, { ok: true }>['reason']>>(
      'renameChannel', String(clientId), folded, newName, to, String(this.nodeIndex), String(request.at), String(request.cooldownMs));
    if (!r.ok) return r;
    // The other nodes hear it from the script itself (the `renames` channel): only ours moves here.
    if (to !== folded) this.moveChannel(folded, to);
    return { ok: true, from: r.from, channel: channelRecord(r.channel), members: list<string>(r.members).map(Number) };
  }

  async listChannels(): Promise<ChannelSummary[]> {
    return list<ChannelSummary>(await this.run<unknown>('listChannels'));
  }

  async counts(): Promise<NetworkCounts> {
    const r = await this.run<Record<'users' | 'invisible' | 'unknown' | 'operators' | 'maxUsers' | 'localUsers' | 'maxLocalUsers', string> & { channels: number; servers: number }>(
      'counts', String(this.nodeIndex));
    const users = Number(r.users);
    return {
      users,
      invisible: Number(r.invisible),
      unknown: Number(r.unknown),
      operators: Number(r.operators),
      channels: r.channels,
      servers: r.servers,
      localUsers: Number(r.localUsers),
      maxLocalUsers: Number(r.maxLocalUsers),
      globalUsers: users,
      maxGlobalUsers: Number(r.maxUsers),
    };
  }

  /** This node's channel memberships as the local index has them: folded name → client ids. */
  localChannels(): ReadonlyMap<string, ReadonlySet<number>> {
    return this.local.channels();
  }

  localMembers(channel: string): Iterable<number> {
    return this.local.membersOf(channel);
  }

  // ---- Between nodes ----

  /** Applies a control message another node sent about this node's clients. */
  applyControl(control: StateControl): void {
    if (control.type === 'dropMember') this.local.drop(control.channel, control.clientId);
    else this.moveChannel(control.from, control.to);
  }

  /** This node's members of a renamed channel move with it (and what it follows). */
  private moveChannel(from: string, to: string): void {
    this.local.rename(from, to);
    this.renamed(from, to);
  }

  /**
   * Takes every client of node `nodeIndex` off the network (the node is gone): out of every
   * channel, nicks freed, WHOWAS for the registered. Running it again returns []. With
   * `onlyIfSilent`, nothing when the node's heartbeat is back (it was only late).
   */
  async removeNode(nodeIndex: number, at: number, onlyIfSilent = false): Promise<RemovedUser[]> {
    const r = await this.run<unknown>('removeNode', String(nodeIndex), String(at), String(this.whowasSize), onlyIfSilent ? '1' : '0');
    const removed = list<{ clientId: string; nick: string; user: string; host: string; channels: unknown; registered: boolean }>(r).map((u) => ({
      clientId: Number(u.clientId),
      nick: u.nick,
      user: u.user,
      host: u.host,
      channels: list<string>(u.channels),
      registered: u.registered,
    }));
    if (nodeIndex === this.nodeIndex) for (const u of removed) for (const f of u.channels) this.local.drop(f, u.clientId);
    return removed.sort((a, b) => a.clientId - b.clientId);
  }

  /**
   * This node's clients as Redis holds them now, in the shape `restore` takes: what to keep
   * (e.g. refreshed now and then) so the node can put its users back if Redis loses them.
   */
  async localSnapshot(): Promise<RestoreUser[]> {
    const r = await this.run<unknown>('snapshotNode', String(this.nodeIndex));
    return list<RawSnapshot>(r).map(restoreUserOf).sort((a, b) => a.clientId - b.clientId);
  }

  /**
   * Puts this node's clients back after Redis came back empty or lost them, one atomic step per
   * user: its nick unless another client took it meanwhile (then `nickInUse`, nothing restored),
   * its registration, its channels with op/voice. A channel that vanished is recreated from the
   * `state` given (else empty with `createFlags`); an existing channel keeps its topic and modes.
   * A user Redis still has is left as it is. The local index is rebuilt from the results.
   */
  async restore(users: RestoreUser[], at: number, options: { createFlags?: string } = {}): Promise<RestoreResult[]> {
    const createFlags = flagLetters(options.createFlags ?? '');
    const channels = new Set(users.filter((u) => nodeOf(u.clientId) === this.nodeIndex).flatMap((u) => u.channels.map((c) => fold(c.name))));
    const begun = await Promise.allSettled([...channels].map((f) => this.local.beginJoin(f).then(() => f)));
    try {
      for (const b of begun) if (b.status === 'rejected') throw b.reason;
      return await this.restoreUsers(users, at, createFlags);
    } finally {
      for (const b of begun) if (b.status === 'fulfilled') this.local.endJoin(b.value);
    }
  }

  private async restoreUsers(users: RestoreUser[], at: number, createFlags: string): Promise<RestoreResult[]> {
    const results = await Promise.all(users.map(async (u): Promise<RestoreResult> => {
      const r = await this.run<{ ok: true; restored: boolean; channels: unknown } | { ok: false; reason: 'nickInUse'; holder: string }>(
        'restoreUser', String(u.clientId), String(nodeOf(u.clientId)), String(at), createFlags, restorePayload(u));
      if (!r.ok) return { clientId: u.clientId, ok: false, reason: 'nickInUse', holder: Number(r.holder) };
      return { clientId: u.clientId, ok: true, restored: r.restored, channels: list<string>(r.channels) };
    }));
    for (const r of results) {
      this.local.dropEverywhere(r.clientId);
      if (r.ok) for (const f of r.channels) this.local.add(f, r.clientId);
    }
    return results;
  }

  // ---- Internals ----

  /** Runs a script and parses its JSON answer. */
  private async run<T>(name: ScriptName, ...args: string[]): Promise<T> {
    return JSON.parse(String(await this.runRaw(name, ...args))) as T;
  }

  private runRaw(name: ScriptName, ...args: string[]): Promise<unknown> {
    const call = (this.redis as unknown as Record<string, ScriptCall>)[commandName(name)];
    if (!call) throw new Error(`script ${name} is not defined`);
    return guard(() => call.call(this.redis, this.prefix, ...args));
  }
}
