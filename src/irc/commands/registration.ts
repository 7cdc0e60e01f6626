// Registration and the connection's own commands: CAP, PASS, NICK, USER, PING, PONG, QUIT;
// and what the session machine asks for at its turning points: the welcome, the refusal of a
// wrong password, and the departure (however the client leaves).
//
// These handlers report registration facts as effects (irc.nickSet, irc.userSet, ...); the
// session machine decides when registration is complete and which commands may run before
// it, so nothing here checks for 451.

import { timingSafeEqual } from 'node:crypto';
import { isStoreUnavailable, type KeptUser } from '../../store/store.js';
import { fold, isValidNick } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_ALREADYREGISTERED,
  ERR_ERRONEUSNICKNAME,
  ERR_INVALIDCAPCMD,
  ERR_NEEDMOREPARAMS,
  ERR_NICKNAMEINUSE,
  ERR_NONICKNAMEGIVEN,
  ERR_PASSWDMISMATCH,
  ERR_SASLABORTED,
  RPL_CREATED,
  RPL_MYINFO,
  RPL_NOWAWAY,
  RPL_WELCOME,
  RPL_YOURHOST,
} from '../wire/numerics.js';
import { modeSet, withMember, withoutMember, type Client, type Outcome, type CommandContext } from './types.js';
import {
  CHANNEL_MODES,
  CHANNEL_MODES_WITH_PARAM,
  USER_LENGTH,
  USER_MODES,
  Reply,
  capValues,
  clientName,
  cut,
  from,
  nothing,
  packTrailing,
  sourceOf,
  offeredCaps,
} from './common.js';
import { isupportReplies, lusersReplies, motdReplies } from './queries.js';
import { accountKey, checkNickOwnership, claimGuestNick, isAccountNick, isServiceNick } from './accounts.js';
import { replayMissed } from './alwaysOn.js';
import { checkNetworkBan } from './operators.js';
import { multilineCapValue } from './multiline.js';
import { monitorNickChange, monitorOffline, monitorOnline } from './monitor.js';
import { alreadyJoined, join } from './channels.js';
import { nodeOf } from '../state/ids.js';
import { setAway } from './profile.js';

/** The CAP version from which cap-notify is implied (IRCv3 capability negotiation 3.2). */
const CAP_VERSION_302 = 302;

/**
 * Characters kept from USER's username (the rest are dropped): letters, digits and the nick
 * specials, so `nick!user@host` stays one word a ban mask can match.
 */
