// Three real IRC clients (irc-framework) on real sockets against the server under test: they
// register, share a channel, talk, change nicks, set the topic, leave. Each assertion is what one
// client received, in order where IRC promises order (one server relays in the order it handles).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type IrcTarget, type TestClient } from './clients.js';
import { startIrcTestServer } from '../helpers.js';

/** The server under test: ours, in IRC mode, on a free port. */
async function startIrc(): Promise<IrcTarget> {
  const server = await startIrcTestServer();
  return { port: server.port, stop: () => server.stop() };
}

let target: IrcTarget;
const open: TestClient[] = [];

beforeAll(async () => {
  target = await startIrc();
});

afterAll(async () => {
  await target?.stop();
});

afterEach(async () => {
  // Quit whoever is still connected, so the next test finds its nicks free.
  await Promise.all(open.splice(0).map((c) => c.quit('test over').catch(() => c.destroy())));
});

async function client(nick: string, options: { echoMessage?: boolean } = {}): Promise<TestClient> {
  const c = await connectClient({ port: target.port, nick, ...options });
  open.push(c);
  return c;
}

/** alice, bob and carol connected and joined to `channel` in that order (alice first: @). */
async function room(channel: string): Promise<[TestClient, TestClient, TestClient]> {
  const [alice, bob, carol] = await Promise.all([client('alice'), client('bob'), client('carol')]);
  await alice.join(channel);
  await bob.join(channel);
  await alice.waitFor('join', (e) => e.nick === 'bob');
  await carol.join(channel);
  await alice.waitFor('join', (e) => e.nick === 'carol');
  await bob.waitFor('join', (e) => e.nick === 'carol');
  return [alice, bob, carol];
}

/** Resolves once every client given has received a PRIVMSG with this text. */
const allGot = (text: string, ...clients: TestClient[]) =>
  Promise.all(clients.map((c) => c.waitFor('message', (e) => e.type === 'privmsg' && e.message === text)));

