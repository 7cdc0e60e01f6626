// Passwords: what the store keeps instead of a password (Credentials), how a password given at
// login is checked against it, and which passwords may be set at all. Two proofs are derived
// from one password, because SASL offers two ways to log in with it:
//   - PLAIN (and NickServ IDENTIFY) sends the password itself: we check it against an scrypt
//     hash in PHC string form (`$scrypt$ln=14,r=8,p=1$<salt>$<hash>`);
//   - SCRAM-SHA-256 never sends it: we keep RFC 5802's salt, iterations, StoredKey and ServerKey.
// Both are computed over the SASLprep-ed password (saslPrep below), so a password typed in
// another Unicode form logs in the same way over PLAIN and SCRAM. Every hash runs on a
// low-priority hashing thread (hashThreads.ts), never on the event loop.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Credentials, ScramCredentials } from '../store/store.js';
import { hashOnThread } from './hashThreads.js';

export { hashQueue } from './hashThreads.js';

export interface ScryptParams {
  /** log2 of scrypt's cost N. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/**
 * scrypt's cost for new hashes: N = 2^14, r = 8, p = 1 uses 128·N·r = 16 MiB and tens of ms of
 * one thread-pool thread (RFC 7914's interactive-login figure). Memory is what makes each guess
 * expensive on GPUs; raising ln doubles both memory and time.
 */
export const defaultScryptParams: Readonly<ScryptParams> = { ln: 14, r: 8, p: 1 };

/**
 * PBKDF2 iterations for new SCRAM credentials. RFC 7677 asks for at least 4096, but against a
 * stolen store the SCRAM keys are the cheaper target (PBKDF2 runs well on GPUs, scrypt does
 * not), so we take 16 times that. The client runs these iterations on every SCRAM login: about
 * 12 ms of native code on a desktop, still well under a second on a slow phone.
 */
export const defaultScramIterations = 65_536;

/**
 * What verifyPassword accepts from a stored PHC string: a corrupt or hostile row cannot make
 * one login allocate more than maxScryptMemoryBytes or run longer than a few default hashes.
 */
export const maxScryptLn = 20;
export const maxScryptR = 32;
export const maxScryptP = 4;
export const maxScryptMemoryBytes = 64 * 1024 * 1024;
/** Longest PHC string parsed; ours are about 100 characters. */
export const maxPhcLength = 256;

/** Bytes of random salt in new hashes and SCRAM credentials (RFC 4086's 128 bits). */
export const saltBytes = 16;
/** Bytes of scrypt output kept (the PHC default). */
const scryptHashBytes = 32;

/** Password rules (passwordProblem): at least this many characters... */
export const minPasswordChars = 8;
/** ...and at most this many bytes of UTF-8, so a password always fits in one IRC line. */
export const maxPasswordBytes = 300;

/** The question passwordProblem answers before a password is set: a sentence, or null when fine. */
export function passwordProblem(password: string): string | null {
  const prepared = saslPrep(password);
  if (prepared === null) return 'The password contains a control or other character that cannot be typed reliably.';
  if ([...prepared].length < minPasswordChars) return `The password must be at least ${minPasswordChars} characters long.`;
  if (Buffer.byteLength(password, 'utf8') > maxPasswordBytes) return `The password must be at most ${maxPasswordBytes} bytes long.`;
  return null;
}

/** Hashes a password with scrypt into a PHC string, with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = defaultScryptParams): Promise<string> {
  const salt = randomBytes(saltBytes);
  const hash = await scryptAsync(prepared(password), salt, scryptHashBytes, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Whether `password` matches a PHC string from hashPassword. A malformed string, or one whose
 * parameters pass the bounds above, is a mismatch (false), never an exception or a huge hash.
 */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parsePhc(phc);
  const normal = saslPrep(password);
  if (parsed === null || normal === null) return false;
  const hash = await scryptAsync(normal, parsed.salt, parsed.hash.length, parsed.params);
  return timingSafeEqual(hash, parsed.hash);
}

/** A stored scrypt hash, taken apart; null when it is not one verifyPassword will compute. */
export function parsePhc(phc: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | null {
  if (phc.length > maxPhcLength) return null;
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!match) return null;
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (params.ln < 1 || params.ln > maxScryptLn || params.r < 1 || params.r > maxScryptR) return null;
  if (params.p < 1 || params.p > maxScryptP || scryptMemoryBytes(params) > maxScryptMemoryBytes) return null;
  const salt = unb64(match[4]!);
  const hash = unb64(match[5]!);
  if (!salt || !hash || salt.length < 8 || salt.length > 64 || hash.length < 16 || hash.length > 64) return null;
  return { params, salt, hash };
}

