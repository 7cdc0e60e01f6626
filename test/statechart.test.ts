// docs/statechart.md is generated from the machines (scripts/statechart.ts). These tests fail when
// the committed file is stale, and check what it says against the machines themselves: every
// state drawn where it is nested, every transition with a target drawn, every event listed, and
// a Mermaid block that is well formed.

import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { renderStatechartMarkdown } from '../scripts/statechart.js';
import { connectionEventSources, connectionMachine } from '../src/machines/connectionMachine.js';
import { serverEventSources, serverMachine } from '../src/machines/serverMachine.js';

const docUrl = new URL('../docs/statechart.md', import.meta.url);
const stale = 'docs/statechart.md is stale (or missing): run `npm run docs` and commit the result';

function readDoc(): string {
  try {
    return readFileSync(docUrl, 'utf8');
  } catch {
    return '';
  }
}

const machines: readonly { machine: AnyStateMachine; eventSources: Readonly<Record<string, string>> }[] = [
  { machine: serverMachine, eventSources: serverEventSources },
  { machine: connectionMachine, eventSources: connectionEventSources },
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

  it('documents the server machine first, then the connection machine', () => {
    const headings = doc.split('\n').filter((line) => line.startsWith('## '));
    expect(headings.map((h) => /\(`(\w+)`\)/.exec(h)?.[1])).toEqual(['server', 'connection']);
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
