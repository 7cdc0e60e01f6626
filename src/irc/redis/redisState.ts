// The network state in Redis: the NetworkState shared by every node (server process) of one IRC
// network. Each operation that decides something is ONE Lua script (ioredis `defineCommand`, so
// EVALSHA), so two nodes racing get exactly the semantics MemoryState has in one process
// (memoryState.ts is the behavioural reference; test/unit/irc/stateContract.ts holds both to it).
// Scripts keep every check before the first write: Redis does not roll a script back on error.
//
// The Lua is in lua/ (one file per script, the key schema in lua/prelude.lua), loaded by
// scripts.ts; the raw shapes the scripts return and their conversion are in records.ts.
// Longer than 500 lines because it implements every NetworkState operation, one thin method per
// script (about 25), plus the local member index and the restore after Redis lost its data.
//
// Locally (this process only) a map folded channel -> this node's member ids answers the
// synchronous `localMembers`; this node's own results keep it current, and `applyControl` applies
// what another node tells us (a KICK there of a client of ours). The optional `follow` and
// `unfollow` hooks hear when a channel gains its first local member and loses its last one (a
// join in flight counts, so a JOIN racing the last PART never ends up unfollowed).
//
// Redis must not evict (maxmemory-policy noeviction): a lost key is lost state. When Redis is
// unreachable every operation rejects with NetworkUnavailableError; other errors are bugs.

import type { Redis } from 'ioredis';
import {
  banRecord,
  channelRecord,
  flagLetters,
  isUnavailable,
  list,
  targeted,
  userRecord,
  type RawChannel,
  type RawTargeted,
  type RawUser,
  type Refusal,
  type RemovedUser,
  type RestoreChannelState,
  type RestoreResult,
  type RestoreUser,
} from './records.js';
import { loadScripts, type Script, type ScriptName } from './scripts.js';
import { fold } from '../wire/casemap.js';
import { nodeOf } from '../state/ids.js';
import type {
  BanRecord,
  ChannelModes,
  ChannelRecord,
  ChannelSummary,
  JoinRefusal,
  JoinRequest,
  JoinResult,
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
  TargetedResult,
  Topic,
  TopicResult,
  UserChannel,
  UserProfile,
  UserRecord,
  WhowasEntry,
} from '../state/networkState.js';
import { channelFlags, NetworkUnavailableError, resolveStateLimits, sortedLetters, type StateLimits } from '../state/networkState.js';

/** What one node tells another about the other's local index (sent by the caller's transport). */
export type StateControl =
  /** `clientId` (held by the receiving node) is no longer in `channel` (folded): kicked. */
  { type: 'dropMember'; channel: string; clientId: number };

export { NetworkUnavailableError };
export { isUnavailable };
export type { RemovedUser, RestoreChannel, RestoreChannelState, RestoreResult, RestoreUser } from './records.js';

/**
 * ioredis options for the client handed to RedisState. Fail fast instead of queueing: a command
 * that waited for Redis to come back would decide on a network that moved on without us (a nick
 * claimed meanwhile, a channel recreated), so we prefer an error the caller can act on.
 */
export const redisStateClientOptions = {
  /** Commands issued while disconnected reject at once ("Stream isn't writeable"). */
  enableOfflineQueue: false,
  /** Commands in flight when the connection drops reject at the first reconnect attempt. */
  maxRetriesPerRequest: 0,
  /** A Redis that stopped answering without closing the socket (a partition) fails within 5 s. */
  commandTimeout: 5_000,
  /** Keep trying to reconnect (every 50 ms doubling to 2 s); operations fail meanwhile. */
  retryStrategy: (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
} as const;

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
}

/** A user removeNode took off the network, so the caller can send its QUIT. */
type ScriptCall = (prefix: string, ...args: string[]) => Promise<unknown>;

const commandName = (name: ScriptName): string => `ircState_${name}`;

/** Read once, when the module loads. */
const scripts = loadScripts();

