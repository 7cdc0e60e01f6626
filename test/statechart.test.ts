// docs/statechart.md and the SVG drawings beside it are generated from the machines
// (scripts/statechart.ts). These tests fail when a committed file is stale, and check what it says
// against the machines themselves: every state drawn where it is nested, every transition with a
// target drawn, every event listed, a Mermaid block that is well formed, and SVGs that parse and
// carry the ids, data attributes and count placeholders the live view relies on. The screenshot
// docs/live-view.png fails here too once it was taken with other machines.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, it, expect } from 'vitest';
import { createMachine, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { liveViewFingerprint, machineFingerprint, renderDiagrams, renderStatechartMarkdown } from '../scripts/statechart.js';
import { connectionEventSources, connectionMachine } from '../src/greeting/connectionMachine.js';
import { ircSessionEventSources, ircSessionMachine } from '../src/irc/session/ircSessionMachine.js';
import { primaryEventSources, primaryMachine } from '../src/ops/primaryMachine.js';
import { redisLinkEventSources, redisLinkMachine } from '../src/irc/redis/redisLinkMachine.js';
import { serverEventSources, serverMachine } from '../src/core/serverMachine.js';

const docUrl = new URL('../docs/statechart.md', import.meta.url);
const stale = 'docs/statechart.md is stale (or missing): run `npm run docs` and commit the result';

function readDoc(): string {
  return readDocsFile('statechart.md');
}

function readDocsFile(name: string): string {
  try {
    return readFileSync(new URL(name, docUrl), 'utf8');
  } catch {
    return '';
  }
}

const machines: readonly {
  machine: AnyStateMachine;
  eventSources: Readonly<Record<string, string>>;
  title: string;
  image: string;
}[] = [
  { machine: serverMachine, eventSources: serverEventSources, title: 'Server machine', image: 'server-machine.svg' },
  {
    machine: connectionMachine,
    eventSources: connectionEventSources,
    title: 'Connection machine',
    image: 'connection-machine.svg',
  },
  {
    machine: primaryMachine,
    eventSources: primaryEventSources,
    title: 'Primary machine',
    image: 'primary-machine.svg',
  },
  {
    machine: ircSessionMachine,
    eventSources: ircSessionEventSources,
    title: 'IRC session machine',
    image: 'irc-session-machine.svg',
  },
  {
    machine: redisLinkMachine,
    eventSources: redisLinkEventSources,
    title: 'Redis link machine',
    image: 'redis-link-machine.svg',
  },
];

/** Every state node under the root, parents first. */
function descendants(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) => [child, ...descendants(child)]);
}

/** The `## ...` section of one machine, found by its id in the heading. */
function section(doc: string, machine: AnyStateMachine): string {
  const sections = doc.split(/^(?=## )/m).filter((s) => s.startsWith('## '));
  const found = sections.filter((s) => s.split('\n', 1)[0]?.includes(`(\`${machine.id}\`)`));
  expect(found, `one section of docs/statechart.md for machine ${machine.id}`).toHaveLength(1);
  return found[0] ?? '';
}

function mermaidLines(text: string): string[] {
  const blocks = [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)];
  expect(blocks, 'one mermaid block per machine section').toHaveLength(1);
  return (blocks[0]?.[1] ?? '').split('\n').filter((line) => line.trim() !== '');
}

interface Diagram {
  /** Mermaid id -> state path made of the displayed labels, following the `{ }` nesting. */
  paths: Map<string, string>;
  edges: { from: string; to: string; label: string | null }[];
}

/**
 * Reads a stateDiagram-v2 block line by line and fails on anything it does not recognise:
 * declarations, composite blocks with balanced braces, and `A --> B` / `A --> B: label` lines
 * whose states are declared first (Mermaid nests a state in the first block that mentions it).
 */
function parseDiagram(lines: readonly string[]): Diagram {
  expect(lines[0], 'the block starts with stateDiagram-v2').toBe('stateDiagram-v2');
  const paths = new Map<string, string>();
  const edges: Diagram['edges'] = [];
  const open: string[] = [];
  const known = (id: string, line: string): void => {
    if (id !== '[*]') expect(paths.has(id), `state ${id} is declared before use in: ${line}`).toBe(true);
  };
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    const declared = /^state "([^"]+)" as (\w+)$/.exec(line);
    const composite = /^state (\w+) \{$/.exec(line);
    const edge = /^(\[\*\]|\w+) --> (\[\*\]|\w+)(?:: (\S.*))?$/.exec(line);
    if (declared) {
      const [, label = '', id = ''] = declared;
      expect(paths.has(id), `state id ${id} is declared once`).toBe(false);
      const parent = open.at(-1);
      paths.set(id, parent === undefined ? label : `${paths.get(parent)}.${label}`);
    } else if (composite) {
      const id = composite[1] ?? '';
      known(id, line);
      open.push(id);
    } else if (line === '}') {
      expect(open.length, 'no `}` without a matching `state X {`').toBeGreaterThan(0);
      open.pop();
    } else if (edge) {
      const [, from = '', to = '', label] = edge;
      known(from, line);
      known(to, line);
      edges.push({ from, to, label: label ?? null });
    } else {
      expect.fail(`not a declaration, composite brace or transition: ${JSON.stringify(raw)}`);
    }
  }
  expect(open, 'every `state X {` is closed').toEqual([]);
  return { paths, edges };
}

