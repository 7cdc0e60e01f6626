// Our messages on their way (src/browser/webClient/echoes.ts and its use in chat.ts and
// incoming.ts): with echo-message and labeled-response, shown at once as sending, then sent
// (the echo's msgid and time) or not sent (an error answered it, or the connection dropped).
import { describe, expect, it } from 'vitest';
import { typingInput } from '../../../src/browser/webClient/presence.js';
import { registered } from './webClientHarness.js';

function labeled() {
  const h = registered();
  for (const cap of ['echo-message', 'labeled-response', 'batch', 'message-tags']) h.chat.caps.add(cap);
  h.hear(':alice!~alice@h JOIN #room');
  h.sent.length = 0;
  return h;
}

describe('our messages on their way', () => {
  it('shows a message as sending at once, and as sent with its echo\'s msgid and time, once', () => {
    const { chat, sent, lines, hear, settled, texts } = labeled();
    chat.input('hi all');
    expect(sent).toEqual(['@label=msg1 PRIVMSG #room :hi all']);
    expect(lines().at(-1)).toEqual({ window: '#room', kind: 'privmsg', from: 'alice', text: 'hi all', mine: true, sending: 'msg1' });
    hear('@label=msg1;msgid=e1;time=2026-03-04T05:06:07.000Z :alice!~alice@h PRIVMSG #room :hi all');
    expect(settled).toEqual([
      { window: '#room', label: 'msg1', result: { sent: true, msgid: 'e1', time: new Date('2026-03-04T05:06:07.000Z') } },
    ]);
    // The echo settled the line: no second one, and a replay of it is not shown either.
    hear('@msgid=e1 :alice!~alice@h PRIVMSG #room :hi all');
    expect(texts('#room').filter((t) => t === 'hi all')).toHaveLength(1);
  });

  it('shows it as not sent when an error answers it, and the error as before', () => {
    const { chat, hear, settled, texts } = labeled();
    chat.input('anyone?');
    hear('@label=msg1 :irc 404 alice #room :Cannot send to channel');
    expect(settled).toEqual([{ window: '#room', label: 'msg1', result: { sent: false, why: 'Cannot send to channel' } }]);
    expect(texts('#room').at(-1)).toBe('#room: Cannot send to channel');
  });

  it('reads an answer in a labeled-response batch, and takes one without an echo as sent', () => {
    const { chat, hear, settled, texts, lines } = labeled();
    chat.openQuery('bob');
    chat.input('lunch?');
    const before = lines().length;
    hear(
      '@label=msg1 :irc BATCH +b1 labeled-response',
      '@batch=b1;msgid=e2 :alice!~alice@h PRIVMSG bob :lunch?',
      '@batch=b1 :irc 301 alice bob :out for lunch',
      ':irc BATCH -b1',
    );
    expect(settled).toEqual([{ window: 'bob', label: 'msg1', result: { sent: true, msgid: 'e2' } }]);
    expect(lines().slice(before).map((l) => l.text)).toEqual(['bob out for lunch']);
    chat.input('ok');
    hear('@label=msg2 :irc ACK');
    expect(settled.at(-1)).toEqual({ window: 'bob', label: 'msg2', result: { sent: true } });
    expect(texts(':server').some((t) => /BATCH|ACK/.test(t))).toBe(false);
  });

  it('says what got no answer when the connection drops', () => {
    const { chat, settled } = labeled();
    chat.input('going');
    chat.socketClosed(1006);
    expect(settled).toEqual([
      { window: '#room', label: 'msg1', result: { sent: false, why: 'the connection dropped before the server confirmed it' } },
    ]);
  });

  it('labels nothing without labeled-response, nor a message to ourselves or to a service (a password is not shown)', () => {
    const plain = registered();
    plain.chat.caps.add('echo-message');
    plain.hear(':alice!~alice@h JOIN #room');
    plain.sent.length = 0;
    plain.chat.input('hi');
    expect(plain.sent).toEqual(['PRIVMSG #room :hi']);
    const { chat, sent, texts } = labeled();
    chat.input('/msg alice note');
    chat.input('/msg NickServ IDENTIFY secret');
    expect(sent).toEqual(['PRIVMSG alice :note', 'PRIVMSG NickServ :IDENTIFY secret']);
    expect(texts('nickserv')).toEqual([]);
  });

  it('shows nothing of a labeled-response batch answering our typing', () => {
    const { chat, hear, lines } = labeled();
    chat.openQuery('gone');
    typingInput(chat, 'x');
    const before = lines().length;
    hear('@label=typing1 :irc BATCH +t1 labeled-response', '@batch=t1 :irc 401 alice gone :No such nick/channel', ':irc BATCH -t1');
    expect(lines().slice(before)).toEqual([]);
  });
});
