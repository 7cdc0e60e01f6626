// History on a network of nodes (issue 20): two CLI nodes on one redis-server, their store one
// PostgreSQL database. Messages said on one node are read back on the other in the order their
// senders' node delivered them, with the msgids members saw; a private conversation between
// accounts on two nodes is the same history from either side; a read marker set on one node
// reaches the account's connection on the other; a REDACT on one node reaches the other.
// Connections of one account are one user on whichever node they connect (multiclient).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ask, capClient, registerAccount as registerAccountAs, type RawIrc } from '../irc/raw.js';
import { startPostgres, type PgServer } from '../store/postgresServer.js';
import { clientPool, killNodes, startNode, type IrcNode } from './nodes.js';
import { startRedis, type RedisServer } from './redisServer.js';

const network = 'Memory';
const password = 'opensesame42';
const CAPS = 'batch server-time message-tags draft/chathistory draft/read-marker draft/message-redaction';

let redis: RedisServer;
let pg: PgServer;
let a: IrcNode;
let b: IrcNode;
const { raw, track, closeAll } = clientPool();

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  const databaseUrl = await pg.freshDatabase();
  const options = { network, extraArgs: ['--database', databaseUrl, '--flood-burst', '1000', '--flood-rate', '1000'] };
  [a, b] = await Promise.all([startNode(redis.url, 'a.test', options), startNode(redis.url, 'b.test', options)]);
}, 90_000);

afterEach(() => {
  closeAll();
});

afterAll(async () => {
  await killNodes();
  await Promise.all([redis?.stop(), pg?.stop()]);
});

/** Every line `c` received, tags included. */
const tagged = (c: RawIrc): string[] => c.raw.text().split('\r\n').slice(0, -1);

/** A client on `node` with CAPS, logged in with SASL PLAIN to `account` when given. */
async function client(node: IrcNode, nick: string, account?: string): Promise<RawIrc> {
  const c = await capClient(node.port, nick, CAPS, account === undefined ? undefined : { account, password });
  track(c);
  return c;
}

const registerAccount = (node: IrcNode, nick: string): Promise<void> => registerAccountAs(node.port, nick, password);

/** CHATHISTORY's reply batch: its lines (tags included), without the BATCH lines. */
async function history(c: RawIrc, request: string): Promise<string[]> {
  const from = tagged(c).length;
  c.send(`CHATHISTORY ${request}`);
  const open = await c.waitForLine(/ BATCH \+\S+ chathistory /, 5_000, from);
  const ref = /BATCH \+(\S+)/.exec(open)![1]!;
  await c.waitForLine(new RegExp(` BATCH -${ref}$`), 5_000, from);
  return tagged(c).slice(from).filter((l) => l.startsWith(`@batch=${ref};`));
}

/** A line's msgid and what follows its tags. */
const msgidOf = (line: string): string => /(?:^@|;)msgid=([^; ]+)/.exec(line)?.[1] ?? '?';
const body = (line: string): string => line.slice(line.indexOf(' ') + 1);

