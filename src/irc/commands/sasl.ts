// AUTHENTICATE (IRCv3 sasl 3.1/3.2: PLAIN, EXTERNAL, SCRAM-SHA-256) and REGISTER (IRCv3
// draft/account-registration), before or after registration. The mechanisms themselves are
// pure (src/identity/sasl.ts, scram.ts); this file keeps the exchange on the client
// (`client.sasl`) between AUTHENTICATE lines and answers with the spec's numerics:
//   900 RPL_LOGGEDIN + 903 RPL_SASLSUCCESS   logged in
//   904 ERR_SASLFAIL      wrong credentials, a malformed payload, unknown mechanism (after 908)
//   905 ERR_SASLTOOLONG   a payload past maxSaslPayloadBytes
//   906 ERR_SASLABORTED   AUTHENTICATE *
//   907 ERR_SASLALREADY   already logged in
//   908 RPL_SASLMECHS     the mechanisms we offer
// Failed attempts count against the account and the IP (ctx.logins) as IDENTIFY's do.

import { isStoreUnavailable } from '../../store/store.js';
import { deriveCredentials, passwordProblem } from '../../identity/passwords.js';
import { SaslPayload, chunkPayload, parseExternal, parsePlain, saslMechanisms } from '../../identity/sasl.js';
import { parseClientFirst, scramFinal, scramFirst, type ScramState } from '../../identity/scram.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_SASLABORTED,
  ERR_SASLALREADY,
  ERR_SASLFAIL,
  ERR_SASLTOOLONG,
  RPL_SASLMECHS,
  RPL_SASLSUCCESS,
} from '../wire/numerics.js';
import { accountKey, checkPassword, logIn } from './accounts.js';
import { Reply, from, isChannelName } from './common.js';
import type { Client, CommandContext, Outcome } from './types.js';

/** Where a SCRAM exchange is: the server-first was sent (`first`), or the server-final (`final`). */
type ScramStep = { at: 'first'; state: ScramState } | { at: 'final'; account: string };

function authenticateLine(ctx: CommandContext, chunk: string): IrcMessage {
  return from(ctx.config.serverName, 'AUTHENTICATE', chunk);
}

function fail(r: Reply, client: Client, text = 'SASL authentication failed: Invalid account credentials'): Outcome {
  client.sasl = null;
  return r.numeric(ERR_SASLFAIL, text).outcome();
}

/** Logs the client in to the account the mechanism proved; 900 then 903. */
async function succeed(ctx: CommandContext, client: Client, r: Reply, name: string): Promise<Outcome> {
  client.sasl = null;
  // The account's own spelling, and proof it still exists (it may have been dropped meanwhile).
  const account = await ctx.store.account(accountKey(name));
  if (!account) return fail(r, client);
  await logIn(ctx, client, r, account.name);
  return r.numeric(RPL_SASLSUCCESS, 'SASL authentication successful').outcome();
}

async function plain(ctx: CommandContext, client: Client, r: Reply, bytes: Buffer): Promise<Outcome> {
  const p = parsePlain(bytes);
  if (!p || (p.authzid !== '' && accountKey(p.authzid) !== accountKey(p.authcid))) return fail(r, client);
  const verdict = await checkPassword(ctx, client, p.authcid, p.password);
  if (verdict === 'throttled') return fail(r, client, 'Too many failed logins for this account or from your address: try again later');
  return verdict === 'ok' ? succeed(ctx, client, r, p.authcid) : fail(r, client);
}

async function external(ctx: CommandContext, client: Client, r: Reply, bytes: Buffer): Promise<Outcome> {
  const p = parseExternal(bytes);
  if (!p || client.certfp === null) return fail(r, client);
  const account = await ctx.store.accountByCertificate(client.certfp);
  if (account === null || (p.authzid !== '' && accountKey(p.authzid) !== accountKey(account))) return fail(r, client);
  return succeed(ctx, client, r, account);
}

