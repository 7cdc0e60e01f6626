import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerArgs } from '../../src/cli/args.js';
import { readConfigFile } from '../../src/cli/configFile.js';
import { ChatError } from '../../src/core/errors.js';
import { hashPassword } from '../../src/identity/passwords.js';

const dir = mkdtempSync(path.join(tmpdir(), 'config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hash: string;
beforeAll(async () => {
  hash = await hashPassword('oper-password-1');
});

let files = 0;
/** Writes `text` to a new file and returns its path. */
function file(text: string): string {
  const p = path.join(dir, `config-${++files}.yaml`);
  writeFileSync(p, text);
  return p;
}

/** readConfigFile's refusal of `text`: a ChatError INVALID_ARGUMENT naming the file. */
function refusal(text: string): string {
  const p = file(text);
  try {
    readConfigFile(p);
  } catch (err) {
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).code).toBe('INVALID_ARGUMENT');
    const message = (err as Error).message;
    expect(message.startsWith(`--config ${p}: `)).toBe(true);
    return message.slice(`--config ${p}: `.length);
  }
  throw new Error(`accepted ${JSON.stringify(text)}`);
}

/** The server options the file gives, with `argv` after it as on the command line. */
function options(text: string, argv: string[] = []) {
  const parsed = parseServerArgs([...readConfigFile(file(text)).argv, ...argv]);
  if (parsed.kind !== 'run') throw new Error('expected options');
  return parsed.options;
}

describe('readConfigFile', () => {
  it('turns each key into the flag of that name, parsed as the flag is', () => {
    const text = ['protocol: irc', 'port: 6697', 'server-name: chat.example', 'data-dir: /var/lib/chat', 'max-per-ip: 3', ''].join('\n');
    expect(readConfigFile(file(text))).toEqual({
      argv: ['--protocol=irc', '--port=6697', '--server-name=chat.example', '--data-dir=/var/lib/chat', '--max-per-ip=3'],
      opers: [],
    });
    expect(options(text)).toMatchObject({ protocol: 'irc', port: 6697, irc: { serverName: 'chat.example', dataDir: '/var/lib/chat', maxConnectionsPerIp: 3 } });
  });

  it('comes before the command line, whose flags win', () => {
    const o = options('protocol: irc\nport: 6697\nnetwork: FileNet\n', ['--port', '0']);
    expect(o.port).toBe(0);
    expect(o.irc.network).toBe('FileNet');
  });

  it('keeps values that look like flags or are empty', () => {
    expect(options('greeting: "-- welcome --"\n').greeting).toBe('-- welcome --');
    expect(options('greeting: ""\n').greeting).toBe('');
  });

  it('a value the flag refuses is refused as the flag would refuse it', () => {
    expect(() => options('port: 70000\n')).toThrow(/--port/);
  });

  it('an empty file, or one with only comments, gives nothing', () => {
    expect(readConfigFile(file(''))).toEqual({ argv: [], opers: [] });
    expect(readConfigFile(file('# nothing yet\n'))).toEqual({ argv: [], opers: [] });
  });

  it('refuses a key that is not a flag, naming it', () => {
    expect(refusal('port: 6697\nprot: irc\n')).toBe("unknown key `prot` (keys are the flags' names: `xstate-tcp-chat --help` lists them)");
    expect(refusal('--port: 6697\n')).toMatch(/^unknown key `--port`/);
  });

  it('refuses a file naming another config file', () => {
    expect(refusal('config: other.yaml\n')).toBe('a config file cannot name another one');
  });

  it('refuses nested values, lists and missing values', () => {
    expect(refusal('port:\n  number: 6697\n')).toBe('`port` needs a single value');
    expect(refusal('motd: [a, b]\n')).toBe('`motd` needs a single value');
    // An empty value reaches the flag, which refuses it as it would on the command line.
    expect(() => options('port:\n')).toThrow(/--port/);
  });

  it('refuses what is not YAML, or not `key: value` lines', () => {
    expect(refusal('port: [6697\n')).toMatch(/^not valid YAML: .* at line \d+, column \d+$/);
    expect(refusal('port: 1\nport: 2\n')).toMatch(/^not valid YAML: /);
    expect(refusal('- port\n- 6697\n')).toBe('expected `key: value` lines at the top level');
    expect(refusal('just words\n')).toBe('expected `key: value` lines at the top level');
  });

  it('says so when the file cannot be read', () => {
    const missing = path.join(dir, 'missing.yaml');
    expect(() => readConfigFile(missing)).toThrow(new ChatError('INVALID_ARGUMENT', `--config ${missing}: cannot read it (no such file)`));
  });
});

describe('readConfigFile opers', () => {
  it('reads each operator as a name and a password hash', () => {
    const text = `protocol: irc\nopers:\n  - name: alice\n    password: "${hash}"\n  - { name: bob, password: '${hash}' }\n`;
    expect(readConfigFile(file(text))).toEqual({
      argv: ['--protocol=irc'],
      opers: [
        { name: 'alice', passwordHash: hash },
        { name: 'bob', passwordHash: hash },
      ],
    });
    expect(readConfigFile(file('opers:\n')).opers).toEqual([]);
  });

  it('refuses a plain password, saying how to make a hash', () => {
    expect(refusal('opers:\n  - name: alice\n    password: hunter2hunter2\n')).toBe(
      'opers[0] (alice) needs a password hash made by `xstate-tcp-chat hash-password`, not a password',
    );
    expect(refusal(`opers:\n  - { name: ok, password: '${hash}' }\n  - { name: bob }\n`)).toMatch(/^opers\[1\] \(bob\) needs a password hash/);
    expect(refusal('opers:\n  - { name: bob, password: "$scrypt$ln=14,r=8,p=1$bad" }\n')).toMatch(/^opers\[0\] \(bob\) needs a password hash/);
  });

  it('refuses an entry without a one-word name, and opers that are not a list', () => {
    expect(refusal(`opers:\n  - password: '${hash}'\n`)).toBe('opers[0] needs a name (one word)');
    expect(refusal(`opers:\n  - { name: two words, password: '${hash}' }\n`)).toBe('opers[0] needs a name (one word)');
    expect(refusal(`opers:\n  - { name: '', password: '${hash}' }\n`)).toBe('opers[0] needs a name (one word)');
    expect(refusal('opers:\n  - alice\n')).toBe('opers[0] needs a name (one word)');
    expect(refusal(`opers:\n  name: alice\n  password: '${hash}'\n`)).toBe('opers must be a list of { name, password } entries');
  });
});
