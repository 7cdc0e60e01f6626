import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { scramCredentials } from '../../../src/identity/passwords.js';
import { maxScramMessageBytes, parseClientFirst, scramFinal, scramFirst, type ClientFirst, type ScramState } from '../../../src/identity/scram.js';
import type { ScramCredentials } from '../../../src/store/store.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

// RFC 7677, section 3.
const rfc = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const pencil = await scramCredentials('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);

function parsed(message: string): ClientFirst {
  const first = parseClientFirst(message);
  if ('error' in first) throw new Error(`client-first refused: ${first.error}`);
  return first;
}

/** What a client sends last: the proof computed from the password, as RFC 5802 section 3 says. */
function clientFinalFor(password: string, state: ScramState, binding = 'c=biws'): string {
  const salt = Buffer.from(/s=([^,]+)/.exec(state.serverFirst)![1]!, 'base64');
  const iterations = Number(/i=(\d+)/.exec(state.serverFirst)![1]);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `${binding},r=${state.nonce}`;
  const signature = createHmac('sha256', storedKey).update(`${state.clientFirstBare},${state.serverFirst},${withoutProof}`).digest();
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
  return `${withoutProof},p=${proof.toString('base64')}`;
}

describe('SCRAM-SHA-256, server side', () => {
  it('passes the RFC 7677 test vector, byte for byte', () => {
    const { serverFirst, state } = scramFirst(parsed(rfc.clientFirst), pencil, { serverNonce: rfc.serverNonce });
    expect(serverFirst).toBe(rfc.serverFirst);
    expect(scramFinal(rfc.clientFinal, state)).toEqual({ ok: true, serverFinal: rfc.serverFinal, account: 'user' });
  });

  it('reads the messages as UTF-8 bytes too', () => {
    const { state } = scramFirst(parsed(rfc.clientFirst), pencil, { serverNonce: rfc.serverNonce });
    expect(scramFinal(Buffer.from(rfc.clientFinal), state)).toMatchObject({ ok: true });
    expect(parseClientFirst(Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61]))).toEqual({ error: 'invalid-encoding' });
  });

  it('refuses a wrong password at the final step, comparing in constant time', () => {
    const { state } = scramFirst(parsed(rfc.clientFirst), pencil);
    vi.mocked(timingSafeEqual).mockClear();
    expect(scramFinal(clientFinalFor('pen', state), state)).toEqual({ ok: false, error: 'invalid-proof' });
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    expect(scramFinal(clientFinalFor('pencil', state), state)).toMatchObject({ ok: true, account: 'user' });
  });

  it('makes a fresh random server nonce each time, after the client nonce', () => {
    const a = scramFirst(parsed(rfc.clientFirst), pencil).state.nonce;
    const b = scramFirst(parsed(rfc.clientFirst), pencil).state.nonce;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^rOprNGfwEbeRWgbNEkqO[A-Za-z0-9+/]{24}$/);
  });

  it('accepts the y,, header when c= echoes it (eSws)', () => {
    const { state } = scramFirst(parsed('y,,n=user,r=abc'), pencil);
    expect(scramFinal(clientFinalFor('pencil', state, 'c=biws'), state)).toEqual({ ok: false, error: 'channel-bindings-dont-match' });
    expect(scramFinal(clientFinalFor('pencil', state, 'c=eSws'), state)).toMatchObject({ ok: true });
  });

  it('accepts an authzid equal to the username, and refuses another', () => {
    const { state } = scramFirst(parsed('n,a=user,n=user,r=abc'), pencil);
    const binding = `c=${Buffer.from('n,a=user,').toString('base64')}`;
    expect(scramFinal(clientFinalFor('pencil', state, binding), state)).toMatchObject({ ok: true, account: 'user' });
    expect(scramFinal(clientFinalFor('pencil', state), state)).toEqual({ ok: false, error: 'channel-bindings-dont-match' });
    expect(parseClientFirst('n,a=admin,n=user,r=abc')).toEqual({ error: 'invalid-authzid' });
  });

  it('unescapes =2C and =3D in the username', async () => {
    const first = parsed('n,a=a=2Cb=3Dc,n=a=2Cb=3Dc,r=xyz');
    expect(first.username).toBe('a,b=c');
    const { state } = scramFirst(first, await scramCredentials('hunter22', Buffer.alloc(16, 1), 4096));
    expect(scramFinal(clientFinalFor('hunter22', state, `c=${Buffer.from('n,a=a=2Cb=3Dc,').toString('base64')}`), state)).toMatchObject({
      ok: true,
      account: 'a,b=c',
    });
  });

  it('refuses a final message whose nonce is not the one we sent', () => {
    const { state } = scramFirst(parsed(rfc.clientFirst), pencil, { serverNonce: rfc.serverNonce });
    const other = { ...state, nonce: 'rOprNGfwEbeRWgbNEkqOsomethingElse' };
    expect(scramFinal(clientFinalFor('pencil', other), state)).toEqual({ ok: false, error: 'invalid-nonce' });
    expect(scramFinal(rfc.clientFinal.replace('$k0,', '$k0x,'), state)).toEqual({ ok: false, error: 'invalid-nonce' });
  });

  it('treats a corrupt stored row as no account', () => {
    const corrupt: ScramCredentials = { ...pencil, storedKey: 'AAAA' };
    const { state } = scramFirst(parsed(rfc.clientFirst), corrupt, { serverNonce: rfc.serverNonce });
    expect(state.known).toBe(false);
    expect(scramFinal(rfc.clientFinal, state)).toEqual({ ok: false, error: 'invalid-proof' });
  });
});

