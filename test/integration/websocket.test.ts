// IRC over WebSocket (--websocket) on real sockets: the IRCv3 transport (one line per message,
// subprotocol negotiation, the Origin check, message limits, binary frames with invalid UTF-8)
// and a WebSocket client being a session like any other: it talks with a TCP client in one
// channel, and the listener counts it against the same caps (max connections, per IP), applies
// the same limits (line length, flood, sendq) and drains it on shutdown. Also TLS (wss://).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type WebServer } from '../../src/transports/webServer.js';
import { defaultConfig, type IrcConfig, type ServerConfig } from '../../src/core/config.js';
import { humanLogger } from '../../src/core/logger.js';
import { startIrcTestServer, waitFor, type TestServer } from '../helpers.js';
import { connectClient, type TestClient } from '../irc/clients.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';
import { connectWs, handshake, type WsIrc } from '../irc/ws.js';
import { selfSignedCert } from '../tlsCert.js';

interface Running {
  server: TestServer;
  web: WebServer;
  url: string;
  origin: string;
}

let running: Running | null = null;
const closers: Array<() => void> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  if (running) {
    await running.server.stop();
    await running.web.close();
  }
  running = null;
});

/** The IRC server in this process with --websocket on port 0; both log into `server.lines`. */
async function start(irc: Partial<IrcConfig> = {}, overrides: Partial<ServerConfig> = {}): Promise<Running> {
  const server = await startIrcTestServer({ floodBurstLines: 100, floodRateLinesPerSecond: 100, ...irc }, overrides);
  const logger = humanLogger({ out: (l) => server.lines.push(l), err: (l) => server.lines.push(l) });
  const web = await startWebServer({ ...defaultConfig, ...overrides, websocket: { host: '127.0.0.1', port: 0 } }, logger);
  web.attach(server.handle);
  running = { server, web, url: web.webSocketUrl, origin: web.url.replace(/\/$/, '') };
  return running;
}

async function ws(r: Running, options: Parameters<typeof connectWs>[1] = {}): Promise<WsIrc> {
  const c = await connectWs(r.url, { origin: r.origin, ...options });
  closers.push(() => c.ws.terminate());
  return c;
}
async function tcp(r: Running): Promise<RawIrc> {
  const c = await connectIrc(r.server.port);
  closers.push(() => c.raw.socket.destroy());
  return c;
}
async function framework(r: Running, nick: string): Promise<TestClient> {
  const c = await connectClient({ port: r.server.port, nick });
  closers.push(() => c.destroy());
  return c;
}

