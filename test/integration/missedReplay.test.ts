// What an always-on user missed, replayed to a client that cannot ask for history (irssi,
// WeeChat: no draft/chathistory), end to end: the built CLI with its SQLite store, raw clients
// logging in with SASL PLAIN. Its next connection gets what was said in its channels and to it
// since its last connection closed, each target in a chathistory batch, with the times the
// messages were said; a client asking for history itself gets none of it, nor does a second
// connection while one is open; and the time it left survives a restart of the server.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ask, capClient, connectIrc, registerAccount as registerAccountAs, untagged, untilShownAway, type RawIrc } from '../irc/raw.js';
import { ircServers } from '../process.js';

const password = 'opensesame42';
/** What irssi and WeeChat enable: no draft/chathistory. */
const IRSSI_CAPS = 'batch server-time message-tags';

const servers = ircServers('irc-missed-');
const clients: Array<{ close(): void }> = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

afterAll(() => servers.close());

async function client(port: number, nick: string, caps: string, account?: string): Promise<RawIrc> {
  const c = await capClient(port, nick, caps, account === undefined ? undefined : { account, password });
  clients.push({ close: () => c.raw.socket.destroy() });
  return c;
}

const registerAccount = (port: number, nick: string): Promise<void> => registerAccountAs(port, nick, password);

/** Every line `c` got from its `from`th on, tags included, once it has answered a PING sent now. */
async function settled(c: RawIrc, from = 0): Promise<string[]> {
  const mark = c.lines().length;
  c.send('PING :settled');
  await c.waitForLine(/ PONG \S+ :?settled$/, 5_000, mark);
  return c.raw.text().split('\r\n').slice(from, -1);
}

/** An always-on user `nick` in `channel`, with `peer` (logged in too) there, and the user gone. */
async function leftAlone(port: number, nick: string, peerNick: string, channel: string): Promise<RawIrc> {
  await registerAccount(port, nick);
  await registerAccount(port, peerNick);
  const user = await client(port, nick, IRSSI_CAPS, nick);
  const peer = await client(port, peerNick, IRSSI_CAPS, peerNick);
  user.send('PRIVMSG NickServ :SET ALWAYSON ON', `JOIN ${channel}`);
  await user.waitForLine(/ALWAYSON is ON/);
  await user.waitForLine(new RegExp(` 366 ${nick} ${channel} `));
  peer.send(`JOIN ${channel}`);
  await peer.waitForLine(new RegExp(` 366 ${peerNick} ${channel} `));
  peer.send(`PRIVMSG ${channel} :seen before leaving`);
  await user.waitForLine(/PRIVMSG \S+ :seen before leaving$/);
  user.send('QUIT :laptop closed');
  await user.closed;
  await untilShownAway(peer, peerNick, nick);
  return peer;
}

