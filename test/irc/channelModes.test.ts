// Channel modes beyond the RFC's, seen by real clients on real sockets: irc-framework reads
// CHANMODES=beIq,k,l,MRimnst to parse +e/+I/+q changes with their masks and lists them
// (its banlist, exceptlist and inviteList events); a quiet (+q) silences a member until +e or
// +v; +R turns away a client without an account (477) and lets one logged in with SASL in; +M
// silences those without an account.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startIrcTestServer, type TestServer } from '../helpers.js';
import { connectClient, type TestClient } from './clients.js';
import { ask, connectIrc, type RawIrc } from './raw.js';

let server: TestServer;
const fws: TestClient[] = [];
const raws: RawIrc[] = [];

beforeAll(async () => {
  server = await startIrcTestServer();
});

afterEach(() => {
  for (const c of fws.splice(0)) c.destroy();
  for (const c of raws.splice(0)) c.raw.socket.destroy();
});

afterAll(async () => {
  await server?.stop();
});

async function fw(nick: string, account?: { account: string; password: string }): Promise<TestClient> {
  const c = await connectClient({ port: server.port, nick, ...(account ? { account, timeoutMs: 20_000 } : {}) });
  fws.push(c);
  return c;
}

async function raw(nick: string): Promise<RawIrc> {
  const c = await connectIrc(server.port);
  raws.push(c);
  await c.register(nick);
  return c;
}

/** `op` creates `channel` and each of `others` joins it; resolves once `op` has seen them all. */
async function room(channel: string, op: TestClient, ...others: TestClient[]): Promise<void> {
  await op.join(channel);
  for (const c of others) {
    await c.join(channel);
    await op.waitFor('join', (e) => e.channel === channel && e.nick === c.nick);
  }
}

describe('list modes with irc-framework', () => {
  it('parses +e, +I and +q with their masks, and lists each list', async () => {
    const [alice, bob] = await Promise.all([fw('lmalice'), fw('lmbob')]);
    await room('#lists', alice, bob);
    alice.irc.raw('MODE #lists +beIq bad ok inv hush');
    const change = await bob.waitFor('mode', (e) => e.target === '#lists');
    // irc-framework took each mask as its mode's parameter: it read CHANMODES right.
    expect(change.modes).toEqual([
      { mode: '+b', param: 'bad!*@*' },
      { mode: '+e', param: 'ok!*@*' },
      { mode: '+I', param: 'inv!*@*' },
      { mode: '+q', param: 'hush!*@*' },
    ]);
    alice.irc.raw('MODE #lists b');
    alice.irc.raw('MODE #lists e');
    alice.irc.raw('MODE #lists I');
    expect((await alice.waitFor('banlist')).bans.map((b: { banned: string; banned_by: string }) => `${b.banned} ${b.banned_by}`)).toEqual(['bad!*@* lmalice']);
    expect((await alice.waitFor('exceptlist')).excepts.map((e: { except: string }) => e.except)).toEqual(['ok!*@*']);
    expect((await alice.waitFor('inviteList')).invites.map((i: { invited: string }) => i.invited)).toEqual(['inv!*@*']);
    // irc-framework has no event for Solanum's quiet list: its lines as they came.
    alice.irc.raw('MODE #lists q');
    await alice.waitForLine(/ 729 /);
    expect(alice.received().filter((l) => / 72[89] /.test(l)).map((l) => l.replace(/ \d+$/, ' TS'))).toEqual([
      ':irc.localhost 728 lmalice #lists q hush!*@* lmalice TS',
      ':irc.localhost 729 lmalice #lists q :End of channel quiet list',
    ]);
  });

  it('silences a quieted member (404) until an exception or voice, while others still speak', async () => {
    const [alice, bob, carol] = await Promise.all([fw('qalice'), fw('qbob'), fw('qcarol')]);
    await room('#quiet', alice, bob, carol);
    alice.irc.raw('MODE #quiet +q qbob!*@*');
    await bob.waitFor('mode', (e) => e.target === '#quiet');
    bob.say('#quiet', 'muted');
    const refused = await bob.waitFor('irc error', (e) => e.error === 'cannot_send_to_channel');
    expect(refused.channel).toBe('#quiet');
    alice.irc.raw('MODE #quiet +e qbob');
    await bob.waitFor('mode', (e) => e.modes?.[0]?.mode === '+e');
    bob.say('#quiet', 'excepted');
    carol.say('#quiet', 'from carol');
    await alice.waitFor('message', (e) => e.message === 'from carol');
    await alice.waitFor('message', (e) => e.message === 'excepted');
    const said = alice.eventsNamed('message').filter((e) => e.target === '#quiet');
    expect(said.map((e) => `${e.nick} ${e.message}`).sort()).toEqual(['qbob excepted', 'qcarol from carol']);
  });
});

describe('+R and +M with irc-framework and SASL', () => {
  it('turns away a client without an account (477), lets one logged in join, and lets only it speak under +M', async () => {
    // A name of its own: the test store is shared by the process's servers.
    const account = `regd${process.pid % 10_000}`;
    const password = 'c0rrect-h0rse-battery';
    const registrar = await raw(account);
    expect(await ask(registrar, `PRIVMSG NickServ :REGISTER ${password}`, / 900 /, 20_000)).toMatch(/You are now logged in as/);
    registrar.send('QUIT :registered');
    await registrar.closed;

    const boss = await fw('rboss');
    await boss.join('#regonly');
    boss.irc.raw('MODE #regonly +R');
    await boss.waitFor('mode', (e) => e.target === '#regonly');
    const guest = await raw('rguest');
    expect(await ask(guest, 'JOIN #regonly', / (477|366) /)).toBe(
      ':irc.localhost 477 rguest #regonly :Cannot join channel (+R) - you need to be logged into your account',
    );

    const member = await fw(account, { account, password });
    await member.waitFor('loggedin');
    await member.join('#regonly');

    // +M on a channel anyone may join: the guest is silenced, the logged-in member is not.
    boss.irc.raw('MODE #regonly -R+M');
    await member.waitFor('mode', (e) => e.modes?.some((m: { mode: string }) => m.mode === '+M'));
    await ask(guest, 'JOIN #regonly', / 366 /);
    expect(await ask(guest, 'PRIVMSG #regonly :hello?', / 404 /)).toBe(':irc.localhost 404 rguest #regonly :Cannot send to channel');
    member.say('#regonly', 'logged in');
    await boss.waitFor('message', (e) => e.message === 'logged in');
    expect(boss.eventsNamed('message').filter((e) => e.target === '#regonly').map((e) => e.nick)).toEqual([account]);
  });
});
