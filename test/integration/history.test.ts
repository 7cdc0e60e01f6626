// History end to end (issue 20): the built CLI as a real process, its SQLite store in a
// temporary --data-dir, raw clients that negotiate draft/chathistory, batch, server-time and
// message-tags. What a channel heard is read back with the msgids and times its members saw,
// after a restart too; a private conversation between two accounts from either side; read
// markers shared by two connections of one account; REDACT forgets; --history off keeps nothing.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { capClient, connectIrc, ask, registerAccount as registerAccountAs, waitForLineIn } from '../irc/raw.js';
import { ircServers, type Running } from '../process.js';

const password = 'opensesame42';
const CAPS = 'batch server-time message-tags echo-message draft/chathistory draft/read-marker draft/message-redaction';

const servers = ircServers('irc-history-');
const clients: Array<{ close(): void }> = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(() => servers.close());

const tempDir = (): string => servers.tempDir();
const server = (dataDir: string, extra: string[] = []) => servers.start(dataDir, extra);

async function stop(s: Running): Promise<void> {
  s.proc.kill('SIGTERM');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 5_000);
  expect((await s.exited).code).toBe(0);
  clearTimeout(timer);
}

/** A client with the raw lines, tags and all, that enabled CAPS (and logged in with SASL PLAIN to `account`). */
interface Tagged {
  send(...lines: string[]): void;
  /** Every line received, tags included. */
  lines(): string[];
  waitFor(pattern: RegExp, from?: number): Promise<string>;
}

async function tagged(port: number, nick: string, account?: string): Promise<Tagged> {
  const c = await capClient(port, nick, CAPS, account === undefined ? undefined : { account, password });
  clients.push({ close: () => c.raw.socket.destroy() });
  const lines = (): string[] => c.raw.text().split('\r\n').slice(0, -1);
  return {
    send: (...ls) => c.send(...ls),
    lines,
    waitFor: (pattern, from = 0) => waitForLineIn(lines, pattern, 5_000, from),
  };
}

const registerAccount = (port: number, nick: string): Promise<void> => registerAccountAs(port, nick, password);

/** Sends CHATHISTORY and resolves with the lines of its reply batch (BATCH lines left out). */
async function history(c: Tagged, request: string): Promise<string[]> {
  const from = c.lines().length;
  c.send(`CHATHISTORY ${request}`);
  const open = await c.waitFor(/ BATCH \+\S+ (chathistory|draft\/chathistory-targets)/, from);
  const ref = /BATCH \+(\S+)/.exec(open)![1]!;
  await c.waitFor(new RegExp(` BATCH -${ref}$`), from);
  return c.lines().slice(from).filter((l) => l.startsWith(`@batch=${ref};`) || l.startsWith(`@batch=${ref} `));
}

/** msgid and time of a tagged line, and what follows its tags. */
function parts(line: string): { msgid: string | undefined; time: string | undefined; rest: string } {
  const tags = new Map(line.slice(1, line.indexOf(' ')).split(';').map((t) => t.split('=') as [string, string]));
  return { msgid: tags.get('msgid'), time: tags.get('time'), rest: line.slice(line.indexOf(' ') + 1) };
}

