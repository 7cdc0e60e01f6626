import { describe, expect, it } from 'vitest';
import { harness, START, unavailableStore, type Harness } from './harness.js';
import type { Client } from '../../../src/irc/commands/types.js';

const RENAME = 'draft/channel-rename';

/** alice (operator, with the cap) and bob (without it) in #old, with a topic and bob voiced. */
async function channel(overrides = {}): Promise<{ h: Harness; alice: Client; bob: Client; carol: Client }> {
  const h = harness(overrides);
  const alice = await h.register('alice', { caps: [RENAME] });
  const bob = await h.register('bob');
  const carol = await h.register('carol', { caps: ['extended-join', 'multi-prefix'] });
  await h.run(alice, 'JOIN #old');
  await h.run(bob, 'JOIN #old');
  await h.run(carol, 'JOIN #old');
  await h.run(alice, 'TOPIC #old :the topic');
  await h.run(alice, 'MODE #old +v bob');
  return { h, alice, bob, carol };
}

describe('RENAME', () => {
  it('shows RENAME to members with draft/channel-rename, and PART, JOIN, topic and NAMES to the others', async () => {
    const { h, alice, bob, carol } = await channel();
    const r = await h.run(alice, 'RENAME #old #New :better name');
    expect(r.to(alice)).toEqual([':alice!~alice@10.0.0.1 RENAME #old #New :better name']);
    expect(r.to(bob)).toEqual([
      ':bob!~bob@10.0.0.2 PART #old :better name',
      ':bob!~bob@10.0.0.2 JOIN #New',
      ':irc.test 332 bob #New :the topic',
      `:irc.test 333 bob #New alice!~alice@10.0.0.1 ${START / 1000}`,
      ':irc.test 353 bob = #New :@alice +bob carol',
      ':irc.test 366 bob #New :End of /NAMES list',
    ]);
    // extended-join's longer JOIN for those who enabled it; NAMES in the form every client reads.
    expect(r.to(carol).slice(0, 2)).toEqual([':carol!~carol@10.0.0.3 PART #old :better name', ':carol!~carol@10.0.0.3 JOIN #New * :carol real']);
    expect(r.to(carol).at(-2)).toBe(':irc.test 353 carol = #New :@alice +bob carol');
    // Everything came along: members, status, topic, modes.
    expect(h.state.channel('#old')).toBeNull();
    expect(h.state.channel('#new')).toMatchObject({ name: '#New', topic: { text: 'the topic' }, modes: { flags: 'nt' }, memberCount: 3 });
    expect(h.state.membership('#new', 'bob')).toEqual({ op: false, voice: true });
    // And the channel works under its new name.
    expect((await h.run(bob, 'PRIVMSG #new :hi')).to(alice)).toEqual([':bob!~bob@10.0.0.2 PRIVMSG #New :hi']);
  });

  it('always gives the reason parameter, empty when none was given, and a PART reason naming the new channel', async () => {
    const { h, alice, bob } = await channel();
    const r = await h.run(alice, 'RENAME #old #new');
    expect(r.to(alice)).toEqual([':alice!~alice@10.0.0.1 RENAME #old #new :']);
    expect(r.to(bob)[0]).toBe(':bob!~bob@10.0.0.2 PART #old :Channel renamed to #new');
  });

  it('renames for an operator without the cap, who sees the fallback itself', async () => {
    const h = harness();
    const op = await h.register('op');
    await h.run(op, 'JOIN #a');
    const r = await h.run(op, 'RENAME #a #b :why');
    expect(r.commands(op)).toEqual(['PART', 'JOIN', '353', '366']);
    expect(h.state.channel('#b')).not.toBeNull();
  });

  it('allows a change of case only: RENAME to those with the cap, nothing to the others', async () => {
    const { h, alice, bob } = await channel();
    const r = await h.run(alice, 'RENAME #old #OLD');
    expect(r.lines).toEqual(['alice <- :alice!~alice@10.0.0.1 RENAME #old #OLD :']);
    expect(h.state.channel('#old')?.name).toBe('#OLD');
    expect(r.to(bob)).toEqual([]);
  });

  it('answers 403, 442 and 482 when the renamer is not an operator of an existing channel', async () => {
    const { h, alice, bob } = await channel();
    const dave = await h.register('dave');
    expect((await h.run(alice, 'RENAME #none #x')).to(alice)).toEqual([':irc.test 403 alice #none :No such channel']);
    expect((await h.run(dave, 'RENAME #old #x')).to(dave)).toEqual([":irc.test 442 dave #old :You're not on that channel"]);
    expect((await h.run(bob, 'RENAME #old #x')).to(bob)).toEqual([":irc.test 482 bob #old :You're not channel operator"]);
    expect(h.state.channel('#old')).not.toBeNull();
    expect((await h.run(bob, 'RENAME #old')).to(bob)).toEqual([':irc.test 461 bob RENAME :Not enough parameters']);
  });

  it('answers 479 for a new name that is not a valid channel name or is past CHANNELLEN', async () => {
    const { h, alice } = await channel({ channelLength: 8 });
    for (const name of ['old2', '#a,b', '#toolong1']) {
      expect((await h.run(alice, `RENAME #old ${name}`)).to(alice)).toEqual([`:irc.test 479 alice ${name} :Illegal channel name`]);
    }
    expect((await h.run(alice, 'RENAME #old #okname')).to(alice)[0]).toContain(' RENAME #old #okname');
  });

  it('fails with CHANNEL_NAME_IN_USE when another channel has the name, folded', async () => {
    const { h, alice } = await channel();
    await h.run(alice, 'JOIN #Taken');
    const r = await h.run(alice, 'RENAME #old #taken :x');
    expect(r.to(alice)).toEqual([':irc.test FAIL RENAME CHANNEL_NAME_IN_USE #old #taken :The channel name is already taken']);
    expect(h.state.channel('#old')).not.toBeNull();
  });

  it('fails with CANNOT_RENAME when renamed again within channelRenameCooldownMs', async () => {
    const { h, alice } = await channel({ channelRenameCooldownMs: 60_000 });
    await h.run(alice, 'RENAME #old #second');
    h.clock.now += 59_999;
    expect((await h.run(alice, 'RENAME #second #third')).to(alice)).toEqual([
      ':irc.test FAIL RENAME CANNOT_RENAME #second #third :This channel has been renamed recently',
    ]);
    h.clock.now += 1;
    expect((await h.run(alice, 'RENAME #second #third')).to(alice)[0]).toContain(' RENAME #second #third');
  });

  it('cuts the reason to KICKLEN', async () => {
    const { h, alice } = await channel({ kickLength: 5 });
    expect((await h.run(alice, 'RENAME #old #new :abcdefgh')).to(alice)).toEqual([':alice!~alice@10.0.0.1 RENAME #old #new :abcde']);
  });
});

