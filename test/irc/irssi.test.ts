// A person's IRC client against the server under test: Debian's irssi in tmux, typed at and read
// from the screen, with an irc-framework client on the other side of the channel. The last
// screen of each test goes to test-artifacts/irssi-*.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type IrcTarget, type TestClient } from './clients.js';
import { startIrssi, type Irssi } from './irssi.js';
import { connectIrc, type RawIrc } from './raw.js';
import { startIrcTestServer } from '../helpers.js';

/** The server under test: ours, in IRC mode, on a free port. */
async function startIrc(): Promise<IrcTarget> {
  const server = await startIrcTestServer();
  return { port: server.port, stop: () => server.stop() };
}

const artifacts = new URL('../../test-artifacts/', import.meta.url);

let target: IrcTarget;
let irssi: Irssi | undefined;
let other: TestClient | undefined;
/** Raw clients a test opened; closed after it. */
const raws: RawIrc[] = [];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  target = await startIrc();
});

afterAll(async () => {
  await target?.stop();
});

afterEach(async (ctx) => {
  if (irssi) {
    const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const last = await irssi.screen().catch((e: unknown) => `(no screen: ${String(e)})`);
    writeFileSync(new URL(`irssi-${name}.txt`, artifacts), last);
    await irssi.kill();
    irssi = undefined;
  }
  await other?.quit('test over').catch(() => other?.destroy());
  other = undefined;
  for (const raw of raws.splice(0)) raw.raw.socket.destroy();
});

/** A raw client registered as `nick`, closed after the test. */
async function rawClient(nick: string): Promise<RawIrc> {
  const raw = await connectIrc(target.port);
  raws.push(raw);
  await raw.register(nick);
  return raw;
}

/** irssi (nick ivy) and an irc-framework client (bob) both in #test, irssi first. */
async function bothInChannel(): Promise<{ ivy: Irssi; bob: TestClient }> {
  const [ivy, bob] = await Promise.all([startIrssi({ port: target.port, nick: 'ivy' }), connectClient({ port: target.port, nick: 'bob' })]);
  irssi = ivy;
  other = bob;
  await ivy.sendKeys('/join #test');
  await ivy.waitForScreen(/-!- ivy \[\S+\] has joined #test/);
  await bob.join('#test');
  await ivy.waitForScreen(/-!- bob \[\S+\] has joined #test/);
  return { ivy, bob };
}

describe('irssi in tmux', () => {
  it('joins a channel and talks with another client both ways, text exact', async () => {
    const { ivy, bob } = await bothInChannel();
    expect(bob.eventsNamed('userlist').at(-1)?.users.map((u: { nick: string }) => u.nick).sort()).toEqual(['bob', 'ivy']);

    await ivy.sendKeys('hello from irssi: ünïcode ✓ and a trailing semicolon;');
    const got = await bob.waitFor('message', (e) => e.nick === 'ivy');
    expect(got).toMatchObject({ type: 'privmsg', target: '#test', message: 'hello from irssi: ünïcode ✓ and a trailing semicolon;' });
    expect(bob.received()).toContainEqual(
      expect.stringMatching(/^:ivy!~?ivy@\S+ PRIVMSG #test :hello from irssi: ünïcode ✓ and a trailing semicolon;$/),
    );
    // irssi shows its own line too (it does not need the server to echo it).
    await ivy.waitForScreen(/<@?ivy> hello from irssi: ünïcode ✓ and a trailing semicolon;/);

    bob.say('#test', 'hello from bob, seen in irssi');
    await ivy.waitForScreen(/< ?bob> hello from bob, seen in irssi/);
  });

  it("shows the other client's nick change", async () => {
    const { ivy, bob } = await bothInChannel();
    await bob.changeNick('bobby');
    await ivy.waitForScreen('-!- bob is now known as bobby');
    bob.say('#test', 'still me');
    await ivy.waitForScreen(/< ?bobby> still me/);
  });

  it('quits with a reason that the other client receives', async () => {
    const { ivy, bob } = await bothInChannel();
    await ivy.close('see you on Monday');
    irssi = undefined;
    const quit = await bob.waitFor('quit', (e) => e.nick === 'ivy');
    expect(quit.message).toBe('Quit: see you on Monday');
    expect(bob.transcript().at(-1)).toBe('ivy QUIT :Quit: see you on Monday');
  });

  it('never lets terminal escapes from another client reach the terminal raw', async () => {
    const { ivy, bob } = await bothInChannel();
    const titleBefore = await ivy.title();
    // OSC 0 would set the window title; CSI 2J would clear the screen.
    bob.say('#test', 'before \x1b]0;pwned\x07 middle \x1b[2J after');
    const screen = await ivy.waitForScreen(/< ?bob> before .*middle.* after/);
    // Whatever the server passed on, irssi showed it as text: the title did not change and
    // the lines above are still on screen.
    expect(await ivy.title()).toBe(titleBefore);
    expect(await ivy.title()).not.toContain('pwned');
    expect(screen).toMatch(/-!- bob \[\S+\] has joined #test/);
    const shown = screen.split('\n').find((l) => l.includes('middle'))!;
    expect(shown).not.toMatch(/[\x1b\x07]/);
    // Recorded for the reader: what irssi made of it (the server passes ESC and BEL on as text;
    // only CR, LF and NUL can never be sent).
    writeFileSync(new URL('irssi-hostile-line.txt', artifacts), `${shown.trimEnd()}\n`);
    // Typing still works after it.
    await ivy.sendKeys('still fine');
    await bob.waitFor('message', (e) => e.nick === 'ivy' && e.message === 'still fine');
  });
});

describe('irssi in tmux, with an account', () => {
  it('logs in with SASL PLAIN while connecting, to an account registered beforehand with NickServ', async () => {
    // A name of its own: the test store is shared by the process's servers.
    const account = `sasha${process.pid % 10_000}`;
    const password = 'c0rrect-h0rse-battery';
    const registrar = await rawClient(account);
    registrar.send(`PRIVMSG NickServ :REGISTER ${password}`);
    await registrar.waitForLine(new RegExp(`^:NickServ!\\S+ NOTICE ${account} :Account ${account} registered\\.`), 15_000);
    registrar.send('QUIT :registered');
    await registrar.closed;

    // Hashing the password runs on the thread pool, tens of ms each on an idle machine.
    irssi = await startIrssi({ port: target.port, nick: account, sasl: { mechanism: 'PLAIN', username: account, password }, registerTimeoutMs: 20_000 });
    // 900's text as irssi shows it, then irssi's own word on the 903, both before the welcome
    // (irssi sends NICK and USER only after CAP END, so the 900's mask has no nick yet).
    const screen = await irssi.waitForScreen(`You are now logged in as ${account}`);
    const at = (text: string): number => screen.indexOf(text);
    expect(at('SASL authentication succeeded')).toBeGreaterThan(at(`You are now logged in as ${account}`));
    expect(at('Welcome to the')).toBeGreaterThan(at('SASL authentication succeeded'));
    expect(screen).not.toMatch(/SASL authentication failed|SASL.*(aborted|timed out)/i);

    // The server agrees: another client's WHOIS shows the account (330).
    const watcher = await rawClient('watcher');
    const from = watcher.lines().length;
    watcher.send(`WHOIS ${account}`);
    await watcher.waitForLine(/^\S+ 318 /, 10_000, from);
    expect(watcher.lines().slice(from)).toContainEqual(expect.stringMatching(new RegExp(`^\\S+ 330 watcher ${account} ${account} :is logged in as$`)));
  }, 60_000);
});

