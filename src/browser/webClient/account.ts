// Accounts, as the page uses them: logging in with SASL PLAIN while connecting, creating an
// account (IRCv3 draft/account-registration, or NickServ when the server lacks it), and the
// replies that say who we are logged in as. What CAP LS offers decides the plan (accountPlan);
// the handlers below carry it out, step by step, and hold CAP END until it is done, so that a
// registered nick is never taken without its account. A wrong password ends the attempt and
// sends the user back to the login form (the nick is then neither held nor renamed).
//
// The password lives in ChatClient.password only until it is used: cleared on 903, on the
// answer to REGISTER, on 904, or once sent to NickServ. Only a server password (PASS, sent when
// the server has no SASL) is kept, as every reconnect needs it again. Pure: no DOM, no socket.

import type { AccountStep, ChatClient } from './chat.js';

// AccountStep (chat.ts): `sasl` → `authenticating` until 903/904; `register`/`registering`
// before CAP END; `registerLater`/`nickServLater` after 001; `none` when done or nothing to do.
export type { AccountStep } from './chat.js';
import type { ServerMessage } from './irc.js';
import { serviceNicks } from './server.js';
import {
  ERR_NICKLOCKED,
  ERR_SASLABORTED,
  ERR_SASLALREADY,
  ERR_SASLFAIL,
  ERR_SASLTOOLONG,
  RPL_LOGGEDIN,
  RPL_LOGGEDOUT,
  RPL_SASLMECHS,
  RPL_SASLSUCCESS,
} from '../../irc/wire/numerics.js';


/** IRCv3 sasl-3.1: one AUTHENTICATE line carries at most this many characters of base64. */
export const saslChunkChars = 400;


/** What the server says about accounts: handled by handleAccount. */
export const accountReplies = new Set([
  'AUTHENTICATE', 'REGISTER', 'FAIL',
  RPL_LOGGEDIN, RPL_LOGGEDOUT, ERR_NICKLOCKED, RPL_SASLSUCCESS, ERR_SASLFAIL, ERR_SASLTOOLONG,
  ERR_SASLABORTED, ERR_SASLALREADY, RPL_SASLMECHS,
]);

/** CAP LS 302's tokens as name → value (`sasl=PLAIN,EXTERNAL` → sasl → `PLAIN,EXTERNAL`; '' for none). */
export function parseCapList(tokens: readonly string[]): Map<string, string> {
  const caps = new Map<string, string>();
  for (const token of tokens) {
    if (!token) continue;
    const eq = token.indexOf('=');
    caps.set(eq === -1 ? token : token.slice(0, eq), eq === -1 ? '' : token.slice(eq + 1));
  }
  return caps;
}

/** `sasl` is offered with PLAIN (or with no list, as before CAP 302: then it is worth a try). */
export function offersPlain(caps: ReadonlyMap<string, string>): boolean {
  const value = caps.get('sasl');
  if (value === undefined) return false;
  return value === '' || value.split(',').some((m) => m.toUpperCase() === 'PLAIN');
}

/** draft/account-registration is offered, and REGISTER works before the connection is complete. */
export function registersBeforeConnect(caps: ReadonlyMap<string, string>): boolean {
  const value = caps.get('draft/account-registration');
  return value !== undefined && value.split(',').includes('before-connect');
}

/** What to do with the password, given what the server offers. */
export interface AccountPlan {
  /** Capabilities to request besides the page's own. */
  request: string[];
  step: AccountStep;
  /** Send the password as the server password (PASS): the server has no SASL. */
  pass: boolean;
}

export function accountPlan(caps: ReadonlyMap<string, string>, password: string, create: boolean): AccountPlan {
  if (!password) return { request: [], step: 'none', pass: false };
  if (create) {
    if (registersBeforeConnect(caps)) return { request: ['draft/account-registration'], step: 'register', pass: false };
    if (caps.has('draft/account-registration')) return { request: ['draft/account-registration'], step: 'registerLater', pass: false };
    return { request: [], step: 'nickServLater', pass: false };
  }
  if (offersPlain(caps)) return { request: ['sasl'], step: 'sasl', pass: false };
  return { request: [], step: 'none', pass: true };
}

