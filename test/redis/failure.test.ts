// What happens to one IRC network on Redis when a part of it fails (issue 9): a node SIGKILLed
// (its users quit everywhere within --node-timeout, netsplit-style, and their nicks are free), a
// node stopped with SIGTERM (its users quit cleanly before it exits 0), and redis-server killed
// under traffic then restarted empty (nobody crashes, users are told, commands get 437, nothing
// is dropped unknown to the sender or the log; once back, every node re-registers its users and
// channels by itself, a nick taken meanwhile is renamed, and delivery resumes). This file starts
// its own redis-server and, for each test, its own nodes as real CLI processes on port 0.

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../irc/clients.js';
import { ask, connectIrc, type RawIrc } from '../irc/raw.js';
import { run, serverBin } from '../process.js';
import { clientPool, killNodes, nodeTimeoutMs, startNodes, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

/** The server's heartbeat (config.ts nodeHeartbeatMs; no flag sets it). */
const heartbeatMs = 1_000;
/** A dead node's users are gone everywhere within its timeout plus one beat; this much slack on top. */
const slackMs = 2_000;

let redis: RedisServer;
const { fw, raw, closeAll } = clientPool();

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  closeAll();
  await killNodes();
});

afterAll(async () => {
  await killNodes();
  await redis?.stop();
});

/** Waits until `check()` holds, polling; the error names what was awaited. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `promise`, or an error naming what was awaited once `timeoutMs` has passed. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The nicks a NAMES of `channel` from `c` lists now, without their prefixes, sorted. */
async function namesOf(c: RawIrc, channel: string): Promise<string[]> {
  const from = c.lines().length;
  c.send(`NAMES ${channel}`);
  await c.waitForLine(new RegExp(` 366 \\S+ ${channel} `), 5_000, from);
  return c
    .lines()
    .slice(from)
    .flatMap((l) => / 353 \S+ [=*@] \S+ :?(.*)$/.exec(l)?.[1]?.split(' ') ?? [])
    .map((n) => n.replace(/^[@+]+/, ''))
    .sort();
}

/** The reply WHOIS `nick` gets from `c`'s server: 311 ... or 401. */
async function whois(c: RawIrc, nick: string): Promise<string> {
  const from = c.lines().length;
  c.send(`WHOIS ${nick}`);
  await c.waitForLine(new RegExp(` 318 \\S+ ${nick} `), 5_000, from);
  return c.lines().slice(from).find((l) => / (311|401) /.test(l)) ?? '(neither 311 nor 401)';
}

/** Lines of `c` matching `pattern`. */
const count = (c: RawIrc | TestClient, pattern: RegExp) => ('received' in c ? c.received() : c.lines()).filter((l) => pattern.test(l)).length;

const figures: string[] = [];
afterAll(() => {
  if (process.env.SHOW_FIGURES) console.log(figures.join('\n'));
});

