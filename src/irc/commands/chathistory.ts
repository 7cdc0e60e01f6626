// CHATHISTORY (IRCv3 draft/chathistory): a client asks for a window of what was said in a
// channel it is in or a conversation it had, and gets it in a `chathistory` batch, each message
// as first delivered (its msgid and time) in the form its capabilities ask for; TARGETS lists
// the channels and conversations with recent history. The store answers the windows
// (src/history/); this file parses, checks who may read what (history.ts) and replays.

import type { HistoryBound, HistoryEntry, HistoryKinds, HistoryStore } from '../../history/history.js';
import { isStoreUnavailable } from '../../store/store.js';
import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { Reply, from, standardReply } from './common.js';
import { EVENT_PLAYBACK_CAP, TARGETS_SCANNED, channelSince, historyTargetOf, inBatch, isReplayedTo, parseTimestamp, replayed } from './history.js';
import type { Client, CommandContext, Outcome } from './types.js';

/** A reference parameter: `*` (LATEST only), `timestamp=...` or `msgid=...`; undefined when invalid. */
function parseBound(param: string | undefined): HistoryBound | null | undefined {
  if (param === undefined) return undefined;
  if (param === '*') return null;
  if (param.startsWith('msgid=') && param.length > 'msgid='.length) return { msgid: param.slice('msgid='.length) };
  const at = parseTimestamp(param);
  return at === null ? undefined : { at };
}

/** The limit parameter: a count, cut to the ISUPPORT maximum; undefined when not a count. */
function parseLimit(ctx: CommandContext, param: string | undefined): number | undefined {
  if (param === undefined || !/^\d{1,9}$/.test(param)) return undefined;
  const n = Number(param);
  return n === 0 ? ctx.config.chathistoryMaxMessages : Math.min(n, ctx.config.chathistoryMaxMessages);
}

/** The window one subcommand asks for, or a description of what is wrong with it. */
type Window = { sub: string; target: string; fetch: (key: string, since: number | null) => Promise<HistoryEntry[]> } | { invalid: string[] };

/**
 * `bound` moved up to just before `since` when it is earlier: AFTER from an old reference would
 * otherwise read its limit's worth of entries the asker may not see, and return none it may.
 */
async function notBefore(history: HistoryStore, key: string, bound: HistoryBound, since: number | null): Promise<HistoryBound> {
  if (since === null) return bound;
  const at = 'at' in bound ? bound.at : ((await history.entry(key, bound.msgid))?.at ?? since);
  return at < since ? { at: since - 1 } : bound;
}

function windowOf(ctx: CommandContext, client: Client, msg: IrcMessage): Window {
  const [rawSub = '', target = '', a, b, c] = msg.params;
  const sub = rawSub.toUpperCase();
  const history = ctx.history!;
  // Without draft/event-playback a client is replayed messages only, and its limit counts them.
  const kinds: HistoryKinds = client.caps.has(EVENT_PLAYBACK_CAP) ? 'all' : 'messages';
  const bad = (...why: string[]): Window => ({ invalid: [rawSub, ...why] });
  const two = sub === 'BETWEEN';
  if (!['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN'].includes(sub)) return bad('Unknown subcommand');
  if (msg.params.length < (two ? 5 : 4)) return bad('Insufficient parameters');
  if (msg.params.length > (two ? 5 : 4)) return bad('Too many parameters');
  const first = parseBound(a);
  const limit = parseLimit(ctx, two ? c : b);
  if (first === undefined || (first === null && sub !== 'LATEST')) return bad(a ?? '', 'Invalid message reference');
  if (limit === undefined) return bad(two ? (c ?? '') : (b ?? ''), 'Invalid limit');
  if (sub === 'LATEST') return { sub, target, fetch: (key) => history.latest(key, first, limit, kinds) };
  const bound = first!;
  if (sub === 'BEFORE') return { sub, target, fetch: (key) => history.before(key, bound, limit, kinds) };
  if (sub === 'AFTER') return { sub, target, fetch: async (key, since) => history.after(key, await notBefore(history, key, bound, since), limit, kinds) };
  if (sub === 'AROUND') return { sub, target, fetch: (key) => history.around(key, bound, limit, kinds) };
  const second = parseBound(b);
  if (second === undefined || second === null) return bad(b ?? '', 'Invalid message reference');
  return { sub, target, fetch: (key) => history.between(key, bound, second, limit, kinds) };
}