describe('SCRAM for a name with no account', () => {
  const shape = (serverFirst: string) => serverFirst.replace(/^r=[^,]+/, 'r=').replace(/s=[^,]+/, 's=');

  it('answers a server-first shaped like a real one, with the same salt for the same name, then fails', () => {
    const one = scramFirst(parsed('n,,n=ghost,r=abc'), null);
    const two = scramFirst(parsed('n,,n=ghost,r=abc'), null);
    const real = scramFirst(parsed('n,,n=user,r=abc'), { ...pencil, iterations: 65_536 });
    expect(one.serverFirst.replace(/^r=[^,]+/, '')).toBe(two.serverFirst.replace(/^r=[^,]+/, ''));
    expect(shape(one.serverFirst)).toBe(shape(real.serverFirst));
    const salt = /s=([^,]+)/.exec(one.serverFirst)![1]!;
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(scramFirst(parsed('n,,n=ghost2,r=abc'), null).serverFirst).not.toContain(salt);
    for (const password of ['', 'pencil', 'anything']) {
      expect(scramFinal(clientFinalFor(password, one.state), one.state)).toEqual({ ok: false, error: 'invalid-proof' });
    }
  });

  it('derives the fake salt from the account key and the secret it is given', () => {
    const secret = Buffer.alloc(32, 9);
    const a = scramFirst(parsed('n,,n=Ghost,r=abc'), null, { accountKey: 'ghost', fakeSaltSecret: secret, serverNonce: 'x' });
    const b = scramFirst(parsed('n,,n=GHOST,r=abc'), null, { accountKey: 'ghost', fakeSaltSecret: secret, serverNonce: 'x' });
    const c = scramFirst(parsed('n,,n=ghost,r=abc'), null, { accountKey: 'ghost', fakeSaltSecret: Buffer.alloc(32, 8), serverNonce: 'x' });
    expect(a.serverFirst).toBe(b.serverFirst);
    expect(a.serverFirst).not.toBe(c.serverFirst);
  });
});

describe('SCRAM malformed input', () => {
  it.each([
    ['no gs2 header', 'n=user,r=abc', 'invalid-encoding'],
    ['an unknown gs2 flag', 'x,,n=user,r=abc', 'invalid-encoding'],
    ['channel binding asked for', 'p=tls-unique,,n=user,r=abc', 'channel-binding-not-supported'],
    ['an authzid without a=', 'n,user,n=user,r=abc', 'invalid-encoding'],
    ['the reserved m= extension', 'n,,m=x,n=user,r=abc', 'extensions-not-supported'],
    ['no username', 'n,,r=abc', 'invalid-username-encoding'],
    ['an empty username', 'n,,n=,r=abc', 'invalid-username-encoding'],
    ['a bad escape in the username', 'n,,n=us=2Ber,r=abc', 'invalid-username-encoding'],
    ['a username over 256 characters', `n,,n=${'u'.repeat(257)},r=abc`, 'invalid-username-encoding'],
    ['no nonce', 'n,,n=user', 'invalid-nonce'],
    ['an empty nonce', 'n,,n=user,r=', 'invalid-nonce'],
    ['a nonce with a space', 'n,,n=user,r=a b', 'invalid-nonce'],
    ['a nonce over 256 characters', `n,,n=user,r=${'a'.repeat(257)}`, 'invalid-nonce'],
    ['a malformed extension', 'n,,n=user,r=abc,junk', 'invalid-encoding'],
    ['a NUL', 'n,,n=us\0er,r=abc', 'invalid-encoding'],
    ['a message over the limit', `n,,n=user,r=abc,x=${'a'.repeat(maxScramMessageBytes)}`, 'too-long'],
  ])('refuses a client-first with %s', (_name, message, error) => {
    expect(parseClientFirst(message)).toEqual({ error });
  });

  it('accepts and ignores an extension after the nonce', () => {
    expect(parsed('n,,n=user,r=abc,x=ext')).toMatchObject({ username: 'user', clientNonce: 'abc', bare: 'n=user,r=abc,x=ext' });
  });

  const nonce = `rOprNGfwEbeRWgbNEkqO${rfc.serverNonce}`;
  it.each([
    ['no proof', `c=biws,r=${nonce}`, 'invalid-encoding'],
    ['a proof that is not base64', `c=biws,r=${nonce},p=!!!!`, 'invalid-encoding'],
    ['a proof of the wrong length', `c=biws,r=${nonce},p=AAAA`, 'invalid-encoding'],
    ['no channel binding', `r=${nonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`, 'invalid-encoding'],
    ['another channel binding', `c=cCxh,r=${nonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`, 'channel-bindings-dont-match'],
    ['no nonce', 'c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'invalid-nonce'],
    ['a malformed extension', `c=biws,r=${nonce},junk,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`, 'invalid-encoding'],
    ['a message over the limit', `c=biws,r=${nonce},x=${'a'.repeat(maxScramMessageBytes)},p=AAAA`, 'too-long'],
    ['invalid UTF-8', Buffer.from([0x63, 0x3d, 0xc3, 0x28]), 'invalid-encoding'],
  ])('refuses a client-final with %s', (_name, message, error) => {
    const { state } = scramFirst(parsed(rfc.clientFirst), pencil, { serverNonce: rfc.serverNonce });
    expect(scramFinal(message, state)).toEqual({ ok: false, error });
  });
});
