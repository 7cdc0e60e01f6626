// RENAME (IRCv3 draft/channel-rename): a channel operator gives the channel another name, and it
// keeps everything it holds (members, modes, topic, bans, invites), moved in one step of the
// network state. Members with the capability see `RENAME #old #new :reason`; the others see
// themselves PART the old name and JOIN the new one, with the topic and NAMES a join brings
// (nothing for a change of case only, as the spec asks: their client keeps the channel).
//
// A channel registered with ChanServ keeps its name but for a change of case (CANNOT_RENAME):
// its registration is the store's, keyed by the folded name, and moving it would need the
// store and the network state to change in one step, which they cannot (a failure between the
// two would leave a registration naming no channel, or a channel its founder no longer owns).
// Nor may a channel take a name registered to another: that would hand it the registration
// (the founder's ops, the kept modes and topic).

import { isStoreUnavailable } from '../../store/store.js';
import type { ChannelRecord, Member } from '../state/networkState.js';
import { fold, isValidChannelName } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { ERR_BADCHANNAME, RPL_ENDOFNAMES, RPL_NAMREPLY, RPL_TOPIC, RPL_TOPICWHOTIME } from '../wire/numerics.js';
import { channelRefusal } from './channels.js';
import { Reply, cut, from, packTrailingFor, prefixOf, sourceOf, standardReply, unixSeconds } from './common.js';
import type { Client, CommandContext, Outcome } from './types.js';

/** The capability whose holders are sent RENAME; everyone else gets the PART/JOIN fallback. */
export const RENAME_CAP = 'draft/channel-rename';

/**
 * Why the store does not let `oldName` become `newName` (see the top of this file), or null.
 * A store that cannot be reached refuses too: registrations could not be honoured.
 */
async function registrationRefusal(ctx: CommandContext, oldName: string, newName: string): Promise<string | null> {
  try {
    if (await ctx.store.channel(fold(oldName))) return `${oldName} is registered with ChanServ: only the case of its name may change`;
    if (await ctx.store.channel(fold(newName))) return `${newName} is registered with ChanServ`;
  } catch (err) {
    if (isStoreUnavailable(err)) return 'Registered channels cannot be checked right now; try again later';
    throw err;
  }
  return null;
}

/** A numeric from the server to another client, `<client>` its nick. */
function numericTo(ctx: CommandContext, nick: string, code: string, ...params: string[]): IrcMessage {
  return from(ctx.config.serverName, code, nick, ...params);
}

/**
 * What a member without the capability sees (the spec's fallback): itself leaving the old name
 * and joining the new one (the longer JOIN with extended-join), then the topic and NAMES as
 * after a JOIN. NAMES in its plain form (highest prefix, nicks): valid whatever the member's
 * multi-prefix and userhost-in-names, which a node cannot see for another node's clients.
 */
function fallback(ctx: CommandContext, r: Reply, member: Member, channel: ChannelRecord, members: Member[], oldName: string, reason: string): void {
  const { user } = member;
  const source = `${user.nick}!${user.user}@${user.host}`;
  const to = { kind: 'client', clientId: user.clientId } as const;
  const send = (message: IrcMessage): void => void r.send({ to, message, exceptCap: RENAME_CAP });
  // Numerics come from the member's own server, whichever node renamed the channel.
  const numeric = (code: string, ...params: string[]): void =>
    void r.send({ to, message: numericTo(ctx, user.nick, code, ...params), exceptCap: RENAME_CAP, fromServer: true });
  send(from(source, 'PART', oldName, reason === '' ? `Channel renamed to ${channel.name}` : reason));
  r.send({
    to,
    message: from(source, 'JOIN', channel.name),
    exceptCap: RENAME_CAP,
    capVariant: { cap: 'extended-join', message: from(source, 'JOIN', channel.name, user.account ?? '*', user.realname) },
  });
  if (channel.topic) {
    numeric(RPL_TOPIC, channel.name, channel.topic.text);
    numeric(RPL_TOPICWHOTIME, channel.name, channel.topic.setBy, unixSeconds(channel.topic.setAt));
  }
  const symbol = channel.modes.flags.includes('s') ? '@' : '=';
  const names = members.map((m) => prefixOf(m, false) + m.user.nick);
  for (const line of packTrailingFor(ctx, user.nick, RPL_NAMREPLY, [symbol, channel.name], names)) {
    numeric(RPL_NAMREPLY, symbol, channel.name, line);
  }
  numeric(RPL_ENDOFNAMES, channel.name, 'End of /NAMES list');
}

/**
 * RENAME <#old> <#new> [:reason]: 479 for a new name that is not a valid channel name
 * (CHANNELLEN, `#`, no space, comma or BEL); 403, 442, 482 when the renamer is not an operator
 * of an existing channel; FAIL RENAME CANNOT_RENAME for a registered name (see above) or a
 * channel renamed less than channelRenameCooldownMs ago; FAIL RENAME CHANNEL_NAME_IN_USE when
 * another channel has the new name. The reason is cut to KICKLEN, and the server's RENAME always
 * carries it (empty when none was given).
 */
export async function rename(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const oldName = msg.params[0] ?? '';
  const newName = msg.params[1] ?? '';
  const reason = cut(msg.params[2] ?? '', ctx.config.kickLength);
  const fail = (code: string, description: string): Outcome =>
    r.toSelf(standardReply(ctx, 'FAIL', 'RENAME', code, oldName, newName, description)).outcome();
  if (!isValidChannelName(newName, ctx.config.channelLength)) return r.numeric(ERR_BADCHANNAME, newName, 'Illegal channel name').outcome();
  // Checked first so that only the channel's operators learn what the store holds; the state
  // checks it again in the rename's own step.
  const channel = await ctx.state.channel(oldName);
  const status = channel && client.nick !== null ? await ctx.state.membership(oldName, client.nick) : null;
  if (!channel || !status?.op) {
    channelRefusal(r, !channel ? 'noSuchChannel' : status ? 'notOp' : 'notOn', oldName);
    return r.outcome();
  }
  const caseOnly = fold(oldName) === fold(newName);
  const refusal = caseOnly ? null : await registrationRefusal(ctx, channel.name, newName);
  if (refusal !== null) return fail('CANNOT_RENAME', refusal);
  const result = await ctx.state.renameChannel(client.id, oldName, newName, { at: ctx.now(), cooldownMs: ctx.config.channelRenameCooldownMs });
  if (!result.ok) {
    if (result.reason === 'nameInUse') return fail('CHANNEL_NAME_IN_USE', 'The channel name is already taken');
    if (result.reason === 'renamedRecently') return fail('CANNOT_RENAME', 'This channel has been renamed recently');
    channelRefusal(r, result.reason, oldName);
    return r.outcome();
  }
  const renamed = result.channel;
  // Its history goes with it (a change of case keeps the folded name, and the history).
  if (!caseOnly) await ctx.history?.moveTarget(fold(oldName), fold(newName));
  r.send({
    to: { kind: 'channels', channels: [fold(renamed.name)] },
    message: from(sourceOf(client), 'RENAME', result.from, renamed.name, reason),
    onlyCap: RENAME_CAP,
  });
  if (caseOnly) return r.outcome();
  const members = await ctx.state.members(renamed.name);
  for (const member of members) fallback(ctx, r, member, renamed, members, result.from, reason);
  return r.outcome();
}
