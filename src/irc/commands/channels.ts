// Channel membership and channel facts: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE.
//
// Every decision (may this client join, kick, set the topic?) is one atomic call to the
// network state; the handler turns its answer into replies. Messages name a channel by the
// spelling its creator gave it, and go to the channel as a `channels` target (folded name),
// resolved to the members when the outcome is applied: so a JOIN reaches the joiner too, and
// a PART or KICK names the one who left in `plus`.

import { fold, isValidChannelName, matchesMask, sameName } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_BADCHANNAME,
  ERR_BADCHANNELKEY,
  ERR_BANNEDFROMCHAN,
  ERR_CHANNELISFULL,
  ERR_CHANOPRIVSNEEDED,
  ERR_INVITEONLYCHAN,
  ERR_NEEDREGGEDNICK,
  ERR_NOSUCHCHANNEL,
  ERR_NEEDMOREPARAMS,
  ERR_NOSUCHNICK,
  ERR_NOTONCHANNEL,
  ERR_TOOMANYCHANNELS,
  ERR_USERNOTINCHANNEL,
  ERR_USERONCHANNEL,
  RPL_AWAY,
  RPL_ENDOFNAMES,
  RPL_INVITING,
  RPL_LIST,
  RPL_LISTEND,
  RPL_LISTSTART,
  RPL_NAMREPLY,
  RPL_NOTOPIC,
  RPL_TOPIC,
  RPL_TOPICWHOTIME,
} from '../wire/numerics.js';
import type { ChannelRecord, ChannelRefusal, ChannelSummary, JoinRefusal, Member } from '../state/networkState.js';
import type { Client, Outcome, CommandContext } from './types.js';
import { forgetKeptChannel } from './alwaysOn.js';
import { registeredChannelJoined, rememberChannel } from './chanServ.js';
import { READ_MARKER_CAP, joinMarker } from './markread.js';
import {
  NEW_CHANNEL_FLAGS,
  Reply,
  commaList,
  cut,
  from,
  isChannelName,
  limitTargets,
  packTrailing,
  prefixOf,
  sourceOf,
  unixSeconds,
} from './common.js';

/** The numeric for each refused join. `alreadyOn` is not an error: the JOIN is ignored. */
const joinRefusals: Record<Exclude<JoinRefusal, 'alreadyOn'>, [string, string]> = {
  tooManyChannels: [ERR_TOOMANYCHANNELS, 'You have joined too many channels'],
  banned: [ERR_BANNEDFROMCHAN, 'Cannot join channel (+b)'],
  inviteOnly: [ERR_INVITEONLYCHAN, 'Cannot join channel (+i)'],
  badKey: [ERR_BADCHANNELKEY, 'Cannot join channel (+k)'],
  full: [ERR_CHANNELISFULL, 'Cannot join channel (+l)'],
  needsAccount: [ERR_NEEDREGGEDNICK, 'Cannot join channel (+R) - you need to be logged into your account'],
};

/** The numeric for a refusal shared by the channel operations, naming the channel. */
export function channelRefusal(r: Reply, reason: ChannelRefusal, channel: string): void {
  if (reason === 'noSuchChannel') r.numeric(ERR_NOSUCHCHANNEL, channel, 'No such channel');
  else if (reason === 'notOn') r.numeric(ERR_NOTONCHANNEL, channel, "You're not on that channel");
  else r.numeric(ERR_CHANOPRIVSNEEDED, channel, "You're not channel operator");
}

function isSecret(channel: ChannelRecord): boolean {
  return channel.modes.flags.includes('s');
}

/** Whether the client is in `channel` (by its nick, as a distributed state knows it). */
async function isMember(ctx: CommandContext, client: Client, channel: string): Promise<boolean> {
  return client.nick !== null && (await ctx.state.membership(channel, client.nick)) !== null;
}