describe('history on one server, in SQLite', () => {
  it('reads a registered channel back as its members saw it, after the server restarts too', async () => {
    const dir = tempDir();
    let s = await server(dir);
    await registerAccount(s.port, 'alice');
    const alice = await tagged(s.port, 'alice', 'alice');
    const bob = await tagged(s.port, 'bob');
    alice.send('JOIN #h');
    await alice.waitFor(/ 366 alice #h /);
    alice.send('PRIVMSG ChanServ :REGISTER #h');
    await alice.waitFor(/ChanServ!\S+ NOTICE alice :/);
    bob.send('JOIN #h');
    await bob.waitFor(/ 366 bob #h /);
    const from = bob.lines().length;
    for (let i = 1; i <= 5; i++) alice.send(`PRIVMSG #h :message ${i}`);
    await bob.waitFor(/message 5$/, from);
    const seen = bob.lines().slice(from).filter((l) => / PRIVMSG #h /.test(l)).map(parts);
    expect(seen.map((p) => p.rest)).toEqual([1, 2, 3, 4, 5].map((i) => `:alice!~alice@127.0.0.1 PRIVMSG #h :message ${i}`));

    const read = (await history(bob, 'LATEST #h * 10')).map(parts);
    expect(read).toEqual(seen);
    expect((await history(bob, `BEFORE #h msgid=${seen[3]!.msgid} 2`)).map(parts)).toEqual(seen.slice(1, 3));

    await stop(s);
    s = await server(dir);
    const again = await tagged(s.port, 'bob');
    again.send('JOIN #h');
    await again.waitFor(/ 366 bob #h /);
    expect((await history(again, 'LATEST #h * 10')).map(parts)).toEqual(seen);
    // Not a member: not readable.
    const out = await tagged(s.port, 'carol');
    out.send('CHATHISTORY LATEST #h * 10');
    expect(parts(await out.waitFor(/FAIL CHATHISTORY/)).rest).toBe(':irc.localhost FAIL CHATHISTORY INVALID_TARGET LATEST #h :Messages could not be retrieved');
  });

  it("keeps an unregistered channel's history to that channel: whoever creates one of its name after everyone left reads none of it", async () => {
    const s = await server(tempDir());
    const dora = await tagged(s.port, 'dora');
    dora.send('JOIN #gone', 'MODE #gone +sk hunter2');
    await dora.waitFor(/ MODE #gone \+sk hunter2$/);
    dora.send('PRIVMSG #gone :the launch code is 1234');
    expect((await history(dora, 'LATEST #gone * 10')).map((l) => parts(l).rest)).toEqual([':dora!~dora@127.0.0.1 PRIVMSG #gone :the launch code is 1234']);
    dora.send('PART #gone');
    await dora.waitFor(/ PART #gone/);
    // The channel is gone with its modes; a stranger makes a new one of that name.
    const eve = await tagged(s.port, 'eve');
    eve.send('JOIN #gone');
    await eve.waitFor(/ 366 eve #gone /);
    expect(await history(eve, 'LATEST #gone * 10')).toEqual([]);
    expect(await history(eve, 'AFTER #gone timestamp=2000-01-01T00:00:00.000Z 10')).toEqual([]);
    expect(await history(eve, 'TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10')).toEqual([]);
    // What is said in the new one is its history.
    eve.send('PRIVMSG #gone :hello?');
    expect((await history(eve, 'LATEST #gone * 10')).map((l) => parts(l).rest)).toEqual([':eve!~eve@127.0.0.1 PRIVMSG #gone :hello?']);
  });

  it('keeps a conversation between two accounts for both, shares read markers between two connections of one, and forgets what is redacted', async () => {
    const s = await server(tempDir());
    await registerAccount(s.port, 'ann');
    await registerAccount(s.port, 'ben');
    const ann = await tagged(s.port, 'ann', 'ann');
    const ben = await tagged(s.port, 'ben', 'ben');
    const annPhone = await tagged(s.port, 'annphone', 'ann');
    ann.send('PRIVMSG ben :hi ben', 'PRIVMSG ben :typo');
    await ben.waitFor(/PRIVMSG ben :typo$/);
    ben.send('PRIVMSG ann :hi ann');
    await ann.waitFor(/PRIVMSG ann :hi ann$/);
    const texts = (lines: string[]): string[] => lines.map((l) => l.slice(l.lastIndexOf(' :') + 2));
    expect(texts(await history(ann, 'LATEST ben * 10'))).toEqual(['hi ben', 'typo', 'hi ann']);
    expect(texts(await history(ben, 'LATEST ann * 10'))).toEqual(['hi ben', 'typo', 'hi ann']);

    // REDACT: the sender forgets its own message; ben (with the capability) is told.
    const typo = parts((await history(ann, 'LATEST ben * 10'))[1]!).msgid!;
    ann.send(`REDACT ben ${typo}`);
    expect(parts(await ben.waitFor(/ REDACT /)).rest).toBe(`:ann!~ann@127.0.0.1 REDACT ben ${typo}`);
    expect(texts(await history(ben, 'LATEST ann * 10'))).toEqual(['hi ben', 'hi ann']);

    // MARKREAD from one connection of ann's account reaches the other.
    const at = parts((await history(ann, 'LATEST ben * 1'))[0]!).time!;
    ann.send(`MARKREAD ben timestamp=${at}`);
    expect(parts(await annPhone.waitFor(/ MARKREAD /)).rest).toBe(`:irc.localhost MARKREAD ben timestamp=${at}`);
    annPhone.send('MARKREAD ben');
    expect(parts(await annPhone.waitFor(/MARKREAD ben timestamp=/, annPhone.lines().length - 1)).rest).toBe(`:irc.localhost MARKREAD ben timestamp=${at}`);
    // TARGETS lists the conversation for ann.
    const targets = await history(ann, `TARGETS timestamp=2000-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10`);
    expect(targets.map((l) => parts(l).rest)).toEqual([expect.stringMatching(/^:irc\.localhost CHATHISTORY TARGETS ben \d{4}-/)]);
  });

  it('keeps nothing with --history off, and does not offer it', async () => {
    const s = await server(tempDir(), ['--history', 'off']);
    const c = await connectIrc(s.port);
    clients.push({ close: () => c.raw.socket.destroy() });
    const ls = await ask(c, 'CAP LS 302', / CAP \* LS :/);
    expect(ls).not.toMatch(/chathistory|read-marker|message-redaction/);
    c.send('CAP END');
    await c.register('nohist');
    expect(c.lines().join('\n')).not.toMatch(/CHATHISTORY=/);
  });
});
