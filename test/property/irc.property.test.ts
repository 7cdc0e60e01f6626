// Property-based tests of the pure IRC protocol layer (src/irc/wire/): the serialiser keeps
// every message one line whatever hostile text its fields hold and round-trips well-formed
// messages through the parser; the framer's output never depends on where packets were cut,
// matches a reference written here, and never holds more than its limits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineFramer, type FramedItem } from '../../src/irc/wire/framer.js';
import { parseMessage, serializeMessage, type IrcMessage } from '../../src/irc/wire/message.js';

const runs = { numRuns: 1000 };
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const utf8 = new TextEncoder();
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

// ---------------------------------------------------------------------------------------------
// Message generators

/** One character, biased towards the ones that decide a message's shape. */
const char: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('\r', '\n', '\0', ' ', ':', '@', ';', '=', '\\', '!', '\t') },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = (constraints: { minLength?: number } = {}): fc.Arbitrary<string> =>
  fc.string({ unit: char, maxLength: 12, ...constraints });
const without = (forbidden: string) => (s: string): boolean => ![...s].some((c) => forbidden.includes(c));

/** A well-formed word: what a nick, channel, command or source looks like on the wire. */
const word = text({ minLength: 1 }).filter(without(' \r\n\0'));
const middle = word.filter((w) => !w.startsWith(':'));
const command = middle.filter((w) => !w.startsWith('@'));
const tagKey = word.filter(without(';='));
const tagValue = text().filter(without('\0'));
const lastParam = text().filter(without('\r\n\0'));

const wellFormed: fc.Arbitrary<IrcMessage> = fc.record({
  tags: fc.uniqueArray(fc.tuple(tagKey, tagValue), { maxLength: 4, selector: ([k]) => k })
    .map((entries) => Object.fromEntries(entries)),
  source: fc.option(word, { nil: null }),
  command,
  params: fc.tuple(fc.array(middle, { maxLength: 4 }), fc.option(lastParam, { nil: null }))
    .map(([ms, last]) => (last === null ? ms : [...ms, last])),
});

/** Anything at all in every field, hostile text included. */
const anyMessage: fc.Arbitrary<IrcMessage> = fc.record({
  tags: fc.array(fc.tuple(text(), text()), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)),
  source: fc.option(text(), { nil: null }),
  command: text(),
  params: fc.array(text(), { maxLength: 6 }),
});

describe('serializeMessage (properties)', () => {
  it('round-trips every well-formed message through parseMessage', () => {
    fc.assert(fc.property(wellFormed, (m) => {
      const wire = serializeMessage(m);
      expect(parseMessage(wire.slice(0, -2))).toEqual(m);
    }), runs);
  });

  it('never emits CR, LF or NUL before the final CRLF, whatever the fields hold', () => {
    fc.assert(fc.property(anyMessage, (m) => {
      const wire = serializeMessage(m);
      expect(wire.endsWith('\r\n')).toBe(true);
      expect(/[\r\n\0]/.test(wire.slice(0, -2))).toBe(false);
    }), runs);
  });

  it('keeps the message\'s shape: the same params, the last one only losing CR, LF and NUL', () => {
    fc.assert(fc.property(anyMessage, (m) => {
      const parsed = parseMessage(serializeMessage(m).slice(0, -2));
      expect(parsed).not.toBeNull();
      expect(parsed?.params.length).toBe(m.params.length);
      expect(parsed?.source ?? '').toBe((m.source ?? '').replace(/[\r\n\0 ]/g, '_'));
      if (m.params.length > 0) expect(parsed?.params.at(-1)).toBe(m.params.at(-1)?.replace(/[\r\n\0]/g, ' '));
    }), runs);
  });
});

// ---------------------------------------------------------------------------------------------
// Framer generators

