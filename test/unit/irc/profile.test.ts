// SETNAME, CHGHOST, and who hears of a user's changes: away-notify, invite-notify and
// extended-monitor (each recipient once, only with the capability).
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/identity/passwords.js';
import type { Client } from '../../../src/irc/commands/types.js';
import { harness, type Harness } from './harness.js';

const OPER_PW = 'oper-password-1';
let operHash: string;
beforeAll(async () => {
  operHash = await hashPassword(OPER_PW);
});

async function oper(h: Harness, nick: string): Promise<Client> {
  h.ctx.operators.blocks = [{ name: 'boss', passwordHash: operHash }];
  const c = await h.register(nick);
  await h.run(c, `OPER boss ${OPER_PW}`);
  if (!c.modes.has('o')) throw new Error('OPER failed');
  return c;
}

describe('away-notify', () => {
  it('sends AWAY and its end to channel peers with the cap, once each, not to the user or peers without it', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob', { caps: ['away-notify'] });
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'JOIN #a,#b');
    await h.run(carol, 'JOIN #a');
    const away = await h.run(alice, 'AWAY :gone fishing');
    expect(away.to(bob)).toEqual([':alice!~alice@10.0.0.1 AWAY :gone fishing']);
    expect(away.to(carol)).toEqual([]);
    expect(away.to(alice)).toEqual([':irc.test 306 alice :You have been marked as being away']);
    const back = await h.run(alice, 'AWAY');
    expect(back.to(bob)).toEqual([':alice!~alice@10.0.0.1 AWAY']);
  });

  it('sends the AWAY of a joiner who is away after its JOIN, to members with the cap', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['away-notify'] });
    const carol = await h.register('carol');
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #c');
    await h.run(carol, 'JOIN #c');
    await h.run(bob, 'AWAY :lunch');
    const r = await h.run(bob, 'JOIN #c');
    expect(r.to(alice)).toEqual([':bob!~bob@10.0.0.3 JOIN #c', ':bob!~bob@10.0.0.3 AWAY :lunch']);
    expect(r.to(carol)).toEqual([':bob!~bob@10.0.0.3 JOIN #c']);
    expect(r.commands(bob)).toEqual(['JOIN', '353', '366']);
  });
});

describe('extended-monitor', () => {
  it('sends AWAY, ACCOUNT-free changes (SETNAME) to watchers with extended-monitor and the cap, without a shared channel', async () => {
    const h = harness();
    const both = await h.register('both', { caps: ['extended-monitor', 'away-notify', 'setname'] });
    const plain = await h.register('plain', { caps: ['away-notify', 'setname'] });
    const noAway = await h.register('noaway', { caps: ['extended-monitor'] });
    const bob = await h.register('bob');
    for (const c of [both, plain, noAway]) await h.run(c, 'MONITOR + bob');
    const away = await h.run(bob, 'AWAY :out');
    expect(away.to(both)).toEqual([':bob!~bob@10.0.0.4 AWAY :out']);
    expect(away.to(plain)).toEqual([]);
    expect(away.to(noAway)).toEqual([]);
    const setname = await h.run(bob, 'SETNAME :Robert');
    expect(setname.to(both)).toEqual([':bob!~bob@10.0.0.4 SETNAME :Robert']);
    expect(setname.to(plain)).toEqual([]);
  });

  it('sends a watcher who also shares channels with the user each change once', async () => {
    const h = harness();
    const w = await h.register('w', { caps: ['extended-monitor', 'away-notify'] });
    const bob = await h.register('bob');
    await h.run(w, 'JOIN #x,#y');
    await h.run(bob, 'JOIN #x,#y');
    await h.run(w, 'MONITOR + bob');
    expect((await h.run(bob, 'AWAY :out')).to(w)).toEqual([':bob!~bob@10.0.0.2 AWAY :out']);
  });
});

describe('SETNAME', () => {
  it('changes the realname for WHOIS and sends SETNAME to the user and peers with the cap', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['setname'] });
    const bob = await h.register('bob', { caps: ['setname'] });
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    await h.run(carol, 'JOIN #a');
    const r = await h.run(alice, 'SETNAME :Alice Liddell');
    expect(r.to(alice)).toEqual([':alice!~alice@10.0.0.1 SETNAME :Alice Liddell']);
    expect(r.to(bob)).toEqual([':alice!~alice@10.0.0.1 SETNAME :Alice Liddell']);
    expect(r.to(carol)).toEqual([]);
    expect(alice.realname).toBe('Alice Liddell');
    expect((await h.run(carol, 'WHOIS alice')).to(carol)[0]).toBe(':irc.test 311 carol alice ~alice 10.0.0.1 * :Alice Liddell');
  });

  it('changes it silently for a client without the cap; several params are one realname', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'SETNAME Jane Doe')).lines).toEqual([]);
    expect(alice.realname).toBe('Jane Doe');
    expect((await h.state.user('alice'))?.realname).toBe('Jane Doe');
  });

  it('refuses an empty realname or one past NAMELEN with FAIL SETNAME INVALID_REALNAME, changing nothing', async () => {
    const h = harness({ realnameLength: 5 });
    const alice = await h.register('alice', { caps: ['setname'], realname: 'Al' });
    for (const line of ['SETNAME :', 'SETNAME :abcdef']) {
      expect((await h.run(alice, line)).to(alice)).toEqual([':irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid']);
    }
    expect((await h.state.user('alice'))?.realname).toBe('Al');
    // Five characters (code points, not UTF-16 units) is within the limit.
    expect((await h.run(alice, 'SETNAME :😀😀😀😀😀')).to(alice)).toEqual([':alice!~alice@10.0.0.1 SETNAME :😀😀😀😀😀']);
  });

  it('cuts USER realnames to NAMELEN', async () => {
    const h = harness({ realnameLength: 4 });
    const alice = await h.register('alice', { realname: 'Alice Liddell' });
    expect(alice.realname).toBe('Alic');
  });
});

