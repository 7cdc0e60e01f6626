import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  defaultScramIterations,
  deriveCredentials,
  hashPassword,
  parsePhc,
  passwordProblem,
  saslPrep,
  verifyPassword,
} from '../../../src/identity/passwords.js';

// The real timingSafeEqual, wrapped so a test can see that verifyPassword compares with it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

/** Cheap parameters for tests that are not about the cost. */
const fast = { ln: 4, r: 8, p: 1 };
const salt22 = 'AAAAAAAAAAAAAAAAAAAAAA';
const hash43 = 'A'.repeat(43);

describe('hashPassword and verifyPassword', () => {
  it('hashes with the default cost into a PHC string that verifies', async () => {
    const phc = await hashPassword('correct horse');
    expect(phc).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse', phc)).toBe(true);
    expect(await verifyPassword('correct horsf', phc)).toBe(false);
  });

  it('salts each hash afresh: the same password twice gives two strings that both verify', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', fast), hashPassword('same password', fast)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('keeps the parameters in the string, so an old hash verifies after the defaults change', async () => {
    const phc = await hashPassword('old password', { ln: 5, r: 4, p: 2 });
    expect(phc.startsWith('$scrypt$ln=5,r=4,p=2$')).toBe(true);
    expect(await verifyPassword('old password', phc)).toBe(true);
  });

  it('compares hashes with crypto.timingSafeEqual', async () => {
    const phc = await hashPassword('timing matters', fast);
    vi.mocked(timingSafeEqual).mockClear();
    expect(await verifyPassword('timing mattery', phc)).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('hashes off the event loop: timers keep firing while scrypt runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await hashPassword('a longer hash', { ln: 15, r: 8, p: 1 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('applies SASLprep, so another Unicode form of the password matches', async () => {
    const phc = await hashPassword('pass\u00A0word\u2168', fast);
    expect(await verifyPassword('pass wordIX', phc)).toBe(true);
    expect(await verifyPassword('pass\u00ADword\u00A0IX', phc)).toBe(false);
    expect(await verifyPassword('pass wor\u00ADdIX', phc)).toBe(true);
  });

  it('refuses to hash a password with a prohibited character (passwordProblem says so first)', async () => {
    await expect(hashPassword('bell\u0007ringer', fast)).rejects.toThrow(TypeError);
  });

  it('answers false, without throwing, for a login password with a prohibited character', async () => {
    const phc = await hashPassword('harmless', fast);
    expect(await verifyPassword('harm\u0000less', phc)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['another algorithm', `$argon2id$ln=4,r=8,p=1$${salt22}$${hash43}`],
    ['a missing hash', `$scrypt$ln=4,r=8,p=1$${salt22}`],
    ['parameters out of order', `$scrypt$r=8,ln=4,p=1$${salt22}$${hash43}`],
    ['a non-numeric parameter', `$scrypt$ln=x,r=8,p=1$${salt22}$${hash43}`],
    ['padded base64', `$scrypt$ln=4,r=8,p=1$${salt22}==$${hash43}`],
    ['non-canonical base64', `$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAB$${hash43}`],
    ['a salt under 8 bytes', `$scrypt$ln=4,r=8,p=1$AAAA$${hash43}`],
    ['a hash under 16 bytes', `$scrypt$ln=4,r=8,p=1$${salt22}$AAAA`],
    ['trailing text', `$scrypt$ln=4,r=8,p=1$${salt22}$${hash43}$x`],
  ])('answers false for a malformed PHC string: %s', async (_name, phc) => {
    expect(parsePhc(phc)).toBeNull();
    expect(await verifyPassword('whatever password', phc)).toBe(false);
  });
});

describe('parsePhc bounds', () => {
  const phc = (params: string) => `$scrypt$${params}$${salt22}$${hash43}`;

  it('accepts the defaults and cheaper costs', () => {
    expect(parsePhc(phc('ln=14,r=8,p=1'))?.params).toEqual({ ln: 14, r: 8, p: 1 });
    expect(parsePhc(phc('ln=1,r=1,p=1'))?.hash.length).toBe(32);
  });

  it('refuses a cost that would ask for more than 64 MiB or too many threads of work', () => {
    expect(parsePhc(phc('ln=21,r=1,p=1'))).toBeNull(); // ln over 20
    expect(parsePhc(phc('ln=20,r=1,p=1'))).toBeNull(); // 128 MiB
    expect(parsePhc(phc('ln=16,r=8,p=1'))).toBeNull(); // 64 MiB and a little
    expect(parsePhc(phc('ln=15,r=8,p=1'))).not.toBeNull(); // 32 MiB
    expect(parsePhc(phc('ln=10,r=33,p=1'))).toBeNull();
    expect(parsePhc(phc('ln=10,r=8,p=5'))).toBeNull();
    expect(parsePhc(phc('ln=0,r=8,p=1'))).toBeNull();
    expect(parsePhc(phc('ln=10,r=0,p=1'))).toBeNull();
  });

  it('refuses a string over 256 characters before reading it', () => {
    expect(parsePhc(`$scrypt$ln=4,r=8,p=1$${'A'.repeat(86)}$${'A'.repeat(150)}`)).toBeNull();
  });
});

describe('deriveCredentials', () => {
  it('derives RFC 5802 keys from the password, with the salt and iterations it was given', async () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const credentials = await deriveCredentials('pencil', { scrypt: fast, scramSalt: salt, scramIterations: 4096 });
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(credentials.scram).toEqual({
      salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
      iterations: 4096,
      storedKey: createHash('sha256').update(clientKey).digest('base64'),
      serverKey: createHmac('sha256', salted).update('Server Key').digest('base64'),
    });
    expect(await verifyPassword('pencil', credentials.passwordHash)).toBe(true);
  });

  it('uses a fresh 16-byte salt and the default iterations unless told otherwise', async () => {
    const [a, b] = await Promise.all([deriveCredentials('twice the same', { scrypt: fast }), deriveCredentials('twice the same', { scrypt: fast })]);
    expect(a.scram.iterations).toBe(defaultScramIterations);
    expect(defaultScramIterations).toBeGreaterThanOrEqual(4096);
    expect(Buffer.from(a.scram.salt, 'base64')).toHaveLength(16);
    expect(a.scram.salt).not.toBe(b.scram.salt);
    expect(a.scram.storedKey).not.toBe(b.scram.storedKey);
  });

  it('derives SCRAM keys from the SASLprep-ed password', async () => {
    const salt = Buffer.alloc(16, 7);
    const options = { scrypt: fast, scramSalt: salt, scramIterations: 4096 };
    const [a, b] = await Promise.all([deriveCredentials('\u2168 lives', options), deriveCredentials('IX\u00A0li\u00ADves', options)]);
    expect(a.scram).toEqual(b.scram);
  });
});

