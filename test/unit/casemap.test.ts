import { describe, expect, it } from 'vitest';
import { fold, isValidChannelName, isValidNick, matchesMask, sameName } from '../../src/irc/wire/casemap.js';

describe('fold and sameName (rfc1459)', () => {
  it('folds ASCII letters and []\\~ to {}|^', () => {
    expect(fold('Nick[A]\\^')).toBe('nick{a}|~');
    expect(sameName('[Foo]', '{foo}')).toBe(true);
    expect(sameName('foo', 'fo')).toBe(false);
  });
});

describe('isValidNick', () => {
  it('accepts letters, digits, the RFC 2812 specials and -', () => {
    for (const nick of ['alice', 'Bob42', 'a-b', 'x[1]', 'the\\one', 'a`b', 'a^b', 'a{b}', 'a|b']) {
      expect(isValidNick(nick, 30), nick).toBe(true);
    }
  });

  it('accepts a nick that starts with a special character', () => {
    for (const nick of ['[away]', '_x', '`q', '^up', '{a}', '|b', '\\c']) expect(isValidNick(nick, 30), nick).toBe(true);
  });

  it('refuses an empty nick and one longer than maxLen', () => {
    expect(isValidNick('', 9)).toBe(false);
    expect(isValidNick('abcdefghi', 9)).toBe(true);
    expect(isValidNick('abcdefghij', 9)).toBe(false);
  });

  it('refuses a leading digit, -, #, &, :, $', () => {
    for (const nick of ['1abc', '-abc', '#abc', '&abc', ':abc', '$abc']) expect(isValidNick(nick, 30), nick).toBe(false);
  });

  it('refuses space, comma, *, ?, !, @, . and anything outside ASCII anywhere', () => {
    for (const c of [' ', ',', '*', '?', '!', '@', '.', '\r', '\n', '\0', 'é', '👋']) {
      expect(isValidNick(`a${c}b`, 30), JSON.stringify(c)).toBe(false);
    }
  });
});

describe('isValidChannelName', () => {
  it('accepts a # name with UTF-8, colons and punctuation', () => {
    for (const name of ['#chan', '#a:b', '#ça-va', '#👋', '##rust', '#a.b!c']) expect(isValidChannelName(name, 50), name).toBe(true);
  });

  it('refuses a name that does not start with # (the only CHANTYPE), and a bare #', () => {
    for (const name of ['chan', '&chan', '+chan', '!chan', '#', '']) expect(isValidChannelName(name, 50), name).toBe(false);
  });

  it('refuses space, comma, BEL, NUL, CR and LF', () => {
    for (const c of [' ', ',', '\x07', '\0', '\r', '\n']) expect(isValidChannelName(`#a${c}b`, 50), JSON.stringify(c)).toBe(false);
  });

  it('refuses control, bidi and zero-width characters: they reach terminals raw, or make one name look like another', () => {
    const refused = ['\x1b', '\x03', '\x7f', '\x9b', '\u202e', '\u2066', '\u200b', '\u200d', '\u2060', '\ufeff', '\u061c'];
    for (const c of refused) expect(isValidChannelName(`#a${c}b`, 50), JSON.stringify(c)).toBe(false);
    // Letters beside them stay: accents, CJK.
    for (const name of ['#日本語', '#café', '#a-b']) expect(isValidChannelName(name, 50), name).toBe(true);
  });

  it('measures maxLen in UTF-8 bytes', () => {
    expect(isValidChannelName('#abcd', 5)).toBe(true);
    expect(isValidChannelName('#abcde', 5)).toBe(false);
    expect(isValidChannelName('#éé', 5)).toBe(true);
    expect(isValidChannelName('#ééa', 5)).toBe(false);
  });
});

describe('matchesMask', () => {
  it('matches * as any run, including none, and ? as exactly one character', () => {
    expect(matchesMask('*!*@*', 'n!u@h')).toBe(true);
    expect(matchesMask('n*!*@host', 'n!u@host')).toBe(true);
    expect(matchesMask('n?!*@*', 'nx!u@h')).toBe(true);
    expect(matchesMask('n?!*@*', 'n!u@h')).toBe(false);
    expect(matchesMask('*@*.example', 'n!u@h.example.org')).toBe(false);
  });

  it('compares under rfc1459 case mapping', () => {
    expect(matchesMask('NICK[A]!*@*', 'nick{a}!u@h')).toBe(true);
    expect(matchesMask('*!*@HOST.Example', 'n!u@host.example')).toBe(true);
  });

  it('treats regex and glob metacharacters other than * and ? as literals', () => {
    expect(matchesMask('a.b!*@*', 'axb!u@h')).toBe(false);
    expect(matchesMask('a+(b)$!*@*', 'a+(b)$!u@h')).toBe(true);
  });

  it('backtracks past an early partial match', () => {
    expect(matchesMask('*ab', 'aab')).toBe(true);
    expect(matchesMask('*a*b*c', 'xaxbxbxc')).toBe(true);
    expect(matchesMask('*a*b*c', 'xaxbxbx')).toBe(false);
  });

  it('answers quickly for a mask made to blow up a backtracking matcher', () => {
    const mask = `${'*a'.repeat(200)}*b`;
    const name = 'a'.repeat(5000);
    const started = performance.now();
    expect(matchesMask(mask, name)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