const usernameDrop = /[^A-Za-z0-9_.\-[\]\\`^{}|]/g;

/**
 * IRCv3 sts, for CAP LS 302: a persistence policy (`duration=`) on a TLS connection, an upgrade
 * policy (`port=`) on a plain-text one, as configured; null when there is none to give. Not in
 * supportedCaps: a client may not REQ it (NAK), it is never in CAP LIST, and plain LS never
 * shows it (its value is the whole point).
 */
export function stsValue(ctx: CommandContext, client: Client): string | null {
  const { stsDurationSeconds, stsPort } = ctx.config;
  if (client.tls) return stsDurationSeconds === null ? null : `duration=${stsDurationSeconds}`;
  return stsPort === null ? null : `port=${stsPort}`;
}

/**
 * CAP LS [302] | LIST | REQ :<caps> | END. REQ is all or nothing: ACK when every capability
 * named (with `-` to disable) is one we offer, NAK (with the request echoed) otherwise.
 * Before registration LS and REQ hold registration open (irc.capHeld) until END
 * (irc.capEnded); afterwards CAP works the same with no effects. The client's ACK and NAK
 * (old sticky-capability replies) are ignored; other subcommands get 410.
 */
export function cap(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  const sub = (msg.params[0] ?? '').toUpperCase();
  const capReply = (...params: string[]): IrcMessage => from(ctx.config.serverName, 'CAP', clientName(client), ...params);
  const hold = (): void => {
    if (!client.registered) r.effect({ type: 'irc.capHeld' });
  };
  switch (sub) {
    case 'LS': {
      const version = Number(msg.params[1]);
      if (Number.isSafeInteger(version) && version >= CAP_VERSION_302) {
        client.capVersion = CAP_VERSION_302;
        client.caps = withMember(client.caps, 'cap-notify');
      }
      // CAP LS 302 lists values too (`sasl=PLAIN,...`); older clients get the names alone.
      const withValues = client.capVersion >= CAP_VERSION_302;
      const words = offeredCaps(ctx.config).map((c) => {
        const value = c === 'draft/multiline' ? multilineCapValue(ctx) : capValues[c];
        return withValues && value !== undefined ? `${c}=${value}` : c;
      });
      const sts = withValues ? stsValue(ctx, client) : null;
      if (sts !== null) words.push(`sts=${sts}`);
      // A 302 client takes the list over several lines, each but the last marked `*`; older
      // clients get the names alone, which fit one.
      const groups = withValues ? packTrailing(ctx, client, 'CAP', ['LS', '*'], words) : [words.join(' ')];
      groups.forEach((group, i) => r.toSelf(i < groups.length - 1 ? capReply('LS', '*', group) : capReply('LS', group)));
      hold();
      break;
    }
    case 'LIST':
      r.toSelf(capReply('LIST', [...client.caps].sort().join(' ')));
      break;
    case 'REQ': {
      const request = msg.params[1] ?? '';
      const asked = request.split(' ').filter((w) => w.length > 0);
      const acceptable =
        asked.length > 0 &&
        asked.every((w) => {
          const name = w.startsWith('-') ? w.slice(1) : w;
          // cap-notify cannot be turned off once CAP LS 302 implied it.
          if (w === '-cap-notify' && client.capVersion >= CAP_VERSION_302) return false;
          return offeredCaps(ctx.config).includes(name);
        });
      if (acceptable) {
        for (const w of asked) {
          if (w.startsWith('-')) client.caps = withoutMember(client.caps, w.slice(1));
          else client.caps = withMember(client.caps, w);
        }
      }
      r.toSelf(capReply(acceptable ? 'ACK' : 'NAK', request));
      hold();
      break;
    }
    case 'END':
      // Registration does not wait for a SASL exchange left unfinished: it is abandoned.
      if (client.sasl !== null && !client.registered) {
        client.sasl = null;
        r.numeric(ERR_SASLABORTED, 'SASL authentication aborted');
      }
      if (!client.registered) r.effect({ type: 'irc.capEnded' });
      break;
    case 'ACK':
    case 'NAK':
      break;
    default:
      r.numeric(ERR_INVALIDCAPCMD, msg.params[0] ?? '', 'Invalid CAP command');
  }
  return r.outcome();
}

/** Compares without leaking, through timing, how much of the password was right. */
function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** PASS <password>: before registration, reported (matching or not) to the machine; after, 462. */
export function pass(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  if (client.registered) return r.numeric(ERR_ALREADYREGISTERED, 'You may not reregister').outcome();
  const given = msg.params[0] ?? '';
  client.password = given;
  const expected = ctx.config.password;
  return r.effect({ type: 'irc.passGiven', matches: expected === null || samePassword(given, expected) }).outcome();
}

/**
 * NICK <nick>: 431 when none, 432 when not a valid nick of at most NICKLEN, 433 when another
 * client holds it (the state's claim is atomic and frees the old nick in the same step). Once
 * registered, the change is seen by the client and by everyone sharing a channel, once each,
 * from the old `nick!user@host`. Before registration nothing is sent (irc.nickSet only).
 * Asking for the nick one already has, spelled the same, does nothing. MONITOR watchers of the
 * old nick get 731, of the new one 730 (monitorNickChange).
 */
export async function nick(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const wanted = msg.params[0] ?? '';
  if (wanted === '') return r.numeric(ERR_NONICKNAMEGIVEN, 'No nickname given').outcome();
  if (!isValidNick(wanted, ctx.config.nickLength)) return r.numeric(ERR_ERRONEUSNICKNAME, wanted, 'Erroneous nickname').outcome();
  if (client.nick === wanted) return r.outcome();
  if (isServiceNick(wanted)) return r.numeric(ERR_ERRONEUSNICKNAME, wanted, 'Nickname is reserved for a service').outcome();
  let claim = await ctx.state.claimNick(client.id, wanted, ctx.now());
  if (!claim.ok) {
    if (!client.registered && (client.negotiating || client.account !== null) && (await isOwnUserNick(ctx, wanted))) {
      // The client may be logged in to that account, or about to be (SASL comes after NICK,
      // while CAP holds registration open; a relayed client comes logged in): the welcome
      // decides (joinOwnUser, or claimAtWelcome). A client neither negotiating nor logged in
      // cannot log in before it registers: it gets 433 now and picks another nick (had it
      // logged in, it would have joined its account's user whatever nick it asked for).
      client.nick = wanted;
      client.nickUnclaimed = true;
      return r.effect({ type: 'irc.nickSet' }).outcome();
    }
    // Its holder may have left meanwhile (a departure under way when the claim was made, gone
    // when it was looked up): once more.
    claim = await ctx.state.claimNick(client.id, wanted, ctx.now());
    if (!claim.ok) return r.numeric(ERR_NICKNAMEINUSE, wanted, 'Nickname is already in use').outcome();
  }
  client.nickUnclaimed = false;
  const oldSource = sourceOf(client);
  client.nick = wanted;
  if (client.registered) {
    r.event(claim.channels, from(oldSource, 'NICK', wanted), { plus: [client.id] });
    for (const s of monitorNickChange(ctx, client, claim.previous)) r.send(s);
    await checkNickOwnership(ctx, client, r);
  }
  return r.effect({ type: 'irc.nickSet' }).outcome();
}

/** Multiclient: `nick` is held by the user of the account of that name, which a connection here can join. */
async function isOwnUserNick(ctx: CommandContext, nick: string): Promise<boolean> {
  if (ctx.presence === undefined) return false;
  const holder = await ctx.state.user(nick);
  return holder !== null && holder.account !== null && isAccountNick(nick, holder.account) && ctx.presence.reaches(holder.clientId);
}

/**
 * A client registering under a nick it could not claim (isOwnUserNick) that did not join that
 * user: it claims the nick now if it has come free, else it becomes a guest, told why. The 433
 * comes first, as it would have at NICK: a client answers it with its alternative nick, which
 * arrives after the welcome and renames the guest.
 */
async function claimAtWelcome(ctx: CommandContext, client: Client, r: Reply): Promise<void> {
  const wanted = client.nick!;
  client.nickUnclaimed = false;
  if ((await ctx.state.claimNick(client.id, wanted, ctx.now())).ok) return;
  r.toSelf(from(ctx.config.serverName, ERR_NICKNAMEINUSE, '*', wanted, 'Nickname is already in use'));
  const guest = await claimGuestNick(ctx, client);
  if (guest !== null) {
    r.toSelf(from(ctx.config.serverName, 'NOTICE', guest.nick, `${wanted} is in use by the user logged in to the account ${wanted}, and you did not log in to it: you are ${guest.nick}.`));
  }
}

/**
 * USER <username> <mode> <unused> :<realname>: the username keeps letters, digits and nick
 * specials, is cut to USERLEN less one and gets a `~` (there is no ident lookup); the
 * realname is kept as given. After registration 462.
 */
export function user(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  if (client.registered) return r.numeric(ERR_ALREADYREGISTERED, 'You may not reregister').outcome();
  // An empty realname (`USER u 0 * :`) is a missing parameter, as the modern spec says.
  if ((msg.params[3] ?? '') === '') return r.numeric(ERR_NEEDMOREPARAMS, 'USER', 'Not enough parameters').outcome();
  // With four params the parser cannot give an empty username (only a trailing param is).
  const clean = (msg.params[0] ?? '').replace(usernameDrop, '').slice(0, USER_LENGTH - 1);
  // A username of nothing but dropped characters still needs a name in nick!user@host.
  client.user = `~${clean === '' ? 'user' : clean}`;
  client.realname = cut(msg.params[3] ?? '', ctx.config.realnameLength);
  return r.effect({ type: 'irc.userSet' }).outcome();
}

/** PING <token>: `:server PONG server :token`. */
export function ping(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const server = ctx.config.serverName;
  return new Reply(ctx, client).toSelf(from(server, 'PONG', server, msg.params[0] ?? '')).outcome();
}

/** PONG: nothing to do (the adapter has already counted it as life). */
export function pong(): Outcome {
  return nothing();
}

/**
 * QUIT [:message]: tells the machine the client is leaving, with the reason others will see
 * (`Quit: <message>`, or `Client Quit`). The broadcast happens in depart().
 */
export function quit(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const text = msg.params[0] ?? '';
  return new Reply(ctx, client).effect({ type: 'irc.quit', reason: text === '' ? 'Client Quit' : `Quit: ${text}` }).outcome();
}

/**
 * The machine decided the client is registered: it becomes a user of the network, and gets
 * 001-004, the 005 lines, LUSERS and the MOTD; those monitoring its nick get 730.
 */
export async function welcome(ctx: CommandContext, client: Client): Promise<Outcome> {
  const now = ctx.now();
  const server = ctx.config.serverName;
  if (client.user === null) client.user = '~user';
  if (client.realname === null) client.realname = '';
  // A network ban (KLINE) matching the client keeps it off the network: 465, then it is removed.
  const banned = new Reply(ctx, client);
  const ban = await checkNetworkBan(ctx, client, banned);
  if (ban !== null) return banned.kill(client.id, ban).outcome();
  const joined = await joinOwnUser(ctx, client);
  if (joined !== null) return joined;
  const r = new Reply(ctx, client);
  if (client.nickUnclaimed) await claimAtWelcome(ctx, client, r);
  await ctx.state.register(client.id, {
    user: client.user,
    host: client.host,
    realname: client.realname,
    server,
    tls: client.tls,
    modes: [...client.modes].sort().join(''),
    signonAt: now,
  });
  // Logged in before registration (SASL, REGISTER): the network learns it with the user.
  if (client.account !== null) await ctx.state.setAccount(client.id, client.account);
  welcomeReplies(ctx, r, client);
  await lusersReplies(ctx, r);
  motdReplies(ctx, r);
  r.send(monitorOnline(ctx, client));
  await checkNickOwnership(ctx, client, r);
  if (!client.restored) await takeKeptPlace(ctx, client, r);
  return r.outcome();
}

/**
 * An always-on user with a kept record, but which is not on the network: its home node stopped
 * or was lost (with the user alone, or connected there), and this connection, of that account under its nick, came
 * to another node first (or an operator KILLed the user). The connection takes its place here,
 * as the node's next start would have brought it back (session/kept.ts): it joins the kept
 * channels (one JOIN, under the usual rules: a key, +i or a ban keeps it out), and is replayed
 * what it missed. Without this the user would come back in no channel, and its next departure
 * would write over the record.
 */
async function takeKeptPlace(ctx: CommandContext, client: Client, r: Reply): Promise<void> {
  if (ctx.presence === undefined || client.account === null || client.nick === null || !isAccountNick(client.nick, client.account)) return;
  let kept: KeptUser | null;
  try {
    kept = await ctx.store.keptUser(accountKey(client.account));
  } catch (err) {
    if (isStoreUnavailable(err)) return;
    throw err;
  }
  // No `leftAt`: the user was connected when its home was lost (SIGKILL). Its channels still
  // come back (as last written: when it was last left alone, or the server last stopped);
  // what was said since is unknown, so nothing is replayed.
  if (kept === null) return;
  if (kept.channels.length > 0) r.merge(await join(ctx, client, { tags: {}, source: null, command: 'JOIN', params: [kept.channels.join(',')] }));
  await replayMissed(ctx, client, r, (await ctx.state.channelsOf(client.nick)).map((c) => c.name), kept);
}

/**
 * Multiclient: a client logged in to an account whose user is on this node (the user holding
 * the account's name as its nick, logged in to it) becomes one more connection of that user
 * instead of a user of its own. The nick it claimed to register is freed; it gets the welcome
 * under the user's nick, then each of the user's channels as if it had just joined. A user on
 * another node: the client is relayed there (`irc.relayed`), where it registers again and
 * joins the user this way. Null when there is no such user (or multiclient is off): the
 * client registers as usual.
 */
async function joinOwnUser(ctx: CommandContext, client: Client): Promise<Outcome | null> {
  if (ctx.presence === undefined || client.account === null) return null;
  const user = await ctx.state.user(client.account);
  if (user === null || user.account === null || fold(user.account) !== fold(client.account)) return null;
  const ownId = client.id;
  if (!ctx.presence.isHere(user.clientId)) {
    // The user lives on another node: this connection is relayed there, and joins it there.
    if (!ctx.presence.reaches(user.clientId)) return null;
    client.nickUnclaimed = false;
    await ctx.state.removeUser(ownId, ctx.now());
    return new Reply(ctx, client).effect({ type: 'irc.relayed', home: nodeOf(user.clientId) }).outcome();
  }
  // No connection of the user open: it was left alone (always-on), and missed what was said.
  const alone = !ctx.presence.isPresent(user.clientId);
  if (!ctx.presence.attach(client, user.clientId)) return null;
  client.nickUnclaimed = false;
  await ctx.state.removeUser(ownId, ctx.now());
  client.nick = user.nick;
  client.user = user.user;
  client.host = user.host;
  client.realname = user.realname;
  client.modes = modeSet(user.modes);
  client.away = user.away;
  const r = new Reply(ctx, client);
  welcomeReplies(ctx, r, client);
  await lusersReplies(ctx, r);
  motdReplies(ctx, r);
  const channels = (await ctx.state.channelsOf(user.nick)).map((c) => c.name);
  for (const channel of channels) await alreadyJoined(ctx, client, r, channel);
  if (alone) await replayMissed(ctx, client, r, channels);
  // Connected again: no longer away for being gone (an away the user set stays).
  if (client.away === AUTO_AWAY) await setAway(ctx, client, r, null);
  if (client.away !== null) r.numeric(RPL_NOWAWAY, 'You have been marked as being away');
  return r.outcome();
}

/** 001-004 and the 005 lines. */
function welcomeReplies(ctx: CommandContext, r: Reply, client: Client): void {
  const server = ctx.config.serverName;
  r.numeric(RPL_WELCOME, `Welcome to the ${ctx.config.network} IRC Network, ${sourceOf(client)}`);
  r.numeric(RPL_YOURHOST, `Your host is ${server}, running version ${ctx.version}`);
  r.numeric(RPL_CREATED, `This server was created ${new Date(ctx.createdAt).toUTCString()}`);
  r.numeric(RPL_MYINFO, server, ctx.version, USER_MODES, CHANNEL_MODES, CHANNEL_MODES_WITH_PARAM);
  isupportReplies(ctx, client, r);
}

/** The server has a password and PASS did not match it: 464 (the machine then closes). */
export function passwordMismatch(ctx: CommandContext, client: Client): Outcome {
  return new Reply(ctx, client).numeric(ERR_PASSWDMISMATCH, 'Password incorrect').outcome();
}

/**
 * Who leaves with a connection: its user (the last or only connection), only the connection
 * (others of the user stay), the user however it is set (KILL, a network ban), the user
 * because the server stops (an always-on user is kept for the next start), or an always-on
 * user brought back at start, which leaves as it came (kept.ts): as `user`, but it was never a
 * connection, so the user's last connection still closed when the kept record says.
 */
export type Leaving = 'user' | 'connection' | 'forced' | 'shutdown' | 'restored';

/**
 * The away message of an always-on user that stays with no connection open and was not away:
 * whoever writes to it gets 301 and learns nobody is reading now, and what is kept for later (a
 * private message is kept only between two logged-in users: docs/history.md). Its next
 * connection takes it off again; an away message the user set itself stays.
 */
export const AUTO_AWAY = 'Not connected (always-on: channel messages, and private ones from logged-in users, wait in the history)';

/**
 * An always-on account's user stays on the network when its last connection closes
 * (NickServ SET ALWAYSON): in its channels, its nick held, until a connection of it comes back
 * (joinOwnUser) or an operator KILLs it. Only a registered user of a logged-in account, holding
 * the account's name as its nick: that is the user a connection joins. Another user logged in
 * to the account (IDENTIFY after registering as `alice_`) leaves as any user does; staying, it
 * would be a second always-on user of the account, and write over the first one's record. What
 * it is, to keep for the next start; null when it does not stay.
 */
async function keptUser(ctx: CommandContext, client: Client, leaving: Leaving, at: number): Promise<KeptUser | null> {
  if (ctx.presence === undefined || client.account === null || client.nick === null) return null;
  if (!isAccountNick(client.nick, client.account)) return null;
  const user = await ctx.state.user(client.nick);
  if (user === null || user.clientId !== client.id) return null;
  const key = accountKey(client.account);
  let leftAt = at;
  let kicks: KeptUser['kicks'] = [];
  try {
    if (!(await ctx.store.alwaysOn(key))) return null;
    if (leaving === 'restored') {
      // Brought back, not back: when it left, and what happened to it since, still stand.
      const before = await ctx.store.keptUser(key);
      leftAt = before?.leftAt ?? leftAt;
      kicks = before?.kicks ?? [];
    }
  } catch (err) {
    // The store unreachable: the user leaves, as without the setting.
    if (isStoreUnavailable(err)) return null;
    throw err;
  }
  const channels = (await ctx.state.channelsOf(client.nick)).map((c) => c.name);
  return { channels, user: user.user, host: user.host, realname: user.realname, away: user.away, leftAt, kicks };
}

/** Writes what the user is for the next start; a store outage only costs that. */
async function keepUser(ctx: CommandContext, account: string, kept: KeptUser): Promise<void> {
  try {
    await ctx.store.keepUser(accountKey(account), kept);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
  }
}

/**
 * The client has left (QUIT, timeout, error, shutdown...): out of the network state (its
 * channels, empty ones disappearing; its nick freed; a WHOWAS entry), and a QUIT from it to
 * everyone who shared a channel with it, once each; 731 to those monitoring its nick if it was
 * registered; its own monitor list dropped. Idempotent: once the state has forgotten the
 * client, nothing more happens.
 */
export async function depart(ctx: CommandContext, client: Client, reason: string, leaving: Leaving = 'user', at: number = ctx.now()): Promise<Outcome> {
  // Multiclient: one connection of several leaves alone; the user stays.
  if (leaving === 'connection') return nothing();
  // A connection joined the user while this one was leaving (joinOwnUser), or while it was being
  // brought back: the user stays with it.
  if ((leaving === 'user' || leaving === 'restored') && ctx.presence?.isPresent(client.id) === true) return nothing();
  if (leaving !== 'forced') {
    const kept = await keptUser(ctx, client, leaving, at);
    const staying = leaving !== 'shutdown' && kept !== null;
    // Staying on alone, and not away: away now, as not connected (see AUTO_AWAY).
    const autoAway = staying && kept.away === null;
    if (autoAway) kept.away = AUTO_AWAY;
    // Kept for the next start: when the server stops, and whenever the user stays on alone (a
    // crash then loses nothing it had).
    if (kept !== null) await keepUser(ctx, client.account!, kept);
    if (staying) {
      if (!autoAway) return nothing();
      const r = new Reply(ctx, client);
      await setAway(ctx, client, r, AUTO_AWAY);
      return r.outcome();
    }
  }
  ctx.monitors.clear(client.id);
  const removed = await ctx.state.removeUser(client.id, ctx.now());
  const r = new Reply(ctx, client);
  if (removed && removed.channels.length > 0) {
    r.event(removed.channels, from(sourceOf(client), 'QUIT', reason), { except: client.id });
  }
  if (removed?.registered === true) r.send(monitorOffline(ctx, removed.nick));
  return r.outcome();
}
