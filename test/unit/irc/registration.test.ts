import { describe, expect, it } from 'vitest';
import { isupportTokens } from '../../../src/irc/commands/table.js';
import { MAX_LINE_BYTES, supportedCaps } from '../../../src/irc/commands/common.js';
import { harness, START } from './harness.js';

describe('dispatch', () => {
  it('answers an unknown command with 421, as the client spelled it', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const r = await h.run(alice, 'frobnicate x');
    expect(r.lines).toEqual(['alice <- :irc.test 421 alice frobnicate :Unknown command']);
  });

  it('treats inherited object keys as unknown commands', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'constructor')).commands(alice)).toEqual(['421']);
    expect((await h.run(alice, '__proto__')).commands(alice)).toEqual(['421']);
  });

  it('answers too few parameters with 461 before the handler runs', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'kick #a')).lines).toEqual(['alice <- :irc.test 461 alice KICK :Not enough parameters']);
    expect((await h.run(alice, 'JOIN')).lines).toEqual(['alice <- :irc.test 461 alice JOIN :Not enough parameters']);
  });

  it('upper-cases the command before looking it up', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'ping tok')).lines).toEqual(['alice <- :irc.test PONG irc.test tok']);
  });

  it('counts commands other than PING and PONG as activity, in the client and the state', async () => {
    const h = harness();
    const alice = await h.register('alice');
    h.clock.now = START + 5_000;
    await h.run(alice, 'PING x');
    await h.run(alice, 'PONG x');
    expect(alice.lastActiveAt).toBe(START);
    expect(h.state.user('alice')?.lastActiveAt).toBe(START);
    await h.run(alice, 'AWAY');
    expect(alice.lastActiveAt).toBe(START + 5_000);
    expect(h.state.user('alice')?.lastActiveAt).toBe(START + 5_000);
  });
});

describe('CAP', () => {
  it('lists the capabilities and holds registration open', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'CAP LS');
    expect(r.lines).toEqual(['#1 <- :irc.test CAP * LS :account-notify account-tag away-notify batch cap-notify chghost draft/account-registration draft/channel-rename draft/chathistory draft/event-playback draft/message-redaction draft/multiline draft/read-marker echo-message extended-join extended-monitor invite-notify labeled-response message-tags multi-prefix sasl server-time setname userhost-in-names']);
    expect(r.effects).toEqual([{ type: 'irc.capHeld' }]);
    expect(c.capVersion).toBe(0);
  });

  it('CAP LS 302 records the version and implies cap-notify', async () => {
    const h = harness();
    const c = h.connect();
    await h.run(c, 'CAP LS 302');
    expect(c.capVersion).toBe(302);
    expect([...c.caps]).toEqual(['cap-notify']);
  });

  it('acknowledges a request when every capability is offered, and enables them', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'CAP REQ :multi-prefix echo-message');
    expect(r.lines).toEqual(['#1 <- :irc.test CAP * ACK :multi-prefix echo-message']);
    expect(r.effects).toEqual([{ type: 'irc.capHeld' }]);
    expect([...c.caps].sort()).toEqual(['echo-message', 'multi-prefix']);
  });

  it('refuses the whole request when one capability is unknown', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'CAP REQ :multi-prefix no-such-cap');
    expect(r.lines).toEqual(['#1 <- :irc.test CAP * NAK :multi-prefix no-such-cap']);
    expect(c.caps.size).toBe(0);
  });

  it('disables a capability requested with a minus', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['server-time', 'echo-message'] });
    const r = await h.run(alice, 'CAP REQ -server-time');
    expect(r.lines).toEqual(['alice <- :irc.test CAP alice ACK -server-time']);
    expect([...alice.caps]).toEqual(['echo-message']);
  });

  it('will not turn off cap-notify once CAP LS 302 implied it', async () => {
    const h = harness();
    const c = h.connect();
    await h.run(c, 'CAP LS 302');
    expect((await h.run(c, 'CAP REQ -cap-notify')).lines).toEqual(['#1 <- :irc.test CAP * NAK -cap-notify']);
  });

  it('lists the enabled capabilities', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['server-time', 'multi-prefix'] });
    expect((await h.run(alice, 'CAP LIST')).lines).toEqual(['alice <- :irc.test CAP alice LIST :multi-prefix server-time']);
  });

  it('CAP END ends the hold before registration, and is silent', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'CAP END');
    expect(r.lines).toEqual([]);
    expect(r.effects).toEqual([{ type: 'irc.capEnded' }]);
  });

  it('works after registration without telling the machine anything', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'CAP LS')).effects).toEqual([]);
    expect((await h.run(alice, 'CAP REQ multi-prefix')).effects).toEqual([]);
    expect((await h.run(alice, 'CAP END')).effects).toEqual([]);
  });

  it('answers an unknown subcommand with 410', async () => {
    const h = harness();
    const c = h.connect();
    expect((await h.run(c, 'CAP FOO')).lines).toEqual(['#1 <- :irc.test 410 * FOO :Invalid CAP command']);
  });
});

