import { describe, expect, it } from 'vitest';
import { enforceNick } from '../../../src/irc/commands/accounts.js';
import { harness, unavailableStore, type Harness } from './harness.js';

// The store is shared by every test of this file: each test uses account names of its own.

const PW = 'correct-horse-battery';
const ns = (nick: string): string => `:NickServ!NickServ@services NOTICE ${nick}`;
const unownedNotice = (nick: string): string =>
  `${ns(nick)} :This nickname is registered. Log in within 30 seconds (/msg NickServ IDENTIFY <password>, or SASL) or you will be renamed.`;

/** The NickServ notices a client got, as their text. */
function notices(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith(':NickServ!')).map((l) => l.slice(l.indexOf(' :') + 2));
}

/** Registers `name` as an account (NickServ REGISTER from a client of that nick), then lets the nick go. */
async function account(h: Harness, name: string, password = PW, email?: string): Promise<void> {
  const c = await h.register(name);
  const r = await h.run(c, `PRIVMSG NickServ :REGISTER ${password}${email ? ` ${email}` : ''}`);
  if (c.account !== name) throw new Error(`could not register ${name}: ${r.lines.join(' | ')}`);
  await h.depart(c, 'done');
}

describe('NickServ REGISTER', () => {
  it('registers the current nick, logs in and answers 900 with nick!user@host', async () => {
    const h = harness();
    const c = await h.register('nsReg');
    const r = await h.run(c, `PRIVMSG NickServ :REGISTER ${PW} nsreg@example.org`);
    expect(r.lines).toEqual([
      `nsReg <- ${ns('nsReg')} :Account nsReg registered. You are now logged in; log in next time with SASL or /msg NickServ IDENTIFY <password>.`,
      'nsReg <- :irc.test 900 nsReg nsReg!~nsReg@10.0.0.1 nsReg :You are now logged in as nsReg',
    ]);
    expect(r.effects).toEqual([{ type: 'irc.nickOwned' }]);
    expect(c.account).toBe('nsReg');
    expect(h.state.user('nsReg')?.account).toBe('nsReg');
    expect(await h.ctx.store.account('nsreg')).toMatchObject({ name: 'nsReg', email: 'nsreg@example.org' });
  });

  it('refuses a nick that is already an account', async () => {
    const h = harness();
    await account(h, 'nsTaken');
    const c = await h.register('nsTaken');
    const r = await h.run(c, `PRIVMSG NickServ :REGISTER ${PW}`);
    expect(r.lines).toEqual([`nsTaken <- ${ns('nsTaken')} :nsTaken is already registered.`]);
    expect(c.account).toBeNull();
  });

  it('refuses a weak password without creating the account', async () => {
    const h = harness();
    const c = await h.register('nsWeak');
    const r = await h.run(c, 'PRIVMSG NickServ :REGISTER short');
    expect(r.lines).toEqual([`nsWeak <- ${ns('nsWeak')} :The password must be at least 8 characters long.`]);
    expect(await h.ctx.store.account('nsweak')).toBeNull();
  });

  it('refuses a client already logged in, and asks for a password', async () => {
    const h = harness();
    const c = await h.register('nsTwice');
    await h.run(c, `PRIVMSG NickServ :REGISTER ${PW}`);
    expect(notices((await h.run(c, `PRIVMSG NickServ :REGISTER ${PW}`)).to(c))).toEqual(['You are already logged in as nsTwice.']);
    expect(notices((await h.run(c, 'PRIVMSG NickServ :REGISTER')).to(c))).toEqual(['Syntax: REGISTER <password> [email]']);
  });

  it('answers NS and NICKSERV as it answers /msg NickServ, whatever the case of the name', async () => {
    const h = harness();
    const c = await h.register('nsAlias');
    const r = await h.run(c, `NS register ${PW}`);
    expect(r.commands(c)).toEqual(['NOTICE', '900']);
    expect(c.account).toBe('nsAlias');
    expect((await h.run(c, 'NICKSERV LOGOUT')).commands(c)).toEqual(['901', 'NOTICE']);
    expect((await h.run(c, `PRIVMSG nickserv :IDENTIFY ${PW}`)).commands(c)).toEqual(['NOTICE', '900']);
  });
});

