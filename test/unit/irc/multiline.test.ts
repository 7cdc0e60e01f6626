import { describe, expect, it } from 'vitest';
import { harness } from './harness.js';

async function room(overrides = {}) {
  // History off: the set-up's JOINs keep no events (each would take a msgid), so the first
  // message is msg1.
  const h = harness({ history: 'off', ...overrides });
  const alice = await h.register('alice', { caps: ['draft/multiline', 'batch', 'message-tags', 'echo-message'] });
  const bob = await h.register('bob', { caps: ['draft/multiline', 'batch', 'message-tags'] });
  const carol = await h.register('carol');
  for (const c of [alice, bob, carol]) await h.run(c, 'JOIN #a');
  return { h, alice, bob, carol };
}

describe('draft/multiline', () => {
  it('delivers the batch to multiline clients (msgid on its BATCH line) and the non-blank lines to the rest', async () => {
    const { h, alice, bob, carol } = await room();
    expect((await h.run(alice, '@+draft/reply=x BATCH +r1 draft/multiline #a')).lines).toEqual([]);
    expect((await h.run(alice, '@batch=r1 PRIVMSG #a :hello')).lines).toEqual([]);
    await h.run(alice, '@batch=r1;draft/multiline-concat PRIVMSG #a :, world');
    await h.run(alice, '@batch=r1 PRIVMSG #a :');
    await h.run(alice, '@batch=r1 PRIVMSG #a :second line');
    const r = await h.run(alice, 'BATCH -r1');
    const src = ':alice!~alice@10.0.0.1';
    const batch = [
      `@msgid=msg1;+draft/reply=x ${src} BATCH +msg2 draft/multiline #a`,
      `@batch=msg2 ${src} PRIVMSG #a :hello`,
      `@batch=msg2;draft/multiline-concat ${src} PRIVMSG #a :, world`,
      `@batch=msg2 ${src} PRIVMSG #a :`,
      `@batch=msg2 ${src} PRIVMSG #a :second line`,
      `${src} BATCH -msg2`,
    ];
    expect(r.to(bob)).toEqual(batch);
    // The echo is the batch too.
    expect(r.to(alice)).toEqual(batch);
    expect(r.to(carol)).toEqual([`${src} PRIVMSG #a :hello`, `${src} PRIVMSG #a :, world`, `${src} PRIVMSG #a :second line`]);
  });

  it('drops a batch that passes max-bytes or max-lines, with one FAIL', async () => {
    const { h, alice, bob } = await room({ multilineMaxBytes: 10, multilineMaxLines: 3 });
    await h.run(alice, 'BATCH +big draft/multiline #a');
    await h.run(alice, '@batch=big PRIVMSG #a :12345');
    expect((await h.run(alice, '@batch=big PRIVMSG #a :678901')).to(alice)).toEqual([':irc.test FAIL BATCH MULTILINE_MAX_BYTES 10 :The multiline message is too long']);
    expect((await h.run(alice, '@batch=big PRIVMSG #a :x')).lines).toEqual([]);
    const end = await h.run(alice, 'BATCH -big');
    expect(end.lines).toEqual([]);
    expect(alice.batch).toBeNull();

    await h.run(alice, 'BATCH +many draft/multiline #a');
    for (const t of ['a', 'b', 'c']) await h.run(alice, `@batch=many PRIVMSG #a :${t}`);
    expect((await h.run(alice, '@batch=many PRIVMSG #a :d')).to(alice)).toEqual([':irc.test FAIL BATCH MULTILINE_MAX_LINES 3 :The multiline message has too many lines']);
    expect((await h.run(alice, 'BATCH -many')).to(bob)).toEqual([]);
  });

  it('refuses lines to another target, mixed commands, a blank message and an unknown reference', async () => {
    const { h, alice, bob } = await room();
    await h.run(alice, 'BATCH +t draft/multiline #a');
    expect((await h.run(alice, '@batch=t PRIVMSG bob :x')).to(alice)).toEqual([":irc.test FAIL BATCH MULTILINE_INVALID_TARGET #a bob :Every line goes to the batch's target"]);
    await h.run(alice, 'BATCH -t');
    await h.run(alice, 'BATCH +m draft/multiline #a');
    await h.run(alice, '@batch=m PRIVMSG #a :x');
    expect((await h.run(alice, '@batch=m NOTICE #a :y')).to(alice)).toEqual([':irc.test FAIL BATCH MULTILINE_INVALID :A multiline message is PRIVMSG or NOTICE lines, all the same']);
    await h.run(alice, 'BATCH -m');
    await h.run(alice, 'BATCH +e draft/multiline #a');
    await h.run(alice, '@batch=e PRIVMSG #a :');
    expect((await h.run(alice, 'BATCH -e')).to(alice)).toEqual([':irc.test FAIL BATCH MULTILINE_INVALID :A multiline message needs some text']);
    expect((await h.run(alice, 'BATCH -nope')).to(alice)).toEqual([':irc.test FAIL BATCH INVALID_REFTAG -nope :No such batch is open']);
    expect((await h.run(alice, 'BATCH +x chathistory #a')).to(alice)).toEqual([':irc.test FAIL BATCH UNKNOWN_TYPE chathistory :Only draft/multiline batches can be sent']);
    expect(bob.batch).toBeNull();
  });

  it('checks the target at the end as PRIVMSG does (401 for no such channel), and exists only for clients that enabled it', async () => {
    const { h, alice, carol } = await room();
    // carol has not enabled draft/multiline: BATCH does not exist for her.
    expect((await h.run(carol, 'BATCH +n draft/multiline #nowhere')).to(carol)).toEqual([':irc.test 421 carol BATCH :Unknown command']);
    await h.run(alice, 'BATCH +n draft/multiline #nowhere');
    await h.run(alice, '@batch=n PRIVMSG #nowhere :x');
    expect((await h.run(alice, 'BATCH -n')).to(alice)).toEqual([':irc.test 401 alice #nowhere :No such nick/channel']);
  });

  it('advertises its limits in CAP LS 302, over several lines when the list is long', async () => {
    const h = harness({ multilineMaxBytes: 2048, multilineMaxLines: 20 });
    const c = h.connect();
    const lines = (await h.run(c, 'CAP LS 302')).to(c);
    expect(lines.join(' ')).toContain('draft/multiline=max-bytes=2048,max-lines=20');
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^:irc\.test CAP \* LS \* :/);
    expect(lines.at(-1)).toMatch(/^:irc\.test CAP \* LS :/);
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(510);
  });
});
