// MARKREAD (IRCv3 draft/read-marker): how far the user has read in each channel and
// conversation, one marker per account and target, kept in the store and shared by every
// connection logged in to that account, on every node. A marker only moves forward. A client
// not logged in has markers of its own connection, in memory, gone when it disconnects.

import { isStoreUnavailable } from '../../store/store.js';
import { fold, isValidChannelName, isValidNick } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { Reply, from, isChannelName, standardReply } from './common.js';
import { parseTimestamp, timestampParam } from './history.js';
import type { Client, CommandContext, Outcome } from './types.js';

export const READ_MARKER_CAP = 'draft/read-marker';

/** A marker's key for a target as the client names it: channels and nicks folded alike. */
function markerTarget(target: string): string {
  return fold(target);
}

function markread(ctx: CommandContext, target: string, at: number | null): IrcMessage {
  return from(ctx.config.serverName, 'MARKREAD', target, at === null ? '*' : timestampParam(at));
}

/**
 * The MARKREAD a client with the capability gets after its JOIN of `channel` (before the
 * NAMES end, as the spec asks): its account's marker there, `*` when it has none or cannot be
 * read now (a marker is a hint; the JOIN must not fail for it).
 */
export async function joinMarker(ctx: CommandContext, client: Client, channel: string): Promise<IrcMessage> {
  if (client.account === null) return markread(ctx, channel, client.markers?.get(markerTarget(channel)) ?? null);
  if (ctx.history === null) return markread(ctx, channel, null);
  try {
    return markread(ctx, channel, await ctx.history.readMarker(fold(client.account), markerTarget(channel)));
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return markread(ctx, channel, null);
  }
}

/**
 * MARKREAD <target> [timestamp=...]: without a timestamp, the marker; with one, moves it
 * forward (never past now) and every connection of the account with the capability hears the
 * new marker; an older one is answered with the marker as it stands, to this client alone.
 */
export async function markreadCommand(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const target = msg.params[0] ?? '';
  const fail = (code: string, ...rest: string[]): Outcome => r.toSelf(standardReply(ctx, 'FAIL', 'MARKREAD', code, ...rest)).outcome();
  if (target === '') return fail('NEED_MORE_PARAMS', 'Missing parameters');
  // A channel or a nick, as either could be named: each marker is a row kept for the account's
  // lifetime, so a name no channel or nick could have (400 characters, control characters) is
  // not one.
  const named = isChannelName(target) ? isValidChannelName(target, ctx.config.channelLength) : isValidNick(target, ctx.config.nickLength);
  if (!named) return fail('INVALID_PARAMS', target, 'Invalid target');
  const given = msg.params[1];
  if (client.account === null) return connectionMarker(ctx, client, r, target, given, fail);
  if (ctx.history === null) return fail('INTERNAL_ERROR', target, 'This server keeps no read markers');
  const account = fold(client.account);
  try {
    if (given === undefined) return r.toSelf(markread(ctx, target, await ctx.history.readMarker(account, markerTarget(target)))).outcome();
    const at = parseTimestamp(given);
    if (at === null) return fail('INVALID_PARAMS', given, 'Invalid timestamp');
    const before = await ctx.history.readMarker(account, markerTarget(target));
    const after = await ctx.history.setReadMarker(account, markerTarget(target), Math.min(at, ctx.now()));
    if (before !== null && after <= before) return r.toSelf(markread(ctx, target, after)).outcome();
    r.send({ to: { kind: 'account', account }, message: markread(ctx, target, after), onlyCap: READ_MARKER_CAP, fromServer: true });
    return r.outcome();
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return fail('INTERNAL_ERROR', target, 'The read timestamp could not be set');
  }
}

/** MARKREAD for a connection not logged in: its own markers, only forward, told to itself. */
function connectionMarker(ctx: CommandContext, client: Client, r: Reply, target: string, given: string | undefined, fail: (code: string, ...rest: string[]) => Outcome): Outcome {
  const key = markerTarget(target);
  const before = client.markers?.get(key) ?? null;
  if (given === undefined) return r.toSelf(markread(ctx, target, before)).outcome();
  const at = parseTimestamp(given);
  if (at === null) return fail('INVALID_PARAMS', given, 'Invalid timestamp');
  const after = Math.max(before ?? 0, Math.min(at, ctx.now()));
  const markers = (client.markers ??= new Map());
  markers.delete(key);
  markers.set(key, after);
  // Bounded: the oldest set goes first.
  if (markers.size > ctx.config.connectionReadMarkersMax) markers.delete(markers.keys().next().value!);
  return r.toSelf(markread(ctx, target, after)).outcome();
}
