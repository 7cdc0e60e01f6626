// A channel renamed (IRCv3 draft/channel-rename) in the web client (incoming.ts's RENAME,
// chat.ts's renameWindow, commands.ts's /rename): the window takes the new name in place, with
// everything it held, and what is keyed by its name moves with it.
import { describe, expect, it } from 'vitest';
import { help } from '../../../src/browser/webClient/commands.js';
import { typingInput, typingTick } from '../../../src/browser/webClient/presence.js';
import { harness, registered } from './webClientHarness.js';

/** alice in #room (with bob and carol) and #other, #room shown, a few lines in #room's log. */
function inRooms() {
  const h = registered('alice', '#room');
  h.hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice +bob carol', ':irc 366 alice #room :End');
  h.hear(':irc 315 alice #room :End of WHO list');
  h.hear(':alice!~alice@h JOIN #other', ':irc 366 alice #other :End', ':irc 315 alice #other :End of WHO list');
  h.hear(':irc 332 alice #room :plans for friday', '@msgid=m1 :bob!~bob@h PRIVMSG #room :earlier words');
  h.sent.length = 0;
  return h;
}

describe('asking for draft/channel-rename', () => {
  it('requests it with the others when the server offers it, and not when it does not', () => {
    const { chat, hear } = harness();
    chat.login({ nick: 'alice', channels: '', password: '' });
    chat.socketOpening();
    chat.socketOpened();
    expect(hear(':irc CAP * LS :server-time draft/channel-rename sasl')).toEqual(['CAP REQ :server-time draft/channel-rename']);
    const other = harness();
    other.chat.login({ nick: 'bob', channels: '', password: '' });
    other.chat.socketOpening();
    other.chat.socketOpened();
    expect(other.hear(':irc CAP * LS :server-time')).toEqual(['CAP REQ server-time']);
  });
});

