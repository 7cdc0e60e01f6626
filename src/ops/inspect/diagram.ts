// Draws a state machine as a standalone SVG, from its definition (`machine.root`) as xstate
// resolved it, so the picture cannot drift from the machine files. elkjs (the Eclipse Layout Kernel,
// pure JS) places the states, routes the arrows and places their labels; this file only decides
// what to draw and writes the SVG text. Used by scripts/statechart.ts for docs/*.svg, and by the
// live view, which loads the same SVG and only toggles classes and fills in counts:
//
//   <g class="state ..." id="state-<machine>-<path joined with _>" data-state="<dotted path>">
//     <rect/> <text class="label"/> [<text class="count" data-count-for="<dotted path>"/> on leaves]
//   `.state.active > rect` and `.state.hot > rect` are styled in the SVG's own <style>.
//
// The output is deterministic (same machine, same bytes): ELK's layout is seeded, text widths are
// estimated from a fixed table rather than measured, and every number is rounded.

import ElkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkExtendedEdge, ElkLabel, ElkNode, ElkPoint, LayoutOptions } from 'elkjs/lib/elk-api.js';
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

// elkjs ships CommonJS with an `export default` typing. Under NodeNext that typing describes
// `module.exports.default`, while Node hands an ES module `module.exports` itself; elkjs sets
// `ELK.default = ELK`, so `.default` is the constructor either way, and it is what the typing says.
const ElkConstructor = ElkModule.default;

/** One drawn arrow: a transition with a target, one per target. */
export interface DiagramTransition {
  source: AnyStateNode;
  target: AnyStateNode;
  /** The event as xstate names it (`xstate.after.<delay>.<stateId>` for timers, '' for `always`). */
  eventType: string;
  /** `event`, `after delayName` or `always`. */
  trigger: string;
  guard: string | null;
  /** `trigger [guard]`: what the arrow is labelled with (on two lines when there is a guard). */
  label: string;
}

/** The SVG element id of a state: `state-<machineId>-<path joined with _>`, e.g. `state-server-bound_listening`. */
export function stateElementId(machineId: string, path: readonly string[]): string {
  return `state-${idPart(machineId)}-${path.map(idPart).join('_')}`;
}

/** `open.awaitingReply.empty`: the value of a state's `data-state` and of its count's `data-count-for`. */
export function stateDataPath(node: AnyStateNode): string {
  return node.path.join('.');
}

/** Every state node under the root, in document order (parents before children). */
export function diagramStates(machine: AnyStateMachine): AnyStateNode[] {
  const walk = (node: AnyStateNode): AnyStateNode[] =>
    Object.values(node.states).flatMap((child) => [child, ...walk(child)]);
  return walk(machine.root);
}

/**
 * The transitions drawn as arrows, in document order: every transition with a target, one per
 * target. Transitions with no target only run actions and are not drawn; nor are transitions on
 * the machine root (they apply in every state: no one arrow can show that), nor targets that are
 * the root itself (it is the canvas, not a box).
 */
export function diagramTransitions(machine: AnyStateMachine): DiagramTransition[] {
  const drawn: DiagramTransition[] = [];
  for (const source of diagramStates(machine)) {
    // `transitions` already holds the `after` transitions, keyed by their xstate.after.* event.
    const delays = new Map(source.after.map((t) => [t.eventType, t.delay]));
    const add = (eventType: string, t: AnyTransitionDefinition, trigger: string): void => {
      const guard = t.guard === undefined ? null : describeGuard(t.guard);
      for (const target of t.target ?? []) {
        if (target === machine.root) continue;
        drawn.push({ source, target, eventType, trigger, guard, label: guard === null ? trigger : `${trigger} [${guard}]` });
      }
    };
    for (const [eventType, list] of source.transitions) {
      const trigger = delays.has(eventType) ? `after ${describeDelay(delays.get(eventType))}` : eventType;
      for (const t of list) add(eventType, t, trigger);
    }
    for (const t of source.always ?? []) add('', t, 'always');
  }
  return drawn;
}

