// The history commands as handlers (the harness's MemoryHistory as the store): what is kept
// of PRIVMSG/NOTICE, CHATHISTORY's windows and errors, who may read what, MARKREAD and REDACT.
import { describe, expect, it } from 'vitest';
import type { Client } from '../../../src/irc/commands/types.js';
import { harness, START, type Harness } from './harness.js';

const ALL = ['batch', 'server-time', 'message-tags', 'draft/chathistory'];

async function loggedIn(h: Harness, nick: string, caps: string[] = ALL): Promise<Client> {
  const c = await h.register(nick, { caps });
  c.account = nick;
  await h.state.setAccount(c.id, nick);
  return c;
}

/** `n` messages from `from` to `target`, a second apart; their msgids. */
async function say(h: Harness, from: Client, target: string, n: number, text = 'line'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    h.clock.now += 1_000;
    const r = await h.run(from, `PRIVMSG ${target} :${text} ${i}`);
    ids.push(r.outcome.history?.[0]?.msgid ?? '?');
  }
  return ids;
}

/** The texts of the PRIVMSG/NOTICE lines `c` got. */
const texts = (lines: string[]): string[] => lines.filter((l) => / (PRIVMSG|NOTICE) /.test(l)).map((l) => l.slice(l.lastIndexOf(' :') + 2));

const iso = (ms: number): string => new Date(ms).toISOString();

describe('what is offered', () => {
  it('lists the history capabilities and ISUPPORT CHATHISTORY and MSGREFTYPES while history is on', async () => {
    const h = harness();
    const c = h.connect();
    const ls = (await h.run(c, 'CAP LS')).to(c).join(' ');
    for (const cap of ['draft/chathistory', 'draft/read-marker', 'draft/message-redaction']) expect(ls).toContain(cap);
    const alice = await h.register('alice');
    const isupport = (await h.welcome(alice)).to(alice).filter((l) => / 005 /.test(l)).join(' ');
    expect(isupport).toContain(' CHATHISTORY=1000 ');
    expect(isupport).toContain(' MSGREFTYPES=msgid,timestamp ');
  });

  it('offers none of it with --history off: no capability, no ISUPPORT token, CAP REQ refused, CHATHISTORY unknown', async () => {
    const h = harness({ history: 'off' });
    const c = h.connect();
    expect((await h.run(c, 'CAP LS')).to(c).join(' ')).not.toMatch(/chathistory|read-marker|message-redaction/);
    expect((await h.run(c, 'CAP REQ draft/chathistory')).to(c)).toEqual([':irc.test CAP * NAK draft/chathistory']);
    const alice = await h.register('alice');
    expect((await h.welcome(alice)).to(alice).join(' ')).not.toContain('CHATHISTORY');
    expect((await h.run(alice, 'PRIVMSG alice :hi')).outcome.history).toBeUndefined();
    expect((await h.run(alice, 'CHATHISTORY LATEST #c * 10')).to(alice)).toEqual([':irc.test 421 alice CHATHISTORY :Unknown command']);
  });
});

