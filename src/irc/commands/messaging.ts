// PRIVMSG, NOTICE and TAGMSG: one handler, three commands. The text is passed through as the
// client sent it (the serialiser makes CR, LF and NUL impossible on the wire). Each message to
// each target gets a msgid (IRCv3 message-ids), and carries the sender's client-only tags
// (`+typing`, `+draft/reply`, `+draft/react`: any tag whose key starts with '+') when the sender
// enabled message-tags; only recipients that enabled message-tags see any of these tags
// (outbox.ts), and only they get a TAGMSG at all. Tags a client sends without the '+' (a forged
// msgid, account or time) are never relayed.
//
// Choices the specs leave open:
//   - targets are deduplicated (folded) before they are counted; past MAXTARGETS the message
//     goes to the first ones and 407 ERR_TOOMANYTARGETS names the first target left out;
//   - a channel that does not exist is 401 ERR_NOSUCHNICK (as for a nick);
//   - the message names the channel, or the recipient, in its own spelling;
//   - with echo-message the sender gets its message back once per target, after delivery;
//   - NOTICE never produces an error reply, nor RPL_AWAY (no automatic replies to a NOTICE);
//     TAGMSG gets the error replies but no RPL_AWAY (it is typing notices, not talk);
//   - the echo (echo-message) carries the same msgid as what the recipients got.

import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { ERR_CANNOTSENDTOCHAN, ERR_NORECIPIENT, ERR_NOSUCHNICK, ERR_NOTEXTTOSEND, RPL_AWAY } from '../wire/numerics.js';
import type { Client, Outcome, CommandContext, Target } from './types.js';
import { Reply, commaList, isChannelName, limitTargets, sourceOf, type Handler } from './common.js';
import { isServiceNick } from './accounts.js';
import { nickServ } from './nickServ.js';
import { chanServ } from './chanServ.js';
import { entryOf } from './history.js';

/** A message to NickServ or ChanServ: its text is the service's command line. */
function serviceCommand(ctx: CommandContext, client: Client, service: string, text: string): Promise<Outcome> {
  return fold(service) === fold('ChanServ') ? chanServ(ctx, client, text) : nickServ(ctx, client, text);
}

/**
 * Where a message goes: a channel, some of its members (STATUSMSG) or a user, by the name the
 * message shows and the targets to send it to (with a user's away message), or a service.
 */
export type MessageTarget =
  | { kind: 'service' }
  /** `status`: a STATUSMSG prefix (`@`, `+`), or '' for the whole channel. */
  | { kind: 'channel'; name: string; targets: Target[]; away: null; status: string }
  /** `account`: the user's, for the history of a private conversation. */
  | { kind: 'user'; name: string; targets: Target[]; away: string | null; account: string | null };

/** STATUSMSG prefixes, highest first: `@#chan` reaches its operators, `+#chan` its voiced members and operators. */
export const STATUSMSG_PREFIXES = '@+';

/**
 * Resolves one target of a message from `client`: a channel it may speak in, a user, or a
 * service; null, after `fail` was told the numeric, when there is no such target or the
 * client may not speak there.
 */
export async function resolveTarget(
  ctx: CommandContext,
  client: Client,
  target: string,
  fail: (code: string, ...params: string[]) => void,
): Promise<MessageTarget | null> {
  const status = STATUSMSG_PREFIXES.includes(target[0] ?? '') && isChannelName(target.slice(1)) ? target[0]! : '';
  if (isChannelName(target) || status !== '') {
    // One step of the state: the channel, the sender's status there and whether it may speak.
    const check = await ctx.state.speakIn(target.slice(status.length), { clientId: client.id, mask: sourceOf(client), loggedIn: client.account !== null });
    if (!check) {
      fail(ERR_NOSUCHNICK, target, 'No such nick/channel');
      return null;
    }
    const channel = check.channel;
    if (!check.allowed) {
      fail(ERR_CANNOTSENDTOCHAN, channel.name, 'Cannot send to channel');
      return null;
    }
    if (status === '') {
      return { kind: 'channel', name: channel.name, targets: [{ kind: 'channels', channels: [fold(channel.name)], except: client.id }], away: null, status };
    }
    // STATUSMSG: only members, with voice at least, may address a channel's operators or
    // voiced members; each of those gets it as a client of its own, wherever it is connected.
    const me = check.membership;
    if (!me || !(me.op || me.voice)) {
      fail(ERR_CANNOTSENDTOCHAN, channel.name, 'Cannot send to channel');
      return null;
    }
    const reached = (await ctx.state.members(channel.name)).filter((m) => m.user.clientId !== client.id && (m.op || (status === '+' && m.voice)));
    return { kind: 'channel', name: `${status}${channel.name}`, targets: reached.map((m) => ({ kind: 'client', clientId: m.user.clientId })), away: null, status };
  }
  if (isServiceNick(target)) return { kind: 'service' };
  const user = await ctx.state.user(target);
  if (!user) {
    fail(ERR_NOSUCHNICK, target, 'No such nick/channel');
    return null;
  }
  return { kind: 'user', name: user.nick, targets: [{ kind: 'client', clientId: user.clientId }], away: user.away, account: user.account };
}

