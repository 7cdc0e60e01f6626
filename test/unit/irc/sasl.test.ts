import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveCredentials } from '../../../src/identity/passwords.js';
import { accountKey } from '../../../src/irc/commands/accounts.js';
import type { Client } from '../../../src/irc/commands/types.js';
import { harness, unavailableStore, type Harness, START } from './harness.js';

// AUTHENTICATE (SASL) and REGISTER (draft/account-registration). The store is shared by every
// test of this file: each test uses account names of its own.

const PW = 'correct-horse-battery';
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const plain = (account: string, password: string, authzid = ''): string => b64(`${authzid}\0${account}\0${password}`);

/** Creates an account straight in the store. */
async function account(h: Harness, name: string, password = PW): Promise<void> {
  const created = await h.ctx.store.createAccount(accountKey(name), { name, email: null, registeredAt: START }, await deriveCredentials(password));
  if (!created) throw new Error(`${name} exists`);
}

/** A client that has enabled sasl and given NICK and USER, but is not registered yet. */
async function registering(h: Harness, nick: string, options: { certfp?: string } = {}): Promise<Client> {
  const c = h.connect(options);
  await h.run(c, 'CAP REQ sasl');
  await h.run(c, `NICK ${nick}`);
  await h.run(c, `USER ${nick} 0 * :${nick}`);
  return c;
}

