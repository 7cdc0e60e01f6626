// The chat server as a user starts it: `xstate-tcp-chat --protocol irc`, a real process, real
// signals. What the operator sees (registered, quit, never a message body), what each flag does,
// and the clear refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseServerArgs } from '../../src/cli/args.js';
import { connectIrc } from '../irc/raw.js';
import { selfSignedCert } from '../tlsCert.js';
import { run, runServer, serverBin, type Running } from '../process.js';

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.proc.kill('SIGKILL');
});
const dir = mkdtempSync(path.join(tmpdir(), 'irc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function server(args: string[]) {
  const r = await runServer(['--protocol', 'irc', ...args]);
  running.push(r);
  return r;
}

describe('xstate-tcp-chat --protocol irc', () => {
  it('listens on 6667 unless told otherwise', () => {
    const parsed = parseServerArgs(['--protocol', 'irc']);
    expect(parsed.kind === 'run' && parsed.options.port).toBe(6667);
  });

  it('logs connections, registrations and quits, never what anyone said, and exits 0 on SIGINT', async () => {
    const s = await server([]);
    expect(s.stdout()).toMatch(/^IRC server listening on 127\.0\.0\.1:\d+$/m);
    const a = await connectIrc(s.port);
    const b = await connectIrc(s.port);
    await a.register('alice');
    await b.register('bob');
    // One after the other: sent together, a loaded server may take bob's first, and alice
    // would never see his JOIN.
    a.send('JOIN #x');
    await a.waitForLine(/^:alice!\S+ JOIN #x$/);
    b.send('JOIN #x');
    await a.waitForLine(/^:bob!\S+ JOIN #x$/);
    a.send('PRIVMSG #x :secret-body-4711', 'PRIVMSG bob :private-body-0815');
    await b.waitForLine(/private-body-0815/);
    b.send('QUIT :my-quit-text');
    await b.closed;
    await s.waitForLine(/#2 Connection with .* closed \(quit\)/);
    s.proc.kill('SIGINT');
    expect(await a.closed).toMatch(/ERROR :Closing link: \(~alice@127\.0\.0\.1\) \[Server shutting down\]\r\n$/);
    expect((await s.exited).code).toBe(0);
    const out = s.stdout();
    expect(out).toMatch(/^#1 Connection established from 127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^#1 registered as alice$/m);
    expect(out).toMatch(/^#2 registered as bob$/m);
    expect(out).toMatch(/^#1 Connection with 127\.0\.0\.1:\d+ closed \(shutdown\)\.$/m);
    for (const body of ['secret-body-4711', 'private-body-0815', 'my-quit-text']) expect(out + s.stderr()).not.toContain(body);
  });

  it('serves the MOTD from --motd, with the server name and network from their flags', async () => {
    const motd = path.join(dir, 'motd.txt');
    writeFileSync(motd, 'Welcome to the test network.\nBe nice.\n');
    const s = await server(['--motd', motd, '--server-name', 'chat.test', '--network', 'TestNet']);
    const c = await connectIrc(s.port);
    await c.register('reader');
    const lines = c.lines();
    expect(lines).toContain(':chat.test 372 reader :- Welcome to the test network.');
    expect(lines).toContain(':chat.test 372 reader :- Be nice.');
    expect(lines.some((l) => / 005 reader .*NETWORK=TestNet /.test(l))).toBe(true);
    // The version is the package's, as package.json says it.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect(lines).toContain(`:chat.test 002 reader :Your host is chat.test, running version ${pkg.name}-${pkg.version}`);
    c.raw.socket.destroy();
  });

  it('stops at once, says so and exits 0 on SIGTERM while its store is still connecting', async () => {
    // A "PostgreSQL" that takes the connection and never answers: the start waits on it.
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const r = run(serverBin, ['--protocol', 'irc', '--port', '0', '--database', `postgres://chat@127.0.0.1:${port}/chat`]);
      running.push(r);
      await new Promise<void>((resolve) => silent.once('connection', () => resolve()));
      const sentAt = Date.now();
      r.proc.kill('SIGTERM');
      const { code, at } = await r.exited;
      expect(code).toBe(0);
      expect(at - sentAt).toBeLessThan(2_000);
      expect(r.stdout()).toContain('Shutting down');
      expect(r.stdout()).toContain('Server stopped.');
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('refuses --workers above 1 without --redis in one clear line', async () => {
    const r = run(serverBin, ['--protocol', 'irc', '--workers', '2', '--port', '0']);
    const { code } = await r.exited;
    expect(code).toBe(2);
    expect(r.stderr().trim().split('\n')).toHaveLength(1);
    expect(r.stderr()).toContain('--protocol irc with --workers above 1 needs --redis URL');
  });

  it('says clearly when the MOTD or a TLS file cannot be read', async () => {
    const r = run(serverBin, ['--protocol', 'irc', '--motd', path.join(dir, 'missing.txt')]);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toBe(`xstate-tcp-chat: --motd ${path.join(dir, 'missing.txt')}: cannot read it (no such file)\n`);
    const t = run(serverBin, ['--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', path.join(dir, 'nope.key')]);
    expect((await t.exited).code).toBe(2);
    expect(t.stderr()).toContain('--tls-cert');
  });

  it('refuses an STS flag given for the other kind of port, rather than ignore it', async () => {
    const plain = run(serverBin, ['--protocol', 'irc', '--port', '0', '--sts-duration', '300']);
    expect((await plain.exited).code).toBe(2);
    expect(plain.stderr()).toBe('xstate-tcp-chat: --sts-duration is for a TLS port (--tls-cert): on a plain-text one, --sts-port says where TLS is\n');
    const { cert, key, remove } = selfSignedCert('irc-cli-sts');
    try {
      const secure = run(serverBin, ['--protocol', 'irc', '--port', '0', '--tls-cert', cert, '--tls-key', key, '--sts-port', '6697']);
      expect((await secure.exited).code).toBe(2);
      expect(secure.stderr()).toBe('xstate-tcp-chat: --sts-port is for a plain-text port: on a TLS port (--tls-cert), --sts-duration is the policy\n');
    } finally {
      remove();
    }
  });

  it('says in one line, with no stack trace, when the TLS files are not a certificate and its key', async () => {
    const { cert, remove } = selfSignedCert('irc-cli-badkey');
    try {
      // The certificate given as the key too: readable, but no private key in it.
      const r = run(serverBin, ['--protocol', 'irc', '--port', '0', '--tls-cert', cert, '--tls-key', cert]);
      expect((await r.exited).code).toBe(2);
      const lines = r.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^xstate-tcp-chat: --tls-cert \\S+ --tls-key \\S+: not a PEM certificate and its private key \\(.+\\)$`));
      expect(r.stdout()).not.toMatch(/listening/);
    } finally {
      remove();
    }
  });
});
