// The Redis state's Lua, checked outside Redis: every script, exactly as Redis gets it (the
// prelude in front), parses as Lua 5.1 (Redis's dialect), and assigns no global (Redis refuses
// a script that writes one, but only when that line runs: a rare branch would fail in
// production first). luaparse is a Lua parser in JavaScript, so no Lua install is needed.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScripts, scriptNames } from '../../src/irc/redis/scripts.js';
// @ts-expect-error luaparse ships no types; only parse() is used.
import luaparse from 'luaparse';

interface Node {
  type: string;
  [key: string]: unknown;
}

const parse = (source: string): Node =>
  (luaparse as { parse(code: string, options: object): Node }).parse(source, { luaVersion: '5.1', scope: true, locations: true });

/** Names assigned (or declared as functions) outside any `local`: writes to globals. */
function globalWrites(root: Node): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    if (n.type === 'AssignmentStatement') {
      for (const v of n.variables as Node[]) if (v.type === 'Identifier' && v.isLocal !== true) out.push(String(v.name));
    }
    if (n.type === 'FunctionDeclaration' && n.isLocal !== true && (n.identifier as Node | null)?.type === 'Identifier') {
      out.push(String((n.identifier as Node).name));
    }
    for (const [key, value] of Object.entries(n)) if (key !== 'loc' && key !== 'range') visit(value);
  };
  visit(root);
  return out;
}

const scripts = loadScripts();

describe('the Redis state scripts', () => {
  it('loads one script per file in lua/, and nothing else', () => {
    const files = readdirSync(new URL('../../src/irc/redis/lua/', import.meta.url))
      .filter((f) => f.endsWith('.lua'))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(files).toEqual([...scriptNames, 'prelude'].sort());
  });

  it.each(scriptNames.map((name) => ({ name })))('$name parses as Lua 5.1 with the prelude', ({ name }) => {
    expect(() => parse(scripts[name].lua)).not.toThrow();
  });

  it.each(scriptNames.map((name) => ({ name })))('$name writes no global', ({ name }) => {
    expect(globalWrites(parse(scripts[name].lua))).toEqual([]);
  });

  it('catches what it checks for: a syntax error and a global write', () => {
    expect(() => parse(`${scripts.counts.lua}\nlocal x = = 1`)).toThrow(/unexpected/i);
    // A script ends in `return`, so the leaks follow it wrapped in a block.
    expect(globalWrites(parse(`do\n${scripts.counts.lua}\nend\nleaked = 1\nfunction helper() end`))).toEqual(['leaked', 'helper']);
  });
});
