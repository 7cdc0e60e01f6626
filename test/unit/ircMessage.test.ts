import { describe, expect, it } from 'vitest';
import { message, parseMessage, serializeMessage, splitUserhost, type IrcMessage } from '../../src/irc/wire/message.js';

const msg = (m: Partial<IrcMessage> & { command: string }): IrcMessage => ({ tags: {}, source: null, params: [], ...m });

describe('parseMessage', () => {
  it('reads tags, source, command, middle params and a trailing param with spaces', () => {
    expect(parseMessage('@id=1;+draft/x :nick!u@h PRIVMSG #chan :hello there :)')).toEqual(msg({
      tags: { id: '1', '+draft/x': '' }, source: 'nick!u@h', command: 'PRIVMSG', params: ['#chan', 'hello there :)'],
    }));
  });

  it('returns null for an empty or blank line', () => {
    expect(parseMessage('')).toBeNull();
    expect(parseMessage('    ')).toBeNull();
  });

  it('returns null for tags or a source with no command', () => {
    expect(parseMessage('@a=b')).toBeNull();
    expect(parseMessage('@a=b   ')).toBeNull();
    expect(parseMessage(':server')).toBeNull();
    expect(parseMessage('@a=b :server ')).toBeNull();
  });

  it('tolerates several spaces between parts, and leading spaces', () => {
    expect(parseMessage('  @a=b   :src   NICK    new   :x  y')).toEqual(msg({
      tags: { a: 'b' }, source: 'src', command: 'NICK', params: ['new', 'x  y'],
    }));
  });

  it('keeps an empty trailing param but no param for trailing spaces', () => {
    expect(parseMessage('AWAY :')?.params).toEqual(['']);
    expect(parseMessage('AWAY   ')?.params).toEqual([]);
  });

  it('splits only on spaces: tabs and a lone CR stay inside a param', () => {
    expect(parseMessage('PRIVMSG a\tb :x\ry')?.params).toEqual(['a\tb', 'x\ry']);
  });

  it('keeps the command as sent; the dispatcher decides its case', () => {
    expect(parseMessage('privmsg x')?.command).toBe('privmsg');
  });

  it('unescapes tag values: \\: \\s \\\\ \\r \\n, unknown escapes and a lone trailing backslash', () => {
    expect(parseMessage('@a=x\\:y\\sz\\\\w\\r\\n;b=\\q\\;c=end\\ CMD')?.tags).toEqual({
      a: 'x;y z\\w\r\n', b: 'q', c: 'end',
    });
  });

  it('gives a tag with no value or an empty value the value \'\', and keeps the last duplicate', () => {
    expect(parseMessage('@a;b=;c=1;c=2 CMD')?.tags).toEqual({ a: '', b: '', c: '2' });
  });

  it('ignores empty tags and tags with an empty key', () => {
    expect(parseMessage('@;a=1;;=x; CMD')?.tags).toEqual({ a: '1' });
  });

  it('treats a __proto__ tag as an ordinary tag, not a prototype', () => {
    const tags = parseMessage('@__proto__=x;constructor=y CMD')?.tags ?? {};
    expect(Object.keys(tags)).toEqual(['__proto__', 'constructor']);
    expect(tags['__proto__']).toBe('x');
    expect(parseMessage('@a CMD')?.tags['toString']).toBeUndefined();
  });

  it('parses a 15-param line and more: the limit is the dispatcher\'s business', () => {
    const params = Array.from({ length: 20 }, (_, i) => `p${i}`);
    expect(parseMessage(`CMD ${params.join(' ')}`)?.params).toEqual(params);
  });
});

