// The IRC command table and its dispatcher: everything about a command in one row (its handler,
// minParams, whether it is usable before registration, whether it needs an operator or a
// capability). Checks every command shares run here, once, before the handler (ergo's
// irc/commands.go): an unknown command is 421, too few parameters 461, an operator's command
// from a non-operator 481, a command behind a capability the client has not enabled 421 (as
// if unknown); any command but PING/PONG counts as activity (WHOIS idle). Handlers never
// repeat them. The session machine reads `usablePreReg` from this table to decide what runs
// before registration (its guard isUsableBeforeRegistration): there is no second list.
//
// Handlers live beside this file, grouped by concern:
//   registration.ts  CAP PASS NICK USER PING PONG QUIT, and welcome/passwordMismatch/depart
//   sasl.ts          AUTHENTICATE (SASL) and REGISTER (draft/account-registration)
//   nickServ.ts      NICKSERV/NS and /msg NickServ (accounts.ts: logging in, nick ownership)
//   chanServ.ts      CHANSERV/CS and /msg ChanServ: registered channels
//   operators.ts     OPER KILL WALLOPS REHASH KLINE UNKLINE, and network bans at registration
//   channels.ts      JOIN PART TOPIC NAMES LIST KICK INVITE
//   rename.ts        RENAME (draft/channel-rename)
//   messaging.ts     PRIVMSG NOTICE TAGMSG
//   multiline.ts     BATCH (draft/multiline), and the lines of an open batch
//   queries.ts       WHO WHOIS WHOWAS ISON USERHOST VERSION INFO HELP TIME LUSERS MOTD AWAY, and 005
//   monitor.ts       MONITOR, and the 730/731 that registration, NICK and departures send
//   profile.ts       SETNAME CHGHOST, and what peers with away-notify etc. are told
//   modes.ts         MODE
//   chathistory.ts   CHATHISTORY (draft/chathistory); history.ts: what is kept, who may read it
//   markread.ts      MARKREAD (draft/read-marker), and the marker after a JOIN
//   redact.ts        REDACT (draft/message-redaction), PURGE
// A handler takes the context, the client and the parsed message and returns an Outcome
// (or a Promise of one: the network state may answer later). It touches no socket.

import type { IrcConfig } from '../../core/config.js';
import type { IrcMessage } from '../wire/message.js';
import { invite, join, kick, list, names, part, topic } from './channels.js';
import { Reply, type Handler } from './common.js';
import { notice, privmsg, tagmsg } from './messaging.js';
import { batch, batchLine } from './multiline.js';
import { mode } from './modes.js';
import { rename } from './rename.js';
import { chathistory } from './chathistory.js';
import { markreadCommand } from './markread.js';
import { purge, redact } from './redact.js';
import { monitor } from './monitor.js';
import { chghost, setname } from './profile.js';
import { away, help, info, ison, isupportTokens as tokens, lusers, motd, time, userhost, version, who, whois, whowas } from './queries.js';
import * as registration from './registration.js';
import { nickServCommand } from './nickServ.js';
import { chanServCommand } from './chanServ.js';
import { kill, kline, oper, rehash, unkline, wallops } from './operators.js';
import { authenticate, register } from './sasl.js';
import { ERR_NEEDMOREPARAMS, ERR_NOPRIVILEGES, ERR_UNKNOWNCOMMAND } from '../wire/numerics.js';
import type { Client, CommandContext, MaybePromise, Outcome } from './types.js';

export type { CommandContext } from './types.js';

export type { Handler } from './common.js';


export interface CommandSpec {
  handler: Handler;
  /** Parameters the command needs; fewer is 461 ERR_NEEDMOREPARAMS before the handler runs. */
  minParams: number;
  /** Runs before registration (the machine's `registering` state); otherwise 451 there. */
  usablePreReg?: boolean;
  /** Only for IRC operators (user mode +o); others get 481 ERR_NOPRIVILEGES. */
  oper?: boolean;
  /** Only for clients that enabled this capability; for others the command does not exist (421). */
  cap?: string;
}

