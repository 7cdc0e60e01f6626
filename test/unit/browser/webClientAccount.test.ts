// The web client's accounts (src/browser/webClient/account.ts) in Node: what CAP LS offers
// decides the plan; the SASL PLAIN exchange and REGISTER run before CAP END; a wrong password
// or a refused registration sends the user back to the login form; the password is forgotten
// once used; NickServ's notices are shown where the user is.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  accountPlan,
  offersPlain,
  parseCapList,
  plainChunks,
  registerFailure,
  registersBeforeConnect,
} from '../../../src/browser/webClient/account.js';
import { harness, registered } from './webClientHarness.js';

const ls = ':irc CAP * LS :echo-message sasl=PLAIN,EXTERNAL,SCRAM-SHA-256 draft/account-registration=before-connect';

/** A client that submitted the login form and opened its socket: the lines it sent are cleared. */
function connecting(password: string, createAccount = false, nick = 'alice') {
  const h = harness();
  expect(h.chat.login({ nick, channels: '#room', password, createAccount })).toBeNull();
  h.chat.socketOpening();
  h.chat.socketOpened();
  h.sent.length = 0;
  return h;
}

describe('what CAP LS 302 offers', () => {
  it('reads capabilities with their values', () => {
    const caps = parseCapList(['echo-message', 'sasl=PLAIN,EXTERNAL,SCRAM-SHA-256', '', 'draft/account-registration=before-connect,email-required']);
    expect([...caps]).toEqual([
      ['echo-message', ''],
      ['sasl', 'PLAIN,EXTERNAL,SCRAM-SHA-256'],
      ['draft/account-registration', 'before-connect,email-required'],
    ]);
    expect(offersPlain(caps)).toBe(true);
    expect(registersBeforeConnect(caps)).toBe(true);
    expect(offersPlain(parseCapList(['sasl=EXTERNAL,SCRAM-SHA-256']))).toBe(false);
    expect(offersPlain(parseCapList(['sasl']))).toBe(true); // no list (before 302): worth a try
    expect(offersPlain(parseCapList(['echo-message']))).toBe(false);
    expect(registersBeforeConnect(parseCapList(['draft/account-registration']))).toBe(false);
  });

  it('plans: SASL to log in, REGISTER to create (before connecting if it can), NickServ without it, PASS without SASL', () => {
    const all = parseCapList(['sasl=PLAIN', 'draft/account-registration=before-connect']);
    expect(accountPlan(all, '', false)).toEqual({ request: [], step: 'none', pass: false });
    expect(accountPlan(all, 'pw', false)).toEqual({ request: ['sasl'], step: 'sasl', pass: false });
    expect(accountPlan(all, 'pw', true)).toEqual({ request: ['draft/account-registration'], step: 'register', pass: false });
    const later = parseCapList(['sasl=PLAIN', 'draft/account-registration']);
    expect(accountPlan(later, 'pw', true)).toEqual({ request: ['draft/account-registration'], step: 'registerLater', pass: false });
    expect(accountPlan(parseCapList(['sasl=PLAIN']), 'pw', true)).toEqual({ request: [], step: 'nickServLater', pass: false });
    expect(accountPlan(parseCapList(['server-time']), 'pw', false)).toEqual({ request: [], step: 'none', pass: true });
  });
});

describe('the SASL PLAIN response', () => {
  it('is base64 of account NUL account NUL password, in UTF-8', () => {
    const [chunk, ...more] = plainChunks('alice', 'pässwörd');
    expect(more).toEqual([]);
    expect(Buffer.from(chunk!, 'base64').toString('utf8')).toBe('alice\0alice\0pässwörd');
  });

  it('goes in chunks of 400 characters, with a + after a last chunk of exactly 400', () => {
    const long = plainChunks('alice', 'x'.repeat(500));
    expect(long.map((c) => c.length)).toEqual([400, 284]);
    expect(Buffer.from(long.join(''), 'base64').toString()).toBe(`alice\0alice\0${'x'.repeat(500)}`);
    // 300 bytes encode to exactly 400 characters: the empty chunk after it says it is the end.
    const exact = plainChunks('ab', 'x'.repeat(300 - 6));
    expect(exact.map((c) => c.length)).toEqual([400, 1]);
    expect(exact[1]).toBe('+');
  });
});