/** The machine as an SVG document (UTF-8 text, ending in a newline). */
export async function renderMachineSvg(machine: AnyStateMachine): Promise<string> {
  const model = buildModel(machine);
  // A compound state is as wide as its children need, which can be narrower than its own label:
  // widen those by their side padding and lay out again (ELK's minimum size is unreliable for
  // nested nodes laid out top-down: it swaps width and height).
  let layout = await elk().layout(model.graph);
  const extra = new Map<string, number>();
  for (let pass = 0; pass < 3; pass++) {
    const narrow = [...walkLayout(layout)].filter(({ width = 0, id }) => width < (model.minWidth.get(id) ?? 0) - 0.5);
    if (narrow.length === 0) break;
    for (const laid of narrow) {
      const node = model.nodes.get(laid.id);
      const more = (extra.get(laid.id) ?? 0) + (model.minWidth.get(laid.id) ?? 0) - (laid.width ?? 0);
      extra.set(laid.id, more);
      if (node) node.layoutOptions = { ...node.layoutOptions, 'elk.padding': padding(more) };
    }
    layout = await elk().layout(model.graph);
  }
  return writeSvg(machine, model, layout);
}

// ---------------------------------------------------------------------------------------------
// Geometry and style constants

const font = {
  family: `system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif`,
  stateSize: 14,
  compoundSize: 13,
  edgeSize: 12,
  countSize: 11,
};
// Leaves leave room above the label for the live count, drawn inside the top-right corner.
const leaf = { minWidth: 96, height: 44, padX: 18, labelY: 24, countInset: 7, countBaseline: 14, arrowSpacing: 15 };
const pad = { top: 34, left: 18, bottom: 18, right: 18 };
const initialDot = { size: 14, radius: 6 };
const edgeLabel = { padX: 5, padY: 3, lineHeight: 15 };

/** A compound state's padding; `extra` widens it, half on each side so its children stay centred. */
function padding(extra = 0): string {
  return `[top=${pad.top},left=${fmt(pad.left + extra / 2)},bottom=${pad.bottom},right=${fmt(pad.right + extra / 2)}]`;
}

const spacing: LayoutOptions = {
  'elk.spacing.nodeNode': '36',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.spacing.edgeNode': '16',
  'elk.spacing.edgeEdge': '14',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '12',
  'elk.spacing.edgeLabel': '4',
  'elk.spacing.labelLabel': '6',
  'elk.spacing.nodeSelfLoop': '18',
};

const rootOptions: LayoutOptions = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
  // Keep document order where the layout allows: states read in the order they are written.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.randomSeed': '1',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
  // Every coordinate relative to the root: nested states and hierarchy-crossing edges need no offsets.
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
  ...spacing,
};

const css = `
  text { font-family: ${font.family}; fill: #1f2328; }
  .background { fill: #ffffff; }
  .state > rect { fill: #eef4fb; stroke: #4c6f9a; stroke-width: 1.5; }
  .state.compound > rect { fill: #f6f8fa; stroke: #8c959f; stroke-width: 1.5; }
  .state.final > rect.inner { fill: none; stroke-width: 1; }
  .state.parallel > .state > rect { stroke-dasharray: 6 4; }
  .state > text.label { font-size: ${font.stateSize}px; text-anchor: middle; }
  .state.compound > text.label { font-size: ${font.compoundSize}px; font-weight: 600; text-anchor: start; fill: #424a53; }
  .state.hot > rect { fill: #fff8c5; stroke: #bf8700; stroke-width: 2; }
  .state.active > rect { fill: #dafbe1; stroke: #1a7f37; stroke-width: 2.5; }
  .state.compound.active > rect, .state.compound.hot > rect { fill-opacity: 0.55; }
  .state.final.active > rect.inner, .state.final.hot > rect.inner { fill: none; stroke-width: 1; }
  .count { font-size: ${font.countSize}px; font-weight: 700; text-anchor: end; fill: #9a6700;
    paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
  .initial { fill: #1f2328; }
  .edge > path { fill: none; stroke: #57606a; stroke-width: 1.4; }
  .edge-label-bg { fill: #ffffff; }
  .edge-label { font-size: ${font.edgeSize}px; text-anchor: middle; fill: #1f2328; }
  .edge-label .guard { fill: #6e7781; }
  .arrowhead { fill: #57606a; }
`;

// ---------------------------------------------------------------------------------------------
// The ELK graph

interface Model {
  graph: ElkNode;
  /** Every ELK node by id, to adjust options between passes. */
  nodes: Map<string, ElkNode>;
  /** State element id -> state node. */
  states: Map<string, AnyStateNode>;
  /** Compound state id -> the width its label needs. */
  minWidth: Map<string, number>;
  /** ELK edge id -> what it draws (transitions only; the rest are initial arrows). */
  transitions: Map<string, DiagramTransition>;
}