/**
 * 353 lines (split to fit 512 bytes) and 366 for a channel: `@` as the symbol for +s, `=`
 * otherwise; each nick with its prefixes (all with multi-prefix, else the highest). A
 * non-member does not see +i members.
 */
function namesReplies(r: Reply, ctx: CommandContext, client: Client, channel: ChannelRecord, members: Member[], member: boolean, end = true): void {
  const symbol = isSecret(channel) ? '@' : '=';
  const multi = client.caps.has('multi-prefix');
  // userhost-in-names: nick!user@host instead of the nick.
  const full = client.caps.has('userhost-in-names');
  const names = members
    .filter((m) => member || !m.user.modes.includes('i'))
    .map((m) => prefixOf(m, multi) + (full ? `${m.user.nick}!${m.user.user}@${m.user.host}` : m.user.nick));
  for (const line of packTrailing(ctx, client, RPL_NAMREPLY, [symbol, channel.name], names)) {
    r.numeric(RPL_NAMREPLY, symbol, channel.name, line);
  }
  if (end) r.numeric(RPL_ENDOFNAMES, channel.name, 'End of /NAMES list');
}

function topicReplies(r: Reply, channel: ChannelRecord): void {
  if (!channel.topic) return;
  r.numeric(RPL_TOPIC, channel.name, channel.topic.text);
  r.numeric(RPL_TOPICWHOTIME, channel.name, channel.topic.setBy, unixSeconds(channel.topic.setAt));
}

/**
 * A connection that joins a user already in `name` (multiclient) is told it is there, as a
 * joiner is: the JOIN (extended-join when enabled), the topic, the read marker, NAMES. To
 * this connection only: the channel has not changed.
 */
export async function alreadyJoined(ctx: CommandContext, client: Client, r: Reply, name: string): Promise<void> {
  const channel = await ctx.state.channel(name);
  if (channel === null) return;
  const join = joinMessages(client, channel.name);
  r.toSelf(client.caps.has('extended-join') ? join.extended : join.plain);
  topicReplies(r, channel);
  await joinedReplies(ctx, client, r, channel);
}

/** The JOIN of `client` to `channel`, and extended-join's form (with its account and realname). */
function joinMessages(client: Client, channel: string): { plain: IrcMessage; extended: IrcMessage } {
  const source = sourceOf(client);
  return { plain: from(source, 'JOIN', channel), extended: from(source, 'JOIN', channel, client.account ?? '*', client.realname ?? '') };
}

/** What a joiner hears after the topic: its read marker (draft/read-marker: before the end of NAMES), then NAMES. */
async function joinedReplies(ctx: CommandContext, client: Client, r: Reply, channel: ChannelRecord): Promise<void> {
  if (client.caps.has(READ_MARKER_CAP)) r.toSelf(await joinMarker(ctx, client, channel.name));
  namesReplies(r, ctx, client, channel, await ctx.state.members(channel.name), true);
}

/**
 * JOIN <#channel>{,<#channel>} [<key>{,<key>}] | JOIN 0. Per channel: 403 for a name that is
 * not a channel (no `#`), 479 for a `#` name that is not valid (too long for CHANNELLEN,
 * space, comma, BEL); the state's atomic join answers the rest (405, 474, 473, 475, 471, 477
 * in that order; already a member: ignored). A join that creates the channel makes the joiner
 * its operator and gives the channel NEW_CHANNEL_FLAGS. The joiner then gets, in order, the
 * JOIN (with the channel), the topic (332/333) if any, and NAMES (353/366). `JOIN 0` parts
 * every channel, each PART seen by that channel and the client.
 */
