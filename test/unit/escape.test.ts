import { describe, expect, it } from 'vitest';
import { escapeText } from '../../src/core/escape.js';

describe('escapeText', () => {
  it('leaves ordinary text, including non-Latin scripts and emoji, alone', () => {
    expect(escapeText("Hey What's up? ça va, 你好, 👋")).toBe("Hey What's up? ça va, 你好, 👋");
  });

  it('shows ESC sequences as visible text', () => {
    expect(escapeText('\u001b[2J\u001b]0;pwned\u0007')).toBe('\\x1B[2J\\x1B]0;pwned\\x07');
  });

  it('names tab, CR and LF', () => {
    expect(escapeText('a\tb\rc\nd')).toBe('a\\tb\\rc\\nd');
  });

  it('escapes NUL, DEL and C1 controls such as the one-byte CSI', () => {
    expect(escapeText('\u0000\u007f\u0085\u009b')).toBe('\\x00\\x7F\\x85\\x9B');
  });

  it('escapes bidi overrides and line separators', () => {
    expect(escapeText('a\u202eb\u2066c\u2028d\u200fe')).toBe('a\\u202Eb\\u2066c\\u2028d\\u200Fe');
  });

  it('is idempotent', () => {
    const nasty = '\u001b[31m\u0000\u009b\u202e\\x1B\r\n';
    expect(escapeText(escapeText(nasty))).toBe(escapeText(nasty));
  });

  it('leaves no character below U+0020 or in U+007F..U+009F', () => {
    let all = '';
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    expect(escapeText(all)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
