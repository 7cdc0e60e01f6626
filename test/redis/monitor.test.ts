// MONITOR and the IRCv3 notifications about other users across nodes on Redis, real processes:
// a watcher on one node hears of a nick coming online, changing and leaving on another (its
// QUIT, and its node's death), extended-monitor and away-notify reach peers on other nodes, and
// SETNAME and CHGHOST change what every node shows.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/passwords.js';
import { ask } from '../irc/raw.js';
import { clientPool, killNodes, nodeTimeoutMs, startNode, startNodes, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const OPER_PW = 'monitor-oper-pw';
/** One heartbeat (the server's) and room for a loaded machine, on top of the node timeout. */
const deathWithinMs = nodeTimeoutMs + 1_000 + 4_000;
const dir = mkdtempSync(path.join(tmpdir(), 'redis-monitor-'));
let redis: RedisServer;
let n1: IrcNode;
let n2: IrcNode;
let extraArgs: string[];
const { fw, raw, closeAll } = clientPool();

beforeAll(async () => {
  const file = path.join(dir, 'opers.yaml');
  writeFileSync(file, `opers:\n  - name: netop\n    password: '${await hashPassword(OPER_PW)}'\n`);
  extraArgs = ['--config', file, '--data-dir', dir];
  redis = await startRedis();
  [n1, n2] = (await startNodes(redis.url, 2, { network: 'MonNet', extraArgs })) as [IrcNode, IrcNode];
});

afterEach(() => {
  closeAll();
});

afterAll(async () => {
  await killNodes();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('MONITOR across two nodes', () => {
  it('tells a watcher on n1 when a nick registers, changes nick and quits on n2', async () => {
    const alice = await fw(n1, 'alice');
    alice.irc.addMonitor('bob,robert');
    await alice.waitFor('users offline', (e) => e.nicks.join() === 'bob,robert');
    const bob = await fw(n2, 'bob');
    await alice.waitFor('users online', (e) => e.nicks.includes('bob'));
    await bob.changeNick('robert');
    await alice.waitFor('users online', (e) => e.nicks.includes('robert'));
    await bob.quit('bye');
    await alice.waitFor('users offline', (e) => e.nicks.join() === 'robert');
    // Each from alice's own server, whichever node saw the change.
    expect(alice.received().filter((l) => / 73[01] \* /.test(l))).toEqual([
      ':n1.test 730 * bob!~bob@127.0.0.1',
      ':n1.test 731 * bob',
      ':n1.test 730 * robert!~bob@127.0.0.1',
      ':n1.test 731 * robert',
    ]);
    // MONITOR + of a nick online on the other node answers 730 at once.
    const carol = await raw(n2, 'carol');
    expect(await ask(carol, 'MONITOR + alice', / 730 /)).toBe(':n2.test 730 carol alice!~alice@127.0.0.1');
  });

  it('tells watchers on both surviving nodes when a node dies with a monitored user on it', async () => {
    const n3 = await startNode(redis.url, 'n3.test', { network: 'MonNet', extraArgs });
    const [w1, w2] = await Promise.all([raw(n1, 'w1'), raw(n2, 'w2')]);
    for (const w of [w1, w2]) await ask(w, 'MONITOR + doomed', / 731 /);
    await raw(n3, 'doomed');
    for (const w of [w1, w2]) await w.waitForLine(/ 730 \* doomed!/);
    await n3.kill('SIGKILL');
    expect(await w1.waitForLine(/ 731 \* /, deathWithinMs)).toBe(':n1.test 731 * doomed');
    expect(await w2.waitForLine(/ 731 \* /, deathWithinMs)).toBe(':n2.test 731 * doomed');
  });
});

describe('notifications about users on another node', () => {
  it('away-notify reaches channel peers on the other node; extended-monitor reaches a watcher with no shared channel', async () => {
    const alice = await fw(n1, 'aw_a');
    const bob = await fw(n2, 'aw_b');
    const watcher = await raw(n1, 'aw_w');
    watcher.send('CAP REQ :extended-monitor away-notify setname');
    await watcher.waitForLine(/ CAP \S+ ACK /);
    await ask(watcher, 'MONITOR + aw_b', / 730 /);
    await alice.join('#aw');
    await bob.join('#aw');
    await alice.waitFor('join', (e) => e.nick === 'aw_b');
    bob.irc.raw('AWAY', 'on n2');
    expect((await alice.waitFor('away', (e) => e.nick === 'aw_b')).message).toBe('on n2');
    expect(await watcher.waitForLine(/ AWAY /)).toBe(':aw_b!~aw_b@127.0.0.1 AWAY :on n2');
    bob.irc.raw('SETNAME', 'Bob on two');
    expect(await watcher.waitForLine(/ SETNAME /)).toBe(':aw_b!~aw_b@127.0.0.1 SETNAME :Bob on two');
    // The realname is the network's: WHOIS on the other node shows it.
    expect(await ask(watcher, 'WHOIS aw_b', / 311 /)).toBe(':n1.test 311 aw_w aw_b ~aw_b 127.0.0.1 * :Bob on two');
  });

  it('CHGHOST by an operator on n1 changes the user@host of a user on n2, as both nodes show it', async () => {
    const op = await raw(n1, 'netop1');
    await ask(op, `OPER netop ${OPER_PW}`, / 381 /);
    const peer = await fw(n2, 'chg_peer', { caps: ['chghost'] });
    const plain = await raw(n1, 'chg_plain');
    const target = await fw(n2, 'chg_t', { caps: ['chghost'] });
    await target.join('#chg');
    await peer.join('#chg');
    plain.send('JOIN #chg');
    await plain.waitForLine(/ 366 chg_plain #chg /);
    await target.waitFor('join', (e) => e.nick === 'chg_plain');
    const from = plain.lines().length;
    op.send('CHGHOST chg_t ~v cloak/t');
    expect(await peer.waitFor('user updated', (e) => e.nick === 'chg_t')).toMatchObject({ new_ident: '~v', new_hostname: 'cloak/t' });
    await plain.waitForLine(/ MODE #chg \+o chg_t$/, 5_000, from);
    expect(plain.lines().slice(from, from + 2)).toEqual([':chg_t!~chg_t@127.0.0.1 QUIT :Changing host', ':chg_t!~v@cloak/t JOIN #chg']);
    // The target's own node now writes its new mask; it heard of the change once.
    await target.waitForLine(/ 396 chg_t cloak\/t /);
    expect(target.received().filter((l) => / CHGHOST /.test(l))).toEqual([':chg_t!~chg_t@127.0.0.1 CHGHOST ~v cloak/t']);
    target.say('#chg', 'new me');
    expect(await plain.waitForLine(/ PRIVMSG #chg /)).toBe(':chg_t!~v@cloak/t PRIVMSG #chg :new me');
    expect(await ask(op, 'WHOIS chg_t', / 311 /)).toBe(':n1.test 311 netop1 chg_t ~v cloak/t * :chg_t (irc-framework)');
    // The peer with chghost saw no fallback: the PRIVMSG after it came, the QUIT never did.
    await peer.waitFor('message', (e) => e.message === 'new me');
    expect(peer.received().filter((l) => l.startsWith(':chg_t!') && / (QUIT|JOIN) /.test(l))).toEqual([]);
  });
});