export class RedisState implements NetworkState {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly nodeIndex: number;
  private readonly notifyNode: (nodeIndex: number, control: StateControl) => void;
  private readonly whowasSize: number;
  private readonly maxInvitesPerChannel: number;
  private readonly follow: (channel: string) => void | Promise<void>;
  private readonly unfollow: (channel: string) => void | Promise<void>;
  /** Folded channel -> this node's member ids, in the order they joined. */
  private readonly local = new Map<string, Set<number>>();
  /** Folded channel -> its `follow` (settled once following); present while followed. */
  private readonly followed = new Map<string, Promise<void>>();
  /** Folded channel -> this node's joins (and restores) of it in flight. */
  private readonly joining = new Map<string, number>();

  constructor(options: RedisStateOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.nodeIndex = options.nodeIndex;
    this.notifyNode = options.notifyNode;
    this.follow = options.follow ?? (() => {});
    this.unfollow = options.unfollow ?? (() => {});
    const limits = resolveStateLimits(options);
    this.whowasSize = limits.whowasSize;
    this.maxInvitesPerChannel = limits.maxInvitesPerChannel;
    for (const [name, script] of Object.entries(scripts) as [ScriptName, Script][]) {
      this.redis.defineCommand(commandName(name), {
        lua: script.lua,
        numberOfKeys: 1,
        readOnly: script.readOnly,
      });
    }
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

  async setUserModes(clientId: number, modes: string): Promise<void> {
    await this.runRaw('setUserModes', String(clientId), sortedLetters(modes));
  }

  async touch(clientId: number, at: number): Promise<void> {
    await this.runRaw('setUserField', String(clientId), 'lastActiveAt', '1', String(at));
  }

  async removeUser(clientId: number, at: number): Promise<{ nick: string; channels: string[] } | null> {
    const r = await this.run<{ nick: string; channels: unknown } | null>(
      'removeUser', String(clientId), String(at), String(this.whowasSize));
    if (!r) return null;
    const channels = list<string>(r.channels);
    for (const f of channels) this.dropLocal(f, clientId);
    return { nick: r.nick, channels };
  }

  async whowas(nick: string, max: number): Promise<WhowasEntry[]> {
    const raw = await this.guard(() => this.redis.lrange(`${this.prefix}whowas`, 0, -1));
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
    if (local) await this.beginJoin(folded);
    try {
      const r = await this.run<{ ok: true; created: boolean; channel: RawChannel } | Refusal<JoinRefusal | 'notUser'>>(
        'join', String(clientId), name, folded, request.key === null ? '0' : '1', request.key ?? '',
        String(request.maxChannels), createFlags, String(request.at));
      if (!r.ok) {
        if (r.reason === 'notUser') throw new Error(`join: client ${clientId} is not a user`);
        return { ok: false, reason: r.reason };
      }
      this.addLocal(folded, clientId);
      return { ok: true, created: r.created, channel: channelRecord(r.channel) };
    } finally {
      if (local) this.endJoin(folded);
    }
  }

  async part(clientId: number, name: string): Promise<PartResult> {
    const folded = fold(name);
    const r = await this.run<PartResult>('part', String(clientId), folded);
    if (r.ok) this.dropLocal(folded, clientId);
    return r;
  }

  async partAll(clientId: number): Promise<string[]> {
    const r = await this.run<{ names: unknown; folded: unknown }>('partAll', String(clientId));
    for (const f of list<string>(r.folded)) this.dropLocal(f, clientId);
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

  async setTopic(clientId: number, name: string, topic: Topic | null): Promise<TopicResult> {
    return this.run<TopicResult>('setTopic', String(clientId), fold(name), topic ? '1' : '0',
      topic?.text ?? '', topic?.setBy ?? '', String(topic?.setAt ?? 0));
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
      'applyModes', String(clientId), fold(name), String(options.maxBans), options.setBy, String(options.at), ...quads);
    if (!r.ok) return r;
    return { ok: true, channel: r.channel, applied: list<ModeChange>(r.applied), errors: list<ModeError>(r.errors) };
  }

  async bans(name: string): Promise<BanRecord[]> {
    const raw = await this.guard(() => this.redis.lrange(`${this.prefix}bans:${fold(name)}`, 0, -1));
    return raw.map(banRecord);
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
      if (node === this.nodeIndex) this.dropLocal(folded, kicked);
      else this.notifyNode(node, { type: 'dropMember', channel: folded, clientId: kicked });
    }
    return result;
  }

