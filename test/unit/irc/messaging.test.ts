import { describe, expect, it } from 'vitest';
import { harness } from './harness.js';

async function trio(overrides = {}) {
  const h = harness(overrides);
  const alice = await h.register('alice');
  const bob = await h.register('bob');
  const carol = await h.register('carol');
  return { h, alice, bob, carol };
}

describe('PRIVMSG', () => {
  it('delivers to a channel, everyone but the sender', async () => {
    const { h, alice, bob, carol } = await trio();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    const r = await h.run(alice, 'PRIVMSG #A :hello  there ');
    expect(r.lines).toEqual(['bob <- :alice!~alice@10.0.0.1 PRIVMSG #a :hello  there ']);
    expect(r.to(carol)).toEqual([]);
  });

  it('delivers to a nick, in its own spelling', async () => {
    const { h, alice } = await trio();
    const r = await h.run(alice, 'PRIVMSG BOB :hi');
    expect(r.lines).toEqual(['bob <- :alice!~alice@10.0.0.1 PRIVMSG bob :hi']);
  });

  it('passes client text through as is', async () => {
    const { h, alice, bob } = await trio();
    const r = await h.run(alice, 'PRIVMSG bob :\x01ACTION waves\x01 :) ünïcødé');
    expect(r.outcome.sends[0]?.message.params).toEqual(['bob', '\x01ACTION waves\x01 :) ünïcødé']);
    expect(r.to(bob)).toHaveLength(1);
  });

  it('delivers to several comma-separated targets, each once', async () => {
    const { h, alice, bob } = await trio();
    await h.run(bob, 'JOIN #a');
    await h.run(alice, 'MODE alice +i');
    await h.run(bob, 'MODE #a -n');
    const r = await h.run(alice, 'PRIVMSG #a,carol,CAROL :x');
    expect(r.lines).toEqual(['bob <- :alice!~alice@10.0.0.1 PRIVMSG #a :x', 'carol <- :alice!~alice@10.0.0.1 PRIVMSG carol :x']);
  });

  it('echoes the message back to a sender with echo-message', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['echo-message'] });
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    const r = await h.run(alice, 'PRIVMSG #a,bob :yo');
    expect(r.lines).toEqual([
      'bob <- :alice!~alice@10.0.0.1 PRIVMSG #a :yo',
      'alice <- :alice!~alice@10.0.0.1 PRIVMSG #a :yo',
      'bob <- :alice!~alice@10.0.0.1 PRIVMSG bob :yo',
      'alice <- :alice!~alice@10.0.0.1 PRIVMSG bob :yo',
    ]);
  });

  it('answers 411 without a target and 412 without text', async () => {
    const { h, alice } = await trio();
    expect((await h.run(alice, 'PRIVMSG')).lines).toEqual(['alice <- :irc.test 411 alice :No recipient given (PRIVMSG)']);
    expect((await h.run(alice, 'PRIVMSG bob')).lines).toEqual(['alice <- :irc.test 412 alice :No text to send']);
    expect((await h.run(alice, 'PRIVMSG bob :')).lines).toEqual(['alice <- :irc.test 412 alice :No text to send']);
  });

  it('answers 401 for no such nick or channel', async () => {
    const { h, alice } = await trio();
    expect((await h.run(alice, 'PRIVMSG nobody,#nowhere :x')).lines).toEqual([
      'alice <- :irc.test 401 alice nobody :No such nick/channel',
      'alice <- :irc.test 401 alice #nowhere :No such nick/channel',
    ]);
  });

  it('does not reach a nick held by a client that has not registered', async () => {
    const { h, alice } = await trio();
    await h.run(h.connect(), 'NICK pending');
    expect((await h.run(alice, 'PRIVMSG pending :x')).commands(alice)).toEqual(['401']);
  });

  it('answers 404 to an outsider under +n, and delivers under -n', async () => {
    const { h, alice, bob } = await trio();
    await h.run(alice, 'JOIN #a');
    expect((await h.run(bob, 'PRIVMSG #a :x')).lines).toEqual(['bob <- :irc.test 404 bob #a :Cannot send to channel']);
    await h.run(alice, 'MODE #a -n');
    expect((await h.run(bob, 'PRIVMSG #a :x')).lines).toEqual(['alice <- :bob!~bob@10.0.0.2 PRIVMSG #a :x']);
  });

  it('answers 404 under +m unless voiced or an operator', async () => {
    const { h, alice, bob, carol } = await trio();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    await h.run(carol, 'JOIN #a');
    await h.run(alice, 'MODE #a +mv carol');
    expect((await h.run(bob, 'PRIVMSG #a :x')).commands(bob)).toEqual(['404']);
    expect((await h.run(carol, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
    expect((await h.run(alice, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
  });

  it('answers 404 to a banned member unless voiced', async () => {
    const { h, alice, bob } = await trio();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    await h.run(alice, 'MODE #a +b *!~bob@*');
    expect((await h.run(bob, 'PRIVMSG #a :x')).commands(bob)).toEqual(['404']);
    await h.run(alice, 'MODE #a +v bob');
    expect((await h.run(bob, 'PRIVMSG #a :x')).commands(alice)).toEqual(['PRIVMSG']);
  });

  it('tells the sender the recipient is away (301)', async () => {
    const { h, alice, bob } = await trio();
    await h.run(bob, 'AWAY :gone');
    expect((await h.run(alice, 'PRIVMSG bob :x')).lines).toEqual([
      'bob <- :alice!~alice@10.0.0.1 PRIVMSG bob :x',
      'alice <- :irc.test 301 alice bob gone',
    ]);
  });

  it('delivers to the first MAXTARGETS targets and answers 407 naming the first left out', async () => {
    const h = harness({ maxTargets: 2 });
    const alice = await h.register('alice');
    const b1 = await h.register('b1');
    const b2 = await h.register('b2');
    const b3 = await h.register('b3');
    const r = await h.run(alice, 'PRIVMSG b1,b2,b3 :x');
    expect(r.to(alice)).toEqual([':irc.test 407 alice b3 :Too many targets: only the first 2 were used']);
    expect(r.to(b1)).toHaveLength(1);
    expect(r.to(b2)).toHaveLength(1);
    expect(r.to(b3)).toEqual([]);
  });
});

describe('NOTICE', () => {
  it('delivers like PRIVMSG', async () => {
    const { h, alice, bob } = await trio();
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.run(alice, 'NOTICE #a,bob :note')).lines).toEqual([
      'bob <- :alice!~alice@10.0.0.1 NOTICE #a :note',
      'bob <- :alice!~alice@10.0.0.1 NOTICE bob :note',
    ]);
  });

  it('never answers with an error, nor with RPL_AWAY', async () => {
    const h = harness({ maxTargets: 1 });
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(bob, 'AWAY :gone');
    await h.run(bob, 'JOIN #n');
    for (const line of ['NOTICE', 'NOTICE bob', 'NOTICE nobody :x', 'NOTICE #none :x', 'NOTICE #n :x', 'NOTICE bob,nobody :x']) {
      expect((await h.run(alice, line)).to(alice)).toEqual([]);
    }
    expect((await h.run(alice, 'NOTICE bob :x')).lines).toEqual(['bob <- :alice!~alice@10.0.0.1 NOTICE bob :x']);
  });

  it('echoes back with echo-message', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['echo-message'] });
    await h.register('bob');
    expect((await h.run(alice, 'NOTICE bob :n')).to(alice)).toEqual([':alice!~alice@10.0.0.1 NOTICE bob :n']);
  });
});