describe('logging in while connecting', () => {
  it('requests sasl, sends AUTHENTICATE PLAIN then the response, and ends CAP on 903; the account is shown', () => {
    const { chat, hear, record, texts } = connecting('correct horse');
    expect(hear(ls)).toEqual(['CAP REQ :echo-message sasl']);
    expect(hear(':irc CAP alice ACK :echo-message sasl')).toEqual(['AUTHENTICATE PLAIN']);
    const response = hear('AUTHENTICATE +');
    expect(response).toHaveLength(1);
    expect(Buffer.from(response[0]!.replace('AUTHENTICATE ', ''), 'base64').toString()).toBe('alice\0alice\0correct horse');
    expect(hear(':irc 900 alice alice!~alice@127.0.0.1 alice :You are now logged in as alice')).toEqual([]);
    expect(record.account).toBe('alice');
    expect(texts(':server')).toContain('You are now logged in as alice');
    expect(hear(':irc 903 alice :SASL authentication successful')).toEqual(['CAP END']);
    expect(chat.password).toBe('');
    expect(hear(':irc 001 alice :Welcome')).toEqual(['JOIN #room']);
  });

  it('on 904 says the password is wrong, hangs up before the nick is taken, and goes back to the login form', () => {
    const { chat, hear, record } = connecting('wrong one');
    hear(ls, ':irc CAP alice ACK :echo-message sasl', 'AUTHENTICATE +');
    expect(hear(':irc 904 alice :SASL authentication failed: Invalid account credentials')).toEqual([]);
    expect(record.hangUps).toBe(1);
    expect(chat.password).toBe('');
    expect(chat.socketClosed(1000)).toBeNull();
    expect(record.loginError).toBe('Wrong password for alice (or no account of that name).');
    expect(record.account).toBeNull();
  });

  it('says what else went wrong: too many attempts', () => {
    const { chat, hear, record } = connecting('again');
    hear(ls, ':irc CAP alice ACK :echo-message sasl', 'AUTHENTICATE +');
    hear(':irc 904 alice :Too many failed logins: wait a minute and try again');
    chat.socketClosed(1000);
    expect(record.loginError).toBe('Could not log in as alice: Too many failed logins: wait a minute and try again');
  });

  it('logs in to the nick it typed even when that nick was taken and another was tried', () => {
    const { hear } = connecting('pw12345678', false, 'bob');
    expect(hear(ls, ':irc 433 * bob :Nickname is already in use')).toEqual(['CAP REQ :echo-message sasl', 'NICK bob_']);
    hear(':irc CAP bob_ ACK :echo-message sasl');
    expect(Buffer.from(hear('AUTHENTICATE +')[0]!.slice(13), 'base64').toString()).toBe('bob\0bob\0pw12345678');
  });

  it('connects without logging in when the server refuses the capability, and forgets the password', () => {
    const { chat, hear, texts } = connecting('pw');
    hear(ls);
    expect(hear(':irc CAP alice NAK :echo-message sasl')).toEqual(['CAP END']);
    expect(chat.password).toBe('');
    expect(texts('#room').at(-1)).toMatch(/would not enable accounts/);
  });

  it('is not logged in after a reconnect, and says how to log in again', () => {
    const { chat, hear, record, texts, sent } = connecting('correct horse');
    hear(ls, ':irc CAP alice ACK :echo-message sasl', 'AUTHENTICATE +', ':irc 900 alice a!b@c alice :in', ':irc 903 alice :ok', ':irc 001 alice :Hi');
    chat.socketClosed(1006);
    chat.socketOpening();
    expect(record.account).toBeNull();
    chat.socketOpened();
    expect(hear(ls)).toEqual(['CAP REQ echo-message']);
    hear(':irc CAP alice ACK echo-message', ':irc 001 alice :Hi');
    expect(texts('#room').at(-1)).toMatch(/^Reconnected without logging in .*\/login <password> logs you in as alice again\.$/);
    sent.length = 0;
    chat.input('/login s3cret');
    expect(sent).toEqual(['PRIVMSG NickServ :IDENTIFY alice s3cret']);
    expect(hear(':irc 900 alice a!b@c alice :You are now logged in as alice')).toEqual([]);
    expect(record.account).toBe('alice');
  });
});