/** The rows of the markdown table that follows `### <title>`, as cells (header and rule dropped). */
function tableRows(text: string, title: string): string[][] {
  const start = text.indexOf(`### ${title}\n`);
  expect(start, `a ${title} table`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const table: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    table.push(line);
  }
  return table.slice(2).map((row) =>
    row
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim()),
  );
}

const unquote = (cell: string): string => cell.replace(/`/g, '');

// ---------------------------------------------------------------------------------------------
// Reading the SVGs: a small XML reader, strict enough to catch unbalanced tags, unquoted or
// duplicated attributes and unescaped `<` or `&`.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The text directly inside, entities decoded. */
  text: string;
}

function decodeEntities(text: string): string {
  expect(text, 'every & starts an entity').not.toMatch(/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (e in named) return named[e] ?? '';
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Parses a document with one root element (comments before it allowed); fails the test on anything malformed. */
function parseXml(source: string): XmlElement {
  const document: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const open: XmlElement[] = [document];
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (const match of source.matchAll(token)) {
    const [whole, closing, name = '', attrText = '', selfClosing, text, stray] = match;
    const current = open.at(-1) ?? document;
    if (stray !== undefined) expect.fail(`malformed tag at ${match.index}: ${source.slice(match.index, match.index + 60)}`);
    if (text !== undefined) {
      if (open.length === 1) expect(text.trim(), 'no text outside the root element').toBe('');
      current.text += decodeEntities(text);
      continue;
    }
    if (whole.startsWith('<!--')) continue;
    if (closing === '/') {
      expect(current.name, `</${name}> closes the innermost open element`).toBe(name);
      open.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, key = '', value = ''] of attrText.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      expect(attrs, `attribute ${key} given once on <${name}>`).not.toHaveProperty(key);
      attrs[key] = decodeEntities(value);
    }
    const element: XmlElement = { name, attrs, children: [], text: '' };
    if (open.length === 1) expect(document.children, 'one root element').toHaveLength(0);
    current.children.push(element);
    if (selfClosing !== '/') open.push(element);
  }
  expect(open.map((e) => e.name), 'every element is closed').toEqual(['#document']);
  const [root] = document.children;
  if (root === undefined) return expect.fail('no root element');
  return root;
}

function* elements(node: XmlElement, ancestors: readonly XmlElement[] = []): Generator<[XmlElement, readonly XmlElement[]]> {
  yield [node, ancestors];
  for (const child of node.children) yield* elements(child, [...ancestors, node]);
}

const hasClass = (element: XmlElement, name: string): boolean => (element.attrs.class ?? '').split(/\s+/).includes(name);

/** The text of an element and its descendants, one space between pieces. */
function textOf(element: XmlElement): string {
  return [element.text, ...element.children.map(textOf)].filter((t) => t !== '').join(' ');
}

const isLeaf = (node: AnyStateNode): boolean => Object.keys(node.states).length === 0;

/** The label of every arrow the SVG must have: one per transition with a target, per target. */
function expectedEdgeLabels(machine: AnyStateMachine): string[] {
  const labels: string[] = [];
  for (const node of descendants(machine.root)) {
    for (const [eventType, transitions] of node.transitions) {
      const after = 'xstate.after.';
      const trigger = eventType.startsWith(after) ? `after ${eventType.slice(after.length, -(node.id.length + 1))}` : eventType;
      for (const t of transitions) {
        const label = typeof t.guard === 'string' ? `${trigger} [${t.guard}]` : trigger;
        for (const _ of t.target ?? []) labels.push(label);
      }
    }
    for (const t of node.always ?? []) {
      const label = typeof t.guard === 'string' ? `always [${t.guard}]` : 'always';
      for (const _ of t.target ?? []) labels.push(label);
    }
  }
  return labels.sort();
}

describe('docs/statechart.md', () => {
  const doc = readDoc();

  it('is exactly what scripts/statechart.ts generates from the machines', () => {
    expect(doc, stale).toBe(renderStatechartMarkdown());
  });

  it('says it is generated and must not be edited by hand, and has no timestamp', () => {
    const head = doc.split('\n').slice(0, 8).join('\n');
    expect(head).toContain('generated by `npm run docs`');
    expect(head).toMatch(/do not edit/i);
    expect(renderStatechartMarkdown()).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('shows each machine as an SVG image right before its Mermaid block', () => {
    for (const { machine, title, image } of machines) {
      const text = section(doc, machine);
      expect(text, `${image} in the ${machine.id} section`).toMatch(
        new RegExp(`^!\\[${title}\\]\\(${image.replace('.', '\\.')}\\)\n\n\`\`\`mermaid$`, 'm'),
      );
    }
  });

  it('documents the server machine first, then the connection machine, the primary, the IRC session, the Redis link', () => {
    const headings = doc.split('\n').filter((line) => line.startsWith('## '));
    expect(headings.map((h) => /\(`(\w+)`\)/.exec(h)?.[1])).toEqual(['server', 'connection', 'primary', 'ircSession', 'redisLink']);
  });

  it('explains why bound is the parent of every state that holds the address', () => {
    const text = section(doc, serverMachine);
    expect(text).toContain("`server.listen()`");
    expect(text).toContain("`'listening'`");
    expect(text).toMatch(/`bound` is the parent of every state that holds the address/);
  });

  for (const { machine, eventSources } of machines) {
    describe(`${machine.id} machine`, () => {
      const text = (): string => section(doc, machine);

      it('has the machine description', () => {
        expect(machine.root.description).toBeTruthy();
        expect(text()).toContain(machine.root.description);
      });

      it('draws a well-formed Mermaid stateDiagram-v2', () => {
        const { edges } = parseDiagram(mermaidLines(text()));
        expect(edges.length).toBeGreaterThan(0);
      });

      it('draws every state, nested where it is nested in the machine', () => {
        const { paths } = parseDiagram(mermaidLines(text()));
        const drawn = [...paths.values()].sort();
        const states = descendants(machine.root)
          .map((node) => node.path.join('.'))
          .sort();
        expect(drawn).toEqual(states);
      });

      it('draws every transition that has a target, labelled with its event, delay and guard', () => {
        const { paths, edges } = parseDiagram(mermaidLines(text()));
        const idOf = new Map([...paths].map(([id, p]) => [p, id]));
        const drawn = edges.map((e) => (e.label === null ? `${e.from} --> ${e.to}` : `${e.from} --> ${e.to}: ${e.label}`));
        for (const node of descendants(machine.root)) {
          for (const [eventType, transitions] of node.transitions) {
            const after = `xstate.after.`;
            const trigger = eventType.startsWith(after)
              ? `after ${eventType.slice(after.length, -(node.id.length + 1))}`
              : eventType;
            for (const t of transitions) {
              const label = typeof t.guard === 'string' ? `${trigger} [${t.guard}]` : trigger;
              for (const target of t.target ?? []) {
                const line = `${idOf.get(node.path.join('.'))} --> ${idOf.get(target.path.join('.'))}: ${label}`;
                expect(drawn, `${node.id} on ${eventType}`).toContain(line);
              }
            }
          }
          if (node.type === 'final') expect(drawn).toContain(`${idOf.get(node.path.join('.'))} --> [*]`);
        }
      });

      it('lists every state with its description', () => {
        const rows = tableRows(text(), 'States');
        for (const node of descendants(machine.root)) {
          const row = rows.find((r) => unquote(r[0] ?? '') === node.path.join('.'));
          expect(row, `state ${node.path.join('.')} in the States table`).toBeDefined();
          expect(row?.[2]).toBe(node.description?.replace(/\|/g, '\\|'));
        }
      });

      it('has every event of the machine in the transitions table', () => {
        const events = new Set(tableRows(text(), 'Transitions').map((row) => unquote(row[1] ?? '')));
        for (const type of Object.keys(eventSources)) expect([...events], `event ${type}`).toContain(type);
      });

      it('says what produces every event', () => {
        const rows = tableRows(text(), 'Events');
        for (const [type, source] of Object.entries(eventSources)) {
          const row = rows.find((r) => unquote(r[0] ?? '') === type);
          expect(row?.[1], `source of ${type}`).toBe(source.replace(/\|/g, '\\|'));
        }
      });
    });
  }
});

