// Multiclient across nodes (issue 20): three CLI nodes on one redis-server, their store one
// PostgreSQL database. A connection logging in to an account whose user lives on another node
// is relayed there and is that user: an always-on user left alone on one node is rejoined from
// another, with what it missed; a flood through the relay is the home's to stop, and the user
// stays; an always-on user left alone leaves with its node when it stops and is back when it
// starts; the node holding a relayed socket stopping takes only that connection; the home dying
// closes the connections relayed to it, with a reason.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ask, capClient, registerAccount as registerAccountAs, type RawIrc } from '../irc/raw.js';
import { startPostgres, type PgServer } from '../store/postgresServer.js';
import { clientPool, killNodes, nodeTimeoutMs, startNode, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const network = 'Relay';
const password = 'opensesame42';
const CAPS = 'batch server-time message-tags draft/chathistory draft/read-marker';

let redis: RedisServer;
let pg: PgServer;
let a: IrcNode;
let b: IrcNode;
let c: IrcNode;
let nodeOptions: { network: string; extraArgs: string[] };
const { raw, track, closeAll } = clientPool();

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  const databaseUrl = await pg.freshDatabase();
  nodeOptions = { network, extraArgs: ['--database', databaseUrl] };
  const start = (name: string) => startNode(redis.url, name, nodeOptions);
  [a, b, c] = await Promise.all([start('a.test'), start('b.test'), start('c.test')]);
}, 90_000);

afterEach(() => {
  closeAll();
});

afterAll(async () => {
  await killNodes();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

async function client(node: IrcNode, nick: string, account?: string): Promise<RawIrc> {
  const one = await capClient(node.port, nick, CAPS, account === undefined ? undefined : { account, password });
  track(one);
  return one;
}

describe('one account, connections on several nodes', () => {
  it('rejoins an always-on user from another node, with what it missed', async () => {
    await registerAccountAs(a.port, 'ona', password);
    const first = await client(a, 'ona', 'ona');
    first.send('PRIVMSG NickServ :SET ALWAYSON ON', 'JOIN #on');
    await first.waitForLine(/ALWAYSON is ON/);
    await first.waitForLine(/ 366 ona #on /);
    const nat = await raw(b, 'nat');
    await ask(nat, 'JOIN #on', / 366 nat #on /);
    first.send('QUIT :laptop shut');
    await first.closed;
    nat.send('PRIVMSG #on :said while ona was away');

    // On node c: the same user, in #on, and the history has what it missed.
    const phone = await client(c, 'onaphone', 'ona');
    expect(await phone.waitForLine(/ 001 /)).toMatch(/^:a\.test 001 ona /);
    await phone.waitForLine(/ 366 ona #on /);
    // Node b writes what it delivered within historyFlushMs: ask again until it is there.
    let missed: string | null = null;
    for (let tries = 0; tries < 50 && missed === null; tries++) {
      const from = phone.lines().length;
      phone.send('CHATHISTORY LATEST #on * 10');
      const close = await phone.waitForLine(/ BATCH -\S+$/, 5_000, from);
      missed = phone.lines().slice(from, phone.lines().indexOf(close, from)).find((l) => l.endsWith('PRIVMSG #on :said while ona was away')) ?? null;
      if (missed === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(missed).toMatch(/^:nat!\S+ PRIVMSG #on :said while ona was away$/);
    // Nobody saw ona leave or come back.
    expect(nat.lines().filter((l) => /^:ona!\S+ (QUIT|PART|JOIN)/.test(l))).toEqual([]);
    phone.send('PRIVMSG #on :back, from node c');
    await nat.waitForLine(/^:ona!\S+ PRIVMSG #on :back, from node c$/);
  });

  it('leaves a flood through the relay to the home node, which closes that connection only', async () => {
    await registerAccountAs(a.port, 'flo', password);
    const home = await client(a, 'flo', 'flo');
    await ask(home, 'JOIN #flo', / 366 flo #flo /);
    const relayed = await client(b, 'flo2', 'flo');
    await relayed.waitForLine(/ 366 flo #flo /);
    // In the channel before the flood: it would see the user quit.
    const watcher = await raw(c, 'watcher');
    await ask(watcher, 'JOIN #flo', / 366 watcher #flo /);
    // A megabyte of commands at once: far past the recvq.
    relayed.send(...Array.from({ length: 4_000 }, (_, i) => `PRIVMSG #nowhere :${'x'.repeat(240)} ${i}`));
    expect(await relayed.waitForLine(/^ERROR /, 10_000)).toMatch(/Excess Flood/);
    await relayed.closed;
    // The user is still there, and still talks.
    home.send('PRIVMSG #flo :still here');
    await watcher.waitForLine(/^:flo!\S+ PRIVMSG #flo :still here$/);
    expect(watcher.lines().filter((l) => /^:flo!\S+ QUIT/.test(l))).toEqual([]);
  });

  it('takes an always-on user left alone off the network with its node, and brings it back when the node starts again', async () => {
    await registerAccountAs(b.port, 'kit', password);
    const kit = await client(b, 'kit', 'kit');
    kit.send('PRIVMSG NickServ :SET ALWAYSON ON', 'JOIN #kit');
    await kit.waitForLine(/ALWAYSON is ON/);
    await kit.waitForLine(/ 366 kit #kit /);
    const friend = await raw(c, 'friend');
    await ask(friend, 'JOIN #kit', / 366 friend #kit /);
    kit.send('QUIT :bye');
    await kit.closed;
    // Node b stops: kit (no connection open) leaves with it, with the reason.
    await b.terminate();
    expect(await friend.waitForLine(/^:kit!\S+ QUIT /)).toBe(':kit!~kit@127.0.0.1 QUIT :b.test is shutting down');
    // b again: kit is back in #kit, and nobody holds its nick twice.
    b = await startNode(redis.url, 'b.test', nodeOptions);
    expect(await friend.waitForLine(/^:kit!\S+ JOIN #kit/, 10_000)).toMatch(/^:kit!~kit@127\.0\.0\.1 JOIN #kit/);
    const phone = await client(a, 'kitphone', 'kit');
    expect(await phone.waitForLine(/ 001 /)).toMatch(/^:b\.test 001 kit /);
    await phone.waitForLine(/ 366 kit #kit /);
  });

  it('takes only the relayed connection when the node holding its socket stops, and closes it with a reason when the home dies', async () => {
    await registerAccountAs(a.port, 'rex', password);
    const home = await client(a, 'rex', 'rex');
    await ask(home, 'JOIN #rex', / 366 rex #rex /);
    const onB = await client(b, 'rexb', 'rex');
    const onC = await client(c, 'rexc', 'rex');
    for (const one of [onB, onC]) await one.waitForLine(/ 366 rex #rex /);
    const seen = home.lines().length;

    // Node b stops (SIGTERM): its clients go, rex stays (its other connections heard nothing).
    await b.terminate();
    await onB.closed;
    home.send('PRIVMSG rex :to myself');
    await onC.waitForLine(/PRIVMSG rex :to myself$/);
    expect(home.lines().slice(seen).filter((l) => /^:rex!\S+ (QUIT|PART)/.test(l))).toEqual([]);

    // Node a (rex's home) dies: the connection relayed to it from node c is closed and told why.
    await a.kill('SIGKILL');
    expect(await onC.waitForLine(/^ERROR /, nodeTimeoutMs + 10_000)).toMatch(/Lost the server holding your session/);
    await onC.closed;
  });
});
