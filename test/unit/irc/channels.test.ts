import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '../../../src/irc/commands/common.js';
import { harness, START } from './harness.js';

async function pair(overrides = {}) {
  const h = harness(overrides);
  const alice = await h.register('alice');
  const bob = await h.register('bob');
  return { h, alice, bob };
}

describe('JOIN', () => {
  it('creates a channel: the joiner is its operator and gets JOIN, then NAMES', async () => {
    const { h, alice } = await pair();
    const r = await h.run(alice, 'JOIN #Chan');
    expect(r.lines).toEqual([
      'alice <- :alice!~alice@10.0.0.1 JOIN #Chan',
      'alice <- :irc.test 353 alice = #Chan @alice',
      'alice <- :irc.test 366 alice #Chan :End of /NAMES list',
    ]);
    expect(h.state.channel('#chan')).toMatchObject({ name: '#Chan', createdAt: START, modes: { flags: 'nt', key: null, limit: null } });
  });

  it('shows a join to the members, and the topic then NAMES to the joiner', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #chan');
    await h.run(alice, 'TOPIC #chan :hello world');
    const r = await h.run(bob, 'join #CHAN');
    expect(r.lines).toEqual([
      'alice <- :bob!~bob@10.0.0.2 JOIN #chan',
      'bob <- :bob!~bob@10.0.0.2 JOIN #chan',
      'bob <- :irc.test 332 bob #chan :hello world',
      `bob <- :irc.test 333 bob #chan alice!~alice@10.0.0.1 ${START / 1000}`,
      'bob <- :irc.test 353 bob = #chan :@alice bob',
      'bob <- :irc.test 366 bob #chan :End of /NAMES list',
    ]);
    expect(h.state.membership('#chan', 'bob')).toEqual({ op: false, voice: false });
  });

  it('joins several channels with their keys', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a,#b');
    await h.run(alice, 'MODE #b +k sesame');
    const r = await h.run(bob, 'JOIN #a,#b x,sesame');
    expect(r.commands(bob)).toEqual(['JOIN', '353', '366', 'JOIN', '353', '366']);
  });

  it('ignores a join to a channel the client is already in', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(alice, 'JOIN #A')).lines).toEqual([]);
  });

  it('answers 403 for a name that is not a channel and 479 for an invalid one', async () => {
    const { h, alice } = await pair({ channelLength: 10 });
    const r = await h.run(alice, 'JOIN chan,#,#waytoolongname,#ok');
    expect(r.to(alice).slice(0, 3)).toEqual([
      ':irc.test 403 alice chan :No such channel',
      ':irc.test 479 alice # :Illegal channel name',
      ':irc.test 479 alice #waytoolongname :Illegal channel name',
    ]);
    expect(r.commands(alice).slice(3)).toEqual(['JOIN', '353', '366']);
  });

  it('answers 405 past maxChannelsPerClient', async () => {
    const { h, alice } = await pair({ maxChannelsPerClient: 2 });
    const r = await h.run(alice, 'JOIN #a,#b,#c');
    expect(r.to(alice).at(-1)).toBe(':irc.test 405 alice #c :You have joined too many channels');
  });

  it('answers 471 when +l is reached', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +l 1');
    expect((await h.run(bob, 'JOIN #a')).lines).toEqual(['bob <- :irc.test 471 bob #a :Cannot join channel (+l)']);
  });

  it('answers 473 for +i unless invited, and an invite works once', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +i');
    expect((await h.run(bob, 'JOIN #a')).lines).toEqual(['bob <- :irc.test 473 bob #a :Cannot join channel (+i)']);
    await h.run(alice, 'INVITE bob #a');
    expect((await h.run(bob, 'JOIN #a')).commands(bob)).toEqual(['JOIN', '353', '366']);
    await h.run(bob, 'PART #a');
    expect((await h.run(bob, 'JOIN #a')).commands(bob)).toEqual(['473']);
  });

  it('answers 474 when a ban matches, folded, with * and ?', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +b B?B!*@*');
    expect((await h.run(bob, 'JOIN #a')).lines).toEqual(['bob <- :irc.test 474 bob #a :Cannot join channel (+b)']);
  });

  it('lets a +e mask past a ban and a +I mask past +i', async () => {
    const { h, alice, bob } = await pair();
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +be *!*@10.0.0.* bob');
    expect((await h.run(carol, 'JOIN #a')).commands(carol)).toEqual(['474']);
    expect((await h.run(bob, 'JOIN #a')).commands(bob)).toEqual(['JOIN', '353', '366']);
    await h.run(alice, 'MODE #a -b+iI *!*@10.0.0.* carol');
    expect((await h.run(carol, 'JOIN #a')).commands(carol)).toEqual(['JOIN', '353', '366']);
    const dave = await h.register('dave');
    expect((await h.run(dave, 'JOIN #a')).commands(dave)).toEqual(['473']);
  });

  it('answers 477 on a +R channel to a client not logged in', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +R');
    expect((await h.run(bob, 'JOIN #a')).lines).toEqual([
      'bob <- :irc.test 477 bob #a :Cannot join channel (+R) - you need to be logged into your account',
    ]);
    bob.account = 'Bob';
    await h.state.setAccount(bob.id, 'Bob');
    expect((await h.run(bob, 'JOIN #a')).commands(bob)).toEqual(['JOIN', '353', '366']);
  });

  it('answers 475 for a wrong or missing key', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +k sesame');
    expect((await h.run(bob, 'JOIN #a')).lines).toEqual(['bob <- :irc.test 475 bob #a :Cannot join channel (+k)']);
    expect((await h.run(bob, 'JOIN #a wrong')).commands(bob)).toEqual(['475']);
    expect((await h.run(bob, 'JOIN #a sesame')).commands(bob)).toEqual(['JOIN', '353', '366']);
  });

  it('JOIN 0 parts every channel, each PART seen by its channel and the client', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'JOIN #a');
    const r = await h.run(alice, 'JOIN 0');
    expect(r.lines).toEqual([
      'bob <- :alice!~alice@10.0.0.1 PART #a',
      'alice <- :alice!~alice@10.0.0.1 PART #a',
      'alice <- :alice!~alice@10.0.0.1 PART #b',
    ]);
    expect(h.state.channel('#b')).toBeNull();
  });

  it('splits a long NAMES reply into lines that fit in 512 bytes', async () => {
    const h = harness();
    const nicks: string[] = [];
    for (let i = 0; i < 40; i++) {
      const nick = `user${String(i).padStart(2, '0')}${'x'.repeat(20)}`;
      nicks.push(nick);
      await h.run(await h.register(nick), 'JOIN #big');
    }
    const last = await h.register('last');
    const r = await h.run(last, 'JOIN #big');
    const lines = r.to(last).filter((l) => l.split(' ')[1] === '353');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    const listed = lines.flatMap((l) => l.slice(l.indexOf(' :') + 2).split(' '));
    expect(listed).toEqual([`@${nicks[0]}`, ...nicks.slice(1), 'last']);
  });
});