function buildModel(machine: AnyStateMachine): Model {
  const ids = new Map<AnyStateNode, string>();
  const seen = new Set<string>();
  for (const node of diagramStates(machine)) {
    const id = stateElementId(machine.id, node.path);
    if (seen.has(id)) throw new Error(`two states of ${machine.id} map to the SVG id ${id}`);
    seen.add(id);
    ids.set(node, id);
  }
  const idOf = (node: AnyStateNode): string => {
    const id = ids.get(node);
    if (id === undefined) throw new Error(`state ${node.id} is not drawn (a transition on the root?)`);
    return id;
  };

  const drawn = diagramTransitions(machine);
  const degree = (node: AnyStateNode, end: 'in' | 'out'): number =>
    drawn.filter((t) => (end === 'in' ? t.target : t.source) === node).length;

  const nodes = new Map<string, ElkNode>();
  const states = new Map<string, AnyStateNode>();
  const minWidth = new Map<string, number>();
  const edges: ElkExtendedEdge[] = [];

  const initialEdges = (node: AnyStateNode, dotId: string): void => {
    for (const target of node.initial?.target ?? []) {
      edges.push({ id: `${dotId}-to-${idOf(target)}`, sources: [dotId], targets: [idOf(target)] });
    }
  };
  const childrenOf = (parent: AnyStateNode, parentId: string): ElkNode[] => {
    const children: ElkNode[] = [];
    if ((parent.initial?.target ?? []).length > 0) {
      const dotId = initialId(parentId);
      const dot: ElkNode = {
        id: dotId,
        width: initialDot.size,
        height: initialDot.size,
        layoutOptions: { 'elk.layered.layering.layerConstraint': 'FIRST' },
      };
      nodes.set(dotId, dot);
      children.push(dot);
      initialEdges(parent, dotId);
    }
    for (const child of Object.values(parent.states)) {
      const id = idOf(child);
      states.set(id, child);
      const node: ElkNode = { id };
      if (Object.keys(child.states).length > 0) {
        node.children = childrenOf(child, id);
        node.layoutOptions = { 'elk.padding': padding(), ...spacing };
        minWidth.set(id, pad.left + textWidth(child.key, font.compoundSize, 600) + pad.right);
      } else {
        // Wide enough for its label, and for its arrows to arrive apart (ELK spreads them along a side).
        const arrows = Math.max(degree(child, 'in'), degree(child, 'out'));
        node.width = Math.max(
          leaf.minWidth,
          Math.ceil(textWidth(child.key, font.stateSize) + 2 * leaf.padX),
          (arrows + 1) * leaf.arrowSpacing,
        );
        node.height = leaf.height;
      }
      nodes.set(id, node);
      children.push(node);
    }
    return children;
  };

  const graph: ElkNode = { id: `machine-${idPart(machine.id)}`, layoutOptions: rootOptions, edges };
  graph.children = childrenOf(machine.root, graph.id);

  const transitions = new Map<string, DiagramTransition>();
  drawn.forEach((t, i) => {
    const id = transitionElementId(machine.id, i);
    transitions.set(id, t);
    const lines = labelLines(t);
    const label: ElkLabel = {
      id: `${id}-label`,
      // On the arrow itself (its background hides the line) rather than beside it: with many
      // parallel arrows a label beside one is easily read as belonging to the next.
      layoutOptions: { 'elk.edgeLabels.inline': 'true' },
      text: t.label,
      width: Math.ceil(Math.max(...lines.map((line) => textWidth(line, font.edgeSize))) + 2 * edgeLabel.padX),
      height: lines.length * edgeLabel.lineHeight + 2 * edgeLabel.padY,
    };
    edges.push({ id, sources: [idOf(t.source)], targets: [idOf(t.target)], labels: [label] });
  });
  return { graph, nodes, states, minWidth, transitions };
}

/** `edge-<machineId>-<n>`: the n-th drawn transition, in document order. */
export function transitionElementId(machineId: string, index: number): string {
  return `edge-${idPart(machineId)}-${index}`;
}

function initialId(parentId: string): string {
  return `initial-${parentId.replace(/^(state|machine)-/, '')}`;
}