describe('a node killed with SIGKILL', () => {
  it('has its users quit on every other node, netsplit-style, within the node timeout; their nicks are free and no channel keeps a ghost', async () => {
    const [n1, n2, n3] = (await startNodes(redis.url, 3, { network: 'Kill' })) as [IrcNode, IrcNode, IrcNode];
    const alice = await fw(n1, 'alice');
    const carol = await fw(n3, 'carol');
    const [bob, dan] = await Promise.all([fw(n2, 'bob'), fw(n2, 'dan'), fw(n2, 'eve')]);
    for (const c of [alice, bob, carol, dan]) await c.join('#k');
    await alice.join('#k2');
    await dan.join('#k2');
    await Promise.all([alice.waitFor('join', (e) => e.nick === 'dan' && e.channel === '#k2'), carol.waitFor('join', (e) => e.nick === 'dan')]);

    const killedAt = Date.now();
    await n2.kill('SIGKILL');
    const split = /^:(bob|dan)!\S+ QUIT :(n1\.test|n3\.test) n2\.test$/;
    await Promise.all(
      [alice, carol].flatMap((c) => ['bob', 'dan'].map((nick) => c.waitFor('quit', (e) => e.nick === nick, nodeTimeoutMs + heartbeatMs + slackMs))),
    );
    const seenAt = Date.now() - killedAt;
    figures.push(`SIGKILL of a node -> its users' QUIT on the other nodes: ${seenAt} ms (node timeout ${nodeTimeoutMs} ms)`);
    expect(seenAt).toBeLessThan(nodeTimeoutMs + heartbeatMs + slackMs);

    // Seen from n1 and n3: no ghost in any channel, WHOIS knows nobody, the nicks are free.
    const [checkA, checkC] = await Promise.all([raw(n1, 'checka'), raw(n3, 'checkc')]);
    for (const c of [checkA, checkC]) {
      expect(await namesOf(c, '#k')).toEqual(['alice', 'carol']);
      expect(await namesOf(c, '#k2')).toEqual(['alice']);
      for (const nick of ['bob', 'dan', 'eve']) expect(await whois(c, nick)).toMatch(new RegExp(` 401 \\S+ ${nick} `));
    }
    const [bob2, eve2] = await Promise.all([fw(n1, 'bob'), fw(n3, 'eve')]);
    expect([bob2.nick, eve2.nick]).toEqual(['bob', 'eve']);
    await bob2.join('#k');
    await carol.waitFor('join', (e) => e.nick === 'bob');

    // Each QUIT came once (dan shared two channels with alice), all with one reaper's reason.
    for (const c of [alice, carol]) {
      const quits = c.received().filter((l) => / QUIT /.test(l));
      expect(quits).toHaveLength(2);
      for (const q of quits) expect(q).toMatch(split);
    }
    const reasons = new Set([alice, carol].flatMap((c) => c.eventsNamed('quit').map((e) => e.message)));
    expect(reasons.size).toBe(1);
    // Exactly one survivor took n2's users off the network, and said so in its log.
    const reapers = [n1, n3].filter((n) => /Network: node \d+ \(n2\.test\S*\) stopped beating; took its 3 user\(s\) off the network/.test(n.stdout()));
    expect(reapers).toHaveLength(1);
    expect([...reasons][0]).toMatch(new RegExp(`^${reapers[0]!.serverName.replace('.', '\\.')} `));
  });
});

describe('a node stopped with SIGTERM', () => {
  it('removes its users cleanly (their QUIT seen on the other node, nicks free at once) and exits 0', async () => {
    const [n1, n2] = (await startNodes(redis.url, 2, { network: 'Term' })) as [IrcNode, IrcNode];
    const alice = await fw(n1, 'alice');
    const bob = await fw(n2, 'bob');
    const bea = await fw(n2, 'bea');
    for (const c of [alice, bob, bea]) await c.join('#t');
    await alice.waitFor('join', (e) => e.nick === 'bea');

    const termAt = Date.now();
    n2.proc.kill('SIGTERM');
    await Promise.all(['bob', 'bea'].map((nick) => alice.waitFor('quit', (e) => e.nick === nick, 5_000)));
    const quitAfter = Date.now() - termAt;
    // Both were told why they were closed.
    for (const c of [bob, bea]) expect(await c.waitForLine(/^ERROR :Closing link: .*\[Server shutting down\]$/)).toBeTruthy();
    const exit = await within(n2.exited, 10_000, 'n2 to exit after SIGTERM');
    figures.push(`SIGTERM of a node -> its users' QUIT on the other node: ${quitAfter} ms; exit 0 after ${exit.at - termAt} ms`);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(n2.stderr()).toBe('');

    const quits = alice.received().filter((l) => / QUIT /.test(l));
    expect(quits.sort()).toEqual([':bea!~bea@127.0.0.1 QUIT :Server shutting down', ':bob!~bob@127.0.0.1 QUIT :Server shutting down']);
    const check = await raw(n1, 'check');
    expect(await namesOf(check, '#t')).toEqual(['alice']);
    expect(await whois(check, 'bob')).toMatch(/ 401 check bob /);

    // n2 left the network: n1 does not reap it later (no second, netsplit-style QUIT). Wait
    // until n1 has beaten twice after n2 was gone, so it had its chances to look.
    const inspect = new Redis(redis.url, { lazyConnect: true });
    await inspect.connect();
    try {
      const key = `irc:{Term}:presence:${n1.index}:alive`;
      // The key holds n1's token; each beat sets its expiry afresh, so a beat is a jump up of
      // its time to live.
      let beats = 0;
      let lastTtl = Infinity;
      const leftAt = Date.now();
      await until(
        async () => {
          const ttl = await inspect.pttl(key);
          if (ttl > lastTtl && Date.now() > leftAt + nodeTimeoutMs) beats++;
          lastTtl = ttl;
          return beats >= 2;
        },
        nodeTimeoutMs + 3 * heartbeatMs + slackMs,
        `two beats of n1 more than ${nodeTimeoutMs} ms after n2 left`,
      );
      expect(await inspect.smembers('irc:{Term}:presence:nodes')).toEqual([String(n1.index)]);
    } finally {
      inspect.disconnect();
    }
    expect(n1.stdout()).not.toMatch(/stopped beating/);
    expect(count(alice, / QUIT /)).toBe(2);
  });
});

