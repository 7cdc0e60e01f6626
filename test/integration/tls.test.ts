// TLS on the same port, for both protocols: a certificate made here with openssl, real TLS
// clients, and a client that speaks plain text to the TLS port (it must not stop anyone else).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIrcTestServer, startTestServer, waitFor, type TestServer } from '../helpers.js';
import { selfSignedCert } from '../tlsCert.js';

let cert: string;
let key: string;
let remove = (): void => {};

beforeAll(() => {
  ({ cert, key, remove } = selfSignedCert('tls-test'));
});

afterAll(() => remove());

/** Connects over TLS trusting only the test's certificate; resolves with what it received until close. */
function tlsExchange(port: number, send: string | null, until: (text: string) => boolean): Promise<{ text: string; socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(cert), servername: 'localhost' });
    let text = '';
    let sent = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!sent && send !== null && text.includes('\n')) {
        sent = true;
        socket.write(send);
      }
      if (until(text)) resolve({ text, socket });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, socket }));
  });
}

describe('TLS', () => {
  let server: TestServer | null = null;
  afterAll(async () => server?.stop());

  it('serves the greeting over TLS with a verified certificate, and logs the reply', async () => {
    server = await startTestServer({ tlsCert: cert, tlsKey: key });
    const { text, socket } = await tlsExchange(server.port, 'over tls\n', () => false);
    expect(socket.authorized).toBe(true);
    expect(text).toBe("Hey What's up?\n");
    await waitFor(() => server!.lines.some((l) => l.includes('Client Response Payload: over tls')));
    await server.stop();
    server = null;
  });

  it('drops a plain-text client on the TLS port and keeps serving TLS clients', async () => {
    server = await startTestServer({ tlsCert: cert, tlsKey: key });
    const plain = net.connect({ port: server.port, host: '127.0.0.1' });
    plain.on('error', () => {});
    plain.write('hello in clear text\r\n');
    await new Promise<void>((resolve) => plain.on('close', () => resolve()));
    await waitFor(() => server!.lines.some((l) => l.includes('TLS handshake failed')), 5_000, 'the failed handshake to be logged');
    const { text } = await tlsExchange(server.port, 'still here\n', () => false);
    expect(text).toBe("Hey What's up?\n");
    await waitFor(() => server!.handle.liveConnections() === 0, 5_000, 'the TLS client to be released');
    await server.stop();
    server = null;
  });

  it('closes a client that never finishes its TLS handshake at --tls-handshake-timeout, and stops at once after', async () => {
    server = await startTestServer({ tlsCert: cert, tlsKey: key, tlsHandshakeTimeoutMs: 300 });
    // Connects and says nothing: no ClientHello, ever.
    const silent = net.connect({ port: server.port, host: '127.0.0.1' });
    silent.on('error', () => {});
    const closed = new Promise<number>((resolve) => silent.on('close', () => resolve(Date.now())));
    const connectedAt = await new Promise<number>((resolve) => silent.on('connect', () => resolve(Date.now())));
    const closedAt = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
    expect(closedAt, 'the server to close the silent socket').not.toBeNull();
    expect(closedAt! - connectedAt).toBeGreaterThanOrEqual(250);
    expect(server.lines.some((l) => l.includes('TLS handshake failed') && l.includes('ERR_TLS_HANDSHAKE_TIMEOUT'))).toBe(true);
    const stoppingAt = Date.now();
    await server.stop();
    expect(Date.now() - stoppingAt).toBeLessThan(1_000);
    server = null;
  });

  it('gives up on a TLS client that ignores the goodbye at the close timeout, and keeps serving', async () => {
    // A TLS socket cannot be reset (its handle is the TLS layer): the close timeout destroys it.
    const closeTimeoutMs = 300;
    server = await startTestServer({ tlsCert: cert, tlsKey: key, closeTimeoutMs });
    // allowHalfOpen (on the TCP socket under it): it keeps its side open after the server's
    // close_notify and FIN.
    const tcp = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    const silent = tls.connect({ socket: tcp, ca: readFileSync(cert), servername: 'localhost' });
    silent.on('error', () => {});
    await new Promise<void>((resolve) => silent.once('data', () => resolve()));
    silent.write('then silence\n');
    const repliedAt = Date.now();
    await waitFor(() => server!.lines.some((l) => l.endsWith(' closed (replied).')), 5_000, 'the silent TLS client to be closed');
    expect(Date.now() - repliedAt).toBeGreaterThanOrEqual(closeTimeoutMs - 50);
    expect(server.handle.liveConnections()).toBe(0);
    expect(server.lines.filter((l) => /crashed|failed/.test(l))).toEqual([]);
    silent.destroy();
    const { text } = await tlsExchange(server.port, 'next\n', () => false);
    expect(text).toBe("Hey What's up?\n");
    await server.stop();
    server = null;
  });

  it('speaks IRC over TLS: the connect notice, registration and the welcome', async () => {
    server = await startIrcTestServer({}, { tlsCert: cert, tlsKey: key });
    const { text, socket } = await tlsExchange(server.port, 'NICK tlsuser\r\nUSER u 0 * :TLS User\r\n', (t) => / 376 | 422 /.test(t));
    expect(text).toMatch(/^:irc\.localhost NOTICE \* :Hey What's up\?\r\n/);
    expect(text).toContain(':irc.localhost 001 tlsuser :');
    socket.end('QUIT :bye\r\n');
    await waitFor(() => server!.handle.liveConnections() === 0);
    await server.stop();
    server = null;
  });
});
