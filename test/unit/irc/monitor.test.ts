import { describe, expect, it } from 'vitest';
import { MonitorIndex } from '../../../src/irc/state/monitorIndex.js';
import { harness } from './harness.js';

describe('MonitorIndex', () => {
  it('keeps both directions, folded, and forgets a watcher at once', () => {
    const m = new MonitorIndex();
    expect(m.add(1, 'Bob[x]')).toBe(true);
    expect(m.add(1, 'bob{X}')).toBe(false);
    m.add(2, 'BOB[X]');
    m.add(1, 'carol');
    expect(m.list(1)).toEqual(['Bob[x]', 'carol']);
    expect([...m.watchersOf('bob{x}')]).toEqual([1, 2]);
    expect(m.has(1, 'CAROL')).toBe(true);
    m.clear(1);
    expect(m.count(1)).toBe(0);
    expect([...m.watchersOf('bob[x]')]).toEqual([2]);
    expect([...m.watchersOf('carol')]).toEqual([]);
    m.remove(2, 'bob{x}');
    expect([...m.watchersOf('bob[x]')]).toEqual([]);
  });
});

describe('MONITOR', () => {
  it('+ answers 730 with nick!user@host for the online ones and 731 for the others, skipping invalid nicks', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.register('Bob');
    const r = await h.run(alice, 'MONITOR + bob,nobody,#chan,b@d,b!d');
    expect(r.to(alice)).toEqual([':irc.test 730 alice Bob!~Bob@10.0.0.2', ':irc.test 731 alice nobody']);
    const list = await h.run(alice, 'MONITOR L');
    expect(list.to(alice)).toEqual([':irc.test 732 alice bob,nobody', ':irc.test 733 alice :End of MONITOR list']);
  });

  it('tells watchers (with * as <client>) when the nick registers, changes nick and quits; not a change of case', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.run(alice, 'MONITOR + bob,robert');
    const bob = h.connect();
    await h.run(bob, 'NICK bob');
    await h.run(bob, 'USER bob 0 * :Bob');
    expect((await h.welcome(bob)).to(alice)).toEqual([`:irc.test 730 * bob!~bob@${bob.host}`]);
    expect((await h.run(bob, 'NICK BOB')).to(alice)).toEqual([]);
    expect((await h.run(bob, 'NICK robert')).to(alice)).toEqual([':irc.test 731 * BOB', `:irc.test 730 * robert!~bob@${bob.host}`]);
    expect((await h.depart(bob, 'Quit: bye')).to(alice)).toEqual([':irc.test 731 * robert']);
  });

  it('says nothing when an unregistered nick holder leaves (it was never online)', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.run(alice, 'MONITOR + early');
    const early = h.connect();
    expect((await h.run(early, 'NICK early')).to(alice)).toEqual([]);
    expect((await h.depart(early, 'Registration timed out')).to(alice)).toEqual([]);
  });

  it('- removes, C clears, S gives the status of the list; a watcher that left is told nothing more', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const carol = await h.register('carol');
    await h.run(alice, 'MONITOR + bob,carol,dave');
    expect((await h.run(alice, 'MONITOR - BOB')).to(alice)).toEqual([]);
    expect((await h.run(alice, 'MONITOR S')).to(alice)).toEqual([':irc.test 730 alice carol!~carol@10.0.0.2', ':irc.test 731 alice dave']);
    expect((await h.run(alice, 'MONITOR C')).to(alice)).toEqual([]);
    expect((await h.run(alice, 'MONITOR L')).to(alice)).toEqual([':irc.test 733 alice :End of MONITOR list']);
    await h.run(alice, 'MONITOR + carol');
    await h.depart(alice, 'Quit');
    expect([...h.ctx.monitors.watchersOf('carol')]).toEqual([]);
    expect((await h.depart(carol, 'Quit')).lines).toEqual([]);
  });

  it('stops at maxMonitorTargets with 734 naming the targets left out, having added the ones before', async () => {
    const h = harness({ maxMonitorTargets: 2 });
    const alice = await h.register('alice');
    const r = await h.run(alice, 'MONITOR + a1,a2,a3,a4');
    expect(r.to(alice)).toEqual([':irc.test 734 alice 2 a3,a4 :Monitor list is full.', ':irc.test 731 alice a1,a2']);
    // Asking again for one already on the list is not a new entry.
    expect((await h.run(alice, 'MONITOR + A1')).to(alice)).toEqual([':irc.test 731 alice A1']);
    expect(h.ctx.monitors.list(alice.id)).toEqual(['a1', 'a2']);
  });

  it('packs long lists into lines of at most 512 bytes', async () => {
    const h = harness({ maxMonitorTargets: 200, nickLength: 30 });
    const alice = await h.register('alice');
    const nicks = Array.from({ length: 150 }, (_, i) => `someone_with_a_long_nick${i}`);
    const r = await h.run(alice, `MONITOR + ${nicks.join(',')}`);
    const lines = r.to(alice);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(Buffer.byteLength(`${l}\r\n`)).toBeLessThanOrEqual(512);
    expect(lines.flatMap((l) => l.split(' ').at(-1)!.split(','))).toEqual(nicks);
  });

  it('needs targets for + and -, and fails an unknown subcommand', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'MONITOR +')).to(alice)).toEqual([':irc.test 461 alice MONITOR :Not enough parameters']);
    expect((await h.run(alice, 'MONITOR X')).to(alice)).toEqual([':irc.test FAIL MONITOR INVALID_PARAMS X :Unknown MONITOR subcommand: use +, -, C, L or S']);
  });
});
