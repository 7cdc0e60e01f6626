// Typing notifications in the web client (src/browser/webClient/typing.ts and its use in
// chat.ts and incoming.ts), on the page's clock: what it sends as the user types, pauses,
// clears the box or sends; and who it shows typing, until they stop, speak, leave or go quiet.
import { describe, expect, it } from 'vitest';
import { typingInput, typingTick } from '../../../src/browser/webClient/presence.js';
import { registered } from './webClientHarness.js';

function inRoom() {
  const h = registered();
  h.chat.caps.add('message-tags');
  h.hear(':alice!~alice@h JOIN #room', ':irc 353 alice = #room :@alice bob carol', ':irc 366 alice #room :End of /NAMES list');
  h.sent.length = 0;
  return h;
}

describe('typing, sent', () => {
  it('says active at most every 3 s while typing, paused after 5 s without a key, done when the box is emptied', () => {
    const { chat, sent, clock } = inRoom();
    typingInput(chat, 'h');
    typingInput(chat, 'he');
    expect(sent).toEqual(['@+typing=active TAGMSG #room']);
    clock.now += 3_000;
    typingInput(chat, 'hel');
    expect(sent).toEqual(['@+typing=active TAGMSG #room', '@+typing=active TAGMSG #room']);
    clock.now += 4_000;
    typingTick(chat);
    expect(sent).toHaveLength(2);
    clock.now += 1_000;
    typingTick(chat);
    typingTick(chat);
    expect(sent.at(-1)).toBe('@+typing=paused TAGMSG #room');
    expect(sent).toHaveLength(3);
    typingInput(chat, '');
    expect(sent.at(-1)).toBe('@+typing=done TAGMSG #room');
    // A command is not typing; nothing more to say.
    typingInput(chat, '/whois bob');
    expect(sent).toHaveLength(4);
  });

  it('says nothing more once the message is sent (the message ends it), and starts again with the next', () => {
    const { chat, sent } = inRoom();
    typingInput(chat, 'hi');
    chat.input('hi');
    expect(sent).toEqual(['@+typing=active TAGMSG #room', 'PRIVMSG #room :hi']);
    typingInput(chat, '');
    expect(sent).toHaveLength(2);
    typingInput(chat, 'n');
    expect(sent.at(-1)).toBe('@+typing=active TAGMSG #room');
  });

  it('sends nothing without message-tags, or in the server window', () => {
    const h = registered();
    h.hear(':alice!~alice@h JOIN #room', ':irc 366 alice #room :End of /NAMES list');
    h.sent.length = 0;
    typingInput(h.chat, 'hello');
    expect(h.sent).toEqual([]);
    h.chat.caps.add('message-tags');
    h.chat.show(h.chat.serverWindow());
    typingInput(h.chat, 'hello');
    expect(h.sent).toEqual([]);
  });
});

describe('typing, sent where it can go', () => {
  it('labels typing with labeled-response, and shows none of what the server answers to it', () => {
    const { chat, sent, hear, texts } = inRoom();
    chat.caps.add('labeled-response');
    chat.caps.add('batch');
    chat.openQuery('gone');
    typingInput(chat, 'are you there');
    expect(sent).toEqual(['@label=typing1;+typing=active TAGMSG gone']);
    // The nick has gone: 401, every 3 s while the user types, is not an error to show.
    hear('@label=typing1 :irc 401 alice gone :No such nick/channel');
    chat.show(chat.findWindow('#room'));
    typingInput(chat, 'x');
    expect(sent.at(-1)).toBe('@label=typing2;+typing=active TAGMSG #room');
    hear('@label=typing2 :irc ACK');
    expect([...texts('gone'), ...texts('#room'), ...texts(':server')].filter((t) => /No such|ACK/.test(t))).toEqual([]);
    // A 401 to something the user did is shown as before.
    hear(':irc 401 alice gone :No such nick/channel');
    expect(texts('gone')).toContain('gone: No such nick/channel');
  });

  it('says nothing in a channel we were kicked from', () => {
    const { chat, sent, hear, clock } = inRoom();
    typingInput(chat, 'wait');
    hear(':bob!~bob@h KICK #room alice :out');
    sent.length = 0;
    typingInput(chat, 'wait for');
    clock.now += 6_000;
    typingTick(chat);
    expect(sent).toEqual([]);
  });
});

describe('typing, shown', () => {
  it('shows who types in the window shown until they stop, speak, leave or go quiet for 6 s', () => {
    const { hear, record, clock, chat } = inRoom();
    hear('@+typing=active :bob!~bob@h TAGMSG #room');
    expect(record.typing).toBe('bob is typing\u2026');
    hear('@+typing=active;msgid=x :carol!~carol@h TAGMSG #room');
    expect(record.typing).toBe('bob and carol are typing\u2026');
    hear(':bob!~bob@h PRIVMSG #room :done typing');
    expect(record.typing).toBe('carol is typing\u2026');
    hear('@+typing=done :carol!~carol@h TAGMSG #room');
    expect(record.typing).toBe('');
    hear('@+typing=active :carol!~carol@h TAGMSG #room');
    clock.now += 5_000;
    typingTick(chat);
    expect(record.typing).toBe('carol is typing\u2026');
    clock.now += 1_000;
    typingTick(chat);
    expect(record.typing).toBe('');
    hear('@+typing=active :carol!~carol@h TAGMSG #room', ':carol!~carol@h PART #room');
    expect(record.typing).toBe('');
    // Someone we have no window with: nothing opens for a typing notice.
    hear('@+typing=active :dave!~dave@h TAGMSG alice');
    expect(record.windows).not.toContain('dave');
  });
});
