// Message ids in the web client (src/browser/webClient/msgids.ts and its use in chat.ts): each
// line keeps its message's msgid, and a window shows a message once, however often it comes.
import { describe, expect, it } from 'vitest';
import { SeenIds } from '../../../src/browser/webClient/msgids.js';
import { registered } from './webClientHarness.js';

describe('SeenIds', () => {
  it('says an id is new once, and forgets the oldest past its bound', () => {
    const seen = new SeenIds(3);
    expect(['a', 'b', 'a', 'c'].map((id) => seen.first(id))).toEqual([true, true, false, true]);
    expect(seen.first('d')).toBe(true);
    expect(seen.size).toBe(3);
    // 'a' was the oldest: forgotten, it is new again; 'c' is still known.
    expect(seen.first('a')).toBe(true);
    expect(seen.first('c')).toBe(false);
  });
});

describe('msgid on the page', () => {
  it('keeps the msgid on the line it shows', () => {
    const { hear, lines } = registered();
    hear(':alice!~alice@h JOIN #room');
    hear('@msgid=m1;time=2026-03-04T05:06:07.000Z :bob!~bob@h PRIVMSG #room :hello');
    hear(':bob!~bob@h PRIVMSG #room :no id');
    expect(lines().slice(-2)).toEqual([
      { window: '#room', kind: 'privmsg', from: 'bob', text: 'hello', mine: false, msgid: 'm1' },
      { window: '#room', kind: 'privmsg', from: 'bob', text: 'no id', mine: false },
    ]);
  });

  it('shows a message replayed with the same msgid once, and counts it unread once', () => {
    const { chat, hear, texts } = registered('alice', '');
    hear(':alice!~alice@h JOIN #room', ':alice!~alice@h JOIN #other');
    chat.show(chat.findWindow('#other'));
    hear('@msgid=m1 :bob!~bob@h PRIVMSG #room :once', '@msgid=m1 :bob!~bob@h PRIVMSG #room :once');
    expect(texts('#room').filter((t) => t === 'once')).toHaveLength(1);
    expect(chat.findWindow('#room')!.unread).toBe(1);
    // Lines without an id are never taken for each other.
    hear(':bob!~bob@h PRIVMSG #room :again', ':bob!~bob@h PRIVMSG #room :again');
    expect(texts('#room').filter((t) => t === 'again')).toHaveLength(2);
  });

  it('shows a message to ourselves once: the echo (echo-message) and the copy we receive share its msgid', () => {
    const { chat, hear, texts } = registered();
    chat.caps.add('echo-message');
    chat.input('/msg alice note to self');
    hear('@msgid=x7 :alice!~alice@h PRIVMSG alice :note to self', '@msgid=x7 :alice!~alice@h PRIVMSG alice :note to self');
    expect(texts('alice')).toEqual(['note to self']);
  });

  it('keeps the ids per window, and across a reconnect (a replay after it is shown once)', () => {
    const { chat, hear, texts } = registered();
    hear(':alice!~alice@h JOIN #room', ':alice!~alice@h JOIN #b');
    hear('@msgid=same :bob!~bob@h PRIVMSG #room :one', '@msgid=same :bob!~bob@h PRIVMSG #b :two');
    expect([texts('#room').at(-1), texts('#b').at(-1)]).toEqual(['one', 'two']);
    chat.socketClosed(1006);
    chat.socketOpening();
    chat.socketOpened();
    hear(':irc 001 alice :Welcome', ':alice!~alice@h JOIN #room', '@msgid=same :bob!~bob@h PRIVMSG #room :one');
    expect(texts('#room').filter((t) => t === 'one')).toHaveLength(1);
  });
});
