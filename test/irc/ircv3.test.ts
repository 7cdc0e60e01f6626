// The IRCv3 extensions that tell a client about other users, seen by real clients on real
// sockets: MONITOR (irc-framework's `users online` / `users offline`), extended-monitor,
// away-notify, setname, chghost (with its QUIT/JOIN/MODE fallback), invite-notify and
// draft/channel-rename (with its PART/JOIN/NAMES fallback).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/passwords.js';
import { startIrcTestServer, type TestServer } from '../helpers.js';
import { connectClient, type TestClient } from './clients.js';
import { ask, connectIrc, type RawIrc } from './raw.js';

const OPER_PW = 'ircv3-oper-pw';
let server: TestServer;
const fws: TestClient[] = [];
const raws: RawIrc[] = [];

beforeAll(async () => {
  server = await startIrcTestServer({ opers: [{ name: 'boss', passwordHash: await hashPassword(OPER_PW) }] });
});

afterEach(() => {
  for (const c of fws.splice(0)) c.destroy();
  for (const c of raws.splice(0)) c.raw.socket.destroy();
});

afterAll(async () => {
  await server?.stop();
});

async function fw(nick: string, caps: string[] = []): Promise<TestClient> {
  const c = await connectClient({ port: server.port, nick, caps });
  fws.push(c);
  return c;
}

/** A raw client registered as `nick`, having enabled `caps` first. */
async function raw(nick: string, caps: string[] = []): Promise<RawIrc> {
  const c = await connectIrc(server.port);
  raws.push(c);
  if (caps.length > 0) c.send('CAP LS 302', `CAP REQ :${caps.join(' ')}`, 'CAP END');
  await c.register(nick);
  return c;
}

describe('MONITOR', () => {
  it('tells an irc-framework client when a monitored nick is offline, comes online, changes nick and quits', async () => {
    const alice = await fw('alice');
    alice.irc.addMonitor('bob,robert');
    await alice.waitFor('users offline', (e) => e.nicks.join() === 'bob,robert');
    expect(await alice.waitForLine(/ 005 .* MONITOR=100 /)).toBeTruthy();

    const bob = await fw('bob');
    const online = await alice.waitFor('users online', (e) => e.nicks.includes('bob'));
    expect(online.nicks).toEqual(['bob']);
    expect(alice.received()).toContain(':irc.localhost 730 * bob!~bob@127.0.0.1');

    await bob.changeNick('robert');
    await alice.waitFor('users offline', (e) => e.nicks.join() === 'bob');
    await alice.waitFor('users online', (e) => e.nicks.includes('robert'));

    await bob.quit('bye');
    await alice.waitFor('users offline', (e) => e.nicks.join() === 'robert');
    const status = alice.received().filter((l) => / 73[01] \* /.test(l));
    expect(status).toEqual([
      ':irc.localhost 730 * bob!~bob@127.0.0.1',
      ':irc.localhost 731 * bob',
      ':irc.localhost 730 * robert!~bob@127.0.0.1',
      ':irc.localhost 731 * robert',
    ]);
  });

  it('lists the monitor list and its status over a raw socket', async () => {
    const c = await raw('lister');
    await raw('here');
    expect(await ask(c, 'MONITOR + Here,gone', / 731 /)).toBe(':irc.localhost 731 lister gone');
    expect(c.lines().some((l) => l === ':irc.localhost 730 lister here!~here@127.0.0.1')).toBe(true);
    c.send('MONITOR L');
    await c.waitForLine(/ 733 /);
    expect(c.lines().filter((l) => / 73[23] /.test(l))).toEqual([':irc.localhost 732 lister Here,gone', ':irc.localhost 733 lister :End of MONITOR list']);
  });
});

describe('extended-monitor', () => {
  it('sends the AWAY of a monitored nick to a watcher that shares no channel with it', async () => {
    const watcher = await raw('watcher', ['extended-monitor', 'away-notify']);
    const other = await raw('other', ['away-notify']);
    const dan = await raw('dan');
    for (const c of [watcher, other]) await ask(c, 'MONITOR + dan', / 730 /);
    dan.send('AWAY :brb');
    expect(await watcher.waitForLine(/ AWAY /)).toBe(':dan!~dan@127.0.0.1 AWAY :brb');
    // The one without extended-monitor gets nothing: a PING answered after it proves it.
    await ask(other, 'PING sync', / PONG /);
    expect(other.lines().some((l) => / AWAY /.test(l))).toBe(false);
  });
});

describe('away-notify', () => {
  it('tells irc-framework peers (which enable it) when a member goes away and comes back, and that a joiner is away', async () => {
    const alice = await fw('aw1');
    const bob = await fw('aw2');
    await alice.join('#away');
    await bob.join('#away');
    bob.irc.raw('AWAY', 'lunch');
    expect((await alice.waitFor('away', (e) => e.nick === 'aw2')).message).toBe('lunch');
    bob.irc.raw('AWAY');
    await alice.waitFor('back', (e) => e.nick === 'aw2');

    const carol = await fw('aw3');
    carol.irc.raw('AWAY', 'not here');
    await carol.waitForLine(/ 306 /);
    await carol.join('#away');
    expect((await alice.waitFor('away', (e) => e.nick === 'aw3')).message).toBe('not here');
    const lines = alice.received().filter((l) => l.startsWith(':aw3!'));
    expect(lines).toEqual([':aw3!~aw3@127.0.0.1 JOIN #away * :aw3 (irc-framework)', ':aw3!~aw3@127.0.0.1 AWAY :not here']);
  });
});

