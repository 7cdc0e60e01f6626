import { describe, expect, it } from 'vitest';
import { harness, unavailableStore, type Harness } from './harness.js';
import type { Client } from '../../../src/irc/commands/types.js';

// The store is shared by every test of this file: each test uses account and channel names of
// its own (a registered channel outlives the harness that registered it).

const PW = 'correct-horse-battery';
const cs = (nick: string): string => `:ChanServ!ChanServ@services NOTICE ${nick}`;
/** A client's nick!user@host (USER cuts the user name to USERLEN). */
const src = (c: Client): string => `${c.nick}!${c.user}@${c.host}`;

/** The ChanServ notices a client got, as their text. */
function notices(lines: string[]): string[] {
  return lines.filter((l) => l.startsWith(':ChanServ!') && l.includes(' NOTICE ')).map((l) => l.slice(l.indexOf(' :') + 2));
}

/** A client registered as `nick` and logged in to the account of that name (created here). */
async function loggedIn(h: Harness, nick: string): Promise<Client> {
  const c = await h.register(nick);
  const r = await h.run(c, `NS REGISTER ${PW}`);
  if (c.account !== nick) throw new Error(`could not register ${nick}: ${r.lines.join(' | ')}`);
  return c;
}

/** `founder` creates `channel` (and is its operator there) and registers it with ChanServ. */
async function registered(h: Harness, founder: Client, channel: string): Promise<void> {
  await h.run(founder, `JOIN ${channel}`);
  const r = await h.run(founder, `CS REGISTER ${channel}`);
  if (notices(r.to(founder))[0] !== `${channel} is registered to ${founder.account}.`) throw new Error(`could not register ${channel}: ${r.lines.join(' | ')}`);
}

describe('ChanServ REGISTER', () => {
  it('registers a channel its logged-in operator names, keeping its topic and modes', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csRegF');
    await h.run(f, 'JOIN #csReg');
    await h.run(f, 'TOPIC #csReg :the kept topic');
    await h.run(f, 'MODE #csReg +sk sekrit');
    const r = await h.run(f, 'PRIVMSG ChanServ :REGISTER #csReg');
    expect(r.lines).toEqual([`csRegF <- ${cs('csRegF')} :#csReg is registered to csRegF.`]);
    expect(await h.ctx.store.channel('#csreg')).toEqual({
      name: '#csReg',
      founder: 'csRegF',
      registeredAt: h.clock.now,
      topic: 'the kept topic',
      topicSetBy: src(f),
      topicSetAt: h.clock.now,
      modes: 'nst',
      key: 'sekrit',
      limit: null,
    });
    expect(notices((await h.run(f, 'CS REGISTER #CSREG')).to(f))).toEqual(['#csReg is already registered.']);
  });

  it('needs the client to be logged in', async () => {
    const h = harness();
    const c = await h.register('csRegAnon');
    await h.run(c, 'JOIN #csRegAnon');
    expect((await h.run(c, 'CS REGISTER #csRegAnon')).lines).toEqual([
      `csRegAnon <- ${cs('csRegAnon')} :Log in first (/msg NickServ IDENTIFY <password>).`,
    ]);
    expect(await h.ctx.store.channel('#csreganon')).toBeNull();
  });

  it('needs the client to be an operator of the channel, which must exist', async () => {
    const h = harness();
    const op = await h.register('csRegOp');
    await h.run(op, 'JOIN #csRegNoOp');
    const member = await loggedIn(h, 'csRegMember');
    await h.run(member, 'JOIN #csRegNoOp');
    expect(notices((await h.run(member, 'CS REGISTER #csRegNoOp')).to(member))).toEqual(['You must be an operator in #csRegNoOp to register it.']);
    expect(notices((await h.run(member, 'CS REGISTER #csRegNowhere')).to(member))).toEqual(['You must be an operator in #csRegNowhere to register it.']);
    expect(await h.ctx.store.channel('#csregnoop')).toBeNull();
  });

  it('asks for a channel name, and answers HELP and unknown commands', async () => {
    const h = harness();
    const c = await h.register('csSyntax');
    expect(notices((await h.run(c, 'CS REGISTER')).to(c))).toEqual(['Syntax: REGISTER <#channel>']);
    expect(notices((await h.run(c, 'CS OP nochannel')).to(c))).toEqual(['Syntax: OP <#channel> [nick]']);
    expect(notices((await h.run(c, 'CS frobnicate #x')).to(c))).toEqual(['Unknown command frobnicate. /msg ChanServ HELP lists them.']);
    const help = notices((await h.run(c, 'CHANSERV HELP')).to(c));
    expect(help.map((l) => l.split(' ')[0])).toEqual(['ChanServ', 'REGISTER', 'INFO', 'OP', 'DROP']);
    expect(notices((await h.run(c, 'CS')).to(c))).toEqual(help);
    expect(notices((await h.run(c, 'PRIVMSG chanserv :help')).to(c))).toEqual(help);
  });
});

