// Splitting long text into pieces that fit a line (src/irc/wire/split.ts): the server packs
// name lists with it, the web client a long paste. Byte counts agree with Node's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitText, utf8Bytes } from '../../src/irc/wire/split.js';

describe('utf8Bytes', () => {
  it("counts what Buffer.byteLength counts, lone surrogates included", () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a\ud800b', '\udc00', '😀\ud83d']) expect(utf8Bytes(s), JSON.stringify(s)).toBe(Buffer.byteLength(s));
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => utf8Bytes(s) === Buffer.byteLength(s)));
  });
});

describe("splitText, 'keep' (lists of names)", () => {
  it('packs words greedily, one space apart, each piece within the budget', () => {
    expect(splitText('aaa bbb ccc ddd', 7, 'keep')).toEqual(['aaa bbb', 'ccc ddd']);
    expect(splitText('aaa bbb ccc', 8, 'keep')).toEqual(['aaa bbb', 'ccc']);
    expect(splitText('', 10, 'keep')).toEqual([]);
  });

  it('never cuts a word: one longer than the budget gets a piece of its own', () => {
    expect(splitText('a toolongword b', 5, 'keep')).toEqual(['a', 'toolongword', 'b']);
  });

  it('gives the words back when the pieces are joined with spaces', () => {
    const words = fc.array(fc.string({ minLength: 1, maxLength: 12 }).filter((w) => !w.includes(' ')), { maxLength: 60 });
    fc.assert(
      fc.property(words, fc.integer({ min: 1, max: 80 }), (ws, max) => {
        const pieces = splitText(ws.join(' '), max, 'keep');
        expect(pieces.join(' ')).toBe(ws.join(' '));
        for (const [i, p] of pieces.entries()) {
          expect(utf8Bytes(p) <= max || !p.includes(' ')).toBe(true);
          // Greedy: the next piece's first word would not have fitted.
          const next = pieces[i + 1];
          if (next !== undefined) expect(utf8Bytes(p) + 1 + utf8Bytes(next.split(' ')[0]!)).toBeGreaterThan(max);
        }
      }),
    );
  });
});

describe("splitText, 'cut' (a long message)", () => {
  it('splits at the last space that fits, dropping that space and keeping the others', () => {
    expect(splitText('hello there world', 12, 'cut')).toEqual(['hello there', 'world']);
    expect(splitText('hello there  world', 12, 'cut')).toEqual(['hello there ', 'world']);
  });

  it('cuts a word longer than a piece between code points, never inside one', () => {
    expect(splitText('x'.repeat(25), 10, 'cut')).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    const emoji = '😀'.repeat(5); // 4 bytes each
    expect(splitText(emoji, 10, 'cut')).toEqual(['😀😀', '😀😀', '😀']);
  });

  it('fills a piece less than 60% full with the start of a long word rather than sending it short', () => {
    expect(splitText(`see ${'u'.repeat(30)}`, 10, 'cut')).toEqual(['see uuuuuu', 'u'.repeat(10), 'u'.repeat(10), 'u'.repeat(4)]);
    expect(splitText(`seven ch ${'u'.repeat(30)}`, 10, 'cut')[0]).toBe('seven ch');
  });

  it('keeps every piece within the budget and loses nothing but the spaces it split at', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.integer({ min: 4, max: 120 }), (text, max) => {
        const pieces = splitText(text, max, 'cut');
        for (const p of pieces) expect(utf8Bytes(p)).toBeLessThanOrEqual(max);
        expect(pieces.join('').replaceAll(' ', '')).toBe(text.replaceAll(' ', ''));
        // No piece starts or ends inside a surrogate pair.
        for (const p of pieces) expect(Buffer.from(p).toString()).toBe(p);
      }),
    );
  });
});
