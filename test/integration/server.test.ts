// The server on real sockets (port 0, loopback), checked on the wire and in its log.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/core/listener.js';
import { defaultConfig } from '../../src/core/config.js';
import { connect, converse, startTestServer, waitFor, type TestServer, serve } from '../helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  if (server) {
    // Every test must leave no actor behind once its clients are gone.
    await waitFor(() => server!.handle.liveConnections() === 0, 5_000, 'connections to be released');
    await server.stop();
    server = undefined;
  }
});

const payloadLines = (s: TestServer) => s.lines.filter((l) => l.includes('Client Response Payload:'));

describe('greeting exchange', () => {
  it('greets, logs the first line as the reply, and closes', async () => {
    server = await startTestServer();
    const received = await converse(server.port, 'Hello from the first-principles client!\n');
    expect(received).toBe("Hey What's up?\n");
    await waitFor(() => server!.lines.some((l) => l.includes('closed (replied)')));
    const lines = server.lines.join('\n');
    expect(lines).toMatch(/Socket server listening on 127\.0\.0\.1:\d+/);
    expect(lines).toMatch(/#1 Connection established from 127\.0\.0\.1:\d+/);
    expect(lines).toContain('#1 Client Response Payload: Hello from the first-principles client!');
    expect(lines).toMatch(/#1 Connection with 127\.0\.0\.1:\d+ closed \(replied\)\./);
  });

  it('accepts a CRLF line end', async () => {
    server = await startTestServer();
    await converse(server.port, 'windows\r\n');
    await waitFor(() => payloadLines(server!).length === 1);
    expect(payloadLines(server)[0]).toMatch(/Payload: windows$/);
  });

  it('serves a client that sends no newline and waits, within a second', async () => {
    server = await startTestServer();
    const client = await connect(server.port);
    await client.waitForText('\n');
    const sentAt = Date.now();
    client.socket.write('Hello');
    await client.closed;
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    expect(payloadLines(server)[0]).toMatch(/Payload: Hello$/);
  });

  it('takes what arrived as the reply when the client half-closes', async () => {
    server = await startTestServer();
    const client = await connect(server.port);
    client.socket.end('last words');
    expect(await client.closed).toBe("Hey What's up?\n");
    expect(payloadLines(server)[0]).toMatch(/Payload: last words$/);
  });

  it('decodes UTF-8 split across packets and turns invalid bytes into U+FFFD', async () => {
    server = await startTestServer();
    const client = await connect(server.port);
    client.socket.setNoDelay(true);
    await client.waitForText('\n');
    const euro = Buffer.from('€');
    client.socket.write(euro.subarray(0, 1));
    // The server has read the first byte on its own (it is in the actor's buffer) before the rest
    // is sent, so the character really arrives in two reads.
    const [conn] = [...server.handle.connections().values()];
    await waitFor(() => (conn!.getSnapshot().context as { buffered: Uint8Array }).buffered.length === 1, 5_000, 'the first byte read');
    client.socket.write(Buffer.concat([euro.subarray(1), Buffer.from([0x20, 0xff, 0x21, 0x0a])]));
    await client.closed;
    expect(payloadLines(server)[0]).toMatch(/Payload: € \uFFFD!$/);
  });

  it('never lets client text drive the operator terminal', async () => {
    server = await startTestServer();
    await converse(server.port, '\u001b[2J\u001b]0;owned\u0007 \u009b31m \u202etxt\u0000\n');
    await waitFor(() => payloadLines(server!).length === 1);
    const line = payloadLines(server)[0]!;
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(line).toContain('\\x1B[2J\\x1B]0;owned\\x07 \\x9B31m \\u202Etxt\\x00');
  });
});

describe('limits', () => {
  it('refuses a reply over --max-reply-bytes with an error line, and keeps serving others', async () => {
    server = await startTestServer({ maxReplyBytes: 64 });
    const big = await connect(server.port);
    await big.waitForText('\n');
    big.socket.write('x'.repeat(65));
    expect(await big.closed).toBe("Hey What's up?\nerror REPLY_TOO_LONG: reply is longer than 64 bytes\n");
    await converse(server.port, `${'y'.repeat(64)}\n`);
    await waitFor(() => payloadLines(server!).length === 1);
    expect(server.lines.join('\n')).toContain('closed (replyTooLong)');
  });

  it('closes a client that trickles bytes at the reply deadline, not later', async () => {
    server = await startTestServer({ replyTimeoutMs: 600, replyQuietMs: 10_000 });
    const client = await connect(server.port);
    const start = Date.now();
    const trickle = setInterval(() => client.socket.writable && client.socket.write('.'), 100);
    const received = await client.closed;
    clearInterval(trickle);
    expect(received).toBe("Hey What's up?\nerror REPLY_TIMEOUT: no reply within 600 ms\n");
    expect(Date.now() - start).toBeGreaterThanOrEqual(550);
    expect(Date.now() - start).toBeLessThan(2_000);
  });

  it('turns away clients over --max-connections with a busy line while serving the others', async () => {
    server = await startTestServer({ maxConnections: 2 });
    const a = await connect(server.port);
    const b = await connect(server.port);
    await a.waitForText('\n');
    await b.waitForText('\n');
    const extra = await connect(server.port);
    expect(await extra.closed).toBe('error SERVER_BUSY: server busy, try again later\n');
    a.socket.write('from a\n');
    b.socket.write('from b\n');
    await Promise.all([a.closed, b.closed]);
    await waitFor(() => server!.handle.liveConnections() === 0);
    expect(await converse(server.port, 'after\n')).toBe("Hey What's up?\n");
    await waitFor(() => payloadLines(server!).length === 3);
    expect(server.handle.accepted()).toBe(3);
    expect(server.handle.actor.getSnapshot().context.rejected).toBe(1);
  });

  it('lets a silent client hold up no one', async () => {
    server = await startTestServer();
    const silent = await connect(server.port);
    await silent.waitForText('\n');
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => converse(server!.port, `client ${i}\n`)));
    expect(replies.every((r) => r === "Hey What's up?\n")).toBe(true);
    await waitFor(() => payloadLines(server!).length === 50);
    expect(silent.socket.destroyed).toBe(false);
    silent.socket.destroy();
  });

  it('serves 500 clients at once', async () => {
    server = await startTestServer();
    const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => converse(server!.port, `n${i}\n`)));
    expect(new Set(replies)).toEqual(new Set(["Hey What's up?\n"]));
    await waitFor(() => payloadLines(server!).length === 500);
  });
});

