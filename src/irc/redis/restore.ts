// Putting a node's users back after Redis lost them: the shape a node keeps of its own clients
// (RedisState.localSnapshot) and the payload lua/restoreUser.lua takes for one of them.

import { fold } from '../wire/casemap.js';
import type { ChannelModes, MaskLists, Topic, UserProfile } from '../state/networkState.js';
import { listModes, sortedLetters } from '../state/networkState.js';
import { channelRecord, flagLetters, list, maskListsOf, userRecord, type RawChannel, type RawUser } from './scriptShapes.js';

/** A channel as it was, used by restore only when the channel no longer exists. */
export interface RestoreChannelState {
  createdAt: number;
  topic: Topic | null;
  modes: ChannelModes;
  /** Its +b +e +I +q lists. */
  lists: MaskLists;
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
  account: string | null;
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

/** One client as lua/snapshotNode.lua answers it. */
export interface RawSnapshot {
  user: RawUser;
  registered: boolean;
  channels: unknown;
}

interface RawSnapshotChannel {
  channel: RawChannel;
  op: boolean;
  voice: boolean;
  lists: unknown;
}

/** A snapshotted client in the shape restore takes. */
export function restoreUserOf(s: RawSnapshot): RestoreUser {
  const u = userRecord(s.user);
  return {
    clientId: u.clientId,
    nick: u.nick,
    profile: { user: u.user, host: u.host, realname: u.realname, server: u.server, tls: u.tls, modes: u.modes, signonAt: u.signonAt },
    registered: s.registered,
    away: u.away,
    account: u.account,
    lastActiveAt: u.lastActiveAt,
    channels: list<RawSnapshotChannel>(s.channels).map((c) => {
      const ch = channelRecord(c.channel);
      return {
        name: ch.name,
        op: c.op,
        voice: c.voice,
        state: { createdAt: ch.createdAt, topic: ch.topic, modes: ch.modes, lists: maskListsOf(c.lists) },
      };
    }),
  };
}

/** Mask lists as the Lua scripts hold them: times as decimal strings. */
function rawLists(lists: MaskLists): Record<string, unknown> {
  return Object.fromEntries(listModes.map((m) => [m, lists[m].map((b) => ({ ...b, setAt: String(b.setAt) }))]));
}

/** The JSON lua/restoreUser.lua decodes for one user (times as decimal strings, names folded). */
export function restorePayload(u: RestoreUser): string {
  return JSON.stringify({
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
    account: u.account,
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
            lists: rawLists(c.state.lists),
          }
        : null,
    })),
  });
}