export async function join(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const source = sourceOf(client);
  if (msg.params[0] === '0') {
    for (const name of await ctx.state.partAll(client.id)) {
      r.event([fold(name)], from(source, 'PART', name), { plus: [client.id] });
    }
    return r.outcome();
  }
  const keys = (msg.params[1] ?? '').split(',');
  const names = (msg.params[0] ?? '').split(',');
  for (let i = 0; i < names.length; i++) {
    const name = names[i] ?? '';
    if (name === '') continue;
    if (!isChannelName(name)) {
      r.numeric(ERR_NOSUCHCHANNEL, name, 'No such channel');
      continue;
    }
    if (!isValidChannelName(name, ctx.config.channelLength)) {
      r.numeric(ERR_BADCHANNAME, name, 'Illegal channel name');
      continue;
    }
    const key = keys[i];
    const result = await ctx.state.join(client.id, name, {
      key: key === undefined || key === '' ? null : key,
      maxChannels: ctx.config.maxChannelsPerClient,
      createFlags: NEW_CHANNEL_FLAGS,
      at: ctx.now(),
    });
    if (!result.ok) {
      if (result.reason !== 'alreadyOn') {
        const [code, text] = joinRefusals[result.reason];
        r.numeric(code, name, text);
      }
      continue;
    }
    const channel = result.channel;
    // extended-join: members who enabled it also learn the joiner's account and realname (the
    // form kept: a replay shows it as each client's caps ask).
    const join = joinMessages(client, channel.name);
    r.event([fold(channel.name)], join.plain, { variant: { cap: 'extended-join', message: join.extended } });
    // away-notify: members who enabled it learn at once that the joiner is away.
    if (client.away !== null) {
      r.send({ to: { kind: 'channels', channels: [fold(channel.name)], except: client.id }, message: from(source, 'AWAY', client.away), onlyCap: 'away-notify' });
    }
    // A registered channel: its founder opped, its kept modes and topic back if it was empty.
    topicReplies(r, await registeredChannelJoined(ctx, client, r, result));
    await joinedReplies(ctx, client, r, channel);
  }
  return r.outcome();
}

/** PART <#channel>{,<#channel>} [:reason]: 403, 442, or the PART seen by the channel and the client. */
export async function part(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const reason = msg.params[1] ?? '';
  const source = sourceOf(client);
  for (const name of commaList(msg.params[0])) {
    const result = await ctx.state.part(client.id, name);
    if (!result.ok) {
      channelRefusal(r, result.reason, name);
      continue;
    }
    const params = reason === '' ? [result.channel] : [result.channel, reason];
    r.event([fold(result.channel)], from(source, 'PART', ...params), { plus: [client.id] });
  }
  return r.outcome();
}

/**
 * TOPIC <#channel> [:topic]. Without a topic: 332/333, or 331 when none (403 for no such
 * channel; 442 for a +s channel one is not in). With one: cut to TOPICLEN and set (an empty
 * one clears it) when the client is a member (442) and, under +t, an operator (482); the
 * TOPIC is seen by the channel, setter included.
 */
export async function topic(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const name = msg.params[0] ?? '';
  const text = msg.params[1];
  if (text === undefined) {
    const channel = await ctx.state.channel(name);
    if (!channel) return r.numeric(ERR_NOSUCHCHANNEL, name, 'No such channel').outcome();
    if (isSecret(channel) && !(await isMember(ctx, client, name))) {
      return r.numeric(ERR_NOTONCHANNEL, channel.name, "You're not on that channel").outcome();
    }
    if (channel.topic) topicReplies(r, channel);
    else r.numeric(RPL_NOTOPIC, channel.name, 'No topic is set');
    return r.outcome();
  }
  const newTopic = cut(text, ctx.config.topicLength);
  const result = await ctx.state.setTopic(
    client.id,
    name,
    newTopic === '' ? null : { text: newTopic, setBy: sourceOf(client), setAt: ctx.now() },
  );
  if (!result.ok) {
    channelRefusal(r, result.reason, name);
    return r.outcome();
  }
  r.event([fold(result.channel)], from(sourceOf(client), 'TOPIC', result.channel, newTopic));
  await rememberChannel(ctx, client, r, result.channel);
  return r.outcome();
}