describe('NickServ IDENTIFY', () => {
  it('logs in to the account of the current nick', async () => {
    const h = harness();
    await account(h, 'nsIdent');
    const c = await h.register('nsIdent');
    const r = await h.run(c, `PRIVMSG NickServ :IDENTIFY ${PW}`);
    expect(r.to(c)).toEqual([
      `${ns('nsIdent')} :You are now logged in as nsIdent.`,
      ':irc.test 900 nsIdent nsIdent!~nsIdent@10.0.0.2 nsIdent :You are now logged in as nsIdent',
    ]);
    expect(r.effects).toEqual([{ type: 'irc.nickOwned' }]);
    expect(h.state.user('nsIdent')?.account).toBe('nsIdent');
  });

  it('logs in to a named account, in its own spelling, from another nick', async () => {
    const h = harness();
    await account(h, 'nsNamed');
    const c = await h.register('nsElse');
    const r = await h.run(c, `NS IDENTIFY NSNAMED ${PW}`);
    expect(r.to(c)).toEqual([
      `${ns('nsElse')} :You are now logged in as nsNamed.`,
      ':irc.test 900 nsElse nsElse!~nsElse@10.0.0.2 nsNamed :You are now logged in as nsNamed',
    ]);
    // The nick is no account's: nothing changes for the machine.
    expect(r.effects).toEqual([]);
    expect(c.account).toBe('nsNamed');
  });

  it('gives a wrong password and an unknown account the same answer', async () => {
    const h = harness();
    await account(h, 'nsWrong');
    const c = await h.register('nsWrong');
    const wrong = await h.run(c, 'NS IDENTIFY not-the-password');
    const unknown = await h.run(c, `NS IDENTIFY nsNoSuchAccount ${PW}`);
    expect(wrong.lines).toEqual([`nsWrong <- ${ns('nsWrong')} :Invalid account name or password.`]);
    expect(unknown.lines).toEqual(wrong.lines);
    expect(c.account).toBeNull();
  });

  it('says so to a client already logged in to that account', async () => {
    const h = harness();
    await account(h, 'nsAgain');
    const c = await h.register('nsAgain');
    await h.run(c, `NS IDENTIFY ${PW}`);
    const r = await h.run(c, `NS IDENTIFY ${PW}`);
    expect(r.lines).toEqual([`nsAgain <- ${ns('nsAgain')} :You are already logged in as nsAgain.`]);
  });

  it('refuses every attempt on an account after loginFailuresPerWindow failures, from any address', async () => {
    const h = harness({ loginFailuresPerWindow: 2 });
    await account(h, 'nsThrot');
    const c = await h.register('nsThrotX', { ip: '192.0.2.1' });
    for (let i = 0; i < 2; i++) expect(notices((await h.run(c, 'NS IDENTIFY nsThrot wrong-password')).to(c))).toEqual(['Invalid account name or password.']);
    const throttled = ['Too many failed logins for this account or from your address: try again later.'];
    expect(notices((await h.run(c, `NS IDENTIFY nsThrot ${PW}`)).to(c))).toEqual(throttled);
    const other = await h.register('nsThrotY', { ip: '192.0.2.2' });
    expect(notices((await h.run(other, `NS IDENTIFY nsThrot ${PW}`)).to(other))).toEqual(throttled);
    expect(other.account).toBeNull();
    // Once the window has passed the right password works again.
    h.clock.now += h.config.loginWindowMs;
    expect((await h.run(other, `NS IDENTIFY nsThrot ${PW}`)).commands(other)).toEqual(['NOTICE', '900']);
  });

  it('refuses every attempt from an address after loginFailuresPerWindow failures, on any account', async () => {
    const h = harness({ loginFailuresPerWindow: 2 });
    await account(h, 'nsThrIp');
    const c = await h.register('nsGuesser', { ip: '192.0.2.9' });
    await h.run(c, `NS IDENTIFY nsGuessA ${PW}`);
    await h.run(c, `NS IDENTIFY nsGuessB ${PW}`);
    expect(notices((await h.run(c, `NS IDENTIFY nsThrIp ${PW}`)).to(c))).toEqual(['Too many failed logins for this account or from your address: try again later.']);
    expect(c.account).toBeNull();
    // The account itself is not throttled: from another address it logs in.
    const owner = await h.register('nsThrIp', { ip: '192.0.2.10' });
    expect((await h.run(owner, `NS IDENTIFY ${PW}`)).commands(owner)).toEqual(['NOTICE', '900']);
  });
});