describe('PART', () => {
  it('is seen by the channel and the client, with the reason', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    const r = await h.run(bob, 'PART #A :see you');
    expect(r.lines).toEqual([
      'alice <- :bob!~bob@10.0.0.2 PART #a :see you',
      'bob <- :bob!~bob@10.0.0.2 PART #a :see you',
    ]);
    expect(h.state.membership('#a', 'bob')).toBeNull();
  });

  it('answers 403 for no such channel and 442 when not in it', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(bob, 'PART #nope,#a')).lines).toEqual([
      'bob <- :irc.test 403 bob #nope :No such channel',
      "bob <- :irc.test 442 bob #a :You're not on that channel",
    ]);
  });

  it('makes a channel left empty disappear', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'PART #a');
    expect(h.state.channel('#a')).toBeNull();
    expect(h.state.counts().channels).toBe(0);
  });
});

describe('TOPIC', () => {
  it('answers 331 when there is no topic', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(alice, 'TOPIC #a')).lines).toEqual(['alice <- :irc.test 331 alice #a :No topic is set']);
  });

  it('sets the topic for the whole channel, cut to TOPICLEN, and shows it on request', async () => {
    const { h, alice, bob } = await pair({ topicLength: 5 });
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    const r = await h.run(alice, 'TOPIC #a :abcdefgh');
    expect(r.lines).toEqual(['alice <- :alice!~alice@10.0.0.1 TOPIC #a :abcde', 'bob <- :alice!~alice@10.0.0.1 TOPIC #a :abcde']);
    h.clock.now = START + 9_000;
    expect((await h.run(bob, 'TOPIC #a')).lines).toEqual([
      'bob <- :irc.test 332 bob #a abcde',
      `bob <- :irc.test 333 bob #a alice!~alice@10.0.0.1 ${START / 1000}`,
    ]);
  });

  it('clears the topic with an empty one', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'TOPIC #a :x');
    expect((await h.run(alice, 'TOPIC #a :')).lines).toEqual(['alice <- :alice!~alice@10.0.0.1 TOPIC #a :']);
    expect(h.state.channel('#a')?.topic).toBeNull();
  });

  it('answers 482 under +t for a non-operator, and lets anyone set it under -t', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.run(bob, 'TOPIC #a :mine')).lines).toEqual(["bob <- :irc.test 482 bob #a :You're not channel operator"]);
    await h.run(alice, 'MODE #a -t');
    expect((await h.run(bob, 'TOPIC #a :mine')).commands(alice)).toEqual(['TOPIC']);
  });

  it('answers 442 to a non-member setting it, and 403 for no channel', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(bob, 'TOPIC #a :x')).lines).toEqual(["bob <- :irc.test 442 bob #a :You're not on that channel"]);
    expect((await h.run(bob, 'TOPIC #zz')).lines).toEqual(['bob <- :irc.test 403 bob #zz :No such channel']);
  });

  it('hides the topic of a +s channel from non-members', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #s');
    await h.run(alice, 'MODE #s +s');
    expect((await h.run(bob, 'TOPIC #s')).commands(bob)).toEqual(['442']);
  });
});

