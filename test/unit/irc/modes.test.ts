import { describe, expect, it } from 'vitest';
import { normaliseMask } from '../../../src/irc/commands/modes.js';
import { harness, START } from './harness.js';

async function channel(overrides = {}) {
  const h = harness(overrides);
  const alice = await h.register('alice');
  const bob = await h.register('bob');
  await h.run(alice, 'JOIN #a');
  await h.run(bob, 'JOIN #a');
  return { h, alice, bob };
}

describe('channel MODE query', () => {
  it('answers 324 and 329, showing the key to members only', async () => {
    const { h, alice } = await channel();
    await h.run(alice, 'MODE #a +kl key 10');
    expect((await h.run(alice, 'MODE #A')).lines).toEqual([
      'alice <- :irc.test 324 alice #a +ntkl key 10',
      `alice <- :irc.test 329 alice #a ${START / 1000}`,
    ]);
    const carol = await h.register('carol');
    expect((await h.run(carol, 'MODE #a')).to(carol)[0]).toBe(':irc.test 324 carol #a +ntkl * 10');
  });

  it('answers 403 for no such channel', async () => {
    const { h, alice } = await channel();
    expect((await h.run(alice, 'MODE #zz')).lines).toEqual(['alice <- :irc.test 403 alice #zz :No such channel']);
    expect((await h.run(alice, 'MODE #zz +m')).lines).toEqual(['alice <- :irc.test 403 alice #zz :No such channel']);
  });
});

describe('channel MODE changes', () => {
  it('broadcasts only what took effect, as one MODE message', async () => {
    const { h, alice } = await channel();
    const r = await h.run(alice, 'MODE #a +nmi-t+o-v bob bob');
    expect(r.lines).toEqual([
      'alice <- :alice!~alice@10.0.0.1 MODE #a +mi-t+o bob',
      'bob <- :alice!~alice@10.0.0.1 MODE #a +mi-t+o bob',
    ]);
    expect(h.state.channel('#a')?.modes.flags).toBe('imn');
    expect(h.state.membership('#a', 'bob')).toEqual({ op: true, voice: false });
  });

  it('sends nothing when nothing changes', async () => {
    const { h, alice } = await channel();
    expect((await h.run(alice, 'MODE #a +nt')).lines).toEqual([]);
  });

  it('sets and unsets +s, +k and +l, showing -k with *', async () => {
    const { h, alice } = await channel();
    expect((await h.run(alice, 'MODE #a +skl sesame 5')).to(alice)).toEqual([':alice!~alice@10.0.0.1 MODE #a +skl sesame 5']);
    expect((await h.run(alice, 'MODE #a -skl wrong')).to(alice)).toEqual([':alice!~alice@10.0.0.1 MODE #a -skl *']);
    expect(h.state.channel('#a')?.modes).toEqual({ flags: 'nt', key: null, limit: null });
  });

  it('unsets +k without a parameter too', async () => {
    const { h, alice } = await channel();
    await h.run(alice, 'MODE #a +k sesame');
    expect((await h.run(alice, 'MODE #a -k')).to(alice)).toEqual([':alice!~alice@10.0.0.1 MODE #a -k *']);
  });

  it('gives and takes +o and +v by nick in any case, shown in its own spelling', async () => {
    const { h, alice, bob } = await channel();
    expect((await h.run(alice, 'MODE #a +v BOB')).to(bob)).toEqual([':alice!~alice@10.0.0.1 MODE #a +v bob']);
    expect((await h.run(alice, 'MODE #a -v+o bob bob')).to(bob)).toEqual([':alice!~alice@10.0.0.1 MODE #a -v+o bob bob']);
  });

  it('answers 441 for +o on a non-member and 401 for no such nick', async () => {
    const { h, alice } = await channel();
    const carol = await h.register('carol');
    expect((await h.run(alice, 'MODE #a +ov carol ghost')).lines).toEqual([
      "alice <- :irc.test 441 alice carol #a :They aren't on that channel",
      'alice <- :irc.test 401 alice ghost :No such nick/channel',
    ]);
    expect(carol.nick).toBe('carol');
  });

  it('answers 482 to a non-operator and changes nothing', async () => {
    const { h, bob } = await channel();
    expect((await h.run(bob, 'MODE #a +m')).lines).toEqual(["bob <- :irc.test 482 bob #a :You're not channel operator"]);
    expect(h.state.channel('#a')?.modes.flags).toBe('nt');
  });

  it('answers 472 once per unknown letter and applies the rest', async () => {
    const { h, alice } = await channel();
    expect((await h.run(alice, 'MODE #a +xmyx')).lines).toEqual([
      'alice <- :irc.test 472 alice x :is unknown mode char to me',
      'alice <- :irc.test 472 alice y :is unknown mode char to me',
      'alice <- :alice!~alice@10.0.0.1 MODE #a +m',
      'bob <- :alice!~alice@10.0.0.1 MODE #a +m',
    ]);
  });

  it('applies at most MODES parameter modes per command', async () => {
    const { h, alice } = await channel();
    const r = await h.run(alice, 'MODE #a +bbbbbm a b c d e');
    expect(r.to(alice)).toEqual([':alice!~alice@10.0.0.1 MODE #a +bbbbm a!*@* b!*@* c!*@* d!*@*']);
    expect(h.state.maskLists('#a').b).toHaveLength(4);
  });

  it('ignores a mode missing its parameter', async () => {
    const { h, alice } = await channel();
    expect((await h.run(alice, 'MODE #a +kol')).lines).toEqual([]);
  });

  it('answers 696 for a bad limit or key', async () => {
    const { h, alice } = await channel();
    expect((await h.run(alice, 'MODE #a +l many')).lines).toEqual(['alice <- :irc.test 696 alice #a l many :Invalid limit']);
    expect((await h.run(alice, 'MODE #a +l 0')).commands(alice)).toEqual(['696']);
    expect((await h.run(alice, 'MODE #a +k a,b')).lines).toEqual(['alice <- :irc.test 696 alice #a k * :Invalid key']);
    expect((await h.run(alice, 'MODE #a +k :with spaces')).lines).toEqual(['alice <- :irc.test 696 alice #a k * :Invalid key']);
    expect((await h.run(alice, 'MODE #a +k :has space')).commands(alice)).toEqual(['696']);
  });

  it('cuts a key to KEYLEN', async () => {
    const { h, alice } = await channel();
    await h.run(alice, 'MODE #a +k ' + 'k'.repeat(40));
    expect(h.state.channel('#a')?.modes.key).toBe('k'.repeat(23));
  });
});