describe('serializeMessage', () => {
  it('writes tags, source, command and params and ends with CRLF', () => {
    expect(serializeMessage(msg({
      tags: { time: '2024-01-01T00:00:00.000Z', bot: '' }, source: 'irc.example', command: '001', params: ['nick', 'Welcome home'],
    }))).toBe('@time=2024-01-01T00:00:00.000Z;bot :irc.example 001 nick :Welcome home\r\n');
  });

  it('writes a message built with message() with no tags and no source', () => {
    expect(serializeMessage(message('PING', 'token'))).toBe('PING token\r\n');
    expect(serializeMessage(message('QUIT'))).toBe('QUIT\r\n');
  });

  it('makes the last param trailing only when it is empty, has a space or starts with a colon', () => {
    expect(serializeMessage(message('X', 'a', 'b'))).toBe('X a b\r\n');
    expect(serializeMessage(message('X', 'a', ''))).toBe('X a :\r\n');
    expect(serializeMessage(message('X', 'a', 'b c'))).toBe('X a :b c\r\n');
    expect(serializeMessage(message('X', 'a', ':b'))).toBe('X a ::b\r\n');
  });

  it('always writes the text of PRIVMSG, NOTICE, PART, QUIT, KICK, TOPIC and AWAY as trailing, and only the text', () => {
    const src = (m: ReturnType<typeof message>) => serializeMessage({ ...m, source: 'a!b@c' });
    expect(src(message('PRIVMSG', 'bob', 'hello'))).toBe(':a!b@c PRIVMSG bob :hello\r\n');
    expect(src(message('NOTICE', '#c', 'hi'))).toBe(':a!b@c NOTICE #c :hi\r\n');
    expect(src(message('PART', '#c', 'bye'))).toBe(':a!b@c PART #c :bye\r\n');
    expect(src(message('QUIT', 'Leaving'))).toBe(':a!b@c QUIT :Leaving\r\n');
    expect(src(message('KICK', '#c', 'bob', 'out'))).toBe(':a!b@c KICK #c bob :out\r\n');
    expect(src(message('TOPIC', '#c', 'news'))).toBe(':a!b@c TOPIC #c :news\r\n');
    expect(src(message('AWAY', 'lunch'))).toBe(':a!b@c AWAY :lunch\r\n');
    // Without a text, the last param is the channel or the nick: it stays a middle param.
    expect(src(message('PART', '#c'))).toBe(':a!b@c PART #c\r\n');
    expect(src(message('KICK', '#c', 'bob'))).toBe(':a!b@c KICK #c bob\r\n');
    expect(src(message('TOPIC', '#c'))).toBe(':a!b@c TOPIC #c\r\n');
    expect(src(message('JOIN', '#c'))).toBe(':a!b@c JOIN #c\r\n');
  });

  it('escapes tag values per IRCv3, CR and LF included, and writes an empty value as a bare key', () => {
    expect(serializeMessage(msg({ tags: { a: 'x;y z\\w\r\n', b: '' }, command: 'CMD' })))
      .toBe('@a=x\\:y\\sz\\\\w\\r\\n;b CMD\r\n');
  });

  it('turns CR, LF and NUL in the trailing param into spaces, so no second command can be smuggled', () => {
    expect(serializeMessage(message('PRIVMSG', '#c', 'hi\r\nQUIT :bye\0'))).toBe('PRIVMSG #c :hi  QUIT :bye \r\n');
    expect(serializeMessage(message('TOPIC', '#c', 'a\rb'))).toBe('TOPIC #c :a b\r\n');
  });

  it('keeps words one word: spaces and line breaks in source, command and middle params become _', () => {
    expect(serializeMessage(msg({ source: 'evil\r\nKILL x', command: 'NI CK', params: ['a b\n', 'last'] })))
      .toBe(':evil__KILL_x NI_CK a_b_ last\r\n');
  });

  it('keeps a middle param from being read as trailing: empty becomes *, a leading : becomes _', () => {
    expect(serializeMessage(message('X', '', ':a', 'end'))).toBe('X * _a end\r\n');
  });

  it('keeps a command from being read as a source or tags', () => {
    expect(serializeMessage(message(':X', 'a'))).toBe('_X a\r\n');
    expect(serializeMessage(message('@X', 'a'))).toBe('_X a\r\n');
    expect(serializeMessage(message(''))).toBe('*\r\n');
  });

  it('makes tag keys safe and drops empty ones; a NUL in a tag value becomes an escaped space', () => {
    expect(serializeMessage(msg({ tags: { 'a b;c=d\r': '1', '': 'x', k: 'v\0' }, command: 'CMD' })))
      .toBe('@a_b_c_d_=1;k=v\\s CMD\r\n');
  });

  it('leaves out an empty source', () => {
    expect(serializeMessage(msg({ source: '', command: 'PING', params: ['x'] }))).toBe('PING x\r\n');
  });

  it('round-trips through parseMessage for a well-formed message', () => {
    const m = msg({ tags: { 'example.com/t': 'a b;c\\d' }, source: 'n!u@h', command: 'PRIVMSG', params: ['#ch', ':) 你好 👋'] });
    expect(parseMessage(serializeMessage(m).slice(0, -2))).toEqual(m);
  });
});

describe('splitUserhost', () => {
  it('splits nick!user@host', () => {
    expect(splitUserhost('nick!~user@host.example')).toEqual({ nick: 'nick', user: '~user', host: 'host.example' });
  });

  it('gives \'\' for the parts that are absent', () => {
    expect(splitUserhost('irc.example.com')).toEqual({ nick: 'irc.example.com', user: '', host: '' });
    expect(splitUserhost('nick@host')).toEqual({ nick: 'nick', user: '', host: 'host' });
    expect(splitUserhost('nick!user')).toEqual({ nick: 'nick', user: 'user', host: '' });
  });

  it('reads a ! after the @ as part of the host', () => {
    expect(splitUserhost('nick@ho!st')).toEqual({ nick: 'nick', user: '', host: 'ho!st' });
  });
});