describe('what an always-on user missed', () => {
  it('is replayed to its next connection: channel and private messages since it left, in chathistory batches with their times', async () => {
    const s = await servers.start();
    const bob = await leftAlone(s.port, 'amy', 'bob', '#room');
    const saidFrom = Date.now();
    bob.send('PRIVMSG #room :one', 'PRIVMSG #room :\x01ACTION waves\x01', 'PRIVMSG amy :psst', 'PRIVMSG amy :\x01VERSION\x01');
    await settled(bob);
    const saidTo = Date.now();

    const amy = await client(s.port, 'amy', IRSSI_CAPS, 'amy');
    await amy.waitForLine(/^:amy!\S+ JOIN #room/);
    const lines = await settled(amy);
    const replay = lines.slice(lines.findIndex((l) => / NOTICE amy :Replaying /.test(l)));
    expect(untagged(replay[0]!)).toMatch(/^:irc\.localhost NOTICE amy :Replaying 3 messages you missed since \d{4}-\d\d-\d\d \d\d:\d\d UTC, when your last connection closed\.$/);
    // A marker in the channel's own window, for a client that shows replayed lines at arrival.
    expect(replay.map(untagged).filter((l) => / NOTICE #room /.test(l))).toEqual([
      expect.stringMatching(/^:irc\.localhost NOTICE #room :Replaying 2 messages said here since \d{4}-\d\d-\d\d \d\d:\d\d UTC, when your last connection closed\.$/),
    ]);
    const batches = replay.filter((l) => / BATCH /.test(l));
    expect(batches.map((l) => untagged(l).replace(/[+-]\S+/, 'REF'))).toEqual([
      ':irc.localhost BATCH REF chathistory #room',
      ':irc.localhost BATCH REF',
      ':irc.localhost BATCH REF chathistory bob',
      ':irc.localhost BATCH REF',
    ]);
    const messages = replay.filter((l) => / PRIVMSG /.test(l));
    expect(messages.map((l) => l.slice(l.indexOf(' :') + 1))).toEqual([
      ':bob!~bob@127.0.0.1 PRIVMSG #room :one',
      ':bob!~bob@127.0.0.1 PRIVMSG #room :\x01ACTION waves\x01',
      ':bob!~bob@127.0.0.1 PRIVMSG amy :psst',
    ]);
    // Each in its batch, at the time it was said (server-time), with the msgid it was delivered with.
    for (const line of messages) {
      const time = Date.parse(/(?:^@|;)time=([^; ]+)/.exec(line)![1]!);
      expect(time).toBeGreaterThanOrEqual(saidFrom);
      expect(time).toBeLessThanOrEqual(saidTo);
      expect(line).toMatch(/(?:^@|;)batch=[^; ]+/);
      expect(line).toMatch(/(?:^@|;)msgid=[^; ]+/);
    }

    // Replayed once: back again with nothing said meanwhile, nothing is replayed.
    amy.send('QUIT');
    await amy.closed;
    const again = await client(s.port, 'amy', IRSSI_CAPS, 'amy');
    await again.waitForLine(/^:amy!\S+ JOIN #room/);
    expect((await settled(again)).filter((l) => / NOTICE amy :Replaying | PRIVMSG /.test(l))).toEqual([]);
  });

  it('shows a client without server-time when each message was said, before its text', async () => {
    const s = await servers.start();
    const bob = await leftAlone(s.port, 'cal', 'dan', '#old');
    bob.send('PRIVMSG #old :plain', 'PRIVMSG #old :\x01ACTION nods\x01', 'PRIVMSG #old :\x01ACTION\x01');
    await settled(bob);
    const cal = await client(s.port, 'cal', 'multi-prefix', 'cal');
    await cal.waitForLine(/^:cal!\S+ JOIN #old/);
    const stamp = '\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\]';
    const messages = (await settled(cal)).filter((l) => / PRIVMSG #old /.test(l));
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(new RegExp(`^:dan!~dan@127\\.0\\.0\\.1 PRIVMSG #old :${stamp} plain$`));
    expect(messages[1]).toMatch(new RegExp(`^:dan!~dan@127\\.0\\.0\\.1 PRIVMSG #old :\\x01ACTION ${stamp} nods\\x01$`));
    // An empty /me is still an ACTION, stamped inside.
    expect(messages[2]).toMatch(new RegExp(`^:dan!~dan@127\\.0\\.0\\.1 PRIVMSG #old :\\x01ACTION ${stamp}\\x01$`));
  });

  it('is not replayed to a client that asks for history itself, nor to a second connection while one is open', async () => {
    const s = await servers.start();
    const fred = await leftAlone(s.port, 'eli', 'fred', '#ask');
    fred.send('PRIVMSG #ask :fetch this yourself');
    await settled(fred);
    const modern = await client(s.port, 'eli', `${IRSSI_CAPS} draft/chathistory`, 'eli');
    await modern.waitForLine(/^:eli!\S+ JOIN #ask/);
    expect((await settled(modern)).filter((l) => / NOTICE eli :Replaying | PRIVMSG #ask /.test(l))).toEqual([]);
    // It asks, and it is there.
    modern.send('CHATHISTORY LATEST #ask * 10');
    await modern.waitForLine(/PRIVMSG #ask :fetch this yourself$/);

    // A second connection while the first is open: the user missed nothing.
    fred.send('PRIVMSG #ask :live');
    await modern.waitForLine(/PRIVMSG #ask :live$/);
    const second = await client(s.port, 'eli', IRSSI_CAPS, 'eli');
    await second.waitForLine(/^:eli!\S+ JOIN #ask/);
    expect((await settled(second)).filter((l) => / NOTICE eli :Replaying | PRIVMSG #ask /.test(l))).toEqual([]);
  });

  it('counts from when the last connection closed across a restart of the server', async () => {
    const dir = servers.tempDir();
    let s = await servers.start(dir);
    const hal = await leftAlone(s.port, 'gia', 'hal', '#keep');
    hal.send('PRIVMSG #keep :before the restart', 'PRIVMSG gia :did you see?');
    await settled(hal);
    // Stopped as a service manager stops it, and started again: gia is brought back, alone.
    s.proc.kill('SIGTERM');
    await s.exited;
    s = await servers.start(dir);
    const back = await client(s.port, 'hal', IRSSI_CAPS, 'hal');
    back.send('JOIN #keep');
    await back.waitForLine(/ 366 hal #keep /);
    back.send('PRIVMSG #keep :after the restart');
    await settled(back);

    const gia = await client(s.port, 'gia', IRSSI_CAPS, 'gia');
    await gia.waitForLine(/^:gia!\S+ JOIN #keep/);
    const messages = (await settled(gia)).filter((l) => / PRIVMSG /.test(l));
    expect(messages.map((l) => l.slice(l.lastIndexOf(' :') + 2))).toEqual(['before the restart', 'after the restart', 'did you see?']);
  });

  it('is not of a channel it was KICKed from while away: the next start does not bring it back there, and its next connection is told', async () => {
    const dir = servers.tempDir();
    let s = await servers.start(dir);
    await registerAccount(s.port, 'jay');
    const ivy = await client(s.port, 'ivy', IRSSI_CAPS);
    ivy.send('JOIN #k', 'JOIN #k2');
    await ivy.waitForLine(/ 366 ivy #k2 /);
    const jay = await client(s.port, 'jay', IRSSI_CAPS, 'jay');
    jay.send('PRIVMSG NickServ :SET ALWAYSON ON', 'JOIN #k', 'JOIN #k2', 'JOIN #stay');
    await jay.waitForLine(/ALWAYSON is ON/);
    await jay.waitForLine(/ 366 jay #stay /);
    // Kicked while connected: seen then, not told again.
    ivy.send('KICK #k2 jay :seen live');
    await jay.waitForLine(/ KICK #k2 jay /);
    jay.send('QUIT :gone');
    await jay.closed;
    await untilShownAway(ivy, 'ivy', 'jay');
    ivy.send('KICK #k jay :not while you are away');
    await ivy.waitForLine(/ KICK #k jay /);
    await settled(ivy);
    s.proc.kill('SIGTERM');
    await s.exited;

    s = await servers.start(dir);
    const kim = await client(s.port, 'kim', IRSSI_CAPS);
    kim.send('WHOIS jay');
    expect(untagged(await kim.waitForLine(/ 319 kim jay /))).toBe(':irc.localhost 319 kim jay @#stay');
    const back = await client(s.port, 'jay', `${IRSSI_CAPS} draft/chathistory`, 'jay');
    await back.waitForLine(/^:jay!\S+ JOIN #stay/);
    const told = (await settled(back)).map(untagged).filter((l) => / NOTICE jay :While you were not connected/.test(l));
    expect(told).toEqual([
      expect.stringMatching(/^:irc\.localhost NOTICE jay :While you were not connected, ivy kicked you from #k \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): not while you are away$/),
    ]);
  });

  it('is not lost to a connection that logged in with IDENTIFY as another nick: that one leaves as any user, and is told how to join', async () => {
    const s = await servers.start();
    const bob = await leftAlone(s.port, 'lea', 'mo', '#id');
    bob.send('PRIVMSG #id :said while lea was away');
    await settled(bob);
    // irssi without SASL: the nick is the always-on user's, so it registers as lea_ and logs in after.
    const late = await connectIrc(s.port);
    await late.register('lea_');
    const told = await ask(late, `PRIVMSG NickServ :IDENTIFY lea ${password}`, /NOTICE lea_ :Your account's user/);
    expect(told).toMatch(/Your account's user lea is on the network too; this connection is a separate user\. To be lea here, log in with SASL as you connect/);
    late.send('QUIT');
    await late.closed;
    // It left: not a second always-on user of the account.
    expect(await ask(bob, 'WHOIS lea_', / (311|401) mo lea_ /)).toMatch(/ 401 mo lea_ /);

    const lea = await client(s.port, 'lea', IRSSI_CAPS, 'lea');
    await lea.waitForLine(/^:lea!\S+ JOIN #id/);
    const messages = (await settled(lea)).filter((l) => / PRIVMSG #id /.test(l));
    expect(messages.map((l) => l.slice(l.lastIndexOf(' :') + 2))).toEqual(['said while lea was away']);
  });
});