describe('bans', () => {
  it('normalises masks to nick!user@host', () => {
    expect(normaliseMask('bob')).toBe('bob!*@*');
    expect(normaliseMask('~u@host')).toBe('*!~u@host');
    expect(normaliseMask('bob!u')).toBe('bob!u@*');
    expect(normaliseMask('bob!u@h')).toBe('bob!u@h');
    expect(normaliseMask('!@')).toBe('*!*@*');
    expect(normaliseMask('@h')).toBe('*!*@h');
    expect(normaliseMask(':x')).toBeNull();
    expect(normaliseMask('')).toBeNull();
  });

  it('adds and removes bans, listed with 367 and 368', async () => {
    const { h, alice, bob } = await channel();
    expect((await h.run(alice, 'MODE #a +b bob')).to(bob)).toEqual([':alice!~alice@10.0.0.1 MODE #a +b bob!*@*']);
    expect((await h.run(alice, 'MODE #a +b BOB!*@*')).lines).toEqual([]);
    expect((await h.run(bob, 'MODE #a b')).to(bob)).toEqual([
      `:irc.test 367 bob #a bob!*@* alice ${START / 1000}`,
      ':irc.test 368 bob #a :End of channel ban list',
    ]);
    expect((await h.run(alice, 'MODE #a -b Bob')).to(alice)).toEqual([':alice!~alice@10.0.0.1 MODE #a -b bob!*@*']);
    expect((await h.run(alice, 'MODE #a +b')).to(alice)).toEqual([':irc.test 368 alice #a :End of channel ban list']);
  });

  it('caps the list at maxBansPerChannel with 478', async () => {
    const { h, alice } = await channel({ maxBansPerChannel: 2 });
    const r = await h.run(alice, 'MODE #a +bbb x y z');
    expect(r.to(alice)).toEqual([
      ':irc.test 478 alice #a b :Channel list is full',
      ':alice!~alice@10.0.0.1 MODE #a +bb x!*@* y!*@*',
    ]);
  });
});

