// Writes docs/statechart.md from the machine definitions themselves, so the diagrams, the state
// and transition tables and the event list cannot drift from the machine files. It walks each
// machine's state nodes (`machine.root`) as xstate resolved them: nothing is parsed from source.
// Beside it, one SVG image per machine (docs/server-machine.svg, docs/connection-machine.svg),
// laid out by ELK in src/ops/inspect/diagram.ts; the Markdown shows each above its Mermaid block.
//
//   node dist/scripts/statechart.js           print the markdown
//   node dist/scripts/statechart.js --write   write docs/statechart.md and the SVGs (what `npm run docs` does)
//   node dist/scripts/statechart.js --check   exit 1 if docs/statechart.md or an SVG is stale
//
// test/statechart.test.ts fails while the committed files differ from renderStatechartMarkdown()
// and renderDiagrams(), and while docs/live-view.json (written with the screenshot by
// scripts/liveViewShot.ts) differs from liveViewFingerprint().

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { describeGuard, renderMachineSvg } from '../src/ops/inspect/diagram.js';
import { connectionEventSources, connectionMachine } from '../src/greeting/connectionMachine.js';
import { ircSessionEventSources, ircSessionMachine } from '../src/irc/session/ircSessionMachine.js';
import { primaryEventSources, primaryMachine } from '../src/ops/primaryMachine.js';
import { redisLinkEventSources, redisLinkMachine } from '../src/irc/redis/redisLinkMachine.js';
import { serverEventSources, serverMachine } from '../src/core/serverMachine.js';
import { packageRoot } from '../src/core/packageInfo.js';

interface MachineDoc {
  title: string;
  machine: AnyStateMachine;
  /** Source file, relative to the project root. */
  file: string;
  /** The SVG drawing of the machine, in docs/ beside the Markdown. */
  image: string;
  /** What produces each event the machine accepts (typed in the machine file, so none is missed). */
  eventSources: Readonly<Record<string, string>>;
  /** Extra prose placed after the machine's description. */
  prose?: string;
}

// Why `bound` is a parent state, and which net.Server event moves the server machine where. The
// same reasoning is in the comment at the top of serverMachine.ts; here it is for readers of the doc.
const serverProse = `### Which Node event drives each transition

The adapter (\`src/core/listener.ts\`) owns the \`net.Server\` and turns each of its events
into one machine event; the machine decides what happens.

- Node's \`server.listen()\` resolves the host, binds and listens in one call, and reports all of
  it with one \`'listening'\` event (\`net.listening\`). There is no moment that is "bound but not
  listening" to observe, so there is no separate bind step: \`net.listening\` takes \`binding\`
  straight to \`bound\`, and \`bound\` is the parent of every state that holds the address
  (\`listening\`, \`accepting\`, \`full\`). One \`server.shutdown\` transition on \`bound\` covers all three.
- \`'error'\` (\`net.error\`) while binding means the address could not be claimed (EADDRINUSE,
  EACCES, unknown host): \`binding\` → \`failed\`. Once bound, an \`'error'\` is an accept error
  (EMFILE, ...): it is logged and the server stays where it is.
- \`'connection'\` is a completed handshake. In the states tagged \`admitting\` (\`listening\`,
  \`accepting\`) the listener reads the tag and hands the socket to a new connection actor without
  stepping the machine; in \`full\` and \`stopping\` it sends the machine \`net.connection\`, and the
  machine has the socket sent a coded error line and closed.
- \`server.close()\` (on entering \`stopping\`) stops accepting; Node emits \`'close'\`
  (\`net.close\`) only once every socket it accepted has closed, which ends \`stopping\` normally.
  The \`shutdownGrace\` timer, or a second \`server.shutdown\`, ends it by destroying the sockets left.
- \`sessions.changed\` is not a Node event: the listener counts the live sessions and sends the
  count only when it crosses a boundary the guards read (none ↔ some, full ↔ not full), into
  \`context.sessions\`.
- \`server.shutdown\` while \`binding\` goes to \`abandoning\`: Node cannot close a server whose
  \`listen()\` is still in flight (under node:cluster it throws inside Node), so the machine waits
  for \`net.listening\` (then stops as usual) or \`net.error\` (then it is stopped).`;

