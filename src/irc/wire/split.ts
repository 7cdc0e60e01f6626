// Sizing text for the wire: its UTF-8 length, and the one rule by which text too long for one
// IRC line becomes several. The server packs name lists with it (353 NAMES, 319 WHOIS channels:
// commands/common.ts packTrailing), the web client a long message its user typed or pasted.
// Pure and free of Node's Buffer, so that the browser bundle imports this very file.

/** UTF-8 length of `s` in bytes. A lone surrogate counts 3, the U+FFFD an encoder writes for it. */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * What becomes of a word longer than a whole piece: `keep` gives it a piece of its own, over the
 * budget (a nick or channel name is never cut; the serialiser still writes the line), `cut`
 * cuts it between code points (a pasted URL or a line with no spaces).
 */
export type LongWords = 'keep' | 'cut';

// A long word being cut first fills the piece before it when that piece is less than this full,
// so that "see <2 KB URL>" is not sent as a line holding just "see".
const fillBeforeCut = 0.6;

/**
 * Splits `text` at spaces into pieces of at most `maxBytes` UTF-8 bytes each. The space at each
 * split is dropped and every other one kept, so the pieces joined with ' ' give `text` back
 * when no word was cut (and joined with '' when the only splits were cuts). No pieces for ''.
 */
export function splitText(text: string, maxBytes: number, longWords: LongWords): string[] {
  const pieces: string[] = [];
  if (text.length === 0) return pieces;
  let piece = '';
  let size = 0;
  let started = false; // the piece holds a word (maybe an empty one, between two spaces)
  for (const word of text.split(' ')) {
    const w = utf8Bytes(word);
    if (started && size + 1 + w <= maxBytes) {
      piece += ' ' + word;
      size += 1 + w;
      continue;
    }
    const cut = longWords === 'cut' && w > maxBytes;
    if (started && !(cut && size < fillBeforeCut * maxBytes)) {
      pieces.push(piece);
      piece = '';
      size = 0;
      started = false;
    }
    if (!cut) {
      piece = word;
      size = w;
      started = true;
      continue;
    }
    if (started) {
      piece += ' ';
      size += 1;
    }
    for (const c of word) {
      const n = utf8Bytes(c);
      if (size + n > maxBytes && size > 0) {
        pieces.push(piece);
        piece = '';
        size = 0;
      }
      piece += c;
      size += n;
    }
    started = true;
  }
  if (started) pieces.push(piece);
  return pieces;
}
