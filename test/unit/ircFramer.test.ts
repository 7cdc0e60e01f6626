import { describe, expect, it } from 'vitest';
import { LineFramer, type FramedItem } from '../../src/irc/wire/framer.js';

const enc = new TextEncoder();
const bytes = (s: string | number[]): Uint8Array => (typeof s === 'string' ? enc.encode(s) : new Uint8Array(s));
const framer = (maxLineBytes = 512, maxTagBytes = 4096): LineFramer => new LineFramer({ maxLineBytes, maxTagBytes });
const line = (text: string): FramedItem => ({ kind: 'line', text });
const tooLong: FramedItem = { kind: 'tooLong' };

/** Pushes each chunk and collects everything the framer reports. */
function feed(f: LineFramer, ...chunks: (string | number[])[]): FramedItem[] {
  return chunks.flatMap((c) => f.push(bytes(c)));
}

describe('LineFramer', () => {
  it('ends lines at CRLF or a bare LF, without either in the text', () => {
    expect(feed(framer(), 'NICK a\r\nUSER b\nPING c\r\n')).toEqual([line('NICK a'), line('USER b'), line('PING c')]);
  });

  it('holds a partial line until its end arrives, even a CRLF split in two', () => {
    const f = framer();
    expect(feed(f, 'PRIV', 'MSG #a :hi\r')).toEqual([]);
    expect(f.buffered()).toBe(15);
    expect(feed(f, '\nNEXT')).toEqual([line('PRIVMSG #a :hi')]);
    expect(f.buffered()).toBe(4);
  });

  it('leaves a lone CR inside the line, and drops only the one CR before LF', () => {
    expect(feed(framer(), 'a\rb\r\n', 'c\r\r\n')).toEqual([line('a\rb'), line('c\r')]);
  });

  it('skips empty lines without reporting them', () => {
    expect(feed(framer(), '\r\n\n\r\nPING x\n\n')).toEqual([line('PING x')]);
  });

  it('decodes UTF-8, including a character split across chunks', () => {
    const smile = Array.from(enc.encode('👋'));
    expect(feed(framer(), [0x61, ...smile.slice(0, 1)], smile.slice(1, 3), [...smile.slice(3), 0x0a]))
      .toEqual([line('a👋')]);
  });

  it('turns invalid UTF-8 into U+FFFD instead of throwing, and says the line had some', () => {
    const invalid = (text: string) => ({ ...line(text), invalidUtf8: true });
    expect(feed(framer(), [0x61, 0xff, 0xc3, 0x0a, 0xed, 0xa0, 0x80, 0x0a, 0xc3, 0xa9, 0x0a])).toEqual([invalid('a\ufffd\ufffd'), invalid('\ufffd\ufffd\ufffd'), line('é')]);
  });

  it('accepts a line of exactly maxLineBytes with its CRLF, or with a bare LF', () => {
    const text = 'x'.repeat(510);
    expect(feed(framer(512), `${text}\r\n${text}\n`)).toEqual([line(text), line(text)]);
    const f = framer(512);
    expect(feed(f, text, '\r', '\n')).toEqual([line(text)]);
  });

  it('refuses a line one byte over, whole or arriving in pieces, and carries on after it', () => {
    const text = 'x'.repeat(511);
    expect(feed(framer(512), `${text}\r\nPING a\r\n`)).toEqual([tooLong, line('PING a')]);
    expect(feed(framer(512), text.slice(0, 300), text.slice(300), '\r\nPING a\r\n')).toEqual([tooLong, line('PING a')]);
  });

  it('reports a too-long line once, as soon as it passes the limit, before its end arrives', () => {
    const f = framer(10);
    expect(feed(f, 'y'.repeat(9))).toEqual([tooLong]);
    expect(f.buffered()).toBe(0);
    expect(feed(f, 'y'.repeat(100), 'yyy', 'y\r\nOK\r\n')).toEqual([line('OK')]);
  });

  it('counts a lone CR against the limit but not the CR of a CRLF still waiting for its LF', () => {
    const f = framer(10);
    expect(feed(f, '12345678\r')).toEqual([]);
    expect(feed(f, 'z')).toEqual([tooLong]);
  });

  it('gives a line starting with @ up to maxTagBytes more for its tag section', () => {
    const tags = `@${'t'.repeat(18)} `; // 20 bytes: exactly maxTagBytes
    const rest = 'r'.repeat(8); // exactly maxLineBytes - 2
    expect(feed(framer(10, 20), `${tags}${rest}\r\n`)).toEqual([line(tags + rest)]);
    expect(feed(framer(10, 20), `@${'t'.repeat(19)} ${rest}\r\n`)).toEqual([tooLong]);
    expect(feed(framer(10, 20), `${tags}${rest}r\r\n`)).toEqual([tooLong]);
  });

  it('does not give the tag allowance to a line that does not start with @', () => {
    expect(feed(framer(10, 20), `x@${'t'.repeat(10)}\r\n`)).toEqual([tooLong]);
  });

  it('refuses a tag section that never ends, without waiting for its space', () => {
    const f = framer(10, 20);
    expect(feed(f, `@${'t'.repeat(19)}`)).toEqual([]);
    expect(feed(f, 't')).toEqual([tooLong]);
  });

  it('passes a line of tags alone up to the tag limit (the parser finds no command in it)', () => {
    expect(feed(framer(10, 20), `@${'t'.repeat(19)}\r\n`)).toEqual([line(`@${'t'.repeat(19)}`)]);
  });

  it('discards an 8 MiB line with no newline without buffering it', () => {
    const f = framer(512, 4096);
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const items: FramedItem[] = [];
    for (let i = 0; i < 128; i++) {
      items.push(...f.push(chunk));
      expect(f.buffered()).toBeLessThanOrEqual(512 + 4096);
    }
    expect(items).toEqual([tooLong]);
    expect(f.buffered()).toBe(0);
    expect(feed(f, '\r\nPING x\r\n')).toEqual([line('PING x')]);
  });

  it('reports a line that goes on past maxReadBytes once, as endless, and takes nothing more', () => {
    const f = new LineFramer({ maxLineBytes: 512, maxTagBytes: 4096, maxReadBytes: 16 * 1024 });
    const chunk = new Uint8Array(4 * 1024).fill(0x41);
    const items: FramedItem[] = [];
    for (let i = 0; i < 4; i++) items.push(...f.push(chunk));
    // 16 KiB exactly is still only too long.
    expect(items).toEqual([tooLong]);
    expect(f.push(bytes('A'))).toEqual([{ kind: 'endless' }]);
    expect(feed(f, '\r\nPING x\r\n')).toEqual([]);
    expect(f.buffered()).toBe(0);
  });

  it('counts a whole line in one chunk, and lines that end in time are only too long', () => {
    const small = () => new LineFramer({ maxLineBytes: 512, maxTagBytes: 4096, maxReadBytes: 8 * 1024 });
    expect(feed(small(), `${'B'.repeat(8 * 1024 + 1)}\nPING y\n`)).toEqual([tooLong, { kind: 'endless' }]);
    expect(feed(small(), `${'C'.repeat(8 * 1024)}\nPING z\n`, `${'D'.repeat(6 * 1024)}`, `${'D'.repeat(2 * 1024)}\nPING w\n`)).toEqual([
      tooLong,
      line('PING z'),
      tooLong,
      line('PING w'),
    ]);
  });

  it('keeps a copy of a partial line, not a view of the caller\'s (pooled) chunk', () => {
    const f = framer();
    const chunk = bytes('PING ab');
    f.push(chunk);
    chunk.fill(0x7a);
    expect(feed(f, 'c\n')).toEqual([line('PING abc')]);
  });
});