describe('ChanServ INFO', () => {
  it('shows the founder, the date, the kept modes and topic, to anyone', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csInfoF');
    await h.run(f, 'JOIN #csInfo');
    await h.run(f, 'MODE #csInfo +l 25');
    await h.run(f, 'TOPIC #csInfo :about things');
    await h.run(f, 'CS REGISTER #csInfo');
    const other = await h.register('csInfoO');
    expect(notices((await h.run(other, 'CS INFO #CSINFO')).to(other))).toEqual([
      '#csInfo: founder csInfoF, registered Tue, 14 Nov 2023 22:13:20 GMT.',
      'Kept modes: +nt limit 25',
      'Kept topic: about things',
    ]);
  });

  it('says when a channel is not registered', async () => {
    const h = harness();
    const c = await h.register('csInfoNone');
    await h.run(c, 'JOIN #csInfoNone');
    expect((await h.run(c, 'CS INFO #csInfoNone')).lines).toEqual([`csInfoNone <- ${cs('csInfoNone')} :#csInfoNone is not registered.`]);
  });
});

describe('ChanServ OP', () => {
  it('lets the founder op someone, seen by the channel as a MODE from ChanServ', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csOpF');
    await registered(h, f, '#csOp');
    const guest = await h.register('csOpGuest');
    const outside = await h.register('csOpOut');
    await h.run(guest, 'JOIN #csOp');
    const r = await h.run(f, 'CS OP #csOp csOpGuest');
    const mode = ':ChanServ!ChanServ@services MODE #csOp +o csOpGuest';
    expect(r.to(f)).toEqual([mode]);
    expect(r.to(guest)).toEqual([mode]);
    expect(r.to(outside)).toEqual([]);
    expect(h.state.membership('#csOp', 'csOpGuest')?.op).toBe(true);
    expect(notices((await h.run(f, 'CS OP #csOp csOpOut')).to(f))).toEqual(['csOpOut is not in #csOp.']);
  });

  it('ops the founder by default, even when it lost its operator status', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csOpSelf');
    await registered(h, f, '#csOpSelf');
    await h.run(f, 'MODE #csOpSelf -o csOpSelf');
    expect(h.state.membership('#csOpSelf', 'csOpSelf')?.op).toBe(false);
    expect((await h.run(f, 'CS OP #csOpSelf')).to(f)).toEqual([':ChanServ!ChanServ@services MODE #csOpSelf +o csOpSelf']);
    expect(h.state.membership('#csOpSelf', 'csOpSelf')?.op).toBe(true);
  });

  it('refuses anyone but the founder, logged in to another account or to none', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csOpOwner');
    await registered(h, f, '#csOpNo');
    const other = await loggedIn(h, 'csOpOther');
    const anon = await h.register('csOpAnon');
    for (const c of [other, anon]) {
      await h.run(c, 'JOIN #csOpNo');
      const r = await h.run(c, 'CS OP #csOpNo');
      expect(r.lines).toEqual([`${c.nick} <- ${cs(c.nick!)} :Only csOpOwner, the founder, may do that.`]);
      expect(h.state.membership('#csOpNo', c.nick!)?.op).toBe(false);
    }
    expect(notices((await h.run(other, 'CS OP #csOpUnregistered')).to(other))).toEqual(['#csOpUnregistered is not registered.']);
  });
});

describe('ChanServ DROP', () => {
  it('lets only the founder unregister a channel', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csDropF');
    await registered(h, f, '#csDrop');
    const other = await loggedIn(h, 'csDropO');
    expect(notices((await h.run(other, 'CS DROP #csDrop')).to(other))).toEqual(['Only csDropF, the founder, may do that.']);
    expect(await h.ctx.store.channel('#csdrop')).not.toBeNull();
    expect((await h.run(f, 'CS DROP #CSDROP')).lines).toEqual([`csDropF <- ${cs('csDropF')} :#csDrop is no longer registered.`]);
    expect(await h.ctx.store.channel('#csdrop')).toBeNull();
    expect(notices((await h.run(f, 'CS DROP #csDrop')).to(f))).toEqual(['#csDrop is not registered.']);
    expect(notices((await h.run(f, 'CS INFO #csDrop')).to(f))).toEqual(['#csDrop is not registered.']);
  });

  it('leaves a dropped channel alone when it is created again', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csDropAgain');
    await registered(h, f, '#csDropAgain');
    await h.run(f, 'MODE #csDropAgain +m');
    await h.run(f, 'CS DROP #csDropAgain');
    await h.run(f, 'PART #csDropAgain');
    const c = await h.register('csDropNew');
    const r = await h.run(c, 'JOIN #csDropAgain');
    expect(r.commands(c)).toEqual(['JOIN', '353', '366']);
    expect(h.state.channel('#csDropAgain')?.modes.flags).toBe('nt');
    expect(h.state.membership('#csDropAgain', 'csDropNew')?.op).toBe(true);
  });
});

