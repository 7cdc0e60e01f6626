// Logging in and out, and nick ownership: what NickServ, SASL and draft/account-registration
// share (checking a password against the throttle and the stored hash, too). Logging in sets the client's account here and on the network (WHOIS 330 and other
// nodes see it), answers 900, and tells those sharing a channel who enabled account-notify.
// A registered nick held by someone not logged in to its account starts the session machine's
// grace timer (irc.nickUnowned); when it runs out, enforceNick renames the holder to a guest.

import { randomBytes, randomInt } from 'node:crypto';
import { isStoreUnavailable } from '../../store/store.js';
import { hashPassword, verifyPassword } from '../../identity/passwords.js';
import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { RPL_LOGGEDIN, RPL_LOGGEDOUT } from '../wire/numerics.js';
import { Reply, clientName, from, sourceOf } from './common.js';
import type { NickClaim } from '../state/networkState.js';
import type { Client, CommandContext, Outcome } from './types.js';
import { monitorNickChange } from './monitor.js';

/** The services' nicks: nobody may take them, and messages to them are commands. */
export const serviceNicks = ['NickServ', 'ChanServ'] as const;
export type ServiceNick = (typeof serviceNicks)[number];

const foldedServiceNicks = new Set(serviceNicks.map((n) => fold(n)));

export function isServiceNick(nick: string): boolean {
  return foldedServiceNicks.has(fold(nick));
}

/** `NOTICE <client> :<text>` from a service (`NickServ!NickServ@services`). */
export function serviceNotice(client: Client, service: ServiceNick, text: string): IrcMessage {
  return from(`${service}!${service}@services`, 'NOTICE', clientName(client), text);
}

/** How a service answers: one NOTICE line from it to the client. */
export type Say = (text: string) => void;

/**
 * Runs one command line sent to a service: the words of `text`, and `say` for its NOTICEs. A
 * store that cannot be reached is answered with `unavailable` (nothing was changed).
 */
export async function serviceCommand(
  ctx: CommandContext,
  client: Client,
  service: ServiceNick,
  text: string,
  unavailable: string,
  run: (words: string[], say: Say, r: Reply) => Promise<void>,
): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const say: Say = (line) => void r.toSelf(serviceNotice(client, service, line));
  try {
    await run(text.split(' ').filter((w) => w.length > 0), say, r);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    say(`${unavailable} right now (the store cannot be reached): nothing was changed, try again shortly.`);
  }
  return r.outcome();
}

/** The account key of a name: accounts are compared as nicks are (rfc1459 folding). */
export function accountKey(name: string): string {
  return fold(name);
}

/**
 * Whether `nick` is the account's own name: the nick of the account's user, the one its
 * connections join (multiclient) and the one that stays when always-on.
 */
export function isAccountNick(nick: string, account: string): boolean {
  return accountKey(nick) === accountKey(account);
}

/** Whether the client is logged in to the account `name` (compared folded, as nicks are). */
export function isLoggedInTo(client: Client, name: string): boolean {
  return client.account !== null && accountKey(client.account) === accountKey(name);
}

/**
 * ACCOUNT to those sharing a channel with the client (and itself) and its extended-monitor
 * watchers, who enabled account-notify.
 */
async function accountNotify(ctx: CommandContext, client: Client, r: Reply, account: string): Promise<void> {
  if (!client.registered || client.nick === null) return;
  const channels = (await ctx.state.channelsOf(client.nick)).map((c) => fold(c.name));
  r.send({ to: { kind: 'channels', channels, plus: [client.id], watchersOf: client.nick }, message: from(sourceOf(client), 'ACCOUNT', account), onlyCap: 'account-notify' });
}

/** Checks a login against the throttle, then the stored hash; counts the failure or success. */
export async function checkPassword(ctx: CommandContext, client: Client, name: string, password: string): Promise<'ok' | 'wrong' | 'throttled'> {
  const key = accountKey(name);
  const keys = [`account:${key}`, `ip:${client.ip}`];
  if (!ctx.logins.check(keys).ok) return 'throttled';
  const credentials = await ctx.store.credentials(key);
  // An unknown account costs a hash too, so that timing does not tell which accounts exist.
  const ok = credentials !== null ? await verifyPassword(password, credentials.passwordHash) : (await verifyPassword(password, await dummyHash()), false);
  // A success clears the account's count only: clearing the address's would let one good
  // account reset it between guesses at others.
  if (ok) ctx.logins.succeeded([keys[0]!]);
  else ctx.logins.failed(keys);
  return ok ? 'ok' : 'wrong';
}

// A hash of a password nobody knows, made once, for the unknown-account path above.
let dummy: Promise<string> | null = null;
const dummyHash = (): Promise<string> => (dummy ??= hashPassword(randomBytes(18).toString('base64')));

