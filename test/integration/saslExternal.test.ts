// SASL EXTERNAL over real TLS: a client presents a certificate (self-signed, as IRC users make
// them), registers an account, adds the certificate's fingerprint with NickServ CERT ADD, and
// on its next connection logs in with no password. A different certificate, or none, fails.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIrcTestServer, type TestServer } from '../helpers.js';
import { waitForLineIn } from '../irc/raw.js';
import { selfSignedCert, type TestCert } from '../tlsCert.js';

interface TlsIrc {
  lines(): string[];
  send(...lines: string[]): void;
  waitFor(pattern: RegExp, from?: number): Promise<string>;
  close(): void;
}

function connectTls(port: number, serverCert: TestCert, clientCert: TestCert | null): Promise<TlsIrc> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: readFileSync(serverCert.cert),
      ...(clientCert ? { cert: readFileSync(clientCert.cert), key: readFileSync(clientCert.key) } : {}),
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const lines = () => text.split('\r\n').slice(0, -1);
      resolve({
        lines,
        send: (...ls) => socket.write(ls.map((l) => `${l}\r\n`).join('')),
        waitFor: (pattern, from = 0) => waitForLineIn(lines, pattern, 5_000, from),
        close: () => socket.destroy(),
      });
    });
  });
}

/** The fingerprint the server computes: SHA-256 of the certificate's DER, lowercase hex. */
function fingerprintOf(cert: TestCert): string {
  return createHash('sha256').update(new X509Certificate(readFileSync(cert.cert)).raw).digest('hex');
}

describe('SASL EXTERNAL with a TLS client certificate', () => {
  let serverCert: TestCert;
  let mine: TestCert;
  let other: TestCert;
  let server: TestServer;

  beforeAll(async () => {
    serverCert = selfSignedCert('sasl-server');
    mine = selfSignedCert('sasl-client');
    other = selfSignedCert('sasl-other');
    server = await startIrcTestServer({}, { tlsCert: serverCert.cert, tlsKey: serverCert.key });
  });

  afterAll(async () => {
    await server?.stop();
    for (const c of [serverCert, mine, other]) c?.remove();
  });

  it('logs in with the certificate once its fingerprint is on the account, and only with it', async () => {
    const first = await connectTls(server.port, serverCert, mine);
    first.send('NICK certuser', 'USER certuser 0 * :Cert User');
    await first.waitFor(/ 376 /);
    first.send('PRIVMSG NickServ :REGISTER correct-horse-battery');
    await first.waitFor(/ 900 certuser /);
    first.send('PRIVMSG NickServ :CERT ADD');
    const added = await first.waitFor(/NOTICE certuser :Certificate/);
    expect(added).toContain(fingerprintOf(mine));
    first.send('QUIT');
    first.close();

    // The same certificate: logged in before registration, no password sent.
    const again = await connectTls(server.port, serverCert, mine);
    again.send('CAP LS 302', 'NICK certuser2', 'USER certuser 0 * :Cert User');
    expect(await again.waitFor(/ CAP \S+ LS /)).toMatch(/sasl=[^ ]*EXTERNAL/);
    again.send('CAP REQ :sasl');
    await again.waitFor(/ CAP \S+ ACK :?sasl/);
    again.send('AUTHENTICATE EXTERNAL');
    await again.waitFor(/^AUTHENTICATE \+$|^:\S+ AUTHENTICATE \+$/);
    again.send('AUTHENTICATE +');
    expect(await again.waitFor(/ 900 /)).toMatch(/ 900 certuser2 \S+ certuser :You are now logged in as certuser/);
    await again.waitFor(/ 903 /);
    again.send('CAP END');
    await again.waitFor(/ 001 /);
    again.send('WHOIS certuser2');
    expect(await again.waitFor(/ 330 /)).toContain('330 certuser2 certuser2 certuser :is logged in as');
    again.close();

    // Another certificate, or none: 904.
    for (const cert of [other, null]) {
      const stranger = await connectTls(server.port, serverCert, cert);
      stranger.send('CAP REQ :sasl', 'NICK stranger', 'USER s 0 * :S');
      await stranger.waitFor(/ CAP \S+ ACK :?sasl/);
      stranger.send('AUTHENTICATE EXTERNAL');
      await stranger.waitFor(/AUTHENTICATE \+$/);
      stranger.send('AUTHENTICATE +');
      await stranger.waitFor(/ 904 /);
      expect(stranger.lines().some((l) => / 900 /.test(l))).toBe(false);
      stranger.close();
    }
  });
});
