// The IRC command table and its dispatcher: what each command needs (minParams) and which
// handler runs it, in one place. Checks every command shares run here, once, before the
// handler (ergo's irc/commands.go): an unknown command is 421, too few parameters 461, and
// any command but PING/PONG counts as activity (WHOIS idle). Handlers never repeat them.
// Whether a command may run before registration is the session machine's decision, not this
// table's (see ircSessionMachine's preRegistrationCommands).
//
// Handlers live in ./handlers/, grouped by concern:
//   registration.ts  CAP PASS NICK USER PING PONG QUIT, and welcome/passwordMismatch/depart
//   channels.ts      JOIN PART TOPIC NAMES LIST KICK INVITE
//   messaging.ts     PRIVMSG NOTICE
//   queries.ts       WHO WHOIS WHOWAS ISON USERHOST VERSION TIME LUSERS MOTD AWAY, and 005
//   modes.ts         MODE
// A handler takes the context, the client and the parsed message and returns an Outcome
// (or a Promise of one: the network state may answer later). It touches no socket.

import type { IrcConfig } from '../../core/config.js';
import type { IrcMessage } from '../wire/message.js';
import { invite, join, kick, list, names, part, topic } from './channels.js';
import { Reply, type Handler } from './common.js';
import { notice, privmsg } from './messaging.js';
import { mode } from './modes.js';
import { away, ison, isupportTokens as tokens, lusers, motd, time, userhost, version, who, whois, whowas } from './queries.js';
import * as registration from './registration.js';
import { ERR_NEEDMOREPARAMS, ERR_UNKNOWNCOMMAND } from '../wire/numerics.js';
import type { NetworkState } from '../state/networkState.js';
import type { Client, MaybePromise, Outcome } from './types.js';

export type { Handler } from './common.js';

/** What every handler may use besides the client and the message. */
export interface CommandContext {
  /** Limits, names and the password (config.irc). */
  config: IrcConfig;
  /** Nicks, users and channels of the network. */
  state: NetworkState;
  /** The clock (ms since the epoch); tests pass a fixed one. */
  now: () => number;
  /** The server's greeting: the MOTD when config.motd is null. */
  greeting: string;
  /** Software name and version (002, 004, 351). */
  version: string;
  /** When the server started (ms), for 003. */
  createdAt: number;
}

export interface CommandSpec {
  /** Parameters the command needs; fewer is 461 ERR_NEEDMOREPARAMS before the handler runs. */
  minParams: number;
  handler: Handler;
}

/**
 * Every command the server knows. minParams is 0 where a missing parameter has its own
 * numeric (NICK: 431; PRIVMSG: 411/412) or must not be answered at all (NOTICE).
 */
export const commands: Readonly<Record<string, CommandSpec>> = Object.freeze({
  // Registration and connection.
  CAP: { minParams: 1, handler: registration.cap },
  PASS: { minParams: 1, handler: registration.pass },
  NICK: { minParams: 0, handler: registration.nick },
  USER: { minParams: 4, handler: registration.user },
  PING: { minParams: 1, handler: registration.ping },
  PONG: { minParams: 0, handler: registration.pong },
  QUIT: { minParams: 0, handler: registration.quit },
  // Channels.
  JOIN: { minParams: 1, handler: join },
  PART: { minParams: 1, handler: part },
  TOPIC: { minParams: 1, handler: topic },
  NAMES: { minParams: 0, handler: names },
  LIST: { minParams: 0, handler: list },
  KICK: { minParams: 2, handler: kick },
  INVITE: { minParams: 2, handler: invite },
  MODE: { minParams: 1, handler: mode },
  // Messages.
  PRIVMSG: { minParams: 0, handler: privmsg },
  NOTICE: { minParams: 0, handler: notice },
  // Queries.
  WHO: { minParams: 1, handler: who },
  WHOIS: { minParams: 1, handler: whois },
  WHOWAS: { minParams: 1, handler: whowas },
  ISON: { minParams: 1, handler: ison },
  USERHOST: { minParams: 1, handler: userhost },
  VERSION: { minParams: 0, handler: version },
  TIME: { minParams: 0, handler: time },
  LUSERS: { minParams: 0, handler: lusers },
  MOTD: { minParams: 0, handler: motd },
  AWAY: { minParams: 0, handler: away },
});

/** Commands that are not activity: the keep-alive exchange leaves WHOIS idle time alone. */
const notActivity = new Set(['PING', 'PONG']);

/**
 * Runs one command: 421 for an unknown one, 461 below its minParams, else its handler. Any
 * command other than PING/PONG (unknown ones too: the client is at the keyboard) updates
 * `client.lastActiveAt`, and the state's copy once registered.
 */
export function dispatch(ctx: CommandContext, client: Client, msg: IrcMessage): MaybePromise<Outcome> {
  const command = msg.command.toUpperCase();
  const run = (): MaybePromise<Outcome> => {
    // Own properties only: `constructor` or `__proto__` is an unknown command, not a crash.
    const spec = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (!spec) return new Reply(ctx, client).numeric(ERR_UNKNOWNCOMMAND, msg.command, 'Unknown command').outcome();
    if (msg.params.length < spec.minParams) {
      return new Reply(ctx, client).numeric(ERR_NEEDMOREPARAMS, command, 'Not enough parameters').outcome();
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
 * those who shared a channel with it. Safe to call more than once.
 */
export function depart(ctx: CommandContext, client: Client, reason: string): MaybePromise<Outcome> {
  return registration.depart(ctx, client, reason);
}

/** The RPL_ISUPPORT tokens this server advertises (see handlers/queries.ts). */
export function isupportTokens(config: IrcConfig): string[] {
  return tokens(config);
}
