// RedisState against a real redis-server this file starts (persistence off, a free port): the
// NetworkState contract MemoryState is held to, then what only a shared state has: several
// nodes racing, a kick across nodes, a node's users removed when it dies, a restore after Redis
// lost everything, and a clear error when Redis is unreachable.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isUnavailable, redisStateClientOptions } from '../../src/irc/redis/redisClient.js';
import { RedisState, type StateControl } from '../../src/irc/redis/redisState.js';
import type { RestoreUser } from '../../src/irc/redis/restore.js';
import { clientIdOf } from '../../src/irc/state/ids.js';
import { type JoinRequest, type UserProfile } from '../../src/irc/state/networkState.js';
import { isNetworkUnavailable } from '../../src/core/errors.js';
import { describeNetworkState, profile, T } from '../unit/irc/stateContract.js';
import { startRedis, type RedisServer } from './redisServer.js';

let server: RedisServer;
const clients: Redis[] = [];

/** A client configured as the server configures it: fail fast, never queue (redisClient.ts says why). */
async function connect(port: number): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, ...redisStateClientOptions, lazyConnect: true });
  redis.on('error', () => {}); // every failed reconnect is an 'error'; the operations report it
  await redis.connect();
  clients.push(redis);
  return redis;
}

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

let networks = 0;
/** A fresh network (its own key prefix) on the shared server. */
function newPrefix(): string {
  return `irc:{test${++networks}}:`;
}

describeNetworkState('RedisState', async (limits) => {
  const redis = await connect(server.port);
  const state = new RedisState({ redis, prefix: newPrefix(), nodeIndex: 0, notifyNode: () => {}, ...limits });
  return { state, close: async () => redis.disconnect() };
});

const joinReq: JoinRequest = { key: null, maxChannels: 20, createFlags: 'nt', at: T };

interface Node {
  state: RedisState;
  redis: Redis;
  index: number;
  /** Control messages this node sent, as (to node, control). */
  sent: Array<[number, StateControl]>;
  id(connection: number): number;
  addUser(connection: number, nick: string, extra?: Partial<UserProfile>): Promise<number>;
}

/** Nodes of one network, each with its own Redis connection, as separate processes would be. */
async function network(...indexes: number[]): Promise<{ prefix: string; nodes: Node[] }> {
  const prefix = newPrefix();
  const nodes: Node[] = [];
  for (const index of indexes) {
    const redis = await connect(server.port);
    const sent: Array<[number, StateControl]> = [];
    const state = new RedisState({ redis, prefix, nodeIndex: index, notifyNode: (to, control) => sent.push([to, control]) });
    const node: Node = {
      state,
      redis,
      index,
      sent,
      id: (connection) => clientIdOf(index, connection),
      async addUser(connection, nick, extra = {}) {
        const id = clientIdOf(index, connection);
        expect((await state.claimNick(id, nick, T)).ok).toBe(true);
        await state.register(id, profile(nick, extra.host, extra));
        return id;
      },
    };
    nodes.push(node);
  }
  return { prefix, nodes };
}

function two(nodes: Node[]): [Node, Node] {
  const [a, b] = nodes;
  if (!a || !b) throw new Error('two nodes expected');
  return [a, b];
}

