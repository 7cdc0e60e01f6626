// Streaming, bounded line framing for IRC input: bytes from a socket in, whole decoded lines
// (or "that line was too long") out. Pure: no sockets, no timers, so any split of any bytes can
// be tested. Not enough bytes for a line yet is the normal case, not an error.
//
// Why it is shaped this way:
//   - Lines end at LF, with one CR before it dropped (CRLF or bare LF, as real clients send).
//     A lone CR elsewhere is NOT a line end: it stays in the line's text, the parser keeps it
//     inside whatever param it falls in, and the serialiser turns it into a space if the text
//     is ever echoed. Splitting on it instead would let `PRIVMSG #a :hi\rQUIT` become two
//     commands in servers that disagree with us, and no client needs it.
//   - The limit is RFC 1459's: maxLineBytes counts the line with its CRLF, so an LF-only client
//     gets the same room (maxLineBytes - 2 bytes of text). A line starting with '@' may spend
//     up to maxTagBytes more on its tag section (the '@' through the space after the tags; a
//     line of tags and no space is all tag section), as IRCv3 message-tags allows.
//   - Bound every buffer before it grows: a line is refused as soon as it passes its limit,
//     reported once as `tooLong`, and the rest of it is dropped as it arrives, up to its LF,
//     without being kept. buffered() never exceeds maxTagBytes + maxLineBytes - 1 (the largest
//     acceptable line, less its LF).
//   - A line longer than maxReadBytes (its bytes counted as they arrive, ended or not) is
//     reported once as `endless`, after its `tooLong`, and the framer takes nothing more: a
//     client streaming bytes with no LF would otherwise cost the scan (CPU, bandwidth) forever.
//     The session closes it (ReadQ exceeded); a line a little too long only gets 417.
//   - Frame on bytes, decode whole lines: a UTF-8 character split across packets is joined
//     before it is decoded. Invalid bytes become U+FFFD; decoding never throws.
//   - Kept bytes are copied: Node reuses the pooled buffers that socket chunks are views of.

import { isUtf8 } from 'node:buffer';

export type FramedItem =
  /**
   * A whole line, decoded, without its LF or the CR before it. Never empty. `invalidUtf8`: some
   * of its bytes were not UTF-8 and became U+FFFD (the sender is told: UTF8ONLY).
   */
  | { kind: 'line'; text: string; invalidUtf8?: true }
  /** A line that passed its limit; its bytes are discarded (one item per such line). */
  | { kind: 'tooLong' }
  /** A line that went on past maxReadBytes (after its `tooLong`); nothing follows it. */
  | { kind: 'endless' };

export interface LineFramerOptions {
  /** Longest line in bytes, CRLF included, not counting a tag section (IrcConfig: 512). */
  maxLineBytes: number;
  /** Longest tag section in bytes, '@' and the space after it included (IrcConfig: 4096). */
  maxTagBytes: number;
  /** Bytes of one line past which it is `endless` (IrcConfig.readqBytes); none when absent. */
  maxReadBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const AT = 0x40;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const empty = new Uint8Array(0);

export class LineFramer {
  private readonly maxLineBytes: number;
  private readonly maxTagBytes: number;
  /** The start of the current line (a copy); only `length` bytes of it are in use. */
  private buf: Uint8Array = empty;
  private length = 0;
  /** True while dropping the rest of a line already reported as too long. */
  private discarding = false;
  private readonly maxReadBytes: number;
  /** Bytes of the current (refused) line so far: what counts toward maxReadBytes. */
  private dropped = 0;
  /** An endless line was reported: the framer takes nothing more. */
  private ended = false;

  constructor(options: LineFramerOptions) {
    this.maxLineBytes = options.maxLineBytes;
    this.maxTagBytes = options.maxTagBytes;
    this.maxReadBytes = options.maxReadBytes ?? Infinity;
  }

  /** Bytes held for a line not yet ended (for tests and leak checks). */
  buffered(): number {
    return this.length;
  }