describe('CAP negotiation corners', () => {
  it('lets every capability it lists be requested alone, listed, and disabled again (sts is not listed as one)', async () => {
    const h = harness();
    expect(supportedCaps).not.toContain('sts');
    for (const cap of supportedCaps) {
      const c = h.connect();
      expect((await h.run(c, `CAP REQ ${cap}`)).lines, cap).toEqual([`#${c.id} <- :irc.test CAP * ACK ${cap}`]);
      expect([...c.caps], cap).toEqual([cap]);
      expect((await h.run(c, 'CAP LIST')).lines, cap).toEqual([`#${c.id} <- :irc.test CAP * LIST ${cap}`]);
      expect((await h.run(c, `CAP REQ -${cap}`)).lines, cap).toEqual([`#${c.id} <- :irc.test CAP * ACK -${cap}`]);
      expect(c.caps.size, cap).toBe(0);
    }
  });

  it('acknowledges every capability requested at once, and lists them all in CAP LIST', async () => {
    const h = harness();
    const c = h.connect();
    const all = supportedCaps.join(' ');
    expect((await h.run(c, `CAP REQ :${all}`)).lines).toEqual([`#1 <- :irc.test CAP * ACK :${all}`]);
    expect((await h.run(c, 'CAP LIST')).lines).toEqual([`#1 <- :irc.test CAP * LIST :${[...supportedCaps].sort().join(' ')}`]);
  });

  it('refuses the whole request, enabling and disabling nothing, when one name is unknown, sts, or spelt in another case', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['server-time'] });
    for (const request of ['multi-prefix -server-time bogus', 'sts', 'multi-prefix sts=port=6697', 'Multi-Prefix', '-bogus']) {
      const echoed = request.includes(' ') ? `:${request}` : request;
      expect((await h.run(alice, `CAP REQ :${request}`)).lines, request).toEqual([`alice <- :irc.test CAP alice NAK ${echoed}`]);
      expect([...alice.caps], request).toEqual(['server-time']);
    }
  });

  it('applies enables and disables of one request together, and acknowledges a capability already enabled', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['server-time', 'echo-message'] });
    expect((await h.run(alice, 'CAP REQ :-server-time multi-prefix echo-message')).lines).toEqual([
      'alice <- :irc.test CAP alice ACK :-server-time multi-prefix echo-message',
    ]);
    expect((await h.run(alice, 'CAP LIST')).lines).toEqual(['alice <- :irc.test CAP alice LIST :echo-message multi-prefix']);
    await h.run(alice, 'CAP REQ :-echo-message -multi-prefix');
    expect((await h.run(alice, 'CAP LIST')).lines).toEqual(['alice <- :irc.test CAP alice LIST :']);
  });

  it('gives values in CAP LS 302 only, and the names alone to older clients', async () => {
    const h = harness({ multilineMaxBytes: 4096, multilineMaxLines: 100 });
    const old = h.connect();
    expect((await h.run(old, 'CAP LS')).to(old)[0]).not.toContain('=');
    const c = h.connect();
    const words = (await h.run(c, 'CAP LS 302')).to(c).flatMap((l) => l.slice(l.lastIndexOf(' :') + 2).split(' '));
    expect(words).toContain('sasl=PLAIN,EXTERNAL,SCRAM-SHA-256');
    expect(words).toContain('draft/account-registration=before-connect');
    expect(words).toContain('draft/multiline=max-bytes=4096,max-lines=100');
    expect(words).toContain('draft/channel-rename');
    expect(words.map((w) => w.split('=')[0])).toEqual([...supportedCaps]);
  });
});

