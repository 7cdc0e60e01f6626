// Accounts on a network of nodes: two CLI nodes on one redis-server, their store one PostgreSQL
// database (`--database` on both), real clients on each. An account registered on one node logs
// in with SASL on the other; NickServ INFO, WHOIS, account-tag and the network state see it; a
// login on one node is an ACCOUNT line for account-notify members on the other; GHOST reaches a
// holder on the other node; a node with a store of its own is refused (STORE_MISMATCH); and
// accounts outlive both nodes restarting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prefixOf } from '../../src/irc/redis/network.js';
import { redisStateClientOptions } from '../../src/irc/redis/redisClient.js';
import { RedisState } from '../../src/irc/redis/redisState.js';
import { ask, connectIrc, nickServNotices, type RawIrc } from '../irc/raw.js';
import { run, serverBin, type Running } from '../process.js';
import { startPostgres, type PgServer } from '../store/postgresServer.js';
import { clientPool, killNodes, startNode, type IrcNode, type NodeOptions } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const network = 'Accounts';
const password = 'opensesame42';
/** `--nick-grace` on both nodes: time to log in before a registered nick's holder is renamed. */
const graceMs = 1_000;

let redis: RedisServer;
let pg: PgServer;
let databaseUrl: string;
let a: IrcNode;
let b: IrcNode;
const { fw, raw, track, closeAll } = clientPool();
const refused: Running[] = [];
const dirs: string[] = [];

const nodeOptions = (): NodeOptions => ({ network, extraArgs: ['--database', databaseUrl, '--nick-grace', String(graceMs)] });

/** Nodes a.test and b.test of the network, on the shared database, started together. */
async function startBoth(): Promise<[IrcNode, IrcNode]> {
  return Promise.all([startNode(redis.url, 'a.test', nodeOptions()), startNode(redis.url, 'b.test', nodeOptions())]);
}

/**
 * The account the network state records for `nick`, as every node reads it (WHOIS has no 330
 * yet to show it): a RedisState of its own on the network's keys, reading only.
 */
async function accountOnNetwork(nick: string): Promise<string | null | undefined> {
  const client = new Redis(redis.url, { ...redisStateClientOptions, lazyConnect: true });
  client.on('error', () => {});
  try {
    await client.connect();
    const state = new RedisState({ redis: client, prefix: prefixOf(network), nodeIndex: 0, notifyNode: () => {} });
    return (await state.user(nick))?.account;
  } finally {
    client.disconnect();
  }
}

/** A raw client on `node` that asked for these capabilities before registering as `nick`. */
async function rawWithCaps(node: IrcNode, nick: string, caps: string): Promise<RawIrc> {
  const c = await connectIrc(node.port);
  track(c);
  c.send('CAP LS 302', `CAP REQ :${caps}`, `NICK ${nick}`, `USER ${nick} 0 * :${nick}`);
  await c.waitForLine(/ CAP \S+ ACK /);
  c.send('CAP END');
  await c.waitForLine(/ 376 /);
  return c;
}

/** Registers `nick` as an account with NickServ on `node`, then quits. */
async function registerAccount(node: IrcNode, nick: string, email?: string): Promise<void> {
  const c = await raw(node, nick);
  const line = await ask(c, `PRIVMSG NickServ :REGISTER ${password}${email ? ` ${email}` : ''}`, / 900 |NOTICE \S+ :.*already/);
  expect(line).toBe(`:${node.serverName} 900 ${nick} ${nick}!~${nick}@127.0.0.1 ${nick} :You are now logged in as ${nick}`);
  c.send('QUIT :registered');
  await c.closed;
}

/** NickServ's `Account <name>, registered <date>.` line, asked on `node`. */
async function registeredLine(node: IrcNode, account: string, asker: string): Promise<string> {
  const c = await raw(node, asker);
  return ask(c, `PRIVMSG NickServ :INFO ${account}`, new RegExp(`NOTICE ${asker} :(Account ${account}, registered |${account} is not registered)`));
}

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  databaseUrl = await pg.freshDatabase();
  [a, b] = await startBoth();
}, 90_000);

afterEach(() => {
  closeAll();
});

