// SASL as IRCv3 carries it (https://ircv3.net/specs/extensions/sasl-3.1): the mechanisms we
// offer, the AUTHENTICATE framing (base64 in lines of at most 400 characters, `+` for empty),
// and the two mechanisms simple enough to be one parse each, PLAIN (RFC 4616) and EXTERNAL
// (RFC 4422 appendix A). Pure: bytes in, values or errors out. SCRAM-SHA-256 is scram.ts; which
// numeric answers which error is the IRC layer's business (904 ERR_SASLFAIL, 905 ERR_SASLTOOLONG).
import { maxPasswordBytes } from './passwords.js';

/** What CAP LS advertises as `sasl=PLAIN,EXTERNAL,SCRAM-SHA-256`. */
export const saslMechanisms = ['PLAIN', 'EXTERNAL', 'SCRAM-SHA-256'] as const;
export type SaslMechanism = (typeof saslMechanisms)[number];

/** One AUTHENTICATE line carries at most this many characters of base64; exactly this many means more follow. */
export const saslChunkChars = 400;

/**
 * Largest payload a client may send, counted in characters of base64 as the chunks arrive
 * (6,144 bytes decoded). Our mechanisms need a few hundred bytes (PLAIN's three fields, a
 * SCRAM message); past this the payload is refused (905) and nothing more is buffered.
 */
export const maxSaslPayloadBytes = 8192;

/**
 * Longest PLAIN authzid or authcid, and EXTERNAL authzid, in bytes of UTF-8: RFC 4616's 255,
 * which every server must accept. A PLAIN password may be as long as a settable one (passwords.ts).
 */
export const maxSaslNameBytes = 255;

export type SaslPayloadResult = { done: false } | { done: true; bytes: Buffer } | { error: 'tooLong' | 'badBase64' };

/**
 * Joins a client's AUTHENTICATE chunks into one payload. After a payload is done or refused it
 * starts empty again, ready for the next message of the same exchange (SCRAM sends two).
 */
export class SaslPayload {
  private base64 = '';

  /** Takes one AUTHENTICATE parameter. */
  add(chunk: string): SaslPayloadResult {
    if (chunk === '+') return this.finish();
    if (chunk.length > saslChunkChars || this.base64.length + chunk.length > maxSaslPayloadBytes) return this.fail('tooLong');
    if (chunk === '') return this.fail('badBase64');
    this.base64 += chunk;
    return chunk.length === saslChunkChars ? { done: false } : this.finish();
  }

  private finish(): SaslPayloadResult {
    const text = this.base64;
    this.base64 = '';
    const bytes = Buffer.from(text, 'base64');
    // Buffer.from ignores what is not base64; re-encoding catches it, and non-canonical padding.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || bytes.toString('base64') !== text) return { error: 'badBase64' };
    return { done: true, bytes };
  }

  private fail(error: 'tooLong' | 'badBase64'): SaslPayloadResult {
    this.base64 = '';
    return { error };
  }
}

/** The server's own payload as AUTHENTICATE parameters: 400-character lines, `+` to end an empty or 400-multiple one. */
export function chunkPayload(bytes: Buffer): string[] {
  const text = bytes.toString('base64');
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += saslChunkChars) chunks.push(text.slice(at, at + saslChunkChars));
  if (text.length % saslChunkChars === 0) chunks.push('+');
  return chunks;
}

/** PLAIN's message, `authzid NUL authcid NUL password`; null unless well-formed and within bounds. */
export function parsePlain(bytes: Buffer): { authzid: string; authcid: string; password: string } | null {
  const first = bytes.indexOf(0);
  const second = first < 0 ? -1 : bytes.indexOf(0, first + 1);
  if (second < 0 || bytes.indexOf(0, second + 1) >= 0) return null;
  const authzid = utf8(bytes.subarray(0, first), maxSaslNameBytes);
  const authcid = utf8(bytes.subarray(first + 1, second), maxSaslNameBytes);
  const password = utf8(bytes.subarray(second + 1), maxPasswordBytes);
  if (authzid === null || !authcid || !password) return null;
  return { authzid, authcid, password };
}

/** EXTERNAL's message: empty (log in as the certificate's account) or the authzid asked for. */
export function parseExternal(bytes: Buffer): { authzid: string } | null {
  const authzid = bytes.includes(0) ? null : utf8(bytes, maxSaslNameBytes);
  return authzid === null ? null : { authzid };
}

/** Bytes as UTF-8 text, or null when they are not valid UTF-8 or pass `maxBytes`. */
function utf8(bytes: Buffer, maxBytes: number): string | null {
  if (bytes.length > maxBytes) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