describe('RedisState across nodes', () => {
  it('gives a nick claimed 100 times at once from two nodes to exactly one client', async () => {
    const [a, b] = two((await network(1, 2)).nodes);
    const claims = Array.from({ length: 100 }, (_, i) => {
      const node = i % 2 === 0 ? a : b;
      return node.state.claimNick(node.id(1000 + i), 'Prize', T).then((r) => ({ id: node.id(1000 + i), ok: r.ok }));
    });
    const results = await Promise.all(claims);
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.id;
    await a.state.register(winner, profile('Prize'));
    expect((await b.state.user('prize'))?.clientId).toBe(winner);
    expect(await a.state.counts()).toMatchObject({ users: 1, unknown: 0 });
  });

  it('makes exactly one of many racing joiners of a new channel its operator', async () => {
    const [a, b] = two((await network(1, 2)).nodes);
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(await (i % 2 === 0 ? a : b).addUser(i, `u${i}`));
    const results = await Promise.all(ids.map((id, i) => (i % 2 === 0 ? a : b).state.join(id, '#Race', joinReq)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && r.created)).toHaveLength(1);
    const members = await a.state.members('#race');
    expect(members).toHaveLength(20);
    expect(members.filter((m) => m.op)).toHaveLength(1);
    expect(members[0]?.op).toBe(true); // the creator joined first
    // Each node lists only its own clients for delivery.
    expect([...a.state.localMembers('#race')].sort()).toEqual(ids.filter((_, i) => i % 2 === 0).sort());
    expect([...b.state.localMembers('#race')].sort()).toEqual(ids.filter((_, i) => i % 2 === 1).sort());
  });

  it("tells the kicked client's node, which drops it from its local members when told", async () => {
    const [a, b] = two((await network(1, 2)).nodes);
    const op = await a.addUser(1, 'op');
    const victim = await b.addUser(1, 'victim');
    await a.state.join(op, '#k', joinReq);
    await b.state.join(victim, '#k', joinReq);
    expect(await a.state.kick(op, '#K', 'VICTIM')).toMatchObject({ ok: true, target: { clientId: victim } });
    expect(a.sent).toEqual([[2, { type: 'dropMember', channel: '#k', clientId: victim }]]);
    expect([...a.state.localMembers('#k')]).toEqual([op]);
    expect([...b.state.localMembers('#k')]).toEqual([victim]); // until the message arrives
    b.state.applyControl(a.sent[0]![1]);
    expect([...b.state.localMembers('#k')]).toEqual([]);
    expect(await b.state.membership('#k', 'victim')).toBeNull();
  });

  it("removes every client of a lost node once: members, nicks, empty channels, WHOWAS", async () => {
    const [a, b] = two((await network(1, 2)).nodes);
    const alice = await a.addUser(1, 'alice');
    const bob = await b.addUser(1, 'bob');
    const carol = await b.addUser(2, 'carol');
    const pending = b.id(3);
    await b.state.claimNick(pending, 'pending', T);
    await a.state.join(alice, '#shared', joinReq);
    await b.state.join(bob, '#shared', joinReq);
    await b.state.join(bob, '#bobs', joinReq);
    await b.state.join(carol, '#bobs', joinReq);
    expect(await a.state.counts()).toMatchObject({ users: 3, unknown: 1, channels: 2, servers: 2, localUsers: 1 });

    const removed = await a.state.removeNode(2, T + 5);
    expect(removed).toEqual([
      { clientId: bob, nick: 'bob', user: '~bob', host: '10.0.0.1', channels: ['#shared', '#bobs'], registered: true },
      { clientId: carol, nick: 'carol', user: '~carol', host: '10.0.0.1', channels: ['#bobs'], registered: true },
      { clientId: pending, nick: 'pending', user: '', host: '', channels: [], registered: false },
    ]);
    expect(await a.state.removeNode(2, T + 6)).toEqual([]);
    expect(await a.state.channel('#bobs')).toBeNull();
    expect((await a.state.members('#shared')).map((m) => m.user.nick)).toEqual(['alice']);
    expect(await a.state.user('bob')).toBeNull();
    expect((await a.state.claimNick(a.id(2), 'carol', T)).ok).toBe(true);
    expect((await a.state.claimNick(a.id(3), 'pending', T)).ok).toBe(true);
    expect((await a.state.whowas('bob', 5)).map((e) => e.at)).toEqual([T + 5]);
    expect(await a.state.whowas('pending', 5)).toEqual([]);
    expect(await a.state.counts()).toMatchObject({ users: 1, unknown: 2, channels: 1, servers: 1, maxGlobalUsers: 3 });
  });

  it('puts a node\'s users and channels back after Redis lost everything, reporting a nick taken meanwhile', async () => {
    const [a, b] = two((await network(1, 2)).nodes);
    const alice = await a.addUser(1, 'Alice', { modes: 'i' });
    const bob = await a.addUser(2, 'bob');
    const early = a.id(3);
    await a.state.claimNick(early, 'early', T);
    await a.state.setAway(bob, 'lunch');
    await a.state.join(alice, '#Topic', joinReq);
    await a.state.join(bob, '#topic', joinReq);
    await a.state.setTopic(alice, '#topic', { text: 'kept', setBy: 'Alice!~Alice@10.0.0.1', setAt: T + 1 });
    await a.state.applyModes(alice, '#topic', [
      { adding: true, mode: 'k', param: 'pw' },
      { adding: true, mode: 'l', param: '9' },
      { adding: true, mode: 'v', param: 'bob' },
      { adding: true, mode: 'b', param: '*!*@bad.example' },
      { adding: true, mode: 'e', param: 'ok!*@bad.example' },
      { adding: true, mode: 'I', param: 'friend!*@*' },
      { adding: true, mode: 'q', param: '*!*@noisy.example' },
      { adding: true, mode: 'R' },
    ], { maxBans: 5, setBy: 'Alice', at: T + 2 });
    const snapshot = await a.state.localSnapshot();
    expect(snapshot.map((u) => u.nick)).toEqual(['Alice', 'bob', 'early']);
    const before = { channel: await a.state.channel('#topic'), lists: await a.state.maskLists('#topic'), members: await a.state.members('#topic') };

    await a.redis.flushall();
    const thief = await b.addUser(1, 'BOB'); // took bob's nick while a's users were gone
    const results = await a.state.restore(snapshot, T + 10);
    expect(results).toEqual([
      { clientId: alice, ok: true, restored: true, channels: ['#topic'] },
      { clientId: bob, ok: false, reason: 'nickInUse', holder: thief },
      { clientId: early, ok: true, restored: true, channels: [] },
    ]);
    expect(await a.state.channel('#topic')).toEqual({ ...before.channel, memberCount: 1 });
    expect(await a.state.maskLists('#topic')).toEqual(before.lists);
    expect(Object.values(before.lists).map((l) => l.length)).toEqual([1, 1, 1, 1]);
    expect(await a.state.members('#topic')).toEqual(before.members.filter((m) => m.user.clientId === alice));
    expect(await a.state.user('alice')).toEqual(before.members[0]?.user);
    expect([...a.state.localMembers('#topic')]).toEqual([alice]);
    expect(await a.state.counts()).toMatchObject({ users: 2, invisible: 1, unknown: 1, channels: 1, servers: 2, localUsers: 1 });

    // Running it again changes nothing: the users are there now.
    const again = await a.state.restore(snapshot, T + 11);
    expect(again.map((r) => (r.ok ? r.restored : r.reason))).toEqual([false, 'nickInUse', false]);
    expect(await a.state.counts()).toMatchObject({ users: 2, unknown: 1 });
  });

  it('rejoins a restored user to a channel that still exists, with its status and no change to the channel', async () => {
    const [a, b] = two((await network(1, 2)).nodes);
    const other = await b.addUser(1, 'other');
    await b.state.join(other, '#live', joinReq);
    await b.state.setTopic(other, '#live', { text: 'current', setBy: 'other', setAt: T });
    const user: RestoreUser = {
      clientId: a.id(1),
      nick: 'back',
      profile: profile('back'),
      registered: true,
      away: null,
      account: null,
      channels: [
        { name: '#Live', op: true, voice: false, state: { createdAt: 1, topic: { text: 'stale', setBy: 'x', setAt: 1 }, modes: { flags: 'imnst', key: 'k', limit: 1 }, lists: { b: [], e: [], I: [], q: [] } } },
        { name: '#Gone', op: false, voice: true },
      ],
    };
    expect(await a.state.restore([user], T + 3, { createFlags: 'tn' })).toEqual([
      { clientId: a.id(1), ok: true, restored: true, channels: ['#live', '#gone'] },
    ]);
    expect(await a.state.channel('#live')).toMatchObject({ topic: { text: 'current' }, modes: { flags: 'nt', key: null, limit: null }, memberCount: 2 });
    expect(await a.state.membership('#live', 'back')).toEqual({ op: true, voice: false });
    expect(await a.state.channel('#gone')).toEqual({ name: '#Gone', createdAt: T + 3, topic: null, modes: { flags: 'nt', key: null, limit: null }, memberCount: 1 });
    expect(await a.state.membership('#gone', 'back')).toEqual({ op: false, voice: true });
  });

  it('keeps ids past 10^14 exact (ids travel as strings, never as Lua numbers)', async () => {
    const [a] = two((await network(40_000, 2)).nodes);
    const id = await a.addUser(123_456_789, 'far');
    expect(id).toBeGreaterThan(1e14);
    await a.state.join(id, '#far', joinReq);
    expect((await a.state.user('far'))?.clientId).toBe(id);
    expect((await a.state.members('#far'))[0]?.user.clientId).toBe(id);
    expect([...a.state.localMembers('#far')]).toEqual([id]);
    expect(await a.state.removeNode(40_000, T)).toMatchObject([{ clientId: id }]);
  });

  it('follows a channel before its first local member joins and unfollows after the last leaves', async () => {
    const prefix = newPrefix();
    const redis = await connect(server.port);
    const events: string[] = [];
    let release: () => void = () => {};
    const state = new RedisState({
      redis,
      prefix,
      nodeIndex: 0,
      notifyNode: () => {},
      follow: async (channel) => {
        events.push(`follow ${channel}`);
        await new Promise<void>((r) => (release = r));
        events.push(`followed ${channel}`);
      },
      unfollow: (channel) => {
        events.push(`unfollow ${channel}`);
      },
    });
    for (const [id, nick] of [[1, 'a'], [2, 'b']] as const) {
      await state.claimNick(id, nick, T);
      await state.register(id, profile(nick));
    }
    const joins = [state.join(1, '#F', joinReq), state.join(2, '#f', joinReq)];
    await new Promise((r) => setTimeout(r, 20));
    expect(await state.channel('#f')).toBeNull(); // nobody joined before following
    release();
    expect((await Promise.all(joins)).every((r) => r.ok)).toBe(true);
    expect(events).toEqual(['follow #f', 'followed #f']); // once for both
    await state.part(1, '#f');
    expect(events).toEqual(['follow #f', 'followed #f']);
    await state.part(2, '#F');
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(['follow #f', 'followed #f', 'unfollow #f']);

    // A refused join leaves nothing local in the channel: followed for the attempt, then unfollowed.
    const remote = new RedisState({ redis, prefix, nodeIndex: 1, notifyNode: () => {} });
    const owner = clientIdOf(1, 1);
    await remote.claimNick(owner, 'owner', T);
    await remote.register(owner, profile('owner'));
    await remote.join(owner, '#closed', joinReq);
    await remote.applyModes(owner, '#closed', [{ adding: true, mode: 'i' }], { maxBans: 1, setBy: 'owner', at: T });
    events.length = 0;
    const refused = state.join(1, '#closed', joinReq);
    await new Promise((r) => setTimeout(r, 0));
    release();
    expect(await refused).toEqual({ ok: false, reason: 'inviteOnly' });
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(['follow #closed', 'followed #closed', 'unfollow #closed']);
  });

  it('renames a channel for every node in one step: the script announces it on `renames`, each node moves its members and follows the new name', async () => {
    const { prefix, nodes } = await network(1, 2);
    const [a, b] = two(nodes);
    const listener = await connect(server.port);
    const heard: string[] = [];
    listener.on('message', (channel: string, message: string) => heard.push(`${channel.slice(prefix.length)} ${message}`));
    await listener.subscribe(`${prefix}renames`);
    const events: string[] = [];
    const remote = new RedisState({
      redis: b.redis,
      prefix,
      nodeIndex: 2,
      notifyNode: () => {},
      follow: (channel) => void events.push(`follow ${channel}`),
      unfollow: (channel) => void events.push(`unfollow ${channel}`),
      renamed: (from, to) => void events.push(`renamed ${from} ${to}`),
    });
    const op = await a.addUser(1, 'op');
    const bob = clientIdOf(2, 1);
    await remote.claimNick(bob, 'bob', T);
    await remote.register(bob, profile('bob'));
    await a.state.join(op, '#Old', joinReq);
    await remote.join(bob, '#old', joinReq);
    events.length = 0;

    expect(await a.state.renameChannel(op, '#old', '#New', { at: T, cooldownMs: 0 })).toMatchObject({ ok: true, from: '#Old', members: [op, bob] });
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    const announced = JSON.parse(heard[0]!.slice('renames '.length)) as { o: number; c: StateControl };
    expect(announced).toEqual({ o: 1, c: { type: 'renameChannel', from: '#old', to: '#new' } });
    expect([...a.state.localMembers('#new')]).toEqual([op]);
    // Node 2 still indexes the old name until the announcement reaches it.
    expect([...remote.localMembers('#old')]).toEqual([bob]);
    remote.applyControl(announced.c);
    expect([...remote.localMembers('#new')]).toEqual([bob]);
    expect([...remote.localMembers('#old')]).toEqual([]);
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(['renamed #old #new', 'follow #new', 'unfollow #old']);
    // Its members leave the new name, and the last one to leave lets it go.
    expect(await remote.part(bob, '#NEW')).toEqual({ ok: true, channel: '#New' });
    await new Promise((r) => setTimeout(r, 0));
    expect(events.at(-1)).toBe('unfollow #new');
    // A change of case only moves nothing and announces nothing.
    expect(await a.state.renameChannel(op, '#new', '#NEW', { at: T, cooldownMs: 0 })).toMatchObject({ ok: true, channel: { name: '#NEW' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toHaveLength(1);
  });

  it('leaves nothing under the old name when the renaming node is lost right after the rename', async () => {
    const { prefix, nodes } = await network(1, 2);
    const [a, b] = two(nodes);
    const op = await a.addUser(1, 'op');
    const bob = await b.addUser(1, 'bob');
    await a.state.join(op, '#r', joinReq);
    await b.state.join(bob, '#r', joinReq);
    await a.state.applyModes(op, '#r', [{ adding: true, mode: 'b', param: 'x!*@*' }], { maxBans: 3, setBy: 'op', at: T });
    // The rename and the reaper are each one script: whichever runs first, the other sees it whole.
    const [renamed, removed] = await Promise.all([
      a.state.renameChannel(op, '#r', '#s', { at: T, cooldownMs: 0 }),
      b.state.removeNode(1, T),
    ]);
    const keys = (await a.redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length));
    expect(keys.filter((k) => k.endsWith(':#r'))).toEqual([]);
    expect(removed.map((u) => u.nick)).toEqual(['op']);
    if (renamed.ok) {
      expect((await b.state.members('#s')).map((m) => m.user.nick)).toEqual(['bob']);
      expect((await b.state.maskLists('#s')).b.map((ban) => ban.mask)).toEqual(['x!*@*']);
      expect((await b.state.channelsOf('bob')).map((c) => c.name)).toEqual(['#s']);
    } else {
      // The reaper ran first: the renamer was gone, and the channel kept its name.
      expect(renamed).toEqual({ ok: false, reason: 'notOn' });
      expect((await b.state.members('#r')).map((m) => m.user.nick)).toEqual(['bob']);
    }
  });

  it('leaves only counters and history behind once everyone has left, every key under the prefix', async () => {
    const { prefix, nodes } = await network(1, 2);
    const [a, b] = two(nodes);
    const x = await a.addUser(1, 'x');
    const y = await b.addUser(1, 'y');
    await a.state.join(x, '#one', joinReq);
    await b.state.join(y, '#one', joinReq);
    await a.state.applyModes(x, '#one', [{ adding: true, mode: 'i' }, { adding: true, mode: 'b', param: 'z!*@*' }], { maxBans: 3, setBy: 'x', at: T });
    await a.state.invite(x, '#one', 'y');
    await a.state.setTopic(x, '#one', { text: 't', setBy: 'x', setAt: T });
    const all = await a.redis.keys('*');
    expect(all.filter((k) => k.startsWith(prefix)).length).toBeGreaterThan(5);
    await a.state.removeUser(x, T);
    await b.state.removeNode(2, T);
    const left = (await a.redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort();
    expect(left).toEqual(['counts', 'nodeMax', 'seq', 'whowas']);
  });
});

describe('RedisState when Redis is unreachable', () => {
  let own: RedisServer;
  beforeAll(async () => {
    own = await startRedis();
  });
  afterAll(async () => {
    await own?.stop();
  });

  it('rejects every operation with NETWORK_UNAVAILABLE, and works again once Redis is back', async () => {
    const redis = await connect(own.port);
    const state = new RedisState({ redis, prefix: newPrefix(), nodeIndex: 0, notifyNode: () => {} });
    await state.claimNick(1, 'a', T);
    await state.register(1, profile('a'));
    await state.join(1, '#c', joinReq);

    const closed = new Promise((r) => redis.once('close', r));
    await own.stop();
    await closed;
    const m = { maxBans: 1, setBy: 'a', at: T };
    const operations: Array<[string, () => unknown]> = [
      ['claimNick', () => state.claimNick(2, 'b', T)],
      ['register', () => state.register(1, profile('a'))],
      ['user', () => state.user('a')],
      ['findUsers', () => state.findUsers('*')],
      ['setAway', () => state.setAway(1, 'x')],
      ['setUserModes', () => state.setUserModes(1, 'i')],
      ['touch', () => state.touch(1, T)],
      ['removeUser', () => state.removeUser(1, T)],
      ['whowas', () => state.whowas('a', 1)],
      ['join', () => state.join(1, '#d', joinReq)],
      ['part', () => state.part(1, '#c')],
      ['partAll', () => state.partAll(1)],
      ['channel', () => state.channel('#c')],
      ['members', () => state.members('#c')],
      ['membership', () => state.membership('#c', 'a')],
      ['speakIn', () => state.speakIn('#c', { clientId: 1, mask: 'a!~a@h', loggedIn: false })],
      ['channelsOf', () => state.channelsOf('a')],
      ['setTopic', () => state.setTopic(1, '#c', null)],
      ['applyModes', () => state.applyModes(1, '#c', [{ adding: true, mode: 'm' }], m)],
      ['maskLists', () => state.maskLists('#c')],
      ['invite', () => state.invite(1, '#c', 'a')],
      ['kick', () => state.kick(1, '#c', 'a')],
      ['listChannels', () => state.listChannels()],
      ['counts', () => state.counts()],
      ['removeNode', () => state.removeNode(0, T)],
      ['localSnapshot', () => state.localSnapshot()],
      ['restore', () => state.restore([{ clientId: 1, nick: 'a', profile: profile('a'), registered: true, away: null, account: null, channels: [] }], T)],
    ];
    for (const [name, op] of operations) {
      const error = await Promise.resolve().then(op).then(() => null, (e: unknown) => e);
      expect(error, name).toSatisfy(isNetworkUnavailable);
      expect(isUnavailable(error), name).toBe(true);
    }
    expect([...state.localMembers('#c')]).toEqual([1]); // the local index is untouched

    // Back, empty (no persistence), and its scripts gone: EVALSHA falls back to EVAL.
    await own.restart();
    const ready = redis.status === 'ready' ? Promise.resolve() : new Promise((r) => redis.once('ready', r));
    await ready;
    expect(await state.restore([{ clientId: 1, nick: 'a', profile: profile('a'), registered: true, away: null, account: null, channels: [{ name: '#c', op: true, voice: false }] }], T))
      .toEqual([{ clientId: 1, ok: true, restored: true, channels: ['#c'] }]);
    expect(await state.membership('#c', 'a')).toEqual({ op: true, voice: false });
  });

  it('rejects the commands in flight when Redis dies, each with NETWORK_UNAVAILABLE or a result', async () => {
    const redis = await connect(own.port);
    const state = new RedisState({ redis, prefix: newPrefix(), nodeIndex: 0, notifyNode: () => {} });
    try {
      await state.claimNick(1000, 'before', T);
      // Frozen first, so the claims are surely in flight (sent, unanswered) when it dies: a
      // running Redis could answer all 200 before the SIGKILL lands.
      own.kill('SIGSTOP');
      const claims = Array.from({ length: 200 }, (_, i) => state.claimNick(i + 1, `n${i}`, T).then(() => 'ok', (e: unknown) => e));
      await new Promise((r) => setTimeout(r, 50));
      own.kill('SIGKILL');
      const outcomes = await Promise.all(claims);
      expect(outcomes.filter((o) => o !== 'ok' && !isNetworkUnavailable(o))).toEqual([]);
      expect(outcomes.some((o) => isNetworkUnavailable(o))).toBe(true);
    } finally {
      await own.restart();
    }
  });

  it('rejects with NETWORK_UNAVAILABLE when Redis stops answering without closing', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: own.port, ...redisStateClientOptions, commandTimeout: 300, lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    clients.push(redis);
    const state = new RedisState({ redis, prefix: newPrefix(), nodeIndex: 0, notifyNode: () => {} });
    own.kill('SIGSTOP');
    try {
      await expect(state.claimNick(1, 'frozen', T)).rejects.toSatisfy(isNetworkUnavailable);
    } finally {
      own.kill('SIGCONT');
    }
  });

  it('does not mistake a failing call for an outage', async () => {
    const redis = await connect(own.port);
    const state = new RedisState({ redis, prefix: newPrefix(), nodeIndex: 0, notifyNode: () => {} });
    const error = await Promise.resolve(state.register(77, profile('x'))).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toSatisfy(isNetworkUnavailable);
  });
});