/**
 * CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN <target> <ref> [<ref>] <limit>, or TARGETS.
 * FAIL CHATHISTORY INVALID_PARAMS for what does not parse, INVALID_TARGET for a history the
 * client may not read (a channel it is not in, a conversation without both accounts),
 * MESSAGE_ERROR when the store cannot answer.
 */
export async function chathistory(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const fail = (code: string, ...rest: string[]): Outcome => r.toSelf(standardReply(ctx, 'FAIL', 'CHATHISTORY', code, ...rest)).outcome();
  if ((msg.params[0] ?? '').toUpperCase() === 'TARGETS') return targets(ctx, client, msg, r, fail);
  const window = windowOf(ctx, client, msg);
  if ('invalid' in window) return fail('INVALID_PARAMS', ...window.invalid);
  const target = await historyTargetOf(ctx, client, window.target);
  if (target === null) return fail('INVALID_TARGET', window.sub, window.target, 'Messages could not be retrieved');
  let entries: HistoryEntry[];
  try {
    // What is older than the asker may read is left out (LATEST and BEFORE read newest first,
    // so what is left is all there is in range; AFTER starts at the earliest it may read).
    const since = target.since;
    entries = await window.fetch(target.key, since);
    if (since !== null) entries = entries.filter((e) => e.at >= since);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return fail('MESSAGE_ERROR', window.sub, window.target, 'Messages could not be retrieved');
  }
  inBatch(ctx, client, r, ['chathistory', target.name], (ref) => entries.filter((e) => isReplayedTo(client, e)).map((e) => replayed(client, e, ref)));
  return r.outcome();
}

/** CHATHISTORY TARGETS <timestamp> <timestamp> <limit>: channels it is in and its conversations with history then. */
async function targets(ctx: CommandContext, client: Client, msg: IrcMessage, r: Reply, fail: (code: string, ...rest: string[]) => Outcome): Promise<Outcome> {
  const [sub = '', a = '', b = '', c] = msg.params;
  if (msg.params.length !== 4) return fail('INVALID_PARAMS', sub, msg.params.length < 4 ? 'Insufficient parameters' : 'Too many parameters');
  const one = parseTimestamp(a);
  const two = parseTimestamp(b);
  if (one === null || two === null) return fail('INVALID_PARAMS', sub, one === null ? a : b, 'Invalid timestamp');
  const limit = parseLimit(ctx, c);
  if (limit === undefined) return fail('INVALID_PARAMS', sub, c ?? '', 'Invalid limit');
  const channels = client.nick === null ? [] : await ctx.state.channelsOf(client.nick);
  const names = new Map(channels.map((ch) => [fold(ch.name), ch.name]));
  let found;
  try {
    // A target is listed when its latest message is strictly between the two times (as
    // BETWEEN's bounds, both excluded): a channel still talking after the window is not one
    // that was last active in it. So the store is asked for every target with anything after
    // the earlier time, each with its latest; those whose latest is before the later time stay.
    const earlier = Math.min(one, two);
    const later = Math.max(one, two);
    const all = (await ctx.history!.targets([...names.keys()], client.account === null ? null : fold(client.account), earlier + 1, Number.MAX_SAFE_INTEGER, TARGETS_SCANNED)).filter((t) => t.lastAt < later);
    // Counted from the first timestamp, as BETWEEN: a later first one asks for the most recently
    // active (a reconnecting client's `TARGETS <now> <last seen>`), still listed oldest first.
    const listed = one > two ? all.slice(-limit) : all.slice(0, limit);
    // A channel whose latest message its members may not read (history.ts, channelSince): that
    // history is an earlier channel's, not listed. Asked only of one whose latest message is
    // older than the channel.
    const earlierChannel = async (t: (typeof listed)[number]): Promise<boolean> => {
      const name = names.get(t.target);
      if (name === undefined) return false;
      const channel = await ctx.state.channel(name);
      if (channel === null || t.lastAt >= channel.createdAt) return false;
      return (await channelSince(ctx, t.target, channel.createdAt)) !== null;
    };
    const hidden = await Promise.all(listed.map(earlierChannel));
    found = listed.filter((_, i) => !hidden[i]);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return fail('MESSAGE_ERROR', sub, '*', 'Messages could not be retrieved');
  }
  inBatch(ctx, client, r, ['draft/chathistory-targets'], (ref) =>
    found.map((t) => {
      const message = from(ctx.config.serverName, 'CHATHISTORY', 'TARGETS', t.peer ?? names.get(t.target) ?? t.target, new Date(t.lastAt).toISOString());
      return ref === null ? message : { ...message, tags: { batch: ref } };
    }),
  );
  return r.outcome();
}
