// The web client and the server's memory (src/browser/webClient/history.ts): history on join,
// older lines on scrolling up, a reconnect's gap, private conversations from TARGETS, and read
// markers both ways (the unread count and the "new messages" line follow another tab's).
import { describe, expect, it } from 'vitest';
import { fetchOlder } from '../../../src/browser/webClient/history.js';
import { harness } from './webClientHarness.js';

const CAPS = 'batch server-time message-tags echo-message draft/chathistory draft/read-marker';

/** Registered as alice (logged in to the account alice unless `account` is null), with CAPS. */
function withHistory(channels = '#room', account: string | null = 'alice') {
  const h = harness();
  expect(h.chat.login({ nick: 'alice', channels, password: '' })).toBeNull();
  h.chat.socketOpening();
  h.chat.socketOpened();
  const req = h.hear(`:irc CAP * LS :${CAPS} labeled-response`);
  expect(req.find((l) => l.startsWith('CAP REQ'))).toContain('draft/chathistory draft/read-marker');
  h.hear(`:irc CAP * ACK :${CAPS}`);
  h.chat.account = account;
  const welcome = h.hear(':irc 001 alice :Welcome', ':irc 005 alice CASEMAPPING=rfc1459 CHANTYPES=# NETWORK=testnet PREFIX=(ov)@+ :are supported');
  return { ...h, welcome };
}

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 11, 0, s)).toISOString();

/** A chathistory batch of `texts` (bob saying them at seconds 1, 2...) for `target`. */
function batch(target: string, ref: string, texts: string[], first = 1): string[] {
  return [
    `:irc BATCH +${ref} chathistory ${target}`,
    ...texts.map((t, i) => `@batch=${ref};time=${at(first + i)};msgid=h${first + i} :bob!~bob@h PRIVMSG ${target} :${t}`),
    `:irc BATCH -${ref}`,
  ];
}

describe('history on the page', () => {
  it('asks for a channel\'s recent history when it joins, shows it before what comes live, and each message once', () => {
    const { hear, lines } = withHistory();
    expect(hear(':alice!~alice@h JOIN #room')).toEqual(['CHATHISTORY LATEST #room * 50']);
    hear('@time=' + at(30) + ';msgid=live :carol!~carol@h PRIVMSG #room :live one');
    hear(...batch('#room', 'b1', ['one', 'two', 'live one'].slice(0, 2)));
    // The live message again, in a later batch: not shown twice.
    hear(':irc BATCH +b2 chathistory #room', `@batch=b2;time=${at(30)};msgid=live :carol!~carol@h PRIVMSG #room :live one`, ':irc BATCH -b2');
    const shown = lines().filter((l) => l.window === '#room' && l.kind === 'privmsg');
    expect(shown.map((l) => [l.text, l.older ?? 'live'])).toEqual([['live one', 'live'], ['one', 'time'], ['two', 'time']]);
  });

  it('asks for older lines when the log is scrolled to its top, until the server has none', () => {
    const { chat, hear, sent } = withHistory();
    hear(':alice!~alice@h JOIN #room', ...batch('#room', 'b1', ['five', 'six'], 5));
    const w = chat.findWindow('#room')!;
    sent.length = 0;
    fetchOlder(chat, w);
    fetchOlder(chat, w); // one at a time
    expect(sent).toEqual(['CHATHISTORY BEFORE #room msgid=h5 50']);
    hear(...batch('#room', 'b2', ['three', 'four'], 3));
    fetchOlder(chat, w);
    expect(sent.at(-1)).toBe('CHATHISTORY BEFORE #room msgid=h3 50');
    hear(':irc BATCH +b3 chathistory #room', ':irc BATCH -b3');
    const before = sent.length;
    fetchOlder(chat, w);
    expect(sent.length).toBe(before);
  });

  it('fills the gap after a reconnect: what was said since the newest line each window has', () => {
    const { chat, hear } = withHistory();
    hear(':alice!~alice@h JOIN #room', ...batch('#room', 'b1', ['one', 'two']));
    hear(`@time=${at(40)};msgid=q1 :bob!~bob@h PRIVMSG alice :psst`);
    chat.socketClosed(1006);
    chat.socketOpening();
    chat.socketOpened();
    hear(`:irc CAP * LS :${CAPS}`, `:irc CAP * ACK :${CAPS}`);
    chat.account = 'alice';
    const after = hear(':irc 001 alice :Welcome', ':alice!~alice@h JOIN #room');
    expect(after).toContain('CHATHISTORY AFTER bob msgid=q1 1000');
    expect(after).toContain('CHATHISTORY AFTER #room msgid=h2 1000');
  });

  it('opens the private conversations TARGETS lists, without showing them, with their history', () => {
    const { welcome, hear, chat, record } = withHistory('');
    expect(welcome.find((l) => l.startsWith('CHATHISTORY TARGETS'))).toMatch(/^CHATHISTORY TARGETS timestamp=\S+ timestamp=\S+ 50$/);
    const asked = hear(
      ':irc BATCH +t1 draft/chathistory-targets',
      `@batch=t1 :irc CHATHISTORY TARGETS #room ${at(1)}`,
      `@batch=t1 :irc CHATHISTORY TARGETS dave ${at(2)}`,
      ':irc BATCH -t1',
    );
    expect(asked).toEqual(['CHATHISTORY LATEST dave * 50']);
    expect(chat.findWindow('dave')?.type).toBe('query');
    expect(chat.findWindow('#room')).toBeNull();
    expect(record.shown).not.toBe('dave');
  });

  it('lists no conversations for a user not logged in', () => {
    const { welcome } = withHistory('', null);
    expect(welcome.some((l) => l.startsWith('CHATHISTORY TARGETS'))).toBe(false);
  });
});

describe('read markers on the page', () => {
  it('counts as unread only what comes after the account\'s marker, and places the new-messages line there', () => {
    const { chat, hear, record } = withHistory('#room,#other');
    hear(':alice!~alice@h JOIN #room', ':alice!~alice@h JOIN #other');
    chat.show(chat.findWindow('#other'));
    hear(`:irc MARKREAD #room timestamp=${at(2)}`, ...batch('#room', 'b1', ['one', 'two', 'three', 'four']));
    expect(chat.findWindow('#room')!.unread).toBe(2);
    expect(record.readMarkers['#room']).toBe(Date.parse(at(2)));
    // Another tab reads #room to its end: the count here goes too.
    hear(`:irc MARKREAD #room timestamp=${at(4)}`);
    expect(chat.findWindow('#room')!.unread).toBe(0);
    expect(record.unread['#room']).toBe(0);
  });

  it('tells the server how far the user has read when a window is shown, only forward', () => {
    const { chat, hear, sent } = withHistory('#room,#other');
    hear(':alice!~alice@h JOIN #room', ':alice!~alice@h JOIN #other');
    chat.show(chat.findWindow('#other'));
    hear(...batch('#room', 'b1', ['one', 'two']));
    sent.length = 0;
    chat.show(chat.findWindow('#room'));
    expect(sent).toEqual([`MARKREAD #room timestamp=${at(2)}`]);
    chat.show(chat.findWindow('#other'));
    chat.show(chat.findWindow('#room'));
    expect(sent).toHaveLength(1);
  });
});
