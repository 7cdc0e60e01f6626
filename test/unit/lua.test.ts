// Lints the Lua that RedisState runs, without a Redis: every file under src/irc/redis/lua/, and
// every text actually sent (library + script), must parse as Lua 5.1 (the dialect Redis embeds),
// assign no global (Redis refuses a script that does) and read only the globals Redis's sandbox
// provides (anything else, e.g. a misspelt library function, fails only when the script runs).

import { readdirSync, readFileSync } from 'node:fs';
import luaparse from 'luaparse';
import { describe, expect, it } from 'vitest';
import { luaDir, luaLibrary, scripts } from '../../src/irc/redis/scripts.js';

/** What a script may read without defining it: KEYS, ARGV and the libraries Redis loads. */
const sandboxGlobals = new Set([
  'KEYS', 'ARGV', 'redis', 'cjson', 'cmsgpack', 'struct', 'bit',
  'string', 'table', 'math',
  'assert', 'error', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal', 'rawget', 'rawset', 'select',
  'setmetatable', 'getmetatable', 'tonumber', 'tostring', 'type', 'unpack', 'xpcall',
]);

/** Lua 5.1's LUAI_MAXVARS: more locals in one function (the whole chunk included) do not load. */
const maxLocalsPerFunction = 200;

type Node = { type: string; loc?: { start: { line: number } } } & Record<string, unknown>;

function parse(text: string): luaparse.Chunk {
  return luaparse.parse(text, { luaVersion: '5.1', scope: true, locations: true });
}

/** Every syntax node below `node`, depth first. */
function* nodes(node: unknown): Generator<Node> {
  if (Array.isArray(node)) {
    for (const child of node) yield* nodes(child);
  } else if (node && typeof node === 'object') {
    if (typeof (node as Node).type === 'string') yield node as Node;
    for (const [key, child] of Object.entries(node)) if (key !== 'loc') yield* nodes(child);
  }
}

/** With `scope`, luaparse marks each variable reference isLocal; property names carry no mark. */
function isGlobal(node: unknown): node is Node & { name: string } {
  return (node as Node | null)?.type === 'Identifier' && (node as Node).isLocal === false;
}

/** The variable an assignment target finally writes into: `x` for x, x.y, x[1].z. */
function rootOf(target: Node): Node {
  let t = target;
  while (t.type === 'MemberExpression' || t.type === 'IndexExpression') t = t.base as Node;
  return t;
}

/** `name (line n)` for each global the chunk assigns (or writes into) and each it reads outside the sandbox. */
function globalUses(chunk: luaparse.Chunk): { writes: string[]; reads: string[] } {
  const writes: string[] = [];
  const writeTargets = new Set<Node>();
  const at = (n: Node & { name: string }): string => `${n.name} (line ${n.loc?.start.line})`;
  for (const n of nodes(chunk.body)) {
    const targets =
      n.type === 'AssignmentStatement' ? (n.variables as Node[]) :
      n.type === 'FunctionDeclaration' && n.identifier ? [n.identifier as Node] : [];
    for (const target of targets) {
      const root = rootOf(target);
      if (isGlobal(root)) {
        writes.push(at(root));
        writeTargets.add(root);
      }
    }
  }
  const reads = [...nodes(chunk.body)]
    .filter((n) => isGlobal(n) && !writeTargets.has(n) && !sandboxGlobals.has(n.name))
    .map((n) => at(n as Node & { name: string }));
  return { writes, reads };
}

/** Locals declared directly in the chunk (not inside a function): they all count against one limit. */
function chunkLocals(chunk: luaparse.Chunk): number {
  let count = 0;
  const walk = (body: Node[]): void => {
    for (const s of body) {
      if (s.type === 'LocalStatement') count += (s.variables as Node[]).length;
      else if (s.type === 'FunctionDeclaration' && s.isLocal) count += 1;
      // Blocks reuse their slots once they end, but a conservative sum is enough here.
      else if (['DoStatement', 'WhileStatement', 'RepeatStatement'].includes(s.type)) walk(s.body as Node[]);
    }
  };
  walk(chunk.body as unknown as Node[]);
  return count;
}

const files = readdirSync(luaDir).filter((f) => f.endsWith('.lua')).sort();

describe('Lua scripts (src/irc/redis/lua/)', () => {
  it.each(files)('%s parses as Lua 5.1', (file) => {
    const text = readFileSync(new URL(file, luaDir), 'utf8');
    expect(() => parse(text)).not.toThrow();
  });

  it('has a file for every script and no file that no script uses', () => {
    expect(files).toEqual(['lib.lua', ...scripts.map((s) => `${s.name}.lua`)].sort());
  });

  const libraryLines = luaLibrary.split('\n').length;
  /** Where a line of the text sent lands in the files, for the failure messages. */
  const place = (name: string, use: string): string =>
    use.replace(/\(line (\d+)\)/, (_, line: string) => {
      const n = Number(line);
      return n <= libraryLines ? `(lib.lua:${n})` : `(${name}.lua:${n - libraryLines})`;
    });

  it.each(scripts.map((s) => [s.name, s] as const))('%s, as sent to Redis, parses and touches only sandbox globals', (name, script) => {
    const chunk = parse(script.lua);
    const { writes, reads } = globalUses(chunk);
    expect(writes.map((w) => place(name, w)), 'global assignments').toEqual([]);
    expect(reads.map((r) => place(name, r)), 'globals Redis does not define').toEqual([]);
    expect(chunkLocals(chunk)).toBeLessThan(maxLocalsPerFunction);
  });

  it('catches a global assignment, an unknown global and a syntax error (the checks can fail)', () => {
    expect(globalUses(parse('x = 1\nfunction f() end\nstring.foo = 1')).writes).toEqual(['x (line 1)', 'f (line 2)', 'string (line 3)']);
    expect(globalUses(parse('local a = 1\nreturn hgetal(a)')).reads).toEqual(['hgetal (line 2)']);
    expect(globalUses(parse('local t = {}\nt.x = KEYS[1]\nreturn cjson.encode(t)'))).toEqual({ writes: [], reads: [] });
    expect(() => parse('local x = 1 // 2')).toThrow(); // 5.3 integer division: not in 5.1
    expect(() => parse('goto done')).toThrow(); // 5.2
  });
});
