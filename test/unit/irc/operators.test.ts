import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/identity/passwords.js';
import type { Client } from '../../../src/irc/commands/types.js';
import { harness, unavailableStore, type Harness } from './harness.js';

// The store is shared by every test of this file, and a KLINE stays in it: each test bans
// addresses of its own (192.0.2.x, 198.51.100.x), which no other test connects from.

const OPER_PW = 'oper-password-1';
let operHash: string;
beforeAll(async () => {
  operHash = await hashPassword(OPER_PW);
});

/** A harness with one operator block, `boss`, whose password is OPER_PW. */
function withOpers(overrides: Parameters<typeof harness>[0] = {}): Harness {
  const h = harness(overrides);
  h.ctx.operators.blocks = [{ name: 'boss', passwordHash: operHash }];
  return h;
}

/** A client registered as `nick` and made an operator with OPER. */
async function oper(h: Harness, nick: string, options: { ip?: string } = {}): Promise<Client> {
  const c = await h.register(nick, options);
  const r = await h.run(c, `OPER boss ${OPER_PW}`);
  if (!c.modes.has('o')) throw new Error(`OPER failed: ${r.lines.join(' | ')}`);
  return c;
}

/** A client's nick!user@host (USER cuts the user name to USERLEN). */
const src = (c: Client): string => `${c.nick}!${c.user}@${c.host}`;

/** NICK, USER and the welcome from `ip`: the commands the client got from the welcome. */
async function welcomeFrom(h: Harness, nick: string, ip: string): Promise<string[]> {
  const c = h.connect({ ip });
  await h.run(c, `NICK ${nick}`);
  await h.run(c, 'USER u 0 * :r');
  return (await h.welcome(c)).commands(c);
}

/** The server NOTICEs a client got, as their text. */
function notices(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith(':irc.test NOTICE ')).map((l) => l.slice(l.indexOf(' :') + 2));
}

describe('OPER', () => {
  it('with the right name and password: MODE +o, then 381, and the network knows', async () => {
    const h = withOpers();
    const c = await h.register('opRight');
    const r = await h.run(c, `OPER boss ${OPER_PW}`);
    expect(r.lines).toEqual([`opRight <- :${src(c)} MODE opRight +o`, 'opRight <- :irc.test 381 opRight :You are now an IRC operator']);
    expect(c.modes.has('o')).toBe(true);
    expect(h.state.user('opRight')?.modes).toBe('o');
    // Once an operator, OPER again only answers 381.
    expect((await h.run(c, `OPER boss ${OPER_PW}`)).lines).toEqual(['opRight <- :irc.test 381 opRight :You are now an IRC operator']);
  });

  it('gives a wrong password and an unknown name the same 464, and no +o', async () => {
    const h = withOpers();
    const c = await h.register('opWrong');
    const wrong = await h.run(c, 'OPER boss not-the-password');
    expect(wrong.lines).toEqual(['opWrong <- :irc.test 464 opWrong :Password incorrect']);
    expect((await h.run(c, `OPER nobody ${OPER_PW}`)).lines).toEqual(wrong.lines);
    // The name is exact: blocks are not matched case-insensitively.
    expect((await h.run(c, `OPER BOSS ${OPER_PW}`)).lines).toEqual(wrong.lines);
    expect(c.modes.has('o')).toBe(false);
    expect(h.state.user('opWrong')?.modes).toBe('');
  });

  it('needs two parameters', async () => {
    const h = withOpers();
    const c = await h.register('opParams');
    expect((await h.run(c, 'OPER boss')).lines).toEqual(['opParams <- :irc.test 461 opParams OPER :Not enough parameters']);
  });

  it('after loginFailuresPerWindow failures refuses even the right password until the window has passed', async () => {
    const h = withOpers({ loginFailuresPerWindow: 2 });
    const c = await h.register('opThrot');
    for (let i = 0; i < 2; i++) expect((await h.run(c, 'OPER boss wrong-password')).commands(c)).toEqual(['464']);
    expect((await h.run(c, `OPER boss ${OPER_PW}`)).commands(c)).toEqual(['464']);
    // The name is throttled, from any address.
    const other = await h.register('opThrot2', { ip: '203.0.113.7' });
    expect((await h.run(other, `OPER boss ${OPER_PW}`)).commands(other)).toEqual(['464']);
    expect(c.modes.has('o') || other.modes.has('o')).toBe(false);
    h.clock.now += h.config.loginWindowMs;
    expect((await h.run(c, `OPER boss ${OPER_PW}`)).commands(c)).toEqual(['MODE', '381']);
  });

  it('MODE -o gives operator status up; MODE +o does not take it back', async () => {
    const h = withOpers();
    const c = await oper(h, 'opDrop');
    expect((await h.run(c, 'MODE opDrop -o')).lines).toEqual([`opDrop <- :${src(c)} MODE opDrop -o`]);
    expect(c.modes.has('o')).toBe(false);
    expect(h.state.user('opDrop')?.modes).toBe('');
    expect((await h.run(c, 'MODE opDrop +o')).lines).toEqual([]);
    expect((await h.run(c, 'KILL opDrop :x')).commands(c)).toEqual(['481']);
  });
});

