// What others see of a user besides its nick, and how they learn it changed:
//   SETNAME :<realname>              the user's own realname (IRCv3 setname)
//   CHGHOST <nick> <user> <host>     an operator gives a user another user@host (IRCv3 chghost)
// and `notifyPeers`, which AWAY (away-notify) uses too: a change goes to those sharing a channel
// with the user who enabled the capability for it, and to those monitoring its nick with
// extended-monitor and that capability, each once.

import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { ERR_NOSUCHNICK, RPL_VISIBLEHOST } from '../wire/numerics.js';
import { Reply, USER_LENGTH, from, serverNotice, sourceOf, standardReply } from './common.js';
import type { Client, CommandContext, Outcome } from './types.js';

/** A username CHGHOST accepts: what USER keeps (nick specials, letters, digits) and `~`. */
const validUser = /^[A-Za-z0-9_.\-[\]\\`^{}|~]+$/;

/** A host CHGHOST accepts: a hostname, an address or a cloak (`user/alice`); never a leading ':'. */
const validHost = /^[A-Za-z0-9.\-/][A-Za-z0-9.\-:/]*$/;

/**
 * `message` (a change of the client's own, from it) to those sharing a channel with it and its
 * extended-monitor watchers, each once, when they enabled `cap`; never to the client itself.
 */
export async function notifyPeers(ctx: CommandContext, client: Client, r: Reply, message: IrcMessage, cap: string): Promise<void> {
  if (client.nick === null) return;
  const channels = (await ctx.state.channelsOf(client.nick)).map((c) => fold(c.name));
  r.send({ to: { kind: 'channels', channels, except: client.id, watchersOf: client.nick }, message, onlyCap: cap });
}

/**
 * The client away with `message` (null: back), on the network too, and `AWAY [:message]` to its
 * peers and extended-monitor watchers with away-notify: AWAY, and an always-on user left alone
 * or joined again (registration.ts).
 */
export async function setAway(ctx: CommandContext, client: Client, r: Reply, message: string | null): Promise<void> {
  client.away = message;
  await ctx.state.setAway(client.id, message);
  const line = message === null ? from(sourceOf(client), 'AWAY') : from(sourceOf(client), 'AWAY', message);
  await notifyPeers(ctx, client, r, line, 'away-notify');
}

/** Characters, as the limits in ISUPPORT count them (code points). */
function length(text: string): number {
  return Array.from(text).length;
}

/**
 * SETNAME :<realname>: an empty realname, or one past NAMELEN, is refused with FAIL SETNAME
 * INVALID_REALNAME and nothing changes. Otherwise it is the client's realname on the network
 * (WHOIS, WHO), and SETNAME goes to the client and to its peers and extended-monitor watchers,
 * only those with `setname` (the spec: without the cap, the change is silent). Several
 * parameters are one realname with spaces (`/setname Jane Doe` sent raw, as Ergo allows).
 */
export async function setname(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const realname = msg.params.join(' ');
  if (realname === '' || length(realname) > ctx.config.realnameLength) {
    return r.toSelf(standardReply(ctx, 'FAIL', 'SETNAME', 'INVALID_REALNAME', 'Realname is not valid')).outcome();
  }
  await ctx.state.setRealname(client.id, realname);
  client.realname = realname;
  const change = from(sourceOf(client), 'SETNAME', realname);
  await notifyPeers(ctx, client, r, change, 'setname');
  r.send({ to: { kind: 'self' }, message: change, onlyCap: 'setname' });
  return r.outcome();
}

/**
 * CHGHOST <nick> <user> <host> (operators only, as InspIRCd and UnrealIRCd have it): the user
 * holding `nick`, on whichever node, shows `user@host` from now on (WHOIS, WHO, bans match it).
 * Those sharing a channel with it (and it) with `chghost` get `:old CHGHOST user host`, as do
 * its extended-monitor watchers with `chghost`; the channel peers without it see it quit and
 * join again under the new mask, with the MODE that gives back its op/voice (the spec's
 * fallback). The user gets 396, the operator a NOTICE. FAIL CHGHOST INVALID_USERNAME /
 * INVALID_HOSTNAME for a user or host that could not be written in `nick!user@host`.
 */
export async function chghost(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const [nick = '', user = '', host = ''] = msg.params;
  const server = ctx.config.serverName;
  if (!validUser.test(user) || length(user) > USER_LENGTH) {
    return r.toSelf(standardReply(ctx, 'FAIL', 'CHGHOST', 'INVALID_USERNAME', user, `A username is at most ${USER_LENGTH} letters, digits or - _ . ~ [ ] \\ \` ^ { } |`)).outcome();
  }
  if (!validHost.test(host) || length(host) > ctx.config.hostLength) {
    return r.toSelf(standardReply(ctx, 'FAIL', 'CHGHOST', 'INVALID_HOSTNAME', host, `A host is at most ${ctx.config.hostLength} letters, digits or - . : /, not starting with :`)).outcome();
  }
  const before = await ctx.state.setUserHost(nick, user, host);
  if (!before) return r.numeric(ERR_NOSUCHNICK, nick, 'No such nick/channel').outcome();
  const target = before.clientId;
  r.toSelf(serverNotice(ctx, client, `${before.nick} is now ${before.nick}!${user}@${host}`));
  if (before.user === user && before.host === host) return r.outcome();
  const oldSource = `${before.nick}!${before.user}@${before.host}`;
  const newSource = `${before.nick}!${user}@${host}`;
  const channels = await ctx.state.channelsOf(before.nick);
  const folded = channels.map((c) => fold(c.name));
  // The user gets its own copy rather than being a `plus`: on another node it would get one as
  // a member of the channels there too.
  const change = from(oldSource, 'CHGHOST', user, host);
  r.send({ to: { kind: 'channels', channels: folded, except: target, watchersOf: before.nick }, message: change, onlyCap: 'chghost' });
  r.send({ to: { kind: 'client', clientId: target }, message: change, onlyCap: 'chghost' });
  if (folded.length > 0) {
    r.send({ to: { kind: 'channels', channels: folded, except: target }, message: from(oldSource, 'QUIT', 'Changing host'), exceptCap: 'chghost' });
  }
  for (const c of channels) {
    const to = { kind: 'channels' as const, channels: [fold(c.name)], except: target };
    r.send({
      to,
      message: from(newSource, 'JOIN', c.name),
      exceptCap: 'chghost',
      capVariant: { cap: 'extended-join', message: from(newSource, 'JOIN', c.name, before.account ?? '*', before.realname) },
    });
    const letters = (c.op ? 'o' : '') + (c.voice ? 'v' : '');
    if (letters !== '') {
      r.send({ to, message: from(server, 'MODE', c.name, `+${letters}`, ...Array.from(letters, () => before.nick)), exceptCap: 'chghost' });
    }
  }
  r.toClient(target, from(server, RPL_VISIBLEHOST, before.nick, host, 'is now your displayed host'));
  r.hostChange(target, user, host);
  return r.outcome();
}