/**
 * NAMES [<#channel>{,<#channel>}]: the 353 lines of each channel, then one 366 naming what was
 * asked (`#a,#b`: one end for the whole list, as Ergo and irctest expect); a channel that does
 * not exist, or is +s and the client is not in it, has no 353. Without a parameter, only
 * `366 * :End of /NAMES list` (listing every channel is what LIST is for).
 */
export async function names(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const list = commaList(msg.params[0]);
  if (list.length === 0) return r.numeric(RPL_ENDOFNAMES, '*', 'End of /NAMES list').outcome();
  for (const name of list) {
    const channel = await ctx.state.channel(name);
    const member = channel !== null && (await isMember(ctx, client, name));
    if (channel && (member || !isSecret(channel))) namesReplies(r, ctx, client, channel, await ctx.state.members(name), member, false);
  }
  return r.numeric(RPL_ENDOFNAMES, list.join(','), 'End of /NAMES list').outcome();
}

/**
 * One LIST condition (ISUPPORT ELIST=CMNTU): `>n` / `<n` members, `C>m` / `C<m` created more /
 * less than m minutes ago, `T>m` / `T<m` topic set more / less than m minutes ago, a mask with
 * `*` or `?`, `!mask` for the channels it does not match, or one channel's name. Null when the
 * condition is not one of these (the whole LIST then lists nothing, rather than everything).
 */
function listCondition(item: string, now: number): ((c: ChannelSummary) => boolean) | null {
  const count = /^([<>])(\d+)$/.exec(item);
  if (count) {
    const n = Number(count[2]);
    return count[1] === '>' ? (c) => c.memberCount > n : (c) => c.memberCount < n;
  }
  const time = /^([CT])([<>])(\d+)$/i.exec(item);
  if (time) {
    const minutes = Number(time[3]);
    const at = (c: ChannelSummary): number | null => (time[1]!.toUpperCase() === 'C' ? c.createdAt : c.topicSetAt);
    const older = time[2] === '>';
    return (c) => {
      const t = at(c);
      if (t === null) return false;
      const ago = (now - t) / 60_000;
      return older ? ago > minutes : ago < minutes;
    };
  }
  if (item.startsWith('!')) {
    const mask = item.slice(1);
    return mask === '' ? null : (c) => !matchesMask(mask, c.name);
  }
  if (/[*?]/.test(item)) return (c) => matchesMask(item, c.name);
  return (c) => sameName(item, c.name);
}

/**
 * LIST [<condition>{,<condition>}]: 321, a 322 per channel visible to the client (+s only to
 * its members) with its member count and topic, then 323. Names and masks are alternatives
 * (any may match); counts, times and `!mask` must all hold (listCondition). Further parameters
 * (a server) are ignored.
 */
export async function list(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const items = commaList(msg.params[0]);
  const now = ctx.now();
  const names: Array<(c: ChannelSummary) => boolean> = [];
  const filters: Array<(c: ChannelSummary) => boolean> = [];
  let unknown = false;
  for (const item of items) {
    const condition = listCondition(item, now);
    if (condition === null) unknown = true;
    else if (/^([<>]|[CT][<>]|!)/i.test(item)) filters.push(condition);
    else names.push(condition);
  }
  const mine =
    client.nick === null ? new Set<string>() : new Set((await ctx.state.channelsOf(client.nick)).map((c) => fold(c.name)));
  r.numeric(RPL_LISTSTART, 'Channel', 'Users  Name');
  for (const c of unknown ? [] : await ctx.state.listChannels()) {
    if (c.secret && !mine.has(fold(c.name))) continue;
    if (names.length > 0 && !names.some((f) => f(c))) continue;
    if (!filters.every((f) => f(c))) continue;
    r.numeric(RPL_LIST, c.name, String(c.memberCount), c.topic ?? '');
  }
  r.numeric(RPL_LISTEND, 'End of /LIST');
  return r.outcome();
}