describe('passwordProblem', () => {
  it('accepts a password of 8 characters to 300 bytes', () => {
    expect(passwordProblem('12345678')).toBeNull();
    expect(passwordProblem('€'.repeat(100))).toBeNull(); // 300 bytes
    expect(passwordProblem('  spaces are fine  ')).toBeNull();
  });

  it('counts characters, not bytes, for the minimum', () => {
    expect(passwordProblem('ééééééé')).toMatch(/at least 8 characters/);
    expect(passwordProblem('éééééééé')).toBeNull();
  });

  it('refuses a short, a long, or an untypeable password with a sentence', () => {
    expect(passwordProblem('short')).toBe('The password must be at least 8 characters long.');
    expect(passwordProblem('€'.repeat(100) + 'x')).toBe('The password must be at most 300 bytes long.');
    expect(passwordProblem('tab\there!')).toMatch(/control/);
    expect(passwordProblem('\u00AD'.repeat(10))).toMatch(/at least 8/); // all mapped to nothing
  });
});

describe('saslPrep (the subset)', () => {
  it('maps non-ASCII spaces to a space and drops what B.1 maps to nothing', () => {
    expect(saslPrep('a\u00A0b\u3000c')).toBe('a b c');
    expect(saslPrep('I\u00ADX\u200B\uFEFF')).toBe('IX');
  });

  it('normalises to NFKC', () => {
    expect(saslPrep('\u2168')).toBe('IX');
    expect(saslPrep('\u00AA')).toBe('a');
    expect(saslPrep('e\u0301')).toBe('\u00E9');
  });

  it('refuses controls, private use, non-characters, lone surrogates, bidi controls and tags', () => {
    for (const bad of ['\u0007', '\u007F', '\u0085', '\uE000', '\uFDD0', '\uFFFE', '\u{1FFFF}', '\uD800', 'a\uDC00', '\u200E', '\u202E', '\u{E0041}', '\u{F0000}']) {
      expect(saslPrep(`x${bad}y`), JSON.stringify(bad)).toBeNull();
    }
  });

  it('keeps ordinary text, emoji included, as it is', () => {
    expect(saslPrep('Pässwörd 😀')).toBe('Pässwörd 😀');
  });
});

describe('password hashing, a few at a time', () => {
  it('runs at most maxConcurrentPasswordHashes at once, the rest waiting in order, and frees every slot', async () => {
    const { deriveCredentials: derive, hashQueue } = await import('../../../src/identity/passwords.js');
    const { maxConcurrentPasswordHashes } = await import('../../../src/core/config.js');
    const finished: number[] = [];
    const all = Array.from({ length: 4 }, (_, i) => derive(`password-${i}-long`, { scrypt: { ln: 10, r: 8, p: 1 }, scramIterations: 1024 }).then(() => finished.push(i)));
    // Each derivation is two hashes (scrypt and PBKDF2): eight asked for at once.
    expect(hashQueue()).toEqual({ running: maxConcurrentPasswordHashes, waiting: 8 - maxConcurrentPasswordHashes });
    await Promise.all(all);
    expect(finished).toEqual([0, 1, 2, 3]);
    expect(hashQueue()).toEqual({ running: 0, waiting: 0 });
  });
});