describe('clients that misbehave', () => {
  it('survives a client that resets the connection, and releases its actor', async () => {
    server = await startTestServer();
    const client = await connect(server.port);
    await client.waitForText('\n');
    client.socket.resetAndDestroy();
    await waitFor(() => server!.handle.liveConnections() === 0);
    expect(server.lines.join('\n')).toMatch(/failed: SOCKET_ERROR \(ECONNRESET\)\n.*closed \(socketError\)/);
    expect(await converse(server.port, 'still here\n')).toBe("Hey What's up?\n");
  });

  it('closes a client that half-closes before the greeting', async () => {
    server = await startTestServer();
    const client = await connect(server.port);
    expect(client.text()).toBe(''); // nothing read yet: the FIN goes out before the greeting is seen
    client.socket.end();
    // The server still greets (the client's read side is open), then closes with no goodbye line.
    expect(await client.closed).toBe("Hey What's up?\n");
    await waitFor(() => server!.lines.some((l) => l.includes('closed (clientEnded)')));
    await waitFor(() => server!.handle.liveConnections() === 0, 5_000, 'the actor released');
    expect(payloadLines(server)).toHaveLength(0);
    expect(server.lines.join('\n')).toMatch(/#1 Connection with 127\.0\.0\.1:\d+ closed \(clientEnded\)\./);
  });

  it('releases a client that never reads once its deadline passes', async () => {
    server = await startTestServer({ replyTimeoutMs: 300, closeTimeoutMs: 300 });
    const client = await connect(server.port);
    client.socket.pause();
    const start = Date.now();
    await waitFor(() => server!.lines.some((l) => l.includes('#1 Connection established')), 3_000, 'the client accepted');
    await waitFor(() => server!.lines.some((l) => l.includes('closed (replyTimeout)')), 3_000, 'the close logged');
    await waitFor(() => server!.handle.liveConnections() === 0, 3_000, 'the actor released');
    // Released after the reply deadline (then the close timeout), not before.
    expect(Date.now() - start).toBeGreaterThanOrEqual(300);
    // What the server left for it: the greeting, the deadline's error line, then the end.
    client.socket.resume();
    expect(await client.closed).toBe("Hey What's up?\nerror REPLY_TIMEOUT: no reply within 300 ms\n");
  });

  it('survives a flood of lines after the first', async () => {
    server = await startTestServer();
    const client = await connect(server.port);
    await client.waitForText('\n');
    client.socket.write(`first\n${'flood\n'.repeat(50_000)}`);
    await client.closed;
    expect(payloadLines(server)).toHaveLength(1);
    expect(payloadLines(server)[0]).toMatch(/Payload: first$/);
  });
});

describe('lifecycle', () => {
  it('on shutdown tells each open client, closes it and stops without forcing', async () => {
    const s = await startTestServer();
    const clients = await Promise.all([connect(s.port), connect(s.port), connect(s.port)]);
    await Promise.all(clients.map((c) => c.waitForText('\n')));
    s.handle.shutdown();
    const received = await Promise.all(clients.map((c) => c.closed));
    for (const r of received) expect(r).toBe("Hey What's up?\nerror SHUTTING_DOWN: server is shutting down, goodbye\n");
    expect(await s.handle.done).toEqual({ state: 'stopped', failure: null, forced: false });
    expect(s.handle.liveConnections()).toBe(0);
    // Every actor finished on its own (logged its close) before the server called it stopped.
    expect(s.lines.filter((l) => l.endsWith('closed (shutdown).'))).toHaveLength(3);
    expect(s.lines.at(-1)).toBe('Server stopped.');
    expect(s.lines.join('\n')).toContain('Shutting down: no longer accepting, closing 3 connection(s)');
  });

  it('stops within the grace period when a client will not close', async () => {
    const s = await startTestServer({ shutdownGraceMs: 300, closeTimeoutMs: 60_000 });
    const stubborn = await connect(s.port);
    stubborn.socket.pause(); // never reads, never closes
    await waitFor(() => s.handle.liveConnections() === 1, 5_000, 'the client accepted');
    const start = Date.now();
    s.handle.shutdown();
    const outcome = await s.handle.done;
    expect(Date.now() - start).toBeLessThan(1_500);
    expect(outcome).toMatchObject({ state: 'stopped', forced: true });
    expect(s.handle.liveConnections()).toBe(0);
    stubborn.socket.destroy();
  });

  it('fails with ADDRESS_IN_USE on a busy port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const handle = serve({ ...defaultConfig, host: '127.0.0.1', port });
      await expect(handle.listening).rejects.toMatchObject({
        code: 'ADDRESS_IN_USE',
        message: `port ${port} is already in use on 127.0.0.1`,
      });
      expect(await handle.done).toMatchObject({ state: 'failed', failure: { code: 'ADDRESS_IN_USE' } });
    } finally {
      blocker.close();
    }
  });

  it('can listen on the same port again right after a stop with connections closed', async () => {
    const first = await startTestServer();
    await converse(first.port, 'one\n');
    await first.stop();
    const second = await startTestServer({ port: first.port });
    expect(second.port).toBe(first.port);
    expect(await converse(second.port, 'two\n')).toBe("Hey What's up?\n");
    await second.stop();
  });
});