describe('NickServ LOGOUT, INFO, SET PASSWORD', () => {
  it('LOGOUT answers 901 and, on the account nick, starts the grace again', async () => {
    const h = harness();
    const c = await h.register('nsOut');
    await h.run(c, `NS REGISTER ${PW}`);
    const r = await h.run(c, 'PRIVMSG NickServ :LOGOUT');
    expect(r.to(c)).toEqual([':irc.test 901 nsOut nsOut!~nsOut@10.0.0.1 :You are now logged out', unownedNotice('nsOut')]);
    expect(r.effects).toEqual([{ type: 'irc.nickUnowned' }]);
    expect(c.account).toBeNull();
    expect(h.state.user('nsOut')?.account).toBeNull();
    expect(notices((await h.run(c, 'NS LOGOUT')).to(c))).toEqual(['You are not logged in.']);
  });

  it('INFO shows the owner its email, certificates and channels, and others only the date', async () => {
    const h = harness();
    const c = await h.register('nsInfo');
    await h.run(c, `NS REGISTER ${PW} nsinfo@example.org`);
    await h.ctx.store.registerChannel('#nsinfo', 'nsinfo', {
      name: '#nsInfo',
      registeredAt: h.clock.now,
      topic: null,
      topicSetBy: null,
      topicSetAt: null,
      modes: 'nt',
      key: null,
      limit: null,
    });
    expect(notices((await h.run(c, 'NS INFO')).to(c))).toEqual([
      'Account nsInfo, registered Tue, 14 Nov 2023 22:13:20 GMT.',
      'Channels registered: #nsInfo',
      'Email: nsinfo@example.org',
      'TLS certificates: (none)',
    ]);
    const other = await h.register('nsNosy');
    expect(notices((await h.run(other, 'NS INFO NSINFO')).to(other))).toEqual([
      'Account nsInfo, registered Tue, 14 Nov 2023 22:13:20 GMT.',
      'Channels registered: #nsInfo',
    ]);
    expect(notices((await h.run(other, 'NS INFO')).to(other))).toEqual(['nsNosy is not registered.']);
  });

  it('SET PASSWORD changes the password IDENTIFY checks', async () => {
    const h = harness();
    const c = await h.register('nsSetPw');
    expect(notices((await h.run(c, 'NS SET PASSWORD another-password')).to(c))).toEqual(['You are not logged in.']);
    await h.run(c, `NS REGISTER ${PW}`);
    expect(notices((await h.run(c, 'NS SET PASSWORD short')).to(c))).toEqual(['The password must be at least 8 characters long.']);
    expect(notices((await h.run(c, 'NS SET EMAIL x')).to(c))).toEqual(['Syntax: SET PASSWORD <new password> | SET ALWAYSON ON|OFF | SET AUTOREPLAY-MISSED ON|OFF']);
    expect(notices((await h.run(c, 'NS SET PASSWORD another-password')).to(c))).toEqual(['Password changed.']);
    await h.run(c, 'NS LOGOUT');
    expect(notices((await h.run(c, `NS IDENTIFY ${PW}`)).to(c))).toEqual(['Invalid account name or password.']);
    expect(notices((await h.run(c, 'NS IDENTIFY another-password')).to(c))).toEqual(['You are now logged in as nsSetPw.']);
    expect(c.account).toBe('nsSetPw');
  });
});