describe('creating an account', () => {
  it('needs a password', () => {
    const { chat } = harness();
    expect(chat.login({ nick: 'alice', channels: '', password: '', createAccount: true })).toMatch(/password/);
  });

  it('sends REGISTER before CAP END when the server takes it then, and shows the success and the account', () => {
    const { chat, hear, record, texts } = connecting('correct horse', true);
    expect(hear(ls)).toEqual(['CAP REQ :echo-message draft/account-registration']);
    expect(hear(':irc CAP alice ACK :echo-message draft/account-registration')).toEqual(['REGISTER alice * :correct horse']);
    expect(hear(':irc REGISTER SUCCESS alice :Account registered')).toEqual(['CAP END']);
    expect(texts('#room')).toContain('Account alice created. Next time, enter its password to log in.');
    hear(':irc 900 alice alice!~alice@h alice :You are now logged in as alice');
    expect(record.account).toBe('alice');
    expect(chat.password).toBe('');
    expect(chat.createAccount).toBe(false);
  });

  it.each([
    ['ACCOUNT_EXISTS', 'That account already exists', 'alice is already registered: to log in, enter its password without "Create an account"; or choose another nick.'],
    ['WEAK_PASSWORD', 'A password has at least 8 characters', 'Choose a stronger password: A password has at least 8 characters'],
    ['TEMPORARILY_UNAVAILABLE', 'Accounts are unavailable right now', 'Could not create the account alice: Accounts are unavailable right now'],
  ])('on FAIL REGISTER %s goes back to the login form saying why', (code, text, shown) => {
    const { chat, hear, record } = connecting('short', true);
    hear(ls, ':irc CAP alice ACK :echo-message draft/account-registration');
    expect(hear(`:irc FAIL REGISTER ${code} alice :${text}`)).toEqual([]);
    expect(record.hangUps).toBe(1);
    expect(chat.password).toBe('');
    chat.socketClosed(1000);
    expect(record.loginError).toBe(shown);
    expect(registerFailure(code, 'alice', text)).toBe(shown);
  });

  it('after connecting when the server registers only then; a failure is a line, not the login form', () => {
    const { chat, hear, record, texts } = connecting('correct horse', true);
    expect(hear(':irc CAP * LS :draft/account-registration sasl=PLAIN')).toEqual(['CAP REQ draft/account-registration']);
    expect(hear(':irc CAP alice ACK draft/account-registration')).toEqual(['CAP END']);
    expect(hear(':irc 001 alice :Hi')).toEqual(['REGISTER alice * :correct horse', 'JOIN #room']);
    hear(':irc FAIL REGISTER ACCOUNT_EXISTS alice :That account already exists');
    expect(record.hangUps).toBe(0);
    expect(texts('#room').at(-1)).toMatch(/^alice is already registered/);
    expect(chat.password).toBe('');
  });

  it('with NickServ when the server has no account registration', () => {
    const { chat, hear } = connecting('correct horse', true);
    expect(hear(':irc CAP * LS :echo-message')).toEqual(['CAP REQ echo-message']);
    hear(':irc CAP alice ACK echo-message');
    expect(hear(':irc 001 alice :Hi')).toEqual(['PRIVMSG NickServ :REGISTER correct horse', 'JOIN #room']);
    expect(chat.password).toBe('');
  });

  it('gives up when the nick is taken: the account would be another nick', () => {
    const { chat, hear, record } = connecting('correct horse', true);
    hear(ls);
    expect(hear(':irc 433 * alice :Nickname is already in use')).toEqual([]);
    expect(record.hangUps).toBe(1);
    chat.socketClosed(1000);
    expect(record.loginError).toBe('The nick alice is taken: choose another to create an account with it.');
  });
});

describe('services and other replies', () => {
  it('shows NickServ notices where the user is, or in the NickServ window when it is open', () => {
    const { chat, hear, lines, record } = registered();
    hear(':alice!~alice@h JOIN #room');
    hear(':NickServ!NickServ@services NOTICE alice :This nickname is registered. Log in within 30 seconds');
    expect(lines().at(-1)).toEqual({ window: '#room', kind: 'notice', from: 'NickServ', text: 'This nickname is registered. Log in within 30 seconds', mine: false });
    expect(record.windows).not.toContain('nickserv');
    chat.input('/msg NickServ INFO');
    hear(':NickServ!NickServ@services NOTICE alice :Account alice, registered today.');
    expect(lines().at(-1)).toMatchObject({ window: 'nickserv', from: 'NickServ' });
    // Someone else's notice still opens a window of its own.
    hear(':bob!~bob@h NOTICE alice :psst');
    expect(lines().at(-1)).toMatchObject({ window: 'bob', kind: 'notice' });
  });

  it('forgets the account on 901, and shows other FAILs as errors', () => {
    const { hear, record, lines } = registered();
    hear(':irc 900 alice alice!~alice@h alice :You are now logged in as alice');
    expect(record.account).toBe('alice');
    hear(':irc 901 alice alice!~alice@h :You are now logged out');
    expect(record.account).toBeNull();
    hear(':irc FAIL CHATHISTORY INVALID_TARGET #x :No such channel');
    expect(lines().at(-1)).toMatchObject({ kind: 'error', text: 'CHATHISTORY: No such channel' });
  });
});
