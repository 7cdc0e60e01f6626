// The behaviour every NetworkState must have, written once and run against each implementation
// (memoryState.test.ts for MemoryState, test/redis/redisState.test.ts for RedisState), so the
// in-memory state and the shared one cannot drift apart. Every call is awaited: an
// implementation may answer synchronously or later. Client ids are small numbers, i.e. clients
// of node 0, which is the node the implementation under test must be.

import { afterEach, describe, expect, it } from 'vitest';
import type { JoinRequest, ModeOptions, NetworkState, StateLimits, UserProfile } from '../../../src/irc/state/networkState.js';


export interface StateUnderTest {
  state: NetworkState;
  close(): Promise<void>;
}

export const T = 1_700_000_000_000;

export function profile(user: string, host = '10.0.0.1', extra: Partial<UserProfile> = {}): UserProfile {
  return { user: `~${user}`, host, realname: user, server: 'irc.test', tls: false, modes: '', signonAt: T, ...extra };
}

/** A registered user holding `nick`. */
export async function addUser(state: NetworkState, id: number, nick: string, extra: Partial<UserProfile> = {}): Promise<void> {
  expect((await state.claimNick(id, nick, T)).ok).toBe(true);
  await state.register(id, profile(nick, extra.host, extra));
}

export const join: JoinRequest = { key: null, maxChannels: 10, createFlags: 'nt', at: T };
const modes: ModeOptions = { maxBans: 10, setBy: 'op', at: T };

