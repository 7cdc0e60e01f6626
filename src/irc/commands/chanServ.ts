// ChanServ, built in: registered channels. `/msg ChanServ <command>` (or `/cs`, `CHANSERV`):
//   REGISTER <#channel>   you, logged in and an operator there, become its founder
//   INFO <#channel>       founder, when it was registered, its kept topic and modes
//   OP <#channel> [nick]  the founder ops someone (themselves by default)
//   DROP <#channel>       the founder unregisters it
//   HELP
// A registered channel belongs to its founder's account: its topic and modes are kept in the
// store (updated when they change) and restored when the channel is created again after it
// emptied; the founder is opped on joining; anyone else who creates it is not left its operator.
// The changes ChanServ makes are state steps `asService` (no operator check) and are seen as
// MODE/TOPIC from ChanServ.

import { isStoreUnavailable, type ChannelChange } from '../../store/store.js';
import type { ChannelRecord, JoinResult, ModeChange } from '../state/networkState.js';
import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { accountKey, isLoggedInTo, serviceCommand, serviceNotice, type Say } from './accounts.js';
import { Reply, from, isChannelName, modeString } from './common.js';
import type { Client, CommandContext, Outcome } from './types.js';

const chanServSource = 'ChanServ!ChanServ@services';

const help = [
  'ChanServ keeps registered channels: their founder, topic and modes survive the channel emptying and restarts.',
  'REGISTER <#channel>  - register a channel you are an operator of (log in first)',
  'INFO <#channel>      - who founded it and what is kept',
  'OP <#channel> [nick] - founder: op someone (yourself by default)',
  'DROP <#channel>      - founder: unregister it',
];

/** Applies mode changes as ChanServ and shows them to the channel. */
async function serviceModes(ctx: CommandContext, r: Reply, channel: string, changes: ModeChange[]): Promise<void> {
  if (changes.length === 0) return;
  const result = await ctx.state.applyModes(0, channel, changes, {
    maxBans: ctx.config.maxBansPerChannel,
    setBy: 'ChanServ',
    at: ctx.now(),
    asService: true,
  });
  if (!result.ok || result.applied.length === 0) return;
  const { modes, params } = modeString(result.applied);
  r.toChannels([fold(result.channel)], from(chanServSource, 'MODE', result.channel, modes, ...params));
}

/** What a registered channel keeps of the live one: its topic and its flags, key and limit. */
function keptOf(channel: ChannelRecord): Required<ChannelChange> {
  return {
    topic: channel.topic?.text ?? null,
    topicSetBy: channel.topic?.setBy ?? null,
    topicSetAt: channel.topic?.setAt ?? null,
    modes: channel.modes.flags,
    key: channel.modes.key,
    limit: channel.modes.limit,
  };
}

/** The flag, key and limit changes that turn `now` into what the registration keeps. */
function restoreChanges(now: ChannelRecord, kept: { modes: string; key: string | null; limit: number | null }): ModeChange[] {
  const changes: ModeChange[] = [];
  for (const flag of now.modes.flags) if (!kept.modes.includes(flag)) changes.push({ adding: false, mode: flag });
  for (const flag of kept.modes) if (!'kl'.includes(flag) && !now.modes.flags.includes(flag)) changes.push({ adding: true, mode: flag });
  if (kept.key !== null) changes.push({ adding: true, mode: 'k', param: kept.key });
  if (kept.limit !== null) changes.push({ adding: true, mode: 'l', param: String(kept.limit) });
  return changes;
}

/**
 * After a successful JOIN, before the joiner's topic and NAMES replies: on a registered
 * channel the founder is opped; a channel created again gets its kept modes and topic back,
 * and a creator who is not the founder is not left its operator. Returns the channel as it is
 * now. A store that cannot be reached changes nothing (the join itself stands).
 */
export async function registeredChannelJoined(ctx: CommandContext, client: Client, r: Reply, joined: Extract<JoinResult, { ok: true }>): Promise<ChannelRecord> {
  const channel = joined.channel;
  let kept;
  try {
    kept = await ctx.store.channel(fold(channel.name));
  } catch (err) {
    if (isStoreUnavailable(err)) return channel;
    throw err;
  }
  if (!kept || client.nick === null) return channel;
  const founder = isLoggedInTo(client, kept.founder);
  const changes = joined.created ? restoreChanges(channel, kept) : [];
  if (founder && !joined.created) changes.push({ adding: true, mode: 'o', param: client.nick });
  if (!founder && joined.created) changes.push({ adding: false, mode: 'o', param: client.nick });
  await serviceModes(ctx, r, channel.name, changes);
  if (joined.created && kept.topic !== null) {
    await ctx.state.setTopic(0, channel.name, { text: kept.topic, setBy: kept.topicSetBy ?? 'ChanServ', setAt: kept.topicSetAt ?? ctx.now() }, true);
  }
  return (await ctx.state.channel(channel.name)) ?? channel;
}