describe('setname', () => {
  it('changes the realname: peers with the cap get SETNAME (user updated), WHOIS shows it', async () => {
    const alice = await fw('sn1', ['setname']);
    const bob = await fw('sn2', ['setname']);
    await alice.join('#sn');
    await bob.join('#sn');
    alice.irc.raw('SETNAME', 'Alice Liddell');
    expect((await bob.waitFor('user updated', (e) => e.nick === 'sn1')).new_gecos).toBe('Alice Liddell');
    await alice.waitFor('user updated', (e) => e.nick === 'sn1');
    const w = await raw('sn3');
    expect(await ask(w, 'WHOIS sn1', / 311 /)).toBe(':irc.localhost 311 sn3 sn1 ~sn1 127.0.0.1 * :Alice Liddell');
    expect(await ask(w, `SETNAME :${'x'.repeat(129)}`, /FAIL/)).toBe(':irc.localhost FAIL SETNAME INVALID_REALNAME :Realname is not valid');
  });
});

describe('chghost', () => {
  it('an operator changes a user@host: CHGHOST to peers with the cap, QUIT/JOIN/MODE to the others', async () => {
    const op = await raw('chop');
    await ask(op, `OPER boss ${OPER_PW}`, / 381 /);
    const alice = await fw('ch1', ['chghost']);
    const bob = await fw('ch2', ['chghost']);
    const carol = await raw('ch3');
    await bob.join('#ch');
    await alice.join('#ch');
    carol.send('JOIN #ch');
    await carol.waitForLine(/ 366 ch3 #ch /);
    await bob.waitFor('join', (e) => e.nick === 'ch3');
    const from = carol.lines().length;
    op.send('CHGHOST ch2 ~vhost staff/bob');
    const updated = await alice.waitFor('user updated', (e) => e.nick === 'ch2');
    expect(updated).toMatchObject({ new_ident: '~vhost', new_hostname: 'staff/bob' });
    await bob.waitForLine(/ 396 ch2 staff\/bob /);
    await carol.waitForLine(/ MODE #ch \+o ch2$/, 5_000, from);
    expect(carol.lines().slice(from)).toEqual([
      ':ch2!~ch2@127.0.0.1 QUIT :Changing host',
      ':ch2!~vhost@staff/bob JOIN #ch',
      ':irc.localhost MODE #ch +o ch2',
    ]);
    // The new mask is what everyone sees from now on.
    bob.say('#ch', 'hello');
    expect(await carol.waitForLine(/ PRIVMSG #ch /)).toBe(':ch2!~vhost@staff/bob PRIVMSG #ch :hello');
    // alice, with chghost, saw no fallback QUIT or JOIN of bob's.
    await alice.waitFor('message', (e) => e.message === 'hello');
    expect(alice.received().filter((l) => l.startsWith(':ch2!') && / (QUIT|JOIN) /.test(l))).toEqual([]);
  });
});

describe('invite-notify', () => {
  it("sends an INVITE to the channel's other operators that enabled it (irc-framework does)", async () => {
    const alice = await fw('in1');
    const bob = await fw('in2');
    await raw('in3');
    await alice.join('#inv');
    await bob.join('#inv');
    alice.irc.raw('MODE', '#inv', '+o', 'in2');
    await bob.waitFor('mode', (e) => e.target === '#inv');
    alice.irc.raw('INVITE', 'in3', '#inv');
    const seen = await bob.waitFor('invite', (e) => e.invited === 'in3');
    expect(seen).toMatchObject({ nick: 'in1', channel: '#inv' });
  });
});

describe('draft/channel-rename', () => {
  it('renames a channel: RENAME to a client that asked for it, PART/JOIN and NAMES that irc-framework follows to the others', async () => {
    const alice = await fw('rn1', ['draft/channel-rename']);
    const bob = await fw('rn2');
    await alice.join('#old');
    await bob.join('#old');
    alice.irc.raw('TOPIC', '#old', 'the topic stays');
    await bob.waitFor('topic', (e) => e.channel === '#old');
    alice.irc.raw('RENAME', '#old', '#new', 'tidier');
    expect(await alice.waitForLine(/ RENAME /)).toBe(':rn1!~rn1@127.0.0.1 RENAME #old #new :tidier');
    expect(await bob.waitFor('part', (e) => e.channel === '#old' && e.nick === 'rn2')).toMatchObject({ message: 'tidier' });
    await bob.waitFor('join', (e) => e.channel === '#new' && e.nick === 'rn2');
    expect((await bob.waitFor('topic', (e) => e.channel === '#new')).topic).toBe('the topic stays');
    const names = await bob.waitFor('userlist', (e) => e.channel === '#new');
    expect(names.users.map((u: { nick: string; modes: string[] }) => `${u.modes.join('')}${u.nick}`).sort()).toEqual(['orn1', 'rn2']);
    // Neither sees anything more of the old name; both talk under the new one.
    bob.say('#new', 'renamed fine');
    expect(await alice.waitFor('message', (e) => e.message === 'renamed fine')).toMatchObject({ target: '#new', nick: 'rn2' });
    // The client that asked for RENAME saw no PART or JOIN of its own but its first JOIN.
    expect(alice.received().filter((l) => /^:rn1!\S+ (PART|JOIN) /.test(l))).toHaveLength(1);
    // A non-member, and a second rename within the cooldown, are refused.
    expect(await ask(await raw('rn3'), 'RENAME #new #x', / 442 /)).toMatch(/ 442 rn3 #new /);
    alice.irc.raw('RENAME', '#new', '#newer');
    expect(await alice.waitForLine(/ FAIL RENAME /)).toBe(':irc.localhost FAIL RENAME CANNOT_RENAME #new #newer :This channel has been renamed recently');
  });
});
