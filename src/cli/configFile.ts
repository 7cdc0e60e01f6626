// The configuration file (`--config FILE`, YAML): every key is a flag's name without its
// dashes (`port: 6697`, `data-dir: /var/lib/chat`, `redis: redis://...`), turned into the
// flags it names and parsed by the same code, so a value is checked once, the same way; flags
// given on the command line come after and win. One key is not a flag: `opers`, the IRC
// operators, each a name and a password hash made by `xstate-tcp-chat hash-password`. REHASH
// and SIGHUP read the file again; the operators are what changes without a restart.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { OperBlock } from '../core/config.js';
import { ChatError } from '../core/errors.js';
import { parsePhc } from '../identity/passwords.js';
import { serverFlags } from './args.js';

export interface ConfigFile {
  /** The file's settings as flags (`--port=6697 ...`), to go before the command line's. */
  argv: string[];
  opers: OperBlock[];
}

/** The keys a file may use: the server flags' names without their dashes. */
const flagNames = new Set(serverFlags.map((s) => s.flag.slice(2)));

function fail(file: string, message: string): never {
  throw new ChatError('INVALID_ARGUMENT', `--config ${file}: ${message}`);
}

function opersOf(file: string, raw: unknown): OperBlock[] {
  if (raw === undefined || raw === null || raw === '') return [];
  if (!Array.isArray(raw)) fail(file, 'opers must be a list of { name, password } entries');
  return raw.map((entry: unknown, i) => {
    const o = entry as { name?: unknown; password?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || o.name === '' || /\s/.test(o.name)) {
      fail(file, `opers[${i}] needs a name (one word)`);
    }
    if (typeof o.password !== 'string' || parsePhc(o.password) === null) {
      fail(file, `opers[${i}] (${o.name}) needs a password hash made by \`xstate-tcp-chat hash-password\`, not a password`);
    }
    return { name: o.name, passwordHash: o.password };
  });
}

/** Reads and checks the file; throws ChatError INVALID_ARGUMENT naming the file and the key. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // Said as the other file flags say it (--motd, --tls-cert): the flag, the file, the reason.
    fail(file, `cannot read it (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message})`);
  }
  let doc: unknown;
  try {
    // The failsafe schema keeps every value as the text written (`server-name: 1.10` stays
    // 1.10, not the number 1.1): each becomes a flag's text and is checked as the flag is.
    doc = parse(text, { schema: 'failsafe' });
  } catch (err) {
    // The parser's message ends `at line 4, column 1:` and shows the line below it: one line here.
    fail(file, `not valid YAML: ${(err as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  if (doc === null || doc === undefined) return { argv: [], opers: [] };
  if (typeof doc !== 'object' || Array.isArray(doc)) fail(file, 'expected `key: value` lines at the top level');
  const argv: string[] = [];
  let opers: OperBlock[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'opers') {
      opers = opersOf(file, value);
      continue;
    }
    if (key === 'config') fail(file, 'a config file cannot name another one');
    if (!flagNames.has(key)) fail(file, `unknown key \`${key}\` (keys are the flags' names: \`xstate-tcp-chat --help\` lists them)`);
    // An empty value (`port:`) is '' under the failsafe schema: the flag decides (--greeting
    // may be empty, --port may not).
    if (value === null || typeof value === 'object') fail(file, `\`${key}\` needs a single value`);
    // One `--key=value` word: a value starting with `-` ("-- welcome --") is still the value.
    argv.push(`--${key}=${String(value)}`);
  }
  return { argv, opers };
}