describe('NAMES', () => {
  it('lists members with their highest prefix, or all of them with multi-prefix', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    const carol = await h.register('carol', { caps: ['multi-prefix'] });
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    await h.run(carol, 'JOIN #a');
    await h.run(alice, 'MODE #a +vv alice bob');
    expect((await h.run(bob, 'NAMES #a')).to(bob)).toEqual([
      ':irc.test 353 bob = #a :@alice +bob carol',
      ':irc.test 366 bob #a :End of /NAMES list',
    ]);
    expect((await h.run(carol, 'NAMES #a')).to(carol)[0]).toBe(':irc.test 353 carol = #a :@+alice +bob carol');
  });

  it('marks a +s channel with @ and hides it from non-members', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #s');
    await h.run(alice, 'MODE #s +s');
    expect((await h.run(alice, 'NAMES #s')).to(alice)[0]).toBe(':irc.test 353 alice @ #s @alice');
    expect((await h.run(bob, 'NAMES #s')).lines).toEqual(['bob <- :irc.test 366 bob #s :End of /NAMES list']);
  });

  it('hides +i members from non-members', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'MODE alice +i');
    await h.run(alice, 'JOIN #a');
    const carol = await h.register('carol');
    await h.run(carol, 'JOIN #a');
    expect((await h.run(bob, 'NAMES #a')).to(bob)[0]).toBe(':irc.test 353 bob = #a carol');
  });

  it('answers several channels with their 353s and one 366 naming the list; nick!user@host with userhost-in-names', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['userhost-in-names'] });
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'JOIN #b');
    expect((await h.run(bob, 'NAMES #a,#none,#b')).to(bob)).toEqual([
      ':irc.test 353 bob = #a @alice',
      ':irc.test 353 bob = #b :@alice bob',
      ':irc.test 366 bob #a,#none,#b :End of /NAMES list',
    ]);
    expect((await h.run(alice, 'NAMES #b')).to(alice)).toEqual([
      ':irc.test 353 alice = #b :@alice!~alice@10.0.0.1 bob!~bob@10.0.0.2',
      ':irc.test 366 alice #b :End of /NAMES list',
    ]);
  });

  it('answers only 366 for no such channel, or for no parameter', async () => {
    const { h, alice } = await pair();
    expect((await h.run(alice, 'NAMES #none')).lines).toEqual(['alice <- :irc.test 366 alice #none :End of /NAMES list']);
    expect((await h.run(alice, 'NAMES')).lines).toEqual(['alice <- :irc.test 366 alice * :End of /NAMES list']);
  });
});