afterAll(async () => {
  for (const r of refused) r.proc.kill('SIGKILL');
  await killNodes();
  await Promise.all([redis?.stop(), pg?.stop()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('accounts on two nodes sharing PostgreSQL', () => {
  it('lets an account registered with NickServ on one node log in with SASL PLAIN on the other', async () => {
    await registerAccount(a, 'nora', 'nora@example.org');
    const c = await fw(b, 'nora', { account: { account: 'nora', password } });
    expect(await c.waitFor('loggedin')).toMatchObject({ nick: 'nora', account: 'nora' });
    expect(c.received()).toContain(':b.test 903 nora :SASL authentication successful');
    const email = c.waitForLine(/NOTICE nora :Email: /);
    c.say('NickServ', 'INFO');
    expect(await email).toMatch(/^:NickServ!NickServ@services NOTICE nora :Email: nora@example\.org$/);
  });

  it('shows an account logged in on one node to the other: NickServ INFO, WHOIS, and account-tag on its messages', async () => {
    await registerAccount(b, 'tess', 'tess@example.org');
    const tess = await fw(b, 'tess', { account: { account: 'tess', password } });
    await tess.waitFor('loggedin');
    // Logged in before its registration ended: the account reached the network state with it.
    expect(await accountOnNetwork('tess')).toBe('tess');
    const asker = await rawWithCaps(a, 'asker', 'account-tag');
    const plain = await raw(a, 'plainer');

    const at = asker.lines().length;
    await ask(asker, 'PRIVMSG NickServ :INFO tess', /NOTICE asker :Account tess, registered /);
    await ask(asker, 'PING :info-done', /PONG \S+ :?info-done$/);
    // Not the asker's account: no email.
    expect(nickServNotices(asker, at)).toEqual([expect.stringMatching(/^Account tess, registered \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\.$/)]);
    expect(await ask(asker, 'WHOIS tess', / 312 asker tess /)).toMatch(/^:a\.test 312 asker tess b\.test :/);

    for (const c of [asker, plain]) await ask(c, 'JOIN #tagged', / 366 \S+ #tagged /);
    await tess.join('#tagged');
    await asker.waitForLine(/^:tess!\S+ JOIN/);
    tess.say('asker', 'tagged across nodes');
    tess.say('plainer', 'untagged across nodes');
    tess.say('#tagged', 'to the channel');
    for (const c of [asker, plain]) await c.waitForLine(/PRIVMSG #tagged :to the channel$/);
    const privmsgs = (c: RawIrc) => c.raw.text().split('\r\n').filter((l) => / PRIVMSG /.test(l));
    expect(privmsgs(asker)).toEqual([
      '@account=tess :tess!~tess@127.0.0.1 PRIVMSG asker :tagged across nodes',
      '@account=tess :tess!~tess@127.0.0.1 PRIVMSG #tagged :to the channel',
    ]);
    expect(privmsgs(plain)).toEqual([
      ':tess!~tess@127.0.0.1 PRIVMSG plainer :untagged across nodes',
      ':tess!~tess@127.0.0.1 PRIVMSG #tagged :to the channel',
    ]);
  });

  it('tells a member on one node with account-notify when a user on the other node logs in and out', async () => {
    await registerAccount(b, 'olga');
    const watcher = await rawWithCaps(a, 'watcher', 'account-notify');
    const unaware = await raw(a, 'unaware');
    const visitor = await raw(b, 'visitor');
    for (const c of [watcher, unaware, visitor]) await ask(c, 'JOIN #acct', / 366 \S+ #acct /);
    await watcher.waitForLine(/^:visitor!\S+ JOIN/);

    const from = watcher.lines().length;
    await ask(visitor, `PRIVMSG NickServ :IDENTIFY olga ${password}`, / 900 /);
    expect(await watcher.waitForLine(/ ACCOUNT /, 5_000, from)).toBe(':visitor!~visitor@127.0.0.1 ACCOUNT olga');
    expect(await accountOnNetwork('visitor')).toBe('olga');
    await ask(visitor, 'PRIVMSG NickServ :LOGOUT', / 901 /);
    expect(await watcher.waitForLine(/ ACCOUNT \*$/, 5_000, from)).toBe(':visitor!~visitor@127.0.0.1 ACCOUNT *');
    expect(await accountOnNetwork('visitor')).toBeNull();
    // Who did not ask gets nothing: the line after both, from the same sender, came without them.
    visitor.send('PRIVMSG #acct :after the logout');
    for (const c of [watcher, unaware]) await c.waitForLine(/PRIVMSG #acct :after the logout$/);
    expect(watcher.lines().filter((l) => / ACCOUNT /.test(l))).toEqual([
      ':visitor!~visitor@127.0.0.1 ACCOUNT olga',
      ':visitor!~visitor@127.0.0.1 ACCOUNT *',
    ]);
    expect(unaware.lines().filter((l) => / ACCOUNT /.test(l))).toEqual([]);
  });

  it('renames an unidentified holder of a nick registered on the other node once the grace is over; members on both nodes see the NICK', async () => {
    await registerAccount(a, 'rita');
    const nearby = await raw(b, 'nearby');
    const far = await raw(a, 'far');
    const squatter = await raw(b, 'squat');
    for (const c of [nearby, far, squatter]) await ask(c, 'JOIN #grace', / 366 \S+ #grace /);
    await far.waitForLine(/^:squat!\S+ JOIN/);
    const asked = Date.now();
    await ask(squatter, 'NICK rita', /^:squat!\S+ NICK :?rita$/);
    await squatter.waitForLine(/NOTICE rita :This nickname is registered\. Log in within 1 seconds /);
    const renamed = await squatter.waitForLine(/^:rita!\S+ NICK :?Guest\d+$/, 5_000);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(graceMs - 50);
    const guest = /Guest\d+$/.exec(renamed)![0];
    for (const c of [nearby, far]) expect(await c.waitForLine(/^:rita!\S+ NICK /)).toMatch(new RegExp(`^:rita!~squat@127\\.0\\.0\\.1 NICK :?${guest}$`));
    // The nick is free on both nodes again.
    expect(await ask(far, 'WHOIS rita', / (401|318) far /)).toMatch(/ 401 far rita /);
  });

  it('GHOSTs a holder on the other node: it gets ERROR with the kill reason, its channels see it quit, the nick comes free', async () => {
    // The holder logged in on a (an old session), so nick enforcement leaves it alone.
    const holder = await raw(a, 'gina');
    await ask(holder, `PRIVMSG NickServ :REGISTER ${password}`, / 900 /);
    const peer = await raw(b, 'peer');
    for (const c of [holder, peer]) await ask(c, 'JOIN #ghost', / 366 \S+ #ghost /);
    await holder.waitForLine(/^:peer!\S+ JOIN/);

    const owner = await raw(b, 'gina2');
    await ask(owner, `PRIVMSG NickServ :IDENTIFY gina ${password}`, / 900 /);
    expect(await ask(owner, 'PRIVMSG NickServ :GHOST gina', /NOTICE gina2 :/)).toBe(':NickServ!NickServ@services NOTICE gina2 :gina has been disconnected.');
    const reason = 'Killed (NickServ (GHOST command used by gina2))';
    expect((await holder.closed).split('\r\n').filter(Boolean).at(-1)).toBe(`ERROR :Closing link: (~gina@127.0.0.1) [${reason}]`);
    expect(await peer.waitForLine(/^:gina!\S+ QUIT /)).toBe(`:gina!~gina@127.0.0.1 QUIT :${reason}`);
    expect(await ask(owner, 'NICK gina', /^:gina2!\S+ NICK | 433 /)).toMatch(/^:gina2!~gina2@127\.0\.0\.1 NICK :?gina$/);
  });

  it('refuses a node whose store is not the network\'s (its own --data-dir): STORE_MISMATCH, exit 1, one line on stderr', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'irc-other-store-'));
    dirs.push(dir);
    const args = (...more: string[]) => [
      '--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--server-name', 'c.test',
      '--redis', redis.url, '--network', network, '--data-dir', dir, ...more,
    ];
    const human = run(serverBin, args());
    refused.push(human);
    expect((await human.exited).code).toBe(1);
    const file = path.join(dir, 'xstate-tcp-chat.sqlite');
    expect(human.stderr()).toBe(
      `error: this node's store (sqlite ${file}) is not the one the network's other nodes share: give every node the same --database (or, on one machine, the same --data-dir)\n`,
    );
    expect(human.stdout()).not.toMatch(/listening/);
    // The JSON log names the code.
    const json = run(serverBin, args('--log-format', 'json'));
    refused.push(json);
    expect((await json.exited).code).toBe(1);
    const failure = (json.stdout() + json.stderr()).split('\n').filter((l) => l.includes('STORE_MISMATCH'));
    expect(failure).toHaveLength(1);
    expect(JSON.parse(failure[0]!)).toMatchObject({ event: 'server.failed', code: 'STORE_MISMATCH' });
    // The network did not change its store for the refused node: the others still log in.
    const c = await fw(a, 'nora', { account: { account: 'nora', password } });
    await c.waitFor('loggedin');
  });

  it('keeps every account when both nodes restart on the same PostgreSQL', async () => {
    await registerAccount(a, 'pia', 'pia@example.org');
    const before = await registeredLine(b, 'pia', 'infobefore');
    closeAll();
    const exits = await Promise.all([a.terminate(), b.terminate()]);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);

    [a, b] = await startBoth();
    expect(await registeredLine(a, 'pia', 'infoafter')).toBe(before.replace('infobefore', 'infoafter'));
    const pia = await fw(b, 'pia', { account: { account: 'pia', password } });
    expect(await pia.waitFor('loggedin')).toMatchObject({ account: 'pia' });
    const other = await raw(a, 'nora');
    expect(await ask(other, `PRIVMSG NickServ :IDENTIFY ${password}`, / 900 /)).toBe(
      ':a.test 900 nora nora!~nora@127.0.0.1 nora :You are now logged in as nora',
    );
  });
});
