// Accounts end to end: the built CLI as a real process with its SQLite store in a temporary
// --data-dir, real clients on real sockets (irc-framework and raw). An account registered with
// NickServ logs in with SASL PLAIN (and a wrong password is refused with 904), survives a
// restart in a 0600 file, owns its nick (a short --nick-grace renames whoever does not log in),
// GHOSTs another holder, and tags its messages for those who asked for account-tag.
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type TestClient } from '../irc/clients.js';
import { ask, connectIrc, nickServNotices, type RawIrc } from '../irc/raw.js';
import { ircServers, type Running } from '../process.js';

/** How long an unidentified holder of a registered nick keeps it (`--nick-grace`). */
const graceMs = 500;
const password = 'opensesame42';

const servers = ircServers('irc-accounts-');
const raws: RawIrc[] = [];
const fws: TestClient[] = [];

const tempDir = (): string => servers.tempDir();
/** The CLI as `npm start` runs it, its store in `dataDir`, flood limits out of the way. */
const server = (dataDir: string, extra: string[] = []) => servers.start(dataDir, extra);

/** SIGTERM, and how it exited (SIGKILL after 5 s, which fails the test's exit-code check). */
async function stop(s: Running): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.proc.kill('SIGTERM');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 5_000);
  const exit = await s.exited;
  clearTimeout(timer);
  return exit;
}

async function raw(port: number, nick?: string): Promise<RawIrc> {
  const c = await connectIrc(port);
  raws.push(c);
  if (nick !== undefined) await c.register(nick);
  return c;
}

async function fw(port: number, nick: string, account?: { account: string; password: string }): Promise<TestClient> {
  const c = await connectClient({ port, nick, ...(account ? { account } : {}) });
  fws.push(c);
  return c;
}

/** Registers `nick` as an account over a raw client (NickServ REGISTER), then quits. */
async function registerAccount(port: number, nick: string, email?: string): Promise<void> {
  const c = await raw(port, nick);
  const line = await ask(c, `PRIVMSG NickServ :REGISTER ${password}${email ? ` ${email}` : ''}`, / 900 |NOTICE \S+ :.*(already|must)/);
  expect(line).toBe(`:irc.localhost 900 ${nick} ${nick}!~${nick}@127.0.0.1 ${nick} :You are now logged in as ${nick}`);
  c.send('QUIT :registered');
  await c.closed;
}

/** Everything said so far has been handled: a PING answered after it. */
async function settled(c: RawIrc, token: string): Promise<void> {
  await ask(c, `PING :${token}`, new RegExp(`PONG \\S+ :?${token}$`));
}

afterEach(() => {
  for (const c of raws.splice(0)) c.raw.socket.destroy();
  for (const c of fws.splice(0)) c.destroy();
});

afterAll(() => {
  servers.close();
});