describe('what is kept', () => {
  it('keeps a channel PRIVMSG and NOTICE once, with the msgid and time its recipients saw, the sender and its tags', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice');
    const bob = await h.register('bob', { caps: ALL });
    await h.run(alice, 'JOIN #c');
    await h.run(bob, 'JOIN #c');
    h.clock.now = START + 5_000;
    const r = await h.run(alice, '@+draft/reply=x PRIVMSG #c :hello');
    expect(r.outcome.history).toEqual([
      {
        target: '#c',
        msgid: expect.any(String),
        at: START + 5_000,
        command: 'PRIVMSG',
        source: 'alice!~alice@10.0.0.1',
        account: 'alice',
        params: ['#c', 'hello'],
        tags: { '+draft/reply': 'x' },
        between: null,
      },
    ]);
    const seen = r.to(bob)[0]!;
    expect(seen).toContain(`msgid=${r.outcome.history![0]!.msgid}`);
    expect((await h.run(bob, 'NOTICE #c :note')).outcome.history).toHaveLength(1);
  });

  it('keeps a private message only between two logged-in users, and no STATUSMSG, TAGMSG or message to a service', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice');
    const bob = await loggedIn(h, 'bob');
    const guest = await h.register('guest', { caps: ALL });
    expect((await h.run(alice, 'PRIVMSG bob :hi bob')).outcome.history).toMatchObject([{ target: 'alice bob', between: ['alice', 'bob'] }]);
    expect((await h.run(alice, 'PRIVMSG guest :hi guest')).outcome.history).toBeUndefined();
    expect((await h.run(guest, 'PRIVMSG alice :hi alice')).outcome.history).toBeUndefined();
    await h.run(alice, 'JOIN #c');
    await h.run(bob, 'JOIN #c');
    await h.run(alice, 'MODE #c +v bob');
    expect((await h.run(bob, 'PRIVMSG @#c :ops only')).outcome.history).toBeUndefined();
    expect((await h.run(bob, '@+typing=active TAGMSG #c')).outcome.history).toBeUndefined();
    expect((await h.run(bob, 'PRIVMSG NickServ :HELP')).outcome.history).toBeUndefined();
  });

  it('keeps a multiline message as its lines, the first under the msgid and the rest under msgid-1, msgid-2', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice', [...ALL, 'draft/multiline']);
    await h.run(alice, 'JOIN #c');
    await h.run(alice, 'BATCH +b draft/multiline #c');
    await h.run(alice, '@batch=b PRIVMSG #c :one');
    await h.run(alice, '@batch=b PRIVMSG #c :');
    await h.run(alice, '@batch=b PRIVMSG #c :two');
    const r = await h.run(alice, 'BATCH -b');
    const kept = r.outcome.history ?? [];
    expect(kept.map((e) => e.params[1])).toEqual(['one', 'two']);
    expect(kept[1]!.msgid).toBe(`${kept[0]!.msgid}-1`);
  });
});