describe('a registered channel on JOIN', () => {
  it('created again by someone else: its kept modes and topic come back and the creator is not its operator', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csBackF');
    await registered(h, f, '#csBack');
    await h.run(f, 'MODE #csBack +mk-t sekrit');
    await h.run(f, 'TOPIC #csBack :we are back');
    await h.run(f, 'PART #csBack');
    expect(h.state.channel('#csBack')).toBeNull();
    const c = await h.register('csBackNew');
    const r = await h.run(c, 'JOIN #csback');
    expect(r.to(c)).toEqual([
      `:${src(c)} JOIN #csback`,
      ':ChanServ!ChanServ@services MODE #csback -t+mk-o sekrit csBackNew',
      ':irc.test 332 csBackNew #csback :we are back',
      `:irc.test 333 csBackNew #csback ${src(f)} 1700000000`,
      ':irc.test 353 csBackNew = #csback csBackNew',
      ':irc.test 366 csBackNew #csback :End of /NAMES list',
    ]);
    expect(h.state.channel('#csBack')).toMatchObject({ modes: { flags: 'mn', key: 'sekrit', limit: null }, topic: { text: 'we are back' } });
    expect(h.state.membership('#csBack', 'csBackNew')?.op).toBe(false);
  });

  it('created again by its founder: the modes and topic come back and the founder stays its operator', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csBackSelf');
    await registered(h, f, '#csBackSelf');
    await h.run(f, 'MODE #csBackSelf +s');
    await h.run(f, 'TOPIC #csBackSelf :all mine');
    await h.run(f, 'PART #csBackSelf');
    const r = await h.run(f, 'JOIN #csBackSelf');
    expect(r.to(f).slice(0, 3)).toEqual([
      `:${src(f)} JOIN #csBackSelf`,
      ':ChanServ!ChanServ@services MODE #csBackSelf +s',
      ':irc.test 332 csBackSelf #csBackSelf :all mine',
    ]);
    expect(h.state.membership('#csBackSelf', 'csBackSelf')?.op).toBe(true);
  });

  it('the founder joining a channel that exists is opped, seen by the channel as a MODE from ChanServ', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csJoinF');
    await registered(h, f, '#csJoin');
    await h.run(f, 'PART #csJoin');
    const keeper = await h.register('csJoinKeeper');
    await h.run(keeper, 'JOIN #csJoin');
    const r = await h.run(f, 'JOIN #csJoin');
    const mode = ':ChanServ!ChanServ@services MODE #csJoin +o csJoinF';
    expect(r.to(keeper)).toEqual([`:${src(f)} JOIN #csJoin`, mode]);
    expect(r.to(f).slice(0, 2)).toEqual([`:${src(f)} JOIN #csJoin`, mode]);
    expect(r.to(f)).toContain(':irc.test 353 csJoinF = #csJoin :csJoinKeeper @csJoinF');
    expect(h.state.membership('#csJoin', 'csJoinF')?.op).toBe(true);
  });

  it('anyone else joining a channel that exists changes nothing', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csJoinPlainF');
    await registered(h, f, '#csJoinPlain');
    const c = await h.register('csJoinPlain');
    const r = await h.run(c, 'JOIN #csJoinPlain');
    expect(r.commands(c)).toEqual(['JOIN', '353', '366']);
    expect(r.to(f)).toEqual([`:${src(c)} JOIN #csJoinPlain`]);
    expect(h.state.membership('#csJoinPlain', 'csJoinPlain')?.op).toBe(false);
  });

  it('a founder who is not logged in is not opped', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csJoinOut');
    await registered(h, f, '#csJoinOut');
    const keeper = await h.register('csJoinOutK');
    await h.run(keeper, 'JOIN #csJoinOut');
    await h.run(f, 'PART #csJoinOut');
    await h.run(f, 'NS LOGOUT');
    const r = await h.run(f, 'JOIN #csJoinOut');
    expect(r.to(keeper)).toEqual([`:${src(f)} JOIN #csJoinOut`]);
    expect(h.state.membership('#csJoinOut', 'csJoinOut')?.op).toBe(false);
  });
});