describe('a channel renamed', () => {
  it('renames the shown window in place: its log, members, topic and msgids kept, still shown, under the new name', () => {
    const { chat, hear, texts, record, lines } = inRooms();
    const room = chat.findWindow('#room')!;
    hear(':bob!~bob@h RENAME #room #plans :moving <b>house</b>\x02!');
    expect(chat.findWindow('#room')).toBeNull();
    expect(chat.findWindow('#PLANS')).toBe(room);
    expect([room.key, room.name, room.joined, room.rejoin]).toEqual(['#plans', '#plans', true, true]);
    expect(record.windows).toEqual([':server', '#plans', '#other']);
    expect(record.shown).toBe('#plans');
    expect(chat.current).toBe(room);
    expect(record.header).toEqual(['#plans', 'plans for friday']);
    expect(record.members).toEqual(['@alice', '+bob', 'carol']);
    // The earlier lines are the renamed window's, and the rename says who, from what, to what, why (as text).
    expect(texts('#plans')).toEqual([
      'You joined #room', 'Topic: plans for friday', 'earlier words', 'bob renamed #room to #plans (moving <b>house</b>!)',
    ]);
    expect(lines().at(-1)).toMatchObject({ kind: 'rename', from: '' });
    // A message shown before the rename is still known by its msgid; new ones come to the new name.
    hear('@msgid=m1 :bob!~bob@h PRIVMSG #plans :earlier words', ':carol!~c@h PRIVMSG #plans :after');
    expect(texts('#plans').filter((t) => t === 'earlier words')).toHaveLength(1);
    expect(texts('#plans').at(-1)).toBe('after');
    // A rejoin after a reconnect asks for the new name.
    expect(chat.socketClosed(1006)).not.toBeNull();
    chat.socketOpening();
    chat.socketOpened();
    expect(hear(':irc 001 alice :Welcome')).toEqual(['JOIN #other,#plans']);
  });

  it('sends what the user types next to the new name', () => {
    const { chat, hear, sent } = inRooms();
    hear(':alice!~alice@h RENAME #room #plans :');
    chat.input('hello');
    expect(sent).toEqual(['PRIVMSG #plans :hello']);
  });

  it('renames a window not shown: its unread count kept, the shown one still shown; says "You" for our own rename', () => {
    const { chat, hear, texts, record } = inRooms();
    const other = chat.findWindow('#other')!;
    hear(':bob!~bob@h PRIVMSG #other :one', ':bob!~bob@h PRIVMSG #other :two');
    expect(other.unread).toBe(2);
    hear(':alice!~alice@h RENAME #other #elsewhere :');
    expect(other.unread).toBe(2);
    expect(record.shown).toBe('#room');
    expect(record.header[0]).toBe('#room');
    expect(texts('#elsewhere')).toEqual(['You joined #other', 'one', 'two', 'You renamed #other to #elsewhere']);
  });

  it('renames on a change of case only: same window and key, the new spelling shown', () => {
    const { chat, hear, texts, record } = inRooms();
    const room = chat.findWindow('#room')!;
    hear(':bob!~bob@h RENAME #room #Room :capitals');
    expect(chat.findWindow('#room')).toBe(room);
    expect([room.key, room.name]).toEqual(['#room', '#Room']);
    expect(record.windows).toEqual([':server', '#room', '#other']);
    expect(record.header).toEqual(['#Room', 'plans for friday']);
    expect(texts('#room').at(-1)).toBe('bob renamed #room to #Room (capitals)');
    expect(record.members).toEqual(['@alice', '+bob', 'carol']);
  });

  it('folds the old name as the server does: a RENAME of #ROOM is one of #room', () => {
    const { chat, hear } = inRooms();
    hear(':bob!~bob@h RENAME #ROOM #plans :');
    expect(chat.findWindow('#plans')?.name).toBe('#plans');
  });

  it('ignores a RENAME of a channel we are not in, or were kicked from', () => {
    const { chat, hear, lines, record } = inRooms();
    const before = lines().length;
    hear(':bob!~bob@h RENAME #elsewhere #new :not ours');
    hear(':bob!~bob@h KICK #other alice :out', ':bob!~bob@h RENAME #other #new :');
    expect(chat.findWindow('#new')).toBeNull();
    expect(chat.findWindow('#other')?.name).toBe('#other');
    expect(record.windows).toEqual([':server', '#room', '#other']);
    expect(lines().slice(before).map((l) => l.text)).toEqual(['alice was kicked by bob (out)']);
  });

  it('closes a stale window that had the new name (a channel we were kicked from)', () => {
    const { chat, hear, record, texts } = inRooms();
    hear(':bob!~bob@h KICK #other alice :out');
    chat.show(chat.findWindow('#other'));
    hear(':bob!~bob@h RENAME #room #OTHER :');
    expect(record.windows).toEqual([':server', '#other']);
    expect(chat.findWindow('#other')?.name).toBe('#OTHER');
    expect(texts('#other')).toContain('earlier words');
    // The stale one was shown: the renamed one is shown in its place.
    expect(record.shown).toBe('#other');
    expect(record.header[0]).toBe('#OTHER');
  });

  it('moves our typing state, who is typing there and the messages still in the outbox', () => {
    const { chat, hear, sent, clock, record } = inRooms();
    chat.caps.add('message-tags');
    // Who is typing in the renamed window is still shown.
    hear('@+typing=active :carol!~c@h TAGMSG #room');
    expect(record.typing).toBe('carol is typing\u2026');
    typingInput(chat, 'hel');
    hear(':bob!~bob@h RENAME #room #plans :');
    expect(record.typing).toBe('carol is typing\u2026');
    // Our pause goes to the new name, once.
    clock.now += 5_000;
    typingTick(chat);
    expect(sent).toEqual(['@+typing=active TAGMSG #room', '@+typing=paused TAGMSG #plans']);

    // A long paste: the pieces still waiting for the PONG go to the new name.
    sent.length = 0;
    chat.input('x'.repeat(10_000));
    const ping = sent.at(-1)!;
    expect(ping).toMatch(/^PING chunk\d+$/);
    hear(':bob!~bob@h RENAME #plans #later :');
    const rest = hear(`:irc PONG irc :${ping.slice(5)}`);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.filter((l) => l.startsWith('PRIVMSG')).every((l) => l.startsWith('PRIVMSG #later :'))).toBe(true);
  });

  it('asks WHO by the new name: a channel waiting for its turn, and one asked that the rename may have emptied', () => {
    const { chat, hear, sent } = registered('alice', '');
    hear(':alice!~alice@h JOIN #a', ':irc 366 alice #a :End', ':alice!~alice@h JOIN #b', ':irc 366 alice #b :End');
    expect(sent.filter((l) => l.startsWith('WHO'))).toEqual(['WHO #a']);
    hear(':x!~x@h RENAME #b #bee :');
    hear(':x!~x@h RENAME #a #ay :');
    // #a's WHO, asked by its old name, is answered by it: not shown, and then the others follow.
    hear(':irc 315 alice #a :End of WHO list');
    hear(':irc 315 alice #bee :End of WHO list');
    expect(sent.filter((l) => l.startsWith('WHO'))).toEqual(['WHO #a', 'WHO #bee', 'WHO #ay']);
    expect(chat.findWindow('#a')).toBeNull();
  });
});

describe('/rename', () => {
  it('sends RENAME for the channel shown, with the reason when given, and is in /help', () => {
    const { chat, sent } = inRooms();
    chat.input('/rename #plans moving house, again');
    chat.input('/rename plans');
    expect(sent).toEqual(['RENAME #room #plans :moving house, again', 'RENAME #room #plans']);
    expect(help.some((l) => l.startsWith('/rename #newname'))).toBe(true);
  });

  it('says how to use it outside a channel or without a name, and sends nothing', () => {
    const { chat, sent, texts } = inRooms();
    chat.input('/rename');
    expect(texts('#room').at(-1)).toBe('Usage: /rename #newname [reason]');
    chat.show(chat.serverWindow());
    chat.input('/rename #plans');
    expect(texts(':server').at(-1)).toBe('Use /rename in a channel');
    expect(sent).toEqual([]);
  });

  it('shows the server\'s refusals as errors where the user is', () => {
    const { chat, hear, lines } = inRooms();
    chat.input('/rename #plans');
    hear(
      ':irc FAIL RENAME CHANNEL_NAME_IN_USE #room #plans :The channel name is already taken',
      ':irc 482 alice #room :You\'re not channel operator',
      ':irc 479 alice #a,b :Illegal channel name',
      ':irc 403 alice #gone :No such channel',
    );
    expect(lines().slice(-4)).toEqual([
      { window: '#room', kind: 'error', from: '', text: 'RENAME: The channel name is already taken', mine: false },
      { window: '#room', kind: 'error', from: '', text: '#room: You\'re not channel operator', mine: false },
      { window: '#room', kind: 'error', from: '', text: '#a,b: Illegal channel name', mine: false },
      { window: '#room', kind: 'error', from: '', text: '#gone: No such channel', mine: false },
    ]);
  });
});