// How the IRC session machine and its adapter share the work; the same is said at the top of
// ircSessionMachine.ts and in docs/irc.md.
const ircProse = `### Who decides what

With \`--protocol irc\` the server machine above is the same (accepting, capping, draining), and
each client gets this machine instead of the connection machine. The adapter
(\`src/irc/session/protocol.ts\`) frames and queues the client's lines and hands them over as
\`irc.message\` one at a time: only when the previous command has finished (even if the network
state answered later) and only when flood control allows. The machine decides whether the command
may run in its state (\`isUsableBeforeRegistration\` in \`registering\`, which reads the command
table's \`usablePreReg\`; everything in \`registered\`, whose tag \`registered\` is the one record
of registration), and the command table (\`src/irc/commands/table.ts\`) decides what it does. The
handlers report registration facts back as events (\`irc.nickSet\`, \`irc.userSet\`,
\`irc.passGiven\`, \`irc.capHeld\`, \`irc.capEnded\`), and the eventless transitions of
\`registering.waiting\` decide when registration is complete.`;

const machineDocs: readonly MachineDoc[] = [
  {
    title: 'Server machine',
    machine: serverMachine,
    file: 'src/core/serverMachine.ts',
    image: 'server-machine.svg',
    eventSources: serverEventSources,
    prose: serverProse,
  },
  {
    title: 'Connection machine',
    machine: connectionMachine,
    file: 'src/greeting/connectionMachine.ts',
    image: 'connection-machine.svg',
    eventSources: connectionEventSources,
  },
  {
    title: 'Primary machine',
    machine: primaryMachine,
    file: 'src/ops/primaryMachine.ts',
    image: 'primary-machine.svg',
    eventSources: primaryEventSources,
  },
  {
    title: 'IRC session machine',
    machine: ircSessionMachine,
    file: 'src/irc/session/ircSessionMachine.ts',
    image: 'irc-session-machine.svg',
    eventSources: ircSessionEventSources,
    prose: ircProse,
  },
  {
    title: 'Redis link machine',
    machine: redisLinkMachine,
    file: 'src/irc/redis/redisLinkMachine.ts',
    image: 'redis-link-machine.svg',
    eventSources: redisLinkEventSources,
  },
];

export const STATECHART_DOC = 'docs/statechart.md';
/** What docs/live-view.png was taken with (liveViewFingerprint()), beside it. */
export const LIVE_VIEW_SIDECAR = 'docs/live-view.json';
/** Where the Markdown and the images go, relative to the project root. */
const DOCS_DIR = 'docs';

/** The Markdown of docs/statechart.md: pure and deterministic (no dates, no paths of this machine). */
export function renderStatechartMarkdown(): string {
  const out: string[] = [
    '<!-- Generated by `npm run docs` (scripts/statechart.ts) from the machine files. Do not edit by hand. -->',
    '',
    '# Statecharts',
    '',
    '> This file is generated by `npm run docs` from the machine definitions (`src/**/*Machine.ts`);',
    '> do not edit it by hand. Change a machine (its `description` fields feed the tables), then run',
    '> `npm run docs`. `test/statechart.test.ts` fails while this file is stale.',
    '',
    ...machineDocs.map((doc) => `- [${doc.title} (\`${doc.machine.id}\`)](#${anchor(doc)}): \`${doc.file}\``),
    '',
  ];
  for (const doc of machineDocs) out.push(...renderMachine(doc));
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * The SVG images, by file name in docs/ (`server-machine.svg`, ...): what renderMachineSvg draws,
 * under a comment saying where it comes from. Deterministic, like the Markdown.
 */
export async function renderDiagrams(): Promise<Record<string, string>> {
  const images: Record<string, string> = {};
  for (const doc of machineDocs) {
    const header = `<!-- Generated by npm run docs (scripts/statechart.ts) from ${doc.file}. Do not edit by hand. -->\n`;
    images[doc.image] = header + (await renderMachineSvg(doc.machine));
  }
  return images;
}

/**
 * A SHA-256 of the machine's Mermaid chart: its states, their nesting and every drawn arrow's
 * `event [guard]`, i.e. what a drawing of it shows. It changes when a state or a drawn transition
 * does; descriptions, actions and other code leave it alone.
 */
export function machineFingerprint(machine: AnyStateMachine): string {
  return createHash('sha256').update(renderDiagram(machine, edgesOf(machine)).join('\n')).digest('hex');
}

/** The machines docs/live-view.png shows, by id: the two the default protocol's live view draws (src/cli/server.ts). */
export function liveViewFingerprint(): Record<string, string> {
  return Object.fromEntries([serverMachine, connectionMachine].map((machine) => [machine.id, machineFingerprint(machine)]));
}

// ---------------------------------------------------------------------------------------------
// Walking the machine

interface Edge {
  source: AnyStateNode;
  /** What fires it: `server.start`, `after shutdownGrace` or `always`. */
  trigger: string;
  /** The diagram label: the trigger, then `[guard]` if there is one. */
  label: string;
  /** The event as xstate names it (`xstate.after.<delay>.<stateId>` for timers, '' for always). */
  eventType: string;
  delay: string | null;
  guard: string | null;
  targets: readonly AnyStateNode[];
  reenter: boolean;
  actions: string[];
}

/** Every state node under the root, in document order (parents before children). */
function descendants(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) => [child, ...descendants(child)]);
}