describe('accounts on one server', () => {
  let port: number;

  beforeAll(async () => {
    port = (await server(tempDir(), ['--nick-grace', String(graceMs)])).port;
  });

  it('logs irc-framework in with SASL PLAIN to an account registered with NickServ, before its registration ends', async () => {
    await registerAccount(port, 'sasha', 'sasha@example.org');
    const c = await fw(port, 'sasha', { account: 'sasha', password });
    const loggedIn = await c.waitFor('loggedin');
    expect(loggedIn).toMatchObject({ nick: 'sasha', ident: '~sasha', hostname: '127.0.0.1', account: 'sasha' });
    const lines = c.received();
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    expect(lines).toContain(':irc.localhost 900 sasha sasha!~sasha@127.0.0.1 sasha :You are now logged in as sasha');
    expect(lines).toContain(':irc.localhost 903 sasha :SASL authentication successful');
    // SASL came first, then CAP END, then the welcome: logged in from the first line as sasha.
    expect(at(/ 903 /)).toBeLessThan(at(/ 001 sasha /));
    expect(c.raw.filter((r) => !r.fromServer).map((r) => r.line)).toEqual(
      expect.arrayContaining(['AUTHENTICATE PLAIN', `AUTHENTICATE ${Buffer.from(`sasha\0sasha\0${password}`).toString('base64')}`]),
    );
    expect(c.eventsNamed('sasl failed')).toEqual([]);
    // NickServ agrees: INFO shows the owner's own fields (email), LOGOUT has someone to log out.
    const info = c.waitForLine(/NOTICE sasha :Email: /);
    c.say('NickServ', 'INFO');
    expect(await info).toMatch(/:Email: sasha@example\.org$/);
    const out = c.waitFor('loggedout');
    c.say('NickServ', 'LOGOUT');
    expect(await out).toMatchObject({ nick: 'sasha', account: false });
  });

  it('refuses a wrong SASL password with 904; irc-framework emits `sasl failed` and connects anyway, logged out', async () => {
    await registerAccount(port, 'wanda');
    // Another nick than the account's: wanda's nick would be renamed once the grace is over.
    const c = await fw(port, 'notwanda', { account: 'wanda', password: 'not-the-password' });
    const failed = await c.waitFor('sasl failed');
    expect(failed).toMatchObject({ reason: 'fail', nick: 'notwanda', message: 'SASL authentication failed: Invalid account credentials' });
    expect(c.received()).toContain(':irc.localhost 904 notwanda :SASL authentication failed: Invalid account credentials');
    // Registration went on after the failure (its default sasl_disconnect_on_fail is false).
    expect(c.eventsNamed('registered')).toHaveLength(1);
    expect(c.nick).toBe('notwanda');
    expect(c.eventsNamed('loggedin')).toEqual([]);
    expect(c.received().filter((l) => / 90[03] /.test(l))).toEqual([]);
    const answer = c.waitForLine(/NOTICE notwanda :You are not logged in\.$/);
    c.say('NickServ', 'LOGOUT');
    await answer;
  });

  it('gives an unidentified holder of a registered nick a NickServ notice, then renames it Guest<digits> after the grace', async () => {
    await registerAccount(port, 'owned');
    const watcher = await raw(port, 'watcher');
    const squatter = await raw(port, 'squatter');
    for (const c of [watcher, squatter]) await ask(c, 'JOIN #own', / 366 \S+ #own /);
    const asked = Date.now();
    const from = squatter.lines().length;
    squatter.send('NICK owned');
    await squatter.waitForLine(/^:squatter!\S+ NICK :?owned$/, 5_000, from);
    expect(await squatter.waitForLine(/NOTICE owned :This nickname is registered/, 5_000, from)).toBe(
      ':NickServ!NickServ@services NOTICE owned :This nickname is registered. Log in within 1 seconds (/msg NickServ IDENTIFY <password>, or SASL) or you will be renamed.',
    );
    const renamed = await squatter.waitForLine(/^:owned!\S+ NICK :?Guest\d+$/, 5_000, from);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(graceMs - 50);
    const guest = /Guest\d+$/.exec(renamed)![0];
    expect(guest).toMatch(/^Guest\d{5}$/);
    expect(nickServNotices(squatter, from)).toContain(`You did not log in to owned: you are now ${guest}.`);
    // The channel saw the change too, and the nick is free again.
    expect(await watcher.waitForLine(/^:owned!\S+ NICK /)).toMatch(new RegExp(`^:owned!~squatter@127\\.0\\.0\\.1 NICK :?${guest}$`));
    expect(await ask(watcher, 'WHOIS owned', / (401|318) watcher /)).toMatch(/ 401 watcher owned /);
  });

  it('lets a holder that IDENTIFYs within the grace keep the nick, also when it connected with it', async () => {
    await registerAccount(port, 'keeper');
    const c = await connectIrc(port);
    raws.push(c);
    c.send('NICK keeper', 'USER keeper 0 * :keeper');
    await c.waitForLine(/NOTICE keeper :This nickname is registered/);
    const login = await ask(c, `PRIVMSG NickServ :IDENTIFY ${password}`, / 900 /);
    expect(login).toBe(':irc.localhost 900 keeper keeper!~keeper@127.0.0.1 keeper :You are now logged in as keeper');
    expect(nickServNotices(c)).toContain('You are now logged in as keeper.');
    // Twice the grace later, still keeper: no NICK, no rename notice.
    await new Promise((r) => setTimeout(r, 2 * graceMs));
    await settled(c, 'after-grace');
    expect(c.lines().filter((l) => / NICK /.test(l))).toEqual([]);
    expect(nickServNotices(c).filter((n) => n.startsWith('You did not log in'))).toEqual([]);
    expect(await ask(c, 'WHOIS keeper', / 311 keeper /)).toBe(':irc.localhost 311 keeper keeper ~keeper 127.0.0.1 * keeper');
  });

  it('GHOSTs another connection holding the account\'s nick: it gets ERROR with the kill reason and the nick is free', async () => {
    // The holder is logged in (an old session), so the grace does not rename it.
    const holder = await raw(port, 'ghosty');
    await ask(holder, `PRIVMSG NickServ :REGISTER ${password}`, / 900 /);
    const peer = await raw(port, 'peer');
    for (const c of [holder, peer]) await ask(c, 'JOIN #haunt', / 366 \S+ #haunt /);

    const other = await raw(port, 'ghosty2');
    // Not logged in: refused.
    await ask(other, 'PRIVMSG NickServ :GHOST ghosty', /NOTICE ghosty2 :You must be logged in to ghosty to ghost it\.$/);
    await ask(other, `PRIVMSG NickServ :IDENTIFY ghosty ${password}`, / 900 /);
    const done = await ask(other, 'PRIVMSG NickServ :GHOST ghosty', /NOTICE ghosty2 :.*(disconnected|not online)/);
    expect(done).toBe(':NickServ!NickServ@services NOTICE ghosty2 :ghosty has been disconnected.');
    const reason = 'Killed (NickServ (GHOST command used by ghosty2))';
    const last = (await holder.closed).split('\r\n').filter(Boolean).at(-1);
    expect(last).toBe(`ERROR :Closing link: (~ghosty@127.0.0.1) [${reason}]`);
    expect(await peer.waitForLine(/^:ghosty!\S+ QUIT /)).toBe(`:ghosty!~ghosty@127.0.0.1 QUIT :${reason}`);
    // The nick is free for its owner.
    expect(await ask(other, 'NICK ghosty', /^:ghosty2!\S+ NICK /)).toMatch(/^:ghosty2!\S+ NICK :?ghosty$/);
    await settled(other, 'owned-now');
    expect(nickServNotices(other).filter((n) => n.startsWith('This nickname is registered'))).toEqual([]);
  });

  it('tags a logged-in user\'s PRIVMSG with @account for a recipient that enabled account-tag, and not for one that did not', async () => {
    const tagger = await raw(port, 'tagger');
    await ask(tagger, `PRIVMSG NickServ :REGISTER ${password}`, / 900 /);
    const anon = await raw(port, 'anon');

    const tagged = await connectIrc(port);
    raws.push(tagged);
    tagged.send('CAP LS 302', 'CAP REQ :account-tag', 'NICK tagged', 'USER tagged 0 * :tagged');
    await tagged.waitForLine(/^:irc\.localhost CAP \* ACK :?account-tag$/);
    tagged.send('CAP END');
    await tagged.waitForLine(/ 376 tagged /);
    const plain = await raw(port, 'plain');
    for (const c of [tagger, anon, tagged, plain]) await ask(c, 'JOIN #tags', / 366 \S+ #tags /);
    await tagger.waitForLine(/^:plain!\S+ JOIN/);

    tagger.send('PRIVMSG tagged :to you', 'PRIVMSG plain :to you', 'PRIVMSG #tags :to all');
    anon.send('PRIVMSG #tags :from anon');
    for (const c of [tagged, plain]) await c.waitForLine(/PRIVMSG #tags :from anon$/);
    await tagged.waitForLine(/PRIVMSG #tags :to all$/);
    await plain.waitForLine(/PRIVMSG #tags :to all$/);

    const privmsgs = (c: RawIrc) => c.raw.text().split('\r\n').filter((l) => / PRIVMSG /.test(l));
    expect(privmsgs(tagged)).toEqual([
      '@account=tagger :tagger!~tagger@127.0.0.1 PRIVMSG tagged :to you',
      '@account=tagger :tagger!~tagger@127.0.0.1 PRIVMSG #tags :to all',
      // Not logged in: nothing to tag.
      ':anon!~anon@127.0.0.1 PRIVMSG #tags :from anon',
    ]);
    expect(privmsgs(plain)).toEqual([
      ':tagger!~tagger@127.0.0.1 PRIVMSG plain :to you',
      ':tagger!~tagger@127.0.0.1 PRIVMSG #tags :to all',
      ':anon!~anon@127.0.0.1 PRIVMSG #tags :from anon',
    ]);
  });
  it('logs out every other connection to an account when one of them DROPs it', async () => {
    await registerAccount(port, 'dropper');
    const one = await raw(port, 'dropper');
    const two = await raw(port, 'dropper2');
    for (const c of [one, two]) await ask(c, `PRIVMSG NickServ :IDENTIFY dropper ${password}`, / 900 /);
    const from = two.lines().length;
    await ask(one, `PRIVMSG NickServ :DROP ${password}`, / 901 /);
    expect(await two.waitForLine(/NickServ.*The account dropper was dropped: you are logged out/, 5_000, from)).toBeTruthy();
    expect(await two.waitForLine(/ 901 dropper2 /, 5_000, from)).toBeTruthy();
    // The account is gone: IDENTIFY fails, and the nick is anyone's.
    expect(await ask(two, `PRIVMSG NickServ :IDENTIFY dropper ${password}`, /NOTICE dropper2 :/)).toContain('Invalid account name or password');
  });
});

describe('accounts across a restart', () => {
  it('keeps accounts in --data-dir (a 0600 file in a 0700 directory): after SIGTERM and a new start, IDENTIFY works and INFO is unchanged', async () => {
    const dir = tempDir();
    const first = await server(dir);
    await registerAccount(first.port, 'durable', 'durable@example.org');
    const before = await raw(first.port, 'asker');
    await ask(before, 'PRIVMSG NickServ :INFO durable', /NOTICE asker :Account durable, registered /);
    const infoBefore = nickServNotices(before).filter((n) => n.startsWith('Account durable'));
    before.raw.socket.destroy();
    expect((await stop(first)).code).toBe(0);

    const file = path.join(dir, 'xstate-tcp-chat.sqlite');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    const second = await server(dir);
    const c = await raw(second.port, 'durable');
    await c.waitForLine(/NOTICE durable :This nickname is registered/);
    // A wrong password first: the stored hash is really checked.
    await ask(c, 'PRIVMSG NickServ :IDENTIFY wrong-password', /NOTICE durable :Invalid account name or password\.$/);
    expect(await ask(c, `PRIVMSG NickServ :IDENTIFY ${password}`, / 900 /)).toBe(
      ':irc.localhost 900 durable durable!~durable@127.0.0.1 durable :You are now logged in as durable',
    );
    const from = c.lines().length;
    await ask(c, 'PRIVMSG NickServ :INFO', /NOTICE durable :TLS certificates: /);
    expect(nickServNotices(c, from)).toEqual([...infoBefore, 'Email: durable@example.org', 'TLS certificates: (none)']);
    expect((await stop(second)).code).toBe(0);
  });

  it('keeps a registered channel: after a restart its founder is opped on joining and its topic and modes are back', async () => {
    const dir = tempDir();
    const first = await server(dir);
    await registerAccount(first.port, 'founder');
    const f = await raw(first.port, 'founder');
    await ask(f, `PRIVMSG NickServ :IDENTIFY ${password}`, / 900 /);
    await ask(f, 'JOIN #kept', / 366 founder #kept /);
    await ask(f, 'TOPIC #kept :what we keep', /TOPIC #kept :?what we keep$/);
    await ask(f, 'MODE #kept +m', /MODE #kept \+m$/);
    await ask(f, 'PRIVMSG ChanServ :REGISTER #kept', /ChanServ!ChanServ@services NOTICE founder :#kept is registered to founder\./);
    // A change after registration is kept too.
    await ask(f, 'MODE #kept +s', /MODE #kept \+s$/);
    await settled(f, 'kept');
    f.raw.socket.destroy();
    expect((await stop(first)).code).toBe(0);

    const second = await server(dir);
    // Someone else creates it first: ChanServ brings its modes and topic back and does not
    // leave them its operator.
    const other = await raw(second.port, 'squatter');
    other.send('JOIN #kept');
    expect(await other.waitForLine(/:ChanServ!ChanServ@services MODE #kept /)).toMatch(/MODE #kept \+ms?-o squatter$|MODE #kept \+[ms]+.*-o squatter/);
    expect(await other.waitForLine(/ 332 squatter #kept /)).toContain(':what we keep');
    // The founder, logged in, is opped as it joins.
    const back = await raw(second.port, 'founder');
    await ask(back, `PRIVMSG NickServ :IDENTIFY ${password}`, / 900 /);
    back.send('JOIN #kept');
    expect(await back.waitForLine(/:ChanServ!ChanServ@services MODE #kept \+o founder$/)).toBeTruthy();
    expect(await ask(back, 'MODE #kept', / 324 /)).toMatch(/ 324 founder #kept \+m?n?s?t?/);
    expect(back.lines().find((l) => / 324 /.test(l))).toMatch(/\+mnst/);
    expect((await stop(second)).code).toBe(0);
  });
});
