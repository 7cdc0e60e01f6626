// The web client's state and decisions (src/browser/webClient/chat.ts, incoming.ts,
// commands.ts) in Node, without a browser: server lines go in, and what it sends and what it
// tells the page come out, through a fake socket and a fake view.
import { describe, expect, it } from 'vitest';
import type { ChatWindow } from '../../../src/browser/webClient/chat.js';
import { harness, registered } from './webClientHarness.js';

describe('signing in', () => {
  it('refuses a nick that is not one word before connecting', () => {
    const { chat } = harness();
    expect(chat.login({ nick: 'two words', channels: '', password: '' })).toMatch(/one word/);
    expect(chat.login({ nick: '#chan', channels: '', password: '' })).toMatch(/one word/);
  });

  it('registers with CAP, NICK and USER, asks for the capabilities it uses that are offered, then joins', () => {
    const { chat, sent, hear, record } = harness();
    expect(chat.login({ nick: ' Al.ice ', channels: 'room, #other', password: '' })).toBeNull();
    expect(record.windows).toEqual([':server', '#room', '#other']);
    expect(record.shown).toBe('#room');
    chat.socketOpening();
    expect(record.status.state).toBe('connecting');
    chat.socketOpened();
    expect(sent).toEqual(['CAP LS 302', 'NICK Al.ice', 'USER Alice 0 * :Web client']);
    expect(record.status).toEqual({ state: 'registering', text: 'Connected, signing in as Al.ice…', canRetry: false });
    // CAP LS in two lines: the page waits for the last one.
    expect(hear(':irc CAP * LS * :cap-notify echo-message')).toEqual([]);
    expect(hear(':irc CAP * LS :multi-prefix sasl=PLAIN')).toEqual(['CAP REQ :echo-message multi-prefix']);
    expect(hear(':irc CAP * ACK :echo-message multi-prefix')).toEqual(['CAP END']);
    expect([...chat.caps]).toEqual(['echo-message', 'multi-prefix']);
    expect(hear(':irc 001 Al.ice :Welcome')).toEqual(['JOIN #room,#other']);
    expect(record.status).toEqual({ state: 'connected', text: 'Connected as Al.ice', canRetry: false });
    expect(record.me).toBe('Al.ice');
  });

  it('ends CAP at once when none of its capabilities is offered', () => {
    const { chat, hear } = harness();
    chat.login({ nick: 'bob', channels: '', password: '' });
    chat.socketOpening();
    chat.socketOpened();
    expect(hear(':irc CAP * LS :sasl')).toEqual(['CAP END']);
  });

  it('tries another nick when its own is taken, and goes back to the login form when it is refused', () => {
    const { chat, hear, texts, record } = harness();
    chat.login({ nick: 'bob', channels: '', password: '' });
    chat.socketOpening();
    chat.socketOpened();
    expect(hear(':irc 433 * bob :Nickname is already in use')).toEqual(['NICK bob_']);
    expect(texts(':server')).toContain('That nick is taken; trying bob_');
    expect(hear(':irc 432 * bob_ :Erroneous nickname')).toEqual([]);
    expect(record.hangUps).toBe(1);
    expect(chat.socketClosed(1000)).toBeNull();
    expect(record.loginError).toBe('The server refused the nick bob_: Erroneous nickname');
  });

  it('sends the password as the server password when the server has no SASL, and goes back to the login form when it is wrong', () => {
    const { chat, hear, record } = harness();
    chat.login({ nick: 'bob', channels: '', password: 'nope' });
    chat.socketOpening();
    chat.socketOpened();
    expect(hear(':irc CAP * LS :server-time')).toEqual(['PASS nope', 'CAP REQ server-time']);
    hear(':irc CAP * ACK server-time', ':irc 464 bob :Password incorrect', ':irc ERROR :Closing link');
    expect(chat.password).toBe('');
    expect(chat.socketClosed(1000)).toBeNull();
    expect(record.loginError).toBe('The server password is wrong.');
  });
});

