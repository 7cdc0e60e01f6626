// Heartbeats (presence.ts) against a real redis-server, beats called by hand so the timing is the
// test's: a node whose key lapsed while this node kept beating is dead; one whose key lapsed
// while this node was cut off from Redis too (a restart, a Sentinel failover) is given a node
// timeout to beat again first, so whichever node comes back first does not reap the others.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Presence, allocateNodeIndex } from '../../src/irc/redis/presence.js';
import { startRedis, type RedisServer } from './redisServer.js';

const heartbeatMs = 100;
const nodeTimeoutMs = 300;

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
  await redis.connect();
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two nodes of network `prefix`, and the indexes each has reaped. */
async function twoNodes(prefix: string): Promise<{ a: Presence; b: Presence; reapedByA: number[]; bIndex: number }> {
  const reapedByA: number[] = [];
  const node = async (name: string, reaped: number[]) => {
    const claim = await allocateNodeIndex(redis, prefix, name, nodeTimeoutMs);
    const presence = new Presence({
      redis,
      prefix,
      nodeIndex: claim.index,
      token: claim.token,
      nodeName: name,
      heartbeatMs,
      nodeTimeoutMs,
      onDeadNode: async (index) => void reaped.push(index),
      onIndexTaken: () => {},
      onError: (err) => {
        throw err;
      },
    });
    return { presence, index: claim.index };
  };
  const a = await node('a', reapedByA);
  const b = await node('b', []);
  return { a: a.presence, b: b.presence, reapedByA, bIndex: b.index };
}

/** Beats each of `nodes` every heartbeat for `ms`. */
async function beatFor(nodes: Presence[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const p of nodes) await p.beat();
    await sleep(heartbeatMs);
  }
}

/** Beats `p` every heartbeat until it has reaped a node (a loaded machine's stall may delay it). */
async function beatUntilReaped(p: Presence, reaped: number[]): Promise<void> {
  const until = Date.now() + 10_000;
  while (reaped.length === 0 && Date.now() < until) {
    await p.beat();
    await sleep(heartbeatMs);
  }
}

describe('heartbeats', () => {
  it('take a node silent past the node timeout for dead while this node kept beating', async () => {
    const { a, b, reapedByA, bIndex } = await twoNodes('presence-test:{alive}:');
    await a.beat();
    await b.beat();
    await beatUntilReaped(a, reapedByA);
    expect(reapedByA).toEqual([bIndex]);
  });

  it('give the others a node timeout to beat again when this node was cut off from Redis too', async () => {
    const { a, b, reapedByA, bIndex } = await twoNodes('presence-test:{outage}:');
    await a.beat();
    await b.beat();
    // Neither reaches Redis for longer than the node timeout: both keys lapse.
    await sleep(nodeTimeoutMs + 2 * heartbeatMs);
    expect(await redis.exists(`presence-test:{outage}:presence:${bIndex}:alive`)).toBe(0);
    // a comes back first: b's key is gone, but b is not dead, only cut off as a was.
    await a.beat();
    expect(reapedByA).toEqual([]);
    // b beats again, and both go on past the grace: b is not taken for dead.
    await beatFor([b, a], 2 * nodeTimeoutMs);
    expect(reapedByA).toEqual([]);
    // Silence is death again once the grace is over.
    await beatUntilReaped(a, reapedByA);
    expect(reapedByA).toEqual([bIndex]);
  });
});