/** The client is now logged in to `account` (display spelling): 900, the network told. */
export async function logIn(ctx: CommandContext, client: Client, r: Reply, account: string): Promise<void> {
  client.account = account;
  if (client.registered) {
    await ctx.state.setAccount(client.id, account);
    await accountNotify(ctx, client, r, account);
  }
  r.numeric(RPL_LOGGEDIN, sourceOf(client), account, `You are now logged in as ${account}`);
  if (client.nick !== null && accountKey(client.nick) === accountKey(account)) r.effect({ type: 'irc.nickOwned' });
}

/** The client is logged out: 901, the network told, and its nick's ownership checked again. */
export async function logOut(ctx: CommandContext, client: Client, r: Reply): Promise<void> {
  client.account = null;
  if (client.registered) {
    await ctx.state.setAccount(client.id, null);
    await accountNotify(ctx, client, r, '*');
  }
  r.numeric(RPL_LOGGEDOUT, sourceOf(client), 'You are now logged out');
  await checkNickOwnership(ctx, client, r);
}

/**
 * The account the client is logged in to was dropped (by another of its connections): it is
 * logged out and told. Nothing when it is not logged in to that account (any more).
 */
export async function accountDropped(ctx: CommandContext, client: Client, account: string): Promise<Outcome> {
  const r = new Reply(ctx, client);
  if (!isLoggedInTo(client, account)) return r.outcome();
  r.toSelf(serviceNotice(client, 'NickServ', `The account ${account} was dropped: you are logged out.`));
  await logOut(ctx, client, r);
  return r.outcome();
}

/**
 * Whether the client may keep its nick: free (no account), its own, or someone else's account
 * (the grace timer starts, with a notice saying how to log in). While the store is unavailable
 * nobody is renamed: an outage must not cost people their nicks.
 */
export async function checkNickOwnership(ctx: CommandContext, client: Client, r: Reply): Promise<void> {
  if (client.nick === null) return;
  if (isLoggedInTo(client, client.nick)) {
    r.effect({ type: 'irc.nickOwned' });
    return;
  }
  const key = accountKey(client.nick);
  let registered: boolean;
  try {
    registered = (await ctx.store.account(key)) !== null;
  } catch (err) {
    if (isStoreUnavailable(err)) return;
    throw err;
  }
  if (!registered) {
    r.effect({ type: 'irc.nickOwned' });
    return;
  }
  const seconds = Math.round(ctx.config.nickEnforceGraceMs / 1000);
  r.toSelf(
    serviceNotice(
      client,
      'NickServ',
      `This nickname is registered. Log in within ${seconds} seconds (/msg NickServ IDENTIFY <password>, or SASL) or you will be renamed.`,
    ),
  );
  r.effect({ type: 'irc.nickUnowned' });
}

/**
 * The grace is over (the machine's timer.nickEnforce): a client still holding a registered
 * nick that is not its account's gets a free `Guest<digits>` nick, seen by everyone sharing a
 * channel as a NICK change.
 */
export async function enforceNick(ctx: CommandContext, client: Client): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const nick = client.nick;
  if (nick === null) return r.outcome();
  if (isLoggedInTo(client, nick)) return r.outcome();
  try {
    if ((await ctx.store.account(accountKey(nick))) === null) return r.outcome();
  } catch (err) {
    // As in checkNickOwnership: an outage must not cost anyone their nick.
    if (isStoreUnavailable(err)) return r.outcome();
    throw err;
  }
  const oldSource = sourceOf(client);
  const taken = await claimGuestNick(ctx, client);
  if (taken === null) return r.outcome();
  // The NICK first: the notice is addressed to the new nick, which the client learns from it.
  r.toChannels(taken.claim.channels, from(oldSource, 'NICK', taken.nick), { plus: [client.id] });
  r.toSelf(serviceNotice(client, 'NickServ', `You did not log in to ${nick}: you are now ${taken.nick}.`));
  for (const s of monitorNickChange(ctx, client, taken.claim.previous)) r.send(s);
  return r.outcome();
}

/**
 * A free `Guest<digits>` nick claimed for the client, which holds it from now on (the state
 * frees its previous nick in the same step); null when ten tries found none free.
 */
export async function claimGuestNick(ctx: CommandContext, client: Client): Promise<{ nick: string; claim: NickClaim & { ok: true } } | null> {
  for (let tries = 0; tries < 10; tries++) {
    const nick = `Guest${randomInt(10_000, 100_000)}`;
    const claim = await ctx.state.claimNick(client.id, nick, ctx.now());
    if (!claim.ok) continue;
    client.nick = nick;
    return { nick, claim };
  }
  return null;
}