describe('sts (IRCv3 Strict Transport Security)', () => {
  /** The capabilities CAP LS 302 lists to a client, as words. */
  async function ls302(h: ReturnType<typeof harness>, tls: boolean, version = ' 302'): Promise<string[]> {
    const c = h.connect({ tls });
    return (await h.run(c, `CAP LS${version}`)).to(c).flatMap((l) => l.slice(l.lastIndexOf(' :') + 2).split(' '));
  }

  it('is not advertised when no policy is configured', async () => {
    const h = harness();
    expect((await ls302(h, true)).filter((w) => w.startsWith('sts'))).toEqual([]);
    expect((await ls302(h, false)).filter((w) => w.startsWith('sts'))).toEqual([]);
  });

  it('gives TLS connections the persistence policy (duration) and plain-text ones the upgrade policy (port)', async () => {
    const h = harness({ stsDurationSeconds: 86_400, stsPort: 6697 });
    expect((await ls302(h, true)).filter((w) => w.startsWith('sts'))).toEqual(['sts=duration=86400']);
    expect((await ls302(h, false)).filter((w) => w.startsWith('sts'))).toEqual(['sts=port=6697']);
    // Its value is the whole point: plain CAP LS does not list it.
    expect((await ls302(h, false, '')).filter((w) => w.startsWith('sts'))).toEqual([]);
  });

  it('gives each only what is configured for it (duration 0 lifts a policy)', async () => {
    const tlsOnly = harness({ stsDurationSeconds: 0 });
    expect((await ls302(tlsOnly, true)).filter((w) => w.startsWith('sts'))).toEqual(['sts=duration=0']);
    expect((await ls302(tlsOnly, false)).filter((w) => w.startsWith('sts'))).toEqual([]);
    const portOnly = harness({ stsPort: 6697 });
    expect((await ls302(portOnly, true)).filter((w) => w.startsWith('sts'))).toEqual([]);
  });

  it('cannot be requested, and never shows in CAP LIST', async () => {
    const h = harness({ stsDurationSeconds: 60, stsPort: 6697 });
    const c = h.connect({ tls: true });
    await h.run(c, 'CAP LS 302');
    expect((await h.run(c, 'CAP REQ sts')).to(c)).toEqual([':irc.test CAP * NAK sts']);
    expect((await h.run(c, 'CAP LIST')).to(c)).toEqual([':irc.test CAP * LIST cap-notify']);
  });
});

describe('PASS', () => {
  it('reports a match when the server has no password', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'PASS anything');
    expect(r.effects).toEqual([{ type: 'irc.passGiven', matches: true }]);
    expect(c.password).toBe('anything');
  });

  it('compares with the server password', async () => {
    const h = harness({ password: 's3cret' });
    expect((await h.run(h.connect(), 'PASS s3cret')).effects).toEqual([{ type: 'irc.passGiven', matches: true }]);
    expect((await h.run(h.connect(), 'PASS wrong')).effects).toEqual([{ type: 'irc.passGiven', matches: false }]);
    expect((await h.run(h.connect(), 'PASS s3cret!')).effects).toEqual([{ type: 'irc.passGiven', matches: false }]);
  });

  it('is refused with 462 after registration', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const r = await h.run(alice, 'PASS x');
    expect(r.lines).toEqual(['alice <- :irc.test 462 alice :You may not reregister']);
    expect(r.effects).toEqual([]);
  });

  it('passwordMismatch answers 464', async () => {
    const h = harness({ password: 'p' });
    const c = h.connect();
    await h.run(c, 'NICK alice');
    const { passwordMismatch } = await import('../../../src/irc/commands/table.js');
    const outcome = await passwordMismatch(h.ctx, c);
    expect(outcome.sends.map((s) => s.message)).toEqual([
      { tags: {}, source: 'irc.test', command: '464', params: ['alice', 'Password incorrect'] },
    ]);
  });
});