describe('CHGHOST', () => {
  it('sends CHGHOST to peers with the cap (and the user), QUIT, JOIN and MODE to the others, 396 to the user', async () => {
    const h = harness();
    const op = await oper(h, 'op');
    const alice = await h.register('alice', { caps: ['chghost'] });
    const bob = await h.register('bob', { caps: ['chghost'] });
    const carol = await h.register('carol', { caps: ['extended-join'] });
    const dave = await h.register('dave');
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'JOIN #a');
    await h.run(carol, 'JOIN #a,#b');
    await h.run(dave, 'JOIN #b');
    await h.run(alice, 'MODE #b +v dave');
    const r = await h.run(op, 'CHGHOST alice ~cloak user/alice');
    const chg = ':alice!~alice@10.0.0.2 CHGHOST ~cloak user/alice';
    expect(r.to(alice)).toEqual([chg, ':irc.test 396 alice user/alice :is now your displayed host']);
    expect(r.to(bob)).toEqual([chg]);
    expect(r.to(carol)).toEqual([
      ':alice!~alice@10.0.0.2 QUIT :Changing host',
      ':alice!~cloak@user/alice JOIN #a * :alice real',
      ':irc.test MODE #a +o alice',
      ':alice!~cloak@user/alice JOIN #b * :alice real',
      ':irc.test MODE #b +o alice',
    ]);
    expect(r.to(dave)).toEqual([
      ':alice!~alice@10.0.0.2 QUIT :Changing host',
      ':alice!~cloak@user/alice JOIN #b',
      ':irc.test MODE #b +o alice',
    ]);
    expect(r.to(op)).toEqual([':irc.test NOTICE op :alice is now alice!~cloak@user/alice']);
    expect(r.outcome.hostChanges).toEqual([{ clientId: alice.id, user: '~cloak', host: 'user/alice' }]);
    expect(await h.state.user('alice')).toMatchObject({ user: '~cloak', host: 'user/alice' });
  });

  it('restores op and voice together, and tells extended-monitor watchers with chghost', async () => {
    const h = harness();
    const op = await oper(h, 'op');
    const alice = await h.register('alice');
    const dave = await h.register('dave');
    const w = await h.register('w', { caps: ['extended-monitor', 'chghost'] });
    await h.run(alice, 'JOIN #a');
    await h.run(dave, 'JOIN #a');
    await h.run(alice, 'MODE #a +v alice');
    await h.run(w, 'MONITOR + alice');
    const r = await h.run(op, 'CHGHOST alice u h.example');
    expect(r.to(dave)).toContain(':irc.test MODE #a +ov alice alice');
    expect(r.to(w)).toEqual([':alice!~alice@10.0.0.2 CHGHOST u h.example']);
  });

  it('is for operators only; 401 for no such nick; FAIL for an invalid user or host', async () => {
    const h = harness({ hostLength: 10 });
    const op = await oper(h, 'op');
    const alice = await h.register('alice');
    expect((await h.run(alice, 'CHGHOST alice u h')).commands(alice)).toEqual(['481']);
    expect((await h.run(op, 'CHGHOST nobody u h')).to(op)).toEqual([':irc.test 401 op nobody :No such nick/channel']);
    expect((await h.run(op, 'CHGHOST alice u@x h')).to(op)[0]).toMatch(/^:irc\.test FAIL CHGHOST INVALID_USERNAME u@x :/);
    expect((await h.run(op, 'CHGHOST alice u elevenchars')).to(op)[0]).toMatch(/^:irc\.test FAIL CHGHOST INVALID_HOSTNAME elevenchars :/);
    expect((await h.run(op, 'CHGHOST alice u ::1')).to(op)[0]).toMatch(/^:irc\.test FAIL CHGHOST INVALID_HOSTNAME \S+ :/);
    expect((await h.state.user('alice'))?.host).toBe('10.0.0.2');
  });
});

describe('invite-notify', () => {
  it("sends the INVITE to the channel's other operators with the cap, not to other members or the inviter", async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['invite-notify'] });
    const bob = await h.register('bob', { caps: ['invite-notify'] });
    const carol = await h.register('carol', { caps: ['invite-notify'] });
    const dave = await h.register('dave');
    const erin = await h.register('erin');
    await h.run(alice, 'JOIN #i');
    await h.run(bob, 'JOIN #i');
    await h.run(carol, 'JOIN #i');
    await h.run(dave, 'JOIN #i');
    await h.run(alice, 'MODE #i +oo bob dave');
    const r = await h.run(alice, 'INVITE erin #i');
    const invite = ':alice!~alice@10.0.0.1 INVITE erin #i';
    expect(r.to(erin)).toEqual([invite]);
    expect(r.to(bob)).toEqual([invite]);
    expect(r.to(carol)).toEqual([]);
    expect(r.to(dave)).toEqual([]);
    expect(r.to(alice)).toEqual([':irc.test 341 alice erin #i']);
  });
});
