// Pure framing of a client's reply: bytes in, one line (or "not yet", or "too long") out.
// No sockets, no timers, no state outside the arguments, so it can be tested with any split of
// any bytes. "Not enough bytes yet" is a normal result, not an error (as in mini-redis).

export type FrameResult =
  /** No line end yet; keep these bytes (a copy, never a view of a pooled socket buffer). */
  | { kind: 'partial'; buffered: Uint8Array }
  /** A whole line arrived: its bytes without the LF and without one trailing CR. */
  | { kind: 'line'; line: Uint8Array }
  /** The line is longer than the limit: stop buffering and refuse it. */
  | { kind: 'overflow' };

const LF = 0x0a;
const CR = 0x0d;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function withoutTrailingCr(bytes: Uint8Array): Uint8Array {
  return bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
}

/**
 * Adds `chunk` to what is `buffered` and says whether a reply line is complete.
 *
 * The limit counts the bytes of the line before its LF, not counting one trailing CR, so LF and
 * CRLF clients get the same room. The bytes kept between calls never exceed `maxBytes + 1` (the
 * extra byte is the CR of a CRLF whose LF has not arrived yet): a long line is refused as soon
 * as it passes the limit, it never grows a buffer.
 */
export function frameReply(buffered: Uint8Array, chunk: Uint8Array, maxBytes: number): FrameResult {
  const lf = chunk.indexOf(LF);
  if (lf !== -1) {
    const line = withoutTrailingCr(concat(buffered, chunk.subarray(0, lf)));
    return line.length > maxBytes ? { kind: 'overflow' } : { kind: 'line', line };
  }
  const total = buffered.length + chunk.length;
  if (total > maxBytes + 1) return { kind: 'overflow' };
  const next = concat(buffered, chunk);
  if (total === maxBytes + 1 && next[next.length - 1] !== CR) return { kind: 'overflow' };
  return { kind: 'partial', buffered: next };
}

/**
 * The reply a client gave when it stopped sending without a line end (it went quiet, or it
 * ended its side): what was buffered, less one trailing CR.
 */
export function unterminatedReply(buffered: Uint8Array): Uint8Array {
  return withoutTrailingCr(buffered);
}

// One decoder for every call: a non-streaming decode keeps no state between calls. Because
// framing works on bytes and decodes only whole lines, a multi-byte character split across
// packets is joined before it is decoded. Invalid sequences become U+FFFD (fatal: false).
const utf8 = new TextDecoder('utf-8', { fatal: false });

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
