// The README is what a new user reads first: its tables must say what the code does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clientFlags, configValue, defaultClientOptions, serverFlags } from '../src/cli/args.js';
import { defaultConfig } from '../src/core/config.js';
import { errorCodes } from '../src/core/errors.js';
import { isupportTokens } from '../src/irc/commands/queries.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rows = readme.split('\n').filter((l) => l.startsWith('| `'));

describe('README', () => {
  it('has a row for every server flag, with its config key and real default', () => {
    for (const spec of serverFlags) {
      const row = rows.find((r) => r.startsWith(`| \`${spec.flag} `));
      expect(row, `${spec.flag} row`).toBeDefined();
      expect(row).toContain(`\`${spec.key}\``);
      const value = configValue(defaultConfig, spec.key);
      expect(row).toContain(value === null ? ' off ' : `\`${String(value)}\``);
    }
  });

  it('has a row for every client flag with its default', () => {
    for (const spec of clientFlags) {
      const row = rows.find((r) => r.startsWith(`| \`${spec.flag} `));
      expect(row, `${spec.flag} row`).toBeDefined();
      const value = defaultClientOptions[spec.key];
      if (value !== null) expect(row).toContain(`\`${String(value)}\``);
    }
  });

  it('lists every error code', () => {
    for (const code of Object.keys(errorCodes)) expect(readme).toContain(`| \`${code}\` |`);
  });

  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});

describe('docs/irc.md', () => {
  it('lists every 005 token the server sends, each value it shows being the default one', () => {
    const doc = readFileSync(new URL('../docs/irc.md', import.meta.url), 'utf8');
    const start = doc.indexOf('holds\nthis list to the code): `');
    expect(start).toBeGreaterThan(0);
    const listed = doc.slice(doc.indexOf('`', start) + 1, doc.indexOf('`', doc.indexOf('`', start) + 1)).split(/\s+/);
    const sent = isupportTokens(defaultConfig.irc);
    const name = (token: string): string => token.split('=')[0]!;
    expect(listed.map(name)).toEqual(sent.map(name));
    for (const token of listed.filter((t) => t.includes('='))) expect(sent).toContain(token);
  });
});