describe('CHATHISTORY', () => {
  async function channel(): Promise<{ h: Harness; alice: Client; bob: Client; ids: string[] }> {
    const h = harness();
    const alice = await loggedIn(h, 'alice');
    const bob = await loggedIn(h, 'bob');
    await h.run(alice, 'JOIN #c');
    await h.run(bob, 'JOIN #c');
    const ids = await say(h, alice, '#c', 10);
    return { h, alice, bob, ids };
  }

  it('answers LATEST in a chathistory batch, oldest first, each message with its own time and msgid', async () => {
    const { h, bob, ids } = await channel();
    const lines = (await h.run(bob, 'CHATHISTORY LATEST #c * 3')).to(bob);
    const ref = /^:irc\.test BATCH \+(\S+) chathistory #c$/.exec(lines[0]!)?.[1];
    expect(ref).toBeDefined();
    expect(lines.slice(1, -1)).toEqual([8, 9, 10].map((i) => `@batch=${ref};time=${iso(START + i * 1_000)};msgid=${ids[i - 1]} :alice!~alice@10.0.0.1 PRIVMSG #c :line ${i}`));
    expect(lines.at(-1)).toBe(`:irc.test BATCH -${ref}`);
  });

  it('pages with BEFORE and AFTER by msgid or timestamp, BETWEEN either way, and AROUND', async () => {
    const { h, bob, ids } = await channel();
    const ask = async (line: string): Promise<string[]> => texts((await h.run(bob, line)).to(bob)).map((t) => t.slice('line '.length));
    expect(await ask(`CHATHISTORY BEFORE #c msgid=${ids[4]} 2`)).toEqual(['3', '4']);
    expect(await ask(`CHATHISTORY AFTER #c msgid=${ids[4]} 2`)).toEqual(['6', '7']);
    expect(await ask(`CHATHISTORY BEFORE #c timestamp=${iso(START + 3_000)} 5`)).toEqual(['1', '2']);
    expect(await ask(`CHATHISTORY AFTER #c timestamp=${iso(START + 9_000)} 5`)).toEqual(['10']);
    expect(await ask(`CHATHISTORY LATEST #c msgid=${ids[7]} 5`)).toEqual(['9', '10']);
    expect(await ask(`CHATHISTORY BETWEEN #c msgid=${ids[1]} msgid=${ids[6]} 2`)).toEqual(['3', '4']);
    expect(await ask(`CHATHISTORY BETWEEN #c msgid=${ids[6]} msgid=${ids[1]} 2`)).toEqual(['5', '6']);
    expect(await ask(`CHATHISTORY AROUND #c msgid=${ids[4]} 3`)).toEqual(['4', '5', '6']);
    // An unknown msgid is an empty batch.
    expect((await h.run(bob, 'CHATHISTORY BEFORE #c msgid=nope 5')).to(bob)).toHaveLength(2);
    // A limit past the maximum is cut to it; 0 asks for the maximum.
    expect(await ask('CHATHISTORY LATEST #c * 0')).toHaveLength(10);
  });

  it('gives a client without batch, server-time or message-tags the plain lines', async () => {
    const { h } = await channel();
    const plain = await h.register('plain', { caps: ['draft/chathistory'] });
    await h.run(plain, 'JOIN #c');
    expect((await h.run(plain, 'CHATHISTORY LATEST #c * 1')).to(plain)).toEqual([':alice!~alice@10.0.0.1 PRIVMSG #c :line 10']);
  });

  it('refuses a channel the asker is not in, a conversation without both accounts, and what does not parse', async () => {
    const { h, alice } = await channel();
    const out = await h.register('out', { caps: ALL });
    const fails = async (c: Client, line: string): Promise<string> => (await h.run(c, line)).to(c).join('\n');
    expect(await fails(out, 'CHATHISTORY LATEST #c * 10')).toBe(':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #c :Messages could not be retrieved');
    expect(await fails(out, 'CHATHISTORY LATEST alice * 10')).toBe(':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST alice :Messages could not be retrieved');
    expect(await fails(alice, 'CHATHISTORY LATEST out * 10')).toBe(':irc.test FAIL CHATHISTORY INVALID_TARGET LATEST out :Messages could not be retrieved');
    expect(await fails(alice, 'CHATHISTORY SIDEWAYS #c * 10')).toBe(':irc.test FAIL CHATHISTORY INVALID_PARAMS SIDEWAYS :Unknown subcommand');
    expect(await fails(alice, 'CHATHISTORY BEFORE #c * 10')).toBe(':irc.test FAIL CHATHISTORY INVALID_PARAMS BEFORE * :Invalid message reference');
    expect(await fails(alice, 'CHATHISTORY LATEST #c timestamp=yesterday 10')).toBe(':irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST timestamp=yesterday :Invalid message reference');
    expect(await fails(alice, 'CHATHISTORY LATEST #c * many')).toBe(':irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST many :Invalid limit');
    expect(await fails(alice, 'CHATHISTORY LATEST #c *')).toBe(':irc.test FAIL CHATHISTORY INVALID_PARAMS LATEST :Insufficient parameters');
  });

  it('reads a private conversation from either side, by nick, and by account name once the other has gone', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice');
    const bob = await loggedIn(h, 'bob');
    await say(h, alice, 'bob', 2, 'to bob');
    await say(h, bob, 'alice', 1, 'to alice');
    expect(texts((await h.run(alice, 'CHATHISTORY LATEST bob * 10')).to(alice))).toEqual(['to bob 1', 'to bob 2', 'to alice 1']);
    expect(texts((await h.run(bob, 'CHATHISTORY LATEST alice * 10')).to(bob))).toEqual(['to bob 1', 'to bob 2', 'to alice 1']);
    // Once bob has gone, his account's name still names the conversation (if the account exists).
    const scram = { salt: 's', iterations: 1, storedKey: 'k', serverKey: 'k' };
    await h.ctx.store.createAccount('bob-hist', { name: 'Bob-Hist', email: null, registeredAt: START }, { passwordHash: 'x', scram });
    const gone = await h.register('gone', { caps: ALL });
    gone.account = 'Bob-Hist';
    await h.state.setAccount(gone.id, 'Bob-Hist');
    await say(h, gone, 'alice', 1, 'from the past');
    await h.depart(gone, 'bye');
    expect(texts((await h.run(alice, 'CHATHISTORY LATEST Bob-Hist * 10')).to(alice))).toEqual(['from the past 1']);
    expect((await h.run(alice, 'CHATHISTORY LATEST nobody-at-all * 10')).to(alice)[0]).toContain('INVALID_TARGET');
  });

  it('lists with TARGETS the channels it is in and its conversations with history in the range, oldest first', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice');
    const bob = await loggedIn(h, 'bob');
    await h.run(alice, 'JOIN #c');
    await say(h, alice, '#c', 1);
    await say(h, bob, 'alice', 1);
    const lines = (await h.run(alice, `CHATHISTORY TARGETS timestamp=${iso(START)} timestamp=${iso(START + 60_000)} 10`)).to(alice);
    const ref = /^:irc\.test BATCH \+(\S+) draft\/chathistory-targets$/.exec(lines[0]!)?.[1];
    expect(lines.slice(1, -1)).toEqual([
      `@batch=${ref} :irc.test CHATHISTORY TARGETS #c ${iso(START + 1_000)}`,
      `@batch=${ref} :irc.test CHATHISTORY TARGETS bob ${iso(START + 2_000)}`,
    ]);
    // As BETWEEN, counted from the first timestamp: the later one first asks for the most
    // recently active, still listed oldest first.
    const targetsOf = (ls: string[]): string[] => ls.slice(1, -1).map((l) => l.split(' ')[4]!);
    expect(targetsOf((await h.run(alice, `CHATHISTORY TARGETS timestamp=${iso(START + 60_000)} timestamp=${iso(START)} 1`)).to(alice))).toEqual(['bob']);
    expect(targetsOf((await h.run(alice, `CHATHISTORY TARGETS timestamp=${iso(START)} timestamp=${iso(START + 60_000)} 1`)).to(alice))).toEqual(['#c']);
    expect(targetsOf((await h.run(alice, `CHATHISTORY TARGETS timestamp=${iso(START + 60_000)} timestamp=${iso(START)} 5`)).to(alice))).toEqual(['#c', 'bob']);
    // Listed only when the latest message is inside the window, whose bounds are excluded.
    await say(h, alice, '#c', 2);
    expect(targetsOf((await h.run(alice, `CHATHISTORY TARGETS timestamp=${iso(START)} timestamp=${iso(START + 2_500)} 5`)).to(alice))).toEqual(['bob']);
    expect(targetsOf((await h.run(alice, `CHATHISTORY TARGETS timestamp=${iso(START + 2_000)} timestamp=${iso(START + 60_000)} 5`)).to(alice))).toEqual(['#c']);
  });
});