describe('AUTHENTICATE', () => {
  it('does not exist without CAP REQ sasl', async () => {
    const h = harness();
    expect((await h.run(h.connect(), 'AUTHENTICATE PLAIN')).lines).toEqual(['#1 <- :irc.test 421 * AUTHENTICATE :Unknown command']);
  });

  it('lists the mechanisms (908) then fails (904) on an unknown one', async () => {
    const h = harness();
    const c = await registering(h, 'saMech');
    const r = await h.run(c, 'AUTHENTICATE DIGEST-MD5');
    expect(r.to(c)).toEqual([
      ':irc.test 908 saMech PLAIN,EXTERNAL,SCRAM-SHA-256 :are available SASL mechanisms',
      ':irc.test 904 saMech :SASL authentication failed: Invalid account credentials',
    ]);
    expect(c.sasl).toBeNull();
  });

  it('PLAIN before registration logs in (900, 903), and the welcome puts the account on the network', async () => {
    const h = harness();
    await account(h, 'saPre');
    const c = await registering(h, 'saPre');
    expect((await h.run(c, 'AUTHENTICATE plain')).to(c)).toEqual([':irc.test AUTHENTICATE +']);
    const r = await h.run(c, `AUTHENTICATE ${plain('saPre', PW)}`);
    expect(r.to(c)).toEqual([
      ':irc.test 900 saPre saPre!~saPre@10.0.0.1 saPre :You are now logged in as saPre',
      ':irc.test 903 saPre :SASL authentication successful',
    ]);
    expect(c.account).toBe('saPre');
    await h.run(c, 'CAP END');
    const welcome = await h.welcome(c);
    expect(welcome.effects).toEqual([{ type: 'irc.nickOwned' }]);
    expect(welcome.to(c).some((l) => l.includes('NickServ'))).toBe(false);
    expect(h.state.user('saPre')?.account).toBe('saPre');
  });

  it('PLAIN after registration logs in to the account named, from any nick', async () => {
    const h = harness();
    await account(h, 'saPost');
    const c = await h.register('saPostNick', { caps: ['sasl'] });
    await h.run(c, 'AUTHENTICATE PLAIN');
    const r = await h.run(c, `AUTHENTICATE ${plain('SAPOST', PW, 'saPost')}`);
    expect(r.to(c)).toEqual([
      ':irc.test 900 saPostNick saPostNick!~saPostNic@10.0.0.1 saPost :You are now logged in as saPost',
      ':irc.test 903 saPostNick :SASL authentication successful',
    ]);
    expect(h.state.user('saPostNick')?.account).toBe('saPost');
  });

  it('PLAIN fails with 904 on a wrong password, an unknown account, another authzid or bad base64', async () => {
    const h = harness();
    await account(h, 'saWrong');
    await account(h, 'saWrong2');
    const c = await registering(h, 'saWrong');
    const fail = ':irc.test 904 saWrong :SASL authentication failed: Invalid account credentials';
    for (const payload of [plain('saWrong', 'not-the-password'), plain('saNobody', PW), plain('saWrong', PW, 'saWrong2'), '!!!!', 'QUJD=']) {
      await h.run(c, 'AUTHENTICATE PLAIN');
      expect((await h.run(c, `AUTHENTICATE ${payload}`)).to(c)).toEqual([fail]);
      expect(c.sasl).toBeNull();
    }
    expect(c.account).toBeNull();
  });

  it('refuses a payload past maxSaslPayloadBytes with 905, and buffers no more', async () => {
    const h = harness();
    const c = await registering(h, 'saLong');
    await h.run(c, 'AUTHENTICATE PLAIN');
    // 20 full chunks are 8000 characters: within the limit, each waits for more.
    for (let i = 0; i < 20; i++) expect((await h.run(c, `AUTHENTICATE ${'A'.repeat(400)}`)).lines).toEqual([]);
    expect((await h.run(c, `AUTHENTICATE ${'A'.repeat(400)}`)).to(c)).toEqual([':irc.test 905 saLong :SASL message too long']);
    expect(c.sasl).toBeNull();
  });

  it('takes a payload of a multiple of 400 characters ended by AUTHENTICATE +', async () => {
    const h = harness();
    // 1 + 6 + 1 + 292 = 300 bytes: 400 characters of base64.
    const password = 'p'.repeat(292);
    await account(h, 'sa400x', password);
    const c = await registering(h, 'sa400x');
    await h.run(c, 'AUTHENTICATE PLAIN');
    const payload = plain('sa400x', password);
    expect(payload).toHaveLength(400);
    expect((await h.run(c, `AUTHENTICATE ${payload}`)).lines).toEqual([]);
    expect((await h.run(c, 'AUTHENTICATE +')).commands(c)).toEqual(['900', '903']);
    expect(c.account).toBe('sa400x');
  });

  it('AUTHENTICATE * aborts with 906, and a new exchange may start', async () => {
    const h = harness();
    const c = await registering(h, 'saAbort');
    await h.run(c, 'AUTHENTICATE PLAIN');
    expect((await h.run(c, 'AUTHENTICATE *')).to(c)).toEqual([':irc.test 906 saAbort :SASL authentication aborted']);
    expect(c.sasl).toBeNull();
    expect((await h.run(c, 'AUTHENTICATE PLAIN')).to(c)).toEqual([':irc.test AUTHENTICATE +']);
  });

  it('answers 907 once logged in', async () => {
    const h = harness();
    await account(h, 'saTwice');
    const c = await registering(h, 'saTwice');
    await h.run(c, 'AUTHENTICATE PLAIN');
    await h.run(c, `AUTHENTICATE ${plain('saTwice', PW)}`);
    expect((await h.run(c, 'AUTHENTICATE PLAIN')).to(c)).toEqual([':irc.test 907 saTwice :You have already authenticated using SASL']);
  });

  it('CAP END during an exchange aborts it with 906 and ends the hold', async () => {
    const h = harness();
    const c = await registering(h, 'saCapEnd');
    await h.run(c, 'AUTHENTICATE PLAIN');
    const r = await h.run(c, 'CAP END');
    expect(r.to(c)).toEqual([':irc.test 906 saCapEnd :SASL authentication aborted']);
    expect(r.effects).toEqual([{ type: 'irc.capEnded' }]);
    expect(c.sasl).toBeNull();
  });
});