/** base64 of UTF-8 text, as the browser and Node both can. */
function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The AUTHENTICATE parameters that carry a PLAIN response (RFC 4616: authzid NUL authcid NUL
 * password): base64 in chunks of 400, and a `+` after a last chunk of exactly 400.
 */
export function plainChunks(account: string, password: string): string[] {
  const encoded = base64(`${account}\0${account}\0${password}`);
  const chunks: string[] = [];
  for (let i = 0; i < encoded.length; i += saslChunkChars) chunks.push(encoded.slice(i, i + saslChunkChars));
  if (encoded.length % saslChunkChars === 0) chunks.push('+');
  return chunks;
}

/** A service (server.ts): its NOTICEs are shown where the user is rather than in a new window. */
export function isService(chat: ChatClient, nick: string): boolean {
  return serviceNicks.includes(chat.fold(nick));
}

/** The last CAP LS line came: the capabilities the account plan needs (PASS sent if that is the plan). */
export function accountCapsWanted(chat: ChatClient, offered: ReadonlyMap<string, string>): string[] {
  const plan = accountPlan(offered, chat.password, chat.createAccount);
  chat.accountStep = plan.step;
  if (plan.pass) chat.send('PASS', [chat.password]);
  return plan.request;
}

/** CAP ACK: true when an account step now holds CAP END (it is sent when the step is done). */
export function accountCapsAcked(chat: ChatClient): boolean {
  if (chat.accountStep === 'sasl' && chat.caps.has('sasl')) {
    chat.accountStep = 'authenticating';
    chat.send('AUTHENTICATE', ['PLAIN']);
    return true;
  }
  if (chat.accountStep === 'register' && chat.caps.has('draft/account-registration')) {
    chat.accountStep = 'registering';
    chat.send('REGISTER', [chat.accountName, '*', chat.password]);
    return true;
  }
  if (chat.accountStep === 'sasl' || chat.accountStep === 'register') accountCapsRefused(chat);
  return false;
}

/** The server would not enable what the plan needed: connect without an account. */
export function accountCapsRefused(chat: ChatClient): void {
  if (chat.accountStep !== 'sasl' && chat.accountStep !== 'register' && chat.accountStep !== 'registerLater') return;
  chat.accountStep = 'none';
  forgetPassword(chat);
  chat.info(chat.here(), 'The server would not enable accounts: connecting without logging in.', 'error');
}

/** 001: an account to create once connected is created now. */
export function accountWelcomed(chat: ChatClient): void {
  const step = chat.accountStep;
  if (step === 'registerLater') chat.send('REGISTER', [chat.accountName, '*', chat.password]);
  if (step === 'nickServLater') {
    chat.send('PRIVMSG', ['NickServ', `REGISTER ${chat.password}`]);
    chat.accountStep = 'none';
    forgetPassword(chat);
  }
  if (step !== 'registerLater' && chat.account === null && chat.knownAccount !== null) {
    const how = `/login <password> logs you in as ${chat.knownAccount} again`;
    chat.info(chat.here(), `Reconnected without logging in (the page does not keep your password): ${how}.`);
  }
}

/** Our nick was taken before we were in: an account is created for the nick asked for, or not at all. */
export function accountNickTaken(chat: ChatClient): boolean {
  if (!chat.createAccount || chat.accountStep === 'none') return false;
  giveUp(chat, `The nick ${chat.accountName} is taken: choose another to create an account with it.`);
  return true;
}

function forgetPassword(chat: ChatClient): void {
  chat.password = '';
  chat.createAccount = false;
}