describe('NICK', () => {
  it('takes a nick before registration silently, telling the machine', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'NICK alice');
    expect(r.lines).toEqual([]);
    expect(r.effects).toEqual([{ type: 'irc.nickSet' }]);
    expect(c.nick).toBe('alice');
  });

  it('answers 431 when no nick is given', async () => {
    const h = harness();
    const c = h.connect();
    expect((await h.run(c, 'NICK')).lines).toEqual(['#1 <- :irc.test 431 * :No nickname given']);
    expect((await h.run(c, 'NICK :')).lines).toEqual(['#1 <- :irc.test 431 * :No nickname given']);
  });

  it('answers 432 for a nick that is not valid or too long', async () => {
    const h = harness({ nickLength: 9 });
    const c = h.connect();
    expect((await h.run(c, 'NICK 1abc')).lines).toEqual(['#1 <- :irc.test 432 * 1abc :Erroneous nickname']);
    expect((await h.run(c, 'NICK abcdefghij')).commands(c)).toEqual(['432']);
    expect((await h.run(c, 'NICK abcdefghi')).effects).toEqual([{ type: 'irc.nickSet' }]);
  });

  it('answers 433 when another client holds the nick in any case', async () => {
    const h = harness();
    await h.register('Alice');
    const c = h.connect();
    const r = await h.run(c, 'NICK aLICE');
    expect(r.lines).toEqual(['#2 <- :irc.test 433 * aLICE :Nickname is already in use']);
    expect(r.effects).toEqual([]);
    expect(c.nick).toBeNull();
  });

  it('counts [ ] \\ ~ as the upper case of { } | ^ (rfc1459)', async () => {
    const h = harness();
    await h.register('[a]\\');
    const c = h.connect();
    expect((await h.run(c, 'NICK {A}|')).lines).toEqual([`#${c.id} <- :irc.test 433 * {A}| :Nickname is already in use`]);
  });

  it('shows a change to the client and to everyone sharing a channel, once each', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'JOIN #a,#b');
    const r = await h.run(alice, 'NICK alicia');
    expect(r.lines).toEqual([
      'alicia <- :alice!~alice@10.0.0.1 NICK alicia',
      'bob <- :alice!~alice@10.0.0.1 NICK alicia',
    ]);
    expect(r.to(carol)).toEqual([]);
    // The new nick is no account's: it is the client's to keep (no grace timer).
    expect(r.effects).toEqual([{ type: 'irc.nickOwned' }, { type: 'irc.nickSet' }]);
  });

  it('shows a change to a client in no channel', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'NICK alicia')).lines).toEqual(['alicia <- :alice!~alice@10.0.0.1 NICK alicia']);
  });

  it('releases the old nick and remembers it for WHOWAS', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.run(alice, 'NICK alicia');
    const c = h.connect();
    expect((await h.run(c, 'NICK alice')).effects).toEqual([{ type: 'irc.nickSet' }]);
    expect(h.state.whowas('alice', 10).map((e) => e.nick)).toEqual(['alice']);
  });

  it('allows a change of case of the own nick, and ignores the very same nick', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'NICK alice')).lines).toEqual([]);
    expect((await h.run(alice, 'NICK Alice')).lines).toEqual(['Alice <- :alice!~alice@10.0.0.1 NICK Alice']);
  });

  it('lets exactly one of two racing claims win', async () => {
    const h = harness();
    const a = h.connect();
    const b = h.connect();
    const [ra, rb] = await Promise.all([h.run(a, 'NICK same'), h.run(b, 'NICK SAME')]);
    expect([ra.effects.length, rb.effects.length].sort()).toEqual([0, 1]);
  });
});

