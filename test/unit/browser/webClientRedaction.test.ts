// The web client and deleted messages (src/browser/webClient/redaction.ts): a REDACT, live or in
// a history batch, turns the line into a placeholder; /delete deletes one's own latest message;
// the server's refusal is said.
import { describe, expect, it } from 'vitest';
import { harness } from './webClientHarness.js';

const CAPS = 'batch server-time message-tags echo-message draft/chathistory draft/message-redaction';

function withRedaction(caps = CAPS) {
  const h = harness();
  expect(h.chat.login({ nick: 'alice', channels: '#room', password: '' })).toBeNull();
  h.chat.socketOpening();
  h.chat.socketOpened();
  h.hear(`:irc CAP * LS :${caps}`);
  h.hear(`:irc CAP * ACK :${caps}`);
  h.hear(':irc 001 alice :Welcome', ':irc 005 alice CASEMAPPING=rfc1459 CHANTYPES=# NETWORK=testnet PREFIX=(ov)@+ :are supported');
  h.hear(':alice!~alice@h JOIN #room');
  return h;
}

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 11, 0, s)).toISOString();
const line = (msgid: string, s: number, from: string, text: string, target = '#room') => `@time=${at(s)};msgid=${msgid} :${from}!~${from}@h PRIVMSG ${target} :${text}`;

describe('deleted messages on the page', () => {
  it('asks for draft/message-redaction when offered', () => {
    const h = harness();
    h.chat.login({ nick: 'alice', channels: '#room', password: '' });
    h.chat.socketOpening();
    h.chat.socketOpened();
    expect(h.hear(`:irc CAP * LS :${CAPS}`).find((l) => l.startsWith('CAP REQ'))).toContain('draft/message-redaction');
  });

  it('turns a live REDACT into the placeholder, keeping time and sender, with the reason; ignores an unknown msgid', () => {
    const { hear, lines } = withRedaction();
    hear(line('m1', 1, 'bob', 'oops'), line('m2', 2, 'bob', 'fine'));
    hear(':bob!~bob@h REDACT #room m1 :typo', ':bob!~bob@h REDACT #room never-shown');
    const shown = lines().filter((l) => l.window === '#room' && l.kind === 'privmsg');
    expect(shown.map((l) => [l.from, l.text, l.deleted ?? false])).toEqual([
      ['bob', '(message deleted: typo)', true],
      ['bob', 'fine', false],
    ]);
  });

  it('applies a REDACT inside a history batch to a line of that batch', () => {
    const { hear, lines } = withRedaction();
    hear(
      ':irc BATCH +b1 chathistory #room',
      `@batch=b1;time=${at(1)};msgid=h1 :bob!~bob@h PRIVMSG #room :kept`,
      `@batch=b1;time=${at(2)};msgid=h2 :bob!~bob@h PRIVMSG #room :gone`,
      `@batch=b1;time=${at(3)};msgid=h3 :bob!~bob@h REDACT #room h2`,
      ':irc BATCH -b1',
    );
    expect(lines().filter((l) => l.window === '#room' && l.kind === 'privmsg').map((l) => l.text)).toEqual(['kept', '(message deleted)']);
  });

  it('deletes one\'s own latest message with /delete, then the one before, and says when there is none', () => {
    const { chat, hear, sent, lines } = withRedaction();
    hear(line('a1', 1, 'alice', 'first'), line('a2', 2, 'alice', 'second'), line('b1', 3, 'bob', 'not mine'));
    sent.length = 0;
    chat.input('/delete wrong channel');
    chat.input('/delete');
    expect(sent).toEqual(['REDACT #room a2 :wrong channel', 'REDACT #room a1']);
    chat.input('/delete');
    expect(sent).toHaveLength(2);
    expect(lines().at(-1)?.text).toBe('You have no message here to delete.');
  });

  it('says the server refused, and that a server without the capability cannot delete', () => {
    const { hear, lines } = withRedaction();
    hear(':irc FAIL REDACT REDACT_FORBIDDEN #room b1 :You may not delete that message');
    expect(lines().at(-1)?.text).toBe('The message was not deleted: You may not delete that message');
    const plain = withRedaction('batch server-time message-tags echo-message');
    plain.hear(line('a1', 1, 'alice', 'mine'));
    plain.sent.length = 0;
    plain.chat.input('/delete');
    expect(plain.sent).toEqual([]);
    expect(plain.lines().at(-1)?.text).toBe('This server does not let messages be deleted.');
  });
});