async function scram(ctx: CommandContext, client: Client, r: Reply, bytes: Buffer): Promise<Outcome> {
  const exchange = client.sasl!;
  const step = exchange.step as ScramStep | null;
  if (step === null) {
    const first = parseClientFirst(bytes);
    if ('error' in first) return fail(r, client);
    const key = accountKey(first.username);
    if (!ctx.logins.check([`account:${key}`, `ip:${client.ip}`]).ok) return fail(r, client, 'Too many failed logins for this account or from your address: try again later');
    const credentials = await ctx.store.credentials(key);
    const { serverFirst, state } = scramFirst(first, credentials?.scram ?? null, { accountKey: key });
    exchange.step = { at: 'first', state } satisfies ScramStep;
    for (const chunk of chunkPayload(Buffer.from(serverFirst))) r.toSelf(authenticateLine(ctx, chunk));
    return r.outcome();
  }
  if (step.at === 'first') {
    const result = scramFinal(bytes, step.state);
    const keys = [`account:${accountKey(step.state.username)}`, `ip:${client.ip}`];
    if (!result.ok) {
      ctx.logins.failed(keys);
      return fail(r, client);
    }
    ctx.logins.succeeded([keys[0]!]);
    exchange.step = { at: 'final', account: result.account } satisfies ScramStep;
    for (const chunk of chunkPayload(Buffer.from(result.serverFinal))) r.toSelf(authenticateLine(ctx, chunk));
    return r.outcome();
  }
  // The client's empty answer to the server-final message ends the exchange.
  return bytes.length === 0 ? succeed(ctx, client, r, step.account) : fail(r, client);
}

/** AUTHENTICATE <mechanism> | <base64 chunk> | + | *. */
export async function authenticate(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const param = msg.params[0] ?? '';
  if (client.account !== null) return r.numeric(ERR_SASLALREADY, 'You have already authenticated using SASL').outcome();
  if (param === '*') {
    client.sasl = null;
    return r.numeric(ERR_SASLABORTED, 'SASL authentication aborted').outcome();
  }
  const exchange = client.sasl;
  if (exchange === null) {
    const mechanism = param.toUpperCase();
    if (!(saslMechanisms as readonly string[]).includes(mechanism)) {
      r.numeric(RPL_SASLMECHS, saslMechanisms.join(','), 'are available SASL mechanisms');
      return fail(r, client);
    }
    client.sasl = { mechanism, payload: new SaslPayload(), step: null };
    return r.toSelf(authenticateLine(ctx, '+')).outcome();
  }
  const added = (exchange.payload as SaslPayload).add(param);
  if ('error' in added) {
    if (added.error === 'tooLong') {
      client.sasl = null;
      return r.numeric(ERR_SASLTOOLONG, 'SASL message too long').outcome();
    }
    return fail(r, client);
  }
  if (!added.done) return r.outcome();
  try {
    if (exchange.mechanism === 'PLAIN') return await plain(ctx, client, r, added.bytes);
    if (exchange.mechanism === 'EXTERNAL') return await external(ctx, client, r, added.bytes);
    return await scram(ctx, client, r, added.bytes);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return fail(r, client, 'Accounts are unavailable right now: try again shortly');
  }
}

/**
 * REGISTER <account> {<email> | *} <password> (draft/account-registration, before or after
 * connecting): the account is the current nick (`*` or the nick itself; custom names are not
 * offered). Answers `REGISTER SUCCESS` and logs in, or `FAIL REGISTER <code>`.
 */
export async function register(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const [name = '', email = '*', password = ''] = msg.params;
  const failWith = (code: string, text: string, ...context: string[]): Outcome =>
    r.toSelf(from(ctx.config.serverName, 'FAIL', 'REGISTER', code, ...context, text)).outcome();
  if (client.account !== null) return failWith('ALREADY_AUTHENTICATED', 'You are already logged in', client.account);
  if (client.nick === null) return failWith('NEED_NICK', 'Choose a nick first (the account is your nick)', '*');
  const account = name === '*' ? client.nick : name;
  if (accountKey(account) !== accountKey(client.nick) || isChannelName(account)) {
    return failWith('BAD_ACCOUNT_NAME', 'The account name must be your current nick', account);
  }
  const problem = passwordProblem(password);
  if (problem !== null) return failWith('WEAK_PASSWORD', problem, account);
  try {
    const created = await ctx.store.createAccount(
      accountKey(account),
      { name: client.nick, email: email === '*' ? null : email, registeredAt: ctx.now() },
      await deriveCredentials(password),
    );
    if (!created) return failWith('ACCOUNT_EXISTS', 'That account already exists', account);
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return failWith('TEMPORARILY_UNAVAILABLE', 'Accounts are unavailable right now: try again shortly', account);
  }
  r.toSelf(from(ctx.config.serverName, 'REGISTER', 'SUCCESS', client.nick, 'Account registered'));
  await logIn(ctx, client, r, client.nick);
  return r.outcome();
}