/** Every transition of the machine, root first, in document order. */
function edgesOf(machine: AnyStateMachine): Edge[] {
  return [machine.root, ...descendants(machine.root)].flatMap((node) => transitionsOf(machine, node));
}

function transitionsOf(machine: AnyStateMachine, node: AnyStateNode): Edge[] {
  // `node.transitions` already holds the `after` transitions (keyed by their
  // `xstate.after.<delay>.<stateId>` event); `node.after` tells which of them are timers.
  const delays = new Map(node.after.map((t) => [t.eventType, t.delay]));
  const edges: Edge[] = [];
  const push = (eventType: string, t: AnyTransitionDefinition, trigger: string, delay: string | null): void => {
    const guard = t.guard === undefined ? null : describeGuard(t.guard);
    edges.push({
      source: node,
      trigger,
      label: guard === null ? trigger : `${trigger} [${guard}]`,
      eventType,
      delay,
      guard,
      targets: t.target ?? [],
      reenter: t.reenter,
      actions: t.actions.map(describeAction),
    });
  };
  for (const [eventType, list] of node.transitions) {
    const delay = delays.get(eventType);
    const delayName = delay === undefined ? null : describeDelay(machine, delay);
    for (const t of list) push(eventType, t, delayName === null ? eventType : `after ${delayName}`, delayName);
  }
  for (const t of node.always ?? []) push('', t, 'always', null);
  return edges;
}

function describeDelay(machine: AnyStateMachine, delay: unknown): string {
  if (typeof delay === 'number') return `${delay} ms`;
  if (typeof delay === 'string') {
    // A named delay comes from the machine's setup({ delays }).
    const named = machine.implementations.delays as Record<string, unknown>;
    return delay in named ? delay : `${delay} (not in setup delays)`;
  }
  return 'inline delay';
}

function describeAction(action: unknown): string {
  if (typeof action === 'string') return action;
  if (isNamed(action)) return action.params === undefined ? action.type : `${action.type}(${JSON.stringify(action.params)})`;
  if (typeof action === 'function') {
    const fn = action as { type?: unknown; name: string };
    return typeof fn.type === 'string' ? fn.type : fn.name || 'inline action';
  }
  return 'inline action';
}