describe("operators' commands from anyone else", () => {
  it('answer 481 before the handler runs', async () => {
    const h = withOpers();
    const c = await h.register('opNot', { ip: '192.0.2.1' });
    const victim = await h.register('opNotV', { ip: '192.0.2.2' });
    await h.run(victim, 'MODE opNotV +w');
    const denied = "opNot <- :irc.test 481 opNot :Permission Denied- You're not an IRC operator";
    for (const line of ['KILL opNotV :bye', 'WALLOPS :hello', 'KLINE *!*@192.0.2.2', 'UNKLINE *!*@192.0.2.2', 'REHASH']) {
      const r = await h.run(c, line);
      expect(r.lines, line).toEqual([denied]);
      expect(r.outcome.kills, line).toBeUndefined();
    }
    expect((await h.ctx.store.bans(h.clock.now)).filter((b) => b.mask.endsWith('@192.0.2.2'))).toEqual([]);
  });
});

describe('KILL', () => {
  it('removes the user with the reason `Killed (<oper> (<reason>))`', async () => {
    const h = withOpers();
    const o = await oper(h, 'killOp');
    const v = await h.register('killV');
    const r = await h.run(o, 'KILL KILLV :spamming the channel');
    expect(r.outcome.kills).toEqual([{ clientId: v.id, reason: 'Killed (killOp (spamming the channel))' }]);
    expect(r.lines).toEqual([]);
    expect((await h.run(o, 'KILL killV :')).outcome.kills).toEqual([{ clientId: v.id, reason: 'Killed (killOp (no reason))' }]);
  });

  it('answers 401 for a nick nobody holds, and 483 for a service', async () => {
    const h = withOpers();
    const o = await oper(h, 'killOp2');
    const nobody = await h.run(o, 'KILL killNobody :x');
    expect(nobody.lines).toEqual(['killOp2 <- :irc.test 401 killOp2 killNobody :No such nick/channel']);
    expect(nobody.outcome.kills).toBeUndefined();
    for (const service of ['NickServ', 'chanserv']) {
      const r = await h.run(o, `KILL ${service} :x`);
      expect(r.lines).toEqual(['killOp2 <- :irc.test 483 killOp2 :You cannot kill a service']);
      expect(r.outcome.kills).toBeUndefined();
    }
  });
});

describe('WALLOPS', () => {
  it('reaches every registered user with +w, the operator too when it has it, and nobody else', async () => {
    const h = withOpers();
    const o = await oper(h, 'wallOp');
    const w = await h.register('wallW');
    const plain = await h.register('wallPlain');
    const unregistered = h.connect();
    await h.run(unregistered, 'NICK wallPre');
    await h.run(w, 'MODE wallW +w');
    const r = await h.run(o, 'WALLOPS :the server restarts at noon');
    expect(r.lines).toEqual([`wallW <- :${src(o)} WALLOPS :the server restarts at noon`]);
    expect(r.to(plain)).toEqual([]);
    await h.run(o, 'MODE wallOp +w');
    await h.run(w, 'MODE wallW -w');
    expect((await h.run(o, 'WALLOPS :again')).lines).toEqual([`wallOp <- :${src(o)} WALLOPS again`]);
  });
});

