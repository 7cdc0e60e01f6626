// IRC operators as a user sets them up: `xstate-tcp-chat hash-password` for the hash, a
// `--config` file naming the operators, a real server process reading it again on SIGHUP and
// REHASH, and a KLINE kept in --data-dir across a restart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/identity/passwords.js';
import { connectIrc, type RawIrc } from '../irc/raw.js';
import { hashOf, run, runServer, serverBin, type Running } from '../process.js';

const running: Running[] = [];
const clients: RawIrc[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.raw.socket.destroy();
  for (const r of running.splice(0)) r.proc.kill('SIGKILL');
});
const dir = mkdtempSync(path.join(tmpdir(), 'irc-opers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config file's text: an IRC server named cfg.test on port 6697, with these operators. */
function configText(opers: Array<{ name: string; hash: string }>): string {
  const entries = opers.map((o) => `  - name: ${o.name}\n    password: '${o.hash}'\n`).join('');
  return `protocol: irc\nport: 6697\nserver-name: cfg.test\nopers:\n${entries}`;
}

/** The server with `--config file` and the data dir, on port 0 (the flag beats the file's 6697). */
async function server(file: string, dataDir: string): Promise<Running & { port: number }> {
  const s = await runServer(['--config', file, '--data-dir', dataDir]);
  running.push(s);
  return s;
}

async function client(port: number, nick: string): Promise<RawIrc> {
  const c = await connectIrc(port);
  clients.push(c);
  await c.register(nick);
  return c;
}

/** Sends OPER and resolves with the numeric it got back (381 or 464). */
async function operAs(c: RawIrc, name: string, password: string): Promise<string> {
  const from = c.lines().length;
  c.send(`OPER ${name} ${password}`);
  const line = await c.waitForLine(/^\S+ (381|464) /, 5_000, from);
  return line.split(' ')[1]!;
}

/** Waits until stdout holds `count` lines matching `pattern`. */
async function logged(s: Running, pattern: RegExp, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  const global = new RegExp(pattern.source, 'gm');
  while ((s.stdout().match(global) ?? []).length < count) {
    if (Date.now() > deadline) throw new Error(`not ${count} lines matching ${pattern}; stdout: ${s.stdout()}; stderr: ${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('xstate-tcp-chat hash-password', () => {
  it('prints the hash of the password on stdin, one that verifies', async () => {
    const r = run(serverBin, ['hash-password'], 'a long enough password\n');
    expect(await r.exited).toMatchObject({ code: 0 });
    const lines = r.stdout().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$\S+\$\S+$/);
    expect(await verifyPassword('a long enough password', lines[0]!)).toBe(true);
    expect(await verifyPassword('a long enough password\n', lines[0]!)).toBe(false);
    expect(r.stderr()).toBe('');
    // A fresh salt each time.
    expect(await hashOf('a long enough password')).not.toBe(lines[0]);
  });

  it('refuses a password too short to be one, with exit 2 and no hash', async () => {
    const r = run(serverBin, ['hash-password'], 'short\n');
    expect((await r.exited).code).toBe(2);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toBe('xstate-tcp-chat hash-password: The password must be at least 8 characters long.\n');
  });
});

describe('a server started with --config', () => {
  it('takes its settings and operators from the file, flags winning, and reads the operators again on SIGHUP and REHASH', async () => {
    const [bossHash, chiefHash] = await Promise.all([hashOf('boss-password-1'), hashOf('chief-password-2')]);
    const file = path.join(dir, 'reload.yaml');
    writeFileSync(file, configText([{ name: 'boss', hash: bossHash }]));
    const s = await server(file, mkdtempSync(path.join(dir, 'data-')));
    expect(s.port).not.toBe(6697);
    const o = await client(s.port, 'opper');
    expect(o.lines()).toContain(":cfg.test NOTICE * :Hey What's up?");
    expect(o.lines()[1]).toMatch(/^:cfg\.test 001 opper /);
    expect(await operAs(o, 'boss', 'wrong-password')).toBe('464');
    expect(await operAs(o, 'boss', 'boss-password-1')).toBe('381');
    expect(o.lines()).toContain(':opper!~opper@127.0.0.1 MODE opper +o');
    // The log says who became an operator, and why a try was refused (the client cannot tell).
    await logged(s, /^#\d+ OPER boss refused for opper!~opper@127\.0\.0\.1: wrong password$/, 1);
    await logged(s, /^#\d+ opper!~opper@127\.0\.0\.1 is now an IRC operator \(boss\)$/, 1);
    expect(await operAs(o, 'nobody', 'boss-password-1')).toBe('464');
    await logged(s, /^#\d+ OPER nobody refused for opper!~opper@127\.0\.0\.1: no such operator$/, 1);

    // A new operator in the file, the old one gone: SIGHUP.
    writeFileSync(file, configText([{ name: 'chief', hash: chiefHash }]));
    s.proc.kill('SIGHUP');
    await logged(s, /REHASH: 1 operator\(s\) read from /, 1);
    // Who became an operator as boss is one no longer: told, and logged.
    expect(await o.waitForLine(/ MODE opper -o$/)).toBe(':cfg.test MODE opper -o');
    expect(await o.waitForLine(/ NOTICE opper /)).toBe(
      ":cfg.test NOTICE opper :The operator boss is no longer in the server's configuration: you are not an IRC operator any more",
    );
    await logged(s, /^#\d+ OPER boss is gone from the config file: opper!~opper@127\.0\.0\.1 is no longer an operator$/, 1);
    o.send('KILL alpha :no longer allowed');
    expect(await o.waitForLine(/ 481 /)).toMatch(/^:cfg\.test 481 opper /);
    const a = await client(s.port, 'alpha');
    expect(await operAs(a, 'boss', 'boss-password-1')).toBe('464');
    expect(await operAs(a, 'chief', 'chief-password-2')).toBe('381');

    // And back, with REHASH from an operator: 382 naming the file.
    writeFileSync(file, configText([{ name: 'boss', hash: bossHash }]));
    const from = a.lines().length;
    a.send('REHASH');
    expect(await a.waitForLine(/ 382 /, 5_000, from)).toBe(`:cfg.test 382 alpha ${file} Rehashing`);
    // alpha's own block (chief) went with that REHASH.
    expect(await a.waitForLine(/ MODE alpha -o$/, 5_000, from)).toBe(':cfg.test MODE alpha -o');
    const b = await client(s.port, 'bravo');
    expect(await operAs(b, 'chief', 'chief-password-2')).toBe('464');
    expect(await operAs(b, 'boss', 'boss-password-1')).toBe('381');

    // A file that no longer reads keeps the operators the server has, and says why.
    writeFileSync(file, configText([{ name: 'boss', hash: 'not-a-hash' }]));
    const before = b.lines().length;
    b.send('REHASH');
    expect(await b.waitForLine(/ NOTICE bravo /, 5_000, before)).toBe(
      `:cfg.test NOTICE bravo :REHASH failed: --config ${file}: opers[0] (boss) needs a password hash made by \`xstate-tcp-chat hash-password\`, not a password`,
    );
    const c = await client(s.port, 'charlie');
    expect(await operAs(c, 'boss', 'boss-password-1')).toBe('381');
  });

  it('refuses to start with a file that names a plain password, saying which entry', async () => {
    const file = path.join(dir, 'plain.yaml');
    writeFileSync(file, 'protocol: irc\nopers:\n  - name: boss\n    password: hunter2hunter2\n');
    const r = run(serverBin, ['--config', file, '--port', '0', '--data-dir', mkdtempSync(path.join(dir, 'data-'))]);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr().split('\n')[0]).toBe(
      `xstate-tcp-chat: --config ${file}: opers[0] (boss) needs a password hash made by \`xstate-tcp-chat hash-password\`, not a password`,
    );
  });

  it('keeps a KLINE in --data-dir: after a restart a matching client is refused at registration', async () => {
    const file = path.join(dir, 'kline.yaml');
    writeFileSync(file, configText([{ name: 'boss', hash: await hashOf('boss-password-1') }]));
    const dataDir = mkdtempSync(path.join(dir, 'data-'));
    const s = await server(file, dataDir);
    const o = await client(s.port, 'klop');
    expect(await operAs(o, 'boss', 'boss-password-1')).toBe('381');
    const victim = await client(s.port, 'spammer');
    o.send('KLINE spammer!*@* :no spam here');
    await o.waitForLine(/ NOTICE klop :Added network ban on spammer!\*@\*: 1 user\(s\) disconnected$/);
    expect(await victim.closed).toMatch(/ERROR :Closing link: \(~spammer@127\.0\.0\.1\) \[K-Lined: no spam here\]\r\n$/);
    await logged(s, /^#\d+ KLINE: klop!~klop@127\.0\.0\.1 banned spammer!\*@\* for good \(no spam here\); 1 user\(s\) disconnected$/, 1);
    // A KILL is logged with who gave it.
    const other = await client(s.port, 'noisy');
    o.send('KILL noisy :calm down');
    await other.closed;
    await logged(s, /^#\d+ KILL: klop!~klop@127\.0\.0\.1 killed noisy \(calm down\)$/, 1);

    s.proc.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    const again = await server(file, dataDir);
    const c = await connectIrc(again.port);
    clients.push(c);
    c.send('NICK spammer', 'USER s 0 * :s');
    const closed = await c.closed;
    expect(c.lines()).toEqual([
      ":cfg.test NOTICE * :Hey What's up?",
      ':cfg.test 465 spammer :You are banned from this network: no spam here',
      'ERROR :Closing link: (~s@127.0.0.1) [K-Lined: no spam here]',
    ]);
    expect(closed).toMatch(/\r\n$/);
    // The log does not call the refused client registered.
    await logged(again, / closed \(killed\)/, 1);
    expect(again.stdout()).not.toMatch(/ registered as spammer$/m);
    // Anyone else is welcome.
    const ok = await client(again.port, 'innocent');
    expect(ok.lines()[1]).toMatch(/^:cfg\.test 001 innocent /);
  });
});