describe('a registered channel keeps its changes', () => {
  it('TOPIC and MODE flag, key and limit changes update the store', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csKeepF');
    await registered(h, f, '#csKeep');
    h.clock.now += 5_000;
    await h.run(f, 'TOPIC #csKeep :news');
    expect(await h.ctx.store.channel('#cskeep')).toMatchObject({ topic: 'news', topicSetBy: src(f), topicSetAt: h.clock.now });
    await h.run(f, 'MODE #csKeep +imkl-t pass 7');
    expect(await h.ctx.store.channel('#cskeep')).toMatchObject({ modes: 'imn', key: 'pass', limit: 7, topic: 'news' });
    await h.run(f, 'MODE #csKeep -kl-i');
    expect(await h.ctx.store.channel('#cskeep')).toMatchObject({ modes: 'mn', key: null, limit: null });
    await h.run(f, 'TOPIC #csKeep :');
    expect(await h.ctx.store.channel('#cskeep')).toMatchObject({ topic: null, topicSetBy: null, topicSetAt: null });
  });

  it('ops, voices and bans are not kept, and an unregistered channel is not stored', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csKeepOv');
    await registered(h, f, '#csKeepOv');
    const other = await h.register('csKeepOvO');
    await h.run(other, 'JOIN #csKeepOv');
    const before = await h.ctx.store.channel('#cskeepov');
    await h.run(f, 'MODE #csKeepOv +ovb csKeepOvO csKeepOvO bad!*@*');
    expect(await h.ctx.store.channel('#cskeepov')).toEqual(before);
    await h.run(other, 'JOIN #csKeepNot');
    await h.run(other, 'TOPIC #csKeepNot :not kept');
    await h.run(other, 'MODE #csKeepNot +m');
    expect(await h.ctx.store.channel('#cskeepnot')).toBeNull();
  });

  it('a change refused (not an operator) leaves the store alone', async () => {
    const h = harness();
    const f = await loggedIn(h, 'csKeepRef');
    await registered(h, f, '#csKeepRef');
    await h.run(f, 'TOPIC #csKeepRef :kept');
    const other = await h.register('csKeepRefO');
    await h.run(other, 'JOIN #csKeepRef');
    expect((await h.run(other, 'TOPIC #csKeepRef :hijack')).commands(other)).toEqual(['482']);
    expect((await h.run(other, 'MODE #csKeepRef +m')).commands(other)).toEqual(['482']);
    expect(await h.ctx.store.channel('#cskeepref')).toMatchObject({ topic: 'kept', modes: 'nt' });
  });
});

describe('store outage', () => {
  const unavailable = 'Registered channels are unavailable right now (the store cannot be reached): nothing was changed, try again shortly.';

  it('ChanServ says registered channels are unavailable', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = await h.register('csDown');
    await h.run(c, 'JOIN #csDown');
    // Logged in before the store went away.
    c.account = 'csDown';
    for (const command of ['REGISTER #csDown', 'INFO #csDown', 'OP #csDown', 'DROP #csDown']) {
      expect((await h.run(c, `PRIVMSG ChanServ :${command}`)).lines).toEqual([`csDown <- ${cs('csDown')} :${unavailable}`]);
    }
  });

  it('JOIN still works, creating the channel as usual', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = await h.register('csDownJoin');
    const r = await h.run(c, 'JOIN #csDownJoin');
    expect(r.lines).toEqual([
      `csDownJoin <- :${src(c)} JOIN #csDownJoin`,
      'csDownJoin <- :irc.test 353 csDownJoin = #csDownJoin @csDownJoin',
      'csDownJoin <- :irc.test 366 csDownJoin #csDownJoin :End of /NAMES list',
    ]);
    const other = await h.register('csDownJoin2');
    expect((await h.run(other, 'JOIN #csDownJoin')).commands(other)).toEqual(['JOIN', '353', '366']);
  });

  it('TOPIC and MODE apply, with a notice that they hold until the channel empties', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = await h.register('csDownTopic');
    await h.run(c, 'JOIN #csDownTopic');
    const notice = `${cs('csDownTopic')} :#csDownTopic's registration could not be updated (the store is unavailable): the change holds until the channel empties.`;
    expect((await h.run(c, 'TOPIC #csDownTopic :still set')).to(c)).toEqual([`:${src(c)} TOPIC #csDownTopic :still set`, notice]);
    expect((await h.run(c, 'MODE #csDownTopic +m')).to(c)).toEqual([`:${src(c)} MODE #csDownTopic +m`, notice]);
    expect(h.state.channel('#csDownTopic')).toMatchObject({ modes: { flags: 'mnt' }, topic: { text: 'still set' } });
  });
});