describe('AUTHENTICATE EXTERNAL', () => {
  it('logs in with a certificate CERT ADDed to the account', async () => {
    const h = harness();
    const fp = 'e1'.repeat(32);
    const owner = await h.register('saExt', { certfp: fp });
    await h.run(owner, `NS REGISTER ${PW}`);
    expect((await h.run(owner, 'NS CERT ADD')).to(owner)[0]).toContain('added');
    await h.depart(owner, 'bye');
    const c = await registering(h, 'saExtNew', { certfp: fp });
    expect((await h.run(c, 'AUTHENTICATE EXTERNAL')).to(c)).toEqual([':irc.test AUTHENTICATE +']);
    expect((await h.run(c, 'AUTHENTICATE +')).to(c)).toEqual([
      ':irc.test 900 saExtNew saExtNew!~saExtNew@10.0.0.2 saExt :You are now logged in as saExt',
      ':irc.test 903 saExtNew :SASL authentication successful',
    ]);
  });

  it('fails with 904 without a certificate, or with one no account holds', async () => {
    const h = harness();
    const fail = (nick: string): string => `:irc.test 904 ${nick} :SASL authentication failed: Invalid account credentials`;
    const c = await registering(h, 'saNoCert');
    await h.run(c, 'AUTHENTICATE EXTERNAL');
    expect((await h.run(c, 'AUTHENTICATE +')).to(c)).toEqual([fail('saNoCert')]);
    const d = await registering(h, 'saOddCert', { certfp: 'f0'.repeat(32) });
    await h.run(d, 'AUTHENTICATE EXTERNAL');
    expect((await h.run(d, 'AUTHENTICATE +')).to(d)).toEqual([fail('saOddCert')]);
    expect([c.account, d.account]).toEqual([null, null]);
  });
});

describe('AUTHENTICATE SCRAM-SHA-256', () => {
  /** The one AUTHENTICATE payload a line carries, decoded. */
  const payloadOf = (line: string | undefined): string => {
    const match = /^:irc\.test AUTHENTICATE (\S+)$/.exec(line ?? '');
    if (!match) throw new Error(`not an AUTHENTICATE line: ${line}`);
    return Buffer.from(match[1]!, 'base64').toString('utf8');
  };

  /** A client's side of RFC 5802, up to and including the client-final; returns what checks the server. */
  async function scramExchange(h: Harness, c: Client, user: string, password: string) {
    expect((await h.run(c, 'AUTHENTICATE SCRAM-SHA-256')).to(c)).toEqual([':irc.test AUTHENTICATE +']);
    const clientNonce = randomBytes(18).toString('base64');
    const bare = `n=${user},r=${clientNonce}`;
    const serverFirst = payloadOf((await h.run(c, `AUTHENTICATE ${b64(`n,,${bare}`)}`)).to(c)[0]);
    const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0]!, a.slice(2)]));
    expect(attrs.r!.startsWith(clientNonce) && attrs.r!.length > clientNonce.length).toBe(true);
    const salted = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${bare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
    const final = await h.run(c, `AUTHENTICATE ${b64(`${withoutProof},p=${proof.toString('base64')}`)}`);
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    return { final, serverSignature: createHmac('sha256', serverKey).update(authMessage).digest('base64') };
  }

  it('logs in after a full exchange, the server proving it holds the keys', async () => {
    const h = harness();
    await account(h, 'saScram');
    const c = await registering(h, 'saScram');
    const { final, serverSignature } = await scramExchange(h, c, 'saScram', PW);
    expect(final.to(c)).toHaveLength(1);
    expect(payloadOf(final.to(c)[0])).toBe(`v=${serverSignature}`);
    expect(c.account).toBeNull();
    expect((await h.run(c, 'AUTHENTICATE +')).to(c)).toEqual([
      ':irc.test 900 saScram saScram!~saScram@10.0.0.1 saScram :You are now logged in as saScram',
      ':irc.test 903 saScram :SASL authentication successful',
    ]);
    expect(c.account).toBe('saScram');
  });

  it('fails with 904 at the client-final on a wrong password or an unknown account', async () => {
    const h = harness();
    await account(h, 'saScramNo');
    const c = await registering(h, 'saScramNo');
    const fail = [':irc.test 904 saScramNo :SASL authentication failed: Invalid account credentials'];
    expect((await scramExchange(h, c, 'saScramNo', 'not-the-password')).final.to(c)).toEqual(fail);
    expect((await scramExchange(h, c, 'saScramNobody', PW)).final.to(c)).toEqual(fail);
    expect(c.account).toBeNull();
    expect(c.sasl).toBeNull();
  });
});

