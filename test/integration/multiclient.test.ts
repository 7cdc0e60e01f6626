// Multiclient and always-on (issue 20), end to end: the built CLI as a real process with its
// SQLite store, raw clients logging in with SASL PLAIN. Two connections of one account are one
// user: one nick in NAMES, both hear the channel and private messages, what one says is echoed
// to the other, and one leaving takes nothing with it. With NickServ SET ALWAYSON ON the user
// stays in its channels with no connection open, and a private message sent meanwhile is in the
// history when it comes back; it stays across a restart of the server too.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { capClient, connectIrc, registerAccount as registerAccountAs, type RawIrc } from '../irc/raw.js';
import { ircServers } from '../process.js';

const password = 'opensesame42';
const CAPS = 'batch server-time message-tags echo-message draft/chathistory draft/read-marker';

const servers = ircServers('irc-multiclient-');
const clients: Array<{ close(): void }> = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(() => servers.close());

const server = (extra: string[] = []) => servers.start(undefined, extra);

/** A client enabling CAPS, logged in to `account` (SASL PLAIN) when given; closed after each test. */
async function client(port: number, nick: string, account?: string): Promise<RawIrc> {
  const c = await capClient(port, nick, CAPS, account === undefined ? undefined : { account, password });
  clients.push({ close: () => c.raw.socket.destroy() });
  return c;
}

const registerAccount = (port: number, nick: string): Promise<void> => registerAccountAs(port, nick, password);