describe('irc-framework clients', () => {
  it('register, join one channel and list everyone, the first joiner as operator', async () => {
    const [alice, bob, carol] = await room('#names');
    const names = (c: TestClient) =>
      c.eventsNamed('userlist').filter((e) => e.channel === '#names').at(-1)?.users.map((u: { nick: string; modes: string[] }) => `${u.modes.includes('o') ? '@' : ''}${u.nick}`).sort();
    expect(names(alice)).toEqual(['@alice']);
    expect(names(bob)).toEqual(['@alice', 'bob']);
    expect(names(carol)).toEqual(['@alice', 'bob', 'carol']);
    // Each sees its own JOIN, then the later joiners', in join order; irc-framework enables
    // extended-join, so each JOIN carries the account (`*`: none) and the realname.
    expect(alice.transcript()).toEqual(['alice JOIN #names * alice (irc-framework)', 'bob JOIN #names * bob (irc-framework)', 'carol JOIN #names * carol (irc-framework)']);
    expect(bob.transcript()).toEqual(['bob JOIN #names * bob (irc-framework)', 'carol JOIN #names * carol (irc-framework)']);
    expect(carol.transcript()).toEqual(['carol JOIN #names * carol (irc-framework)']);
    // An explicit NAMES gives the same list.
    const listed = carol.waitForNext('userlist', (e) => e.channel === '#names');
    carol.irc.raw('NAMES', '#names');
    await listed;
    expect(names(carol)).toEqual(['@alice', 'bob', 'carol']);
  });

  it('relays each PRIVMSG exactly to the others and not back to its sender', async () => {
    const [alice, bob, carol] = await room('#talk');
    alice.say('#talk', 'hello from alice');
    await allGot('hello from alice', bob, carol);
    bob.say('#talk', 'hi alice: UTF-8 ✓ and  two  spaces');
    await allGot('hi alice: UTF-8 ✓ and  two  spaces', alice, carol);
    carol.say('#talk', ':starts with a colon');
    await allGot(':starts with a colon', alice, bob);

    expect(alice.transcript()).toEqual([
      'alice JOIN #talk * alice (irc-framework)', 'bob JOIN #talk * bob (irc-framework)', 'carol JOIN #talk * carol (irc-framework)',
      'bob PRIVMSG #talk :hi alice: UTF-8 ✓ and  two  spaces',
      'carol PRIVMSG #talk ::starts with a colon',
    ]);
    expect(bob.transcript()).toEqual([
      'bob JOIN #talk * bob (irc-framework)', 'carol JOIN #talk * carol (irc-framework)',
      'alice PRIVMSG #talk :hello from alice',
      'carol PRIVMSG #talk ::starts with a colon',
    ]);
    expect(carol.transcript()).toEqual([
      'carol JOIN #talk * carol (irc-framework)',
      'alice PRIVMSG #talk :hello from alice',
      'bob PRIVMSG #talk :hi alice: UTF-8 ✓ and  two  spaces',
    ]);
    // The raw line carries the sender's full source.
    expect(carol.received()).toContainEqual(expect.stringMatching(/^:alice!~?alice@\S+ PRIVMSG #talk :hello from alice$/));
  });

  it('echoes a PRIVMSG to its sender only when echo-message was requested and acknowledged', async () => {
    const echo = await client('echo', { echoMessage: true });
    const plain = await client('plain');
    await echo.join('#echo');
    await plain.join('#echo');
    await echo.waitFor('join', (e) => e.nick === 'plain');
    echo.say('#echo', 'said with echo-message');
    await plain.waitFor('message', (e) => e.message === 'said with echo-message');
    plain.say('#echo', 'marker');
    // Whatever the sender gets back arrives before the next line it is sent.
    await echo.waitFor('message', (e) => e.message === 'marker');
    // This server offers echo-message: the cap must have been acknowledged, and the echo come.
    expect(echo.irc.network.cap.isEnabled('echo-message')).toBe(true);
    expect(echo.transcript().filter((l) => l.startsWith('echo PRIVMSG'))).toEqual(['echo PRIVMSG #echo :said with echo-message']);
    // The client that did not ask gets nothing of its own back: an echo of its marker would
    // have reached it before this later line, on the same connection.
    echo.say('#echo', 'after the marker');
    await plain.waitFor('message', (e) => e.message === 'after the marker');
    expect(plain.transcript().filter((l) => l.startsWith('plain PRIVMSG'))).toEqual([]);
  });

  it('shows a nick change to everyone in the channel, once each', async () => {
    const [alice, bob, carol] = await room('#nicks');
    await bob.changeNick('robert');
    await Promise.all([alice, carol].map((c) => c.waitFor('nick', (e) => e.nick === 'bob' && e.new_nick === 'robert')));
    for (const c of [alice, bob, carol]) {
      expect(c.transcript().filter((l) => l.includes(' NICK '))).toEqual(['bob NICK robert']);
    }
    // The new nick is the one that talks now.
    bob.say('#nicks', 'call me robert');
    await allGot('call me robert', alice, carol);
    expect(alice.transcript().at(-1)).toBe('robert PRIVMSG #nicks :call me robert');
  });

  it('relays PART with its reason to the channel and to the one leaving', async () => {
    const [alice, bob, carol] = await room('#parts');
    await carol.part('#parts', 'off to lunch, back soon');
    await Promise.all([alice, bob].map((c) => c.waitFor('part', (e) => e.nick === 'carol')));
    for (const c of [alice, bob, carol]) {
      expect(c.transcript().at(-1)).toBe('carol PART #parts :off to lunch, back soon');
    }
    // Gone means gone: carol hears nothing more from the channel.
    alice.say('#parts', 'after carol left');
    await bob.waitFor('message', (e) => e.message === 'after carol left');
    bob.say('carol', 'direct line');
    await carol.waitFor('message', (e) => e.message === 'direct line');
    expect(carol.transcript().filter((l) => l.includes('after carol left'))).toEqual([]);
  });

  it('relays QUIT with its reason to those sharing a channel, and to no one else', async () => {
    const [alice, bob, carol] = await room('#quits');
    await carol.part('#quits', 'leaving first');
    await bob.waitFor('part', (e) => e.nick === 'carol');
    await bob.quit('gone fishing');
    open.splice(open.indexOf(bob), 1);
    const seen = await alice.waitFor('quit', (e) => e.nick === 'bob');
    expect(seen.message).toBe('Quit: gone fishing');
    expect(alice.transcript().at(-1)).toBe('bob QUIT :Quit: gone fishing');
    // carol shares no channel with bob any more: a message sent after the QUIT reaches her, the
    // QUIT did not.
    alice.say('carol', 'still here?');
    await carol.waitFor('message', (e) => e.message === 'still here?');
    expect(carol.transcript().filter((l) => l.includes(' QUIT '))).toEqual([]);
    // The server closed bob's connection after his QUIT.
    expect(bob.eventsNamed('close')).toHaveLength(1);
  });

  it('delivers a private message to its one recipient only', async () => {
    const [alice, bob, carol] = await room('#private');
    alice.say('carol', 'just between us');
    const got = await carol.waitFor('message', (e) => e.message === 'just between us');
    expect(got).toMatchObject({ type: 'privmsg', nick: 'alice', target: 'carol' });
    expect(carol.transcript().at(-1)).toBe('alice PRIVMSG carol :just between us');
    // bob gets the channel line sent after it, and never the private one.
    alice.say('#private', 'now for everyone');
    await bob.waitFor('message', (e) => e.message === 'now for everyone');
    expect(bob.transcript().filter((l) => l.includes('PRIVMSG'))).toEqual(['alice PRIVMSG #private :now for everyone']);
    expect(alice.transcript().filter((l) => l.includes('PRIVMSG'))).toEqual([]);
  });

  it('sets a topic that everyone in the channel sees, and a later joiner is told', async () => {
    const [alice, bob, carol] = await room('#topics');
    await alice.setTopic('#topics', 'release on Friday: be ready');
    await Promise.all([bob, carol].map((c) => c.waitFor('topic', (e) => e.nick === 'alice' && e.topic === 'release on Friday: be ready')));
    for (const c of [alice, bob, carol]) {
      expect(c.transcript().at(-1)).toBe('alice TOPIC #topics :release on Friday: be ready');
    }
    const dave = await client('dave');
    await dave.join('#topics');
    // 332 RPL_TOPIC on joining.
    const told = await dave.waitFor('topic', (e) => e.channel === '#topics');
    expect(told.topic).toBe('release on Friday: be ready');
    expect(dave.received()).toContainEqual(expect.stringMatching(/^:\S+ 332 dave #topics :release on Friday: be ready$/));
  });
});
