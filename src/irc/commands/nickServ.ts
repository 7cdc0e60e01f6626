// NickServ, built in: `/msg NickServ <command>` (or `/ns`, `NICKSERV <command>`) answered by
// NOTICEs from NickServ, as users of every services package expect:
//   REGISTER <password> [email]      the current nick becomes an account; logged in at once
//   IDENTIFY [account] <password>    log in (throttled per account and per IP)
//   LOGOUT                           log out
//   INFO [account]                   when it was registered, its channels (email: owner only)
//   SET PASSWORD <new password>      change the password (logged in)
//   SET ALWAYSON ON|OFF              stay on the network with no connection open (multiclient)
//   SET AUTOREPLAY-MISSED ON|OFF     what an always-on user missed, sent to a client that cannot ask
//   DROP <password>                  delete the account you are logged in to, with its channels and private history
//   GHOST <nick>                     disconnect whoever holds your account's nick
//   CERT ADD [fingerprint] | DEL <fingerprint> | LIST   TLS certificates for SASL EXTERNAL
//   HELP
// Passwords are hashed off the event loop (src/identity/passwords.ts); nothing here logs them.

import { deriveCredentials, passwordProblem } from '../../identity/passwords.js';
import type { IrcMessage } from '../wire/message.js';
import { accountKey, checkPassword, isLoggedInTo, logIn, logOut, serviceCommand, type Say } from './accounts.js';
import { Reply } from './common.js';
import type { Client, CommandContext, Outcome } from './types.js';

/** SHA-256 fingerprints as CERT ADD accepts them: 64 hex digits, colons allowed. */
const fingerprintPattern = /^(?:[0-9a-f]{2}:?){31}[0-9a-f]{2}$/i;

const help = [
  'NickServ keeps accounts: an account is a nick with a password, and logging in proves you own it.',
  'REGISTER <password> [email]  - register your current nick as an account',
  'IDENTIFY [account] <password> - log in (or use SASL: your client may do it for you)',
  'LOGOUT                        - log out',
  'INFO [account]                - what is known of an account',
  'SET PASSWORD <new password>   - change your password',
  'SET ALWAYSON ON|OFF           - stay in your channels while disconnected (off by default)',
  'SET AUTOREPLAY-MISSED ON|OFF  - always-on: send what you missed to a client without CHATHISTORY (on by default)',
  'DROP <password>               - delete your account, its channels and its private history',
  'GHOST <nick>                  - disconnect a client holding your nick',
  'CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST - TLS client certificates for SASL EXTERNAL',
];

async function register(ctx: CommandContext, client: Client, r: Reply, say: Say, args: string[]): Promise<void> {
  const [password, email] = args;
  if (password === undefined) return say('Syntax: REGISTER <password> [email]');
  if (client.account !== null) return say(`You are already logged in as ${client.account}.`);
  const nick = client.nick;
  if (nick === null || !client.registered) return say('Finish connecting first.');
  const problem = passwordProblem(password);
  if (problem !== null) return say(problem);
  const credentials = await deriveCredentials(password);
  const created = await ctx.store.createAccount(accountKey(nick), { name: nick, email: email ?? null, registeredAt: ctx.now() }, credentials);
  if (!created) return say(`${nick} is already registered.`);
  say(`Account ${nick} registered. You are now logged in; log in next time with SASL or /msg NickServ IDENTIFY <password>.`);
  await logIn(ctx, client, r, nick);
}

async function identify(ctx: CommandContext, client: Client, r: Reply, say: Say, args: string[]): Promise<void> {
  if (args.length === 0) return say('Syntax: IDENTIFY [account] <password>');
  const [name, password] = args.length >= 2 ? [args[0]!, args[1]!] : [client.nick ?? '', args[0]!];
  const account = await ctx.store.account(accountKey(name));
  const verdict = await checkPassword(ctx, client, name, password);
  if (verdict === 'throttled') return say('Too many failed logins for this account or from your address: try again later.');
  if (verdict === 'wrong' || account === null) return say('Invalid account name or password.');
  if (isLoggedInTo(client, account.name)) return say(`You are already logged in as ${account.name}.`);
  say(`You are now logged in as ${account.name}.`);
  await logIn(ctx, client, r, account.name);
  // Logged in after registering: a connection joins its account's user (multiclient, always-on)
  // only when it logs in before, so this one stays a user of its own. Say so, and how.
  const own = ctx.presence === undefined ? null : await ctx.state.user(account.name);
  if (own !== null && own.clientId !== client.id && own.account !== null && accountKey(own.account) === accountKey(account.name)) {
    say(`Your account's user ${own.nick} is on the network too; this connection is a separate user. To be ${own.nick} here, log in with SASL as you connect (your client's SASL settings).`);
  }
}