describe('draft/event-playback', () => {
  it('keeps JOIN, PART, TOPIC, MODE, KICK, NICK and QUIT in each channel they were seen in, replayed only to clients that asked', async () => {
    const h = harness();
    const events = [...ALL, 'draft/event-playback', 'draft/message-redaction'];
    const op = await h.register('op', { caps: events });
    const bob = await h.register('bob', { caps: ALL });
    const carol = await h.register('carol');
    await h.run(op, 'JOIN #e,#f');
    for (const c of [bob, carol]) await h.run(c, 'JOIN #e');
    await h.run(bob, 'JOIN #f');
    await say(h, op, '#e', 1, 'hello');
    await h.run(op, 'TOPIC #e :news');
    await h.run(op, 'MODE #e +m');
    await h.run(op, 'KICK #e carol :out');
    await h.run(bob, 'NICK robert');
    await say(h, op, '#e', 1, 'bye');
    await h.run(bob, 'PART #e :later');
    await h.depart(bob, 'Quit: gone');

    const replay = (await h.run(op, 'CHATHISTORY LATEST #e * 100')).to(op).slice(1, -1).map((l) => l.slice(l.indexOf(' :') + 1));
    expect(replay).toEqual([
      ':op!~op@10.0.0.1 JOIN #e',
      ':bob!~bob@10.0.0.2 JOIN #e',
      ':carol!~carol@10.0.0.3 JOIN #e',
      ':op!~op@10.0.0.1 PRIVMSG #e :hello 1',
      ':op!~op@10.0.0.1 TOPIC #e :news',
      ':op!~op@10.0.0.1 MODE #e +m',
      ':op!~op@10.0.0.1 KICK #e carol :out',
      ':bob!~bob@10.0.0.2 NICK robert',
      ':op!~op@10.0.0.1 PRIVMSG #e :bye 1',
      ':robert!~bob@10.0.0.2 PART #e :later',
    ]);
    // The NICK (and not the QUIT: robert had left #e) is in #f too, after its JOINs.
    const inF = (await h.run(op, 'CHATHISTORY LATEST #f * 100')).to(op).slice(1, -1).map((l) => l.slice(l.indexOf(' :') + 1));
    expect(inF).toEqual([':op!~op@10.0.0.1 JOIN #f', ':bob!~bob@10.0.0.2 JOIN #f', ':bob!~bob@10.0.0.2 NICK robert', ':robert!~bob@10.0.0.2 QUIT :Quit: gone']);

    // Without the capability: the messages alone, and the limit counts messages.
    const dave = await h.register('dave', { caps: ALL });
    await h.run(dave, 'JOIN #e');
    expect(texts((await h.run(dave, 'CHATHISTORY LATEST #e * 2')).to(dave))).toEqual(['hello 1', 'bye 1']);
    // An event is the channel's record: not something REDACT deletes.
    const topicEvent = (await h.run(op, 'TOPIC #e :again')).outcome.history![0]!;
    expect((await h.run(op, `REDACT #e ${topicEvent.msgid}`)).to(op)).toEqual([`:irc.test FAIL REDACT REDACT_FORBIDDEN #e ${topicEvent.msgid} :Only messages can be deleted`]);
    expect((await h.run(dave, 'CHATHISTORY LATEST #e * 2')).to(dave).filter((l) => / (JOIN|PART|TOPIC|MODE|KICK|NICK|QUIT) /.test(l))).toEqual([]);
  });

  it('keeps a TAGMSG with a reaction or +draft/persist (not +typing), replayed as an event', async () => {
    const h = harness();
    const tags = [...ALL, 'draft/event-playback'];
    const alice = await h.register('alice', { caps: tags });
    const bob = await h.register('bob', { caps: ALL });
    for (const c of [alice, bob]) await h.run(c, 'JOIN #t');
    await h.run(alice, '@+typing=active TAGMSG #t');
    const kept = await h.run(alice, '@+draft/react=👍;+draft/reply=m1 TAGMSG #t');
    expect(kept.outcome.history?.map((e) => e.command)).toEqual(['TAGMSG']);
    await say(h, alice, '#t', 1);
    const withEvents = (await h.run(alice, 'CHATHISTORY LATEST #t * 10')).to(alice).filter((l) => / TAGMSG /.test(l));
    expect(withEvents).toHaveLength(1);
    expect(withEvents[0]).toContain('+draft/react=👍');
    expect((await h.run(bob, 'CHATHISTORY LATEST #t * 10')).to(bob).filter((l) => / TAGMSG /.test(l))).toEqual([]);
  });

  it('replays a JOIN with the account and realname to extended-join clients only', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice');
    await h.run(alice, 'JOIN #x');
    const extended = await h.register('ext', { caps: [...ALL, 'draft/event-playback', 'extended-join'] });
    await h.run(extended, 'JOIN #x');
    const lines = (await h.run(extended, 'CHATHISTORY LATEST #x * 10')).to(extended);
    expect(lines.filter((l) => l.includes(' JOIN ')).map((l) => l.slice(l.indexOf(' :') + 1))).toEqual([':alice!~alice@10.0.0.1 JOIN #x alice :alice real', ':ext!~ext@10.0.0.2 JOIN #x * :ext real']);
    const plain = await h.register('plain', { caps: [...ALL, 'draft/event-playback'] });
    await h.run(plain, 'JOIN #x');
    const seen = (await h.run(plain, 'CHATHISTORY LATEST #x * 10')).to(plain);
    expect(seen.filter((l) => l.includes(' JOIN ')).map((l) => l.slice(l.indexOf(' :') + 1))).toEqual([':alice!~alice@10.0.0.1 JOIN #x', ':ext!~ext@10.0.0.2 JOIN #x', ':plain!~plain@10.0.0.3 JOIN #x']);
  });
});