describe('LIST', () => {
  it('lists visible channels with member count and topic', async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a,#b,#s');
    await h.run(bob, 'JOIN #a');
    await h.run(alice, 'TOPIC #a :the a channel');
    await h.run(alice, 'MODE #s +s');
    expect((await h.run(bob, 'LIST')).lines).toEqual([
      'bob <- :irc.test 321 bob Channel :Users  Name',
      'bob <- :irc.test 322 bob #a 2 :the a channel',
      'bob <- :irc.test 322 bob #b 1 :',
      'bob <- :irc.test 323 bob :End of /LIST',
    ]);
    expect((await h.run(alice, 'LIST')).commands(alice)).toEqual(['321', '322', '322', '322', '323']);
  });

  it('filters by names and masks', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #apple,#banana,#avocado');
    const r = await h.run(alice, 'LIST #BANANA,#av*');
    expect(r.to(alice).filter((l) => l.includes(' 322 ')).map((l) => l.split(' ')[3])).toEqual(['#banana', '#avocado']);
  });
});

describe('LIST filters (ELIST=CMNTU)', () => {
  it('filters by member count, creation and topic times, and !masks; names and masks are alternatives', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #old,#busy');
    await h.run(bob, 'JOIN #busy');
    await h.run(alice, 'TOPIC #old :ancient');
    h.clock.now += 30 * 60_000;
    await h.run(alice, 'JOIN #new');
    await h.run(alice, 'TOPIC #new :fresh');
    const listed = async (arg: string): Promise<string[]> =>
      (await h.run(alice, `LIST ${arg}`)).to(alice).filter((l) => l.includes(' 322 ')).map((l) => l.split(' ')[3]!);
    expect(await listed('>1')).toEqual(['#busy']);
    expect(await listed('<2')).toEqual(['#old', '#new']);
    expect(await listed('C>10')).toEqual(['#old', '#busy']);
    expect(await listed('C<10')).toEqual(['#new']);
    expect(await listed('T>10')).toEqual(['#old']);
    expect(await listed('T<10')).toEqual(['#new']);
    expect(await listed('!#b*')).toEqual(['#old', '#new']);
    expect(await listed('#o*,#new')).toEqual(['#old', '#new']);
    expect(await listed('#o*,#new,<1')).toEqual([]);
    // Something that is none of these lists nothing rather than everything.
    expect(await listed('!')).toEqual([]);
    expect((await h.run(alice, 'VERSION')).to(alice).join(' ')).toContain(' ELIST=CMNTU ');
  });
});