describe('NickServ DROP and GHOST', () => {
  it('DROP refuses a wrong password and keeps the account', async () => {
    const h = harness();
    const c = await h.register('nsKeep');
    expect(notices((await h.run(c, `NS DROP ${PW}`)).to(c))).toEqual(['You are not logged in.']);
    await h.run(c, `NS REGISTER ${PW}`);
    const r = await h.run(c, 'NS DROP wrong-password');
    expect(r.lines).toEqual([`nsKeep <- ${ns('nsKeep')} :Wrong password: the account was not dropped.`]);
    expect(c.account).toBe('nsKeep');
    expect(await h.ctx.store.account('nskeep')).not.toBeNull();
  });

  it('DROP with the password deletes the account and logs out, leaving the nick free', async () => {
    const h = harness();
    const c = await h.register('nsDrop');
    await h.run(c, `NS REGISTER ${PW}`);
    const r = await h.run(c, `NS DROP ${PW}`);
    expect(r.to(c)).toEqual([`${ns('nsDrop')} :Account nsDrop dropped.`, ':irc.test 901 nsDrop nsDrop!~nsDrop@10.0.0.1 :You are now logged out']);
    // No notice, no grace: the nick is nobody's account any more.
    expect(r.effects).toEqual([{ type: 'irc.nickOwned' }]);
    expect(c.account).toBeNull();
    expect(await h.ctx.store.account('nsdrop')).toBeNull();
    expect(notices((await h.run(c, 'NS INFO nsDrop')).to(c))).toEqual(['nsDrop is not registered.']);
  });

  it('GHOST disconnects whoever holds the nick of the account one is logged in to', async () => {
    const h = harness();
    const ghost = await h.register('nsGhost');
    await h.run(ghost, `NS REGISTER ${PW}`);
    await h.run(ghost, 'NS LOGOUT');
    const owner = await h.register('nsOwner');
    await h.run(owner, `NS IDENTIFY nsGhost ${PW}`);
    const r = await h.run(owner, 'NS GHOST NSGHOST');
    expect(r.outcome.kills).toEqual([{ clientId: ghost.id, reason: 'Killed (NickServ (GHOST command used by nsOwner))' }]);
    expect(r.lines).toEqual([`nsOwner <- ${ns('nsOwner')} :nsGhost has been disconnected.`]);
  });

  it('GHOST refuses a client not logged in to that account, and one ghosting itself', async () => {
    const h = harness();
    const holder = await h.register('nsHeld');
    await h.run(holder, `NS REGISTER ${PW}`);
    const stranger = await h.register('nsStranger');
    const r = await h.run(stranger, 'NS GHOST nsHeld');
    expect(r.lines).toEqual([`nsStranger <- ${ns('nsStranger')} :You must be logged in to nsHeld to ghost it.`]);
    expect(r.outcome.kills).toBeUndefined();
    const self = await h.run(holder, 'NS GHOST nsHeld');
    expect(notices(self.to(holder))).toEqual(['nsHeld is not online.']);
    expect(self.outcome.kills).toBeUndefined();
  });
});