describe('KLINE and UNKLINE', () => {
  it('keeps a ban in the store and disconnects every user it matches', async () => {
    const h = withOpers();
    const o = await oper(h, 'klOp');
    const a = await h.register('klA', { ip: '192.0.2.10' });
    const b = await h.register('klB', { ip: '192.0.2.10' });
    const safe = await h.register('klSafe', { ip: '192.0.2.11' });
    const r = await h.run(o, 'KLINE *@192.0.2.10 :flooding');
    expect(r.lines).toEqual(['klOp <- :irc.test NOTICE klOp :Added network ban on *!*@192.0.2.10: 2 user(s) disconnected']);
    expect(r.outcome.kills).toEqual([
      { clientId: a.id, reason: 'K-Lined: flooding' },
      { clientId: b.id, reason: 'K-Lined: flooding' },
    ]);
    expect(r.outcome.kills?.map((k) => k.clientId)).not.toContain(safe.id);
    expect((await h.ctx.store.bans(h.clock.now)).find((ban) => ban.mask === '*!*@192.0.2.10')).toEqual({
      mask: '*!*@192.0.2.10',
      reason: 'flooding',
      setBy: 'klOp',
      setAt: h.clock.now,
      expiresAt: null,
    });
    expect(notices((await h.run(o, 'KLINE *!*@192.0.2.10')).to(o))).toEqual(['*!*@192.0.2.10 is already banned']);
  });

  it('matches nick and user too, and gives `Banned` when no reason is given', async () => {
    const h = withOpers();
    const o = await oper(h, 'klNickOp');
    const v = await h.register('klByNick', { ip: '192.0.2.12' });
    const r = await h.run(o, 'KLINE KLBYNICK');
    expect(notices(r.to(o))).toEqual(['Added network ban on KLBYNICK!*@*: 1 user(s) disconnected']);
    expect(r.outcome.kills).toEqual([{ clientId: v.id, reason: 'K-Lined: Banned' }]);
  });

  it('refuses a mask that matches the operator, and one that cannot be a mask', async () => {
    const h = withOpers();
    const o = await oper(h, 'klSelf', { ip: '192.0.2.20' });
    const r = await h.run(o, 'KLINE *!*@192.0.2.* :oops');
    expect(r.lines).toEqual(['klSelf <- :irc.test NOTICE klSelf :*!*@192.0.2.* matches you: not added']);
    expect(r.outcome.kills).toBeUndefined();
    expect((await h.ctx.store.bans(h.clock.now)).map((b) => b.mask)).not.toContain('*!*@192.0.2.*');
    for (const bad of ['KLINE 5 :two words', 'KLINE 1 b\x1bad!*@* :r']) {
      expect((await h.run(o, bad)).lines).toEqual(['klSelf <- :irc.test NOTICE klSelf :That is not a nick!user@host mask (no spaces or control characters): not added']);
    }
  });

  it('a timed ban lapses after its minutes; 0 minutes is permanent', async () => {
    const h = withOpers();
    const o = await oper(h, 'klTimed');
    const r = await h.run(o, 'KLINE 10 *!*@192.0.2.30 :cool down');
    expect(notices(r.to(o))).toEqual(['Added network ban on *!*@192.0.2.30 for 10 minutes: 0 user(s) disconnected']);
    expect((await h.ctx.store.bans(h.clock.now)).find((b) => b.mask === '*!*@192.0.2.30')?.expiresAt).toBe(h.clock.now + 600_000);
    await h.run(o, 'KLINE 0 *!*@192.0.2.31 :forever');
    expect((await h.ctx.store.bans(h.clock.now)).find((b) => b.mask === '*!*@192.0.2.31')?.expiresAt).toBeNull();
    // At most a year.
    expect(notices((await h.run(o, 'KLINE 99999999 *!*@192.0.2.32')).to(o))).toEqual(['Added network ban on *!*@192.0.2.32 for 525600 minutes: 0 user(s) disconnected']);
    expect((await h.ctx.store.bans(h.clock.now)).find((b) => b.mask === '*!*@192.0.2.32')?.expiresAt).toBe(h.clock.now + 525_600 * 60_000);
    // A time that is not a whole number is refused, not taken for the mask (which would ban `-5!*@*`).
    const before = (await h.ctx.store.bans(h.clock.now)).length;
    for (const time of ['-5', '1.5', '+3']) {
      expect(notices((await h.run(o, `KLINE ${time} *!*@192.0.2.33 :typo`)).to(o))).toEqual([
        `${time} is not a number of minutes: give a whole number, or 0 for a ban that does not lapse`,
      ]);
    }
    expect((await h.ctx.store.bans(h.clock.now)).length).toBe(before);
    expect(await welcomeFrom(h, 'klEarly', '192.0.2.30')).toEqual(['465']);
    h.clock.now += 600_000 - 1;
    expect(await welcomeFrom(h, 'klEarly2', '192.0.2.30')).toEqual(['465']);
    h.clock.now += 1;
    expect((await welcomeFrom(h, 'klLate', '192.0.2.30'))[0]).toBe('001');
    expect(await welcomeFrom(h, 'klNever', '192.0.2.31')).toEqual(['465']);
  });

  it('UNKLINE removes a ban, given in any form of the mask', async () => {
    const h = withOpers();
    const o = await oper(h, 'unklOp');
    await h.run(o, 'KLINE *!*@192.0.2.40 :gone');
    expect((await h.run(o, 'UNKLINE *@192.0.2.40')).lines).toEqual(['unklOp <- :irc.test NOTICE unklOp :Removed network ban on *!*@192.0.2.40']);
    expect((await h.ctx.store.bans(h.clock.now)).map((b) => b.mask)).not.toContain('*!*@192.0.2.40');
    expect((await h.run(o, 'UNKLINE *@192.0.2.40')).lines).toEqual(['unklOp <- :irc.test NOTICE unklOp :No network ban on *@192.0.2.40']);
    const back = await h.register('unklBack', { ip: '192.0.2.40' });
    expect(h.state.user('unklBack')?.clientId).toBe(back.id);
  });
});

