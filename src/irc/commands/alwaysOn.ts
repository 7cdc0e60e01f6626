// An always-on user while none of its connections is open: what it missed, replayed when it
// comes back, and its kept record (KeptUser) kept true when a channel drops it.
//
// What it missed while none of its connections was open is replayed to the next
// connection that joins it when that client cannot ask for history itself (it did not enable
// draft/chathistory: irssi, WeeChat). Such a client would otherwise find its user still in its
// channels, marked away, and no word of what was said meanwhile: "never missing a message"
// would hold only for clients that speak CHATHISTORY.
//
// What is replayed: the PRIVMSGs and NOTICEs to its channels and to it since its last connection
// closed (KeptUser.leftAt, kept across a restart), the newest missedReplayMaxMessages of them
// across every channel and conversation, each target's in its own `chathistory` batch as
// CHATHISTORY gives them (msgid, time and account as the client's capabilities ask). Who may
// read what is CHATHISTORY's rule (history.ts), a channel it is in from no earlier than that
// channel's history starts, but for a channel it was in when it left: it has been a member all
// along, even where a restart made that channel anew (KICK takes a channel off the record,
// forgetKeptChannel). Left out: CTCP requests (the client would answer a long-gone asker;
// ACTION is kept) and what the user itself said. A client without server-time would show each
// message as said now, so the time it was said goes before its text.
// Ergo offers this as an option (NickServ SET AUTOREPLAY-MISSED, off by default); here it is on
// unless the user turns it off (a bot would act on the replayed lines again).

import type { HistoryEntry } from '../../history/history.js';
import { isStoreUnavailable, type KeptUser } from '../../store/store.js';
import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { accountKey, isAccountNick } from './accounts.js';
import { from, isChannelName, serverNotice, type Reply } from './common.js';
import { CHATHISTORY_CAP, TARGETS_SCANNED, historyTargetOf, inBatch, replayed } from './history.js';
import type { Client, CommandContext } from './types.js';

/** Kicks kept for the next connection to be told of at most (a user can be in 50 channels). */
const KICKS_KEPT = 50;

/** What one channel or conversation missed: the name it is shown by, its entries oldest first. */
interface Missed {
  name: string;
  entries: HistoryEntry[];
}

/**
 * `client` has just joined its always-on user (registration.ts joinOwnUser) and found it alone:
 * replays to it what was said in `channels` and to it since the user's last connection closed,
 * unless it asks for history itself. The kept record forgets that time: the user is connected
 * again, so a crash from now on does not replay this again (a user brought back after one
 * counts from its return: KeptUser.leftAt). `known`: the record, when the caller has read it.
 */
export async function replayMissed(ctx: CommandContext, client: Client, r: Reply, channels: readonly string[], known?: KeptUser | null): Promise<void> {
  const max = ctx.config.missedReplayMaxMessages;
  if (ctx.history === null || client.account === null) return;
  const key = accountKey(client.account);
  let leftAt: number;
  let missed: Missed[];
  try {
    const kept = known !== undefined ? known : await ctx.store.keptUser(key);
    if (kept === null || kept.leftAt === null) return;
    leftAt = kept.leftAt;
    await ctx.store.keepUser(key, { ...kept, leftAt: null, kicks: [] });
    // Told to every client, whether it asks for history or not: the channel is simply gone.
    for (const k of kept.kicks) r.toSelf(serverNotice(ctx, client, `While you were not connected, ${k.by} kicked you from ${k.channel} (${clock(k.at)}): ${k.reason}`));
    if (client.caps.has(CHATHISTORY_CAP) || max <= 0 || !(await ctx.store.autoreplayMissed(key))) return;
    missed = await missedSince(ctx, client, channels, new Set(kept.channels.map(fold)), leftAt, max);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    r.toSelf(serverNotice(ctx, client, 'What you missed while not connected cannot be read now: the history is unavailable.'));
    return;
  }
  const { shown, left } = newest(missed, max);
  if (shown.length === 0) return;
  const since = `since ${clock(leftAt)}, when your last connection closed`;
  const count = shown.reduce((n, m) => n + m.entries.length, 0);
  r.toSelf(
    serverNotice(
      ctx,
      client,
      left ? `Replaying the newest ${count} messages you missed ${since}; the rest are in the history (a client with CHATHISTORY, or the web client).` : `Replaying ${count} ${count === 1 ? 'message' : 'messages'} you missed ${since}.`,
    ),
  );
  const stamp = !client.caps.has('server-time');
  for (const { name, entries } of shown) {
    // In the channel's own window, where the replayed lines go: a client that shows them at the
    // time they arrive (irssi's default) still tells them from what is said now.
    if (isChannelName(name)) r.toSelf(from(ctx.config.serverName, 'NOTICE', name, `Replaying ${entries.length === 1 ? '1 message' : `${entries.length} messages`} said here ${since}.`));
    inBatch(ctx, client, r, ['chathistory', name], (ref) => entries.map((e) => (stamp ? stamped(replayed(client, e, ref), e.at) : replayed(client, e, ref))));
  }
}