/** Pieces of a hostile or international byte stream, biased to hit every branch. */
const piece: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((b) => [b]) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => [b]) },
  { weight: 2, arbitrary: fc.constant([SPACE]) },
  { weight: 1, arbitrary: fc.constant([0x40]) }, // '@': a tag section
  { weight: 2, arbitrary: fc.constant([LF]) },
  { weight: 2, arbitrary: fc.constant([CR]) },
  { weight: 2, arbitrary: fc.constant([CR, LF]) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map((s) => Array.from(utf8.encode(s))) },
  { weight: 1, arbitrary: fc.constantFrom([0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xff]) },
);
const stream: fc.Arbitrary<Uint8Array> = fc.array(piece, { maxLength: 60 }).map((ps) => Uint8Array.from(ps.flat()));
const limits = fc.record({ maxLineBytes: fc.integer({ min: 2, max: 24 }), maxTagBytes: fc.integer({ min: 1, max: 24 }) });
const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** `bytes` cut at the given points (modulo its length), each chunk a fresh copy. */
function split(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((p) => (bytes.length === 0 ? 0 : p % (bytes.length + 1))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, p));
    start = p;
  }
  return chunks;
}

/** Pushes every chunk, scribbling over each afterwards as Node's buffer pool would. */
function pushAll(framer: LineFramer, chunks: Uint8Array[]): FramedItem[] {
  return chunks.flatMap((c) => {
    const items = framer.push(c);
    c.fill(0x5a);
    return items;
  });
}

/** The framing rules restated for whole lines: split at LF, drop one CR, judge each line. */
function reference(bytes: Uint8Array, lim: { maxLineBytes: number; maxTagBytes: number }): FramedItem[] {
  const items: FramedItem[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    let line = bytes.subarray(start, i);
    start = i + 1;
    if (line.at(-1) === CR) line = line.subarray(0, -1);
    if (line.length === 0) continue;
    const sp = line.indexOf(SPACE);
    const tagBytes = line[0] !== 0x40 ? 0 : sp === -1 ? line.length : sp + 1;
    const over = tagBytes > lim.maxTagBytes || line.length - tagBytes > lim.maxLineBytes - 2;
    if (over) items.push({ kind: 'tooLong' });
    else if (isValidUtf8(line)) items.push({ kind: 'line', text: decode(line) });
    else items.push({ kind: 'line', text: decode(line), invalidUtf8: true });
  }
  return items;
}

/** Whether a strict decoder accepts the bytes (the framer asks node:buffer's isUtf8). */
function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

describe('LineFramer (properties)', () => {
  it('frames LF-terminated input exactly as the reference does, however it is cut', () => {
    fc.assert(fc.property(stream, limits, cuts, (bytes, lim, at) => {
      const input = Uint8Array.from([...bytes, LF]);
      expect(pushAll(new LineFramer(lim), split(input, at))).toEqual(reference(input, lim));
    }), runs);
  });

  it('gives the same items and holds the same bytes for any cut of the same stream', () => {
    fc.assert(fc.property(stream, limits, cuts, (bytes, lim, at) => {
      const whole = new LineFramer(lim);
      const cut = new LineFramer(lim);
      expect(pushAll(cut, split(bytes, at))).toEqual(whole.push(bytes.slice()));
      expect(cut.buffered()).toBe(whole.buffered());
    }), runs);
  });

  it('never holds more than maxTagBytes + maxLineBytes - 1 bytes', () => {
    fc.assert(fc.property(stream, limits, cuts, (bytes, lim, at) => {
      const framer = new LineFramer(lim);
      for (const chunk of split(bytes, at)) {
        framer.push(chunk);
        expect(framer.buffered()).toBeLessThanOrEqual(lim.maxTagBytes + lim.maxLineBytes - 1);
      }
    }), runs);
  });

  it('decodes UTF-8 text cut anywhere, inside characters included', () => {
    const lineText = fc.string({ unit: 'grapheme', maxLength: 10 }).filter(without('\r\n'));
    fc.assert(fc.property(fc.array(lineText, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (lines, at) => {
      const bytes = utf8.encode(lines.map((l) => `${l}\r\n`).join(''));
      const framer = new LineFramer({ maxLineBytes: 512, maxTagBytes: 4096 });
      expect(pushAll(framer, split(bytes, at))).toEqual(lines.filter((l) => l.length > 0).map((l) => ({ kind: 'line', text: l })));
    }), runs);
  });
});