describe('IRC over WebSocket', () => {
  it('registers a ws client, which talks with an irc-framework TCP client in one channel, both ways', async () => {
    const r = await start();
    const web = await ws(r, { protocols: ['text.ircv3.net'] });
    expect(await web.waitForLine(/NOTICE/)).toBe(":irc.localhost NOTICE * :Hey What's up?");
    await web.register('webby');
    expect(web.lines()).toContain(':irc.localhost 001 webby :Welcome to the xstate-tcp-chat IRC Network, webby!~webby@127.0.0.1');
    const fw = await framework(r, 'tcpy');
    web.send('JOIN #both');
    await web.waitForLine(/^:webby!\S+ JOIN #both$/);
    await fw.join('#both');
    await web.waitForLine(/^:tcpy!~tcpy@127\.0\.0\.1 JOIN #both$/);
    // irc-framework enables userhost-in-names: each name is nick!user@host.
    expect(fw.received().find((l) => / 353 /.test(l))).toMatch(/ 353 tcpy = #both :@webby!~webby@127\.0\.0\.1 tcpy!~?tcpy@127\.0\.0\.1$/);

    web.send('PRIVMSG #both :hello from a browser');
    const got = await fw.waitFor('message', (e) => e.message === 'hello from a browser');
    expect(got).toMatchObject({ nick: 'webby', target: '#both', type: 'privmsg' });
    fw.say('#both', 'hello from a terminal');
    expect(await web.waitForLine(/hello from a terminal/)).toBe(':tcpy!~tcpy@127.0.0.1 PRIVMSG #both :hello from a terminal');

    // One line per message, with no CR or LF, as the spec says.
    expect(web.messages.every((m) => !/[\r\n]/.test(m.text))).toBe(true);
    expect(web.messages.every((m) => !m.binary)).toBe(true);
    // The log says which transport it came by.
    expect(r.server.lines.some((l) => /^#1 WebSocket text\.ircv3\.net from a page at http:\/\/127\.0\.0\.1:\d+$/.test(l))).toBe(true);

    web.send('QUIT :bye now');
    expect(await web.waitForLine(/^ERROR/)).toBe('ERROR :Closing link: (~webby@127.0.0.1) [Quit: bye now]');
    expect((await web.closed).code).toBe(1000);
    await fw.waitFor('quit', (e) => e.nick === 'webby' && e.message === 'Quit: bye now');
    await waitFor(() => r.server.handle.liveConnections() === 1, 5_000, 'the ws session to finish');
  });

  it('negotiates the subprotocol in the client\'s order of preference: binary frames, text frames, or text with none', async () => {
    const r = await start();
    const binary = await ws(r, { protocols: ['binary.ircv3.net', 'text.ircv3.net'] });
    const text = await ws(r, { protocols: ['text.ircv3.net', 'binary.ircv3.net'] });
    const none = await ws(r);
    expect([binary.protocol, text.protocol, none.protocol]).toEqual(['binary.ircv3.net', 'text.ircv3.net', '']);
    for (const c of [binary, text, none]) await c.waitForLine(/NOTICE/);
    expect(binary.messages.every((m) => m.binary)).toBe(true);
    expect(text.messages.every((m) => !m.binary)).toBe(true);
    expect(none.messages.every((m) => !m.binary)).toBe(true);
    // Only protocols we do not speak: the handshake goes on without the header (text frames).
    expect(await handshake(r.url, { origin: r.origin, protocols: ['xmpp'] })).toEqual({ status: 101, body: '', protocol: null });
    // Either frame type is accepted whatever was negotiated.
    binary.send('NICK b1');
    binary.ws.send('USER b1 0 * :b', { binary: false });
    await binary.waitForLine(/ 001 b1 /);
    none.ws.send(Buffer.from('NICK n1'), { binary: true });
    none.send('USER n1 0 * :n');
    await none.waitForLine(/ 001 n1 /);
  });

  it('refuses a handshake with no Origin, or from a page elsewhere, with 403 and one line saying why', async () => {
    const r = await start();
    const missing = await handshake(r.url, { protocols: ['text.ircv3.net'] });
    expect(missing.status).toBe(403);
    expect(missing.body).toBe('no Origin header: only browsers on an allowed page may connect (see --websocket-origin)\n');
    const foreign = await handshake(r.url, { origin: 'https://evil.example', protocols: ['text.ircv3.net'] });
    expect(foreign).toEqual({ status: 403, body: 'Origin https://evil.example is not allowed (see --websocket-origin)\n', protocol: null });
    // Same host, another port or scheme: another origin.
    expect((await handshake(r.url, { origin: r.origin.replace(/:\d+$/, ':1') })).status).toBe(403);
    expect((await handshake(r.url, { origin: r.origin.replace('http:', 'https:') })).status).toBe(403);
    // The web client's own page is allowed.
    expect((await handshake(r.url, { origin: r.origin })).status).toBe(101);
    await waitFor(() => r.server.lines.some((l) => l.includes('refused (403): Origin https://evil.example is not allowed')));
    // None of the refused ones became a session.
    expect(r.server.handle.accepted()).toBe(1);
  });

  it('allows the origins --websocket-origin lists, and any (with none at all) for *', async () => {
    const r = await start({}, { websocketOrigins: ['https://chat.example'] });
    expect((await handshake(r.url, { origin: 'https://chat.example' })).status).toBe(101);
    expect((await handshake(r.url, { origin: 'https://other.example' })).status).toBe(403);
    expect((await handshake(r.url, { origin: r.origin })).status).toBe(101);
    await r.server.stop();
    await r.web.close();
    running = null;
    const any = await start({}, { websocketOrigins: ['*'] });
    expect((await handshake(any.url, {})).status).toBe(101);
    expect((await handshake(any.url, { origin: 'https://anywhere.example' })).status).toBe(101);
  });

  it('answers a line past the limit with 417 and keeps the client; closes one past the message limit with 1009', async () => {
    const r = await start({}, { websocketMaxMessageBytes: 8 * 1024 });
    const c = await ws(r, { protocols: ['text.ircv3.net'] });
    await c.register('longline');
    // 510 bytes is the most a message may carry (512 less the CRLF the server adds).
    c.send(`PRIVMSG longline :${'a'.repeat(510 - 'PRIVMSG longline :'.length)}`);
    await c.waitForLine(/^:longline!\S+ PRIVMSG longline :?a{400,}$/);
    c.send(`PRIVMSG longline :${'b'.repeat(511 - 'PRIVMSG longline :'.length)}`);
    expect(await c.waitForLine(/ 417 /)).toBe(':irc.localhost 417 longline :Input line was too long');
    c.send('PING :still-here');
    await c.waitForLine(/PONG \S+ :?still-here/);
    // A trailing CRLF (some clients add one) is harmless.
    c.send('PING :crlf\r\n');
    await c.waitForLine(/PONG \S+ :?crlf/);

    const big = await ws(r, { protocols: ['text.ircv3.net'] });
    await big.register('bigone');
    big.send(`PRIVMSG bigone :${'x'.repeat(9 * 1024)}`);
    expect((await big.closed).code).toBe(1009);
    await waitFor(() => r.server.lines.some((l) => /failed: SOCKET_ERROR \(WS_ERR_UNSUPPORTED_MESSAGE_LENGTH\)/.test(l)));
    await waitFor(() => r.server.handle.closedByReason().get('socketError') === 1, 5_000, 'the big one to be closed');
    // The other client was not disturbed.
    c.send('PING :after');
    await c.waitForLine(/PONG \S+ :?after/);
  });

  it('turns invalid UTF-8 in a binary frame into U+FFFD, as over TCP; refuses it in a text frame (1007)', async () => {
    const r = await start();
    const sender = await ws(r, { protocols: ['binary.ircv3.net'] });
    const reader = await tcp(r);
    await sender.register('bytes');
    await reader.register('reader');
    sender.ws.send(Buffer.concat([Buffer.from('PRIVMSG reader :bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end')]), { binary: true });
    expect(await reader.waitForLine(/PRIVMSG reader/)).toBe(':bytes!~bytes@127.0.0.1 PRIVMSG reader :bad \uFFFD\uFFFD\uFFFD end');
    sender.send('PING :alive');
    await sender.waitForLine(/PONG \S+ :?alive/);

    const texter = await ws(r, { protocols: ['text.ircv3.net'] });
    await texter.waitForLine(/NOTICE/);
    texter.ws.send(Buffer.from([0x50, 0x49, 0x4e, 0x47, 0x20, 0xff]), { binary: false });
    expect((await texter.closed).code).toBe(1007);
    await waitFor(() => r.server.lines.some((l) => /SOCKET_ERROR \(WS_ERR_INVALID_UTF8\)/.test(l)));
  });

  it('counts WebSocket clients against --max-per-ip like TCP ones', async () => {
    const r = await start({ maxConnectionsPerIp: 2 });
    const a = await tcp(r);
    const b = await ws(r);
    const over = await ws(r); // third from 127.0.0.1
    expect(await over.waitForLine(/^ERROR/)).toBe('ERROR :Closing link: (*@127.0.0.1) [Too many connections from your IP address]');
    await over.closed;
    await a.waitForLine(/NOTICE/);
    await b.waitForLine(/NOTICE/);
    await waitFor(() => r.server.handle.closedByReason().get('tooManyFromIp') === 1, 5_000, 'the session over the limit to finish');
    expect(r.server.handle.liveConnections()).toBe(2);
  });

  it('counts WebSocket clients against --max-connections like TCP ones: one more is told the server is full', async () => {
    const r = await start({}, { maxConnections: 2 });
    const a = await tcp(r);
    const b = await ws(r);
    await a.waitForLine(/NOTICE/);
    await b.waitForLine(/NOTICE/);
    const full = await ws(r);
    expect(await full.waitForLine(/^ERROR/)).toBe('ERROR :Closing link: [Server is full, try again later]');
    expect((await full.closed).code).toBe(1000);
    await waitFor(() => r.server.lines.some((l) => /Turned away 127\.0\.0\.1:\d+: SERVER_BUSY/.test(l)));
    expect(r.server.handle.liveConnections()).toBe(2);
    // A TCP client is turned away the same way while a WebSocket client holds a slot.
    const tooMany = await tcp(r);
    expect(await tooMany.closed).toBe('ERROR :Closing link: [Server is full, try again later]\r\n');
  });

  it('applies flood control and the recvq to a WebSocket client: excess flood closes it alone', async () => {
    const r = await start({ floodBurstLines: 5, floodRateLinesPerSecond: 1, recvqBytes: 1024 });
    const flooder = await ws(r);
    await flooder.register('flooder');
    for (let i = 0; i < 100; i++) flooder.send(`PRIVMSG flooder :flood line number ${i} with some padding to fill the queue`);
    expect(await flooder.waitForLine(/^ERROR/)).toMatch(/\[Excess Flood\]$/);
    await flooder.closed;
    await waitFor(() => r.server.handle.closedByReason().get('excessFlood') === 1, 5_000, 'the flooder to be closed for Excess Flood');
  });

  it('closes a WebSocket client that does not read its output for SendQ exceeded; the others are served', async () => {
    const r = await start({ sendqBytes: 64 * 1024, floodBurstLines: 1_000_000, floodRateLinesPerSecond: 1_000_000, recvqBytes: 1024 * 1024 });
    const deaf = await ws(r);
    await deaf.register('deaf');
    deaf.send('JOIN #busy');
    await deaf.waitForLine(/ 366 deaf #busy /);
    const sender = await tcp(r);
    await sender.register('sender');
    sender.send('JOIN #busy');
    await sender.waitForLine(/ 366 sender #busy /);
    // The deaf client stops reading: the kernel's buffers fill, then its sendq.
    (deaf.ws as WebSocket & { _socket: { pause(): void } })._socket.pause();
    const [, rmemDefault] = readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().split(/\s+/).map(Number);
    const [, , wmemMax] = readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/).map(Number);
    const text = 'z'.repeat(400);
    const lines = Math.ceil((1.5 * (wmemMax! + rmemDefault! + 2 * 64 * 1024)) / 450);
    for (let sent = 0; sent < lines && !r.server.handle.closedByReason().get('sendqExceeded'); sent += 200) {
      sender.send(...Array.from({ length: 200 }, () => `PRIVMSG #busy :${text}`));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await sender.waitForLine(/^:deaf!\S+ QUIT/, 15_000)).toMatch(/QUIT :SendQ exceeded$/);
    sender.send('PING :fine');
    await sender.waitForLine(/PONG \S+ :?fine/);
  });

  it('tells WebSocket clients the server is shutting down and drains them with the rest', async () => {
    const r = await start();
    const c = await ws(r);
    await c.register('stayer');
    const t = await tcp(r);
    await t.register('tcpstayer');
    r.server.handle.shutdown();
    expect(await c.waitForLine(/^ERROR/)).toBe('ERROR :Closing link: (~stayer@127.0.0.1) [Server shutting down]');
    expect((await c.closed).code).toBe(1000);
    const outcome = await r.server.handle.done;
    expect(outcome).toMatchObject({ state: 'stopped', forced: false });
    // A handshake after the stop becomes no session.
    const late = await handshake(r.url, { origin: r.origin }).catch(() => null);
    if (late?.status === 101) await waitFor(() => r.server.handle.liveConnections() === 0);
    expect(r.server.handle.liveConnections()).toBe(0);
  });

  it('drops a client that trickles its handshake headers (slowloris) at the handshake timeout; it never was a session', async () => {
    const r = await start({}, { websocketHandshakeTimeoutMs: 400 });
    const port = Number(new URL(r.url).port);
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
    const at = Date.now();
    await new Promise((resolve) => socket.on('close', resolve));
    clearInterval(trickle);
    expect(Date.now() - at).toBeLessThan(2_500);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.server.handle.accepted()).toBe(0);
  });

  it('answers garbage on the WebSocket port with 400, closes on an unmasked frame (1002), and nobody else notices', async () => {
    const r = await start();
    const port = Number(new URL(r.url).port);
    const bystander = await ws(r);
    await bystander.register('bystander');
    const raw = (bytes: string | Buffer, until: (text: string) => boolean) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let got = '';
        socket.on('error', () => {});
        socket.on('data', (c: Buffer) => {
          got += c.toString('latin1');
          if (until(got)) {
            socket.destroy();
            resolve(got);
          }
        });
        socket.on('close', () => resolve(got));
        socket.write(bytes);
      });
    expect(await raw('\x16\x03\x01\x02\x00garbage\r\n\r\n', () => false)).toMatch(/^HTTP\/1\.1 400 /);
    // A client frame must be masked (RFC 6455 5.1): ws closes with 1002 and the session ends.
    const handshake = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${r.origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const unmasked = Buffer.concat([Buffer.from(handshake), Buffer.from([0x81, 0x04]), Buffer.from('PING')]);
    const answer = await raw(unmasked, (t) => t.includes('\x88'));
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(Buffer.from(answer.slice(answer.indexOf('\x88')), 'latin1').readUInt16BE(2)).toBe(1002);
    await waitFor(() => r.server.lines.some((l) => /SOCKET_ERROR \(WS_ERR_EXPECTED_MASK\)/.test(l)));
    bystander.send('PING :unbothered');
    await bystander.waitForLine(/PONG \S+ :?unbothered/);
  });

  it('serves the web client with a strict Content-Security-Policy, and nothing else', async () => {
    const r = await start();
    const page = await fetch(r.origin + '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toContain('<script src="/app.js" defer></script>');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    for (const asset of ['/app.js', '/app.css', '/favicon.svg']) expect((await fetch(r.origin + asset)).status).toBe(200);
    expect((await fetch(r.origin + '/../etc/passwd')).status).toBe(404);
    expect((await fetch(r.origin + '/', { method: 'POST' })).status).toBe(405);
  });
});

describe('IRC over secure WebSocket (wss://)', () => {
  let cert: string;
  let key: string;
  let remove = (): void => {};
  beforeAll(() => {
    ({ cert, key, remove } = selfSignedCert('wss-test'));
  });
  afterAll(() => remove());

  it('serves wss:// and https:// with the TLS flags; the client is shown as on a secure connection', async () => {
    const r = await start({}, { tlsCert: cert, tlsKey: key });
    expect(r.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/);
    const c = await ws(r, { ca: readFileSync(cert), protocols: ['text.ircv3.net'] });
    await c.register('secure');
    c.send('WHOIS secure');
    expect(await c.waitForLine(/ 671 /)).toMatch(/ 671 secure secure :is using a secure connection/);
    expect(r.server.lines.some((l) => /WebSocket text\.ircv3\.net from a page at https:\/\//.test(l))).toBe(true);
  });

  it('closes a client that never finishes its TLS handshake on the https:// port at --tls-handshake-timeout', async () => {
    const r = await start({}, { tlsCert: cert, tlsKey: key, tlsHandshakeTimeoutMs: 300 });
    const port = Number(new URL(r.web.url).port);
    const silent = net.connect({ port, host: '127.0.0.1' });
    silent.on('error', () => {});
    closers.push(() => silent.destroy());
    const closed = new Promise<true>((resolve) => silent.on('close', () => resolve(true)));
    expect(await Promise.race([closed, new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000))])).toBe(true);
    expect(r.server.lines.some((l) => l.includes('TLS handshake failed') && l.includes('ERR_TLS_HANDSHAKE_TIMEOUT'))).toBe(true);
  });
});