describe('USER', () => {
  it('prefixes the username with ~, keeps the realname, and tells the machine', async () => {
    const h = harness();
    const c = h.connect();
    const r = await h.run(c, 'USER bob 0 * :Bob Smith');
    expect(r.lines).toEqual([]);
    expect(r.effects).toEqual([{ type: 'irc.userSet' }]);
    expect(c.user).toBe('~bob');
    expect(c.realname).toBe('Bob Smith');
  });

  it('cuts the username to USERLEN with its ~ and drops characters a mask could not hold', async () => {
    const h = harness();
    const c = h.connect();
    await h.run(c, 'USER ab@c!d*e?fghijklmnop 0 * :x');
    expect(c.user).toBe('~abcdefghi');
    expect(c.user?.length).toBe(10);
    const d = h.connect();
    await h.run(d, 'USER @@@ 0 * :x');
    expect(d.user).toBe('~user');
  });

  it('needs four parameters, the realname not empty', async () => {
    const h = harness();
    const c = h.connect();
    expect((await h.run(c, 'USER bob 0 *')).lines).toEqual(['#1 <- :irc.test 461 * USER :Not enough parameters']);
    const empty = await h.run(c, 'USER bob 0 * :');
    expect(empty.lines).toEqual(['#1 <- :irc.test 461 * USER :Not enough parameters']);
    expect(empty.effects).toEqual([]);
    expect(c.user).toBeNull();
  });

  it('is refused with 462 after registration', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'USER a 0 * :b')).lines).toEqual(['alice <- :irc.test 462 alice :You may not reregister']);
  });
});

describe('PING, PONG, QUIT', () => {
  it('answers PING with PONG from the server', async () => {
    const h = harness();
    const c = h.connect();
    expect((await h.run(c, 'PING :hello there')).lines).toEqual(['#1 <- :irc.test PONG irc.test :hello there']);
  });

  it('PONG does nothing', async () => {
    const h = harness();
    const r = await h.run(h.connect(), 'PONG x');
    expect(r.outcome).toEqual({ sends: [], effects: [] });
  });

  it('QUIT tells the machine the reason others will see', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'QUIT :gone fishing')).effects).toEqual([{ type: 'irc.quit', reason: 'Quit: gone fishing' }]);
    expect((await h.run(alice, 'QUIT')).effects).toEqual([{ type: 'irc.quit', reason: 'Client Quit' }]);
    expect((await h.run(alice, 'QUIT')).lines).toEqual([]);
  });
});

