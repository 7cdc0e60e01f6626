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

  it('answers 404 to a quieted member unless voiced, and +e lets a match speak past +q and +b', async () => {
    const { h, alice, bob, carol } = await trio();
    for (const c of [alice, bob, carol]) await h.run(c, 'JOIN #a');
    await h.run(alice, 'MODE #a +q *!*@10.0.0.*');
    const bobSays = await h.run(bob, 'PRIVMSG #a :x');
    expect(bobSays.lines).toEqual(['bob <- :irc.test 404 bob #a :Cannot send to channel']);
    expect((await h.run(alice, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
    await h.run(alice, 'MODE #a +e carol');
    expect((await h.run(carol, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
    await h.run(alice, 'MODE #a -q+b *!*@10.0.0.* *!*@10.0.0.*');
    expect((await h.run(carol, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
    expect((await h.run(bob, 'NOTICE #a :x')).lines).toEqual([]);
    await h.run(alice, 'MODE #a -b+v *!*@10.0.0.* bob');
    await h.run(alice, 'MODE #a +q bob');
    expect((await h.run(bob, 'PRIVMSG #a :x')).commands(carol)).toEqual(['PRIVMSG']);
  });

  it('answers 404 under +M to a client not logged in, unless voiced or an operator', async () => {
    const { h, alice, bob, carol } = await trio();
    for (const c of [alice, bob, carol]) await h.run(c, 'JOIN #a');
    await h.run(alice, 'MODE #a +M');
    expect((await h.run(bob, 'PRIVMSG #a :x')).commands(bob)).toEqual(['404']);
    expect((await h.run(alice, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
    carol.account = 'Carol';
    await h.state.setAccount(carol.id, 'Carol');
    expect((await h.run(carol, 'PRIVMSG #a :x')).commands(bob)).toEqual(['PRIVMSG']);
    await h.run(alice, 'MODE #a +v bob');
    expect((await h.run(bob, 'PRIVMSG #a :x')).commands(carol)).toEqual(['PRIVMSG']);
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

describe('message-tags', () => {
  async function tagged() {
    // History off: the set-up's JOINs keep no events (each would take a msgid), so the first
    // message is msg1.
    const h = harness({ history: 'off' });
    const alice = await h.register('alice', { caps: ['message-tags', 'echo-message'] });
    const bob = await h.register('bob', { caps: ['message-tags'] });
    const carol = await h.register('carol');
    for (const c of [alice, bob, carol]) await h.run(c, 'JOIN #a');
    return { h, alice, bob, carol };
  }

  it('gives each message to each target a msgid of its own, the same one in the echo; only message-tags clients see it', async () => {
    const { h, alice, bob, carol } = await tagged();
    const r = await h.run(alice, 'PRIVMSG #a,bob :hi');
    expect(r.to(bob)).toEqual(['@msgid=msg1 :alice!~alice@10.0.0.1 PRIVMSG #a :hi', '@msgid=msg2 :alice!~alice@10.0.0.1 PRIVMSG bob :hi']);
    expect(r.to(alice)).toEqual(['@msgid=msg1 :alice!~alice@10.0.0.1 PRIVMSG #a :hi', '@msgid=msg2 :alice!~alice@10.0.0.1 PRIVMSG bob :hi']);
    expect(r.to(carol)).toEqual([':alice!~alice@10.0.0.1 PRIVMSG #a :hi']);
  });

  it('relays client-only tags (+typing, +draft/reply, +draft/react) and never a forged server tag', async () => {
    const { h, alice, bob } = await tagged();
    const r = await h.run(alice, '@+draft/reply=abc;msgid=forged;account=admin;time=2000-01-01T00:00:00.000Z;+draft/react=\\:) PRIVMSG #a :ok');
    const tags = r.outcome.sends[0]!.message.tags;
    expect(tags).toEqual({ msgid: 'msg1', '+draft/reply': 'abc', '+draft/react': ';)' });
    expect(r.to(bob)).toEqual(['@msgid=msg1;+draft/reply=abc;+draft/react=\\:) :alice!~alice@10.0.0.1 PRIVMSG #a :ok']);
  });

  it('relays no client-only tags from a client that did not enable message-tags', async () => {
    const { h, bob, carol } = await tagged();
    const r = await h.run(carol, '@+typing=active PRIVMSG #a :plain');
    expect(r.to(bob)).toEqual(['@msgid=msg1 :carol!~carol@10.0.0.3 PRIVMSG #a :plain']);
  });

  it('delivers TAGMSG only to message-tags clients, with the sender\'s tags and a msgid, and echoes it', async () => {
    const { h, alice, bob, carol } = await tagged();
    const r = await h.run(alice, '@+typing=active TAGMSG #a');
    expect(r.to(bob)).toEqual(['@msgid=msg1;+typing=active :alice!~alice@10.0.0.1 TAGMSG #a']);
    expect(r.to(alice)).toEqual(['@msgid=msg1;+typing=active :alice!~alice@10.0.0.1 TAGMSG #a']);
    expect(r.to(carol)).toEqual([]);
    const direct = await h.run(alice, '@+typing=paused TAGMSG carol,bob');
    expect(direct.to(carol)).toEqual([]);
    expect(direct.to(bob)).toEqual(['@msgid=msg3;+typing=paused :alice!~alice@10.0.0.1 TAGMSG bob']);
  });

  it('answers TAGMSG\'s errors as PRIVMSG\'s, without RPL_AWAY, and hides TAGMSG from clients without message-tags', async () => {
    const { h, alice, bob, carol } = await tagged();
    await h.run(bob, 'AWAY :lunch');
    expect((await h.run(alice, 'TAGMSG bob')).to(alice)).toEqual(['@msgid=msg1 :alice!~alice@10.0.0.1 TAGMSG bob']);
    expect((await h.run(alice, 'TAGMSG nobody')).to(alice)).toEqual([':irc.test 401 alice nobody :No such nick/channel']);
    expect((await h.run(alice, 'TAGMSG')).to(alice)).toEqual([':irc.test 411 alice :No recipient given (TAGMSG)']);
    expect((await h.run(carol, 'TAGMSG bob')).to(carol)).toEqual([':irc.test 421 carol TAGMSG :Unknown command']);
  });
});

describe('STATUSMSG', () => {
  it('sends @#chan to its operators and +#chan to its voiced members and operators, from a member with voice at least', async () => {
    const h = harness();
    const op = await h.register('op', { caps: ['echo-message'] });
    const voiced = await h.register('voiced');
    const plain = await h.register('plain');
    for (const c of [op, voiced, plain]) await h.run(c, 'JOIN #s');
    const op2 = await h.register('op2');
    await h.run(op2, 'JOIN #s');
    await h.run(op, 'MODE #s +ov op2 voiced');
    const toOps = await h.run(voiced, 'PRIVMSG @#s :ops only');
    expect(toOps.lines.map((l) => l.split(' <- ')[0])).toEqual(['op', 'op2']);
    expect(toOps.to(op)).toEqual([':voiced!~voiced@10.0.0.2 PRIVMSG @#s :ops only']);
    const toVoiced = await h.run(op, 'NOTICE +#S :voiced and up');
    expect(toVoiced.lines.map((l) => l.split(' <- ')[0])).toEqual(['voiced', 'op2', 'op']);
    expect(toVoiced.to(voiced)).toEqual([':op!~op@10.0.0.1 NOTICE +#s :voiced and up']);
    expect((await h.run(plain, 'PRIVMSG @#s :me too')).lines).toEqual(['plain <- :irc.test 404 plain #s :Cannot send to channel']);
    expect((await h.run(plain, 'PRIVMSG @#nowhere :x')).lines).toEqual(['plain <- :irc.test 401 plain @#nowhere :No such nick/channel']);
  });
});
