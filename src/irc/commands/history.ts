// What the IRC layer keeps of a message and how it finds a history again: the entry a delivered
// PRIVMSG or NOTICE becomes, which history a CHATHISTORY, MARKREAD or REDACT target names (and
// whether the asker may read it), and a stored entry replayed in the form one client asked for.
// Shared by chathistory.ts, alwaysOn.ts, markread.ts, redact.ts and messaging.ts.
//
// Who may read what (docs/history.md): a channel's history only its current members; a private
// conversation only its two sides, and only between two logged-in users (an account is the
// only identity that outlives a connection), so it is kept only when both are logged in.

import { MESSAGE_COMMANDS, conversationKey, type HistoryEntry } from '../../history/history.js';
import { isStoreUnavailable } from '../../store/store.js';
import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { from, isChannelName, type Reply } from './common.js';
import type { Client, CommandContext } from './types.js';

/** A history the asker may read: its key in the store, and the name to show it by. */
export interface HistoryTargetOf {
  key: string;
  /** The channel's name, or the nick as the asker wrote it. */
  name: string;
  /** For a channel, its folded name (delivery); null for a conversation. */
  channel: string | null;
  /** For a conversation, the other side's account (display); null for a channel. */
  peerAccount: string | null;
  /**
   * The earliest time (ms) the asker may read, or null for all that is kept: an unregistered
   * channel's history starts when the channel was created. It is the channel's: when everyone
   * has left, the channel is gone with its modes, and whoever creates one of that name later
   * must not read what was said in the one before (`+s`, `+k` notwithstanding). A registered
   * channel keeps its history for good (ChanServ keeps its name, and its modes).
   */
  since: number | null;
}

/**
 * The history `target` names for `client`, or null when there is none it may read: a channel
 * it is in, or a user (online under that nick, or an account of that name) it can have a
 * conversation with, both logged in.
 */
export async function historyTargetOf(ctx: CommandContext, client: Client, target: string): Promise<HistoryTargetOf | null> {
  if (isChannelName(target)) {
    const channel = await ctx.state.channel(target);
    if (!channel || client.nick === null) return null;
    if (!(await ctx.state.membership(channel.name, client.nick))) return null;
    const key = fold(channel.name);
    return { key, name: channel.name, channel: key, peerAccount: null, since: await channelSince(ctx, key, channel.createdAt) };
  }
  if (client.account === null) return null;
  const peer = await peerAccountOf(ctx, target);
  if (peer === null) return null;
  return { key: conversationKey(fold(client.account), fold(peer)), name: target, channel: null, peerAccount: peer, since: null };
}

/**
 * The earliest time a member may read in channel `key` (HistoryTargetOf's `since`): its
 * creation time, or null when it is registered (ChanServ). A store that cannot say counts as
 * not registered: the asker then reads the channel's own history at most, and the history read
 * that follows fails the same way (FAIL ... MESSAGE_ERROR) rather than this look-up failing the
 * command.
 */
export async function channelSince(ctx: CommandContext, key: string, createdAt: number): Promise<number | null> {
  try {
    return (await ctx.store.channel(key)) === null ? createdAt : null;
  } catch (err) {
    if (isStoreUnavailable(err)) return createdAt;
    throw err;
  }
}

/**
 * The account of the user `nick` names: the account of whoever is online under that nick, or
 * (nobody is) the account of that name, since accounts hold their own names as nicks.
 */
async function peerAccountOf(ctx: CommandContext, nick: string): Promise<string | null> {
  const user = await ctx.state.user(nick);
  if (user) return user.account;
  const account = await ctx.store.account(fold(nick));
  return account?.name ?? null;
}

/** The tags of an entry that keeps none besides its msgid (most): one object, never written to. */
const noTags: Record<string, string> = Object.freeze({});

/**
 * The entry a delivered message becomes, or null when it is not kept (see the top of this file).
 * Built as one object of a fixed shape: it waits in the history's buffer until written, long
 * enough to outlive a young-generation GC, so each object it adds is copied and promoted.
 */