describe('history on two nodes sharing PostgreSQL', () => {
  it('reads on one node what was said on the other, in the order each sender said it, with the msgids members saw', async () => {
    const [x, y, reader] = await Promise.all([client(a, 'x'), client(b, 'y'), client(b, 'reader')]);
    for (const c of [x, y, reader]) await ask(c, 'JOIN #both', / 366 \S+ #both /);
    for (let i = 1; i <= 20; i++) {
      x.send(`PRIVMSG #both :x ${i}`);
      y.send(`PRIVMSG #both :y ${i}`);
    }
    await reader.waitForLine(/PRIVMSG #both :x 20$/);
    await reader.waitForLine(/PRIVMSG #both :y 20$/);
    const live = tagged(reader).filter((l) => / PRIVMSG #both /.test(l));
    // Node a keeps x's messages, node b y's: read on either node, the same 40.
    let stored: string[] = [];
    for (const node of [a, b]) {
      const member = await client(node, `member${node.serverName[0]}`);
      await ask(member, 'JOIN #both', / 366 /);
      // The other node's writes land within its flush interval.
      for (let tries = 0; tries < 50 && stored.length < 40; tries++) {
        stored = await history(member, 'LATEST #both * 100');
        if (stored.length < 40) await new Promise((r) => setTimeout(r, 50));
      }
      expect(new Set(stored.map(msgidOf))).toEqual(new Set(live.map(msgidOf)));
      stored = [];
    }
    const ordered = await history(reader, 'LATEST #both * 100');
    for (const sender of ['x', 'y']) {
      const mine = ordered.map(body).filter((l) => l.startsWith(`:${sender}!`)).map((l) => l.slice(l.lastIndexOf(' :') + 2));
      expect(mine).toEqual(Array.from({ length: 20 }, (_, i) => `${sender} ${i + 1}`));
    }
  });

  it('keeps a conversation between accounts on two nodes for both sides, and shares markers and redactions across nodes', async () => {
    await registerAccount(a, 'kim');
    await registerAccount(b, 'lee');
    const kim = await client(a, 'kim', 'kim');
    const lee = await client(b, 'lee', 'lee');
    const kimOnB = await client(b, 'kim2', 'kim');
    kim.send('PRIVMSG lee :hello from a', 'PRIVMSG lee :oops');
    await lee.waitForLine(/PRIVMSG lee :oops$/);
    lee.send('PRIVMSG kim :hello from b');
    await kim.waitForLine(/PRIVMSG kim :hello from b$/);
    const texts = (lines: string[]) => lines.map((l) => l.slice(l.lastIndexOf(' :') + 2));
    let fromLee: string[] = [];
    for (let tries = 0; tries < 50 && fromLee.length < 3; tries++) {
      fromLee = await history(lee, 'LATEST kim * 10');
      if (fromLee.length < 3) await new Promise((r) => setTimeout(r, 50));
    }
    expect(texts(fromLee)).toEqual(['hello from a', 'oops', 'hello from b']);
    expect(texts(await history(kimOnB, 'LATEST lee * 10'))).toEqual(['hello from a', 'oops', 'hello from b']);

    const oops = msgidOf(fromLee[1]!);
    kim.send(`REDACT lee ${oops}`);
    // waitForLine gives lines without their tags.
    expect(await lee.waitForLine(/ REDACT /)).toBe(`:kim!~kim@127.0.0.1 REDACT lee ${oops}`);
    expect(texts(await history(lee, 'LATEST kim * 10'))).toEqual(['hello from a', 'hello from b']);

    const time = /(?:^@|;)time=([^; ]+)/.exec(fromLee[2]!)![1]!;
    kim.send(`MARKREAD lee timestamp=${time}`);
    // kim's connection on node b is relayed to node a, where kim is (multiclient): a answers it.
    expect(await kimOnB.waitForLine(/ MARKREAD /)).toBe(`:a.test MARKREAD lee timestamp=${time}`);
  });
});

describe('several connections of one account on a network of nodes', () => {
  it('are one user wherever they connect: a connection on another node is relayed to the node holding the user', async () => {
    await registerAccount(a, 'mia');
    const laptop = await client(a, 'mia', 'mia');
    laptop.send('JOIN #mc');
    await laptop.waitForLine(/ 366 mia #mc /);
    const nat = await raw(b, 'nat');
    nat.send('JOIN #mc');
    await nat.waitForLine(/ 366 nat #mc /);
    await laptop.waitForLine(/^:nat!\S+ JOIN #mc/);

    const phone = await client(a, 'miaphone', 'mia');
    expect(await phone.waitForLine(/ 001 /)).toMatch(/^:a\.test 001 mia /);
    await phone.waitForLine(/^:mia!\S+ JOIN #mc$/);
    const seen = nat.lines().length;

    // Said on node b: both connections of mia on node a hear it.
    nat.send('PRIVMSG #mc :hello from b', 'PRIVMSG mia :psst');
    for (const c of [laptop, phone]) {
      await c.waitForLine(/^:nat!\S+ PRIVMSG #mc :hello from b$/);
      await c.waitForLine(/^:nat!\S+ PRIVMSG mia :psst$/);
    }
    // Said by the phone: node b hears mia, the laptop gets the echo.
    phone.send('PRIVMSG #mc :from the phone');
    await nat.waitForLine(/^:mia!~mia@127\.0\.0\.1 PRIVMSG #mc :from the phone$/);
    await laptop.waitForLine(/^:mia!\S+ PRIVMSG #mc :from the phone$/);

    // On node b, a connection of mia's is relayed to node a, and is mia there too: the welcome
    // and mia's channels, what is said to mia, its own words echoed to the other two.
    const tablet = await client(b, 'miatab', 'mia');
    expect(await tablet.waitForLine(/ 001 /)).toMatch(/^:a\.test 001 mia /);
    await tablet.waitForLine(/^:mia!\S+ JOIN #mc$/);
    await tablet.waitForLine(/ 366 mia #mc /);
    nat.send('PRIVMSG #mc :hello all three', 'PRIVMSG mia :psst again');
    for (const c of [laptop, phone, tablet]) {
      await c.waitForLine(/^:nat!\S+ PRIVMSG #mc :hello all three$/);
      await c.waitForLine(/^:nat!\S+ PRIVMSG mia :psst again$/);
    }
    tablet.send('PRIVMSG #mc :from the tablet', 'PRIVMSG nat :dm from the tablet');
    await nat.waitForLine(/^:mia!~mia@127\.0\.0\.1 PRIVMSG #mc :from the tablet$/);
    await nat.waitForLine(/^:mia!\S+ PRIVMSG nat :dm from the tablet$/);
    for (const c of [laptop, phone]) {
      await c.waitForLine(/^:mia!\S+ PRIVMSG #mc :from the tablet$/);
      await c.waitForLine(/^:mia!\S+ PRIVMSG nat :dm from the tablet$/);
    }
    // One user: nat (who joined after mia) never saw mia join, nor another user of hers.
    expect(nat.lines().filter((l) => /^:mia\S*!\S+ JOIN #mc/.test(l))).toEqual([]);
    // A nick change made on the tablet is the user's, seen by all three connections.
    tablet.send('AWAY :on the bus');
    await tablet.waitForLine(/ 306 mia /);
    nat.send('WHOIS mia');
    await nat.waitForLine(/ 301 nat mia :on the bus$/);
    tablet.send('AWAY');
    await tablet.waitForLine(/ 305 mia /);

    // Read markers: one per account, on every connection.
    const at = new Date().toISOString();
    const [fromTablet, fromPhone] = [tablet.lines().length, phone.lines().length];
    laptop.send(`MARKREAD #mc timestamp=${at}`);
    expect(await tablet.waitForLine(/ MARKREAD #mc /, 5_000, fromTablet)).toBe(`:a.test MARKREAD #mc timestamp=${at}`);
    expect(await phone.waitForLine(/ MARKREAD #mc /, 5_000, fromPhone)).toBe(`:a.test MARKREAD #mc timestamp=${at}`);

    // The tablet goes: nobody sees mia quit.
    tablet.send('QUIT :off the bus');
    await tablet.closed;
    // The laptop goes: nobody sees mia quit; the phone goes: now mia quits, on node b too.
    laptop.send('QUIT :bye');
    await laptop.closed;
    nat.send('PRIVMSG #mc :anyone?');
    await phone.waitForLine(/PRIVMSG #mc :anyone\?$/);
    expect(nat.lines().slice(seen).filter((l) => /^:mia!\S+ (QUIT|PART|JOIN)/.test(l))).toEqual([]);
    phone.send('QUIT :gone');
    expect(await nat.waitForLine(/^:mia!\S+ QUIT /, 5_000, seen)).toBe(':mia!~mia@127.0.0.1 QUIT :Quit: gone');
  });
});