function isNamed(value: unknown): value is { type: string; params?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** `bound.listening`; the root is the machine itself. */
function statePath(node: AnyStateNode): string {
  return node.path.length === 0 ? `(${node.machine.id})` : node.path.join('.');
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/**
 * Mermaid ids share one namespace across nested states (a `closed` inside two composites would be
 * one node), so each state is `<machine>_<path joined with _>` and displayed by its key.
 */
function mermaidIds(machine: AnyStateMachine): Map<AnyStateNode, string> {
  const ids = new Map<AnyStateNode, string>();
  const seen = new Set<string>();
  for (const node of descendants(machine.root)) {
    const id = [machine.id, ...node.path].join('_').replace(/[^A-Za-z0-9_]/g, '_');
    if (seen.has(id)) throw new Error(`two states of ${machine.id} map to the Mermaid id ${id}`);
    seen.add(id);
    ids.set(node, id);
  }
  return ids;
}

function ancestors(node: AnyStateNode): AnyStateNode[] {
  const list: AnyStateNode[] = [];
  for (let p = node.parent; p; p = p.parent) list.push(p);
  return list;
}

/** The deepest state strictly containing both ends: the edge is written inside that block. */
function edgeBlock(a: AnyStateNode, b: AnyStateNode): AnyStateNode {
  const outer = new Set(ancestors(b));
  const found = ancestors(a).find((p) => outer.has(p));
  if (!found) throw new Error(`no common ancestor for ${a.id} and ${b.id}`);
  return found;
}

function mermaidLabel(text: string): string {
  // A label runs to the end of the line; keep it on one line and away from Mermaid's separators.
  return text.replace(/[\r\n]+/g, ' ').replace(/[;:]/g, ',');
}

function renderDiagram(machine: AnyStateMachine, edges: readonly Edge[]): string[] {
  const ids = mermaidIds(machine);
  const id = (node: AnyStateNode): string => {
    const found = ids.get(node);
    if (found === undefined) throw new Error(`state ${node.id} has no Mermaid id`);
    return found;
  };
  // Edges are grouped by the block they belong to and written after every state of that block
  // is declared: Mermaid puts a state in the first block that mentions it.
  const edgesIn = new Map<AnyStateNode, string[]>();
  for (const edge of edges) {
    // Transitions with no target only run actions: they are in the transitions table, not drawn.
    // Transitions on the machine root apply in every state and cannot be drawn as one arrow.
    if (edge.targets.length === 0 || edge.source === machine.root) continue;
    for (const target of edge.targets) {
      const block = edgeBlock(edge.source, target);
      const lines = edgesIn.get(block) ?? [];
      lines.push(`${id(edge.source)} --> ${id(target)}: ${mermaidLabel(edge.label)}`);
      edgesIn.set(block, lines);
    }
  }
  const block = (node: AnyStateNode, indent: string): string[] => {
    const children = Object.values(node.states);
    const lines: string[] = [];
    for (const child of children) {
      lines.push(`${indent}state "${child.key}" as ${id(child)}`);
      if (Object.keys(child.states).length > 0) {
        lines.push(`${indent}state ${id(child)} {`, ...block(child, `${indent}  `), `${indent}}`);
      }
    }
    for (const initial of node.initial?.target ?? []) lines.push(`${indent}[*] --> ${id(initial)}`);
    for (const line of edgesIn.get(node) ?? []) lines.push(`${indent}${line}`);
    for (const child of children) if (child.type === 'final') lines.push(`${indent}${id(child)} --> [*]`);
    return lines;
  };
  return ['```mermaid', 'stateDiagram-v2', ...block(machine.root, '  '), '```'];
}

// ---------------------------------------------------------------------------------------------
// Markdown

function anchor(doc: MachineDoc): string {
  return `${doc.title} (${doc.machine.id})`.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

function stateType(node: AnyStateNode): string {
  const initial = node.initial?.target ?? [];
  if (node.type === 'compound' && initial.length > 0) return `compound, initial ${initial.map((t) => code(t.key)).join(', ')}`;
  return node.type;
}

function renderMachine(doc: MachineDoc): string[] {
  const { machine } = doc;
  const nodes = descendants(machine.root);
  const edges = edgesOf(machine);
  const described = (node: AnyStateNode): string => node.description ?? '(no description)';

  const stateRows = nodes.map((node) => [code(statePath(node)), stateType(node), described(node)]);

  const transitionRows = edges.map((edge) => {
    const target =
      edge.targets.length === 0
        ? '(none: stays, runs the actions)'
        : edge.targets.map((t) => code(statePath(t))).join(', ') + (edge.reenter ? ' (re-entered)' : '');
    const event =
      edge.delay !== null ? `after ${code(edge.delay)}` : edge.eventType === '' ? '(always)' : code(edge.eventType);
    return [
      code(statePath(edge.source)),
      event,
      edge.guard === null ? '' : code(edge.guard),
      target,
      edge.actions.map(code).join(', '),
    ];
  });

  // Events from outside the machine, as listed in the machine file, then its own timers.
  const handledIn = (eventType: string): string => {
    const sources = [...new Set(edges.filter((e) => e.eventType === eventType).map((e) => statePath(e.source)))];
    return sources.length === 0 ? '(not handled)' : sources.map(code).join(', ');
  };
  const eventRows = Object.entries(doc.eventSources).map(([type, source]) => [code(type), source, handledIn(type)]);
  const timerRows = edges
    .filter((edge) => edge.delay !== null)
    .filter((edge, i, all) => all.findIndex((e) => e.eventType === edge.eventType) === i)
    .map((edge) => [
      code(edge.eventType),
      `xstate timer: delay ${code(edge.delay ?? '')} from the machine's \`setup({ delays })\`, started on entering ${code(statePath(edge.source))} and cancelled on leaving it`,
      code(statePath(edge.source)),
    ]);

  return [
    `## ${doc.title} (\`${machine.id}\`)`,
    '',
    `Source: [\`${doc.file}\`](../${doc.file})`,
    '',
    machine.root.description ?? '(no description)',
    '',
    ...(doc.prose === undefined ? [] : [doc.prose, '']),
    '### Diagram',
    '',
    'Arrows are labelled `event [guard]`; `after <delay>` is a timer. Transitions with no target',
    '(they only run actions) are left out of the diagram and listed in the transitions table.',
    `The image is laid out by ELK (\`src/ops/inspect/diagram.ts\`); the Mermaid block below it is the same chart.`,
    '',
    `![${doc.title}](${doc.image})`,
    '',
    ...renderDiagram(machine, edges),
    '',
    '### States',
    '',
    ...table(['State', 'Type', 'Description'], stateRows),
    '',
    '### Transitions',
    '',
    'In document order. On an event xstate tries the innermost active state first; within one state',
    'the first row whose guard passes wins. A row with no target keeps the state and only runs its actions.',
    '',
    ...table(['Source', 'Event', 'Guard', 'Target', 'Actions'], transitionRows),
    '',
    '### Events',
    '',
    ...table(['Event', 'Produced by', 'Handled in'], [...eventRows, ...timerRows]),
    '',
  ];
}

// ---------------------------------------------------------------------------------------------
// Running as a script

/** The project root: the nearest directory above this file with a package.json (works from dist/ too). */
export function projectRoot(): string {
  return packageRoot();
}

async function main(args: readonly string[]): Promise<number> {
  const [mode] = args;
  if (args.length > 1 || (mode !== undefined && mode !== '--write' && mode !== '--check')) {
    process.stderr.write('usage: statechart [--write | --check]\n');
    return 2;
  }
  const markdown = renderStatechartMarkdown();
  if (mode === undefined) {
    process.stdout.write(markdown);
    return 0;
  }
  // Every generated file, by its path relative to the project root.
  const files = new Map<string, string>([[STATECHART_DOC, markdown]]);
  for (const [name, svg] of Object.entries(await renderDiagrams())) files.set(`${DOCS_DIR}/${name}`, svg);
  const root = projectRoot();
  if (mode === '--write') {
    for (const [file, text] of files) {
      writeFileSync(path.join(root, file), text);
      process.stdout.write(`wrote ${file}\n`);
    }
    return 0;
  }
  // --check
  let stale = 0;
  for (const [file, text] of files) {
    const full = path.join(root, file);
    const current = existsSync(full) ? readFileSync(full, 'utf8') : null;
    if (current === text) {
      process.stdout.write(`${file} is up to date\n`);
      continue;
    }
    stale++;
    process.stderr.write(`${file} is ${current === null ? 'missing' : 'stale'}: run \`npm run docs\`\n`);
  }
  return stale === 0 ? 0 : 1;
}

// Only when run as `node dist/scripts/statechart.js`: importing this module (the test does)
// must not write anything.
function isMainModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`statechart: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
