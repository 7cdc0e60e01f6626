// MONITOR (IRCv3 monitor): a client's list of nicks to be told about when they come online
// (730) and go offline (731). The list is this node's (ctx.monitors, bounded by
// maxMonitorTargets); whether a nick is online is the network's (the state). The welcome, NICK
// and the departure send `monitors` targets (monitorOnline, monitorOffline), which every node
// delivers to its own watchers; with extended-monitor they also get the AWAY, ACCOUNT, SETNAME
// and CHGHOST of a monitored user (the `watchersOf` of a channels target, see profile.ts).
//
//   MONITOR + <nick>{,<nick>}   add, and say which are online (730) and offline (731)
//   MONITOR - <nick>{,<nick>}   remove, silently
//   MONITOR C                   clear, silently
//   MONITOR L                   the list: 732 lines, then 733
//   MONITOR S                   the status of each: 730 and 731 lines

import { fold, isValidNick } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_MONLISTFULL,
  ERR_NEEDMOREPARAMS,
  RPL_ENDOFMONLIST,
  RPL_MONLIST,
  RPL_MONOFFLINE,
  RPL_MONONLINE,
} from '../wire/numerics.js';
import { Reply, clientName, commaList, packCommaList, sourceOf, standardReply } from './common.js';
import type { Client, CommandContext, Outcome, Send } from './types.js';

/** `:server 731 * :nick`: one line for every watcher (the spec allows `*` for `<client>`). */
export function monitorOfflineMessage(serverName: string, nick: string): IrcMessage {
  return { tags: {}, source: serverName, command: RPL_MONOFFLINE, params: ['*', nick] };
}

/** The client just came online (registered, or took a nick): 730 to those monitoring its nick. */
export function monitorOnline(ctx: CommandContext, client: Client): Send {
  const nick = client.nick ?? '*';
  return {
    to: { kind: 'monitors', nick },
    message: { tags: {}, source: ctx.config.serverName, command: RPL_MONONLINE, params: ['*', sourceOf(client)] },
    fromServer: true,
  };
}

/** `nick` is no longer online (its holder left, or took another nick): 731 to its watchers. */
export function monitorOffline(ctx: CommandContext, nick: string): Send {
  return { to: { kind: 'monitors', nick }, message: monitorOfflineMessage(ctx.config.serverName, nick), fromServer: true };
}

/**
 * A registered client took another nick (NICK, or NickServ's guest nick): the watchers of the
 * old one hear it is offline, those of the new one that it is online. A change of case alone
 * changes neither.
 */
export function monitorNickChange(ctx: CommandContext, client: Client, previous: string | null): Send[] {
  if (previous === null || client.nick === null || fold(previous) === fold(client.nick)) return [];
  return [monitorOffline(ctx, previous), monitorOnline(ctx, client)];
}

/** 730 lines for the online ones (`nick!user@host`), 731 lines for the others (as given). */
async function statusReplies(ctx: CommandContext, client: Client, r: Reply, nicks: string[]): Promise<void> {
  const users = await Promise.all(nicks.map((n) => ctx.state.user(n)));
  const online: string[] = [];
  const offline: string[] = [];
  users.forEach((u, i) => (u ? online.push(`${u.nick}!${u.user}@${u.host}`) : offline.push(nicks[i]!)));
  const me = clientName(client);
  for (const line of packCommaList(ctx, me, RPL_MONONLINE, online)) r.numeric(RPL_MONONLINE, line);
  for (const line of packCommaList(ctx, me, RPL_MONOFFLINE, offline)) r.numeric(RPL_MONOFFLINE, line);
}

/**
 * MONITOR <+|-|C|L|S> [targets]. `+` skips what is not a valid nick; past maxMonitorTargets it
 * stops with 734 naming the targets not added, having added (and reported) the ones before.
 * A target already on the list is not added again, but its status is reported.
 */
export async function monitor(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const sub = (msg.params[0] ?? '').toUpperCase();
  const monitors = ctx.monitors;
  const max = ctx.config.maxMonitorTargets;
  if ((sub === '+' || sub === '-') && msg.params[1] === undefined) {
    return r.numeric(ERR_NEEDMOREPARAMS, 'MONITOR', 'Not enough parameters').outcome();
  }
  switch (sub) {
    case '+': {
      const targets = commaList(msg.params[1]).filter((n) => isValidNick(n, ctx.config.nickLength));
      const added: string[] = [];
      for (let i = 0; i < targets.length; i++) {
        const nick = targets[i]!;
        if (!monitors.has(client.id, nick) && monitors.count(client.id) >= max) {
          r.numeric(ERR_MONLISTFULL, String(max), targets.slice(i).join(','), 'Monitor list is full.');
          break;
        }
        monitors.add(client.id, nick);
        added.push(nick);
      }
      await statusReplies(ctx, client, r, added);
      break;
    }
    case '-':
      for (const nick of commaList(msg.params[1])) monitors.remove(client.id, nick);
      break;
    case 'C':
      monitors.clear(client.id);
      break;
    case 'L':
      for (const line of packCommaList(ctx, clientName(client), RPL_MONLIST, monitors.list(client.id))) r.numeric(RPL_MONLIST, line);
      r.numeric(RPL_ENDOFMONLIST, 'End of MONITOR list');
      break;
    case 'S':
      await statusReplies(ctx, client, r, monitors.list(client.id));
      break;
    default:
      r.toSelf(standardReply(ctx, 'FAIL', 'MONITOR', 'INVALID_PARAMS', msg.params[0] ?? '', 'Unknown MONITOR subcommand: use +, -, C, L or S'));
  }
  return r.outcome();
}