  async listChannels(): Promise<ChannelSummary[]> {
    return list<ChannelSummary>(await this.run<unknown>('listChannels'));
  }

  async counts(): Promise<NetworkCounts> {
    const r = await this.run<Record<'users' | 'invisible' | 'unknown' | 'maxUsers' | 'localUsers' | 'maxLocalUsers', string> & { channels: number; servers: number }>(
      'counts', String(this.nodeIndex));
    const users = Number(r.users);
    return {
      users,
      invisible: Number(r.invisible),
      unknown: Number(r.unknown),
      operators: 0,
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
    return this.local;
  }

  localMembers(channel: string): Iterable<number> {
    return this.local.get(channel) ?? [];
  }

  // ---- Between nodes ----

  /** Applies a control message another node sent about this node's clients. */
  applyControl(control: StateControl): void {
    if (control.type === 'dropMember') this.dropLocal(control.channel, control.clientId);
  }

  /**
   * Takes every client of node `nodeIndex` off the network (the node is gone): out of every
   * channel, nicks freed, WHOWAS for the registered. Running it again returns [].
   */
  async removeNode(nodeIndex: number, at: number): Promise<RemovedUser[]> {
    const r = await this.run<unknown>('removeNode', String(nodeIndex), String(at), String(this.whowasSize));
    const removed = list<{ clientId: string; nick: string; user: string; host: string; channels: unknown }>(r).map((u) => ({
      clientId: Number(u.clientId),
      nick: u.nick,
      user: u.user,
      host: u.host,
      channels: list<string>(u.channels),
    }));
    if (nodeIndex === this.nodeIndex) for (const u of removed) for (const f of u.channels) this.dropLocal(f, u.clientId);
    return removed.sort((a, b) => a.clientId - b.clientId);
  }

  /**
   * This node's clients as Redis holds them now, in the shape `restore` takes: what to keep
   * (e.g. refreshed now and then) so the node can put its users back if Redis loses them.
   */
  async localSnapshot(): Promise<RestoreUser[]> {
    type RawSnapshot = { user: RawUser; registered: boolean; channels: unknown };
    type RawSnapshotChannel = { channel: RawChannel; op: boolean; voice: boolean; bans: unknown };
    const r = await this.run<unknown>('snapshotNode', String(this.nodeIndex));
    return list<RawSnapshot>(r)
      .map((s) => {
        const u = userRecord(s.user);
        return {
          clientId: u.clientId,
          nick: u.nick,
          profile: { user: u.user, host: u.host, realname: u.realname, server: u.server, tls: u.tls, modes: u.modes, signonAt: u.signonAt },
          registered: s.registered,
          away: u.away,
          lastActiveAt: u.lastActiveAt,
          channels: list<RawSnapshotChannel>(s.channels).map((c) => {
            const ch = channelRecord(c.channel);
            return {
              name: ch.name,
              op: c.op,
              voice: c.voice,
              state: { createdAt: ch.createdAt, topic: ch.topic, modes: ch.modes, bans: list<string>(c.bans).map(banRecord) },
            };
          }),
        };
      })
      .sort((a, b) => a.clientId - b.clientId);
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
    const begun = await Promise.allSettled([...channels].map((f) => this.beginJoin(f).then(() => f)));
    try {
      for (const b of begun) if (b.status === 'rejected') throw b.reason;
      return await this.restoreUsers(users, at, createFlags);
    } finally {
      for (const b of begun) if (b.status === 'fulfilled') this.endJoin(b.value);
    }
  }

  private async restoreUsers(users: RestoreUser[], at: number, createFlags: string): Promise<RestoreResult[]> {
    const results = await Promise.all(users.map(async (u): Promise<RestoreResult> => {
      const payload = {
        nick: u.nick,
        folded: fold(u.nick),
        registered: u.registered,
        user: u.registered ? u.profile.user : '',
        host: u.registered ? u.profile.host : '',
        realname: u.registered ? u.profile.realname : '',
        server: u.registered ? u.profile.server : '',
        tls: u.registered && u.profile.tls,
        modes: u.registered ? sortedLetters(u.profile.modes) : '',
        signonAt: String(u.profile.signonAt),
        lastActiveAt: String(u.lastActiveAt ?? u.profile.signonAt),
        away: u.away,
        channels: u.channels.map((c) => ({
          name: c.name,
          folded: fold(c.name),
          op: c.op,
          voice: c.voice,
          state: c.state
            ? {
                createdAt: String(c.state.createdAt),
                flags: flagLetters(c.state.modes.flags),
                key: c.state.modes.key,
                limit: c.state.modes.limit === null ? null : String(c.state.modes.limit),
                topic: c.state.topic ? { ...c.state.topic, setAt: String(c.state.topic.setAt) } : null,
                bans: c.state.bans.map((b) => ({ ...b, setAt: String(b.setAt) })),
              }
            : null,
        })),
      };
      const r = await this.run<{ ok: true; restored: boolean; channels: unknown } | { ok: false; reason: 'nickInUse'; holder: string }>(
        'restoreUser', String(u.clientId), String(nodeOf(u.clientId)), String(at), createFlags, JSON.stringify(payload));
      if (!r.ok) return { clientId: u.clientId, ok: false, reason: 'nickInUse', holder: Number(r.holder) };
      return { clientId: u.clientId, ok: true, restored: r.restored, channels: list<string>(r.channels) };
    }));
    for (const r of results) {
      for (const f of [...this.local.keys()]) this.dropLocal(f, r.clientId);
      if (r.ok) for (const f of r.channels) this.addLocal(f, r.clientId);
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
    return this.guard(() => call.call(this.redis, this.prefix, ...args));
  }

  /** Turns "Redis is unreachable" into NetworkUnavailableError; anything else is a bug and passes. */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof NetworkUnavailableError || !isUnavailable(error)) throw error;
      throw new NetworkUnavailableError(`redis unavailable: ${(error as Error).message}`, { cause: error });
    }
  }

  private addLocal(folded: string, clientId: number): void {
    if (nodeOf(clientId) !== this.nodeIndex) return;
    let members = this.local.get(folded);
    if (!members) this.local.set(folded, (members = new Set()));
    members.add(clientId);
  }

  private dropLocal(folded: string, clientId: number): void {
    const members = this.local.get(folded);
    if (!members) return;
    members.delete(clientId);
    if (members.size === 0) {
      this.local.delete(folded);
      this.unfollowIfIdle(folded);
    }
  }

  /** A local join of `folded` starts: follow it first (once; concurrent joins share the wait). */
  private async beginJoin(folded: string): Promise<void> {
    this.joining.set(folded, (this.joining.get(folded) ?? 0) + 1);
    let following = this.followed.get(folded);
    if (!following) {
      following = Promise.resolve().then(() => this.follow(folded));
      this.followed.set(folded, following);
    }
    try {
      await this.guard(() => following);
    } catch (error) {
      // Not followed after all: the next join tries again.
      if (this.followed.get(folded) === following) this.followed.delete(folded);
      this.endJoin(folded);
      throw error;
    }
  }

  private endJoin(folded: string): void {
    const n = (this.joining.get(folded) ?? 1) - 1;
    if (n > 0) this.joining.set(folded, n);
    else this.joining.delete(folded);
    this.unfollowIfIdle(folded);
  }

  private unfollowIfIdle(folded: string): void {
    if (this.local.has(folded) || this.joining.has(folded) || !this.followed.has(folded)) return;
    this.followed.delete(folded);
    // Best effort: a failed unsubscribe only means messages for nobody here arrive and are dropped.
    void Promise.resolve().then(() => this.unfollow(folded)).catch(() => {});
  }
}