describe('KICK', () => {
  it('is seen by the channel and the kicked, with the reason cut to KICKLEN', async () => {
    const { h, alice, bob } = await pair({ kickLength: 6 });
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    const r = await h.run(alice, 'KICK #a BOB :behave yourself');
    expect(r.lines).toEqual([
      'alice <- :alice!~alice@10.0.0.1 KICK #a bob :behave',
      'bob <- :alice!~alice@10.0.0.1 KICK #a bob :behave',
    ]);
    expect(h.state.membership('#a', 'bob')).toBeNull();
  });

  it("uses the kicker's nick as the default reason", async () => {
    const { h, alice, bob } = await pair();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.run(alice, 'KICK #a bob')).to(bob)).toEqual([':alice!~alice@10.0.0.1 KICK #a bob :alice']);
  });

  it('answers 482 for a non-operator, 442 for a non-member, 403 for no channel', async () => {
    const { h, alice, bob } = await pair();
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.run(bob, 'KICK #a alice,alice')).lines).toEqual(["bob <- :irc.test 482 bob #a :You're not channel operator"]);
    expect((await h.run(carol, 'KICK #a bob')).lines).toEqual(["carol <- :irc.test 442 carol #a :You're not on that channel"]);
    expect((await h.run(carol, 'KICK #zz bob')).lines).toEqual(['carol <- :irc.test 403 carol #zz :No such channel']);
  });

  it('answers 441 for a user not in the channel and 401 for no such nick', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(alice, 'KICK #a bob,nobody')).lines).toEqual([
      "alice <- :irc.test 441 alice bob #a :They aren't on that channel",
      'alice <- :irc.test 401 alice nobody :No such nick/channel',
    ]);
  });

  it('kicks up to MAXTARGETS nicks and answers 407 for the rest', async () => {
    const h = harness({ maxTargets: 2 });
    const alice = await h.register('alice');
    await h.run(alice, 'JOIN #a');
    for (const n of ['b1', 'b2', 'b3']) await h.run(await h.register(n), 'JOIN #a');
    const r = await h.run(alice, 'KICK #a b1,b2,b3');
    expect(r.to(alice)).toEqual([
      ':irc.test 407 alice b3 :Too many targets: only the first 2 were used',
      ':alice!~alice@10.0.0.1 KICK #a b1 :alice',
      ':alice!~alice@10.0.0.1 KICK #a b2 :alice',
    ]);
    expect(h.state.membership('#a', 'b3')).not.toBeNull();
  });

  it('pairs as many channels as nicks (RFC 2812), one KICK each, and refuses other counts with 461', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.run(alice, 'JOIN #a,#b');
    const bob = await h.register('bob');
    const carol = await h.register('carol');
    await h.run(bob, 'JOIN #a,#b');
    await h.run(carol, 'JOIN #a,#b');
    const r = await h.run(alice, 'KICK #a,#b bob,carol :out');
    expect(r.to(alice)).toEqual([':alice!~alice@10.0.0.1 KICK #a bob :out', ':alice!~alice@10.0.0.1 KICK #b carol :out']);
    expect(h.state.membership('#a', 'carol')).not.toBeNull();
    expect(h.state.membership('#b', 'bob')).not.toBeNull();
    expect((await h.run(alice, 'KICK #a,#b carol')).to(alice)).toEqual([':irc.test 461 alice KICK :Give one channel, or one channel per nick']);
    // Both nicks, each its own KICK, when one channel is named twice.
    await h.run(bob, 'JOIN #a');
    const twice = await h.run(alice, 'KICK #a,#a bob,carol :bye');
    expect(twice.to(alice)).toEqual([':alice!~alice@10.0.0.1 KICK #a bob :bye', ':alice!~alice@10.0.0.1 KICK #a carol :bye']);
  });
});

describe('INVITE', () => {
  it('answers 341 to the inviter and sends INVITE to the invitee', async () => {
    const { h, alice } = await pair();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(alice, 'INVITE BOB #A')).lines).toEqual([
      'alice <- :irc.test 341 alice bob #a',
      'bob <- :alice!~alice@10.0.0.1 INVITE bob #a',
    ]);
  });

  it('tells the inviter the invitee is away', async () => {
    const { h, alice, bob } = await pair();
    await h.run(bob, 'AWAY :lunch');
    await h.run(alice, 'JOIN #a');
    expect((await h.run(alice, 'INVITE bob #a')).to(alice)).toEqual([
      ':irc.test 341 alice bob #a',
      ':irc.test 301 alice bob lunch',
    ]);
  });

  it('answers 401, 403, 442, 443 and 482', async () => {
    const { h, alice, bob } = await pair();
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.run(alice, 'INVITE nobody #a')).lines).toEqual(['alice <- :irc.test 401 alice nobody :No such nick/channel']);
    expect((await h.run(alice, 'INVITE carol #zz')).lines).toEqual(['alice <- :irc.test 403 alice #zz :No such channel']);
    expect((await h.run(carol, 'INVITE bob #a')).lines).toEqual(["carol <- :irc.test 442 carol #a :You're not on that channel"]);
    expect((await h.run(alice, 'INVITE bob #a')).lines).toEqual(['alice <- :irc.test 443 alice bob #a :is already on channel']);
    await h.run(alice, 'MODE #a +i');
    expect((await h.run(bob, 'INVITE carol #a')).lines).toEqual(["bob <- :irc.test 482 bob #a :You're not channel operator"]);
  });

  it('lets any member invite to a channel without +i', async () => {
    const { h, alice, bob } = await pair();
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.run(bob, 'INVITE carol #a')).to(carol)).toEqual([':bob!~bob@10.0.0.2 INVITE carol #a']);
  });
});
