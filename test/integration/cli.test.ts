// The server and client commands as a user runs them: real processes, real signals, real ports.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, converse, waitFor } from '../helpers.js';
import { clientBin, run, runServer, serverBin, watch, type Running } from '../process.js';

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.proc.kill('SIGKILL');
});
async function server(args: string[] = []) {
  const r = await runServer(args);
  running.push(r);
  return r;
}

async function takePort(): Promise<{ port: number; release: () => void }> {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  return { port: (blocker.address() as net.AddressInfo).port, release: () => blocker.close() };
}

/**
 * A port that refuses connections and that nothing else can listen on until `release`: it is the
 * local end of an open loopback connection, bound but not listening (a server of another test on
 * port 0 cannot be given it, as it could a port merely closed).
 */
async function refusingPort(): Promise<{ port: number; release: () => void }> {
  const peer = net.createServer(() => {});
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const holder = net.connect({ port: (peer.address() as net.AddressInfo).port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => holder.once('connect', resolve).once('error', reject));
  return {
    port: holder.localPort!,
    release: () => {
      holder.destroy();
      peer.close();
    },
  };
}

describe('server command', () => {
  it('prints the article\'s moments and exits 0 on SIGINT', async () => {
    const s = await server();
    await converse(s.port, 'Hello from the first-principles client!\n');
    await s.waitForLine(/closed \(replied\)/);
    s.proc.kill('SIGINT');
    const { code } = await s.exited;
    expect(code).toBe(0);
    const out = s.stdout();
    expect(out).toMatch(/^Socket server listening on 127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^#1 Connection established from 127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^#1 Client Response Payload: Hello from the first-principles client!$/m);
    expect(out).toMatch(/^#1 Connection with 127\.0\.0\.1:\d+ closed \(replied\)\.$/m);
    expect(out).toMatch(/^Shutting down: /m);
    expect(s.stderr()).toBe('');
  });

  it('on SIGTERM says goodbye to open clients and exits 0 within the grace period, even if they never close', async () => {
    const s = await server(['--shutdown-grace', '700', '--close-timeout', '60000']);
    const polite = await connect(s.port);
    const stubborn = await connect(s.port);
    stubborn.socket.pause(); // never reads, never closes its side
    await polite.waitForText('\n');
    // Both are accepted (the stubborn one is served too, so it holds the drain to the grace period).
    await s.waitForLine(/^#2 Connection established from /m);
    const sentAt = Date.now();
    s.proc.kill('SIGTERM');
    expect(await polite.closed).toContain('error SHUTTING_DOWN');
    const { code, at } = await s.exited;
    expect(code).toBe(0);
    expect(at - sentAt).toBeLessThan(700 + 1_500);
    expect(s.stdout()).toContain('grace period over');
    stubborn.socket.destroy();
  });

  it('logs one JSON object per line with --log-format json, client text escaped', async () => {
    const s = await server(['--log-format', 'json']);
    await converse(s.port, 'hi \u001b[31m\n');
    await s.waitForLine(/"event":"connection.closed"/);
    s.proc.kill('SIGINT');
    await s.exited;
    const events = s.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual([
      'server.listening', 'connection.opened', 'connection.reply', 'connection.closed', 'server.stopping', 'server.stopped',
    ]);
    expect(events[2]).toMatchObject({ level: 'info', id: 1, reply: 'hi \\x1B[31m' });
    expect(typeof events[0]!.time).toBe('string');
  });

  it('says the port is in use in one line, exits 1, no stack trace', async () => {
    const { port, release } = await takePort();
    try {
      const r = run(serverBin, ['--host', '127.0.0.1', '--port', String(port)]);
      const { code } = await r.exited;
      expect(code).toBe(1);
      expect(r.stderr()).toBe(`error: port ${port} is already in use on 127.0.0.1\n`);
      expect(r.stdout()).toBe('');
    } finally {
      release();
    }
  });

  it('refuses two of its own listeners on one port before starting anything, saying which', async () => {
    const r = run(serverBin, ['--port', '17999', '--metrics', '17999']);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toBe('xstate-tcp-chat: --metrics 17999 is the port --port listens on: give each its own\n');
    expect(r.stdout()).toBe('');
  });

  it('refuses an IRC-only flag without --protocol irc, with exit 2, rather than ignore it', async () => {
    const r = run(serverBin, ['--port', '0', '--password', 'secret']);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toBe('xstate-tcp-chat: --password is for --protocol irc (the greeting server would ignore it)\n');
    expect(r.stdout()).not.toMatch(/listening/);
  });

  it('keeps serving when whatever reads its log goes away (EPIPE on stdout), and says so on stderr', async () => {
    const s = await server();
    // The reader of the server's stdout closes its end, as `| head -1` or a restarted log shipper does.
    s.proc.stdout!.destroy();
    for (let i = 0; i < 3; i++) expect(await converse(s.port, `after the reader left ${i}\n`)).toBe("Hey What's up?\n");
    await waitFor(() => s.stderr().includes('Log: stdout has no reader any more (EPIPE)'), 5_000, 'the note on stderr');
    expect(s.proc.exitCode).toBe(null);
    s.proc.kill('SIGINT');
    expect((await s.exited).code).toBe(0);
  });

  it('listens again on the same port right after a stop', async () => {
    const first = await server();
    await converse(first.port, 'one\n');
    first.proc.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
    const second = await server(['--port', String(first.port)]).catch(() => null);
    // runServer passes --port 0 first; a later --port wins, so this is the same port.
    expect(second?.port).toBe(first.port);
    expect(await converse(first.port, 'two\n')).toBe("Hey What's up?\n");
  });

  it.each([
    [['--port', '70000'], '--port must be a whole number from 0 to 65535'],
    [['--reply-timeout', '-1'], '--reply-timeout must be a whole number'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [['--log-format', 'xml'], '--log-format must be one of human, json'],
  ])('refuses %j with a clear message and usage, exit 2', async (args, message) => {
    const r = run(serverBin, args);
    const { code } = await r.exited;
    expect(code).toBe(2);
    expect(r.stderr()).toContain(message);
    expect(r.stderr()).toContain('Usage: xstate-tcp-chat');
    expect(r.stderr()).not.toMatch(/^\s+at /m);
  });

  it('prints usage on --help and exits 0', async () => {
    const r = run(serverBin, ['--help']);
    expect((await r.exited).code).toBe(0);
    expect(r.stdout()).toContain('--max-connections N');
  });
});

describe('client command', () => {
  it('prints the greeting, sends --message, exits 0 when the server closes', async () => {
    const s = await server();
    const c = run(clientBin, ['--host', '127.0.0.1', '--port', String(s.port), '--message', 'Hello from the client']);
    expect((await c.exited).code).toBe(0);
    expect(c.stdout()).toBe("Hey What's up?\n");
    await s.waitForLine(/Client Response Payload: Hello from the client$/m);
  });

  it('sends a line typed on stdin when there is no --message', async () => {
    const s = await server();
    const c = run(clientBin, ['--host', '127.0.0.1', '--port', String(s.port)], 'typed on stdin\nignored\n');
    expect((await c.exited).code).toBe(0);
    await s.waitForLine(/Client Response Payload: typed on stdin$/m);
  });

  it('exits 0 when the server closes while it waits for a line on stdin (nothing typed)', async () => {
    const s = await server(['--reply-timeout', '300']);
    // stdin stays open, as a terminal's does while nobody types.
    const proc = spawn(process.execPath, [clientBin, '--host', '127.0.0.1', '--port', String(s.port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const c = watch(proc);
    try {
      const exit = await Promise.race([c.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
      expect(exit, 'the client to exit once the server closed').toMatchObject({ code: 0 });
      expect(c.stdout()).toBe("Hey What's up?\nerror REPLY_TIMEOUT: no reply within 300 ms\n");
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('prints what the server says, escaped, including error lines', async () => {
    const s = await server(['--greeting', '\u001b[31mred\u001b[0m', '--max-reply-bytes', '4']);
    const c = run(clientBin, ['--host', '127.0.0.1', '--port', String(s.port), '--message', 'far too long']);
    expect((await c.exited).code).toBe(0);
    expect(c.stdout()).toBe('\\x1B[31mred\\x1B[0m\nerror REPLY_TOO_LONG: reply is longer than 4 bytes\n');
  });

  it('says the connection was refused and exits 1', async () => {
    const { port, release } = await refusingPort();
    try {
      const c = run(clientBin, ['--host', '127.0.0.1', '--port', String(port), '--message', 'x']);
      expect((await c.exited).code).toBe(1);
      expect(c.stderr()).toBe(`xstate-tcp-chat-client: cannot connect to 127.0.0.1:${port}: connection refused (is the server running?)\n`);
    } finally {
      release();
    }
  });

  it('refuses a bad port with usage, exit 2', async () => {
    const c = run(clientBin, ['--port', 'eighty']);
    expect((await c.exited).code).toBe(2);
    expect(c.stderr()).toContain('Usage: xstate-tcp-chat-client');
  });
});
