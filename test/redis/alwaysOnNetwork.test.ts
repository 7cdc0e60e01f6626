// An always-on user left alone on a network of nodes (one redis-server, one PostgreSQL store),
// through what a network goes through: Redis dropping every connection for a moment (the user
// has none to be found by, and is no ghost for it), and its home node stopping while its next
// connection reaches another node (which takes its place: its channels, and what it missed).
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ask, capClient, registerAccount as registerAccountAs, untagged, untilShownAway, type RawIrc } from '../irc/raw.js';
import { startPostgres, type PgServer } from '../store/postgresServer.js';
import { clientPool, killNodes, startNode, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const password = 'opensesame42';
/** What irssi and WeeChat enable: no draft/chathistory, so what was missed is replayed. */
const IRSSI_CAPS = 'batch server-time message-tags';

let redis: RedisServer;
let pg: PgServer;
const { raw, track, closeAll } = clientPool();

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
}, 90_000);

afterEach(async () => {
  closeAll();
  await killNodes();
});

afterAll(async () => {
  await Promise.all([redis?.stop(), pg?.stop()]);
});

/** Two nodes of network `network` on their own database. */
async function twoNodes(network: string): Promise<[IrcNode, IrcNode]> {
  const options = { network, extraArgs: ['--database', await pg.freshDatabase()] };
  return (await Promise.all([startNode(redis.url, 'one.test', options), startNode(redis.url, 'two.test', options)])) as [IrcNode, IrcNode];
}

async function client(node: IrcNode, nick: string, account: string): Promise<RawIrc> {
  const one = await capClient(node.port, nick, IRSSI_CAPS, { account, password });
  track(one);
  return one;
}

/** `nick` always-on on `home`, in `channel` with `peer` (bob, on the other node), then gone. */
async function leftAlone(home: IrcNode, nick: string, peer: RawIrc, channel: string): Promise<void> {
  await registerAccountAs(home.port, nick, password);
  const user = await client(home, nick, nick);
  user.send('PRIVMSG NickServ :SET ALWAYSON ON', `JOIN ${channel}`);
  await user.waitForLine(/ALWAYSON is ON/);
  await user.waitForLine(new RegExp(` 366 ${nick} ${channel} `));
  await ask(peer, `JOIN ${channel}`, new RegExp(` 366 \\S+ ${channel} `));
  user.send('QUIT :gone');
  await user.closed;
  await untilShownAway(peer, 'bob', nick);
}

const names = async (c: RawIrc, channel: string): Promise<string[]> => {
  const line = await ask(c, `NAMES ${channel}`, / 353 /);
  return line.slice(line.lastIndexOf(':') + 1).split(' ').sort();
};

describe('an always-on user left alone on a network', () => {
  it('stays through a Redis blip that drops every connection: it is no ghost of a client that left meanwhile', async () => {
    const [one, two] = await twoNodes('Blip');
    const bob = await raw(two, 'bob');
    await leftAlone(one, 'ada', bob, '#blip');
    const admin = new Redis(redis.url);
    try {
      // Every connection but this one dropped, as a Redis restart that kept its data would.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    } finally {
      admin.disconnect();
    }
    await bob.waitForLine(/NOTICE bob :\*\*\* The network is back/, 15_000);
    // Both nodes have resynced once the link is back; ada is still there, and away.
    expect(await names(bob, '#blip')).toEqual(['@ada', 'bob']);
    expect(await ask(bob, 'WHOIS ada', / (301|401) bob ada /)).toMatch(/ 301 bob ada :Not connected/);
    expect(bob.lines().filter((l) => /^:ada!\S+ QUIT/.test(l))).toEqual([]);
  });

  it('takes its place on the node its next connection reaches while its home is down: its channels, and what it missed', async () => {
    const [one, two] = await twoNodes('Away');
    const bob = await raw(two, 'bob');
    await leftAlone(one, 'cy', bob, '#away');
    bob.send('PRIVMSG #away :before its home stopped');
    await one.terminate();
    await bob.waitForLine(/^:cy!\S+ QUIT :one\.test is shutting down$/);
    bob.send('PRIVMSG #away :while its home was down');
    // Its home is gone: the connection on node two is the user now, back in #away.
    const cy = await client(two, 'cy', 'cy');
    await cy.waitForLine(/^:cy!\S+ JOIN #away/);
    await ask(cy, 'PING :done', / PONG \S+ :?done$/);
    const lines = cy.raw.text().split('\r\n').map(untagged);
    expect(lines.filter((l) => / PRIVMSG #away /.test(l)).map((l) => l.slice(l.lastIndexOf(' :') + 2))).toEqual(['before its home stopped', 'while its home was down']);
    expect(lines.some((l) => /NOTICE cy :Replaying 2 messages you missed since /.test(l))).toBe(true);
    expect(await names(bob, '#away')).toEqual(['bob', 'cy']);
  });

  it('takes its channels back on another node when its home died while it was connected there', async () => {
    const [one, two] = await twoNodes('Died');
    const bob = await raw(two, 'bob');
    await leftAlone(one, 'dot', bob, '#died');
    // Back on its home, connected, when the home dies.
    const first = await client(one, 'dot', 'dot');
    await first.waitForLine(/^:dot!\S+ JOIN #died/);
    await one.kill('SIGKILL');
    await bob.waitForLine(/^:dot!\S+ QUIT :two\.test one\.test$/, 15_000);
    const again = await client(two, 'dot', 'dot');
    await again.waitForLine(/^:dot!\S+ JOIN #died/);
    expect(await names(bob, '#died')).toEqual(['bob', 'dot']);
  });
});