describe('MARKREAD', () => {
  it('keeps one marker per account and target, only forward, told to every connection of the account', async () => {
    const h = harness();
    const caps = [...ALL, 'draft/read-marker'];
    const phone = await loggedIn(h, 'alice', caps);
    const laptop = await h.register('alice2', { caps });
    laptop.account = 'alice';
    await h.state.setAccount(laptop.id, 'alice');
    expect((await h.run(phone, 'MARKREAD #c')).to(phone)).toEqual([':irc.test MARKREAD #c *']);
    const set = await h.run(phone, `MARKREAD #c timestamp=${iso(START - 5_000)}`);
    expect(set.to(laptop)).toEqual([`:irc.test MARKREAD #c timestamp=${iso(START - 5_000)}`]);
    expect(set.to(phone)).toEqual(set.to(laptop));
    // Older: answered with the marker as it stands, to the asker alone.
    const older = await h.run(laptop, `MARKREAD #C timestamp=${iso(START - 9_000)}`);
    expect(older.to(laptop)).toEqual([`:irc.test MARKREAD #C timestamp=${iso(START - 5_000)}`]);
    expect(older.to(phone)).toEqual([]);
    // Never past now.
    await h.run(phone, `MARKREAD #c timestamp=${iso(START + 3_600_000)}`);
    expect((await h.run(laptop, 'MARKREAD #c')).to(laptop)).toEqual([`:irc.test MARKREAD #c timestamp=${iso(START)}`]);
  });

  it('comes after a JOIN, before the end of NAMES, for clients with the capability', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice', [...ALL, 'draft/read-marker']);
    await h.run(alice, `MARKREAD #c timestamp=${iso(START - 1_000)}`);
    const join = (await h.run(alice, 'JOIN #c')).commands(alice);
    expect(join.indexOf('MARKREAD')).toBeGreaterThan(join.indexOf('JOIN'));
    expect(join.indexOf('MARKREAD')).toBeLessThan(join.indexOf('366'));
    const guest = await h.register('guest', { caps: ['draft/read-marker'] });
    expect((await h.run(guest, 'JOIN #c')).to(guest)).toContain(':irc.test MARKREAD #c *');
    // Without an account: markers of the connection alone, only forward, back after a rejoin.
    expect((await h.run(guest, 'MARKREAD #c')).to(guest)).toEqual([':irc.test MARKREAD #c *']);
    expect((await h.run(guest, `MARKREAD #c timestamp=${iso(START - 1_000)}`)).to(guest)).toEqual([`:irc.test MARKREAD #c timestamp=${iso(START - 1_000)}`]);
    expect((await h.run(guest, `MARKREAD #c timestamp=${iso(START - 5_000)}`)).to(guest)).toEqual([`:irc.test MARKREAD #c timestamp=${iso(START - 1_000)}`]);
    expect((await h.run(guest, 'MARKREAD #c *')).to(guest)).toEqual([':irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp']);
    await h.run(guest, 'PART #c');
    expect((await h.run(guest, 'JOIN #c')).to(guest)).toContain(`:irc.test MARKREAD #c timestamp=${iso(START - 1_000)}`);
    expect((await h.run(guest, 'MARKREAD')).to(guest)).toEqual([':irc.test FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters']);
  });

  it('refuses a target no channel or nick could be named, so an account cannot fill the store with markers', async () => {
    const h = harness();
    const alice = await loggedIn(h, 'alice', [...ALL, 'draft/read-marker']);
    const long = `#junk-${'x'.repeat(400)}`;
    for (const target of [long, '*', '1digit', 'a\x1bb']) {
      expect((await h.run(alice, `MARKREAD ${target} timestamp=${iso(START - 1_000)}`)).to(alice)).toEqual([`:irc.test FAIL MARKREAD INVALID_PARAMS ${target} :Invalid target`]);
    }
    expect(await h.ctx.history!.readMarker('alice', long)).toBeNull();
    // A nick is a target too (a private conversation).
    expect((await h.run(alice, `MARKREAD bob timestamp=${iso(START - 1_000)}`)).to(alice)).toEqual([`:irc.test MARKREAD bob timestamp=${iso(START - 1_000)}`]);
  });
});