/**
 * KICK <#channel>{,<#channel>} <nick>{,<nick>} [:reason]: one channel and up to MAXTARGETS nicks
 * (407 for the rest), or as many channels as nicks, paired (RFC 2812; 461 otherwise); per
 * nick 403, 442, 482, 401 (no such nick), 441 (not in the channel), or the KICK seen by the
 * channel and the kicked. The reason (default: the kicker's nick) is cut to KICKLEN.
 */
export async function kick(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const given = msg.params[2] ?? '';
  const reason = cut(given === '' ? (client.nick ?? '') : given, ctx.config.kickLength);
  const channels = commaList(msg.params[0]);
  const nicks = limitTargets(r, commaList(msg.params[1]), ctx.config.maxTargets);
  // RFC 2812: one channel and several nicks, or as many channels as nicks, taken in pairs.
  if (channels.length === 0 || (channels.length > 1 && channels.length !== commaList(msg.params[1]).length)) {
    return r.numeric(ERR_NEEDMOREPARAMS, 'KICK', 'Give one channel, or one channel per nick').outcome();
  }
  /** Channels whose refusal (no such channel, not an operator) was said: once each. */
  const refused = new Set<string>();
  for (const [i, nick] of nicks.entries()) {
    const name = channels.length === 1 ? channels[0]! : channels[i]!;
    if (refused.has(fold(name))) continue;
    const result = await ctx.state.kick(client.id, name, nick);
    if (result.ok) {
      r.event([fold(result.channel)], from(sourceOf(client), 'KICK', result.channel, result.target.nick, reason), { plus: [result.target.clientId] });
      if (result.target.account !== null && ctx.presence !== undefined) await forgetKeptChannel(ctx, result.target.account, result.channel, client.nick ?? '*', reason);
    } else if (result.reason === 'noSuchNick') {
      r.numeric(ERR_NOSUCHNICK, nick, 'No such nick/channel');
    } else if (result.reason === 'targetNotOn') {
      r.numeric(ERR_USERNOTINCHANNEL, nick, name, "They aren't on that channel");
    } else if (result.reason !== 'alreadyOn') {
      // The channel or the kicker's rights are wrong: the same for every nick, so say it once.
      channelRefusal(r, result.reason, name);
      refused.add(fold(name));
    }
  }
  return r.outcome();
}

/**
 * INVITE <nick> <#channel>: 401, 403, 442 (the inviter is not in it), 482 (+i and not an
 * operator), 443 (already in it); else 341 to the inviter (and 301 when the invitee is away)
 * and the INVITE to the invitee, and to the channel's other operators with invite-notify. The
 * invite lets the invitee pass +i once.
 */
export async function invite(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const nick = msg.params[0] ?? '';
  const name = msg.params[1] ?? '';
  const result = await ctx.state.invite(client.id, name, nick);
  if (!result.ok) {
    if (result.reason === 'noSuchNick') r.numeric(ERR_NOSUCHNICK, nick, 'No such nick/channel');
    else if (result.reason === 'alreadyOn') r.numeric(ERR_USERONCHANNEL, nick, name, 'is already on channel');
    else if (result.reason !== 'targetNotOn') channelRefusal(r, result.reason, name);
    return r.outcome();
  }
  const { target, channel } = result;
  r.numeric(RPL_INVITING, target.nick, channel);
  if (target.away !== null) r.numeric(RPL_AWAY, target.nick, target.away);
  const inviteMessage = from(sourceOf(client), 'INVITE', target.nick, channel);
  r.toClient(target.clientId, inviteMessage);
  // invite-notify: the channel's other operators (those who could invite too, as Ergo does).
  for (const m of await ctx.state.members(channel)) {
    if (!m.op || m.user.clientId === client.id) continue;
    r.send({ to: { kind: 'client', clientId: m.user.clientId }, message: inviteMessage, onlyCap: 'invite-notify' });
  }
  return r.outcome();
}
