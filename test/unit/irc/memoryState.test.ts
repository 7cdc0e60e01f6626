import { describe, expect, it } from 'vitest';
import { MemoryState } from '../../../src/irc/memoryState.js';
import type { UserProfile } from '../../../src/irc/state.js';

const T = 1_700_000_000_000;

function profile(user: string, host = '10.0.0.1'): UserProfile {
  return { user: `~${user}`, host, realname: user, server: 'irc.test', tls: false, modes: '', signonAt: T };
}

function user(state: MemoryState, id: number, nick: string): void {
  expect(state.claimNick(id, nick, T).ok).toBe(true);
  state.register(id, profile(nick));
}

const join = { key: null, maxChannels: 10, createFlags: 'nt', at: T };

describe('MemoryState', () => {
  it('gives a nick to exactly one claimant, folded', () => {
    const s = new MemoryState();
    expect(s.claimNick(1, 'Nick[1]', T)).toEqual({ ok: true, previous: null, channels: [] });
    expect(s.claimNick(2, 'nick{1}', T)).toEqual({ ok: false });
    expect(s.claimNick(1, 'NICK{1}', T)).toEqual({ ok: true, previous: 'Nick[1]', channels: [] });
  });

  it('releases the previous nick in the same step as the claim', () => {
    const s = new MemoryState();
    s.claimNick(1, 'a', T);
    s.claimNick(1, 'b', T);
    expect(s.claimNick(2, 'a', T).ok).toBe(true);
    expect(s.claimNick(2, 'b', T).ok).toBe(false);
  });

  it('does not show unregistered nick holders as users', () => {
    const s = new MemoryState();
    s.claimNick(1, 'pending', T);
    expect(s.user('pending')).toBeNull();
    expect(s.counts()).toMatchObject({ users: 0, unknown: 1 });
  });

  it('reports whether a join created the channel, making the creator its operator', () => {
    const s = new MemoryState();
    user(s, 1, 'a');
    user(s, 2, 'b');
    expect(s.join(1, '#X', join)).toMatchObject({ ok: true, created: true, channel: { name: '#X', modes: { flags: 'nt' } } });
    expect(s.join(2, '#x', join)).toMatchObject({ ok: true, created: false, channel: { name: '#X', memberCount: 2 } });
    expect(s.membership('#x', 'A')).toEqual({ op: true, voice: false });
    expect(s.membership('#x', 'b')).toEqual({ op: false, voice: false });
  });

  it('checks bans, invite-only, key and limit in that order', () => {
    const s = new MemoryState();
    user(s, 1, 'op');
    user(s, 2, 'bob');
    s.join(1, '#c', join);
    const modes = { maxBans: 10, setBy: 'op', at: T };
    s.applyModes(1, '#c', [{ adding: true, mode: 'i' }, { adding: true, mode: 'k', param: 'key' }, { adding: true, mode: 'l', param: '1' }, { adding: true, mode: 'b', param: 'bob!*@*' }], modes);
    expect(s.join(2, '#c', join)).toEqual({ ok: false, reason: 'banned' });
    s.applyModes(1, '#c', [{ adding: false, mode: 'b', param: 'bob!*@*' }], modes);
    expect(s.join(2, '#c', join)).toEqual({ ok: false, reason: 'inviteOnly' });
    s.invite(1, '#c', 'bob');
    expect(s.join(2, '#c', join)).toEqual({ ok: false, reason: 'badKey' });
    expect(s.join(2, '#c', { ...join, key: 'key' })).toEqual({ ok: false, reason: 'full' });
    s.applyModes(1, '#c', [{ adding: false, mode: 'l' }], modes);
    expect(s.join(2, '#c', { ...join, key: 'key' })).toMatchObject({ ok: true });
  });

  it('refuses a join past maxChannels and a second join to the same channel', () => {
    const s = new MemoryState();
    user(s, 1, 'a');
    expect(s.join(1, '#1', { ...join, maxChannels: 1 }).ok).toBe(true);
    expect(s.join(1, '#1', { ...join, maxChannels: 1 })).toEqual({ ok: false, reason: 'alreadyOn' });
    expect(s.join(1, '#2', { ...join, maxChannels: 1 })).toEqual({ ok: false, reason: 'tooManyChannels' });
  });

  it('lists local members by folded name, and forgets empty channels', () => {
    const s = new MemoryState();
    user(s, 1, 'a');
    user(s, 2, 'b');
    s.join(1, '#Room', join);
    s.join(2, '#room', join);
    expect([...s.localMembers('#room')]).toEqual([1, 2]);
    s.part(1, '#ROOM');
    expect(s.kick(2, '#room', 'b')).toEqual({ ok: false, reason: 'notOp' });
    s.part(2, '#Room');
    expect([...s.localMembers('#room')]).toEqual([]);
    expect(s.channel('#room')).toBeNull();
    expect(s.listChannels()).toEqual([]);
  });

  it('removes a user once: channels, nick, a WHOWAS entry', () => {
    const s = new MemoryState();
    user(s, 1, 'a');
    user(s, 2, 'b');
    s.join(1, '#x', join);
    s.join(2, '#x', join);
    s.join(1, '#y', join);
    expect(s.removeUser(1, T + 1)).toEqual({ nick: 'a', channels: ['#x', '#y'] });
    expect(s.removeUser(1, T + 2)).toBeNull();
    expect(s.channel('#y')).toBeNull();
    expect(s.channel('#x')?.memberCount).toBe(1);
    expect(s.whowas('A', 10)).toEqual([{ nick: 'a', user: '~a', host: '10.0.0.1', realname: 'a', server: 'irc.test', at: T + 1 }]);
  });

  it('keeps a bounded WHOWAS ring, newest first', () => {
    const s = new MemoryState({ whowasSize: 3 });
    user(s, 1, 'n0');
    for (let i = 1; i <= 5; i++) s.claimNick(1, `n${i}`, T + i);
    expect(s.whowas('n0', 10)).toEqual([]);
    expect(s.whowas('n1', 10)).toEqual([]);
    expect(s.whowas('n4', 10).map((e) => e.at)).toEqual([T + 5]);
    s.claimNick(1, 'n2', T + 6);
    s.claimNick(1, 'x', T + 7);
    expect(s.whowas('n2', 10).map((e) => e.at)).toEqual([T + 7]);
    expect(s.whowas('n2', 1)).toHaveLength(1);
  });

  it('caps pending invites per channel, forgetting the oldest', () => {
    const s = new MemoryState({ maxInvitesPerChannel: 2 });
    user(s, 1, 'op');
    for (const [id, n] of [[2, 'i1'], [3, 'i2'], [4, 'i3']] as const) user(s, id, n);
    s.join(1, '#c', join);
    s.applyModes(1, '#c', [{ adding: true, mode: 'i' }], { maxBans: 1, setBy: 'op', at: T });
    for (const n of ['i1', 'i2', 'i3']) s.invite(1, '#c', n);
    expect(s.join(2, '#c', join)).toEqual({ ok: false, reason: 'inviteOnly' });
    expect(s.join(3, '#c', join).ok).toBe(true);
    expect(s.join(4, '#c', join).ok).toBe(true);
  });

  it('hands out copies that cannot change the state', () => {
    const s = new MemoryState();
    user(s, 1, 'a');
    s.join(1, '#x', join);
    const rec = s.user('a');
    if (rec) rec.nick = 'changed';
    const ch = s.channel('#x');
    if (ch) ch.modes.flags = 'imnst';
    expect(s.user('a')?.nick).toBe('a');
    expect(s.channel('#x')?.modes.flags).toBe('nt');
  });
});
