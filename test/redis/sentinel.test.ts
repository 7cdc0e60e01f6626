// Redis that fails over (issue 21): a primary, a replica and a Sentinel (redis-server in its
// --sentinel mode), two CLI nodes started with --redis-sentinel. The primary is killed under
// traffic: Sentinel promotes the replica, every node follows it, tells its users, resyncs and
// goes on; no node exits. What arrived, what was reported lost and how long delivery stopped are
// checked and printed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawIrc } from '../irc/raw.js';
import { clientPool, killNodes, startNode, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const name = 'chatprimary';
let primary: RedisServer;
let replica: RedisServer;
let sentinel: RedisServer;
let dir: string;
const { raw, closeAll } = clientPool();

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sentinel-'));
  primary = await startRedis();
  replica = await startRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const admin = new Redis(replica.url);
  try {
    await until(async () => /master_link_status:up/.test(await admin.info('replication')), 10_000, 'the replica in sync');
  } finally {
    admin.disconnect();
  }
  const config = path.join(dir, 'sentinel.conf');
  // Quorum 1 (one Sentinel); down after 1 s without an answer.
  writeFileSync(
    config,
    [`sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`, `sentinel down-after-milliseconds ${name} 1000`, `sentinel failover-timeout ${name} 10000`, ''].join('\n'),
  );
  sentinel = await startRedis({ config, extraArgs: ['--sentinel'] });
  const watcher = new Redis(sentinel.url);
  try {
    await until(async () => ((await watcher.call('SENTINEL', 'replicas', name)) as unknown[]).length > 0, 15_000, 'the Sentinel to know the replica');
  } finally {
    watcher.disconnect();
  }
}, 60_000);

afterAll(async () => {
  closeAll();
  await killNodes();
  await Promise.all([sentinel?.stop(), replica?.stop(), primary?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis behind Sentinel', () => {
  it('follows a failover under traffic: no node exits, users are told, delivery resumes, nothing is lost unknown', async () => {
    const options = { network: 'Failover', extraArgs: ['--redis-sentinel', `127.0.0.1:${sentinel.port}`, '--redis-name', name] };
    const [n1, n2] = (await Promise.all([startNode(null, 'n1.test', options), startNode(null, 'n2.test', options)])) as [IrcNode, IrcNode];
    const alice = await raw(n1, 'alice');
    const bob = await raw(n2, 'bob');
    // One after the other: sent at once, bob's JOIN could run first, and alice would see bob
    // in NAMES instead of a JOIN (a loaded run did).
    alice.send('JOIN #f');
    await alice.waitForLine(/ 366 alice #f /);
    bob.send('JOIN #f');
    await bob.waitForLine(/ 366 bob #f /);
    await alice.waitForLine(/^:bob!\S+ JOIN #f/);

    let sent = 0;
    let talking = true;
    const traffic = (async () => {
      while (talking) {
        alice.send(`PRIVMSG #f :m${sent++}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const got = (c: RawIrc) => c.lines().flatMap((l) => /^:alice!\S+ PRIVMSG #f :?m(\d+)$/.exec(l)?.slice(1).map(Number) ?? []);
    try {
      await until(() => got(bob).length >= 20, 5_000, 'bob receiving messages before the failover');
      primary.kill('SIGKILL');
      const killedAt = Date.now();
      const mark = sent;
      // Both nodes lose the primary and say so; then follow the promoted replica.
      await Promise.all([alice, bob].map((c) => c.waitForLine(/NOTICE \S+ :\*\*\* The network is unreachable/, 10_000)));
      await Promise.all([alice, bob].map((c) => c.waitForLine(/NOTICE \S+ :\*\*\* The network is back/, 30_000)));
      // Delivery resumes: bob gets a message alice sent after the network came back.
      const back = sent;
      await until(() => got(bob).some((m) => m >= back), 10_000, 'bob receiving a message sent after the failover');
      const resumedAfter = Date.now() - killedAt;
      talking = false;
      await traffic;
      // The last one sent, after the network was back, arrives: nothing is in flight any more.
      await until(() => got(bob).includes(sent - 1), 5_000, `bob receiving m${sent - 1}`);
      expect(n1.alive() && n2.alive()).toBe(true);

      // Every message alice sent either reached bob or was refused to her (437): none vanished.
      const refused = alice.lines().filter((l) => / 437 alice PRIVMSG /.test(l)).length;
      const reached = new Set(got(bob));
      const missing = Array.from({ length: sent }, (_, i) => i).filter((i) => !reached.has(i));
      const lostNotice = bob.lines().some((l) => /message\(s\) from another server to this channel were lost/.test(l));
      console.log(
        `Sentinel failover: primary SIGKILL -> delivery on the other node again after ${resumedAfter} ms; ${sent} sent, ${reached.size} reached bob, ${refused} refused (437), ${missing.length} missing, lost-notice ${lostNotice} (kill at m${mark})`,
      );
      expect(missing.length <= refused || lostNotice).toBe(true);
      // The users are still on the network, on the new primary: WHOIS across nodes answers.
      bob.send('WHOIS alice');
      await bob.waitForLine(/ 311 bob alice /, 10_000);
    } finally {
      talking = false;
      await traffic;
    }
  }, 90_000);
});