describe('channels and their members', () => {
  it('opens the window on our JOIN and fills the member list from NAMES, in rank order', () => {
    const { hear, texts, record } = registered();
    hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice +bob carol', ':irc 366 alice #room :End of /NAMES list');
    expect(texts('#room')).toEqual(['You joined #room']);
    expect(record.members).toEqual(['@alice', '+bob', 'carol']);
    hear(':dave!~dave@h JOIN #room');
    expect(texts('#room')).toContain('dave joined #room');
    expect(record.members).toEqual(['@alice', '+bob', 'carol', 'dave']);
  });

  it('greys away members: WHO after NAMES (its replies not shown), away-notify\'s AWAY, 301, and our own /away', () => {
    const { hear, texts, record, sent } = registered();
    hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice bob carol');
    const before = sent.length;
    hear(':irc 366 alice #room :End of /NAMES list');
    expect(sent.slice(before)).toEqual(['WHO #room']);
    hear(
      ':irc 352 alice #room ~alice h irc alice H@ :0 Alice',
      ':irc 352 alice #room ~bob h irc bob G :0 Bob',
      ':irc 352 alice #room ~carol h irc carol H :0 Carol',
      ':irc 315 alice #room :End of WHO list',
    );
    expect(record.away).toEqual(['bob: ']);
    expect(texts(':server').some((t) => t.includes('352') || t.includes('Bob'))).toBe(false);
    hear(':carol!~carol@h AWAY :lunch', ':bob!~bob@h AWAY');
    expect(record.away).toEqual(['carol: lunch']);
    hear(':irc 301 alice bob :in a meeting');
    expect(record.away).toEqual(['bob: in a meeting', 'carol: lunch']);
    hear(':irc 306 alice :You have been marked as being away');
    expect(record.away).toEqual(['alice: ', 'bob: in a meeting', 'carol: lunch']);
    hear(':irc 305 alice :You are no longer marked as being away');
    expect(record.away).toEqual(['bob: in a meeting', 'carol: lunch']);
    // A WHO the user asks for is shown as before.
    hear(':irc 352 alice * ~dave h irc dave H :0 Dave', ':irc 315 alice dave :End of WHO list');
    expect(texts(':server').some((t) => t.includes('dave'))).toBe(true);
  });

  it('asks WHO for who is away one channel at a time, with WHOX when offered, and not in a big channel', () => {
    const { hear, sent, record, texts } = registered('alice', '');
    hear(':irc 005 alice WHOX :are supported by this server');
    sent.length = 0;
    const names = (channel: string, nicks: string) => [
      `:alice!~alice@h JOIN ${channel}`, `:irc 353 alice = ${channel} :${nicks}`, `:irc 366 alice ${channel} :End of /NAMES list`,
    ];
    hear(...names('#a', '@alice bob'), ...names('#b', '@alice carol'));
    const big = Array.from({ length: 501 }, (_, i) => `u${i}`).join(' ');
    hear(...names('#big', big));
    // One WHO at a time: #b's after #a's ends; the nick and flags only, tagged as ours.
    expect(sent).toEqual(['WHO #a %tnf,719']);
    hear(':irc 354 alice 719 bob G', ':irc 315 alice #a :End of WHO list');
    expect(sent).toEqual(['WHO #a %tnf,719', 'WHO #b %tnf,719']);
    hear(':irc 354 alice 719 carol H', ':irc 354 alice 719 alice H@', ':irc 315 alice #b :End of WHO list');
    expect(sent).toHaveLength(2);
    expect(texts(':server').some((t) => /719|End of WHO/.test(t))).toBe(false);
    hear(':irc 352 alice #a ~bob h irc bob H :0 Bob');
    expect(record.away).toEqual([]);
    // A WHOX the user asks for is shown.
    hear(':irc 354 alice 1 dave H', ':irc 315 alice dave :End of WHO list');
    expect(texts(':server')).toContain('1 dave H');
  });

  it('skips the WHO of a channel left before its turn, and starts again after a reconnect', () => {
    const { chat, hear, sent } = registered('alice', '');
    hear(':alice!~alice@h JOIN #a', ':irc 366 alice #a :End', ':alice!~alice@h JOIN #b', ':irc 366 alice #b :End');
    hear(':alice!~alice@h JOIN #c', ':irc 366 alice #c :End', ':alice!~alice@h PART #b');
    expect(sent.filter((l) => l.startsWith('WHO'))).toEqual(['WHO #a']);
    hear(':irc 315 alice #a :End of WHO list');
    expect(sent.filter((l) => l.startsWith('WHO'))).toEqual(['WHO #a', 'WHO #c']);
    chat.socketClosed(1006);
    chat.socketOpening();
    chat.socketOpened();
    sent.length = 0;
    hear(':irc 001 alice :Welcome', ':alice!~alice@h JOIN #a', ':irc 366 alice #a :End');
    expect(sent.filter((l) => l.startsWith('WHO'))).toEqual(['WHO #a']);
  });

  it('folds names as the server does: #Room and #room are one window, [Bob] and {bob} one member', () => {
    const { chat, hear, record } = registered('alice', '');
    hear(':alice!~alice@h JOIN #Room', ':irc 353 alice = #Room :@alice [Bob]', ':irc 366 alice #Room :End');
    hear(':{bob}!~b@h PART #room :bye');
    expect(chat.findWindow('#ROOM')?.name).toBe('#Room');
    chat.show(chat.findWindow('#room'));
    expect(record.members).toEqual(['@alice']);
  });

  it('follows MODE for member prefixes, reading past the parameters of other modes', () => {
    const { hear, texts, record } = registered();
    hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice bob carol', ':irc 366 alice #room :End');
    hear(':alice!~alice@h MODE #room +lov 10 carol bob');
    expect(record.members).toEqual(['@alice', '@carol', '+bob']);
    hear(':alice!~alice@h MODE #room -o carol');
    expect(record.members).toEqual(['@alice', '+bob', 'carol']);
    expect(texts('#room')).toContain('alice set mode +lov 10 carol bob');
  });

  it('says who left, quit, was kicked or changed nick, in every window that had them', () => {
    const { chat, hear, texts, record } = registered();
    hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice bob carol dave', ':irc 366 alice #room :End');
    hear(':alice!~alice@h JOIN #other', ':irc 353 alice = #other :@alice bob', ':irc 366 alice #other :End');
    hear(':bob!~bob@h PRIVMSG alice :psst');
    hear(':bob!~bob@h NICK robert');
    expect(texts('#room')).toContain('bob is now known as robert');
    expect(texts('#other')).toContain('bob is now known as robert');
    expect(texts('robert')).toEqual(['psst', 'bob is now known as robert']);
    expect(chat.findWindow('bob')).toBeNull();
    hear(':robert!~bob@h QUIT :gone');
    expect(texts('#room')).toContain('robert quit (gone)');
    expect(texts('#other')).toContain('robert quit (gone)');
    expect(texts('robert')).toContain('robert quit (gone)');
    hear(':carol!~c@h PART #room :see you', ':alice!~alice@h KICK #room dave :spam');
    expect(texts('#room').slice(-2)).toEqual(['carol left #room (see you)', 'dave was kicked by alice (spam)']);
    chat.show(chat.findWindow('#room'));
    expect(record.members).toEqual(['@alice']);
  });

  it('keeps a channel we were kicked from, not joined, and closes the one we parted', () => {
    const { chat, hear, record } = registered();
    hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice @bob', ':irc 366 alice #room :End');
    hear(':bob!~bob@h KICK #room alice :out');
    const room = chat.findWindow('#room')!;
    expect([room.joined, room.rejoin, room.members.size]).toEqual([false, false, 0]);
    expect(record.members).toEqual([]);
    hear(':alice!~alice@h JOIN #two');
    hear(':alice!~alice@h PART #two');
    expect(record.windows).toEqual([':server', '#room']);
  });

  it('shows the topic in the header, cleaned, and in the log', () => {
    const { hear, texts, record } = registered();
    hear(':alice!~alice@h JOIN #room', ':irc 332 alice #room :\x02plans\x02 for friday');
    expect(record.header).toEqual(['#room', 'plans for friday']);
    hear(':bob!~bob@h TOPIC #room :');
    expect(texts('#room').slice(-2)).toEqual(['Topic: plans for friday', 'bob cleared the topic']);
    expect(record.header).toEqual(['#room', '']);
  });

  it('names the server window after the NETWORK and lists channels with a way to join them', () => {
    const { chat, hear, lines, record } = registered();
    chat.input('/list');
    expect(record.header[0]).toBe('testnet');
    hear(':irc 322 alice #chat 3 :\x0304hi\x03 all', ':irc 323 alice :End of /LIST');
    expect(lines().slice(-2)).toEqual([
      { window: ':server', kind: 'info', from: '', text: ' (3) hi all', mine: false, channel: '#chat' },
      { window: ':server', kind: 'info', from: '', text: 'End of the channel list.', mine: false },
    ]);
  });
});

