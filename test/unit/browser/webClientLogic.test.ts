// The web client's pure helpers, in Node without a browser: its IRC on top of the server's
// wire code, what 005 tells it, how text is shown, how a paste is paced, when it reconnects.
import { describe, expect, it } from 'vitest';
import { countdownText, maxRetryMs, reconnectDelayMs } from '../../../src/browser/webClient/backoff.js';
import { folderFor, lineOf, messagePieces, parseLine } from '../../../src/browser/webClient/irc.js';
import { chunkBytes, Outbox } from '../../../src/browser/webClient/outbox.js';
import {
  defaultSettings,
  memberModeChanges,
  parseNamesEntry,
  readIsupport,
  sortMembers,
  symbolOf,
  withMode,
} from '../../../src/browser/webClient/server.js';
import { clean, colourOf, hhmm } from '../../../src/browser/webClient/text.js';
import { fold } from '../../../src/irc/wire/casemap.js';

describe('the page reads and writes lines with the server’s parser and serialiser', () => {
  it('parses tags, source and params, upper-casing the command and taking the nick from the source', () => {
    expect(parseLine('@time=2026-01-01T00:00:00.000Z;msgid=a\\sb :alice!~alice@host privmsg #room :hi there')).toEqual({
      tags: { time: '2026-01-01T00:00:00.000Z', msgid: 'a b' },
      source: 'alice!~alice@host',
      nick: 'alice',
      command: 'PRIVMSG',
      params: ['#room', 'hi there'],
    });
    expect(parseLine('PING :x')).toMatchObject({ source: '', nick: '', command: 'PING', params: ['x'] });
    expect(parseLine(':irc.example 001 alice :Welcome')).toMatchObject({ nick: 'irc.example', command: '001' });
    expect(parseLine('')).toBeNull();
    expect(parseLine('@only=tags')).toBeNull();
  });

  it('writes one line without CRLF, the last param trailing when it must be, CR and LF made harmless', () => {
    expect(lineOf('PRIVMSG', ['#room', 'hello world'])).toBe('PRIVMSG #room :hello world');
    expect(lineOf('NICK', ['alice'])).toBe('NICK alice');
    expect(lineOf('PONG', [''])).toBe('PONG :');
    expect(lineOf('LIST', [])).toBe('LIST');
    expect(lineOf('PRIVMSG', ['#room', 'a\r\nQUIT :bye'])).toBe('PRIVMSG #room :a  QUIT :bye');
    expect(lineOf('JOIN', ['#a b', 'key'])).toBe('JOIN #a_b key');
  });
});

describe('case folding', () => {
  it('folds with the server’s rfc1459 mapping unless the server says ascii', () => {
    const rfc = folderFor('rfc1459');
    expect(rfc).toBe(fold);
    expect(rfc('[Alice]\\^')).toBe('{alice}|~');
    expect(rfc('Émile')).toBe('Émile'); // non-ASCII is left alone, as the server leaves it
    const ascii = folderFor('ascii');
    expect(ascii('[Alice]')).toBe('[alice]');
  });
});

describe('splitting a long message to send', () => {
  it('cuts so that each PRIVMSG, as relayed with our source and a 63-byte host, fits 512 bytes', () => {
    const from = { nick: 'writer', user: 'writer', target: '#hostile' };
    const text = Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const pieces = messagePieces(text, from);
    expect(pieces.join('')).toBe(text);
    const host = 'h'.repeat(63);
    for (const p of pieces) expect(Buffer.byteLength(`:writer!~writer@${host} PRIVMSG #hostile :${p}\r\n`)).toBeLessThanOrEqual(512);
    expect(pieces.every((p) => p.length <= 450)).toBe(true);
  });

  it('leaves room for the CTCP ACTION wrapping, and splits prose at spaces', () => {
    const from = { nick: 'n', user: 'n', target: '#c' };
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const pieces = messagePieces(words, from, 9);
    expect(pieces.join(' ')).toBe(words);
    for (const p of pieces) expect(Buffer.byteLength(`:n!~n@${'h'.repeat(63)} PRIVMSG #c :\x01ACTION ${p}\x01\r\n`)).toBeLessThanOrEqual(512);
    for (const p of pieces) expect(p).toMatch(/^word\d+( word\d+)*$/);
  });

  it('keeps multi-byte characters whole', () => {
    const pieces = messagePieces('ä😀'.repeat(500), { nick: 'n', user: 'n', target: '#c' });
    expect(pieces.join('')).toBe('ä😀'.repeat(500));
    for (const p of pieces) expect(Buffer.from(p).toString()).toBe(p);
  });
});