/** Before registration: back to the login form with this error. After it: an error line. */
function giveUp(chat: ChatClient, why: string): void {
  chat.accountStep = 'none';
  forgetPassword(chat);
  if (chat.registered) {
    chat.info(chat.here(), why, 'error');
    return;
  }
  chat.fatal = why;
  chat.quitting = true;
  chat.hangUp();
}

/** The account step is over: registration goes on. */
function done(chat: ChatClient): void {
  chat.accountStep = 'none';
  forgetPassword(chat);
  if (!chat.registered) chat.send('CAP', ['END']);
}

/** What `FAIL REGISTER <code> <account> :<text>` means to the user. */
export function registerFailure(code: string, account: string, text: string): string {
  switch (code) {
    case 'ACCOUNT_EXISTS':
      return `${account} is already registered: to log in, enter its password without "Create an account"; or choose another nick.`;
    case 'WEAK_PASSWORD':
      return `Choose a stronger password: ${text}`;
    default:
      return `Could not create the account ${account}: ${text}`;
  }
}

export function handleAccount(chat: ChatClient, msg: ServerMessage): void {
  const p = msg.params;
  switch (msg.command) {
    case 'AUTHENTICATE':
      // The server's `+` asks for our response; PLAIN has nothing more to say after it.
      if (p[0] === '+' && chat.accountStep === 'authenticating') {
        for (const chunk of plainChunks(chat.accountName, chat.password)) chat.send('AUTHENTICATE', [chunk]);
      }
      return;
    case RPL_LOGGEDIN: {
      const account = p[2] ?? chat.accountName;
      chat.account = account;
      chat.knownAccount = account;
      chat.view.account(account);
      chat.info(chat.serverWindow(), p[3] || `You are now logged in as ${account}`);
      return;
    }
    case RPL_LOGGEDOUT:
      chat.account = null;
      chat.view.account(null);
      chat.info(chat.serverWindow(), p[2] || 'You are now logged out');
      return;
    case RPL_SASLSUCCESS:
    case ERR_SASLALREADY:
      if (chat.accountStep === 'authenticating') done(chat);
      return;
    case ERR_SASLFAIL: {
      const text = p[1] ?? '';
      const why = /credentials/i.test(text) || !text
        ? `Wrong password for ${chat.accountName} (or no account of that name).`
        : `Could not log in as ${chat.accountName}: ${text}`;
      if (chat.accountStep === 'authenticating') giveUp(chat, why);
      else chat.info(chat.here(), text || 'SASL authentication failed', 'error');
      return;
    }
    case ERR_SASLTOOLONG:
    case ERR_SASLABORTED:
    case ERR_NICKLOCKED:
      if (chat.accountStep === 'authenticating') giveUp(chat, `Could not log in as ${chat.accountName}: ${p[1] || 'SASL failed'}`);
      else chat.info(chat.here(), p[1] || 'SASL failed', 'error');
      return;
    case RPL_SASLMECHS:
      return; // 904 follows, and says it
    case 'REGISTER': {
      // REGISTER SUCCESS <account> :text (900 follows), or VERIFICATION_REQUIRED <account> :text.
      const account = p[1] ?? chat.accountName;
      const ok = (p[0] ?? '').toUpperCase() === 'SUCCESS';
      chat.info(chat.here(), ok ? `Account ${account} created. Next time, enter its password to log in.` : p[2] || `Account ${account}: ${p[0] ?? ''}`);
      if (chat.accountStep === 'registering' || chat.accountStep === 'registerLater') done(chat);
      return;
    }
    case 'FAIL': {
      // FAIL <command> <code> [context...] :<text>
      const [command = '', code = ''] = p;
      const text = p[p.length - 1] ?? '';
      const registering = chat.accountStep === 'registering' || chat.accountStep === 'registerLater';
      if (command.toUpperCase() === 'REGISTER' && registering) {
        giveUp(chat, registerFailure(code, p.length >= 4 ? p[2]! : chat.accountName, text));
        return;
      }
      chat.info(chat.here(), `${command}: ${text}`, 'error');
      return;
    }
  }
}
