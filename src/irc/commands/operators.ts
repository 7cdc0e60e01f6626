// IRC operators and what they may do, on every node of a network:
//   OPER <name> <password>        become an operator (the config file's `opers`; umode +o)
//   KILL <nick> <reason>          disconnect a user, wherever it is connected
//   WALLOPS <text>                to every user with umode +w
//   REHASH                        read the config file again (the operators)
//   KLINE [<minutes>] <mask> [:<reason>]   a network ban, kept in the store: matching users
//                                 are disconnected now, and refused at registration on every node
//   UNKLINE <mask>
// The table marks all but OPER `oper: true`, so a non-operator gets 481 before the handler.
// Network bans are checked at registration (checkNetworkBan, called by the welcome).

import { verifyPassword } from '../../identity/passwords.js';
import { fold, matchesMask } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_CANTKILLSERVER,
  ERR_NEEDMOREPARAMS,
  ERR_NOSUCHNICK,
  ERR_PASSWDMISMATCH,
  ERR_YOUREBANNEDCREEP,
  RPL_REHASHING,
  RPL_YOUREOPER,
} from '../wire/numerics.js';
import { isServiceNick } from './accounts.js';
import { Reply, from, serverNotice, sourceOf } from './common.js';
import { normaliseMask } from './modes.js';
import { withMember, withoutMember, type Client, type CommandContext, type Outcome } from './types.js';

/** The longest KLINE a time may ask for: a year, in minutes. A longer time is cut to it (0 is permanent). */
const maxKlineMinutes = 525_600;

/** OPER <name> <password>: 381 and +o, or 464 (a wrong name and a wrong password look the same). */
export async function oper(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const [name = '', password = ''] = msg.params;
  const keys = [`oper:${name}`, `ip:${client.ip}`];
  const block = ctx.operators.blocks.find((o) => o.name === name);
  const allowed = ctx.logins.check(keys).ok;
  const ok = allowed && block !== undefined && (await verifyPassword(password, block.passwordHash));
  if (!ok) {
    ctx.logins.failed(keys);
    // The log says which; to the client a wrong name and a wrong password look the same.
    const why = !allowed ? 'too many failed tries' : block === undefined ? 'no such operator' : 'wrong password';
    return r.numeric(ERR_PASSWDMISMATCH, 'Password incorrect').log('irc.operFailed', { source: sourceOf(client), name, why }).outcome();
  }
  ctx.logins.succeeded([keys[0]!]);
  client.oper = name;
  if (!client.modes.has('o')) {
    client.modes = withMember(client.modes, 'o');
    await ctx.state.setUserModes(client.id, [...client.modes].sort().join(''));
    r.toSelf(from(sourceOf(client), 'MODE', client.nick ?? '*', '+o'));
  }
  return r.numeric(RPL_YOUREOPER, 'You are now an IRC operator').log('irc.oper', { source: sourceOf(client), name }).outcome();
}

/**
 * After a REHASH (or SIGHUP): a client that became an operator with a block the file no longer
 * has loses +o, told why. Removing an operator from the file takes effect on the connections
 * that are already operators, not only on the next OPER.
 */
export async function operRevoked(ctx: CommandContext, client: Client): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const name = client.oper;
  if (name === null || ctx.operators.blocks.some((o) => o.name === name)) return r.outcome();
  client.oper = null;
  if (!client.modes.has('o')) return r.outcome();
  client.modes = withoutMember(client.modes, 'o');
  await ctx.state.setUserModes(client.id, [...client.modes].sort().join(''));
  const nick = client.nick ?? '*';
  r.toSelf(from(ctx.config.serverName, 'MODE', nick, '-o'));
  r.toSelf(serverNotice(ctx, client, `The operator ${name} is no longer in the server's configuration: you are not an IRC operator any more`));
  return r.log('irc.operRevoked', { source: sourceOf(client), name }).outcome();
}

/** KILL <nick> <reason>: the user quits with `Killed (<oper> (<reason>))`, on whatever node. */
export async function kill(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const [nick = '', reason = ''] = msg.params;
  if (isServiceNick(nick)) return r.numeric(ERR_CANTKILLSERVER, 'You cannot kill a service').outcome();
  const user = await ctx.state.user(nick);
  if (!user) return r.numeric(ERR_NOSUCHNICK, nick, 'No such nick/channel').outcome();
  const why = reason === '' ? 'no reason' : reason;
  return r.kill(user.clientId, `Killed (${client.nick ?? '*'} (${why}))`).log('irc.kill', { by: sourceOf(client), nick: user.nick, reason: why }).outcome();
}