describe('messages', () => {
  it('puts channel messages in the channel, private ones in a window for the sender, counting the unread', () => {
    const { chat, hear, lines, record } = registered();
    hear(':alice!~alice@h JOIN #room');
    hear('@time=2026-03-04T05:06:07.000Z :bob!~bob@h PRIVMSG #room :hello');
    const hello = lines().at(-1)!;
    expect(hello).toEqual({ window: '#room', kind: 'privmsg', from: 'bob', text: 'hello', mine: false });
    hear(':bob!~bob@h PRIVMSG alice :psst', ':bob!~bob@h PRIVMSG alice :\x01ACTION waves\x01', ':bob!~bob@h PRIVMSG alice :\x01VERSION\x01');
    const query = chat.findWindow('bob')!;
    expect(lines().filter((l) => l.window === 'bob').map((l) => [l.kind, l.from, l.text])).toEqual([
      ['privmsg', 'bob', 'psst'],
      ['action', '* bob', 'waves'],
    ]);
    expect(query.unread).toBe(2);
    expect(record.shown).toBe('#room');
    chat.show(query);
    expect(query.unread).toBe(0);
  });

  it('puts notices from the server in the server window and does not count them as unread', () => {
    const { chat, hear, lines } = registered();
    hear(':irc.example NOTICE alice :*** maintenance at noon');
    expect(lines().at(-1)).toEqual({ window: ':server', kind: 'notice', from: 'irc.example', text: '*** maintenance at noon', mine: false });
    expect(chat.findWindow('testnet')).toBeNull();
    expect(chat.serverWindow().unread).toBe(0);
  });

  it('uses the server-time of a line, and the clock for a line without one or with a bad one', () => {
    const times: string[] = [];
    const { chat, hear } = registered();
    const view = chat.view;
    view.line = (_w, l) => void times.push(l.time.toISOString());
    hear(':alice!~alice@h JOIN #room');
    hear('@time=2026-03-04T05:06:07.000Z :bob!~bob@h PRIVMSG #room :a', '@time=yesterday :bob!~bob@h PRIVMSG #room :b');
    expect(times).toEqual(['2026-01-01T12:00:00.000Z', '2026-03-04T05:06:07.000Z', '2026-01-01T12:00:00.000Z']);
  });

  it('shows what we said as we send it without echo-message, and when it comes back with it', () => {
    const plain = registered();
    plain.hear(':alice!~alice@h JOIN #room');
    plain.chat.input('hi all');
    expect(plain.sent).toEqual(['PRIVMSG #room :hi all']);
    expect(plain.lines().at(-1)).toMatchObject({ window: '#room', text: 'hi all', mine: true });

    const echo = registered();
    echo.chat.caps.add('echo-message');
    echo.hear(':alice!~alice@h JOIN #room');
    echo.chat.input('hi all');
    expect(echo.texts('#room')).not.toContain('hi all');
    echo.hear(':alice!~alice@h PRIVMSG #room :hi all');
    expect(echo.lines().at(-1)).toMatchObject({ window: '#room', text: 'hi all', mine: true });
  });

  it('sends a long paste in pieces that fit, a few KiB at a time, each chunk after the last one’s PONG', () => {
    const { chat, sent, hear, texts } = registered('writer', '#hostile');
    hear(':writer!~writer@h JOIN #hostile');
    const long = Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    chat.input(long);
    const ping = sent.at(-1)!;
    expect(ping).toBe('PING chunk1');
    const firstChunk = sent.slice(0, -1);
    expect(firstChunk.length).toBeGreaterThan(1);
    expect(firstChunk.reduce((n, l) => n + Buffer.byteLength(l) + 2, 0)).toBeLessThanOrEqual(3072);
    expect(hear(':irc PONG irc :chunk0')).toEqual([]);
    let out: string[] = [];
    for (let token = 1; ; token++) {
      const next = hear(`:irc PONG irc :chunk${token}`);
      out = out.concat(next.filter((l) => l.startsWith('PRIVMSG')));
      if (!next.at(-1)!.startsWith('PING')) break;
    }
    const pieces = [...firstChunk, ...out].map((l) => l.replace(/^PRIVMSG #hostile :?/, ''));
    expect(pieces.join('')).toBe(long);
    expect(pieces.every((p) => p.length <= 450)).toBe(true);
    expect(texts('#hostile').filter((t) => /^[a-z]+$/.test(t)).join('')).toBe(long);
  });

  it('answers PING, says it cannot send while disconnected, and that the server window is not a channel', () => {
    const { chat, hear, texts } = registered();
    expect(hear(':irc PING :token')).toEqual(['PONG token']);
    chat.show(chat.serverWindow());
    chat.input('hello?');
    expect(texts(':server').at(-1)).toMatch(/^This is the server window/);
    hear(':alice!~alice@h JOIN #room');
    chat.socketClosed(1006);
    chat.show(chat.findWindow('#room'));
    chat.input('anyone?');
    expect(texts('#room').at(-1)).toBe('Not connected: the message was not sent.');
  });
});

describe('commands', () => {
  function inRoom() {
    const h = registered();
    h.hear(':alice!~alice@h JOIN #room', ':irc 366 alice #room :End');
    h.sent.length = 0;
    return h;
  }

  it('sends what each command means', () => {
    const { chat, sent } = inRoom();
    for (const typed of ['/join #a,#b', '/join #k secret', '/part see you', '/part #b bye', '/nick al', '/topic new topic', '/whois bob', '/quote MODE #room +m', '/me waves', '//slash', '/quit']) {
      chat.input(typed);
    }
    expect(sent).toEqual([
      'JOIN #a,#b',
      'JOIN #k secret',
      'PART #room :see you',
      'PART #b :bye',
      'NICK al',
      'TOPIC #room :new topic',
      'WHOIS bob',
      'MODE #room +m',
      'PRIVMSG #room :\x01ACTION waves\x01',
      'PRIVMSG #room :/slash',
      'QUIT :Leaving',
    ]);
    expect(chat.pendingShow).toBe('#k');
    expect(chat.quitting).toBe(true);
  });

  it('opens a private window with /msg and /query, and says how to use a command given without its argument', () => {
    const { chat, sent, texts, record } = inRoom();
    chat.input('/msg bob hi there');
    expect(record.shown).toBe('bob');
    expect(sent).toEqual(['PRIVMSG bob :hi there']);
    chat.input('/join');
    chat.input('/topic');
    chat.input('/frobnicate');
    chat.input('/msg #nowhere hi');
    expect(texts('bob').slice(-4)).toEqual([
      'Usage: /join #channel',
      'Use /topic in a channel',
      'Unknown command /frobnicate: /help lists them.',
      'You are not in #nowhere',
    ]);
  });

  it('closes a channel window by parting it, and a private one at once', () => {
    const { chat, sent, hear, record } = inRoom();
    chat.input('/query bob');
    chat.input('/close');
    expect(record.windows).toEqual([':server', '#room']);
    expect(record.shown).toBe(':server');
    chat.show(chat.findWindow('#room'));
    chat.input('/close');
    expect(sent).toEqual(['PART #room']);
    hear(':alice!~alice@h PART #room');
    expect(record.windows).toEqual([':server']);
  });

  it('shows the channel a /join asked for once joined', () => {
    const { chat, hear, record } = inRoom();
    chat.input('/join #new');
    expect(record.shown).toBe('#room');
    hear(':alice!~alice@h JOIN #new');
    expect(record.shown).toBe('#new');
  });
});

describe('when the connection drops', () => {
  it('says why, and reconnects later and later, taking its nick back and rejoining its channels', () => {
    const { chat, hear, texts, record, sent } = registered();
    hear(':alice!~alice@h JOIN #room', ':alice!~alice@h JOIN #gone', ':alice!~alice@h PART #gone');
    hear(':irc ERROR :Closing link: (~alice@127.0.0.1) [Server shutting down]');
    const retry = chat.socketClosed(1006);
    const why = 'The server closed the connection: Closing link: (~alice@127.0.0.1) [Server shutting down]';
    expect(retry).toEqual({ state: 'disconnected', why, delayMs: 1000 });
    expect(texts('#room').at(-1)).toBe(`Disconnected. ${why}`);
    expect(record.members).toEqual([]);
    // Down: the next attempt cannot connect, and waits longer.
    chat.socketOpening();
    expect(chat.socketClosed(1006)).toEqual({
      state: 'refused',
      why: 'Could not connect to the chat server: it is down, unreachable, or refused the connection.',
      delayMs: 2000,
    });
    chat.socketOpening();
    sent.length = 0;
    chat.socketOpened();
    expect(sent).toContain('NICK alice');
    expect(hear(':irc 001 alice :Welcome back')).toEqual(['JOIN #room']);
    expect(chat.attempt).toBe(0);
  });

  it('says a message was too big on close code 1009, and drops what the outbox still held', () => {
    const { chat, hear, texts } = registered();
    hear(':alice!~alice@h JOIN #room');
    chat.input('x'.repeat(10_000));
    const retry = chat.socketClosed(1009);
    expect(retry?.why).toBe('The server closed the connection: a message was too big.');
    expect(texts('#room')).toContainEqual(expect.stringMatching(/^\d+ message\(s\) were not sent\.$/));
  });

  it('stays disconnected after /quit, offering to reconnect', () => {
    const { chat, record } = registered();
    chat.input('/quit');
    expect(chat.socketClosed(1000)).toBeNull();
    expect(record.status).toEqual({ state: 'disconnected', text: 'Disconnected. The connection to the chat server was lost.', canRetry: true });
  });
});

it('keeps ChatWindow free of DOM: the state is plain data', () => {
  const { chat } = registered();
  const w: ChatWindow = chat.serverWindow();
  expect(JSON.parse(JSON.stringify({ ...w, members: [...w.members] }))).toMatchObject({ key: ':server', name: 'testnet', type: 'server' });
});