/**
 * Every command the server knows. minParams is 0 where a missing parameter has its own
 * numeric (NICK: 431; PRIVMSG: 411/412) or must not be answered at all (NOTICE).
 */
export const commands: Readonly<Record<string, CommandSpec>> = Object.freeze({
  // Registration and connection.
  CAP: { handler: registration.cap, minParams: 1, usablePreReg: true },
  PASS: { handler: registration.pass, minParams: 1, usablePreReg: true },
  NICK: { handler: registration.nick, minParams: 0, usablePreReg: true },
  USER: { handler: registration.user, minParams: 4, usablePreReg: true },
  PING: { handler: registration.ping, minParams: 1, usablePreReg: true },
  PONG: { handler: registration.pong, minParams: 0, usablePreReg: true },
  QUIT: { handler: registration.quit, minParams: 0, usablePreReg: true },
  // Accounts.
  AUTHENTICATE: { handler: authenticate, minParams: 1, usablePreReg: true, cap: 'sasl' },
  REGISTER: { handler: register, minParams: 3, usablePreReg: true, cap: 'draft/account-registration' },
  NICKSERV: { handler: nickServCommand, minParams: 0 },
  NS: { handler: nickServCommand, minParams: 0 },
  CHANSERV: { handler: chanServCommand, minParams: 0 },
  CS: { handler: chanServCommand, minParams: 0 },
  // Channels.
  JOIN: { handler: join, minParams: 1 },
  PART: { handler: part, minParams: 1 },
  TOPIC: { handler: topic, minParams: 1 },
  NAMES: { handler: names, minParams: 0 },
  LIST: { handler: list, minParams: 0 },
  KICK: { handler: kick, minParams: 2 },
  INVITE: { handler: invite, minParams: 2 },
  MODE: { handler: mode, minParams: 1 },
  // Not behind its cap: the spec has the server rename for anyone allowed, and show it by fallback.
  RENAME: { handler: rename, minParams: 2 },
  // Operators (OPER makes one; the rest need one).
  OPER: { handler: oper, minParams: 2 },
  KILL: { handler: kill, minParams: 2, oper: true },
  WALLOPS: { handler: wallops, minParams: 1, oper: true },
  REHASH: { handler: rehash, minParams: 0, oper: true },
  KLINE: { handler: kline, minParams: 1, oper: true },
  UNKLINE: { handler: unkline, minParams: 1, oper: true },
  CHGHOST: { handler: chghost, minParams: 3, oper: true },
  // Messages.
  PRIVMSG: { handler: privmsg, minParams: 0 },
  NOTICE: { handler: notice, minParams: 0 },
  TAGMSG: { handler: tagmsg, minParams: 0, cap: 'message-tags' },
  BATCH: { handler: batch, minParams: 1, cap: 'draft/multiline' },
  // History (offered only while the network keeps it: --history on).
  CHATHISTORY: { handler: chathistory, minParams: 1, cap: 'draft/chathistory' },
  // The spec answers a missing target with FAIL MARKREAD NEED_MORE_PARAMS, not 461.
  MARKREAD: { handler: markreadCommand, minParams: 0, cap: 'draft/read-marker' },
  REDACT: { handler: redact, minParams: 2, cap: 'draft/message-redaction' },
  PURGE: { handler: purge, minParams: 1, oper: true },
  // Queries.
  WHO: { handler: who, minParams: 1 },
  WHOIS: { handler: whois, minParams: 1 },
  WHOWAS: { handler: whowas, minParams: 1 },
  ISON: { handler: ison, minParams: 1 },
  USERHOST: { handler: userhost, minParams: 1 },
  VERSION: { handler: version, minParams: 0 },
  INFO: { handler: info, minParams: 0 },
  HELP: { handler: help, minParams: 0 },
  HELPOP: { handler: help, minParams: 0 },
  TIME: { handler: time, minParams: 0 },
  LUSERS: { handler: lusers, minParams: 0 },
  MOTD: { handler: motd, minParams: 0 },
  AWAY: { handler: away, minParams: 0 },
  MONITOR: { handler: monitor, minParams: 1 },
  // Not behind its cap: the spec asks a client without it to be served silently.
  SETNAME: { handler: setname, minParams: 1 },
});