describe('REDACT', () => {
  it('lets the sender, a channel operator or an IRC operator forget a message, relayed to members with the capability', async () => {
    const h = harness();
    const caps = [...ALL, 'draft/message-redaction'];
    const op = await loggedIn(h, 'op', caps);
    const alice = await loggedIn(h, 'alice', caps);
    const bob = await loggedIn(h, 'bob', ALL);
    for (const c of [op, alice, bob]) await h.run(c, 'JOIN #c');
    const [a1, a2] = await say(h, alice, '#c', 2);
    const [b1] = await say(h, bob, '#c', 1);
    const own = await h.run(alice, `REDACT #c ${a1} :typo`);
    expect(own.to(op)).toEqual([`:alice!~alice@10.0.0.2 REDACT #c ${a1} :typo`]);
    expect(own.to(alice)).toEqual(own.to(op));
    expect(own.to(bob)).toEqual([]);
    expect((await h.run(alice, `REDACT #c ${b1}`)).to(alice)).toEqual([`:irc.test FAIL REDACT REDACT_FORBIDDEN #c ${b1} :You are not authorised to delete this message`]);
    expect((await h.run(op, `REDACT #c ${b1}`)).to(op)).toEqual([expect.stringContaining(`REDACT #c ${b1}`)]);
    expect((await h.run(alice, `REDACT #c ${a1}`)).to(alice)).toEqual([`:irc.test FAIL REDACT UNKNOWN_MSGID #c ${a1} :This message does not exist or is too old`]);
    expect(texts((await h.run(bob, 'CHATHISTORY LATEST #c * 10')).to(bob))).toEqual(['line 2']);
    expect((await h.run(bob, 'CHATHISTORY LATEST #c * 10')).to(bob).join('\n')).toContain(`msgid=${a2}`);
  });
});