describe('NickServ CERT', () => {
  const fp = 'ab'.repeat(32);

  it('adds, lists and removes a fingerprint given in any case, with or without colons', async () => {
    const h = harness();
    const c = await h.register('nsCert');
    expect(notices((await h.run(c, `NS CERT ADD ${fp}`)).to(c))).toEqual(['You are not logged in.']);
    await h.run(c, `NS REGISTER ${PW}`);
    const spelled = fp.toUpperCase().match(/../g)!.join(':');
    expect(notices((await h.run(c, `NS CERT ADD ${spelled}`)).to(c))).toEqual([`Certificate ${fp} added: SASL EXTERNAL logs you in with it.`]);
    expect(notices((await h.run(c, `NS CERT ADD ${fp}`)).to(c))).toEqual(['That certificate is already on your account.']);
    expect(notices((await h.run(c, 'NS CERT LIST')).to(c))).toEqual([`TLS certificates: ${fp}`]);
    expect(await h.ctx.store.accountByCertificate(fp)).toBe('nsCert');
    expect(notices((await h.run(c, `NS CERT DEL ${fp}`)).to(c))).toEqual(['Certificate removed.']);
    expect(notices((await h.run(c, `NS CERT DEL ${fp}`)).to(c))).toEqual(['That certificate is not on your account.']);
    expect(notices((await h.run(c, 'NS CERT LIST')).to(c))).toEqual(['TLS certificates: (none)']);
  });

  it('adds the certificate the client connected with, and refuses one of another account', async () => {
    const h = harness();
    const own = 'cd'.repeat(32);
    const c = await h.register('nsOwnCert', { certfp: own });
    await h.run(c, `NS REGISTER ${PW}`);
    expect(notices((await h.run(c, 'NS CERT ADD')).to(c))).toEqual([`Certificate ${own} added: SASL EXTERNAL logs you in with it.`]);
    const other = await h.register('nsOtherCert');
    await h.run(other, `NS REGISTER ${PW}`);
    expect(notices((await h.run(other, `NS CERT ADD ${own}`)).to(other))).toEqual(['That certificate belongs to another account.']);
    expect(notices((await h.run(other, 'NS CERT ADD')).to(other))).toEqual(['Connect with a TLS client certificate, or give its SHA-256 fingerprint.']);
    expect(notices((await h.run(other, 'NS CERT ADD abcd')).to(other))).toEqual(['A fingerprint is the SHA-256 of the certificate: 64 hex digits.']);
    expect(notices((await h.run(other, 'NS CERT')).to(other))).toEqual(['Syntax: CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST']);
  });
});

describe('NickServ HELP and the rest', () => {
  it('HELP, or nothing at all, lists the commands', async () => {
    const h = harness();
    const c = await h.register('nsHelp');
    const help = notices((await h.run(c, 'PRIVMSG NickServ :HELP')).to(c));
    expect(help).toHaveLength(11);
    expect(help[0]).toBe('NickServ keeps accounts: an account is a nick with a password, and logging in proves you own it.');
    expect(help.map((l) => l.split(' ')[0])).toEqual(['NickServ', 'REGISTER', 'IDENTIFY', 'LOGOUT', 'INFO', 'SET', 'SET', 'SET', 'DROP', 'GHOST', 'CERT']);
    expect(notices((await h.run(c, 'NS')).to(c))).toEqual(help);
  });

  it('answers an unknown command with a pointer to HELP', async () => {
    const h = harness();
    const c = await h.register('nsUnk');
    expect((await h.run(c, 'PRIVMSG NickServ :frobnicate now')).lines).toEqual([`nsUnk <- ${ns('nsUnk')} :Unknown command frobnicate. /msg NickServ HELP lists them.`]);
  });

  it('ignores a NOTICE to NickServ', async () => {
    const h = harness();
    const c = await h.register('nsQuiet');
    const r = await h.run(c, `NOTICE NickServ :REGISTER ${PW}`);
    expect(r.outcome).toEqual({ sends: [], effects: [] });
    expect(await h.ctx.store.account('nsquiet')).toBeNull();
  });

  it('refuses the nick NickServ in any case with 432', async () => {
    const h = harness();
    const c = await h.register('nsNick');
    expect((await h.run(c, 'NICK NickServ')).lines).toEqual(['nsNick <- :irc.test 432 nsNick NickServ :Nickname is reserved for a service']);
    expect((await h.run(h.connect(), 'NICK nickserv')).lines).toEqual(['#2 <- :irc.test 432 * nickserv :Nickname is reserved for a service']);
    expect(c.nick).toBe('nsNick');
  });
});