// The screenshot cannot be compared byte for byte (it has times and ports in it), so
// scripts/liveViewShot.ts records beside it which machines it was taken with.
describe('docs/live-view.png', () => {
  it('was taken with the machines as they are now', () => {
    const sidecar = JSON.parse(readDocsFile('live-view.json') || '{}') as { machines?: unknown };
    expect(sidecar.machines, 'docs/live-view.png was taken with other machines: run npm run docs').toEqual(liveViewFingerprint());
  });

  it('is fingerprinted by states and transitions, not by descriptions or actions', () => {
    const fingerprint = (states: Record<string, object>): string =>
      machineFingerprint(createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'b' } }, b: {}, ...states } }));
    const base = fingerprint({});
    expect(fingerprint({ b: { description: 'other words', entry: () => {}, on: { poke: { actions: () => {} } } } })).toBe(base);
    expect(fingerprint({ a: { on: { went: 'b' } } }), 'an event renamed').not.toBe(base);
    expect(fingerprint({ a: { on: { go: 'c' } }, c: {} }), 'a target changed').not.toBe(base);
    expect(fingerprint({ c: {} }), 'a state added').not.toBe(base);
  });
});

describe('docs/*.svg', () => {
  let rendered: Record<string, string> = {};
  beforeAll(async () => {
    rendered = await renderDiagrams();
  });

  it('are exactly what scripts/statechart.ts draws from the machines', () => {
    expect(Object.keys(rendered).sort()).toEqual(machines.map((m) => m.image).sort());
    for (const [name, svg] of Object.entries(rendered)) {
      expect(readDocsFile(name), `docs/${name} is stale (or missing): run \`npm run docs\` and commit the result`).toBe(svg);
    }
  });

  it('are drawn the same way every time', async () => {
    expect(await renderDiagrams()).toEqual(rendered);
  });

  for (const { machine, image } of machines) {
    describe(image, () => {
      const svg = (): XmlElement => parseXml(rendered[image] ?? '');

      it('is well-formed, self-contained SVG with its own style and a size', () => {
        const root = svg();
        expect(root.name).toBe('svg');
        expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
        expect(Number(root.attrs.width)).toBeGreaterThan(100);
        expect(root.attrs.viewBox).toBe(`0 0 ${root.attrs.width} ${root.attrs.height}`);
        const style = [...elements(root)].find(([e]) => e.name === 'style')?.[0];
        expect(style?.text).toMatch(/\.state\.active > rect\s*\{/);
        expect(style?.text).toMatch(/\.state\.hot > rect\s*\{/);
        expect(style?.text).toMatch(/sans-serif/);
        const text = rendered[image] ?? '';
        expect(text, 'no external references').not.toMatch(/href=|@import|url\((?!#)/);
        expect(text.match(/https?:\/\/[^"\s]*/g)).toEqual(['http://www.w3.org/2000/svg']);
      });

      it('has a g.state with its id and data-state for every state, nested as in the machine', () => {
        const groups = [...elements(svg())].filter(([e]) => e.name === 'g' && hasClass(e, 'state'));
        const drawn = groups.map(([e, ancestors]) => ({
          id: e.attrs.id,
          state: e.attrs['data-state'],
          parent: ancestors.filter((a) => hasClass(a, 'state')).at(-1)?.attrs['data-state'] ?? null,
          label: e.children.find((c) => c.name === 'text' && hasClass(c, 'label'))?.text,
          rect: e.children.some((c) => c.name === 'rect'),
        }));
        const expected = descendants(machine.root).map((node) => ({
          id: `state-${machine.id}-${node.path.join('_')}`,
          state: node.path.join('.'),
          parent: node.parent === machine.root || !node.parent ? null : node.parent.path.join('.'),
          label: node.key,
          rect: true,
        }));
        expect(drawn).toEqual(expected);
        const finals = groups.filter(([e]) => hasClass(e, 'final')).map(([e]) => e.attrs['data-state']);
        const finalStates = descendants(machine.root).filter((n) => n.type === 'final');
        expect(finals).toEqual(finalStates.map((n) => n.path.join('.')));
        for (const [e] of groups.filter(([g]) => hasClass(g, 'final'))) {
          expect(e.children.filter((c) => c.name === 'rect'), 'a final state has a double border').toHaveLength(2);
        }
      });

      it('has an empty count placeholder in every leaf state, and only there', () => {
        const counts = [...elements(svg())].filter(([e]) => e.name === 'text' && hasClass(e, 'count'));
        const leaves = descendants(machine.root).filter(isLeaf).map((n) => n.path.join('.'));
        expect(counts.map(([e]) => e.attrs['data-count-for'])).toEqual(leaves);
        for (const [count, ancestors] of counts) {
          expect(count.text).toBe('');
          expect(ancestors.at(-1)?.attrs['data-state'], 'the count sits in its own state').toBe(count.attrs['data-count-for']);
        }
      });

      it('draws one labelled arrow per transition with a target, and an initial arrow per compound state', () => {
        const root = svg();
        const edges = root.children.find((c) => c.name === 'g' && hasClass(c, 'edges'));
        expect(edges, 'a g.edges').toBeDefined();
        const all = [...elements(root)].map(([e]) => e);
        const labels = all.filter((e) => e.name === 'text' && hasClass(e, 'edge-label'));
        expect(labels.map(textOf).sort()).toEqual(expectedEdgeLabels(machine));
        const arrows = edges?.children.filter((g) => hasClass(g, 'edge')) ?? [];
        for (const arrow of arrows) {
          const path = arrow.children.find((c) => c.name === 'path');
          expect(path?.attrs.d, 'an arrow has a path').toMatch(/^M[\d.]+,[\d.]+ /);
          expect(path?.attrs['marker-end']).toMatch(/^url\(#arrow-/);
        }
        const initials = arrows.filter((g) => hasClass(g, 'initial'));
        const compounds = [machine.root, ...descendants(machine.root)].filter((n) => n.type === 'compound');
        expect(initials).toHaveLength(compounds.length);
        expect(all.filter((e) => e.name === 'circle' && hasClass(e, 'initial'))).toHaveLength(compounds.length);
        expect(all.filter((e) => e.name === 'rect' && hasClass(e, 'edge-label-bg'))).toHaveLength(labels.length);
      });
    });
  }
});