  /**
   * The start of a line not yet ended, taken out (the buffer is emptied): what another framer
   * is to go on from (a client relayed to another node). Empty while dropping a too-long line.
   */
  rest(): Uint8Array {
    const rest = this.discarding ? empty : this.buf.slice(0, this.length);
    this.length = 0;
    this.buf = empty;
    return rest;
  }

  /** Feeds one chunk; returns the lines it completed and the too-long lines it began. */
  push(chunk: Uint8Array): FramedItem[] {
    const items: FramedItem[] = [];
    if (this.ended) return items;
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (this.discarding) {
        this.dropped += (lf === -1 ? chunk.length : lf) - start;
        if (this.isEndless(items)) break;
        if (lf === -1) break;
        this.discarding = false;
        this.dropped = 0;
      } else if (lf === -1) {
        this.keep(chunk.subarray(start), items);
        break;
      } else {
        // Whole lines within one chunk (the usual case) are decoded straight from it.
        let line = this.length === 0 ? chunk.subarray(start, lf) : this.take(chunk.subarray(start, lf));
        if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
        if (this.isTooLong(line, true)) {
          items.push({ kind: 'tooLong' });
          this.dropped = line.length;
          if (this.isEndless(items)) break;
          this.dropped = 0;
        } else if (line.length > 0) {
          const text = utf8.decode(line);
          items.push(isUtf8(line) ? { kind: 'line', text } : { kind: 'line', text, invalidUtf8: true });
        }
      }
      start = lf + 1;
    }
    return items;
  }

  /** Holds the start of an unfinished line, or refuses it once it is already too long. */
  private keep(part: Uint8Array, items: FramedItem[]): void {
    const needed = this.length + part.length;
    if (needed > this.buf.length) {
      // Grow by doubling so a line sent a byte at a time costs linear copying, capped at the
      // largest line that can still be acceptable (plus its pending CR).
      const cap = this.maxTagBytes + this.maxLineBytes;
      const grown = new Uint8Array(Math.min(cap, Math.max(needed, 2 * this.buf.length, 64)));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    if (needed > this.buf.length) {
      this.refuse(items, needed);
      this.isEndless(items);
      return;
    }
    this.buf.set(part, this.length);
    this.length = needed;
    if (this.isTooLong(this.buf.subarray(0, this.length), false)) this.refuse(items, needed);
  }

  /** The buffered start of a line joined with its end; empties the buffer. */
  private take(end: Uint8Array): Uint8Array {
    const line = new Uint8Array(this.length + end.length);
    line.set(this.buf.subarray(0, this.length));
    line.set(end, this.length);
    this.length = 0;
    // A buffer grown for a long tag section is let go, so an idle client holds little.
    if (this.buf.length > this.maxLineBytes) this.buf = empty;
    return line;
  }

  /** Whether the refused line has passed maxReadBytes: then `endless`, and nothing more is taken. */
  private isEndless(items: FramedItem[]): boolean {
    if (this.dropped <= this.maxReadBytes) return false;
    items.push({ kind: 'endless' });
    this.ended = true;
    this.discarding = false;
    return true;
  }

  /** Refuses the line, `lineBytes` of it seen so far. */
  private refuse(items: FramedItem[], lineBytes: number): void {
    items.push({ kind: 'tooLong' });
    this.discarding = true;
    this.dropped = lineBytes;
    this.length = 0;
    this.buf = empty;
  }

  /**
   * Whether `line` (without its LF) is over its limit. An unfinished line (`complete` false)
   * may end in the CR of a CRLF whose LF has not arrived: it is judged without that CR, as it
   * would be if the LF came next; if anything else comes, the CR counts at the next check.
   * The check only grows with the line, so a refusal never comes too early.
   */
  private isTooLong(line: Uint8Array, complete: boolean): boolean {
    if (!complete && line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    let tagBytes = 0;
    if (line[0] === AT) {
      const sp = line.indexOf(SPACE);
      tagBytes = sp === -1 ? line.length : sp + 1;
      if (tagBytes > this.maxTagBytes) return true;
    }
    return line.length - tagBytes > this.maxLineBytes - 2;
  }
}
