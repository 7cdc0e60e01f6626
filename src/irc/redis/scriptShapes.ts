// The shapes that cross between RedisState and the Lua scripts: what the scripts answer
// (cjson-encoded JSON) and its conversion to NetworkState records, and the normal form of what is
// sent. Ids and times travel as decimal strings: Lua prints numbers with 14 significant digits,
// which would round ids past 10^14.

import type { BanRecord, ChannelRecord, MaskLists, TargetedResult, UserRecord } from '../state/networkState.js';
import { channelFlags, listModes, sortedLetters } from '../state/networkState.js';

export type RawUser = Omit<UserRecord, 'clientId' | 'signonAt' | 'lastActiveAt'> &
  Record<'clientId' | 'signonAt' | 'lastActiveAt', string>;

export interface RawChannel {
  name: string;
  createdAt: string;
  topic: { text: string; setBy: string; setAt: string } | null;
  modes: { flags: string; key: string | null; limit: string | null };
  memberCount: number;
}

interface RawBan {
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
    account: u.account,
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

/** lua maskLists' answer (mode letter -> JSON entries; `{}` for an empty list) as MaskLists. */
export function maskListsOf(raw: unknown): MaskLists {
  const lists = (raw ?? {}) as Record<string, unknown>;
  const of = (mode: string): BanRecord[] => list<string>(lists[mode]).map(banRecord);
  return { b: of('b'), e: of('e'), I: of('I'), q: of('q') };
}

/** The flag modes among `letters`, once each, as records carry them (e.g. 'nt'). */
export function flagLetters(letters: string): string {
  return sortedLetters(new Set([...letters].filter((c) => channelFlags.has(c))));
}

export type RawTargeted = { ok: true; channel: string; target: RawUser } | Refusal<Exclude<TargetedResult, { ok: true }>['reason']>;

export function targeted(r: RawTargeted): TargetedResult {
  return r.ok ? { ok: true, channel: r.channel, target: userRecord(r.target) } : r;
}