describe('network bans at registration', () => {
  it('a banned client gets 465 instead of the welcome and is removed', async () => {
    const h = withOpers();
    const o = await oper(h, 'banOp');
    await h.run(o, 'KLINE *!*@198.51.100.5 :no spam please');
    const c = h.connect({ ip: '198.51.100.5' });
    await h.run(c, 'NICK banMe');
    await h.run(c, 'USER u 0 * :r');
    const r = await h.welcome(c);
    expect(r.lines).toEqual(['banMe <- :irc.test 465 banMe :You are banned from this network: no spam please']);
    expect(r.outcome.kills).toEqual([{ clientId: c.id, reason: 'K-Lined: no spam please' }]);
    // Another address registers as usual.
    const ok = await h.register('banNot', { ip: '198.51.100.6' });
    expect(h.state.user('banNot')?.clientId).toBe(ok.id);
  });

  it('a ban on a nick keeps that nick out, from any address', async () => {
    const h = withOpers();
    const o = await oper(h, 'banNickOp');
    await h.run(o, 'KLINE banNicked!*@*');
    const c = h.connect({ ip: '198.51.100.7' });
    await h.run(c, 'NICK BANNICKED');
    await h.run(c, 'USER u 0 * :r');
    expect((await h.welcome(c)).lines).toEqual(['BANNICKED <- :irc.test 465 BANNICKED :You are banned from this network: Banned']);
  });

  it('a store that cannot be reached bans nobody', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = await h.register('banDown', { ip: '198.51.100.5' });
    expect(h.state.user('banDown')?.clientId).toBe(c.id);
  });
});

