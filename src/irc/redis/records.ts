// What crosses between the Lua scripts and TypeScript: the raw shapes the scripts return (ids
// and times as decimal strings: Lua prints numbers with 14 significant digits, which would round
// ids past 10^14) and their conversion to the NetworkState's records; the records a node keeps
// to put its clients back after Redis lost them; and how an unreachable Redis is recognised.

import type { BanRecord, ChannelModes, ChannelRecord, TargetedResult, Topic, UserProfile, UserRecord } from '../state/networkState.js';
import { channelFlags, NetworkUnavailableError, sortedLetters } from '../state/networkState.js';

export interface RemovedUser {
  clientId: number;
  nick: string;
  user: string;
  host: string;
  /** Folded names of the channels it was in. */
  channels: string[];
}

/** A channel as it was, used by restore only when the channel no longer exists. */
export interface RestoreChannelState {
  createdAt: number;
  topic: Topic | null;
  modes: ChannelModes;
  bans: BanRecord[];
}

export interface RestoreChannel {
  /** Display name. */
  name: string;
  op: boolean;
  voice: boolean;
  /** Absent: a vanished channel is recreated with `createFlags` and nothing else. */
  state?: RestoreChannelState;
}

/** One of this node's clients as it was before Redis lost it (localSnapshot gives these). */
export interface RestoreUser {
  clientId: number;
  nick: string;
  /** Used only when `registered`. */
  profile: UserProfile;
  registered: boolean;
  away: string | null;
  /** Defaults to profile.signonAt. */
  lastActiveAt?: number;
  channels: RestoreChannel[];
}

export type RestoreResult =
  /**
   * The client is on the network: `restored` false when Redis still had it (left untouched).
   * `channels`: folded names of the channels it is now in.
   */
  | { clientId: number; ok: true; restored: boolean; channels: string[] }
  /** Another client took the nick meanwhile; nothing was restored (the caller renames or drops it). */
  | { clientId: number; ok: false; reason: 'nickInUse'; holder: number };


export type RawUser = Omit<UserRecord, 'clientId' | 'signonAt' | 'lastActiveAt'> &
  Record<'clientId' | 'signonAt' | 'lastActiveAt', string>;

export interface RawChannel {
  name: string;
  createdAt: string;
  topic: { text: string; setBy: string; setAt: string } | null;
  modes: { flags: string; key: string | null; limit: string | null };
  memberCount: number;
}

export interface RawBan {
  mask: string;
  setBy: string;
  setAt: string;
}

export type Refusal<R extends string> = { ok: false; reason: R };

/** cjson encodes an empty Lua table as `{}`: every list the scripts return goes through this. */
export function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function userRecord(u: RawUser): UserRecord {
  return {
    clientId: Number(u.clientId),
    nick: u.nick,
    user: u.user,
    host: u.host,
    realname: u.realname,
    server: u.server,
    tls: u.tls,
    away: u.away,
    modes: u.modes,
    signonAt: Number(u.signonAt),
    lastActiveAt: Number(u.lastActiveAt),
  };
}

export function channelRecord(c: RawChannel): ChannelRecord {
  return {
    name: c.name,
    createdAt: Number(c.createdAt),
    topic: c.topic ? { text: c.topic.text, setBy: c.topic.setBy, setAt: Number(c.topic.setAt) } : null,
    modes: { flags: c.modes.flags, key: c.modes.key, limit: c.modes.limit === null ? null : Number(c.modes.limit) },
    memberCount: c.memberCount,
  };
}

export function banRecord(raw: string): BanRecord {
  const b = JSON.parse(raw) as RawBan;
  return { mask: b.mask, setBy: b.setBy, setAt: Number(b.setAt) };
}

/** The flag modes among `letters`, once each, as records carry them (e.g. 'nt'). */
export function flagLetters(letters: string): string {
  return sortedLetters(new Set([...letters].filter((c) => channelFlags.has(c))));
}

// ioredis reports an unreachable server with these messages and codes (offline queue disabled,
// retries exhausted, socket errors, our commandTimeout, a server still loading its data).
const unavailableMessage =
  /Connection is closed|Stream isn't writeable|max retries per request|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTCONN|^LOADING/i;
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/** True when `error` says Redis could not be reached (as opposed to a failing script: a bug). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof NetworkUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    (typeof code === 'string' && unavailableCodes.has(code)) ||
    unavailableMessage.test(error.message)
  );
}

export type RawTargeted = { ok: true; channel: string; target: RawUser } | Refusal<Exclude<TargetedResult, { ok: true }>['reason']>;

export function targeted(r: RawTargeted): TargetedResult {
  return r.ok ? { ok: true, channel: r.channel, target: userRecord(r.target) } : r;
}
