// The layout is the architecture (README's Layout table): each folder of src/ is one concern,
// and imports only go down the layers, never up, never round in a cycle. Read from the files
// themselves, so that a new import that breaks the rule fails here, with the path that does.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.posix.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...filesUnder(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Every relative import of a file (static, type-only, re-export and dynamic), as src/ paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const files = filesUnder('src');
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Every cycle in an import graph, each as the path that closes it. */
function cyclesIn(graph: ReadonlyMap<string, string[]>): string[] {
  const cycles: string[] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (file: string): void => {
    const at = onPath.indexOf(file);
    if (at >= 0) {
      cycles.push([...onPath.slice(at), file].join(' -> '));
      return;
    }
    if (done.has(file)) return;
    onPath.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    onPath.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

/**
 * The layers, lowest first: a file may import its own layer and the ones its entry names. The
 * IRC folders are layered among themselves too: the wire format knows nothing of state, state
 * nothing of commands, commands nothing of sessions, and only the Redis network and the service
 * that builds the protocol see everything below.
 */
const layers: Array<{ folder: string; may: string[] }> = [
  { folder: 'src/core/', may: [] },
  { folder: 'src/transports/', may: ['src/core/'] },
  { folder: 'src/greeting/', may: ['src/core/'] },
  { folder: 'src/history/', may: ['src/core/'] },
  { folder: 'src/store/', may: ['src/core/', 'src/history/'] },
  { folder: 'src/identity/', may: ['src/core/', 'src/store/'] },
  { folder: 'src/irc/wire/', may: [] },
  { folder: 'src/irc/state/', may: ['src/irc/wire/'] },
  { folder: 'src/irc/commands/', may: ['src/core/', 'src/history/', 'src/store/', 'src/identity/', 'src/irc/wire/', 'src/irc/state/'] },
  { folder: 'src/irc/session/', may: ['src/core/', 'src/history/', 'src/store/', 'src/identity/', 'src/irc/wire/', 'src/irc/state/', 'src/irc/commands/'] },
  { folder: 'src/irc/redis/', may: ['src/core/', 'src/history/', 'src/store/', 'src/identity/', 'src/irc/wire/', 'src/irc/state/', 'src/irc/commands/', 'src/irc/session/'] },
  { folder: 'src/irc/', may: ['src/core/', 'src/history/', 'src/store/', 'src/identity/'] },
  { folder: 'src/browser/', may: ['src/irc/wire/'] },
  { folder: 'src/ops/', may: ['src/core/', 'src/history/', 'src/store/', 'src/identity/', 'src/transports/', 'src/greeting/', 'src/irc/'] },
  { folder: 'src/cli/', may: ['src/'] },
];

function layerOf(file: string): { folder: string; may: string[] } {
  const layer = layers.find((l) => file.startsWith(l.folder));
  if (!layer) throw new Error(`${file} is in no layer: add its folder to the layers (and the README's Layout table)`);
  return layer;
}

describe('src/ layout', () => {
  it('puts every file in a known layer', () => {
    for (const file of files) expect(() => layerOf(file)).not.toThrow();
  });

  it('has no upward imports between layers', () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      const layer = layerOf(file);
      for (const target of imports) {
        if (target.startsWith(layer.folder)) continue;
        // src/irc/service.ts sits at the top of the IRC folders: it may see them all.
        if (layer.folder === 'src/irc/' && target.startsWith('src/irc/')) continue;
        if (!layer.may.some((allowed) => target.startsWith(allowed))) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cyclesIn(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the walk is not blind)', () => {
    expect(cyclesIn(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual(['a -> b -> c -> a']);
  });

  it('finds the imports it checks (the reader is not blind)', () => {
    expect(graph.get('src/core/listener.ts')).toContain('src/core/serverMachine.ts');
    expect(graph.get('src/cli/server.ts')).toContain('src/core/listener.ts');
    // A dynamic import counts too.
    expect(graph.get('src/irc/service.ts')).toContain('src/irc/redis/network.ts');
  });

  it('keeps files under about 500 lines, or says in the header why not', () => {
    const long: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(root, file), 'utf8');
      const lines = text.split('\n').length;
      const header = text.split('\n').slice(0, 15).join('\n');
      if (lines > 500 && !/Longer than 500 lines because/.test(header)) long.push(`${file}: ${lines} lines`);
    }
    expect(long).toEqual([]);
  });
});

describe('bench/ layout', () => {
  it('has no import cycles', () => {
    const benchFiles = filesUnder('bench');
    expect(cyclesIn(new Map(benchFiles.map((f) => [f, importsOf(f)])))).toEqual([]);
  });
});