describe('operators in queries', () => {
  it('WHOIS shows 313 for an operator only', async () => {
    const h = withOpers();
    const o = await oper(h, 'qOp');
    const u = await h.register('qUser');
    const r = await h.run(u, 'WHOIS qOp');
    expect(r.to(u)).toContain(':irc.test 313 qUser qOp :is an IRC operator');
    expect(r.commands(u)).toEqual(['311', '312', '313', '317', '318']);
    expect((await h.run(o, 'WHOIS qUser')).commands(o)).toEqual(['311', '312', '317', '318']);
  });

  it('WHO marks an operator with `*` after H or G and before the channel prefix', async () => {
    const h = withOpers();
    const o = await oper(h, 'qWhoOp');
    const u = await h.register('qWhoU');
    await h.run(o, 'JOIN #qwho');
    await h.run(u, 'JOIN #qwho');
    const r = await h.run(u, 'WHO #qwho');
    expect(r.to(u)).toEqual([
      `:irc.test 352 qWhoU #qwho ${o.user} ${o.host} irc.test qWhoOp H*@ :0 qWhoOp real`,
      `:irc.test 352 qWhoU #qwho ${u.user} ${u.host} irc.test qWhoU H :0 qWhoU real`,
      ':irc.test 315 qWhoU #qwho :End of WHO list',
    ]);
    await h.run(o, 'AWAY :lunch');
    expect((await h.run(u, 'WHO qWhoOp')).to(u)[0]).toBe(`:irc.test 352 qWhoU * ${o.user} ${o.host} irc.test qWhoOp G* :0 qWhoOp real`);
  });

  it('WHO <mask> o lists only the operators', async () => {
    const h = withOpers();
    const o1 = await oper(h, 'qWhoO1');
    await h.register('qWhoP');
    const o2 = await oper(h, 'qWhoO2');
    const asker = await h.register('qWhoAsk');
    expect((await h.run(asker, 'WHO * o')).to(asker)).toEqual([
      `:irc.test 352 qWhoAsk * ${o1.user} ${o1.host} irc.test qWhoO1 H* :0 qWhoO1 real`,
      `:irc.test 352 qWhoAsk * ${o2.user} ${o2.host} irc.test qWhoO2 H* :0 qWhoO2 real`,
      ':irc.test 315 qWhoAsk * :End of WHO list',
    ]);
    expect((await h.run(asker, 'WHO qWhoO2 o')).commands(asker)).toEqual(['352', '315']);
    expect((await h.run(asker, 'WHO qWhoP o')).commands(asker)).toEqual(['315']);
  });

  it('WHO #channel o lists only the operators among its members', async () => {
    const h = withOpers();
    const o = await oper(h, 'qChanOp');
    await oper(h, 'qChanOut');
    const u = await h.register('qChanU');
    await h.run(u, 'JOIN #qchan');
    await h.run(o, 'JOIN #qchan');
    expect((await h.run(u, 'WHO #qchan o')).to(u)).toEqual([
      `:irc.test 352 qChanU #qchan ${o.user} ${o.host} irc.test qChanOp H* :0 qChanOp real`,
      ':irc.test 315 qChanU #qchan :End of WHO list',
    ]);
  });

  it('USERHOST marks an operator with `*`', async () => {
    const h = withOpers();
    const o = await oper(h, 'qUhOp');
    const u = await h.register('qUhU');
    await h.run(o, 'AWAY :out');
    expect((await h.run(u, 'USERHOST qUhOp qUhU')).lines).toEqual([`qUhU <- :irc.test 302 qUhU :qUhOp*=-${o.user}@${o.host} qUhU=+${u.user}@${u.host}`]);
  });

  it('LUSERS counts the operators online in 252, and leaves 252 out when there are none', async () => {
    const h = withOpers();
    const u = await h.register('qLuU');
    const luserop = (lines: string[]): string[] => lines.filter((l) => / 252 /.test(l));
    expect(luserop((await h.run(u, 'LUSERS')).to(u))).toEqual([]);
    const a = await oper(h, 'qLuA');
    await oper(h, 'qLuB');
    expect(luserop((await h.run(u, 'LUSERS')).to(u))).toEqual([':irc.test 252 qLuU 2 :operator(s) online']);
    await h.run(a, 'MODE qLuA -o');
    expect(luserop((await h.run(u, 'LUSERS')).to(u))).toEqual([':irc.test 252 qLuU 1 :operator(s) online']);
  });
});

describe('REHASH', () => {
  it('answers 382 naming the file when the config file was read again', async () => {
    const h = withOpers();
    const o = await oper(h, 'rhOp');
    h.ctx.operators.rehash = async () => ({ ok: true, file: '/etc/chat.yaml' });
    expect((await h.run(o, 'REHASH')).lines).toEqual(['rhOp <- :irc.test 382 rhOp /etc/chat.yaml Rehashing']);
  });

  it('says what is wrong when it could not be', async () => {
    const h = withOpers();
    const o = await oper(h, 'rhBad');
    expect((await h.run(o, 'REHASH')).lines).toEqual(['rhBad <- :irc.test NOTICE rhBad :REHASH failed: no config file in tests']);
  });
});