describe('several connections of one account', () => {
  it('are one user: one nick, both hear everything, each hears what the other says, and one leaving takes nothing with it', async () => {
    const s = await server();
    await registerAccount(s.port, 'ann');
    const laptop = await client(s.port, 'ann', 'ann');
    const bob = await client(s.port, 'bob');
    laptop.send('JOIN #m');
    await laptop.waitForLine(/ 366 ann #m /);
    bob.send('JOIN #m');
    await bob.waitForLine(/ 366 bob #m /);
    await laptop.waitForLine(/:bob!\S+ JOIN #m/);

    // A second connection asking for another nick joins ann's user: the welcome names it ann,
    // and it is told it is in #m, with NAMES listing ann once.
    const beforePhone = bob.lines().length;
    const phone = await client(s.port, 'annphone', 'ann');
    expect(await phone.waitForLine(/ 001 /)).toMatch(/^:\S+ 001 ann :Welcome/);
    expect(await phone.waitForLine(/ JOIN #m/)).toMatch(/^:ann!~ann@127\.0\.0\.1 JOIN #m/);
    const names = await phone.waitForLine(/ 353 ann /);
    expect(names.slice(names.lastIndexOf(':') + 1).split(' ').sort()).toEqual(['@ann', 'bob']);
    bob.send('NAMES #m');
    const fromBob = await bob.waitForLine(/ 353 bob /, 5_000, bob.lines().length - 1);
    expect(fromBob.slice(fromBob.lastIndexOf(':') + 1).split(' ').sort()).toEqual(['@ann', 'bob']);
    // The log names the nick each connection has: ann (the account's registration, the laptop, the
    // phone), never the annphone it asked for.
    await expect.poll(() => s.stdout().match(/ registered as ann$/gm)?.length).toBe(3);
    expect(s.stdout()).not.toMatch(/ registered as annphone$/m);
    // Nobody saw a second ann arrive.
    expect(bob.lines().slice(beforePhone).filter((l) => l.startsWith(':ann') && / (JOIN|NICK|QUIT) /.test(l))).toEqual([]);

    // bob in the channel and in private: both connections hear it.
    bob.send('PRIVMSG #m :hello ann', 'PRIVMSG ann :just you');
    for (const c of [laptop, phone]) {
      await c.waitForLine(/:bob!\S+ PRIVMSG #m :hello ann$/);
      await c.waitForLine(/:bob!\S+ PRIVMSG ann :just you$/);
    }

    // What the phone says reaches bob from ann, and the laptop sees it too (echo to siblings).
    phone.send('PRIVMSG #m :from my phone', 'PRIVMSG bob :psst');
    await bob.waitForLine(/^:ann!~ann@127\.0\.0\.1 PRIVMSG #m :from my phone$/);
    await bob.waitForLine(/^:ann!~ann@127\.0\.0\.1 PRIVMSG bob :psst$/);
    await laptop.waitForLine(/^:ann!\S+ PRIVMSG #m :from my phone$/);
    await laptop.waitForLine(/^:ann!\S+ PRIVMSG bob :psst$/);
    // With echo-message the phone gets its own once, not twice.
    await phone.waitForLine(/PRIVMSG bob :psst$/);
    expect(phone.lines().filter((l) => l.endsWith('PRIVMSG #m :from my phone'))).toHaveLength(1);

    // AWAY set on one is the user's: WHOIS shows it, whichever connection asks.
    laptop.send('AWAY :lunch');
    await laptop.waitForLine(/ 306 ann /);
    bob.send('WHOIS ann');
    expect(await bob.waitForLine(/ 301 bob ann /)).toMatch(/ :?lunch$/);

    // The laptop leaves: bob sees no QUIT, and the phone still hears the channel.
    const mark = bob.lines().length;
    laptop.send('QUIT :bye');
    await laptop.closed;
    bob.send('PRIVMSG #m :still there?');
    await phone.waitForLine(/PRIVMSG #m :still there\?$/);
    expect(bob.lines().slice(mark).filter((l) => / QUIT /.test(l))).toEqual([]);

    // The last connection leaves: now the user does.
    phone.send('QUIT :gone');
    expect(await bob.waitForLine(/^:ann!\S+ QUIT /, 5_000, mark)).toBe(':ann!~ann@127.0.0.1 QUIT :Quit: gone');
  });

  it("tell a client asking for the nick of another's user 433: at once without CAP, at the welcome (as a guest) while CAP could still log it in", async () => {
    const s = await server();
    await registerAccount(s.port, 'hal');
    await client(s.port, 'hal', 'hal');

    // No CAP: it cannot log in before it registers, so NICK answers 433 and it picks another.
    const plain = await connectIrc(s.port);
    clients.push({ close: () => plain.raw.socket.destroy() });
    plain.send('NICK hal');
    expect(await plain.waitForLine(/ 433 /)).toMatch(/^:\S+ 433 \* hal :Nickname is already in use$/);
    plain.send('NICK hal2', 'USER h 0 * :h');
    expect(await plain.waitForLine(/ 001 /)).toMatch(/ 001 hal2 /);

    // CAP held open: SASL could still come, so the welcome decides. Not logged in, it gets the
    // 433 there, is told why, and registers as a guest; the log names the guest.
    const capped = await connectIrc(s.port);
    clients.push({ close: () => capped.raw.socket.destroy() });
    capped.send('CAP LS 302', 'NICK hal', 'USER h 0 * :h');
    await capped.waitForLine(/ CAP \* LS /);
    expect(capped.lines().some((l) => / 433 /.test(l))).toBe(false);
    capped.send('CAP END');
    const welcome = await capped.waitForLine(/ 001 /);
    const guest = / 001 (Guest\d+) /.exec(welcome)![1]!;
    const before = capped.lines().slice(0, capped.lines().indexOf(welcome));
    expect(before.filter((l) => / (433|NOTICE) /.test(l) && !/NOTICE \* :/.test(l))).toEqual([
      expect.stringMatching(/ 433 \* hal :Nickname is already in use$/),
      expect.stringMatching(new RegExp(`NOTICE ${guest} :hal is in use by the user logged in to the account hal, and you did not log in to it: you are ${guest}\\.$`)),
    ]);
    await expect.poll(() => s.stdout()).toMatch(new RegExp(` registered as ${guest}$`, 'm'));
    expect(s.stdout().match(/ registered as hal$/gm)).toHaveLength(2);
  });

  it('are users of their own with --multiclient off', async () => {
    const s = await server(['--multiclient', 'off']);
    await registerAccount(s.port, 'cid');
    const one = await client(s.port, 'cid', 'cid');
    const two = await client(s.port, 'cidphone', 'cid');
    expect(await two.waitForLine(/ 001 /)).toMatch(/ 001 cidphone /);
    one.send('WHOIS cidphone');
    // A user of its own: WHOIS finds it (311), not only ends (318 comes for a nick nobody holds too).
    await one.waitForLine(/ 311 cid cidphone /);
  });
});

describe('always on', () => {
  it('keeps the user in its channels with no connection open, and what was said meanwhile waits in the history', async () => {
    const s = await server();
    await registerAccount(s.port, 'dee');
    await registerAccount(s.port, 'eve');
    const dee = await client(s.port, 'dee', 'dee');
    const eve = await client(s.port, 'eve', 'eve');
    dee.send('PRIVMSG NickServ :SET ALWAYSON ON', 'JOIN #on');
    await dee.waitForLine(/ALWAYSON is ON/);
    await dee.waitForLine(/ 366 dee #on /);
    eve.send('JOIN #on');
    await eve.waitForLine(/ 366 eve #on /);
    eve.send('PRIVMSG #on :seen before leaving');
    await dee.waitForLine(/PRIVMSG #on :seen before leaving$/);
    // dee has read up to now; then it goes.
    await new Promise((r) => setTimeout(r, 5));
    const readUpTo = new Date().toISOString();
    dee.send(`MARKREAD #on timestamp=${readUpTo}`);
    await dee.waitForLine(new RegExp(`MARKREAD #on timestamp=${readUpTo.replaceAll('.', '\\.')}`));
    dee.send('QUIT :phone off');
    await dee.closed;

    // dee is still there: in #on, and by WHOIS.
    eve.send('NAMES #on');
    const names = await eve.waitForLine(/ 353 eve /, 5_000, eve.lines().length - 1);
    expect(names.slice(names.lastIndexOf(':') + 1).split(' ').sort()).toEqual(['@dee', 'eve']);
    const asked = eve.lines().length;
    eve.send('PRIVMSG dee :are you there?', 'PRIVMSG #on :news');
    eve.send('WHOIS dee');
    await eve.waitForLine(/ 318 eve dee /, 5_000, asked);
    expect(eve.lines().some((l) => / 401 eve dee /.test(l))).toBe(false);
    // Away for being gone, so whoever writes to it knows nobody reads now.
    const away = ':irc.localhost 301 eve dee :Not connected (always-on: channel messages, and private ones from logged-in users, wait in the history)';
    expect(eve.lines().slice(asked).filter((l) => / 301 eve dee /.test(l))).toEqual([away, away]);

    // Someone else asking for the nick (not logged in to dee) registers as a guest.
    const other = await client(s.port, 'dee');
    expect(await other.waitForLine(/ 001 /)).toMatch(/ 001 Guest\d+ /);
    other.send('QUIT');

    // Back: the connection joins the user still there, in #on, and reads what it missed.
    const back = await client(s.port, 'dee', 'dee');
    await back.waitForLine(/^:dee!\S+ JOIN #on/);
    // Connected again: not away any more.
    const again = eve.lines().length;
    eve.send('WHOIS dee');
    await eve.waitForLine(/ 318 eve dee /, 5_000, again);
    expect(eve.lines().slice(again).some((l) => / 301 /.test(l))).toBe(false);
    back.send('CHATHISTORY LATEST eve * 10');
    await back.waitForLine(/PRIVMSG dee :are you there\?$/);
    // What it missed in #on: after its read marker, which the JOIN it is shown carries.
    const marker = /timestamp=(\S+)$/.exec(await back.waitForLine(/ MARKREAD #on timestamp=/))![1]!;
    expect(marker).toBe(readUpTo);
    const from = back.lines().length;
    back.send(`CHATHISTORY AFTER #on timestamp=${marker} 100`);
    await back.waitForLine(/ BATCH -/, 5_000, from);
    expect(back.lines().slice(from).filter((l) => / PRIVMSG /.test(l)).map((l) => l.slice(l.indexOf(' :') + 2))).toEqual(['news']);

    // OFF again: now leaving is leaving.
    back.send('PRIVMSG NickServ :SET ALWAYSON OFF');
    await back.waitForLine(/ALWAYSON is OFF/);
    const mark = eve.lines().length;
    back.send('QUIT :really gone');
    expect(await eve.waitForLine(/^:dee!\S+ QUIT /, 5_000, mark)).toBe(':dee!~dee@127.0.0.1 QUIT :Quit: really gone');
  });
});

describe('always on across a restart', () => {
  it('brings the user back when the server starts again: its channels, user@host and away message, and its next connection joins it', async () => {
    const dir = servers.tempDir();
    let s = await servers.start(dir);
    await registerAccount(s.port, 'fay');
    await registerAccount(s.port, 'gil');
    const fay = await client(s.port, 'fay', 'fay');
    fay.send('PRIVMSG NickServ :SET ALWAYSON ON', 'JOIN #one', 'JOIN #two', 'AWAY :back monday');
    await fay.waitForLine(/ALWAYSON is ON/);
    await fay.waitForLine(/ 306 fay /);
    fay.send('QUIT :phone off');
    await fay.closed;
    // Stopped as a service manager stops it (SIGTERM): everyone quits, fay too.
    s.proc.kill('SIGTERM');
    await s.exited;

    s = await servers.start(dir);
    const gil = await client(s.port, 'gil', 'gil');
    gil.send('JOIN #one');
    const names = await gil.waitForLine(/ 353 gil /);
    expect(names.slice(names.lastIndexOf(':') + 1).split(' ').sort()).toEqual(['@fay', 'gil']);
    gil.send('WHOIS fay');
    expect(await gil.waitForLine(/ 311 gil fay /)).toBe(':irc.localhost 311 gil fay ~fay 127.0.0.1 * fay');
    expect(await gil.waitForLine(/ 301 gil fay /)).toBe(':irc.localhost 301 gil fay :back monday');
    expect(await gil.waitForLine(/ 319 gil fay /)).toMatch(/:(@#one @#two|@#two @#one)$/);
    gil.send('PRIVMSG #one :while you were restarting');

    // fay's next connection joins the user brought back, in both channels.
    const again = await client(s.port, 'fay', 'fay');
    expect(await again.waitForLine(/ 001 /)).toMatch(/ 001 fay /);
    await again.waitForLine(/^:fay!\S+ JOIN #one/);
    await again.waitForLine(/^:fay!\S+ JOIN #two/);
    again.send('CHATHISTORY LATEST #one * 10');
    await again.waitForLine(/PRIVMSG #one :while you were restarting$/);
  });
});
