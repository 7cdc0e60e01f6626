import { describe, expect, it, vi } from 'vitest';
import { decodeUtf8, frameReply, unterminatedReply, type FrameResult } from '../../src/greeting/frame.js';

const bytes = (s: string | number[]): Uint8Array =>
  typeof s === 'string' ? new TextEncoder().encode(s) : new Uint8Array(s);
const empty: Uint8Array = new Uint8Array(0);

/** Feeds chunks one by one like the connection machine does; returns the first non-partial result. */
function feed(chunks: Uint8Array[], max: number): FrameResult {
  let buffered = empty;
  let last: FrameResult = { kind: 'partial', buffered };
  for (const chunk of chunks) {
    last = frameReply(buffered, chunk, max);
    if (last.kind !== 'partial') return last;
    buffered = last.buffered;
  }
  return last;
}

const lineText = (r: FrameResult): string => {
  if (r.kind !== 'line') throw new Error(`expected a line, got ${r.kind}`);
  return decodeUtf8(r.line);
};

describe('frameReply', () => {
  it('returns the first LF-terminated line without its terminator', () => {
    expect(lineText(feed([bytes('hello\n')], 100))).toBe('hello');
  });

  it('strips one CR of a CRLF line end', () => {
    expect(lineText(feed([bytes('hello\r\n')], 100))).toBe('hello');
    expect(lineText(feed([bytes('hello\r\r\n')], 100))).toBe('hello\r');
  });

  it('ignores whatever follows the first line', () => {
    expect(lineText(feed([bytes('one\ntwo\nthree\n')], 100))).toBe('one');
  });

  it('joins a line split across packets, including a CRLF split between them', () => {
    expect(lineText(feed([bytes('he'), bytes('llo\r'), bytes('\nrest')], 100))).toBe('hello');
  });

  it('keeps a copy, not a view of the caller\'s buffer', () => {
    const chunk = bytes('abc');
    const r = frameReply(empty, chunk, 10);
    chunk.fill(0x7a);
    expect(r.kind === 'partial' && decodeUtf8(r.buffered)).toBe('abc');
  });

  it('accepts a line of exactly the limit, LF or CRLF', () => {
    expect(lineText(feed([bytes('abcd\n')], 4))).toBe('abcd');
    expect(lineText(feed([bytes('abcd\r\n')], 4))).toBe('abcd');
    expect(lineText(feed([bytes('ab'), bytes('cd\r'), bytes('\n')], 4))).toBe('abcd');
  });

  it('refuses a line one byte over the limit, whole or in pieces', () => {
    expect(feed([bytes('abcde\n')], 4).kind).toBe('overflow');
    expect(feed([bytes('abc'), bytes('de')], 4).kind).toBe('overflow');
    expect(feed([bytes('abcd'), bytes('e')], 4).kind).toBe('overflow');
  });

  it('never holds more than the limit plus one byte', () => {
    let buffered = empty;
    for (let i = 0; i < 100; i++) {
      const r = frameReply(buffered, bytes('x'), 16);
      if (r.kind !== 'partial') {
        expect(r.kind).toBe('overflow');
        expect(i).toBe(16);
        return;
      }
      expect(r.buffered.length).toBeLessThanOrEqual(17);
      buffered = r.buffered;
    }
    throw new Error('never overflowed');
  });

  it('lets the pending CR of a CRLF take the one extra byte only', () => {
    const r = feed([bytes('abcd\r')], 4);
    expect(r.kind).toBe('partial');
    expect(feed([bytes('abcd\r'), bytes('x')], 4).kind).toBe('overflow');
  });

  it('refuses a chunk that is far too long without copying it into the buffer', () => {
    const huge = new Uint8Array(1_000_000).fill(0x61);
    // Every byte array made while framing, by its length: a copy of the chunk would show here.
    const made: number[] = [];
    vi.stubGlobal(
      'Uint8Array',
      new Proxy(Uint8Array, {
        construct(target, args, newTarget) {
          const arr = Reflect.construct(target, args, newTarget) as Uint8Array;
          made.push(arr.length);
          return arr;
        },
      }),
    );
    let results: FrameResult[];
    try {
      results = [frameReply(empty, huge, 4096), frameReply(bytes('abc'), huge, 4096)];
    } finally {
      vi.unstubAllGlobals();
    }
    // Refused with nothing kept, and no buffer as large as the chunk was ever allocated.
    for (const r of results) expect(r).toEqual({ kind: 'overflow' });
    expect(made.filter((n) => n > 4096 + 1)).toEqual([]);
  });
});

describe('decodeUtf8', () => {
  it('decodes a multi-byte character split across packets once the line is whole', () => {
    const euro = bytes('€ ok\n'); // € is E2 82 AC
    for (let cut = 1; cut < 3; cut++) {
      expect(lineText(feed([euro.subarray(0, cut), euro.subarray(cut)], 100))).toBe('€ ok');
    }
  });

  it('turns invalid bytes into U+FFFD', () => {
    expect(decodeUtf8(bytes([0x61, 0xff, 0x62, 0xc3]))).toBe('a\uFFFDb\uFFFD');
  });

  it('keeps NUL and control bytes as characters (escaping is the logger\'s job)', () => {
    expect(decodeUtf8(bytes([0x00, 0x1b]))).toBe('\u0000\u001b');
  });
});

describe('unterminatedReply', () => {
  it('drops one trailing CR', () => {
    expect(decodeUtf8(unterminatedReply(bytes('hi\r')))).toBe('hi');
    expect(decodeUtf8(unterminatedReply(bytes('hi')))).toBe('hi');
  });
});