/**
 * Each channel's and conversation's messages since `leftAt` (its newest `max` at most) that the
 * user may read; `stayedIn`, the folded channels it was in when it left.
 */
async function missedSince(ctx: CommandContext, client: Client, channels: readonly string[], stayedIn: ReadonlySet<string>, leftAt: number, max: number): Promise<Missed[]> {
  const history = ctx.history!;
  const own = fold(client.account!);
  // A message at the very ms the last connection closed may or may not have reached it: replayed.
  const after = { at: leftAt - 1 };
  const kept = (e: HistoryEntry): boolean => (e.account === null || fold(e.account) !== own) && !isCtcpRequest(e);
  const missed: Missed[] = [];
  for (const channel of channels) {
    const target = await historyTargetOf(ctx, client, channel);
    if (target === null) continue;
    const since = stayedIn.has(target.key) ? null : target.since;
    const entries = (await history.latest(target.key, after, max, 'messages')).filter((e) => kept(e) && (since === null || e.at >= since));
    if (entries.length > 0) missed.push({ name: target.name, entries });
  }
  for (const t of await history.targets([], own, leftAt, Number.MAX_SAFE_INTEGER, TARGETS_SCANNED)) {
    if (t.peer === null) continue;
    const entries = (await history.latest(t.target, after, max, 'messages')).filter(kept);
    if (entries.length > 0) missed.push({ name: t.peer, entries });
  }
  return missed;
}

/**
 * The newest `max` entries of all, each target's oldest first and the targets in the order their
 * first shown message was said; `left` when some were not shown.
 */
function newest(missed: Missed[], max: number): { shown: Missed[]; left: boolean } {
  const all = missed.flatMap((m) => m.entries.map((e, i) => ({ m, e, i })));
  if (all.length <= max) return { shown: [...missed].sort((a, b) => a.entries[0]!.at - b.entries[0]!.at), left: false };
  // Newest first, and of one time the later kept first, so that reversed each target reads in order.
  const cutoff = all.sort((a, b) => b.e.at - a.e.at || b.i - a.i).slice(0, max);
  const chosen = new Map<Missed, HistoryEntry[]>();
  for (const { m, e } of cutoff) (chosen.get(m) ?? chosen.set(m, []).get(m)!).push(e);
  const shown = [...chosen].map(([m, entries]) => ({ name: m.name, entries: entries.reverse() }));
  return { shown: shown.sort((a, b) => a.entries[0]!.at - b.entries[0]!.at), left: true };
}

/** A CTCP other than ACTION (`\x01VERSION\x01`): a request the client would answer now. */
function isCtcpRequest(e: HistoryEntry): boolean {
  const text = e.params[1] ?? '';
  return text.startsWith('\x01') && !/^\x01ACTION[ \x01]/.test(text) && text !== '\x01ACTION';
}

/** `2026-12-05 23:10 UTC`. */
function clock(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The message with the time it was said before its text (inside an ACTION's, even an empty one). */
function stamped(message: IrcMessage, at: number): IrcMessage {
  const [target = '', text = ''] = message.params;
  const action = '\x01ACTION';
  if (!text.startsWith(action)) return { ...message, params: [target, `[${clock(at)}] ${text}`] };
  const rest = text.slice(action.length).replace(/^ /, '');
  return { ...message, params: [target, `${action} [${clock(at)}]${rest === '' || rest.startsWith('\x01') ? '' : ' '}${rest}`] };
}

/**
 * An always-on user was KICKed from `channel`: its kept record (when it has one) no longer
 * lists it, so the next start does not bring it back there, even though the user, left alone,
 * writes no record of its own until a connection of it closes again. While it is alone (the
 * record says since when), the kick is kept too, for its next connection to be told: its
 * channel's window would otherwise just not come back.
 */
export async function forgetKeptChannel(ctx: CommandContext, account: string, channel: string, by: string, reason: string): Promise<void> {
  const key = accountKey(account);
  try {
    const kept = await ctx.store.keptUser(key);
    const folded = fold(channel);
    if (kept === null || !kept.channels.some((c) => fold(c) === folded)) return;
    const kick = { channel, by, reason, at: ctx.now() };
    const kicks = kept.leftAt === null ? kept.kicks : [...kept.kicks, kick].slice(-KICKS_KEPT);
    await ctx.store.keepUser(key, { ...kept, channels: kept.channels.filter((c) => fold(c) !== folded), kicks });
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
  }
}

/**
 * Whether this node's user `nick` of `account`, on the network with no connection, is an
 * always-on user left alone (its kept record says since when) rather than a client that left
 * while the network could not be told (redis/network.ts resync). A store that cannot say: not.
 */
export async function isLeftAlone(ctx: CommandContext, nick: string, account: string | null): Promise<boolean> {
  if (account === null || !isAccountNick(nick, account)) return false;
  try {
    return ((await ctx.store.keptUser(accountKey(account)))?.leftAt ?? null) !== null;
  } catch (err) {
    if (isStoreUnavailable(err)) return false;
    throw err;
  }
}