export function entryOf(
  ctx: CommandContext,
  client: Client,
  message: IrcMessage,
  at: number,
  to: { kind: 'channel'; name: string } | { kind: 'user'; account: string | null },
): HistoryEntry | null {
  const msgid = message.tags.msgid;
  if (ctx.history === null || msgid === undefined) return null;
  let tags = noTags;
  for (const key in message.tags) if (key !== 'msgid') (tags === noTags ? (tags = {}) : tags)[key] = message.tags[key]!;
  let target: string;
  let between: [string, string] | null = null;
  if (to.kind === 'channel') target = fold(to.name);
  else {
    if (client.account === null || to.account === null) return null;
    between = [fold(client.account), fold(to.account)];
    target = conversationKey(between[0], between[1]);
  }
  return { target, msgid, at, command: message.command, source: message.source ?? '', account: client.account, params: message.params, tags, between };
}

export const CHATHISTORY_CAP = 'draft/chathistory';
export const EVENT_PLAYBACK_CAP = 'draft/event-playback';

/** Which stored commands a client is replayed: PRIVMSG and NOTICE, and the rest with event-playback. */
export function isReplayedTo(client: Client, entry: HistoryEntry): boolean {
  return MESSAGE_COMMANDS.includes(entry.command) || client.caps.has(EVENT_PLAYBACK_CAP);
}

/**
 * A stored entry as `client` gets it inside batch `ref` (null: no batch): exactly the tags its
 * capabilities ask for, the time the message was first delivered.
 */
export function replayed(client: Client, entry: HistoryEntry, ref: string | null): IrcMessage {
  const tags: Record<string, string> = {};
  if (ref !== null) tags.batch = ref;
  if (client.caps.has('server-time')) tags.time = new Date(entry.at).toISOString();
  if (client.caps.has('message-tags')) {
    tags.msgid = entry.msgid;
    Object.assign(tags, entry.tags);
  }
  if (entry.account !== null && client.caps.has('account-tag')) tags.account = entry.account;
  // A JOIN is kept as extended-join gives it (channel, account, realname).
  const params = entry.command === 'JOIN' && !client.caps.has('extended-join') ? entry.params.slice(0, 1) : entry.params;
  return { tags, source: entry.source, command: entry.command, params };
}

/** Targets a TARGETS listing considers at most: a user's channels (CHANLIMIT) and its conversations. */
export const TARGETS_SCANNED = 10_000;

/** Batch references of this process: unique per connection is all the spec asks. */
let nextRef = 0;
function newRef(): string {
  nextRef = (nextRef + 1) % Number.MAX_SAFE_INTEGER;
  return `h${nextRef.toString(36)}`;
}

/** Sends `lines` to the client in a batch of `type` when it enabled batch, else as they are. */
export function inBatch(ctx: CommandContext, client: Client, r: Reply, type: string[], lines: (ref: string | null) => IrcMessage[]): void {
  const ref = client.caps.has('batch') ? newRef() : null;
  if (ref !== null) r.send({ to: { kind: 'self' }, message: from(ctx.config.serverName, 'BATCH', `+${ref}`, ...type), verbatim: true });
  for (const message of lines(ref)) r.send({ to: { kind: 'self' }, message, verbatim: true });
  if (ref !== null) r.send({ to: { kind: 'self' }, message: from(ctx.config.serverName, 'BATCH', `-${ref}`), verbatim: true });
}

/** `timestamp=YYYY-MM-DDThh:mm:ss.sssZ` (server-time's form) as ms, or null when it is not one. */
export function parseTimestamp(param: string): number | null {
  if (!param.startsWith('timestamp=')) return null;
  const text = param.slice('timestamp='.length);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}

/** ms as server-time writes it. */
export function timestampParam(at: number): string {
  return `timestamp=${new Date(at).toISOString()}`;
}
