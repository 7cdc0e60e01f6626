// Forgetting what was said: REDACT (IRCv3 draft/message-redaction) takes one message out of the
// history and tells those who saw it (with the capability) to hide it; PURGE is an operator's
// way to forget a whole channel's history. Who may redact: the sender (the same account, or, for
// a sender who was not logged in, the same nick!user@host still), the channel's operators, and
// IRC operators.

import { isStoreUnavailable } from '../../store/store.js';
import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { Reply, from, isChannelName, serverNotice, sourceOf, standardReply } from './common.js';
import { historyTargetOf } from './history.js';
import type { Client, CommandContext, Outcome } from './types.js';

export const REDACTION_CAP = 'draft/message-redaction';

/** What REDACT deletes: messages, and the TAGMSGs kept with them (a reaction). */
const REDACTABLE = ['PRIVMSG', 'NOTICE', 'TAGMSG'];

/** REDACT <target> <msgid> [:reason]: FAIL REDACT INVALID_TARGET, UNKNOWN_MSGID or REDACT_FORBIDDEN, or the REDACT relayed. */
export async function redact(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const [target = '', msgid = '', reason] = msg.params;
  const fail = (code: string, ...rest: string[]): Outcome => r.toSelf(standardReply(ctx, 'FAIL', 'REDACT', code, ...rest)).outcome();
  const history = ctx.history;
  const where = history === null ? null : await historyTargetOf(ctx, client, target);
  if (history === null || where === null) return fail('INVALID_TARGET', target, `You cannot delete messages from ${target}`);
  try {
    const entry = await history.entry(where.key, msgid);
    // The same answer for a message that is not there and one the client never saw: a msgid
    // must not confirm a message exists to someone who may not read it.
    // One said in an earlier channel of this name (history.ts, `since`) is not this channel's.
    if (entry === null || (where.since !== null && entry.at < where.since)) return fail('UNKNOWN_MSGID', target, msgid, 'This message does not exist or is too old');
    // A JOIN, PART... kept for event-playback is the channel's record, not something said.
    if (!REDACTABLE.includes(entry.command)) return fail('REDACT_FORBIDDEN', target, msgid, 'Only messages can be deleted');
    const own = entry.account !== null ? client.account !== null && fold(client.account) === fold(entry.account) : entry.source === sourceOf(client);
    const channelOp = where.channel !== null && client.nick !== null && (await ctx.state.membership(where.name, client.nick))?.op === true;
    if (!own && !channelOp && !client.modes.has('o')) return fail('REDACT_FORBIDDEN', target, msgid, 'You are not authorised to delete this message');
    await history.remove(where.key, msgid);
    // A multiline message's later lines are kept as msgid-1, msgid-2... (multiline.ts).
    for (let i = 1; await history.remove(where.key, `${msgid}-${i}`); i++);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return fail('UNKNOWN_MSGID', target, msgid, 'The history cannot be reached right now; try again later');
  }
  const params = reason === undefined ? [where.name, msgid] : [where.name, msgid, reason];
  const message = from(sourceOf(client), 'REDACT', ...params);
  if (where.channel !== null) {
    r.send({ to: { kind: 'channels', channels: [where.channel] }, message, onlyCap: REDACTION_CAP });
  } else {
    // The other side (if online) and this client's own connection, as both saw the message:
    // its target is the one the sender gave (`PRIVMSG bob` is redacted as `REDACT bob`).
    const peer = await ctx.state.user(target);
    if (peer && peer.clientId !== client.id) r.send({ to: { kind: 'client', clientId: peer.clientId }, message, onlyCap: REDACTION_CAP });
    r.send({ to: { kind: 'self' }, message, onlyCap: REDACTION_CAP });
  }
  return r.outcome();
}

/** PURGE <#channel>: an operator forgets a channel's whole history; a NOTICE says how much. */
export async function purge(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const target = msg.params[0] ?? '';
  const notice = (text: string): Outcome => r.toSelf(serverNotice(ctx, client, text)).outcome();
  if (!isChannelName(target)) return notice(`PURGE: ${target} is not a channel`);
  if (ctx.history === null) return notice('PURGE: this network keeps no history');
  const n = await ctx.history.purge(fold(target));
  return notice(`PURGE: forgot ${n} ${n === 1 ? 'entry' : 'entries'} of ${target}`);
}