describe('RENAME and ChanServ', () => {
  const PW = 'correct-horse-battery';

  async function founderOf(h: Harness, nick: string, name: string): Promise<Client> {
    const f = await h.register(nick, { caps: [RENAME] });
    await h.run(f, `NS REGISTER ${PW}`);
    await h.run(f, `JOIN ${name}`);
    const r = await h.run(f, `CS REGISTER ${name}`);
    if (!r.lines.some((l) => l.includes('is registered to'))) throw new Error(`not registered: ${r.lines.join(' | ')}`);
    return f;
  }

  it('refuses to rename a registered channel, but allows a change of case', async () => {
    const h = harness();
    const f = await founderOf(h, 'rnFounder', '#rnReg');
    expect((await h.run(f, 'RENAME #rnReg #rnElse')).to(f)).toEqual([
      ':irc.test FAIL RENAME CANNOT_RENAME #rnReg #rnElse :#rnReg is registered with ChanServ: only the case of its name may change',
    ]);
    expect((await h.run(f, 'RENAME #rnReg #RNREG')).to(f)).toEqual([':rnFounder!~rnFounder@10.0.0.1 RENAME #rnReg #RNREG :']);
  });

  it('refuses a new name registered to another channel, which would hand it the registration', async () => {
    const h = harness();
    const f = await founderOf(h, 'rnOwner', '#rnKept');
    await h.run(f, 'PART #rnKept');
    const op = await h.register('rnOp');
    await h.run(op, 'JOIN #rnFree');
    expect((await h.run(op, 'RENAME #rnFree #RNKEPT')).to(op)).toEqual([
      ':irc.test FAIL RENAME CANNOT_RENAME #rnFree #RNKEPT :#RNKEPT is registered with ChanServ',
    ]);
    expect(h.state.channel('#rnFree')).not.toBeNull();
  });

  it('refuses while the store cannot be reached, and leaves the channel as it was', async () => {
    const h = harness({}, {}, unavailableStore());
    const op = await h.register('op');
    await h.run(op, 'JOIN #a');
    const r = await h.run(op, 'RENAME #a #b');
    expect(r.to(op)).toEqual([':irc.test FAIL RENAME CANNOT_RENAME #a #b :Registered channels cannot be checked right now; try again later']);
    expect(h.state.channel('#a')).not.toBeNull();
  });
});
