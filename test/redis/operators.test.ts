// IRC operators on a network of two nodes on Redis, real processes sharing one --config file
// and one --data-dir (SQLite works across processes on one machine): an operator on one node
// acts on users of the other (KILL, KLINE), reaches them (WALLOPS) and is counted there (LUSERS).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/passwords.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';
import { clientPool, killNodes, startNodes, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const OPER_PW = 'network-oper-pw';
const dir = mkdtempSync(path.join(tmpdir(), 'redis-opers-'));
let redis: RedisServer;
let n1: IrcNode;
let n2: IrcNode;
const { raw, track, closeAll } = clientPool();

beforeAll(async () => {
  const file = path.join(dir, 'opers.yaml');
  writeFileSync(file, `opers:\n  - name: netop\n    password: '${await hashPassword(OPER_PW)}'\n`);
  redis = await startRedis();
  [n1, n2] = (await startNodes(redis.url, 2, { network: 'OperNet', extraArgs: ['--config', file, '--data-dir', dir] })) as [IrcNode, IrcNode];
});

afterEach(() => {
  closeAll();
});

afterAll(async () => {
  await killNodes();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A client on `node` registered as `nick` and made an operator. */
async function oper(node: IrcNode, nick: string): Promise<RawIrc> {
  const c = await raw(node, nick);
  c.send(`OPER netop ${OPER_PW}`);
  await c.waitForLine(/ 381 /);
  return c;
}

/** Sends `line` and resolves once the server has answered everything before it (a PING after it). */
async function settled(c: RawIrc, line: string): Promise<void> {
  const token = `t${Math.random().toString(36).slice(2)}`;
  c.send(line, `PING ${token}`);
  await c.waitForLine(new RegExp(` PONG \\S+ :?${token}$`));
}

describe('operators across two nodes', () => {
  it('KILL on one node disconnects a user on the other, whose channel sees the QUIT', async () => {
    const op = await oper(n1, 'killer');
    const victim = await raw(n2, 'victim');
    const witness = await raw(n2, 'witness');
    victim.send('JOIN #killed');
    await victim.waitForLine(/ 366 victim #killed /);
    witness.send('JOIN #killed');
    await victim.waitForLine(/^:witness!\S+ JOIN #killed$/);
    op.send('KILL victim :go home');
    expect(await victim.closed).toMatch(/ERROR :Closing link: \(~victim@127\.0\.0\.1\) \[Killed \(killer \(go home\)\)\]\r\n$/);
    expect(await witness.waitForLine(/^:victim!/)).toBe(':victim!~victim@127.0.0.1 QUIT :Killed (killer (go home))');
    op.send('WHOIS victim');
    expect(await op.waitForLine(/ (401|311) killer victim /)).toMatch(/ 401 /);
  });

  it('KLINE on one node disconnects a matching user on the other, which then refuses it at registration', async () => {
    const op = await oper(n1, 'kliner');
    const victim = await raw(n2, 'klined');
    op.send('KLINE klined!*@* :network-wide');
    await op.waitForLine(/ NOTICE kliner :Added network ban on klined!\*@\*: 1 user\(s\) disconnected$/);
    expect(await victim.closed).toMatch(/\[K-Lined: network-wide\]\r\n$/);
    const again = await connectIrc(n2.port);
    track(again);
    again.send('NICK klined', 'USER k 0 * :k');
    await again.closed;
    expect(again.lines().slice(-2)).toEqual([
      `:${n2.serverName} 465 klined :You are banned from this network: network-wide`,
      'ERROR :Closing link: (~k@127.0.0.1) [K-Lined: network-wide]',
    ]);
  });

  it('WALLOPS from one node reaches +w users on the other, and only them', async () => {
    const op = await oper(n1, 'waller');
    const listener = await raw(n2, 'listener');
    const deaf = await raw(n2, 'deaf');
    await settled(listener, 'MODE listener +w');
    op.send('WALLOPS :maintenance at noon');
    expect(await listener.waitForLine(/ WALLOPS /)).toBe(':waller!~waller@127.0.0.1 WALLOPS :maintenance at noon');
    // A message after it on the same path: once it is in, the WALLOPS would have been too.
    op.send('PRIVMSG deaf :after the wallops');
    await deaf.waitForLine(/ PRIVMSG deaf :after the wallops$/);
    expect(deaf.lines().filter((l) => l.includes(' WALLOPS '))).toEqual([]);
  });

  it('LUSERS on one node counts the operators on the other in 252, until they give it up or leave', async () => {
    const asker = await raw(n2, 'counter');
    const count = async (): Promise<string | undefined> => {
      const from = asker.lines().length;
      asker.send('LUSERS');
      await asker.waitForLine(/ 266 counter /, 5_000, from);
      return asker.lines().slice(from).find((l) => / 252 /.test(l));
    };
    const before = (await count())?.split(' ')[3] ?? '0';
    const op = await oper(n1, 'counted');
    expect(await count()).toBe(`:${n2.serverName} 252 counter ${Number(before) + 1} :operator(s) online`);
    await settled(op, 'MODE counted -o');
    expect((await count())?.split(' ')[3] ?? '0').toBe(before);
    // An operator who leaves is no longer counted.
    const leaving = await oper(n1, 'leaving');
    expect(await count()).toBe(`:${n2.serverName} 252 counter ${Number(before) + 1} :operator(s) online`);
    leaving.send('QUIT :bye');
    await leaving.closed;
    expect((await count())?.split(' ')[3] ?? '0').toBe(before);
  });
});