describe('redis-server killed and restarted', () => {
  it('under traffic: no node crashes, users are told, commands get 437, nothing is lost unknown; restarted empty, the network comes back and delivery resumes', async () => {
    const [n1, n2] = (await startNodes(redis.url, 2, { network: 'Outage' })) as [IrcNode, IrcNode];
    const alice = await raw(n1, 'alice');
    const carol = await raw(n1, 'carol');
    const bob = await raw(n2, 'bob');
    for (const c of [alice, carol, bob]) {
      c.send('JOIN #o');
      await c.waitForLine(/ 366 \S+ #o /);
    }
    await alice.waitForLine(/^:bob!\S+ JOIN/);

    // Traffic: alice says m0, m1, ... in #o every 10 ms until told to stop.
    let sent = 0;
    let talking = true;
    /** The next message number when Redis was killed, and when it was back. */
    let atKill = -1;
    let atRestart = -1;
    const traffic = (async () => {
      while (talking) {
        alice.send(`PRIVMSG #o :m${sent++}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const got = (c: RawIrc) =>
      c.lines().flatMap((l) => {
        const m = /^:alice!\S+ PRIVMSG #o :?m(\d+)$/.exec(l);
        return m ? [Number(m[1])] : [];
      });
    try {
      await until(() => got(bob).length >= 20, 5_000, 'bob receiving 20 of alice\'s messages before the outage');

      // A client half-way through registering: its nick claimed, its USER still to come.
      const late = await connectIrc(n2.port);
      late.send('NICK late', 'PING :nick-claimed');
      await late.waitForLine(/ PONG \S+ :?nick-claimed$/);

      redis.kill('SIGKILL');
      const killedAt = Date.now();
      atKill = sent;
      const down = /^:n\d\.test NOTICE (alice|carol|bob) :\*\*\* The network is unreachable/;
      await Promise.all([alice, carol, bob].map((c) => c.waitForLine(down, 5_000)));
      figures.push(`Redis SIGKILL -> NOTICE to local users: ${Date.now() - killedAt} ms`);

      // Its welcome cannot put it on the network: it is told so and closed at once, not left
      // registered in its machine and waiting for a 001 that never comes.
      late.send('USER late 0 * :late');
      expect(await late.waitForLine(/^ERROR /, 5_000)).toMatch(/\[The network is unreachable, try again shortly\]$/);
      await late.closed;

      // Commands that need the network fail with 437, saying which command did not run.
      let from = bob.lines().length;
      bob.send('JOIN #new', 'NICK robert', 'WHOIS alice');
      for (const command of ['JOIN', 'NICK', 'WHOIS']) {
        expect(await bob.waitForLine(new RegExp(` 437 bob ${command} `), 5_000, from)).toBe(
          `:n2.test 437 bob ${command} :The network is unreachable: ${command} did not run, try again shortly`,
        );
      }
      // The outage lasts while alice is refused 100 messages (a second or more): long enough for
      // the Redis clients' reconnect back-off to grow apart on the two nodes.
      await until(() => count(alice, / 437 alice PRIVMSG /) >= 100, 10_000, 'alice refused 100 PRIVMSGs (437) during the outage');
      expect(n1.alive() && n2.alive()).toBe(true);

      // Back, empty (persistence is off). Each node re-registers its users and channels itself.
      await redis.restart();
      const restartedAt = Date.now();
      const mark = sent;
      atRestart = mark;
      await until(() => got(bob).some((m) => m >= mark), 10_000, `bob receiving one of alice's messages sent after the restart (m${mark} or later)`);
      const resumedAfter = Date.now() - restartedAt;
      await Promise.all([alice, carol, bob].map((c) => c.waitForLine(/NOTICE \S+ :\*\*\* The network is back\.$/, 10_000)));
      figures.push(`Redis restarted (empty) -> first message from n1 delivered on n2 again: ${resumedAfter} ms`);
      expect(resumedAfter).toBeLessThan(10_000);
    } finally {
      talking = false;
      await traffic;
    }
    // Let the last message arrive (it and everything before it, or its error).
    alice.send(`PRIVMSG #o :m${sent}`, 'PING :last');
    sent++;
    await alice.waitForLine(/PONG \S+ :?last$/);
    await until(() => got(bob).includes(sent - 1), 5_000, `bob receiving the last message m${sent - 1}`);
    await until(() => got(carol).includes(sent - 1), 5_000, `carol receiving the last message m${sent - 1}`);

    // Nothing out of order, nothing twice, and every message that did not arrive is accounted
    // for, to the people it was for: alice was told (437, or a 4xx while the channel was not back
    // yet) or bob was told how many he lost.
    const told = count(alice, /^:n1\.test (4\d\d) alice (PRIVMSG|#o) /);
    const logged = (n1.stderr().match(/a delivery to other nodes was lost/g) ?? []).length;
    // A message n1 published after Redis came back but before n2 had subscribed again reaches
    // nobody on n2; n2 sees the gap in n1's sequence numbers at the next one and logs it. Those
    // are accounted for too (2 of 28 loaded runs had one), as in the case below...
    const lostOnN2 = [...n2.stderr().matchAll(/lost (\d+) message\(s\) from node \d+ to #o/g)].reduce((n, m) => n + Number(m[1]), 0);
    // ...and bob, the member there, is told how many (a NOTICE to him).
    const toldBob = bob
      .lines()
      .flatMap((l) => / NOTICE bob :\*\*\* (\d+) message\(s\) from another server to this channel were lost/.exec(l)?.slice(1).map(Number) ?? [])
      .reduce((n, k) => n + k, 0);
    expect(toldBob).toBe(lostOnN2);
    for (const [who, c] of [['bob', bob], ['carol', carol]] as const) {
      const seq = got(c);
      expect(seq, `${who}: in order, once each`).toEqual([...seq].sort((a, b) => a - b).filter((m, i, a) => a.indexOf(m) === i));
    }
    const missing = (c: RawIrc) => sent - got(c).length;
    const kinds = [...new Set(alice.lines().filter((l) => /^:n1\.test 4\d\d alice /.test(l)).map((l) => l.split(' ').slice(1, 4).join(' ')))];
    figures.push(`outage traffic: ${sent} sent; ${told} refused to alice (${kinds.join(', ')}); ${logged} deliveries logged lost on n1, ${lostOnN2} on n2; bob missed ${missing(bob)}, carol missed ${missing(carol)}`);
    // carol is on alice's node: she misses exactly what alice was told did not run.
    expect(missing(carol)).toBe(told);
    const unknown = got(carol).filter((m) => !got(bob).includes(m));
    // The promise: no silent loss. Every message bob did not get was either refused to its sender
    // (437: nobody got it) or counted in a NOTICE to bob saying messages were lost: exactly.
    // (One whose PUBLISH failed on n1, logged there, used its sequence number, so bob's node
    // counts it in the gap too.)
    expect(
      missing(bob),
      `bob missed ${missing(bob)}: ${told} refused to alice, ${logged} logged lost on n1, ${lostOnN2} on n2, ${toldBob} told to bob; carol got and bob did not: ${unknown.join(' ')} (kill at m${atKill}, restart at m${atRestart})`,
    ).toBe(told + toldBob);

    // The network knows everyone again: seen from n2, #o has all three, WHOIS finds alice on n1.
    expect(await namesOf(bob, '#o')).toEqual(['alice', 'bob', 'carol']);
    expect(await whois(bob, 'alice')).toBe(':n2.test 311 bob alice ~alice 127.0.0.1 * :alice test');
    // And the other way round.
    expect(await namesOf(alice, '#o')).toEqual(['alice', 'bob', 'carol']);
    expect(n1.alive() && n2.alive()).toBe(true);
    for (const n of [n1, n2]) expect(n.stderr()).not.toMatch(/crashed|failed:|Error:/);
  });

  it("renames the user whose nick was taken while Redis was away; it and its channel see a NICK change, and delivery resumes", async () => {
    const [n1, n2] = (await startNodes(redis.url, 2, { network: 'Collide' })) as [IrcNode, IrcNode];
    const alice = await fw(n1, 'alice');
    const bob = await fw(n2, 'bob');
    await alice.join('#c');
    await bob.join('#c');
    await alice.waitFor('join', (e) => e.nick === 'bob');

    redis.kill('SIGKILL');
    await Promise.all([alice, bob].map((c) => c.waitForLine(/NOTICE \S+ :\*\*\* The network is unreachable/)));
    // n1 is frozen while Redis comes back empty, so n2 re-registers first and someone else can
    // take the nick "alice" before n1 puts its alice back.
    n1.proc.kill('SIGSTOP');
    try {
      await redis.restart();
      await bob.waitForLine(/NOTICE bob :\*\*\* The network is back\.$/, 10_000);
      const usurper = await raw(n2, 'alice');
      expect(usurper.lines()).toContainEqual(expect.stringMatching(/ 001 alice /));
    } finally {
      n1.proc.kill('SIGCONT');
    }
    const renamed = await alice.waitFor('nick', (e) => e.nick === 'alice', 10_000);
    const now = renamed.new_nick as string;
    expect(now).toMatch(/^alice-[0-9a-z]+$/);
    expect(alice.received()).toContainEqual(expect.stringMatching(new RegExp(`^:alice!~alice@127\\.0\\.0\\.1 NICK :?${now}$`)));
    await alice.waitForLine(/NOTICE \S+ :\*\*\* The network is back\.$/, 10_000);
    // bob shares #c with her: he sees the change too.
    await bob.waitFor('nick', (e) => e.nick === 'alice' && e.new_nick === now, 5_000);
    // The log line is written at the end of the turn that renamed alice (lines are batched per turn).
    await n1.waitForLine(new RegExp(`nick alice was taken while Redis was away; renamed to ${now}`), 5_000);

    const check = await raw(n2, 'check');
    expect(await namesOf(check, '#c')).toEqual(['bob', now].sort());
    expect(await whois(check, now)).toBe(`:n2.test 311 check ${now} ~alice 127.0.0.1 * :alice (irc-framework)`);
    expect(await whois(check, 'alice')).toBe(':n2.test 311 check alice ~alice 127.0.0.1 * :alice test');

    alice.say('#c', 'back on the network');
    bob.say('#c', 'welcome back');
    await bob.waitFor('message', (e) => e.message === 'back on the network' && e.nick === now);
    await alice.waitFor('message', (e) => e.message === 'welcome back');
  });

  it("records the network's store again when it comes back empty: a node with a store of its own is still refused", async () => {
    const [n1] = (await startNodes(redis.url, 1, { network: 'Stored' })) as [IrcNode];
    const alice = await raw(n1, 'alice');
    redis.kill('SIGKILL');
    await alice.waitForLine(/NOTICE alice :\*\*\* The network is unreachable/);
    await redis.restart();
    await alice.waitForLine(/NOTICE alice :\*\*\* The network is back\.$/, 10_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'irc-other-store-'));
    const other = run(serverBin, ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--redis', redis.url, '--network', 'Stored', '--data-dir', dir]);
    try {
      const exit = await within(other.exited, 20_000, 'the node with another store to be refused');
      expect(exit.code).toBe(1);
      expect(other.stderr()).toMatch(/^error: this node's store \(sqlite .+\) is not the one the network's other nodes share/);
    } finally {
      other.proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loses nothing unknown when Redis drops only a subscriber connection (as it does to one past its output buffer limit)', async () => {
    const [n1, n2] = (await startNodes(redis.url, 2, { network: 'Subscriber' })) as [IrcNode, IrcNode];
    const alice = await raw(n1, 'alice');
    const bob = await raw(n2, 'bob');
    for (const c of [alice, bob]) {
      c.send('JOIN #p');
      await c.waitForLine(/ 366 \S+ #p /);
    }
    await alice.waitForLine(/^:bob!\S+ JOIN/);
    // One message first, so bob's node has seen where alice's node's numbering of #p stands
    // (a node counts what it missed from the gap in that numbering).
    alice.send('PRIVMSG #p :before');
    await bob.waitForLine(/^:alice!\S+ PRIVMSG #p :?before$/);
    const inspect = new Redis(redis.url, { lazyConnect: true });
    await inspect.connect();
    try {
      // Every node's pub/sub connection is closed by Redis; their command connections stay up.
      const killed = await inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      expect(Number(killed)).toBe(2);
    } finally {
      inspect.disconnect();
    }
    const total = 20;
    for (let i = 0; i < total; i++) {
      alice.send(`PRIVMSG #p :p${i}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    alice.send('PING :sent');
    await alice.waitForLine(/PONG \S+ :?sent$/);
    // After the subscriber is back (ioredis reconnects within ~50 ms), a message gets through.
    await until(
      () => {
        if (bob.lines().some((l) => / PRIVMSG #p :?check$/.test(l))) return true;
        alice.send('PRIVMSG #p :check');
        return false;
      },
      5_000,
      'a message from alice reaching bob again',
    );
    const got = bob.lines().filter((l) => /^:alice!\S+ PRIVMSG #p :?p\d+$/.test(l)).length;
    const told = count(alice, /^:n1\.test 4\d\d alice /);
    // The receiving node counts what it missed (a gap in the sender's numbering of #p), logs it
    // and tells its members of the channel. (Its log reaches us on a pipe, which may lag
    // behind bob's socket: wait for it.)
    const lostLogged = () =>
      [...(n1.stderr() + n2.stderr()).matchAll(/lost (\d+) message\(s\) from node \d+ to #p/g)].reduce((n, m) => n + Number(m[1]), 0);
    await until(() => lostLogged() >= total - got - told, 3_000, `the ${total - got} lost messages to be logged`);
    const logs = n1.stderr() + n2.stderr();
    // Every p-message bob missed is counted (the count may include 'check' messages lost too).
    expect(lostLogged() + told, `bob missed ${total - got} of ${total}; logs: ${logs}`).toBeGreaterThanOrEqual(total - got);
    if (total - got > told) {
      expect(bob.lines().some((l) => /^:n2\.test NOTICE bob :\*\*\* \d+ message\(s\) from another server to this channel were lost/.test(l))).toBe(true);
    }
    expect(logs).toMatch(/Network: Redis at .* is unreachable/);
  });
});

describe('a node whose index another node drew while Redis was empty', () => {
  it('finds out at its next beat, cuts its link, closes its clients and exits 1; the other node serves on', async () => {
    const [n1] = (await startNodes(redis.url, 1, { network: 'SameIndex' })) as [IrcNode];
    expect(n1.index).toBe(1);
    const alice = await raw(n1, 'alice');
    // n1 frozen while Redis loses the network's keys (as after a restart without persistence)
    // and a new node starts: the counter begins again, and the newcomer draws index 1.
    n1.proc.kill('SIGSTOP');
    const admin = new Redis(redis.url);
    try {
      const keys = await admin.keys('irc:{SameIndex}:*');
      if (keys.length > 0) await admin.del(...keys);
    } finally {
      admin.disconnect();
    }
    const [n2] = (await startNodes(redis.url, 1, { network: 'SameIndex', first: 2 })) as [IrcNode];
    expect(n2.index).toBe(1);
    n1.proc.kill('SIGCONT');

    // n1's next beat finds n2's token in its key: it stops rather than share client ids.
    expect(await alice.waitForLine(/^ERROR /, 10_000)).toMatch(/Server shutting down/);
    expect((await within(n1.exited, 10_000, 'n1 to exit')).code).toBe(1);
    expect(n1.stderr() + n1.stdout()).toMatch(/NODE_INDEX_TAKEN|indexTaken/);
    // n2 was never disturbed: it serves, and alice's nick is free there.
    const again = await raw(n2, 'alice');
    again.send('PING :n2-serves');
    await again.waitForLine(/ PONG \S+ :?n2-serves$/);
  });
});

describe('a node started while Redis is unreachable', () => {
  it('does not start: NETWORK_UNAVAILABLE, exit 1, saying where it looked', async () => {
    // A port nobody listens on: a closed one from a server that has just gone.
    const gone = net.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const port = (gone.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const node = run(serverBin, ['--protocol', 'irc', '--host', '127.0.0.1', '--port', '0', '--redis', `redis://127.0.0.1:${port}`, '--log-format', 'json']);
    const exit = await within(node.exited, 20_000, 'the node to give up');
    expect(exit.code).toBe(1);
    const failure = (node.stdout() + node.stderr()).split('\n').filter((l) => l.includes('"server.failed"'));
    expect(failure).toHaveLength(1);
    expect(JSON.parse(failure[0]!)).toMatchObject({ event: 'server.failed', code: 'NETWORK_UNAVAILABLE' });
    expect(failure[0]).toContain(`127.0.0.1:${port}`);
  });
});

describe('a node silent past the node timeout, then back (a stalled process)', () => {
  it('is taken for dead, then puts its users back on its next beat: they are in their channels and reachable again', async () => {
    const [n1, n2] = (await startNodes(redis.url, 2, { network: 'Stall' })) as [IrcNode, IrcNode];
    const alice = await raw(n1, 'alice');
    const bob = await raw(n2, 'bob');
    // One after the other: alice's NAMES then lists bob, whichever JOIN would have run first.
    await ask(bob, 'JOIN #s', / 366 bob #s /);
    await ask(alice, 'JOIN #s', / 366 alice #s /);
    // n2 frozen longer than the node timeout: n1 takes it for dead, netsplit-style.
    n2.proc.kill('SIGSTOP');
    await alice.waitForLine(/^:bob!\S+ QUIT /, nodeTimeoutMs + 10_000);
    n2.proc.kill('SIGCONT');
    // Its next beat finds its key gone: it puts bob back, in #s.
    const check = await raw(n1, 'check');
    await until(async () => (await namesOf(check, '#s')).includes('bob'), 10_000, 'bob back in #s on n1');
    alice.send('PRIVMSG bob :are you back?', 'PRIVMSG #s :welcome back');
    await bob.waitForLine(/^:alice!\S+ PRIVMSG bob :are you back\?$/);
    await bob.waitForLine(/^:alice!\S+ PRIVMSG #s :welcome back$/);
    expect(n2.stdout() + n2.stderr()).toMatch(/^Network: node \d+ had gone silent past --node-timeout and may have been taken for dead; putting its users back$/m);
  });
});
