// Property-based tests of escaping (src/core/escape.ts) and of the two log sinks that apply
// it (src/core/logger.ts): whatever a client sends, no character that can steer a terminal or reorder
// what the operator reads reaches a log line raw, and nothing else is touched.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { humanLogger, jsonLogger, type LogFields, type LogLevel } from '../../src/core/logger.js';
import { escapeText } from '../../src/core/escape.js';

/**
 * The characters that must never reach a log line raw, by UTF-16 code unit, written out here
 * independently of the implementation's regex: C0 controls (with ESC, TAB, CR, LF), DEL, C1
 * controls, the line and paragraph separators, the bidi marks, embeddings, overrides and
 * isolates, and U+FEFF (escape.ts documents escaping a BOM too).
 */
function isUnsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x061c ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

const unsafeCodes: number[] = [];
for (let c = 0; c <= 0xffff; c++) if (isUnsafe(c)) unsafeCodes.push(c);

function unsafeIn(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isUnsafe(code)) found.push(`U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${i}`);
  }
  return found;
}

/** One unit of hostile text: any code point, any UTF-16 code unit (so lone surrogates too), an
 * unsafe character, or text that already looks like an escape. */
const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 3, arbitrary: fc.constantFrom(...unsafeCodes).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\\', '\\x1B', '\\u202E', '\\n', '\\r', '\\t', 'x1B', '\u001b[31m', '\u001b]0;t\u0007') },
);
const hostile = fc.string({ unit: hostileUnit, maxLength: 40 });

/** Text with no unsafe character at all (but with lone surrogates, backslashes, emoji...). */
const safe = fc.string({ unit: hostileUnit.filter((u) => unsafeIn(u).length === 0), maxLength: 40 });

/** Reads the visible escapes back, for text that had no backslash of its own. */
function unescape(text: string): string {
  return text.replace(/\\(t|n|r|x[0-9A-F]{2}|u[0-9A-F]{4})/g, (_, e: string) =>
    e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : String.fromCharCode(parseInt(e.slice(1), 16)),
  );
}

const runs = { numRuns: 2000 };
const sinkRuns = { numRuns: 1000 };

describe('escapeText (properties)', () => {
  it('is idempotent, lone surrogates and escape-looking text included', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const once = escapeText(s);
        expect(escapeText(once)).toBe(once);
      }),
      runs,
    );
  });

  it('leaves no control, C1, bidi, BOM or line-separator character in its output', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        expect(unsafeIn(escapeText(s))).toEqual([]);
      }),
      runs,
    );
  });

  it('leaves text unchanged exactly when it has none of those characters', () => {
    fc.assert(
      fc.property(fc.oneof(safe, hostile), (s) => {
        expect(escapeText(s) === s).toBe(unsafeIn(s).length === 0);
      }),
      runs,
    );
  });

  it('shows every escaped character as a visible escape that names it', () => {
    fc.assert(
      fc.property(hostile.map((s) => s.replaceAll('\\', '')), (s) => {
        expect(unescape(escapeText(s))).toBe(s);
      }),
      runs,
    );
  });

  it('escapes each character on its own, whatever surrounds it', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        expect(escapeText(a + b)).toBe(escapeText(a) + escapeText(b));
      }),
      runs,
    );
  });
});

// Every event the human sink formats, plus one it does not know (the generic fallback).
const events = [
  'server.listening',
  'server.failed',
  'server.error',
  'server.stopping',
  'server.stopped',
  'connection.opened',
  'connection.reply',
  'connection.error',
  'connection.closed',
  'connection.rejected',
  'some.other.event',
] as const;

const fieldKeys = ['id', 'host', 'port', 'message', 'code', 'live', 'forced', 'remote', 'reply', 'errno', 'reason'] as const;
const fieldValue = fc.oneof(
  { weight: 4, arbitrary: hostile },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);
const fields: fc.Arbitrary<LogFields> = fc.record(
  Object.fromEntries(fieldKeys.map((k) => [k, fieldValue])) as Record<(typeof fieldKeys)[number], typeof fieldValue>,
  { requiredKeys: [] },
);
const level: fc.Arbitrary<LogLevel> = fc.constantFrom('info', 'error');

describe('log sinks (properties)', () => {
  it('JSON lines parse back to objects whose string fields are escaped and carry nothing unsafe', () => {
    fc.assert(
      fc.property(level, fc.constantFrom(...events), fields, (lvl, event, f) => {
        const lines: string[] = [];
        jsonLogger({ out: (l) => lines.push(l), now: () => new Date(0) }).log(lvl, event, f);
        expect(lines).toHaveLength(1);
        const line = lines[0] ?? '';
        expect(unsafeIn(line)).toEqual([]);
        const parsed: unknown = JSON.parse(line);
        expect(typeof parsed === 'object' && parsed !== null).toBe(true);
        const record = parsed as Record<string, unknown>;
        const unsafeFields = Object.entries(record).flatMap(([key, value]) =>
          typeof value === 'string' ? unsafeIn(value).map((u) => `${key}: ${u}`) : [],
        );
        expect(unsafeFields).toEqual([]);
        // Nothing lost on the way: each client string is there, escaped once.
        const expected = Object.fromEntries(
          Object.entries(f).map(([key, value]) => [key, typeof value === 'string' ? escapeText(value) : value]),
        );
        expect(Object.fromEntries(Object.keys(f).map((key) => [key, record[key]]))).toEqual(expected);
        expect(record.event).toBe(event);
        expect(record.level).toBe(lvl);
      }),
      sinkRuns,
    );
  });

  it('human lines carry nothing unsafe, on stdout and stderr alike', () => {
    fc.assert(
      fc.property(level, fc.constantFrom(...events), fields, (lvl, event, f) => {
        const lines: string[] = [];
        humanLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }).log(lvl, event, f);
        expect(lines).toHaveLength(1);
        expect(unsafeIn(lines[0] ?? '')).toEqual([]);
      }),
      sinkRuns,
    );
  });
});