describe('welcome', () => {
  it('sends 001-004, 005, LUSERS and the greeting as MOTD, in order', async () => {
    const h = harness();
    const c = h.connect();
    await h.run(c, 'NICK alice');
    await h.run(c, 'USER alice 0 * :Alice');
    const r = await h.welcome(c);
    expect(r.to(c)).toEqual([
      ':irc.test 001 alice :Welcome to the TestNet IRC Network, alice!~alice@10.0.0.1',
      ':irc.test 002 alice :Your host is irc.test, running version test-1.0',
      ':irc.test 003 alice :This server was created Tue, 14 Nov 2023 22:12:20 GMT',
      ':irc.test 004 alice irc.test test-1.0 Biow IMRbeiklmnoqstv Ibekloqv',
      ':irc.test 005 alice AWAYLEN=200 BOT=B CASEMAPPING=rfc1459 CHANLIMIT=#:50 CHANMODES=beIq,k,l,MRimnst CHANNELLEN=64 CHANTYPES=# CHATHISTORY=1000 ELIST=CMNTU EXCEPTS=e INVEX=I KEYLEN=23 KICKLEN=255 :are supported by this server',
      ':irc.test 005 alice MAXLIST=b:100,e:100,I:100,q:100 MAXTARGETS=4 MODES=4 MONITOR=100 MSGREFTYPES=msgid,timestamp NAMELEN=128 NETWORK=TestNet NICKLEN=30 PREFIX=(ov)@+ STATUSMSG=@+ TARGMAX=JOIN:,KICK:4,LIST:,NAMES:,NOTICE:4,PART:,PRIVMSG:4,WHOIS:4,WHOWAS:4 TOPICLEN=390 USERLEN=10 :are supported by this server',
      ':irc.test 005 alice UTF8ONLY WHOX :are supported by this server',
      ':irc.test 251 alice :There are 1 users and 0 invisible on 1 servers',
      ':irc.test 255 alice :I have 1 clients and 0 servers',
      ':irc.test 265 alice 1 1 :Current local users 1, max 1',
      ':irc.test 266 alice 1 1 :Current global users 1, max 1',
      ':irc.test 375 alice :- irc.test Message of the day - ',
      ':irc.test 372 alice :- Hello there',
      ':irc.test 376 alice :End of /MOTD command.',
    ]);
    expect(r.effects).toEqual([{ type: 'irc.nickOwned' }]);
  });

  it('makes the client a user others can find', async () => {
    const h = harness();
    await h.register('alice', { tls: true });
    expect(h.state.user('ALICE')).toMatchObject({ nick: 'alice', user: '~alice', host: '10.0.0.1', tls: true, signonAt: START });
  });

  it('uses the configured MOTD lines, and 422 when it is empty', async () => {
    const h = harness({ motd: ['one', 'two'] });
    const alice = await h.register('alice');
    expect((await h.run(alice, 'MOTD')).to(alice)).toEqual([
      ':irc.test 375 alice :- irc.test Message of the day - ',
      ':irc.test 372 alice :- one',
      ':irc.test 372 alice :- two',
      ':irc.test 376 alice :End of /MOTD command.',
    ]);
    const empty = harness({ motd: [] });
    const bob = await empty.register('bob');
    expect((await empty.run(bob, 'MOTD')).to(bob)).toEqual([':irc.test 422 bob :MOTD File is missing']);
  });

  it('splits 005 so each line has at most 13 tokens and fits in 512 bytes', async () => {
    const h = harness({ network: 'N'.repeat(300), serverName: 's'.repeat(60) });
    const alice = await h.register('a'.repeat(30));
    const lines = (await h.run(alice, 'VERSION')).to(alice).filter((l) => l.split(' ')[1] === '005');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
      expect(line.split(' :')[0]!.split(' ').length - 3).toBeLessThanOrEqual(13);
    }
    const advertised = lines.flatMap((l) => l.split(' :')[0]!.split(' ').slice(3));
    expect(advertised).toEqual(isupportTokens(h.config));
  });

  it('escapes spaces, backslashes and = in the NETWORK value', () => {
    const h = harness({ network: 'My Net=\\' });
    expect(isupportTokens(h.config)).toContain('NETWORK=My\\x20Net\\x3D\\x5C');
  });

  it('advertises the configured limits', () => {
    const tokens = isupportTokens({
      ...harness().config,
      nickLength: 16,
      channelLength: 32,
      topicLength: 300,
      kickLength: 180,
      awayLength: 100,
      maxTargets: 3,
      maxChannelsPerClient: 20,
      maxBansPerChannel: 60,
      maxMonitorTargets: 7,
      realnameLength: 50,
    });
    for (const t of ['NICKLEN=16', 'CHANNELLEN=32', 'TOPICLEN=300', 'KICKLEN=180', 'AWAYLEN=100', 'MAXTARGETS=3', 'CHANLIMIT=#:20', 'MAXLIST=b:60,e:60,I:60,q:60', 'MONITOR=7', 'NAMELEN=50']) {
      expect(tokens).toContain(t);
    }
    expect(tokens).toContain('TARGMAX=JOIN:,KICK:3,LIST:,NAMES:,NOTICE:3,PART:,PRIVMSG:3,WHOIS:3,WHOWAS:3');
  });
});

describe('depart', () => {
  it('sends QUIT to everyone sharing a channel once, not to the quitter, and frees the nick', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'JOIN #a,#b');
    await h.run(carol, 'JOIN #c');
    const r = await h.depart(alice, 'Quit: bye');
    expect(r.lines).toEqual(['bob <- :alice!~alice@10.0.0.1 QUIT :Quit: bye']);
    expect(h.state.user('alice')).toBeNull();
    expect(h.state.membership('#a', 'alice')).toBeNull();
    expect(h.state.whowas('alice', 1)).toHaveLength(1);
  });

  it('makes channels it leaves empty disappear', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.run(alice, 'JOIN #solo');
    await h.depart(alice, 'Ping timeout');
    expect(h.state.channel('#solo')).toBeNull();
  });

  it('is idempotent', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    expect((await h.depart(alice, 'x')).lines).toHaveLength(1);
    expect((await h.depart(alice, 'x')).lines).toEqual([]);
    expect(h.state.whowas('alice', 10)).toHaveLength(1);
  });

  it('frees the nick of a client that never registered, without WHOWAS', async () => {
    const h = harness();
    const c = h.connect();
    await h.run(c, 'NICK ghost');
    expect((await h.depart(c, 'Registration timed out')).lines).toEqual([]);
    expect((await h.run(h.connect(), 'NICK ghost')).effects).toEqual([{ type: 'irc.nickSet' }]);
    expect(h.state.whowas('ghost', 10)).toEqual([]);
  });
});
