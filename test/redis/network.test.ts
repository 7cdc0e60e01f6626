// One IRC network over several server processes on Redis (issue 9), seen by real clients: this
// file starts its own redis-server (free port, persistence off) and its nodes as real CLI
// processes on port 0, then checks what users on different nodes see of each other: delivery to
// channels and nicks (each member once), NAMES/WHO/WHOIS, the same lines a single server sends,
// one winner when 100 clients race for a nick, the order of each sender's messages, and a node
// started after the others joining the network as it is.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../irc/clients.js';
import { ask, connectIrc, type RawIrc } from '../irc/raw.js';
import { clientPool, killNodes, startNode, startNodes, startSolo, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

let redis: RedisServer;
const { fw, raw, track, closeAll } = clientPool();

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(() => {
  closeAll();
});

afterAll(async () => {
  await killNodes();
  await redis?.stop();
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** PRIVMSG/NOTICE texts `c` received from `nick` (to a channel or to it), in arrival order. */
const textsFrom = (c: TestClient, nick: string, type: 'privmsg' | 'notice') =>
  c.eventsNamed('message').filter((e) => e.type === type && e.nick === nick).map((e) => `${e.target} ${e.message}`);

describe('two nodes', () => {
  let n1: IrcNode;
  let n2: IrcNode;

  beforeAll(async () => {
    [n1, n2] = (await startNodes(redis.url, 2, { network: 'Two', extraArgs: ['--node-timeout', '5000'] })) as [IrcNode, IrcNode];
  });

  afterAll(async () => {
    await Promise.all([n1?.kill(), n2?.kill()]);
  });

  it('are two nodes of one network: different indexes, the same ISUPPORT NETWORK', async () => {
    expect(n1.index).not.toBeNull();
    expect(n2.index).not.toBe(n1.index);
    const [a, b] = await Promise.all([raw(n1, 'isa'), raw(n2, 'isb')]);
    for (const c of [a, b]) expect(await c.waitForLine(/ 005 .* NETWORK=/)).toMatch(/ NETWORK=Two /);
  });

  it('deliver a channel PRIVMSG and NOTICE to every member on both nodes once, and messages to a nick on the other node', async () => {
    const [alice, bob, carol] = await Promise.all([fw(n1, 'alice'), fw(n2, 'bob'), fw(n1, 'carol')]);
    await alice.join('#two');
    await bob.join('#two');
    await carol.join('#two');
    await alice.waitFor('join', (e) => e.nick === 'carol');
    await bob.waitFor('join', (e) => e.nick === 'carol');

    alice.say('#two', 'from n1 to the channel');
    bob.irc.notice('#two', 'a notice from n2');
    alice.say('bob', 'from alice on n1 to bob on n2');
    bob.irc.notice('alice', 'from bob on n2 to alice on n1');
    bob.say('carol', 'from bob to carol');
    // Last of each sender's messages: everything sent before it by that sender arrived first.
    alice.say('#two', 'alice done');
    bob.say('#two', 'bob done');
    await Promise.all([
      bob.waitFor('message', (e) => e.message === 'alice done'),
      carol.waitFor('message', (e) => e.message === 'alice done'),
      alice.waitFor('message', (e) => e.message === 'bob done'),
      carol.waitFor('message', (e) => e.message === 'bob done'),
    ]);

    expect(textsFrom(bob, 'alice', 'privmsg')).toEqual(['#two from n1 to the channel', 'bob from alice on n1 to bob on n2', '#two alice done']);
    expect(textsFrom(carol, 'alice', 'privmsg')).toEqual(['#two from n1 to the channel', '#two alice done']);
    expect(textsFrom(alice, 'bob', 'notice')).toEqual(['#two a notice from n2', 'alice from bob on n2 to alice on n1']);
    expect(textsFrom(carol, 'bob', 'notice')).toEqual(['#two a notice from n2']);
    expect(textsFrom(carol, 'bob', 'privmsg')).toEqual(['carol from bob to carol', '#two bob done']);
    expect(textsFrom(alice, 'bob', 'privmsg')).toEqual(['#two bob done']);
    // Nobody gets its own channel message back.
    expect(textsFrom(alice, 'alice', 'privmsg')).toEqual([]);
    expect(textsFrom(bob, 'bob', 'notice')).toEqual([]);
  });

  it('give each message a msgid unique across both nodes, the same one for every recipient, and relay TAGMSG +typing', async () => {
    const [dora, eve, finn] = await Promise.all([fw(n1, 'dora'), fw(n2, 'eve'), fw(n1, 'finn')]);
    for (const c of [dora, eve, finn]) await c.join('#ids');
    await dora.waitFor('join', (e) => e.nick === 'finn');
    await eve.waitFor('join', (e) => e.nick === 'finn');
    for (let i = 0; i < 20; i++) {
      dora.say('#ids', `d${i}`);
      eve.say('#ids', `e${i}`);
    }
    await Promise.all([finn.waitFor('message', (e) => e.message === 'd19'), finn.waitFor('message', (e) => e.message === 'e19')]);
    await Promise.all([eve.waitFor('message', (e) => e.message === 'd19'), dora.waitFor('message', (e) => e.message === 'e19')]);
    const idsAt = (c: TestClient) => new Map(c.eventsNamed('message').filter((e) => e.target === '#ids').map((e) => [e.message as string, e.tags.msgid as string]));
    const atFinn = idsAt(finn);
    expect(atFinn.size).toBe(40);
    // Forty messages from two nodes, forty ids.
    expect(new Set(atFinn.values()).size).toBe(40);
    for (const id of atFinn.values()) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    // A message from n2 has the same id on n1 as the one on n1 has, and the reverse.
    for (const [text, id] of idsAt(eve)) expect(atFinn.get(text)).toBe(id);
    for (const [text, id] of idsAt(dora)) expect(atFinn.get(text)).toBe(id);

    const typing = dora.waitFor('tagmsg', (e) => e.nick === 'eve');
    eve.irc.tagmsg('#ids', { '+typing': 'active' });
    expect((await typing).tags['+typing']).toBe('active');
  });

  it('deliver a STATUSMSG to the channel\'s operators on either node, and to no one else', async () => {
    const [boss, deputy, talker, bystander] = await Promise.all([raw(n1, 'boss'), raw(n2, 'deputy'), raw(n1, 'talker'), raw(n2, 'bystander')]);
    for (const c of [boss, deputy, talker, bystander]) {
      c.send('JOIN #ops');
      await c.waitForLine(/ 366 \S+ #ops /);
    }
    boss.send('MODE #ops +ov deputy talker');
    await talker.waitForLine(/MODE #ops \+ov deputy talker$/);
    talker.send('PRIVMSG @#ops :for the ops', 'PRIVMSG #ops :for all');
    await Promise.all([boss, deputy, bystander].map((c) => c.waitForLine(/PRIVMSG #ops :for all$/)));
    for (const c of [boss, deputy]) expect(c.lines().filter((l) => l.includes('PRIVMSG @#ops'))).toEqual([':talker!~talker@127.0.0.1 PRIVMSG @#ops :for the ops']);
    expect(bystander.lines().some((l) => l.includes('for the ops'))).toBe(false);
  });

  it('rename a channel for its members on both nodes: RENAME with draft/channel-rename, PART, JOIN, topic and NAMES without; talk goes on under the new name', async () => {
    const op = await raw(n1, 'renop');
    const capped = await connectIrc(n2.port);
    track(capped);
    capped.send('CAP REQ :draft/channel-rename', 'NICK rencap', 'USER rencap 0 * :rencap', 'CAP END');
    await capped.waitForLine(/^\S+ (376|422) /);
    const plain = await raw(n2, 'renplain');
    for (const c of [op, capped, plain]) {
      c.send('JOIN #before');
      await c.waitForLine(/ 366 \S+ #before /);
    }
    op.send('TOPIC #before :kept topic', 'MODE #before +b bad!*@*');
    await plain.waitForLine(/MODE #before \+b bad!\*@\*$/);
    const from = plain.lines().length;
    op.send('RENAME #before #After :moving on');
    expect(await capped.waitForLine(/ RENAME /)).toBe(':renop!~renop@127.0.0.1 RENAME #before #After :moving on');
    await plain.waitForLine(/ 366 renplain #After /);
    expect(plain.lines().slice(from)).toEqual([
      ':renplain!~renplain@127.0.0.1 PART #before :moving on',
      ':renplain!~renplain@127.0.0.1 JOIN #After',
      ':n2.test 332 renplain #After :kept topic',
      expect.stringMatching(/^:n2\.test 333 renplain #After renop!~renop@127\.0\.0\.1 \d+$/),
      ':n2.test 353 renplain = #After :@renop rencap renplain',
      ':n2.test 366 renplain #After :End of /NAMES list',
    ]);
    // The channel kept its operator and ban list, and what is said under the new name, from
    // either node, reaches everyone in it on both.
    expect(await ask(op, 'MODE #after b', / 36[78] /)).toMatch(/^:n1\.test 367 renop #After bad!\*@\* renop \d+$/);
    plain.send('PRIVMSG #after :said on n2');
    op.send('PRIVMSG #AFTER :said on n1');
    expect(await op.waitForLine(/said on n2/)).toBe(':renplain!~renplain@127.0.0.1 PRIVMSG #After :said on n2');
    for (const c of [capped, plain]) expect(await c.waitForLine(/said on n1/)).toBe(':renop!~renop@127.0.0.1 PRIVMSG #After :said on n1');
    expect(await capped.waitForLine(/said on n2/)).toMatch(/PRIVMSG #After :said on n2$/);
    // The old name is free: joining it makes a new, empty channel.
    expect(await ask(capped, 'JOIN #before', / 353 /)).toMatch(/^:n2\.test 353 rencap = #before :?@rencap$/);
  });

  it('keep nicks unique across both nodes, case-insensitively, at registration and on NICK', async () => {
    const owner = await raw(n1, 'Owner');
    const other = await raw(n2, 'other');
    other.send('NICK OWNER');
    expect(await other.waitForLine(/ 433 /)).toBe(`:n2.test 433 other OWNER :Nickname is already in use`);
    const late = await connectIrc(n2.port);
    track(late);
    late.send('NICK owner', 'USER late 0 * :late');
    expect(await late.waitForLine(/ 433 /)).toBe(`:n2.test 433 * owner :Nickname is already in use`);
    // Once the owner is gone, the nick is free on the other node at once.
    owner.send('QUIT :bye');
    await owner.closed;
    other.send('NICK owner');
    expect(await other.waitForLine(/ NICK /)).toMatch(/^:other!\S+ NICK :?owner$/);
  });

  it('answer NAMES, WHO and WHOIS about users on the other node', async () => {
    const ann = await raw(n1, 'ann');
    const ben = await raw(n2, 'ben');
    ann.send('JOIN #q');
    await ann.waitForLine(/ 366 ann #q /);
    ben.send('JOIN #q', 'AWAY :out for lunch');
    await ann.waitForLine(/^:ben!\S+ JOIN :?#q$/);
    await ben.waitForLine(/ 306 /);

    const at = ann.lines().length;
    ann.send('NAMES #q', 'WHO #q', 'WHOIS ben');
    await ann.waitForLine(/ 318 ann ben /, 5_000, at);
    const replies = ann.lines().slice(at).map((l) => l.replace(/ 317 ann ben \d+ \d+ /, ' 317 ann ben IDLE SIGNON '));
    expect(replies).toEqual([
      ':n1.test 353 ann = #q :@ann ben',
      ':n1.test 366 ann #q :End of /NAMES list',
      ':n1.test 352 ann #q ~ann 127.0.0.1 n1.test ann H@ :0 ann test',
      ':n1.test 352 ann #q ~ben 127.0.0.1 n2.test ben G :0 ben test',
      ':n1.test 315 ann #q :End of WHO list',
      ':n1.test 311 ann ben ~ben 127.0.0.1 * :ben test',
      ':n1.test 319 ann ben #q',
      // The server ben is on, as a network of ircds says it.
      expect.stringMatching(/^:n1\.test 312 ann ben n2\.test :/),
      ':n1.test 301 ann ben :out for lunch',
      ':n1.test 317 ann ben IDLE SIGNON :seconds idle, signon time',
      ':n1.test 318 ann ben :End of /WHOIS list',
    ]);
    // And the other way round: ben on n2 sees ann on n1.
    const from = ben.lines().length;
    ben.send('WHOIS ann');
    await ben.waitForLine(/ 318 ben ann /, 5_000, from);
    expect(ben.lines().slice(from)).toContainEqual(expect.stringMatching(/^:n2\.test 312 ben ann n1\.test :/));
    expect(ben.lines().slice(from)).toContain(':n2.test 319 ben ann @#q');
  });

  it('hold +b/+e, +I, +q, +R and +M set on one node for users on the other', async () => {
    const boss = await raw(n1, 'boss2');
    boss.send('JOIN #lists');
    await boss.waitForLine(/ 366 boss2 #lists /);
    await ask(boss, 'MODE #lists +be shady!*@* shady!~shady@*', /MODE #lists \+be /);
    // +e over +b, on the other node.
    const shady = await raw(n2, 'shady');
    expect(await ask(shady, 'JOIN #lists', / (366|474) /)).toMatch(/ 366 shady #lists /);

    await ask(boss, 'MODE #lists +RI friend!*@*', /MODE #lists \+RI friend!\*@\*$/);
    const guest = await raw(n2, 'guest2');
    expect(await ask(guest, 'JOIN #lists', / (366|477) /)).toBe(
      ':n2.test 477 guest2 #lists :Cannot join channel (+R) - you need to be logged into your account',
    );
    // +I lets a client without an account past +R; an account gets in on its own.
    const friend = await raw(n2, 'friend');
    expect(await ask(friend, 'JOIN #lists', / (366|477) /)).toMatch(/ 366 friend #lists /);
    // Registered as an account by this test (the nodes' store is this test process's own).
    const nick = 'listmember';
    const member = await raw(n2, nick);
    await ask(member, 'PRIVMSG NickServ :REGISTER opensesame42', / 900 /);
    expect(await ask(member, 'JOIN #lists', / (366|477) /)).toMatch(new RegExp(` 366 ${nick} #lists `));

    // The lists as the other node sees them.
    expect(await ask(friend, 'MODE #lists I', / (346|347|482) /)).toBe(":n2.test 482 friend #lists :You're not channel operator");
    await ask(boss, `MODE #lists +q ${nick}`, /MODE #lists \+q /);
    expect(await ask(friend, 'MODE #lists q', / 728 /)).toMatch(new RegExp(`^:n2\\.test 728 friend #lists q ${nick}!\\*@\\* boss2 \\d+$`));

    // +q on n1 mutes a member on n2; +M mutes one without an account; +v and +e let them speak.
    expect(await ask(member, 'PRIVMSG #lists :quiet?', / 404 /)).toBe(`:n2.test 404 ${nick} #lists :Cannot send to channel`);
    await ask(boss, 'MODE #lists +M', /MODE #lists \+M$/);
    expect(await ask(friend, 'PRIVMSG #lists :no account', / 404 /)).toBe(':n2.test 404 friend #lists :Cannot send to channel');
    await ask(boss, `MODE #lists +e ${nick}`, /MODE #lists \+e /);
    member.send('PRIVMSG #lists :excepted');
    await boss.waitForLine(/PRIVMSG #lists :excepted$/);
    await ask(boss, 'MODE #lists +v friend', /MODE #lists \+v friend$/);
    friend.send('PRIVMSG #lists :voiced');
    await boss.waitForLine(/PRIVMSG #lists :voiced$/);
    expect(boss.lines().filter((l) => / PRIVMSG #lists /.test(l)).map((l) => l.split(' PRIVMSG ')[1])).toEqual(['#lists :excepted', '#lists :voiced']);
  });
});

describe('three nodes', () => {
  let nodes: IrcNode[];
  // A bigger recvq: the ordering test writes hundreds of lines in one go. No test here kills a
  // node, so the shipped node timeout: the tests' 1.5 s took a node of a loaded machine for
  // dead (its users reaped, NAMES without them) while it was only slow.
  const extraArgs = ['--recvq', String(256 * 1024), '--node-timeout', '5000'];

  beforeAll(async () => {
    nodes = await startNodes(redis.url, 3, { network: 'Three', extraArgs });
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.kill()));
  });

  it('send every client the same lines a single server sends, with the users spread over three nodes', async () => {
    const [n1, n2, n3] = nodes as [IrcNode, IrcNode, IrcNode];
    const solo = await startSolo('solo.test', { network: 'Three' });
    try {
      const spread = await playScenario({ alice: n1, bob: n2, carol: n3, dave: n2 });
      const single = await playScenario({ alice: solo, bob: solo, carol: solo, dave: solo });
      for (const nick of Object.keys(single)) expect({ nick, lines: spread[nick] }).toEqual({ nick, lines: single[nick] });
    } finally {
      await solo.kill();
    }
  });

  it('let exactly one of 100 clients spread over three nodes win a nick they race for; the 99 others get 433', async () => {
    const racers = await Promise.all(Array.from({ length: 100 }, (_, i) => raw(nodes[i % 3]!, `racer${i}`)));
    // As close to the same moment as one process can: one write each, in one turn.
    for (const r of racers) r.send('NICK prize');
    await Promise.all(racers.map((r, i) => r.waitForLine(new RegExp(`^:racer${i}!\\S+ NICK :?prize$| 433 racer${i} prize `))));
    const winners = racers.filter((r) => r.lines().some((l) => / NICK :?prize$/.test(l)));
    const losers = racers.filter((r, i) => r.lines().some((l) => l.endsWith(` 433 racer${i} prize :Nickname is already in use`)));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(99);
    const winner = racers.indexOf(winners[0]!);
    // Every node agrees on who holds it.
    for (const [i, r] of [racers[0]!, racers[1]!, racers[2]!].entries()) {
      const from = r.lines().length;
      r.send('WHOIS prize');
      await r.waitForLine(/ 318 /, 5_000, from);
      const me = i === winner ? 'prize' : `racer${i}`;
      expect(r.lines().slice(from), `WHOIS from n${i + 1}`).toContain(`:n${i + 1}.test 311 ${me} prize ~racer${winner} 127.0.0.1 * :racer${winner} test`);
    }

    // The same race at registration: 100 new connections ask for one nick; one is welcomed.
    const fresh = await Promise.all(Array.from({ length: 100 }, (_, i) => connectIrc(nodes[i % 3]!.port)));
    track(...fresh);
    for (const [i, c] of fresh.entries()) c.send('NICK gold', `USER gold${i} 0 * :gold ${i}`);
    await Promise.all(fresh.map((c) => c.waitForLine(/ 001 gold | 433 \* gold /)));
    expect(fresh.filter((c) => c.lines().some((l) => / 001 gold /.test(l)))).toHaveLength(1);
    expect(fresh.filter((c) => c.lines().some((l) => / 433 \* gold :Nickname is already in use$/.test(l)))).toHaveLength(99);
  });

  it("deliver each sender's channel messages to every member on every node once, in the order sent", async () => {
    const [n1, n2, n3] = nodes as [IrcNode, IrcNode, IrcNode];
    const count = 300;
    const members = { ola: n1, pia: n2, quinn: n3, rob: n1 } as const;
    const clients = Object.fromEntries(
      await Promise.all(Object.entries(members).map(async ([nick, node]) => [nick, await raw(node, nick)] as const)),
    ) as Record<keyof typeof members, RawIrc>;
    for (const c of Object.values(clients)) {
      c.send('JOIN #order');
      await c.waitForLine(/ 366 \S+ #order /);
    }
    await clients.ola.waitForLine(/^:rob!\S+ JOIN/);
    const senders = ['ola', 'quinn'] as const;
    // Each sender writes all its messages at once; the two senders interleave freely.
    for (const s of senders) clients[s].send(...Array.from({ length: count }, (_, i) => `PRIVMSG #order :${s} ${i}`));
    const received = (c: RawIrc, sender: string) =>
      c.lines().flatMap((l) => {
        const m = new RegExp(`^:${sender}!\\S+ PRIVMSG #order :${sender} (\\d+)$`).exec(l);
        return m ? [Number(m[1])] : [];
      });
    for (const [nick, c] of Object.entries(clients)) {
      for (const s of senders) {
        if (s === nick) continue;
        await c.waitForLine(new RegExp(`PRIVMSG #order :${s} ${count - 1}$`), 10_000);
        expect(received(c, s), `${nick} receiving ${s}`).toEqual(Array.from({ length: count }, (_, i) => i));
      }
    }
    // Nothing came back to its sender.
    for (const s of senders) expect(received(clients[s], s)).toEqual([]);
  });

  it('let a node started after the others see the network as it is', async () => {
    const [n1, n2] = nodes as [IrcNode, IrcNode, IrcNode];
    const [uma, vic] = await Promise.all([fw(n1, 'uma'), fw(n2, 'vic')]);
    await uma.join('#late');
    await vic.join('#late');
    await uma.setTopic('#late', 'set before n4 existed');

    const n4 = await startNode(redis.url, 'n4.test', { network: 'Three', extraArgs });
    try {
      expect(nodes.map((n) => n.index)).not.toContain(n4.index);
      const taken = await connectIrc(n4.port);
      track(taken);
      taken.send('NICK uma', 'USER x 0 * :x');
      expect(await taken.waitForLine(/ 433 /)).toBe(':n4.test 433 * uma :Nickname is already in use');

      const wes = await fw(n4, 'wes');
      await wes.join('#late');
      const names = wes.eventsNamed('userlist').find((e) => e.channel === '#late')!;
      expect(names.users.map((u: { nick: string; modes: string[] }) => `${u.modes.includes('o') ? '@' : ''}${u.nick}`)).toEqual(['@uma', 'vic', 'wes']);
      expect(wes.eventsNamed('topic').find((e) => e.channel === '#late')?.topic).toBe('set before n4 existed');
      await Promise.all([uma.waitFor('join', (e) => e.nick === 'wes'), vic.waitFor('join', (e) => e.nick === 'wes')]);

      wes.say('#late', 'hello from n4');
      uma.say('#late', 'hello n4 from n1');
      await Promise.all([
        uma.waitFor('message', (e) => e.message === 'hello from n4'),
        vic.waitFor('message', (e) => e.message === 'hello from n4'),
        wes.waitFor('message', (e) => e.message === 'hello n4 from n1'),
      ]);
      const whois = wes.waitForLine(/ 312 wes vic n2\.test /);
      wes.irc.raw('WHOIS', 'vic');
      await whois;
    } finally {
      await n4.terminate();
    }
  });
});

/**
 * The same script played by four raw clients, each on the server given for it; returns what
 * each received after its registration, with what may differ between two runs (server names,
 * times, idle seconds) replaced. Every step waits until everyone concerned has seen it: the
 * acting client then sends each other client a NOTICE `sync N`, which (one connection, one order
 * through Redis) arrives after everything the step caused.
 */
async function playScenario(servers: Record<'alice' | 'bob' | 'carol' | 'dave', IrcNode>): Promise<Record<string, string[]>> {
  const clients = new Map<string, RawIrc>();
  const start = new Map<string, number>();
  await Promise.all(
    Object.entries(servers).map(async ([nick, node]) => {
      const c = await raw(node, nick);
      clients.set(nick, c);
      start.set(nick, c.lines().length);
    }),
  );
  /** Current nick of each client (a NICK step renames). */
  const nickOf = new Map([...clients.keys()].map((k) => [k, k]));
  let syncs = 0;
  const step = async (who: string, line: string): Promise<void> => {
    const c = clients.get(who)!;
    const n = ++syncs;
    c.send(line);
    const others = [...clients.keys()].filter((k) => k !== who);
    for (const o of others) c.send(`NOTICE ${nickOf.get(o)} :sync ${n}`);
    // The sender also waits for its own replies: a PING answered after the command.
    c.send(`PING :sync-${n}`);
    await c.waitForLine(new RegExp(`PONG \\S+ :?sync-${n}$`));
    await Promise.all(others.map((o) => clients.get(o)!.waitForLine(new RegExp(`NOTICE ${escape(nickOf.get(o)!)} :sync ${n}$`))));
  };

  await step('alice', 'JOIN #s');
  await step('bob', 'JOIN #s');
  await step('carol', 'JOIN #s');
  await step('dave', 'JOIN #s');
  await step('alice', 'TOPIC #s :the topic of #s');
  await step('alice', 'MODE #s +v bob');
  await step('alice', 'MODE #s +o carol');
  await step('carol', 'MODE #s +l 10');
  await step('dave', 'TOPIC #s :not an operator');
  await step('bob', 'PRIVMSG #s :hi everyone');
  await step('dave', 'NOTICE #s :a notice');
  await step('bob', 'NICK robert');
  nickOf.set('bob', 'robert');
  await step('bob', 'PRIVMSG alice :just to alice');
  await step('carol', 'KICK #s dave :bye dave');
  await step('carol', 'KICK #s dave :not there');
  await step('dave', 'PRIVMSG #s :from outside');
  await step('dave', 'JOIN #s');
  await step('dave', 'PART #s :later');
  await step('alice', 'NAMES #s');
  await step('dave', 'WHO #s');
  await step('alice', 'WHOIS robert');
  await step('carol', 'TOPIC #s');
  await step('alice', 'MODE #s');
  await step('alice', 'PRIVMSG nobody :anyone?');
  await step('dave', 'NICK alice');
  await step('alice', 'MODE #s +b *!*@banned.example');
  await step('alice', 'MODE #s b');
  // The last step: bob quits; alice and carol share #s with him and see it.
  const alice = clients.get('alice')!;
  const carol = clients.get('carol')!;
  clients.get('bob')!.send('QUIT :gone now');
  await Promise.all([alice.waitForLine(/^:robert!\S+ QUIT /), carol.waitForLine(/^:robert!\S+ QUIT /), clients.get('bob')!.closed]);
  for (const [nick, c] of clients) if (nick !== 'bob') c.raw.socket.destroy();

  const normalise = (l: string) =>
    l
      .replace(/\b(n\d\.test|solo\.test)\b/g, 'SERVER')
      .replace(/ 317 (\S+) (\S+) \d+ \d+ /, ' 317 $1 $2 IDLE SIGNON ')
      .replace(/\b\d{10}\b/g, 'TIME');
  return Object.fromEntries([...clients].map(([nick, c]) => [nick, c.lines().slice(start.get(nick)).map(normalise)]));
}