/** The row for an upper-cased command name; undefined when unknown. */
function rowOf(name: string, table: Readonly<Record<string, CommandSpec>>): CommandSpec | undefined {
  // Own properties only: `constructor` or `__proto__` is an unknown command, not a crash.
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** The commands usable before registration, in table order (for the diagram and tests). */
export const preRegistrationCommands: readonly string[] = Object.keys(commands).filter((c) => commands[c]!.usablePreReg === true);

/** Whether a command may run before registration: the session machine's guard asks this. */
export function isUsablePreReg(command: string): boolean {
  return rowOf(command.toUpperCase(), commands)?.usablePreReg === true;
}

/** Commands that are not activity: the keep-alive exchange leaves WHOIS idle time alone. */
const notActivity = new Set(['PING', 'PONG']);

/**
 * Runs one command through `table` (the server's own unless a test gives another): 421 for an
 * unknown one (or one behind a capability the client has not enabled), 461 below its
 * minParams, 481 for an operator's command from anyone else, else its handler. Any command
 * other than PING/PONG (unknown ones too: the client is at the keyboard) updates
 * `client.lastActiveAt`, and the state's copy once registered.
 */
export function dispatch(
  ctx: CommandContext,
  client: Client,
  msg: IrcMessage,
  table: Readonly<Record<string, CommandSpec>> = commands,
): MaybePromise<Outcome> {
  const command = msg.command.toUpperCase();
  const run = (): MaybePromise<Outcome> => {
    // A line of a multiline message is kept for its BATCH -ref, not run.
    if (msg.tags.batch !== undefined && client.caps.has('draft/multiline') && command !== 'BATCH') return batchLine(ctx, client, msg);
    const spec = rowOf(command, table);
    if (!spec || (spec.cap !== undefined && !client.caps.has(spec.cap))) {
      return new Reply(ctx, client).numeric(ERR_UNKNOWNCOMMAND, msg.command, 'Unknown command').outcome();
    }
    if (msg.params.length < spec.minParams) {
      return new Reply(ctx, client).numeric(ERR_NEEDMOREPARAMS, command, 'Not enough parameters').outcome();
    }
    if (spec.oper === true && !client.modes.has('o')) {
      return new Reply(ctx, client).numeric(ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator").outcome();
    }
    return spec.handler(ctx, client, msg);
  };
  if (notActivity.has(command)) return run();
  const now = ctx.now();
  client.lastActiveAt = now;
  if (!client.registered) return run();
  const touched = ctx.state.touch(client.id, now);
  return touched instanceof Promise ? touched.then(run) : run();
}

/** 001-005, LUSERS and the MOTD, once the session machine has decided registration is done. */
export function welcome(ctx: CommandContext, client: Client): MaybePromise<Outcome> {
  return registration.welcome(ctx, client);
}

/** 464 ERR_PASSWDMISMATCH, when the machine found PASS missing or wrong. */
export function passwordMismatch(ctx: CommandContext, client: Client): MaybePromise<Outcome> {
  return registration.passwordMismatch(ctx, client);
}

/**
 * The client is gone (QUIT, timeout, error, shutdown): leaves the network, and a QUIT goes to
 * those who shared a channel with it. Safe to call more than once. `at`: when the connection
 * closed (an always-on user missed what was said from then on).
 */
export function depart(ctx: CommandContext, client: Client, reason: string, leaving: registration.Leaving = 'user', at?: number): MaybePromise<Outcome> {
  return registration.depart(ctx, client, reason, leaving, at);
}

/** The RPL_ISUPPORT tokens this server advertises (see handlers/queries.ts). */
export function isupportTokens(config: IrcConfig): string[] {
  return tokens(config);
}