/**
 * After a topic or mode change: a registered channel's store record follows it. When the
 * store cannot be reached the client is told the change holds only until the channel empties.
 */
export async function rememberChannel(ctx: CommandContext, client: Client, r: Reply, name: string): Promise<void> {
  try {
    const key = fold(name);
    if (!(await ctx.store.channel(key))) return;
    const now = await ctx.state.channel(name);
    if (!now) return;
    await ctx.store.updateChannel(key, keptOf(now));
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    r.toSelf(serviceNotice(client, 'ChanServ', `${name}'s registration could not be updated (the store is unavailable): the change holds until the channel empties.`));
  }
}

async function register(ctx: CommandContext, client: Client, say: Say, name: string): Promise<void> {
  if (client.account === null) return say('Log in first (/msg NickServ IDENTIFY <password>).');
  const channel = await ctx.state.channel(name);
  const membership = channel && client.nick !== null ? await ctx.state.membership(name, client.nick) : null;
  if (!channel || !membership?.op) return say(`You must be an operator in ${name} to register it.`);
  const registered = await ctx.store.registerChannel(fold(channel.name), accountKey(client.account), {
    name: channel.name,
    registeredAt: ctx.now(),
    ...keptOf(channel),
  });
  say(registered ? `${channel.name} is registered to ${client.account}.` : `${channel.name} is already registered.`);
}

async function info(ctx: CommandContext, say: Say, name: string): Promise<void> {
  const kept = await ctx.store.channel(fold(name));
  if (!kept) return say(`${name} is not registered.`);
  say(`${kept.name}: founder ${kept.founder}, registered ${new Date(kept.registeredAt).toUTCString()}.`);
  say(`Kept modes: +${kept.modes}${kept.key !== null ? ' (with a key)' : ''}${kept.limit !== null ? ` limit ${kept.limit}` : ''}`);
  if (kept.topic !== null) say(`Kept topic: ${kept.topic}`);
}

async function op(ctx: CommandContext, client: Client, r: Reply, say: Say, name: string, nick: string | undefined): Promise<void> {
  const kept = await ctx.store.channel(fold(name));
  if (!kept) return say(`${name} is not registered.`);
  if (!isLoggedInTo(client, kept.founder)) return say(`Only ${kept.founder}, the founder, may do that.`);
  const target = nick ?? client.nick ?? '';
  if (!(await ctx.state.membership(name, target))) return say(`${target} is not in ${kept.name}.`);
  await serviceModes(ctx, r, name, [{ adding: true, mode: 'o', param: target }]);
}

async function drop(ctx: CommandContext, client: Client, say: Say, name: string): Promise<void> {
  const kept = await ctx.store.channel(fold(name));
  if (!kept) return say(`${name} is not registered.`);
  if (!isLoggedInTo(client, kept.founder)) return say(`Only ${kept.founder}, the founder, may do that.`);
  await ctx.store.dropChannel(fold(name));
  say(`${kept.name} is no longer registered.`);
}

/** One ChanServ command line (a PRIVMSG's text to ChanServ, or CHANSERV's params). */
export function chanServ(ctx: CommandContext, client: Client, text: string): Promise<Outcome> {
  return serviceCommand(ctx, client, 'ChanServ', text, 'Registered channels are unavailable', async ([command = '', channel, ...rest], say, r) => {
    const upper = command.toUpperCase();
    if (upper === 'HELP' || upper === '') for (const line of help) say(line);
    else if (!['REGISTER', 'INFO', 'OP', 'DROP'].includes(upper)) say(`Unknown command ${command}. /msg ChanServ HELP lists them.`);
    else if (channel === undefined || !isChannelName(channel)) say(`Syntax: ${upper} <#channel>${upper === 'OP' ? ' [nick]' : ''}`);
    else if (upper === 'REGISTER') await register(ctx, client, say, channel);
    else if (upper === 'INFO') await info(ctx, say, channel);
    else if (upper === 'OP') await op(ctx, client, r, say, channel, rest[0]);
    else await drop(ctx, client, say, channel);
  });
}

/** CHANSERV <command> [args] and CS: the same as /msg ChanServ. */
export function chanServCommand(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  return chanServ(ctx, client, msg.params.join(' '));
}