/** WALLOPS <text>: to every user with +w on the network, from the operator. */
export function wallops(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  return r.send({ to: { kind: 'everyone', userMode: 'w' }, message: from(sourceOf(client), 'WALLOPS', msg.params[0] ?? '') }).outcome();
}

/** REHASH: the config file read again; 382, or a NOTICE saying what is wrong with it. */
export async function rehash(ctx: CommandContext, client: Client): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const result = await ctx.operators.rehash();
  if (!result.ok) return r.toSelf(serverNotice(ctx, client, `REHASH failed: ${result.error}`)).outcome();
  return r.numeric(RPL_REHASHING, result.file, 'Rehashing').outcome();
}

/** The users on the network whose nick!user@host the mask matches. */
async function usersMatching(ctx: CommandContext, mask: string): Promise<Array<{ clientId: number; source: string }>> {
  const users = await ctx.state.findUsers('*');
  return users
    .map((u) => ({ clientId: u.clientId, source: `${u.nick}!${u.user}@${u.host}` }))
    .filter((u) => matchesMask(mask, u.source));
}

/** KLINE [<minutes>] <mask> [:<reason>]: kept in the store, matching users disconnected now. */
export async function kline(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const params = [...msg.params];
  const notice = (text: string): Reply => r.toSelf(serverNotice(ctx, client, text));
  let minutes: number | null = null;
  if (params.length >= 2 && /^\d+$/.test(params[0]!)) minutes = Math.min(Number(params.shift()), maxKlineMinutes);
  // `-5` or `1.5` was meant as a time: banning a mask of that name would ban nobody the operator meant.
  else if (params.length >= 2 && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(params[0]!)) {
    return notice(`${params[0]} is not a number of minutes: give a whole number, or 0 for a ban that does not lapse`).outcome();
  }
  if (params[0] === undefined || params[0] === '') return r.numeric(ERR_NEEDMOREPARAMS, 'KLINE', 'Not enough parameters').outcome();
  const mask = normaliseMask(params[0]);
  // Not echoed: the text may hold the very control characters it is refused for.
  if (mask === null) return notice('That is not a nick!user@host mask (no spaces or control characters): not added').outcome();
  const reason = params[1] ?? 'Banned';
  const now = ctx.now();
  // A ban that would match the operator is refused: it would also disconnect them.
  if (matchesMask(mask, sourceOf(client))) return notice(`${mask} matches you: not added`).outcome();
  const added = await ctx.store.addBan(fold(mask), {
    mask,
    reason,
    setBy: client.nick ?? '*',
    setAt: now,
    expiresAt: minutes === null || minutes === 0 ? null : now + minutes * 60_000,
  });
  if (!added) return notice(`${mask} is already banned`).outcome();
  const hit = await usersMatching(ctx, mask);
  for (const u of hit) r.kill(u.clientId, `K-Lined: ${reason}`);
  r.log('irc.kline', { by: sourceOf(client), mask, minutes: minutes ?? 0, reason, disconnected: hit.length });
  return notice(`Added network ban on ${mask}${minutes ? ` for ${minutes} minute${minutes === 1 ? '' : 's'}` : ''}: ${hit.length} user(s) disconnected`).outcome();
}

/** UNKLINE <mask>. */
export async function unkline(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const mask = normaliseMask(msg.params[0] ?? '');
  const removed = mask !== null && (await ctx.store.removeBan(fold(mask)));
  if (removed) r.log('irc.unkline', { by: sourceOf(client), mask });
  return r.toSelf(serverNotice(ctx, client, removed ? `Removed network ban on ${mask}` : `No network ban on ${msg.params[0] ?? ''}`)).outcome();
}

/**
 * At registration: the reason a network ban keeps this client out, or null. 465 is added to
 * `r`; the caller removes the client. A store that cannot be reached bans nobody.
 */
export async function checkNetworkBan(ctx: CommandContext, client: Client, r: Reply): Promise<string | null> {
  let bans;
  try {
    bans = await ctx.store.bans(ctx.now());
  } catch {
    return null;
  }
  const source = sourceOf(client);
  const ban = bans.find((b) => matchesMask(b.mask, source));
  if (!ban) return null;
  r.numeric(ERR_YOUREBANNEDCREEP, `You are banned from this network: ${ban.reason}`);
  return `K-Lined: ${ban.reason}`;
}