async function info(ctx: CommandContext, client: Client, say: Say, args: string[]): Promise<void> {
  const name = args[0] ?? client.account ?? client.nick ?? '';
  const account = await ctx.store.account(accountKey(name));
  if (!account) return say(`${name} is not registered.`);
  const own = isLoggedInTo(client, account.name);
  say(`Account ${account.name}, registered ${new Date(account.registeredAt).toUTCString()}.`);
  const channels = await ctx.store.channelsFoundedBy(accountKey(account.name));
  if (channels.length > 0) say(`Channels registered: ${channels.join(' ')}`);
  if (own) {
    say(`Email: ${account.email ?? '(none)'}`);
    say(`TLS certificates: ${account.certificates.length === 0 ? '(none)' : account.certificates.join(' ')}`);
  }
}

async function set(ctx: CommandContext, client: Client, say: Say, args: string[]): Promise<void> {
  const what = (args[0] ?? '').toUpperCase();
  if (what === 'ALWAYSON') return setAlwaysOn(ctx, client, say, args);
  if (what === 'AUTOREPLAY-MISSED') return setAutoreplayMissed(ctx, client, say, args);
  if (what !== 'PASSWORD' || args[1] === undefined) return say('Syntax: SET PASSWORD <new password> | SET ALWAYSON ON|OFF | SET AUTOREPLAY-MISSED ON|OFF');
  if (client.account === null) return say('You are not logged in.');
  const problem = passwordProblem(args[1]);
  if (problem !== null) return say(problem);
  const changed = await ctx.store.setCredentials(accountKey(client.account), await deriveCredentials(args[1]));
  say(changed ? 'Password changed.' : `${client.account} is no longer registered.`);
}

/**
 * SET ALWAYSON ON|OFF: whether the account's user stays on the network, in its channels, while
 * none of its connections is open (multiclient), so what is said to it waits in the history.
 */
async function setAlwaysOn(ctx: CommandContext, client: Client, say: Say, args: string[]): Promise<void> {
  const value = (args[1] ?? '').toUpperCase();
  if (client.account === null) return say('You are not logged in.');
  if (ctx.presence === undefined) return say('ALWAYSON needs multiclient, which this server has turned off.');
  if (value !== 'ON' && value !== 'OFF') {
    const on = await ctx.store.alwaysOn(accountKey(client.account));
    return say(`ALWAYSON is ${on ? 'ON' : 'OFF'}. Syntax: SET ALWAYSON ON|OFF`);
  }
  const changed = await ctx.store.setAlwaysOn(accountKey(client.account), value === 'ON');
  if (!changed) return say(`${client.account} is no longer registered.`);
  say(value === 'ON' ? 'ALWAYSON is ON: you stay in your channels when you disconnect; what is said meanwhile waits for you, and is replayed when you come back.' : 'ALWAYSON is OFF: you leave the network when your last connection closes.');
}

/**
 * SET AUTOREPLAY-MISSED ON|OFF: whether what the always-on user missed is sent to its next
 * connection that cannot ask for history (alwaysOn.ts). Off for a bot, which would take the
 * replayed lines for new ones and act on them again.
 */
async function setAutoreplayMissed(ctx: CommandContext, client: Client, say: Say, args: string[]): Promise<void> {
  const value = (args[1] ?? '').toUpperCase();
  if (client.account === null) return say('You are not logged in.');
  const key = accountKey(client.account);
  if (value !== 'ON' && value !== 'OFF') {
    const on = await ctx.store.autoreplayMissed(key);
    return say(`AUTOREPLAY-MISSED is ${on ? 'ON' : 'OFF'}. Syntax: SET AUTOREPLAY-MISSED ON|OFF`);
  }
  if (!(await ctx.store.setAutoreplayMissed(key, value === 'ON'))) return say(`${client.account} is no longer registered.`);
  say(
    value === 'ON'
      ? 'AUTOREPLAY-MISSED is ON: with ALWAYSON, a client that cannot fetch history (CHATHISTORY) is sent what you missed when it connects.'
      : 'AUTOREPLAY-MISSED is OFF: what you miss waits in the history; a client with CHATHISTORY can still fetch it.',
  );
}