describe('account-notify', () => {
  it('tells channel members with the capability who logs in and out, and nobody else', async () => {
    const h = harness();
    await account(h, 'nsAnAcct');
    const watcher = await h.register('nsAnW', { caps: ['account-notify'] });
    const plain = await h.register('nsAnP');
    const outside = await h.register('nsAnO', { caps: ['account-notify'] });
    const c = await h.register('nsAnC');
    for (const m of [watcher, plain, c]) await h.run(m, 'JOIN #nsan');
    const login = await h.run(c, `NS IDENTIFY nsAnAcct ${PW}`);
    expect(login.to(watcher)).toEqual([':nsAnC!~nsAnC@10.0.0.5 ACCOUNT nsAnAcct']);
    expect(login.to(plain)).toEqual([]);
    expect(login.to(outside)).toEqual([]);
    expect(login.commands(c)).toEqual(['NOTICE', '900']);
    const logout = await h.run(c, 'NS LOGOUT');
    expect(logout.to(watcher)).toEqual([':nsAnC!~nsAnC@10.0.0.5 ACCOUNT *']);
    expect(logout.to(plain)).toEqual([]);
    expect(logout.to(outside)).toEqual([]);
  });

  it('tells extended-monitor watchers with the capability, without a shared channel, each once', async () => {
    const h = harness();
    await account(h, 'nsAnMon');
    const w = await h.register('nsAnMw', { caps: ['extended-monitor', 'account-notify'] });
    const inChannel = await h.register('nsAnMi', { caps: ['extended-monitor', 'account-notify'] });
    const noExt = await h.register('nsAnMn', { caps: ['account-notify'] });
    const c = await h.register('nsAnMc');
    await h.run(inChannel, 'JOIN #m');
    await h.run(c, 'JOIN #m');
    for (const m of [w, inChannel, noExt]) await h.run(m, 'MONITOR + nsAnMc');
    const login = await h.run(c, `NS IDENTIFY nsAnMon ${PW}`);
    expect(login.to(w)).toEqual([':nsAnMc!~nsAnMc@10.0.0.5 ACCOUNT nsAnMon']);
    expect(login.to(inChannel)).toEqual([':nsAnMc!~nsAnMc@10.0.0.5 ACCOUNT nsAnMon']);
    expect(login.to(noExt)).toEqual([]);
  });

  it('tells the client itself when it has the capability', async () => {
    const h = harness();
    const c = await h.register('nsAnSelf', { caps: ['account-notify'] });
    const r = await h.run(c, `NS REGISTER ${PW}`);
    expect(r.to(c)[1]).toBe(':nsAnSelf!~nsAnSelf@10.0.0.1 ACCOUNT nsAnSelf');
  });
});