export interface DeriveOptions {
  scrypt?: ScryptParams;
  scramIterations?: number;
  /** The SCRAM salt; random (saltBytes) unless a test needs a known one. */
  scramSalt?: Buffer;
}

/** Both proofs of a password, for the store (the two hashes run side by side on the pool). */
export async function deriveCredentials(password: string, options: DeriveOptions = {}): Promise<Credentials> {
  const [passwordHash, scram] = await Promise.all([
    hashPassword(password, options.scrypt),
    scramCredentials(password, options.scramSalt ?? randomBytes(saltBytes), options.scramIterations ?? defaultScramIterations),
  ]);
  return { passwordHash, scram };
}

/** RFC 5802's stored form: SaltedPassword = Hi(Normalize(password), salt, i), then the two keys. */
export async function scramCredentials(password: string, salt: Buffer, iterations: number): Promise<ScramCredentials> {
  const normal = prepared(password);
  const salted = await hashOnThread({ kind: 'pbkdf2', password: normal, salt, iterations, length: 32 });
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: createHash('sha256').update(clientKey).digest('base64'),
    serverKey: createHmac('sha256', salted).update('Server Key').digest('base64'),
  };
}

// SASLprep (RFC 4013), the subset that matters for passwords: non-ASCII spaces become spaces,
// the characters Stringprep's table B.1 maps to nothing are removed, the result is NFKC, and
// control, private-use, non-character, surrogate, bidi-control and tagging characters are
// refused (tables C.1.2 to C.9). Not done: refusing code points unassigned in Unicode 3.2
// (table A.1, which RFC 4013 applies to stored strings such as a new password) and the bidi
// rules of RFC 3454 section 6. Where a client with the whole of SASLprep accepts a password, it
// derives the same keys as we do.

/** Stringprep C.1.2, non-ASCII spaces, mapped to U+0020. */
const nonAsciiSpace = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
/** Stringprep B.1, "commonly mapped to nothing". */
const mappedToNothing = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
/** Stringprep C.2 to C.9 (controls, private use, surrogates, bidi controls, tags), bar non-characters. */
const prohibited =
  /[\u0000-\u001F\u007F-\u009F\u0340\u0341\u06DD\u070F\u180E\u200E\u200F\u2028-\u202E\u2060-\u206F\u2FF0-\u2FFB\uD800-\uDFFF\uE000-\uF8FF\uFDD0-\uFDEF\uFFF9-\uFFFD]|[\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}\u{F0000}-\u{10FFFF}]/u;

/** Stringprep C.4's non-characters outside U+FDD0..U+FDEF: the last two code points of every plane. */
function hasNonCharacter(text: string): boolean {
  for (const char of text) if ((char.codePointAt(0)! & 0xfffe) === 0xfffe) return true;
  return false;
}

/** A password as SASLprep (the subset above) normalises it, or null when it holds a prohibited character. */
export function saslPrep(text: string): string | null {
  const mapped = text.replace(nonAsciiSpace, ' ').replace(mappedToNothing, '').normalize('NFKC');
  if (prohibited.test(mapped) || hasNonCharacter(mapped)) return null;
  return mapped;
}

/** saslPrep for a password being hashed: a caller that skipped passwordProblem is a bug. */
function prepared(password: string): string {
  const normal = saslPrep(password);
  if (normal === null) throw new TypeError('password has a prohibited character: check passwordProblem() first');
  return normal;
}

/** What OpenSSL allocates for one scrypt: 128·r·(N + 2) for V, plus 128·r·p for B. */
function scryptMemoryBytes(params: ScryptParams): number {
  return 128 * params.r * (2 ** params.ln + 2 + params.p);
}

function scryptAsync(password: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  const options = { N: 2 ** params.ln, r: params.r, p: params.p, maxmem: scryptMemoryBytes(params) + 1024 };
  return hashOnThread({ kind: 'scrypt', password, salt, length, options });
}

/** PHC strings use standard base64 without padding. */
function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Decodes unpadded base64, or null unless re-encoding gives back the same text. */
function unb64(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64');
  return b64(bytes) === text ? bytes : null;
}