async function drop(ctx: CommandContext, client: Client, r: Reply, say: Say, args: string[]): Promise<void> {
  if (client.account === null) return say('You are not logged in.');
  if (args[0] === undefined) return say('Syntax: DROP <password> (deletes your account, the channels it registered, and its private message history)');
  const name = client.account;
  const verdict = await checkPassword(ctx, client, name, args[0]);
  if (verdict === 'throttled') return say('Too many failed logins for this account or from your address: try again later.');
  if (verdict === 'wrong') return say('Wrong password: the account was not dropped.');
  await ctx.store.dropAccount(accountKey(name));
  say(`Account ${name} dropped.`);
  await logOut(ctx, client, r);
  // Its other connections, here and on other nodes, are logged out too (told by NickServ).
  r.logoutEverywhere(name);
}

async function ghost(ctx: CommandContext, client: Client, r: Reply, say: Say, args: string[]): Promise<void> {
  const nick = args[0];
  if (nick === undefined) return say('Syntax: GHOST <nick>');
  if (!isLoggedInTo(client, nick)) return say(`You must be logged in to ${nick} to ghost it.`);
  const user = await ctx.state.user(nick);
  if (!user || user.clientId === client.id) return say(`${nick} is not online.`);
  r.kill(user.clientId, `Killed (NickServ (GHOST command used by ${client.nick ?? '*'}))`);
  say(`${user.nick} has been disconnected.`);
}

async function cert(ctx: CommandContext, client: Client, say: Say, args: string[]): Promise<void> {
  if (client.account === null) return say('You are not logged in.');
  const key = accountKey(client.account);
  const sub = (args[0] ?? '').toUpperCase();
  if (sub === 'LIST') {
    const account = await ctx.store.account(key);
    return say(`TLS certificates: ${!account || account.certificates.length === 0 ? '(none)' : account.certificates.join(' ')}`);
  }
  if (sub !== 'ADD' && sub !== 'DEL') return say('Syntax: CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST');
  const given = args[1] ?? (sub === 'ADD' ? client.certfp : null);
  if (given === null || given === undefined) return say('Connect with a TLS client certificate, or give its SHA-256 fingerprint.');
  if (!fingerprintPattern.test(given)) return say('A fingerprint is the SHA-256 of the certificate: 64 hex digits.');
  const fingerprint = given.replaceAll(':', '').toLowerCase();
  if (sub === 'DEL') return say((await ctx.store.removeCertificate(key, fingerprint)) ? 'Certificate removed.' : 'That certificate is not on your account.');
  const added = await ctx.store.addCertificate(key, fingerprint);
  const answers = { added: `Certificate ${fingerprint} added: SASL EXTERNAL logs you in with it.`, exists: 'That certificate is already on your account.', taken: 'That certificate belongs to another account.', noAccount: `${client.account} is no longer registered.` };
  say(answers[added]);
}

/** One NickServ command line (the text of a PRIVMSG to NickServ, or NICKSERV's params). */
export function nickServ(ctx: CommandContext, client: Client, text: string): Promise<Outcome> {
  return serviceCommand(ctx, client, 'NickServ', text, 'Accounts are unavailable', async ([command = '', ...args], say, r) => {
    switch (command.toUpperCase()) {
      case 'REGISTER':
        return register(ctx, client, r, say, args);
      case 'IDENTIFY':
      case 'LOGIN':
        return identify(ctx, client, r, say, args);
      case 'LOGOUT':
        return client.account === null ? say('You are not logged in.') : logOut(ctx, client, r);
      case 'INFO':
        return info(ctx, client, say, args);
      case 'SET':
        return set(ctx, client, say, args);
      case 'DROP':
        return drop(ctx, client, r, say, args);
      case 'GHOST':
        return ghost(ctx, client, r, say, args);
      case 'CERT':
        return cert(ctx, client, say, args);
      case 'HELP':
      case '':
        for (const line of help) say(line);
        return;
      default:
        say(`Unknown command ${command}. /msg NickServ HELP lists them.`);
    }
  });
}

/** NICKSERV <command> [args] and NS: the same as /msg NickServ. */
export function nickServCommand(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  return nickServ(ctx, client, msg.params.join(' '));
}

