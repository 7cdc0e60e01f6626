// What an always-on user missed (alwaysOn.ts replayMissed) as a handler: the harness's memory
// history and the process's test store, a fixed clock. Which messages are replayed, how many at
// most and in what order, and that the kept record forgets the time once replayed.
import { describe, expect, it } from 'vitest';
import { replayMissed } from '../../../src/irc/commands/alwaysOn.js';
import { Reply } from '../../../src/irc/commands/common.js';
import { withMember, type Client } from '../../../src/irc/commands/types.js';
import { harness, START, type Harness } from './harness.js';

const CAPS = ['batch', 'server-time', 'message-tags'];
const scram = { salt: 's', iterations: 1, storedKey: 'k', serverKey: 'k' };

async function loggedIn(h: Harness, nick: string): Promise<Client> {
  await h.ctx.store.createAccount(nick, { name: nick, email: null, registeredAt: START }, { passwordHash: 'x', scram });
  const c = await h.register(nick, { caps: CAPS });
  c.account = nick;
  await h.state.setAccount(c.id, nick);
  return c;
}

/** One message from `from`, a second after the last. */
async function say(h: Harness, from: Client, line: string): Promise<void> {
  h.clock.now += 1_000;
  await h.run(from, line);
}

/** What `replayMissed` sends `client` for `channels`, as wire lines. */
async function replay(h: Harness, client: Client, channels: string[]): Promise<string[]> {
  const r = new Reply(h.ctx, client);
  await replayMissed(h.ctx, client, r, channels);
  return h.resolve(client, r.outcome()).to(client);
}

const texts = (lines: string[]): string[] => lines.filter((l) => / PRIVMSG /.test(l)).map((l) => `${/ PRIVMSG (\S+)/.exec(l)![1]} ${l.slice(l.lastIndexOf(' :') + 2)}`);

describe('what an always-on user missed', () => {
  it('is the newest of it across channels and conversations, at most missedReplayMaxMessages, each target in order', async () => {
    const h = harness({ missedReplayMaxMessages: 4 });
    const una = await loggedIn(h, 'una');
    const vic = await loggedIn(h, 'vic');
    await h.run(una, 'JOIN #a');
    await h.run(una, 'JOIN #b');
    await h.run(vic, 'JOIN #a');
    await h.run(vic, 'JOIN #b');
    await h.ctx.store.setAlwaysOn('una', true);
    await say(h, vic, 'PRIVMSG #a :seen');
    const leftAt = h.clock.now + 1;
    await h.ctx.store.keepUser('una', { channels: ['#a', '#b'], user: '~una', host: 'h', realname: 'una', away: null, leftAt, kicks: [] });
    await say(h, vic, 'PRIVMSG #a :a1');
    await say(h, vic, 'PRIVMSG #b :b1');
    await say(h, vic, 'PRIVMSG una :d1');
    await say(h, vic, 'PRIVMSG #a :a2');
    await say(h, vic, 'PRIVMSG una :\x01VERSION\x01');
    await say(h, una, 'PRIVMSG #b :my own');
    await say(h, vic, 'PRIVMSG #b :b2');

    const lines = await replay(h, una, ['#a', '#b']);
    expect(lines[0]).toBe(':irc.test NOTICE una :Replaying the newest 4 messages you missed since 2023-11-14 22:13 UTC, when your last connection closed; the rest are in the history (a client with CHATHISTORY, or the web client).');
    // a1 is the oldest of five: left out. #b's first shown (b1) is older than the others' first.
    expect(texts(lines)).toEqual(['#b b1', '#b b2', 'una d1', '#a a2']);
    expect(lines.filter((l) => / BATCH \+/.test(l)).map((l) => l.slice(l.lastIndexOf(' ') + 1))).toEqual(['#b', 'vic', '#a']);

    // Replayed once: the kept record no longer says when it left.
    expect((await h.ctx.store.keptUser('una'))?.leftAt).toBeNull();
    expect(await replay(h, una, ['#a', '#b'])).toEqual([]);
  });

  it('is nothing for a client that asks for history itself, and the time it left is forgotten all the same', async () => {
    const h = harness();
    const wes = await loggedIn(h, 'wes');
    await h.ctx.store.setAlwaysOn('wes', true);
    const kept = { channels: [], user: '~wes', host: 'h', realname: 'wes', away: null, leftAt: START, kicks: [] };
    await h.ctx.store.keepUser('wes', kept);
    wes.caps = withMember(wes.caps, 'draft/chathistory');
    await h.run(wes, 'JOIN #w');
    const xia = await loggedIn(h, 'xia');
    await h.run(xia, 'JOIN #w');
    await say(h, xia, 'PRIVMSG #w :ask for it');
    expect(await replay(h, wes, ['#w'])).toEqual([]);
    expect((await h.ctx.store.keptUser('wes'))?.leftAt).toBeNull();
  });

  it('is nothing once the user has said SET AUTOREPLAY-MISSED OFF (a bot), and comes back with ON', async () => {
    const h = harness();
    const yan = await loggedIn(h, 'yan');
    const zed = await loggedIn(h, 'zed');
    await h.run(yan, 'JOIN #y');
    await h.run(zed, 'JOIN #y');
    await h.ctx.store.setAlwaysOn('yan', true);
    const notices = async (line: string) => (await h.run(yan, line)).to(yan).map((l) => l.slice(l.lastIndexOf(' :') + 2));
    expect(await notices('PRIVMSG NickServ :SET AUTOREPLAY-MISSED')).toEqual(['AUTOREPLAY-MISSED is ON. Syntax: SET AUTOREPLAY-MISSED ON|OFF']);
    expect(await notices('PRIVMSG NickServ :SET AUTOREPLAY-MISSED off')).toEqual(['AUTOREPLAY-MISSED is OFF: what you miss waits in the history; a client with CHATHISTORY can still fetch it.']);
    const away = { channels: ['#y'], user: '~yan', host: 'h', realname: 'yan', away: null, leftAt: h.clock.now + 1, kicks: [] };
    await h.ctx.store.keepUser('yan', away);
    await say(h, zed, 'PRIVMSG #y :!deploy');
    expect(await replay(h, yan, ['#y'])).toEqual([]);

    await notices('PRIVMSG NickServ :SET AUTOREPLAY-MISSED ON');
    await h.ctx.store.keepUser('yan', away);
    expect(texts(await replay(h, yan, ['#y']))).toEqual(['#y !deploy']);
  });
});
