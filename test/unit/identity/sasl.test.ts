import { describe, expect, it } from 'vitest';
import { chunkPayload, maxSaslPayloadBytes, parseExternal, parsePlain, SaslPayload, saslMechanisms } from '../../../src/identity/sasl.js';

/** Bytes whose base64 is exactly `chars` characters long (chars a multiple of 4). */
function bytesOfBase64Length(chars: number): Buffer {
  return Buffer.alloc((chars / 4) * 3, 0xab);
}

/** Feeds chunks to a fresh assembler, returning every answer. */
function feed(chunks: string[]): ReturnType<SaslPayload['add']>[] {
  const payload = new SaslPayload();
  return chunks.map((chunk) => payload.add(chunk));
}

describe('saslMechanisms', () => {
  it('offers PLAIN, EXTERNAL and SCRAM-SHA-256', () => {
    expect(saslMechanisms.join(',')).toBe('PLAIN,EXTERNAL,SCRAM-SHA-256');
  });
});

describe('chunkPayload', () => {
  it('sends an empty payload as +', () => {
    expect(chunkPayload(Buffer.alloc(0))).toEqual(['+']);
  });

  it('sends a short payload as one line', () => {
    expect(chunkPayload(Buffer.from('hello'))).toEqual(['aGVsbG8=']);
  });

  it('follows a payload of exactly 400 characters with +', () => {
    const chunks = chunkPayload(bytesOfBase64Length(400));
    expect(chunks.map((c) => c.length)).toEqual([400, 1]);
    expect(chunks[1]).toBe('+');
  });

  it('follows a payload of exactly 800 characters with +, after two full lines', () => {
    expect(chunkPayload(bytesOfBase64Length(800)).map((c) => c.length)).toEqual([400, 400, 1]);
  });

  it('ends a payload of 804 characters with its short line, no +', () => {
    expect(chunkPayload(bytesOfBase64Length(804)).map((c) => c.length)).toEqual([400, 400, 4]);
  });
});

describe('SaslPayload', () => {
  it('takes + as the empty payload', () => {
    expect(feed(['+'])).toEqual([{ done: true, bytes: Buffer.alloc(0) }]);
  });

  it('finishes at the first chunk under 400 characters', () => {
    expect(feed(['aGVsbG8='])).toEqual([{ done: true, bytes: Buffer.from('hello') }]);
  });

  it('round-trips what chunkPayload cut, at 400, 800 and 804 characters', () => {
    for (const chars of [400, 800, 804, 1200]) {
      const bytes = bytesOfBase64Length(chars);
      const answers = feed(chunkPayload(bytes));
      expect(answers.slice(0, -1).every((a) => 'done' in a && !a.done)).toBe(true);
      expect(answers.at(-1)).toEqual({ done: true, bytes });
    }
  });

  it('waits after exactly 400 characters, then ends at +', () => {
    const payload = new SaslPayload();
    const first = bytesOfBase64Length(400).toString('base64');
    expect(payload.add(first)).toEqual({ done: false });
    expect(payload.add('+')).toEqual({ done: true, bytes: bytesOfBase64Length(400) });
  });

  it('starts empty again after a payload, for the next message of the exchange', () => {
    const payload = new SaslPayload();
    expect(payload.add('b25l')).toEqual({ done: true, bytes: Buffer.from('one') });
    expect(payload.add('dHdv')).toEqual({ done: true, bytes: Buffer.from('two') });
  });

  it('refuses a line over 400 characters as too long', () => {
    expect(feed(['A'.repeat(404)])).toEqual([{ error: 'tooLong' }]);
  });

  it('refuses a payload past maxSaslPayloadBytes without buffering it, then starts again', () => {
    const payload = new SaslPayload();
    const line = 'A'.repeat(400);
    const answers = Array.from({ length: maxSaslPayloadBytes / 400 + 1 }, () => payload.add(line));
    expect(answers.filter((a) => 'error' in a)).toEqual([{ error: 'tooLong' }]);
    expect(answers.findIndex((a) => 'error' in a)).toBe(Math.floor(maxSaslPayloadBytes / 400));
    expect(payload.add('+')).toEqual({ done: true, bytes: Buffer.alloc(0) });
  });

  it('accepts a payload of exactly maxSaslPayloadBytes characters', () => {
    const bytes = bytesOfBase64Length(maxSaslPayloadBytes);
    expect(feed(chunkPayload(bytes)).at(-1)).toEqual({ done: true, bytes });
  });

  it.each([
    ['characters outside base64', 'aGVs!G8='],
    ['missing padding', 'aGVsbG8'],
    ['padding in the middle', 'aG=sbG8='],
    ['non-zero bits in the padding', 'aGVsbG9='],
    ['an empty parameter', ''],
    ['a space', 'aGVs bG8='],
  ])('refuses %s as bad base64', (_name, chunk) => {
    expect(feed([chunk])).toEqual([{ error: 'badBase64' }]);
  });

  it('refuses bad base64 that spans chunks, and forgets it', () => {
    const payload = new SaslPayload();
    expect(payload.add(`${'A'.repeat(399)}=`)).toEqual({ done: false });
    expect(payload.add('AAAA')).toEqual({ error: 'badBase64' });
    expect(payload.add('AAAA')).toEqual({ done: true, bytes: Buffer.alloc(3) });
  });
});