/** The tags a message from this client carries besides its msgid: its client-only tags, and `bot`. */
export function relayedTags(client: Client, msg: IrcMessage): Record<string, string> | null {
  let tags: Record<string, string> | null = null;
  if (client.modes.has('B')) (tags ??= {}).bot = '';
  if (!client.caps.has('message-tags')) return tags;
  for (const key in msg.tags) if (key.charCodeAt(0) === 0x2b /* + */) (tags ??= {})[key] = msg.tags[key]!;
  return tags;
}

/** The handler for PRIVMSG, NOTICE or TAGMSG: <target>{,<target>} [:<text>]. */
function messageHandler(command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG'): Handler {
  const notice = command === 'NOTICE';
  const tagOnly = command === 'TAGMSG';
  return async (ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> => {
    const r = new Reply(ctx, client);
    const fail = (code: string, ...params: string[]): void => {
      if (!notice) r.numeric(code, ...params);
    };
    const unique = new Map<string, string>();
    for (const t of commaList(msg.params[0])) if (!unique.has(fold(t))) unique.set(fold(t), t);
    if (unique.size === 0) {
      fail(ERR_NORECIPIENT, `No recipient given (${command})`);
      return r.outcome();
    }
    const text = msg.params[1] ?? '';
    if (text === '' && !tagOnly) {
      fail(ERR_NOTEXTTOSEND, 'No text to send');
      return r.outcome();
    }
    const source = sourceOf(client);
    const echo = client.caps.has('echo-message');
    const extra = relayedTags(client, msg);
    /** The message to one target: a msgid of its own, the relayed tags, the text unless TAGMSG. */
    const messageTo = (target: string): IrcMessage => {
      const tags = extra === null ? { msgid: ctx.newMsgid() } : { msgid: ctx.newMsgid(), ...extra };
      return { tags, source, command, params: tagOnly ? [target] : [target, text] };
    };
    const onlyCap = tagOnly ? 'message-tags' : undefined;
    // The echo shows the time the recipients see; the history keeps it too.
    const at = ctx.now();
    const time = new Date(at).toISOString();
    for (const target of limitTargets(notice ? null : r, [...unique.values()], ctx.config.maxTargets)) {
      const to = await resolveTarget(ctx, client, target, fail);
      if (to === null) continue;
      if (to.kind === 'service') {
        // A message to a service is a command to it; a NOTICE never is (no automatic replies).
        if (command === 'PRIVMSG') r.merge(await serviceCommand(ctx, client, target, text));
        continue;
      }
      const message = messageTo(to.name);
      for (const t of to.targets) r.send({ to: t, message, time, ...(onlyCap && { onlyCap }) });
      if (echo) r.send({ to: { kind: 'self' }, message, time });
      // Kept: a channel's messages (not those to its operators alone) and private messages
      // between two accounts; a TAGMSG only with a tag meant to last (a reaction, or one the
      // client marks +draft/persist), not +typing. A kept TAGMSG is replayed as an event.
      if ((!tagOnly || isLasting(message)) && !(to.kind === 'channel' && to.status !== '')) {
        r.keep(entryOf(ctx, client, message, at, to.kind === 'channel' ? { kind: 'channel', name: to.name } : { kind: 'user', account: to.account }));
      }
      if (command === 'PRIVMSG' && to.away !== null) r.numeric(RPL_AWAY, to.name, to.away);
    }
    return r.outcome();
  };
}

/** Client-only tags that make a TAGMSG worth keeping in the history. */
const LASTING_TAGS = ['+draft/persist', '+draft/react', '+react'];

function isLasting(message: IrcMessage): boolean {
  return LASTING_TAGS.some((tag) => message.tags[tag] !== undefined);
}

export const privmsg: Handler = messageHandler('PRIVMSG');
export const notice: Handler = messageHandler('NOTICE');
export const tagmsg: Handler = messageHandler('TAGMSG');
