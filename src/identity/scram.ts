// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677): the client proves it knows the
// password without sending it, and the server proves it holds the account's keys. Three pure
// steps, so the IRC layer can look the account up (in the store, asynchronously) in between:
//   parseClientFirst(client-first)        -> the username to look up
//   scramFirst(parsed, credentials|null)  -> server-first, and the state to keep
//   scramFinal(client-final, state)       -> server-final and the account, or an error
// A name with no account still gets a server-first, with a salt derived from the name (an HMAC
// under a secret), so the answer looks the same as for a real account, twice alike for one
// name; it then fails at the final step exactly as a wrong password does.
// Not supported: channel binding (SCRAM-SHA-256-PLUS; a `p=` client is refused) and the
// reserved `m=` extension. The username is used as sent: the caller folds it for the store.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredentials } from '../store/store.js';
import { defaultScramIterations, saltBytes } from './passwords.js';

/** Longest SCRAM message read (either client message), in bytes; real ones are under 300. */
export const maxScramMessageBytes = 2048;
/** Longest username, in characters after unescaping; account names are far shorter. */
export const maxScramUsernameChars = 256;
/** Longest client nonce, in characters; clients send 20 to 50. */
export const maxScramNonceChars = 256;
/** Random bytes in our half of the nonce (24 characters of base64). */
const serverNonceBytes = 18;

/**
 * Why a step failed. RFC 5802's server-error-values where one fits, and three of our own
 * (`too-long`, `invalid-authzid`, `invalid-nonce`). A missing account is `invalid-proof`, as a
 * wrong password is, so the error does not tell which names exist.
 */
export type ScramError =
  | 'too-long'
  | 'invalid-encoding'
  | 'invalid-username-encoding'
  | 'invalid-authzid'
  | 'invalid-nonce'
  | 'extensions-not-supported'
  | 'channel-binding-not-supported'
  | 'channel-bindings-dont-match'
  | 'invalid-proof';

export interface ScramFailure {
  error: ScramError;
}

/** A client-first message, taken apart. */
export interface ClientFirst {
  /** `n,,`, `y,,` or either with `a=<authzid>` between the commas, as sent. */
  gs2Header: string;
  /** The authentication identity (authcid), unescaped. */
  username: string;
  clientNonce: string;
  /** client-first-message-bare: the part of the message that goes into AuthMessage. */
  bare: string;
}

/** What scramFinal needs from scramFirst; plain data, kept by the caller between the two. */
export interface ScramState {
  readonly gs2Header: string;
  readonly username: string;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  /** The whole nonce: the client's then ours. */
  readonly nonce: string;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  /** False when there is no such account (or its row is unreadable): the proof cannot pass. */
  readonly known: boolean;
}

export interface ScramFirstOptions {
  /** Our half of the nonce; random unless a test needs a known one. */
  serverNonce?: string;
  /**
   * The name the fake salt is derived from when there is no account: pass the folded store key,
   * so `Alice` and `alice` get one salt, as they would for a real account. The username if omitted.
   */
  accountKey?: string;
  /**
   * The secret of the fake salts. Random per process by default; nodes of one network should
   * share one, or asking two nodes about a missing name would show two salts.
   */
  fakeSaltSecret?: Buffer;
}

/** This process's secret for fake salts. */
const processSecret = randomBytes(32);

/** Reads a client-first message; on success, look `username` up and call scramFirst. */
export function parseClientFirst(message: Buffer | string): ClientFirst | ScramFailure {
  const text = decode(message);
  if (typeof text !== 'string') return text;
  const flagEnd = text.indexOf(',');
  const authzEnd = text.indexOf(',', flagEnd + 1);
  if (flagEnd < 0 || authzEnd < 0) return { error: 'invalid-encoding' };
  const flag = text.slice(0, flagEnd);
  if (flag.startsWith('p=')) return { error: 'channel-binding-not-supported' };
  if (flag !== 'n' && flag !== 'y') return { error: 'invalid-encoding' };
  const authz = text.slice(flagEnd + 1, authzEnd);
  let authzid = '';
  if (authz !== '') {
    const decoded = authz.startsWith('a=') ? unescapeName(authz.slice(2)) : null;
    if (decoded === null) return { error: 'invalid-encoding' };
    authzid = decoded;
  }
  const bare = text.slice(authzEnd + 1);
  const [userAttr = '', nonceAttr = '', ...extensions] = bare.split(',');
  if (userAttr.startsWith('m=')) return { error: 'extensions-not-supported' };
  const username = userAttr.startsWith('n=') ? unescapeName(userAttr.slice(2)) : null;
  if (username === null) return { error: 'invalid-username-encoding' };
  if (authzid !== '' && authzid !== username) return { error: 'invalid-authzid' };
  const clientNonce = nonceAttr.slice(2);
  if (!nonceAttr.startsWith('r=') || !isNonce(clientNonce)) return { error: 'invalid-nonce' };
  if (!extensions.every(isAttribute)) return { error: 'invalid-encoding' };
  return { gs2Header: text.slice(0, authzEnd + 1), username, clientNonce, bare };
}