describe('parsePlain', () => {
  const plain = (text: string) => parsePlain(Buffer.from(text));

  it('reads authzid, authcid and password', () => {
    expect(plain('\0alice\0secret pass')).toEqual({ authzid: '', authcid: 'alice', password: 'secret pass' });
    expect(plain('admin\0alice\0pässwörd')).toEqual({ authzid: 'admin', authcid: 'alice', password: 'pässwörd' });
  });

  it.each([
    ['no NUL', 'alice'],
    ['one NUL', 'alice\0secret'],
    ['an extra NUL', '\0alice\0sec\0ret'],
    ['an empty authcid', '\0\0secret'],
    ['an empty password', '\0alice\0'],
    ['an authcid over 255 bytes', `\0${'a'.repeat(256)}\0secret`],
    ['an authzid over 255 bytes', `${'a'.repeat(256)}\0alice\0secret`],
    ['a password over 300 bytes', `\0alice\0${'p'.repeat(301)}`],
  ])('refuses %s', (_name, text) => {
    expect(plain(text)).toBeNull();
  });

  it('accepts fields at their limits', () => {
    expect(plain(`${'z'.repeat(255)}\0${'a'.repeat(255)}\0${'p'.repeat(300)}`)?.password).toHaveLength(300);
  });

  it('refuses invalid UTF-8 in any field', () => {
    expect(parsePlain(Buffer.from([0, 0x61, 0, 0xc3, 0x28]))).toBeNull();
    expect(parsePlain(Buffer.from([0, 0xff, 0, 0x61]))).toBeNull();
    expect(parsePlain(Buffer.from([0xed, 0xa0, 0x80, 0, 0x61, 0, 0x61]))).toBeNull(); // an encoded surrogate
  });
});

describe('parseExternal', () => {
  it('reads an empty message as "the certificate\'s account"', () => {
    expect(parseExternal(Buffer.alloc(0))).toEqual({ authzid: '' });
  });

  it('reads an authzid', () => {
    expect(parseExternal(Buffer.from('alice'))).toEqual({ authzid: 'alice' });
  });

  it('refuses a NUL, invalid UTF-8 or an authzid over 255 bytes', () => {
    expect(parseExternal(Buffer.from('ali\0ce'))).toBeNull();
    expect(parseExternal(Buffer.from([0x61, 0xff]))).toBeNull();
    expect(parseExternal(Buffer.from('a'.repeat(256)))).toBeNull();
    expect(parseExternal(Buffer.from('a'.repeat(255)))).toEqual({ authzid: 'a'.repeat(255) });
  });
});