describe('REGISTER (draft/account-registration)', () => {
  /** A client that has enabled draft/account-registration and given NICK and USER. */
  async function registrant(h: Harness, nick?: string): Promise<Client> {
    const c = h.connect();
    await h.run(c, 'CAP REQ draft/account-registration');
    if (nick !== undefined) {
      await h.run(c, `NICK ${nick}`);
      await h.run(c, `USER ${nick} 0 * :${nick}`);
    }
    return c;
  }

  it('does not exist without the capability', async () => {
    const h = harness();
    expect((await h.run(h.connect(), `REGISTER * * ${PW}`)).lines).toEqual([`#1 <- :irc.test 421 * REGISTER :Unknown command`]);
  });

  it('registers the nick before registration and logs in; the welcome puts the account on the network', async () => {
    const h = harness();
    const c = await registrant(h, 'saReg');
    const r = await h.run(c, `REGISTER * sareg@example.org ${PW}`);
    expect(r.to(c)).toEqual([
      ':irc.test REGISTER SUCCESS saReg :Account registered',
      ':irc.test 900 saReg saReg!~saReg@10.0.0.1 saReg :You are now logged in as saReg',
    ]);
    expect(c.account).toBe('saReg');
    expect(await h.ctx.store.account('sareg')).toMatchObject({ name: 'saReg', email: 'sareg@example.org' });
    await h.welcome(c);
    expect(h.state.user('saReg')?.account).toBe('saReg');
    expect((await h.run(c, `REGISTER saReg * ${PW}`)).to(c)).toEqual([
      ':irc.test FAIL REGISTER ALREADY_AUTHENTICATED saReg :You are already logged in',
    ]);
  });

  it('refuses an existing account, a weak password, another name than the nick, and no nick at all', async () => {
    const h = harness();
    await account(h, 'saExists');
    const taken = await registrant(h, 'saExists');
    expect((await h.run(taken, `REGISTER saExists * ${PW}`)).to(taken)).toEqual([
      ':irc.test FAIL REGISTER ACCOUNT_EXISTS saExists :That account already exists',
    ]);
    const c = await registrant(h, 'saRefused');
    expect((await h.run(c, 'REGISTER * * short')).to(c)).toEqual([
      ':irc.test FAIL REGISTER WEAK_PASSWORD saRefused :The password must be at least 8 characters long.',
    ]);
    expect((await h.run(c, `REGISTER saOther * ${PW}`)).to(c)).toEqual([
      ':irc.test FAIL REGISTER BAD_ACCOUNT_NAME saOther :The account name must be your current nick',
    ]);
    const nameless = await registrant(h);
    expect((await h.run(nameless, `REGISTER * * ${PW}`)).to(nameless)).toEqual([
      ':irc.test FAIL REGISTER NEED_NICK * :Choose a nick first (the account is your nick)',
    ]);
    expect([taken.account, c.account, nameless.account]).toEqual([null, null, null]);
    expect(await h.ctx.store.account('sarefused')).toBeNull();
  });
});

describe('store outage', () => {
  it('AUTHENTICATE PLAIN fails with 904 and REGISTER with TEMPORARILY_UNAVAILABLE', async () => {
    const h = harness({}, {}, unavailableStore());
    const c = h.connect();
    await h.run(c, 'CAP REQ :sasl draft/account-registration');
    await h.run(c, 'NICK saDown');
    await h.run(c, 'AUTHENTICATE PLAIN');
    expect((await h.run(c, `AUTHENTICATE ${plain('saDown', PW)}`)).to(c)).toEqual([
      ':irc.test 904 saDown :Accounts are unavailable right now: try again shortly',
    ]);
    expect((await h.run(c, `REGISTER * * ${PW}`)).to(c)).toEqual([
      ':irc.test FAIL REGISTER TEMPORARILY_UNAVAILABLE saDown :Accounts are unavailable right now: try again shortly',
    ]);
    expect(c.account).toBeNull();
  });
});