/** The server-first message for a parsed client-first and the account's credentials (null: none). */
export function scramFirst(
  first: ClientFirst,
  credentials: ScramCredentials | null,
  options: ScramFirstOptions = {},
): { serverFirst: string; state: ScramState } {
  const keys = credentials ? readCredentials(credentials) : null;
  const used = keys ?? fakeCredentials(options.accountKey ?? first.username, options.fakeSaltSecret ?? processSecret);
  const nonce = first.clientNonce + (options.serverNonce ?? randomBytes(serverNonceBytes).toString('base64'));
  const serverFirst = `r=${nonce},s=${used.salt},i=${used.iterations}`;
  const state: ScramState = {
    gs2Header: first.gs2Header,
    username: first.username,
    clientFirstBare: first.bare,
    serverFirst,
    nonce,
    storedKey: used.storedKey,
    serverKey: used.serverKey,
    known: keys !== null,
  };
  return { serverFirst, state };
}

/** Checks the client-final message's proof; on success, the server-final and the account logged in. */
export function scramFinal(
  message: Buffer | string,
  state: ScramState,
): { ok: true; serverFinal: string; account: string } | { ok: false; error: ScramError } {
  const text = decode(message);
  if (typeof text !== 'string') return { ok: false, ...text };
  const proofAt = text.lastIndexOf(',p=');
  if (proofAt < 0) return { ok: false, error: 'invalid-encoding' };
  const withoutProof = text.slice(0, proofAt);
  const proof = base64Bytes(text.slice(proofAt + 3));
  const [binding = '', nonceAttr = '', ...extensions] = withoutProof.split(',');
  if (!proof || proof.length !== 32 || !binding.startsWith('c=') || !extensions.every(isAttribute)) {
    return { ok: false, error: 'invalid-encoding' };
  }
  // Without channel binding, c= carries the gs2 header back: `biws` for `n,,`, `eSws` for `y,,`.
  if (binding.slice(2) !== Buffer.from(state.gs2Header).toString('base64')) return { ok: false, error: 'channel-bindings-dont-match' };
  if (nonceAttr !== `r=${state.nonce}`) return { ok: false, error: 'invalid-nonce' };

  const authMessage = `${state.clientFirstBare},${state.serverFirst},${withoutProof}`;
  const clientSignature = createHmac('sha256', state.storedKey).update(authMessage).digest();
  const clientKey = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
  const matches = timingSafeEqual(createHash('sha256').update(clientKey).digest(), state.storedKey);
  if (!matches || !state.known) return { ok: false, error: 'invalid-proof' };
  const serverSignature = createHmac('sha256', state.serverKey).update(authMessage).digest('base64');
  return { ok: true, serverFinal: `v=${serverSignature}`, account: state.username };
}

interface Keys {
  salt: string;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** A stored row's keys, or null when it cannot be what passwords.ts wrote (treated as no account). */
function readCredentials(credentials: ScramCredentials): Keys | null {
  const salt = base64Bytes(credentials.salt);
  const storedKey = base64Bytes(credentials.storedKey);
  const serverKey = base64Bytes(credentials.serverKey);
  const iterations = credentials.iterations;
  if (!salt || salt.length === 0 || storedKey?.length !== 32 || serverKey?.length !== 32) return null;
  if (!Number.isSafeInteger(iterations) || iterations < 1) return null;
  return { salt: credentials.salt, iterations, storedKey, serverKey };
}

/** Keys for a name with no account: a salt that is stable for the name, keys no proof can match. */
function fakeCredentials(name: string, secret: Buffer): Keys {
  const derive = (label: string) => createHmac('sha256', secret).update(`${label}\0${name}`).digest();
  return {
    salt: derive('salt').subarray(0, saltBytes).toString('base64'),
    iterations: defaultScramIterations,
    storedKey: derive('stored key'),
    serverKey: derive('server key'),
  };
}

/** A message as text: bounded, valid UTF-8, no NUL. */
function decode(message: Buffer | string): string | ScramFailure {
  const size = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
  if (size > maxScramMessageBytes) return { error: 'too-long' };
  let text: string;
  try {
    text = typeof message === 'string' ? message : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(message);
  } catch {
    return { error: 'invalid-encoding' };
  }
  return text.includes('\0') ? { error: 'invalid-encoding' } : text;
}

/** RFC 5802's saslname: `=2C` is a comma, `=3D` an equals sign, any other `=` is malformed. */
function unescapeName(name: string): string | null {
  if (name === '' || /=(?!2C|3D)/.test(name)) return null;
  const plain = name.replace(/=2C/g, ',').replace(/=3D/g, '=');
  return [...plain].length <= maxScramUsernameChars ? plain : null;
}

/** Printable ASCII but the comma, 1 to maxScramNonceChars characters. */
function isNonce(nonce: string): boolean {
  return nonce.length >= 1 && nonce.length <= maxScramNonceChars && /^[\x21-\x2B\x2D-\x7E]+$/.test(nonce);
}

/** An extension attribute, `x=value`; read and ignored. */
function isAttribute(attribute: string): boolean {
  return /^[A-Za-z]=/.test(attribute);
}

/** Canonical padded base64 decoded, or null. */
function base64Bytes(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