describe('what 005 tells the page', () => {
  it('reads PREFIX, CHANMODES, CHANTYPES, CASEMAPPING and NETWORK, and ignores the rest', () => {
    expect(readIsupport('PREFIX=(qov)~@+')).toEqual({ prefixModes: 'qov', prefixSymbols: '~@+' });
    expect(readIsupport('PREFIX=(ov)@')).toEqual({});
    expect(readIsupport('CHANMODES=b,k,l,imnst')).toEqual({ chanModes: ['b', 'k', 'l', 'imnst'] });
    expect(readIsupport('CHANTYPES=')).toEqual({ chanTypes: '#' });
    expect(readIsupport('CASEMAPPING=ascii')).toEqual({ caseMapping: 'ascii' });
    expect(readIsupport('NETWORK=Example')).toEqual({ network: 'Example' });
    expect(readIsupport('NETWORK=')).toEqual({});
    expect(readIsupport('NICKLEN=30')).toEqual({});
  });

  it('reads NAMES entries with all their prefixes (multi-prefix) and without a userhost', () => {
    const s = defaultSettings();
    expect(parseNamesEntry('@+alice', s)).toEqual({ nick: 'alice', modes: 'ov' });
    expect(parseNamesEntry('+bob!~bob@host', s)).toEqual({ nick: 'bob', modes: 'v' });
    expect(parseNamesEntry('carol', s)).toEqual({ nick: 'carol', modes: '' });
    expect(parseNamesEntry('', s)).toBeNull();
  });

  it('matches each member mode of a MODE line with its nick, past the parameters of other modes', () => {
    const s = defaultSettings();
    expect(memberModeChanges('+lko-v', ['10', 'secret', 'alice', 'bob'], s)).toEqual([
      { nick: 'alice', mode: 'o', add: true },
      { nick: 'bob', mode: 'v', add: false },
    ]);
    // -l takes no parameter (CHANMODES type C), -k does (type B).
    expect(memberModeChanges('-lko', ['key', 'carol'], s)).toEqual([{ nick: 'carol', mode: 'o', add: false }]);
    expect(withMode('v', 'o', true)).toBe('vo');
    expect(withMode('vo', 'o', true)).toBe('vo');
    expect(withMode('vo', 'v', false)).toBe('o');
  });

  it('lists members by rank, then by folded nick, with their highest prefix', () => {
    const s = defaultSettings();
    const members = [
      { nick: 'zed', modes: '' },
      { nick: 'Bob', modes: 'v' },
      { nick: 'carol', modes: 'vo' },
      { nick: 'alice', modes: '' },
      { nick: 'amy', modes: 'o' },
    ];
    expect(sortMembers(members, s, fold).map((m) => symbolOf(m, s) + m.nick)).toEqual(['@amy', '@carol', '+Bob', 'alice', 'zed']);
  });
});

describe('how text from the network is shown', () => {
  it('drops IRC formatting and makes other control characters visible', () => {
    expect(clean('tab\there \x02bold\x02 \x0304red\x03 bell\x07')).toBe('tab\u2409here bold red bell\u2407');
    expect(clean('\x0312,04blue on red\x0f \x04ff0000hex\x04 del\x7f')).toBe('blue on red hex del\u2421');
    expect(clean('<img src=x onerror=alert(1)> \u202Eok')).toBe('<img src=x onerror=alert(1)> \u202Eok');
  });

  it('gives a nick the same colour however it is cased', () => {
    expect(colourOf('[Alice]', fold)).toBe(colourOf('{alice}', fold));
    expect(colourOf('alice', fold)).toMatch(/^c[0-7]$/);
  });

  it('shows times as hh:mm', () => {
    expect(hhmm(new Date(2026, 0, 1, 7, 5))).toBe('07:05');
  });
});

describe('pacing a long paste', () => {
  const item = (n: number, size = 500) => ({ line: `PRIVMSG #c :${String(n).padStart(size - 12, 'x')}` });

  it('sends chunks of at most 3 KiB, each after the PONG of the PING that ended the last', () => {
    const box = new Outbox<{ line: string }>();
    for (let i = 0; i < 14; i++) box.push(item(i));
    const first = box.take();
    expect(first.items).toHaveLength(6); // 6 × 502 bytes with CRLF fit 3072, 7 do not
    expect(first.items.reduce((n, i) => n + Buffer.byteLength(i.line) + 2, 0)).toBeLessThanOrEqual(chunkBytes);
    expect(first.ping).toBe('chunk1');
    expect(box.take()).toEqual({ items: [], ping: null }); // waiting
    expect(box.pong('chunk0')).toBe(false);
    expect(box.pong('chunk1')).toBe(true);
    expect(box.take()).toMatchObject({ ping: 'chunk2' });
    box.pong('chunk2');
    const last = box.take();
    expect(last.items).toHaveLength(2);
    expect(last.ping).toBeNull();
    expect(box.waiting).toBe(0);
  });

  it('sends a line bigger than a chunk on its own, and forgets everything when the connection goes', () => {
    const box = new Outbox<{ line: string }>(100);
    box.push(item(1, 500));
    box.push(item(2, 50));
    expect(box.take().items).toHaveLength(1);
    expect(box.clear()).toBe(1);
    expect(box.pong('chunk1')).toBe(false);
    expect(box.take()).toEqual({ items: [], ping: null });
  });
});

describe('reconnecting', () => {
  it('waits 1 s, 2 s, 4 s... up to 30 s, each within 20% jitter', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((a) => reconnectDelayMs(a, middle))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(reconnectDelayMs(0, () => 0)).toBe(800);
    expect(reconnectDelayMs(10, () => 0.999_999)).toBeLessThanOrEqual(maxRetryMs * 1.2);
    expect(reconnectDelayMs(10, () => 0.999_999)).toBeGreaterThan(maxRetryMs * 1.19);
  });

  it('counts down in whole seconds', () => {
    expect(countdownText('Lost.', 2_100)).toBe('Lost. Reconnecting in 3 s.');
    expect(countdownText('Lost.', -50)).toBe('Lost. Reconnecting in 0 s.');
  });
});