describe('nick ownership', () => {
  it('the welcome tells a client holding a registered nick to log in, and starts the grace', async () => {
    const h = harness();
    await account(h, 'nsWel');
    const c = h.connect();
    await h.run(c, 'NICK nsWel');
    await h.run(c, 'USER u 0 * :r');
    const r = await h.welcome(c);
    expect(r.to(c).at(-1)).toBe(unownedNotice('nsWel'));
    expect(r.effects).toEqual([{ type: 'irc.nickUnowned' }]);
  });

  it('NICK to a registered nick gives the notice and starts the grace; to a free one it ends it', async () => {
    const h = harness();
    await account(h, 'nsTarget');
    const c = await h.register('nsMover');
    const r = await h.run(c, 'NICK nsTarget');
    expect(r.to(c)).toEqual([':nsMover!~nsMover@10.0.0.2 NICK nsTarget', unownedNotice('nsTarget')]);
    expect(r.effects).toEqual([{ type: 'irc.nickUnowned' }, { type: 'irc.nickSet' }]);
    expect((await h.run(c, 'NICK nsMover')).effects).toEqual([{ type: 'irc.nickOwned' }, { type: 'irc.nickSet' }]);
  });

  it('NICK to the account one is logged in to is owned, without a notice', async () => {
    const h = harness();
    await account(h, 'nsMine');
    const c = await h.register('nsMineX');
    await h.run(c, `NS IDENTIFY nsMine ${PW}`);
    const r = await h.run(c, 'NICK nsMine');
    expect(r.to(c)).toEqual([':nsMineX!~nsMineX@10.0.0.2 NICK nsMine']);
    expect(r.effects).toEqual([{ type: 'irc.nickOwned' }, { type: 'irc.nickSet' }]);
  });

  it('enforceNick renames the holder to a guest, seen by everyone sharing a channel', async () => {
    const h = harness();
    await account(h, 'nsEnf');
    const c = await h.register('nsEnf');
    const friend = await h.register('nsEnfF');
    const stranger = await h.register('nsEnfS');
    await h.run(c, 'JOIN #nsenf');
    await h.run(friend, 'JOIN #nsenf');
    // A stranger monitoring the nick hears it went offline (the guest nick it does not watch).
    await h.run(stranger, 'MONITOR + nsEnf');
    const r = h.resolve(c, await enforceNick(h.ctx, c));
    const guest = c.nick!;
    expect(guest).toMatch(/^Guest\d{5}$/);
    expect(r.to(c)).toEqual([`:nsEnf!~nsEnf@10.0.0.2 NICK ${guest}`, `${ns(guest)} :You did not log in to nsEnf: you are now ${guest}.`]);
    expect(r.to(friend)).toEqual([`:nsEnf!~nsEnf@10.0.0.2 NICK ${guest}`]);
    expect(r.to(stranger)).toEqual([`:irc.test 731 * nsEnf`]);
    expect(h.state.user('nsEnf')).toBeNull();
    expect(h.state.user(guest)?.clientId).toBe(c.id);
  });

  it('enforceNick does nothing once the client has logged in, or for a nick nobody registered', async () => {
    const h = harness();
    await account(h, 'nsLate');
    const c = await h.register('nsLate');
    await h.run(c, `NS IDENTIFY ${PW}`);
    expect(await enforceNick(h.ctx, c)).toEqual({ sends: [], effects: [] });
    expect(c.nick).toBe('nsLate');
    const free = await h.register('nsFreeNick');
    expect(await enforceNick(h.ctx, free)).toEqual({ sends: [], effects: [] });
    expect(free.nick).toBe('nsFreeNick');
  });
});

describe('store outage', () => {
  const unavailable = 'Accounts are unavailable right now (the store cannot be reached): nothing was changed, try again shortly.';

  it('NickServ says accounts are unavailable, and nothing changes', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = await h.register('nsDown');
    for (const command of [`REGISTER ${PW}`, `IDENTIFY ${PW}`, 'INFO', 'INFO nsSomeone']) {
      expect((await h.run(c, `PRIVMSG NickServ :${command}`)).lines).toEqual([`nsDown <- ${ns('nsDown')} :${unavailable}`]);
    }
    expect(c.account).toBeNull();
  });

  it('the welcome completes without a notice or a grace, and enforceNick renames nobody', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = h.connect();
    await h.run(c, 'NICK nsDownWel');
    await h.run(c, 'USER u 0 * :r');
    const r = await h.welcome(c);
    expect(r.commands(c).slice(0, 4)).toEqual(['001', '002', '003', '004']);
    expect(r.commands(c).at(-1)).toBe('376');
    expect(r.effects).toEqual([]);
    expect(h.state.user('nsDownWel')?.clientId).toBe(c.id);
    expect(await enforceNick(h.ctx, c)).toEqual({ sends: [], effects: [] });
    expect(c.nick).toBe('nsDownWel');
  });
});