describe('exception, invite-exception and quiet lists', () => {
  it('sets +e, +I and +q like +b, each listed with its own numerics', async () => {
    const { h, alice, bob } = await channel();
    expect((await h.run(alice, 'MODE #a +eIq ok inv ~q@*')).to(bob)).toEqual([':alice!~alice@10.0.0.1 MODE #a +eIq ok!*@* inv!*@* *!~q@*']);
    const at = START / 1000;
    expect((await h.run(alice, 'MODE #a e')).to(alice)).toEqual([
      `:irc.test 348 alice #a ok!*@* alice ${at}`,
      ':irc.test 349 alice #a :End of channel exception list',
    ]);
    expect((await h.run(alice, 'MODE #a +I')).to(alice)).toEqual([
      `:irc.test 346 alice #a inv!*@* alice ${at}`,
      ':irc.test 347 alice #a :End of channel invite exception list',
    ]);
    // The quiet list, as Solanum sends it: the mode letter before the mask.
    expect((await h.run(bob, 'MODE #a q')).to(bob)).toEqual([
      `:irc.test 728 bob #a q *!~q@* alice ${at}`,
      ':irc.test 729 bob #a q :End of channel quiet list',
    ]);
    expect((await h.run(alice, 'MODE #a -e+b-q OK bad ~Q@*')).to(alice)).toEqual([':alice!~alice@10.0.0.1 MODE #a -e+b-q ok!*@* bad!*@* *!~q@*']);
    expect(h.state.maskLists('#a')).toMatchObject({ b: [{ mask: 'bad!*@*' }], e: [], I: [{ mask: 'inv!*@*' }], q: [] });
  });

  it('shows +e and +I only to the channel operators, +b and +q to anyone', async () => {
    const { h, bob } = await channel();
    const carol = await h.register('carol');
    expect((await h.run(bob, 'MODE #a eI')).to(bob)).toEqual([
      ":irc.test 482 bob #a :You're not channel operator",
      ":irc.test 482 bob #a :You're not channel operator",
    ]);
    expect((await h.run(carol, 'MODE #a bq')).commands(carol)).toEqual(['368', '729']);
  });

  it('lets only operators change the lists, and caps each at maxBansPerChannel', async () => {
    const { h, alice, bob } = await channel({ maxBansPerChannel: 1 });
    expect((await h.run(bob, 'MODE #a +q x')).lines).toEqual([":irc.test 482 bob #a :You're not channel operator"].map((l) => `bob <- ${l}`));
    expect((await h.run(alice, 'MODE #a +bqq x y z')).to(alice)).toEqual([
      ':irc.test 478 alice #a q :Channel list is full',
      ':alice!~alice@10.0.0.1 MODE #a +bq x!*@* y!*@*',
    ]);
    expect((await h.run(alice, 'MODE #a +e ::bad')).to(alice)).toEqual([':irc.test 696 alice #a e _bad :Invalid mask']);
  });

  it('sets +M and +R as flags, shown in 324', async () => {
    const { h, alice, bob } = await channel();
    expect((await h.run(alice, 'MODE #a +RM')).to(bob)).toEqual([':alice!~alice@10.0.0.1 MODE #a +RM']);
    expect((await h.run(bob, 'MODE #a')).to(bob)[0]).toBe(':irc.test 324 bob #a +MRnt');
    expect((await h.run(alice, 'MODE #a -M')).to(bob)).toEqual([':alice!~alice@10.0.0.1 MODE #a -M']);
  });
});

describe('user MODE', () => {
  it('answers 221 with the current modes', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'MODE alice')).lines).toEqual(['alice <- :irc.test 221 alice +']);
    await h.run(alice, 'MODE alice +i');
    expect((await h.run(alice, 'MODE ALICE')).lines).toEqual(['alice <- :irc.test 221 alice +i']);
  });

  it('sets and unsets +i, echoing only changes', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'MODE alice +i')).lines).toEqual(['alice <- :alice!~alice@10.0.0.1 MODE alice +i']);
    expect((await h.run(alice, 'MODE alice +i')).lines).toEqual([]);
    expect(h.state.user('alice')?.modes).toBe('i');
    expect((await h.run(alice, 'MODE alice -i')).lines).toEqual(['alice <- :alice!~alice@10.0.0.1 MODE alice -i']);
    expect(h.state.user('alice')?.modes).toBe('');
  });

  it('answers 501 for unknown flags and still applies +i and +w', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'MODE alice +iwx')).lines).toEqual([
      'alice <- :irc.test 501 alice :Unknown MODE flag',
      'alice <- :alice!~alice@10.0.0.1 MODE alice +iw',
    ]);
  });

  it('ignores +o from MODE (only OPER gives it) and lets an operator drop it with -o', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'MODE alice +o')).lines).toEqual([]);
    expect(alice.modes.has('o')).toBe(false);
    alice.modes = new Set(['o']);
    expect((await h.run(alice, 'MODE alice -o')).lines).toEqual(['alice <- :alice!~alice@10.0.0.1 MODE alice -o']);
    expect((await h.state.user('alice'))?.modes).toBe('');
  });

  it("answers 502 for another user's modes and 401 for no such nick", async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.register('bob');
    expect((await h.run(alice, 'MODE bob +i')).lines).toEqual(["alice <- :irc.test 502 alice :Can't change mode for other users"]);
    expect((await h.run(alice, 'MODE ghost')).lines).toEqual(['alice <- :irc.test 401 alice ghost :No such nick/channel']);
  });
});

describe('bot mode (+B)', () => {
  it('is the user\'s to set; WHOIS says 335, WHO flags B, and what the bot says carries a bot tag', async () => {
    const h = harness();
    const bot = await h.register('beep', { caps: ['echo-message'] });
    const user = await h.register('user', { caps: ['message-tags'] });
    expect((await h.run(bot, 'MODE beep +B')).to(bot)).toEqual([':beep!~beep@10.0.0.1 MODE beep +B']);
    expect((await h.run(user, 'WHOIS beep')).to(user)).toContain(':irc.test 335 user beep :is a bot');
    expect((await h.run(user, 'WHO beep')).to(user)[0]).toMatch(/ beep HB :0 /);
    const said = await h.run(bot, 'PRIVMSG user :beep boop');
    expect(said.to(user)).toEqual(['@msgid=msg1;bot :beep!~beep@10.0.0.1 PRIVMSG user :beep boop']);
    expect((await h.run(bot, 'MODE beep -B')).to(bot)).toEqual([':beep!~beep@10.0.0.1 MODE beep -B']);
    expect((await h.run(user, 'WHOIS beep')).commands(user)).not.toContain('335');
  });
});