export function describeNetworkState(name: string, makeState: (limits?: StateLimits) => Promise<StateUnderTest>): void {
  describe(`${name} (NetworkState contract)`, () => {
    const open: StateUnderTest[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });
    async function fresh(limits?: StateLimits): Promise<NetworkState> {
      const s = await makeState(limits);
      open.push(s);
      return s.state;
    }

    describe('nicks and users', () => {
      it('gives a nick to exactly one claimant, folded', async () => {
        const s = await fresh();
        expect(await s.claimNick(1, 'Nick[1]', T)).toEqual({ ok: true, previous: null, channels: [] });
        expect(await s.claimNick(2, 'nick{1}', T)).toEqual({ ok: false });
        expect(await s.claimNick(1, 'NICK{1}', T)).toEqual({ ok: true, previous: 'Nick[1]', channels: [] });
      });

      it('releases the previous nick in the same step as the claim', async () => {
        const s = await fresh();
        await s.claimNick(1, 'a', T);
        await s.claimNick(1, 'b', T);
        expect((await s.claimNick(2, 'a', T)).ok).toBe(true);
        expect((await s.claimNick(2, 'b', T)).ok).toBe(false);
      });

      it('does not show unregistered nick holders as users', async () => {
        const s = await fresh();
        await s.claimNick(1, 'pending', T);
        expect(await s.user('pending')).toBeNull();
        expect(await s.findUsers('*')).toEqual([]);
        expect(await s.counts()).toMatchObject({ users: 0, unknown: 1 });
      });

      it('tells a nick change which channels must see it, and remembers the old nick', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await s.join(1, '#x', join);
        await s.join(1, '#Y', join);
        expect(await s.claimNick(1, 'B', T + 1)).toEqual({ ok: true, previous: 'a', channels: ['#x', '#y'] });
        expect(await s.membership('#x', 'b')).toEqual({ op: true, voice: false });
        expect(await s.membership('#x', 'a')).toBeNull();
        expect(await s.user('a')).toBeNull();
        expect((await s.user('b'))?.nick).toBe('B');
        expect(await s.whowas('A', 10)).toEqual([{ nick: 'a', user: '~a', host: '10.0.0.1', realname: 'a', server: 'irc.test', at: T + 1 }]);
      });

      it('remembers nothing for WHOWAS of a client that never registered', async () => {
        const s = await fresh();
        await s.claimNick(1, 'a', T);
        await s.claimNick(1, 'b', T);
        expect(await s.removeUser(1, T)).toEqual({ nick: 'b', channels: [], registered: false });
        expect(await s.whowas('a', 10)).toEqual([]);
        expect(await s.whowas('b', 10)).toEqual([]);
        expect(await s.counts()).toMatchObject({ users: 0, unknown: 0 });
      });

      it('refuses to register a client that holds no nick', async () => {
        const s = await fresh();
        await expect(async () => s.register(1, profile('a'))).rejects.toThrow(/holds no nick/);
      });

      it('keeps the user record current: away, account, modes (sorted), idle time', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a', { tls: true, realname: 'Alice A' });
        expect(await s.user('A')).toEqual({
          clientId: 1, nick: 'a', user: '~a', host: '10.0.0.1', realname: 'Alice A', server: 'irc.test',
          tls: true, away: null, account: null, modes: '', signonAt: T, lastActiveAt: T,
        });
        await s.setAccount(1, 'Alice');
        expect((await s.user('a'))?.account).toBe('Alice');
        await s.setAccount(1, null);
        expect((await s.user('a'))?.account).toBeNull();
        await s.setAway(1, 'gone: back at 5');
        await s.setUserModes(1, 'wi');
        await s.touch(1, T + 500);
        expect(await s.user('a')).toMatchObject({ away: 'gone: back at 5', modes: 'iw', lastActiveAt: T + 500 });
        await s.setAway(1, null);
        expect((await s.user('a'))?.away).toBeNull();
      });

      it('changes a realname (SETNAME) as WHOIS, WHO masks and WHOWAS see it', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a', { realname: 'Old Name' });
        await s.setRealname(1, 'New Name: with colon');
        expect((await s.user('A'))?.realname).toBe('New Name: with colon');
        expect((await s.findUsers('new name*')).map((u) => u.nick)).toEqual(['a']);
        expect(await s.findUsers('old*')).toEqual([]);
        await s.claimNick(1, 'a2', T + 1);
        expect((await s.whowas('a', 1))[0]?.realname).toBe('New Name: with colon');
      });

      it('changes the user@host of the registered user holding a nick (CHGHOST), answering the record before', async () => {
        const s = await fresh();
        await addUser(s, 1, 'Alice', { host: '10.0.0.1' });
        await s.claimNick(2, 'pending', T);
        const before = await s.setUserHost('ALICE', '~cloak', 'user/alice');
        expect(before).toMatchObject({ clientId: 1, nick: 'Alice', user: '~Alice', host: '10.0.0.1' });
        expect(await s.user('alice')).toMatchObject({ user: '~cloak', host: 'user/alice' });
        expect((await s.findUsers('alice!~cloak@user/*')).map((u) => u.nick)).toEqual(['Alice']);
        // A ban on the new mask now matches it.
        await s.join(1, '#x', join);
        await s.part(1, '#x');
        await addUser(s, 3, 'op');
        await s.join(3, '#x', join);
        await s.applyModes(3, '#x', [{ adding: true, mode: 'b', param: '*!*@user/alice' }], modes);
        expect(await s.join(1, '#x', join)).toEqual({ ok: false, reason: 'banned' });
        expect(await s.setUserHost('pending', 'u', 'h')).toBeNull();
        expect(await s.setUserHost('nobody', 'u', 'h')).toBeNull();
      });

      it('ignores updates for a client that is not there', async () => {
        const s = await fresh();
        await s.setAway(9, 'x');
        await s.setRealname(9, 'x');
        await s.setUserModes(9, 'i');
        await s.touch(9, T);
        expect(await s.counts()).toMatchObject({ users: 0, invisible: 0, unknown: 0 });
        expect(await s.removeUser(9, T)).toBeNull();
      });

      it('finds users by nick, nick!user@host, host, server or realname, folded', async () => {
        const s = await fresh();
        await addUser(s, 1, 'Alice', { host: '10.1.1.1', realname: 'Wonder Land' });
        await addUser(s, 2, 'bob', { host: 'host.example' });
        await s.claimNick(3, 'carol', T);
        const nicks = async (mask: string): Promise<string[]> => (await s.findUsers(mask)).map((u) => u.nick).sort();
        expect(await nicks('*')).toEqual(['Alice', 'bob']);
        expect(await nicks('ALICE')).toEqual(['Alice']);
        expect(await nicks('b?b!~bob@*')).toEqual(['bob']);
        expect(await nicks('*.example')).toEqual(['bob']);
        expect(await nicks('irc.TEST')).toEqual(['Alice', 'bob']);
        expect(await nicks('wonder*')).toEqual(['Alice']);
        expect(await nicks('carol')).toEqual([]);
      });
    });

    describe('joining', () => {
      it('reports whether a join created the channel, making the creator its operator', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        expect(await s.join(1, '#X', join)).toMatchObject({ ok: true, created: true, channel: { name: '#X', modes: { flags: 'nt' } } });
        expect(await s.join(2, '#x', join)).toMatchObject({ ok: true, created: false, channel: { name: '#X', memberCount: 2 } });
        expect(await s.membership('#x', 'A')).toEqual({ op: true, voice: false });
        expect(await s.membership('#x', 'b')).toEqual({ op: false, voice: false });
      });

      it('describes a new channel fully: creation time, no topic, only flag modes from createFlags', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        expect(await s.join(1, '#c', { ...join, createFlags: 'tnkx', at: T + 7 })).toEqual({
          ok: true,
          created: true,
          channel: { name: '#c', createdAt: T + 7, topic: null, modes: { flags: 'nt', key: null, limit: null }, memberCount: 1 },
        });
        expect(await s.channel('#C')).toEqual({ name: '#c', createdAt: T + 7, topic: null, modes: { flags: 'nt', key: null, limit: null }, memberCount: 1 });
      });

      it('checks bans, invite-only, key and limit in that order', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob');
        await s.join(1, '#c', join);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'i' }, { adding: true, mode: 'k', param: 'key' }, { adding: true, mode: 'l', param: '1' }, { adding: true, mode: 'b', param: 'bob!*@*' }], modes);
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'banned' });
        await s.applyModes(1, '#c', [{ adding: false, mode: 'b', param: 'bob!*@*' }], modes);
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'inviteOnly' });
        await s.invite(1, '#c', 'bob');
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'badKey' });
        expect(await s.join(2, '#c', { ...join, key: 'KEY' })).toEqual({ ok: false, reason: 'badKey' });
        expect(await s.join(2, '#c', { ...join, key: 'key' })).toEqual({ ok: false, reason: 'full' });
        await s.applyModes(1, '#c', [{ adding: false, mode: 'l' }], modes);
        expect(await s.join(2, '#c', { ...join, key: 'key' })).toMatchObject({ ok: true });
      });

      it('refuses a join past maxChannels and a second join to the same channel', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        expect((await s.join(1, '#1', { ...join, maxChannels: 1 })).ok).toBe(true);
        expect(await s.join(1, '#1', { ...join, maxChannels: 1 })).toEqual({ ok: false, reason: 'alreadyOn' });
        expect(await s.join(1, '#2', { ...join, maxChannels: 1 })).toEqual({ ok: false, reason: 'tooManyChannels' });
      });

      it('refuses to join a client that holds no nick', async () => {
        const s = await fresh();
        await expect(async () => s.join(1, '#c', join)).rejects.toThrow(/not a user/);
      });

      it('matches bans folded, with * and ? each taking one character', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'x[1]', { host: '10.0.0.2' });
        await addUser(s, 3, 'x[12]', { host: '10.0.0.3' });
        await s.join(1, '#c', join);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'b', param: 'X{?}!*@10.*' }], modes);
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'banned' });
        expect((await s.join(3, '#c', join)).ok).toBe(true);
      });

      it('matches a ban mask built to make backtracking explode, quickly', async () => {
        const s = await fresh();
        const long = 'a'.repeat(60);
        await addUser(s, 1, 'op');
        await addUser(s, 2, long, { host: long });
        await s.join(1, '#c', join);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'b', param: '*a*a*a*a*a*a*a*a*a*a*a*a*b' }], modes);
        const started = Date.now();
        expect((await s.join(2, '#c', join)).ok).toBe(true);
        expect(Date.now() - started).toBeLessThan(1_000);
      });

      it('lets an invite pass +i once: the join uses it up', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob');
        await s.join(1, '#c', join);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'i' }], modes);
        await s.invite(1, '#c', 'bob');
        expect((await s.join(2, '#c', join)).ok).toBe(true);
        await s.part(2, '#c');
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'inviteOnly' });
      });

      it('caps pending invites per channel, forgetting the oldest', async () => {
        const s = await fresh({ maxInvitesPerChannel: 2 });
        await addUser(s, 1, 'op');
        for (const [id, n] of [[2, 'i1'], [3, 'i2'], [4, 'i3']] as const) await addUser(s, id, n);
        await s.join(1, '#c', join);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'i' }], { maxBans: 1, setBy: 'op', at: T });
        for (const n of ['i1', 'i2', 'i3']) await s.invite(1, '#c', n);
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'inviteOnly' });
        expect((await s.join(3, '#c', join)).ok).toBe(true);
        expect((await s.join(4, '#c', join)).ok).toBe(true);
      });
    });

    describe('leaving', () => {
      it('lists local members by folded name, and forgets empty channels', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        await s.join(1, '#Room', join);
        await s.join(2, '#room', join);
        expect([...s.localMembers('#room')]).toEqual([1, 2]);
        await s.part(1, '#ROOM');
        expect(await s.kick(2, '#room', 'b')).toEqual({ ok: false, reason: 'notOp' });
        await s.part(2, '#Room');
        expect([...s.localMembers('#room')]).toEqual([]);
        expect(await s.channel('#room')).toBeNull();
        expect(await s.listChannels()).toEqual([]);
      });

      it('refuses to part a channel that does not exist or the client is not in', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        expect(await s.part(1, '#none')).toEqual({ ok: false, reason: 'noSuchChannel' });
        await s.join(1, '#Here', join);
        expect(await s.part(2, '#here')).toEqual({ ok: false, reason: 'notOn' });
        expect(await s.part(1, '#HERE')).toEqual({ ok: true, channel: '#Here' });
      });

      it('leaves every channel at once (JOIN 0), returning their display names', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        await s.join(1, '#One', join);
        await s.join(1, '#two', join);
        await s.join(2, '#two', join);
        expect(await s.partAll(1)).toEqual(['#One', '#two']);
        expect(await s.partAll(1)).toEqual([]);
        expect(await s.channel('#one')).toBeNull();
        expect(await s.channel('#two')).toMatchObject({ memberCount: 1 });
        expect([...s.localMembers('#two')]).toEqual([2]);
        expect(await s.partAll(9)).toEqual([]);
      });

      it('removes a user once: channels, nick, a WHOWAS entry', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        await s.join(1, '#x', join);
        await s.join(2, '#x', join);
        await s.join(1, '#y', join);
        expect(await s.removeUser(1, T + 1)).toEqual({ nick: 'a', channels: ['#x', '#y'], registered: true });
        expect(await s.removeUser(1, T + 2)).toBeNull();
        expect(await s.channel('#y')).toBeNull();
        expect((await s.channel('#x'))?.memberCount).toBe(1);
        expect([...s.localMembers('#x')]).toEqual([2]);
        expect(await s.whowas('A', 10)).toEqual([{ nick: 'a', user: '~a', host: '10.0.0.1', realname: 'a', server: 'irc.test', at: T + 1 }]);
        expect((await s.claimNick(3, 'A', T)).ok).toBe(true);
      });

      it('keeps a bounded WHOWAS ring, newest first', async () => {
        const s = await fresh({ whowasSize: 3 });
        await addUser(s, 1, 'n0');
        for (let i = 1; i <= 5; i++) await s.claimNick(1, `n${i}`, T + i);
        expect(await s.whowas('n0', 10)).toEqual([]);
        expect(await s.whowas('n1', 10)).toEqual([]);
        expect((await s.whowas('n4', 10)).map((e) => e.at)).toEqual([T + 5]);
        await s.claimNick(1, 'n2', T + 6);
        await s.claimNick(1, 'x', T + 7);
        expect((await s.whowas('n2', 10)).map((e) => e.at)).toEqual([T + 7]);
        expect(await s.whowas('n2', 1)).toHaveLength(1);
      });
    });

    describe('channel queries', () => {
      it('lists members in join order with their status and records', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        await addUser(s, 3, 'c');
        for (const id of [2, 1, 3]) await s.join(id, '#m', join);
        await s.applyModes(2, '#m', [{ adding: true, mode: 'v', param: 'C' }], modes);
        const members = await s.members('#M');
        expect(members.map((m) => [m.user.nick, m.op, m.voice])).toEqual([['b', true, false], ['a', false, false], ['c', false, true]]);
        expect(members[0]?.user).toMatchObject({ clientId: 2, user: '~b', host: '10.0.0.1' });
        expect(await s.members('#none')).toEqual([]);
        expect(await s.membership('#none', 'a')).toBeNull();
        expect(await s.membership('#m', 'nobody')).toBeNull();
      });

      it("lists a user's channels with status and secrecy, and none for an unknown nick", async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        await s.join(1, '#Open', join);
        await s.join(2, '#Hidden', join);
        await s.join(1, '#hidden', join);
        await s.applyModes(2, '#hidden', [{ adding: true, mode: 's' }], modes);
        expect(await s.channelsOf('A')).toEqual([
          { name: '#Open', secret: false, op: true, voice: false },
          { name: '#Hidden', secret: true, op: false, voice: false },
        ]);
        expect(await s.channelsOf('nobody')).toEqual([]);
      });

      it('lists every channel in creation order with its count, topic, secrecy and times', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b');
        await s.join(1, '#First', join);
        await s.join(2, '#second', { ...join, at: join.at + 60_000 });
        await s.join(1, '#second', join);
        await s.setTopic(1, '#first', { text: 'hello', setBy: 'a!~a@10.0.0.1', setAt: T + 5_000 });
        await s.applyModes(2, '#second', [{ adding: true, mode: 's' }], modes);
        expect(await s.listChannels()).toEqual([
          { name: '#First', memberCount: 1, topic: 'hello', secret: false, createdAt: join.at, topicSetAt: T + 5_000 },
          { name: '#second', memberCount: 2, topic: null, secret: true, createdAt: join.at + 60_000, topicSetAt: null },
        ]);
      });

      it('counts users, invisible users, unknown connections and channels', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await addUser(s, 2, 'b', { modes: 'i' });
        await addUser(s, 3, 'c');
        await s.claimNick(4, 'pending', T);
        await s.setUserModes(3, 'i');
        await s.join(1, '#x', join);
        expect(await s.counts()).toEqual({
          users: 3, invisible: 2, unknown: 1, operators: 0, channels: 1, servers: 1,
          localUsers: 3, maxLocalUsers: 3, globalUsers: 3, maxGlobalUsers: 3,
        });
        await s.removeUser(2, T);
        await s.setUserModes(3, '');
        await s.removeUser(4, T);
        await s.register(1, profile('a')); // registering again counts once
        expect(await s.counts()).toMatchObject({ users: 2, invisible: 0, unknown: 0, localUsers: 2, maxLocalUsers: 3, maxGlobalUsers: 3 });
      });

      it('keeps any text intact: UTF-8, quotes, backslashes, control codes', async () => {
        const s = await fresh();
        const realname = 'Zoë ☕ "q" \\ \x03';
        await addUser(s, 1, 'a', { realname });
        await s.join(1, '#Café', join);
        const text = 'héllo ☕ "quoted" \\ \x02bold\x02 {}[] \u{1F600}';
        expect(await s.setTopic(1, '#CAFé', { text, setBy: 'a!~a@10.0.0.1', setAt: T })).toEqual({ ok: true, channel: '#Café' });
        expect((await s.channel('#café'))?.topic?.text).toBe(text);
        expect((await s.user('a'))?.realname).toBe(realname);
        expect(await s.listChannels()).toEqual([{ name: '#Café', memberCount: 1, topic: text, secret: false, createdAt: join.at, topicSetAt: T }]);
        // '?' takes one character, however many bytes it has in UTF-8.
        expect((await s.findUsers('zo? ?*')).map((u) => u.nick)).toEqual(['a']);
        expect(await s.findUsers('zo?? ?*')).toEqual([]);
      });

      it('hands out copies that cannot change the state', async () => {
        const s = await fresh();
        await addUser(s, 1, 'a');
        await s.join(1, '#x', join);
        const rec = await s.user('a');
        if (rec) rec.nick = 'changed';
        const ch = await s.channel('#x');
        if (ch) ch.modes.flags = 'imnst';
        expect((await s.user('a'))?.nick).toBe('a');
        expect((await s.channel('#x'))?.modes.flags).toBe('nt');
      });
    });

    describe('operator actions', () => {
      it('lets only members set a topic, and only operators while +t', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob');
        await addUser(s, 3, 'out');
        const topic = { text: 'news', setBy: 'bob!~bob@10.0.0.1', setAt: T + 3 };
        expect(await s.setTopic(1, '#none', topic)).toEqual({ ok: false, reason: 'noSuchChannel' });
        await s.join(1, '#T', join);
        await s.join(2, '#t', join);
        expect(await s.setTopic(3, '#t', topic)).toEqual({ ok: false, reason: 'notOn' });
        expect(await s.setTopic(2, '#t', topic)).toEqual({ ok: false, reason: 'notOp' });
        await s.applyModes(1, '#t', [{ adding: false, mode: 't' }], modes);
        expect(await s.setTopic(2, '#t', topic)).toEqual({ ok: true, channel: '#T' });
        expect((await s.channel('#t'))?.topic).toEqual(topic);
        expect(await s.setTopic(1, '#t', null)).toEqual({ ok: true, channel: '#T' });
        expect((await s.channel('#t'))?.topic).toBeNull();
      });

      it('applies only the mode changes that change something, in the order asked', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await s.join(1, '#c', join);
        const result = await s.applyModes(1, '#C', [
          { adding: true, mode: 'n' },
          { adding: true, mode: 's' },
          { adding: true, mode: 'k', param: 'secret' },
          { adding: true, mode: 'k', param: 'secret' },
          { adding: true, mode: 'l', param: '05' },
          { adding: true, mode: 'l', param: '5' },
          { adding: true, mode: 'l', param: 'many' },
          { adding: true, mode: 'l', param: '0' },
          { adding: false, mode: 't' },
          { adding: false, mode: 'm' },
        ], modes);
        expect(result).toEqual({
          ok: true,
          channel: '#c',
          applied: [
            { adding: true, mode: 's' },
            { adding: true, mode: 'k', param: 'secret' },
            { adding: true, mode: 'l', param: '5' },
            { adding: false, mode: 't' },
          ],
          errors: [],
        });
        expect((await s.channel('#c'))?.modes).toEqual({ flags: 'ns', key: 'secret', limit: 5 });
        expect(await s.applyModes(1, '#c', [{ adding: false, mode: 'k', param: 'wrong' }, { adding: false, mode: 'k' }, { adding: false, mode: 'l' }, { adding: false, mode: 'l' }], modes)).toEqual({
          ok: true,
          channel: '#c',
          applied: [{ adding: false, mode: 'k', param: '*' }, { adding: false, mode: 'l' }],
          errors: [],
        });
        expect((await s.channel('#c'))?.modes).toEqual({ flags: 'ns', key: null, limit: null });
      });

      it('gives and takes op and voice by nick, reporting unknown nicks and non-members', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'Bob');
        await addUser(s, 3, 'Out');
        await s.claimNick(4, 'pending', T);
        await s.join(1, '#c', join);
        await s.join(2, '#c', join);
        expect(await s.applyModes(1, '#c', [
          { adding: true, mode: 'o', param: 'bob' },
          { adding: true, mode: 'o', param: 'BOB' },
          { adding: true, mode: 'v', param: 'bob' },
          { adding: true, mode: 'o', param: 'ghost' },
          { adding: true, mode: 'o', param: 'pending' },
          { adding: true, mode: 'v', param: 'out' },
          { adding: false, mode: 'o', param: 'op' },
        ], modes)).toEqual({
          ok: true,
          channel: '#c',
          applied: [
            { adding: true, mode: 'o', param: 'Bob' },
            { adding: true, mode: 'v', param: 'Bob' },
            { adding: false, mode: 'o', param: 'op' },
          ],
          errors: [
            { error: 'noSuchNick', mode: 'o', param: 'ghost' },
            { error: 'noSuchNick', mode: 'o', param: 'pending' },
            { error: 'notOnChannel', mode: 'v', param: 'Out' },
          ],
        });
        expect(await s.membership('#c', 'bob')).toEqual({ op: true, voice: true });
        expect(await s.applyModes(1, '#c', [{ adding: true, mode: 'm' }], modes)).toEqual({ ok: false, reason: 'notOp' });
        expect(await s.applyModes(1, '#none', [], modes)).toEqual({ ok: false, reason: 'noSuchChannel' });
      });

      it('keeps a ban list: no duplicates (folded), a cap, removal by any case', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await s.join(1, '#c', join);
        const o = { maxBans: 2, setBy: 'op', at: T + 9 };
        expect(await s.applyModes(1, '#c', [
          { adding: true, mode: 'b', param: 'A!*@*' },
          { adding: true, mode: 'b', param: 'a!*@*' },
          { adding: true, mode: 'b', param: 'b!*@*' },
          { adding: true, mode: 'b', param: 'c!*@*' },
        ], o)).toEqual({
          ok: true,
          channel: '#c',
          applied: [{ adding: true, mode: 'b', param: 'A!*@*' }, { adding: true, mode: 'b', param: 'b!*@*' }],
          errors: [{ error: 'listFull', mode: 'b', param: 'c!*@*' }],
        });
        expect((await s.maskLists('#C')).b).toEqual([
          { mask: 'A!*@*', setBy: 'op', setAt: T + 9 },
          { mask: 'b!*@*', setBy: 'op', setAt: T + 9 },
        ]);
        expect(await s.applyModes(1, '#c', [{ adding: false, mode: 'b', param: 'a!*@*' }, { adding: false, mode: 'b', param: 'zz!*@*' }], o)).toMatchObject({
          applied: [{ adding: false, mode: 'b', param: 'A!*@*' }],
        });
        expect((await s.maskLists('#c')).b.map((b) => b.mask)).toEqual(['b!*@*']);
        expect(await s.maskLists('#none')).toEqual({ b: [], e: [], I: [], q: [] });
      });

      it('keeps +e, +I and +q lists apart from the bans, each with its own cap', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await s.join(1, '#c', join);
        const o = { maxBans: 1, setBy: 'op', at: T + 3 };
        expect(await s.applyModes(1, '#c', [
          { adding: true, mode: 'b', param: 'x!*@*' },
          { adding: true, mode: 'e', param: 'x!*@*' },
          { adding: true, mode: 'I', param: 'X!*@*' },
          { adding: true, mode: 'q', param: 'q!*@*' },
          { adding: true, mode: 'q', param: 'Q!*@*' },
          { adding: true, mode: 'e', param: 'y!*@*' },
        ], o)).toEqual({
          ok: true,
          channel: '#c',
          applied: [
            { adding: true, mode: 'b', param: 'x!*@*' },
            { adding: true, mode: 'e', param: 'x!*@*' },
            { adding: true, mode: 'I', param: 'X!*@*' },
            { adding: true, mode: 'q', param: 'q!*@*' },
          ],
          errors: [{ error: 'listFull', mode: 'e', param: 'y!*@*' }],
        });
        const entry = (mask: string) => [{ mask, setBy: 'op', setAt: T + 3 }];
        expect(await s.maskLists('#C')).toEqual({ b: entry('x!*@*'), e: entry('x!*@*'), I: entry('X!*@*'), q: entry('q!*@*') });
        expect(await s.applyModes(1, '#c', [{ adding: false, mode: 'I', param: 'x!*@*' }, { adding: false, mode: 'q', param: 'x!*@*' }], o)).toMatchObject({
          applied: [{ adding: false, mode: 'I', param: 'X!*@*' }],
        });
        expect(await s.maskLists('#c')).toEqual({ b: entry('x!*@*'), e: entry('x!*@*'), I: [], q: entry('q!*@*') });
        // A channel that empties forgets its lists.
        await s.part(1, '#c');
        await s.join(1, '#c', join);
        expect(await s.maskLists('#c')).toEqual({ b: [], e: [], I: [], q: [] });
      });

      it('lets a +e mask past a ban and a +I mask past +i', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob', { host: 'good.example' });
        await addUser(s, 3, 'eve', { host: 'bad.example' });
        await s.join(1, '#c', join);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'b', param: '*!*@*.example' }, { adding: true, mode: 'e', param: '*!*@good.*' }], modes);
        expect(await s.join(3, '#c', join)).toEqual({ ok: false, reason: 'banned' });
        expect((await s.join(2, '#c', join)).ok).toBe(true);
        await s.part(2, '#c');
        await s.applyModes(1, '#c', [{ adding: false, mode: 'b', param: '*!*@*.example' }, { adding: true, mode: 'i' }, { adding: true, mode: 'I', param: 'BOB!*@*' }], modes);
        expect(await s.join(3, '#c', join)).toEqual({ ok: false, reason: 'inviteOnly' });
        expect((await s.join(2, '#c', join)).ok).toBe(true);
        // +I does not pass a ban: only +e does.
        await s.part(2, '#c');
        await s.applyModes(1, '#c', [{ adding: true, mode: 'b', param: 'bob!*@*' }, { adding: false, mode: 'e', param: '*!*@good.*' }], modes);
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'banned' });
      });

      it('decides who may speak in a channel in one step: +n, +m, +M, bans and quiets, +e, ops and voice', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob', { host: 'bad.example' });
        await addUser(s, 3, 'eve');
        await s.join(1, '#c', join);
        await s.join(2, '#c', join);
        const as = (id: number, nick: string, host = '10.0.0.1', loggedIn = false) => ({ clientId: id, mask: `${nick}!~${nick}@${host}`, loggedIn });
        const verdict = async (speaker: ReturnType<typeof as>) => (await s.speakIn('#C', speaker))?.allowed;
        expect(await s.speakIn('#none', as(2, 'bob'))).toBeNull();
        // The channel and the speaker's status come with the verdict (+nt from its creation).
        expect(await s.speakIn('#c', as(1, 'op'))).toMatchObject({ channel: { name: '#c', modes: { flags: 'nt' } }, membership: { op: true, voice: false }, allowed: true });
        expect(await s.speakIn('#c', as(3, 'eve'))).toMatchObject({ membership: null, allowed: false });
        expect(await verdict(as(2, 'bob', 'bad.example'))).toBe(true);
        await s.applyModes(1, '#c', [{ adding: false, mode: 'n' }], modes);
        expect(await verdict(as(3, 'eve'))).toBe(true);
        // Banned or quieted (folded masks), unless excepted; ops and voiced members always.
        await s.applyModes(1, '#c', [{ adding: true, mode: 'q', param: '*!*@BAD.example' }], modes);
        expect(await verdict(as(2, 'bob', 'bad.example'))).toBe(false);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'e', param: 'bob!*@*' }], modes);
        expect(await verdict(as(2, 'bob', 'bad.example'))).toBe(true);
        await s.applyModes(1, '#c', [{ adding: false, mode: 'e', param: 'bob!*@*' }, { adding: true, mode: 'v', param: 'bob' }], modes);
        expect(await verdict(as(2, 'bob', 'bad.example'))).toBe(true);
        // +m: only ops and voice; +M: not without an account.
        await s.applyModes(1, '#c', [{ adding: true, mode: 'm' }], modes);
        expect(await verdict(as(3, 'eve', '10.0.0.1', true))).toBe(false);
        expect(await verdict(as(2, 'bob', 'bad.example'))).toBe(true);
        await s.applyModes(1, '#c', [{ adding: false, mode: 'm' }, { adding: true, mode: 'M' }], modes);
        expect(await verdict(as(3, 'eve'))).toBe(false);
        expect(await verdict(as(3, 'eve', '10.0.0.1', true))).toBe(true);
      });

      it('lets only logged-in users join a +R channel, after the other checks, unless invited or on +I', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'guest');
        await addUser(s, 3, 'member');
        await addUser(s, 4, 'friend');
        await s.join(1, '#c', join);
        expect(await s.applyModes(1, '#c', [{ adding: true, mode: 'R' }, { adding: true, mode: 'M' }, { adding: true, mode: 'k', param: 'pw' }], modes)).toMatchObject({
          applied: [{ adding: true, mode: 'R' }, { adding: true, mode: 'M' }, { adding: true, mode: 'k', param: 'pw' }],
        });
        expect((await s.channel('#c'))?.modes.flags).toBe('MRnt');
        expect(await s.join(2, '#c', join)).toEqual({ ok: false, reason: 'badKey' });
        expect(await s.join(2, '#c', { ...join, key: 'pw' })).toEqual({ ok: false, reason: 'needsAccount' });
        await s.setAccount(3, 'Member');
        expect((await s.join(3, '#c', { ...join, key: 'pw' })).ok).toBe(true);
        await s.invite(1, '#c', 'guest');
        expect((await s.join(2, '#c', { ...join, key: 'pw' })).ok).toBe(true);
        await s.applyModes(1, '#c', [{ adding: true, mode: 'I', param: 'friend!*@*' }], modes);
        expect((await s.join(4, '#c', { ...join, key: 'pw' })).ok).toBe(true);
        await s.setAccount(3, null);
        await s.part(3, '#c');
        expect(await s.join(3, '#c', { ...join, key: 'pw' })).toEqual({ ok: false, reason: 'needsAccount' });
      });

      it('lets a member invite a registered user who is not in the channel (an op while +i)', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob');
        await addUser(s, 3, 'Guest');
        await s.claimNick(4, 'pending', T);
        expect(await s.invite(1, '#c', 'pending')).toEqual({ ok: false, reason: 'noSuchNick' });
        expect(await s.invite(1, '#c', 'guest')).toEqual({ ok: false, reason: 'noSuchChannel' });
        await s.join(1, '#C', join);
        expect(await s.invite(2, '#c', 'guest')).toEqual({ ok: false, reason: 'notOn' });
        await s.join(2, '#c', join);
        expect(await s.invite(1, '#c', 'bob')).toEqual({ ok: false, reason: 'alreadyOn' });
        expect(await s.invite(2, '#c', 'guest')).toMatchObject({ ok: true, channel: '#C', target: { nick: 'Guest', clientId: 3 } });
        await s.applyModes(1, '#c', [{ adding: true, mode: 'i' }], modes);
        expect(await s.invite(2, '#c', 'guest')).toEqual({ ok: false, reason: 'notOp' });
      });

      it('lets only an operator kick, and only a member', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'Bob');
        await addUser(s, 3, 'out');
        expect(await s.kick(1, '#c', 'bob')).toEqual({ ok: false, reason: 'noSuchChannel' });
        await s.join(1, '#C', join);
        await s.join(2, '#c', join);
        expect(await s.kick(3, '#c', 'bob')).toEqual({ ok: false, reason: 'notOn' });
        expect(await s.kick(2, '#c', 'op')).toEqual({ ok: false, reason: 'notOp' });
        expect(await s.kick(1, '#c', 'ghost')).toEqual({ ok: false, reason: 'noSuchNick' });
        expect(await s.kick(1, '#c', 'out')).toEqual({ ok: false, reason: 'targetNotOn' });
        expect(await s.kick(1, '#c', 'BOB')).toMatchObject({ ok: true, channel: '#C', target: { nick: 'Bob', clientId: 2 } });
        expect(await s.membership('#c', 'bob')).toBeNull();
        expect([...s.localMembers('#c')]).toEqual([1]);
        expect(await s.kick(1, '#c', 'op')).toMatchObject({ ok: true });
        expect(await s.channel('#c')).toBeNull();
        expect([...s.localMembers('#c')]).toEqual([]);
      });
    });

    describe('renaming a channel', () => {
      const at = (ms: number) => ({ at: T + ms, cooldownMs: 1_000 });

      it('moves members in join order with op/voice, topic, modes, bans and invites to the new name', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob');
        await addUser(s, 3, 'carol');
        await addUser(s, 4, 'guest');
        await s.join(1, '#old', join);
        await s.join(2, '#old', join);
        await s.join(3, '#old', join);
        await s.join(1, '#other', join);
        const topic = { text: 'news', setBy: 'op!~op@10.0.0.1', setAt: T + 1 };
        await s.setTopic(1, '#old', topic);
        await s.applyModes(1, '#old', [
          { adding: true, mode: 'v', param: 'bob' },
          { adding: true, mode: 'k', param: 'key' },
          { adding: true, mode: 'l', param: '9' },
          { adding: true, mode: 'i' },
          { adding: true, mode: 'b', param: 'bad!*@*' },
          { adding: true, mode: 'e', param: 'good!*@*' },
          { adding: true, mode: 'I', param: 'friend!*@*' },
          { adding: true, mode: 'q', param: 'loud!*@*' },
        ], modes);
        await s.invite(1, '#old', 'guest');
        const before = await s.channel('#old');

        const result = await s.renameChannel(1, '#OLD', '#New', at(10));
        expect(result).toEqual({ ok: true, from: '#old', channel: { ...before, name: '#New' }, members: [1, 2, 3] });
        expect(await s.channel('#old')).toBeNull();
        expect(await s.members('#old')).toEqual([]);
        expect(await s.maskLists('#old')).toEqual({ b: [], e: [], I: [], q: [] });
        expect((await s.members('#new')).map((m) => [m.user.nick, m.op, m.voice])).toEqual([['op', true, false], ['bob', false, true], ['carol', false, false]]);
        expect(await s.channel('#new')).toEqual({ ...before, name: '#New' });
        // Every mask list moved with it.
        const lists = await s.maskLists('#new');
        expect(Object.fromEntries(Object.entries(lists).map(([mode, l]) => [mode, l.map((b) => b.mask)]))).toEqual({
          b: ['bad!*@*'],
          e: ['good!*@*'],
          I: ['friend!*@*'],
          q: ['loud!*@*'],
        });
        expect([...s.localMembers('#new')]).toEqual([1, 2, 3]);
        expect([...s.localMembers('#old')]).toEqual([]);
        expect(await s.membership('#NEW', 'bob')).toEqual({ op: false, voice: true });
        // Each member's channels follow, in their order; LIST keeps the channel in its place.
        expect((await s.channelsOf('op')).map((c) => c.name)).toEqual(['#New', '#other']);
        expect((await s.listChannels()).map((c) => c.name)).toEqual(['#New', '#other']);
        // The pending invite moved too: guest passes +i (the key is still needed).
        expect(await s.join(4, '#new', { ...join, key: 'key' })).toMatchObject({ ok: true });
        // The old name is free again, as a new channel.
        expect(await s.join(2, '#old', join)).toMatchObject({ ok: true, created: true });
        // Leaving the renamed channel leaves it, not the old name.
        expect(await s.part(3, '#new')).toEqual({ ok: true, channel: '#New' });
      });

      it('refuses a missing channel, a non-member, a non-operator and a name another channel holds', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await addUser(s, 2, 'bob');
        await addUser(s, 3, 'out');
        expect(await s.renameChannel(1, '#none', '#x', at(0))).toEqual({ ok: false, reason: 'noSuchChannel' });
        await s.join(1, '#a', join);
        await s.join(2, '#a', join);
        await s.join(2, '#b', join);
        expect(await s.renameChannel(3, '#a', '#x', at(0))).toEqual({ ok: false, reason: 'notOn' });
        expect(await s.renameChannel(2, '#a', '#x', at(0))).toEqual({ ok: false, reason: 'notOp' });
        expect(await s.renameChannel(1, '#a', '#B', at(0))).toEqual({ ok: false, reason: 'nameInUse' });
        expect((await s.members('#a')).length).toBe(2);
        expect((await s.members('#b')).length).toBe(1);
      });

      it('allows a change of case only, and starts a cooldown checked in the same step', async () => {
        const s = await fresh();
        await addUser(s, 1, 'op');
        await s.join(1, '#chan', join);
        expect(await s.renameChannel(1, '#chan', '#CHAN', at(0))).toMatchObject({ ok: true, from: '#chan', channel: { name: '#CHAN' }, members: [1] });
        expect([...s.localMembers('#chan')]).toEqual([1]);
        expect(await s.renameChannel(1, '#chan', '#other', at(999))).toEqual({ ok: false, reason: 'renamedRecently' });
        expect(await s.renameChannel(1, '#chan', '#other', at(1_000))).toMatchObject({ ok: true, from: '#CHAN', channel: { name: '#other' } });
        expect(await s.renameChannel(1, '#other', '#third', at(1_500))).toEqual({ ok: false, reason: 'renamedRecently' });
      });
    });
  });
}