/** The label as drawn: the trigger, and the guard on a second line. */
function labelLines(t: DiagramTransition): string[] {
  return t.guard === null ? [t.trigger] : [t.trigger, `[${t.guard}]`];
}

let instance: ELK | undefined;
function elk(): ELK {
  instance ??= new ElkConstructor();
  return instance;
}

function* walkLayout(node: ElkNode): Generator<ElkNode> {
  for (const child of node.children ?? []) {
    yield child;
    yield* walkLayout(child);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing the SVG

function writeSvg(machine: AnyStateMachine, model: Model, layout: ElkNode): string {
  const width = Math.ceil(layout.width ?? 0);
  const height = Math.ceil(layout.height ?? 0);
  const mid = idPart(machine.id);
  const arrow = `arrow-${mid}`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="statechart" data-machine="${xml(machine.id)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="title-${mid}">`,
    `<title id="title-${mid}">${xml(`Statechart of the ${machine.id} machine`)}</title>`,
    `<style>${css.replace(/\n\s*/g, '\n')}</style>`,
    '<defs>',
    `<marker id="${arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" markerUnits="strokeWidth" orient="auto-start-reverse">`,
    '<path class="arrowhead" d="M0,0 L10,5 L0,10 z"/>',
    '</marker>',
    '</defs>',
    `<rect class="background" x="0" y="0" width="${width}" height="${height}"/>`,
    '<g class="states">',
  ];

  const writeNode = (laid: ElkNode, indent: string): void => {
    const x = laid.x ?? 0;
    const y = laid.y ?? 0;
    const w = laid.width ?? 0;
    const h = laid.height ?? 0;
    const state = model.states.get(laid.id);
    if (state === undefined) {
      // An initial dot.
      out.push(`${indent}<circle class="initial" cx="${fmt(x + w / 2)}" cy="${fmt(y + h / 2)}" r="${initialDot.radius}"/>`);
      return;
    }
    const path = stateDataPath(state);
    const compound = (laid.children ?? []).length > 0;
    const kind = compound
      ? `compound${state.type === 'parallel' ? ' parallel' : ''}`
      : `leaf${state.type === 'final' ? ' final' : ''}`;
    out.push(`${indent}<g class="state ${kind}" id="${xml(laid.id)}" data-state="${xml(path)}">`);
    const inner = `${indent}  `;
    if (state.description !== undefined) out.push(`${inner}<title>${xml(`${path}: ${state.description}`)}</title>`);
    const radius = compound ? 12 : 9;
    out.push(`${inner}<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(w)}" height="${fmt(h)}" rx="${radius}"/>`);
    if (state.type === 'final') {
      out.push(
        `${inner}<rect class="inner" x="${fmt(x + 4)}" y="${fmt(y + 4)}" width="${fmt(w - 8)}" height="${fmt(h - 8)}" rx="${radius - 3}"/>`,
      );
    }
    if (compound) {
      out.push(`${inner}<text class="label" x="${fmt(x + pad.left - 4)}" y="${fmt(y + 22)}">${xml(state.key)}</text>`);
      for (const child of laid.children ?? []) writeNode(child, inner);
    } else {
      out.push(`${inner}<text class="label" x="${fmt(x + w / 2)}" y="${fmt(y + leaf.labelY + 0.35 * font.stateSize)}">${xml(state.key)}</text>`);
      out.push(
        `${inner}<text class="count" data-count-for="${xml(path)}" x="${fmt(x + w - leaf.countInset)}" y="${fmt(y + leaf.countBaseline)}"></text>`,
      );
    }
    out.push(`${indent}</g>`);
  };
  for (const child of layout.children ?? []) writeNode(child, '');
  out.push('</g>', '<g class="edges">');

  for (const edge of layout.edges ?? []) {
    const d = (edge.sections ?? []).map((s) => roundedPath([s.startPoint, ...(s.bendPoints ?? []), s.endPoint])).join(' ');
    const t = model.transitions.get(edge.id);
    if (t === undefined) {
      out.push(`<g class="edge initial"><path d="${d}" marker-end="url(#${arrow})"/></g>`);
      continue;
    }
    out.push(
      `<g class="edge transition" id="${xml(edge.id)}" data-source="${xml(stateDataPath(t.source))}" data-target="${xml(stateDataPath(t.target))}" data-event="${xml(t.eventType)}">`,
      `  <path d="${d}" marker-end="url(#${arrow})"/>`,
    );
    for (const label of edge.labels ?? []) {
      const lx = label.x ?? 0;
      const ly = label.y ?? 0;
      const lw = label.width ?? 0;
      const lh = label.height ?? 0;
      out.push(`  <rect class="edge-label-bg" x="${fmt(lx)}" y="${fmt(ly)}" width="${fmt(lw)}" height="${fmt(lh)}" rx="3"/>`);
      const cx = fmt(lx + lw / 2);
      // Baselines: one line height per line, the text's descent below the baseline left as margin.
      const tspans = labelLines(t).map((line, i) => {
        const cls = i === 0 ? '' : ' class="guard"';
        return `<tspan${cls} x="${cx}" y="${fmt(ly + edgeLabel.padY + (i + 1) * edgeLabel.lineHeight - 4)}">${xml(line)}</tspan>`;
      });
      out.push(`  <text class="edge-label">${tspans.join('')}</text>`);
    }
    out.push('</g>');
  }
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}

/** An orthogonal polyline with its corners rounded (radius up to 8, less on short segments). */
function roundedPath(points: readonly ElkPoint[]): string {
  const [first, ...rest] = points;
  if (first === undefined) return '';
  const parts = [`M${fmt(first.x)},${fmt(first.y)}`];
  for (let i = 0; i < rest.length; i++) {
    const here = rest[i];
    const prev = points[i];
    const next = rest[i + 1];
    if (here === undefined || prev === undefined) continue;
    if (next === undefined) {
      parts.push(`L${fmt(here.x)},${fmt(here.y)}`);
      continue;
    }
    const inLen = Math.hypot(here.x - prev.x, here.y - prev.y);
    const outLen = Math.hypot(next.x - here.x, next.y - here.y);
    const r = Math.min(8, inLen / 2, outLen / 2);
    if (r < 0.5) {
      parts.push(`L${fmt(here.x)},${fmt(here.y)}`);
      continue;
    }
    const before = { x: here.x - ((here.x - prev.x) / inLen) * r, y: here.y - ((here.y - prev.y) / inLen) * r };
    const after = { x: here.x + ((next.x - here.x) / outLen) * r, y: here.y + ((next.y - here.y) / outLen) * r };
    parts.push(`L${fmt(before.x)},${fmt(before.y)}`, `Q${fmt(here.x)},${fmt(here.y)} ${fmt(after.x)},${fmt(after.y)}`);
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Text

/** A number as SVG writes it: at most one decimal, never `-0`. */
function fmt(n: number): string {
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Text for XML content and attribute values; characters XML 1.0 forbids are dropped. */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function idPart(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

// Advance widths of Helvetica/Arial (per 1000 em) for ASCII 32..126. Real system fonts differ a
// little (DejaVu Sans is wider), hence the margin in textWidth; measuring would make the output
// depend on the machine that renders it.
const widths = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space../
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/** Estimated width in px of `text` at `size` px; bold text is about 7% wider. */
function textWidth(text: string, size: number, weight = 400): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    units += widths[code - 32] ?? 1000;
  }
  return (units / 1000) * size * 1.12 * (weight >= 600 ? 1.07 : 1);
}

function describeDelay(delay: unknown): string {
  if (typeof delay === 'number') return `${delay} ms`;
  if (typeof delay === 'string') return delay;
  return 'inline delay';
}

/** A guard as the diagrams name it: `isLastSlot`, `isX({"n":1})`, `and(isA, isB)`. */
export function describeGuard(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    // Higher-order guards (and/or/not) are functions carrying their `guards`, named by the
    // function (`and`, `or`, `not` in xstate 5.33) or by a `type` like 'xstate.and'.
    const fn = guard as { type?: unknown; guards?: unknown; name: string };
    const name = typeof fn.type === 'string' ? fn.type.replace(/^xstate\./, '') : fn.name;
    if (Array.isArray(fn.guards)) return `${name || 'guard'}(${fn.guards.map(describeGuard).join(', ')})`;
    return name || 'inline guard';
  }
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string') {
    const named = guard as { type: string; params?: unknown };
    return named.params === undefined ? named.type : `${named.type}(${JSON.stringify(named.params)})`;
  }
  return 'inline guard';
}
