// `--protocol irc --redis URL --workers 2`: one port, two worker processes, each a node of the
// same network on a real redis-server. Clients the kernel hands to either worker talk as on one
// server; SIGINT drains both and every client is told.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIrc, type RawIrc } from '../irc/raw.js';
import { hashOf, run, serverBin, type Running } from '../process.js';
import { startRedis, type RedisServer } from './redisServer.js';

let redis: RedisServer;
const running: Running[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const r of running) r.proc.kill('SIGKILL');
  await redis?.stop();
});

describe('IRC with --workers 2 on Redis', () => {
  it('serves one network from both workers and drains both on SIGINT', async () => {
    const r = run(serverBin, ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--redis', redis.url, '--workers', '2']);
    running.push(r);
    const port = Number((await r.waitForLine(/IRC server listening on 127\.0\.0\.1:(\d+) \(2 workers\)/, 15_000))[1]);
    // Enough clients that both workers get some (the kernel spreads accepts between them).
    const clients: RawIrc[] = [];
    for (let i = 0; i < 8; i++) clients.push(await connectIrc(port));
    await Promise.all(clients.map((c, i) => c.register(`w${i}`)));
    for (const c of clients) c.send('JOIN #both');
    await Promise.all(clients.map((c) => c.waitForLine(/ 366 \S+ #both /)));
    await r.waitForLine(/\[worker 1\] #\d+ registered as/);
    await r.waitForLine(/\[worker 2\] #\d+ registered as/);
    const from = clients[0]!.lines().length;
    clients[0]!.send('PRIVMSG #both :across the workers', 'LUSERS');
    await Promise.all(clients.slice(1).map((c) => c.waitForLine(/^:w0!\S+ PRIVMSG #both :across the workers$/)));
    expect(await clients[0]!.waitForLine(/ 251 /, 5_000, from)).toBe(':irc.localhost 251 w0 :There are 8 users and 0 invisible on 2 servers');

    r.proc.kill('SIGINT');
    const texts = await Promise.all(clients.map((c) => c.closed));
    for (const t of texts) expect(t).toMatch(/\[Server shutting down\]\r\n$/);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toContain('All workers stopped.');
  }, 30_000);

  it("has every worker read the operators again when an operator's REHASH reaches one of them", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'irc-workers-rehash-'));
    // A network of its own: the first test's network recorded another store.
    const own = await startRedis();
    try {
      const file = path.join(dir, 'server.yaml');
      const opers = async (names: string[]) =>
        `opers:\n${(await Promise.all(names.map(async (n) => `  - name: ${n}\n    password: '${await hashOf(`${n}-password-1`)}'\n`))).join('')}`;
      writeFileSync(file, await opers(['boss']));
      const r = run(serverBin, ['--config', file, '--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--redis', own.url, '--workers', '2', '--data-dir', dir]);
      running.push(r);
      const port = Number((await r.waitForLine(/IRC server listening on 127\.0\.0\.1:(\d+) \(2 workers\)/, 15_000))[1]);
      const boss = await connectIrc(port);
      await boss.register('boss');
      boss.send('OPER boss boss-password-1');
      await boss.waitForLine(/ 381 boss /);
      writeFileSync(file, await opers(['boss', 'chief']));
      boss.send('REHASH');
      await boss.waitForLine(/ 382 boss /);
      // The worker that took the command, and the other one through the primary.
      await r.waitForLine(/\[worker 1\] REHASH: 2 operator\(s\) read from /, 10_000);
      await r.waitForLine(/\[worker 2\] REHASH: 2 operator\(s\) read from /, 10_000);
      expect(r.stdout().match(/REHASH: 2 operator/g)).toHaveLength(2);
      boss.raw.socket.destroy();
      r.proc.kill('SIGINT');
      expect((await r.exited).code).toBe(0);
    } finally {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
