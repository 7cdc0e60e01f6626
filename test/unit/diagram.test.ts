// renderMachineSvg on a tiny machine written here: nested states, a final state, a timer, a
// guard, a re-entering self-transition, an action-only transition and one on the root (neither
// drawn), and names that need XML escaping. The real machines' SVGs are checked in
// test/statechart.test.ts.
import { describe, expect, it } from 'vitest';
import { and, not, setup } from 'xstate';
import {
  describeGuard,
  diagramTransitions,
  renderMachineSvg,
  stateElementId,
  transitionElementId,
  xml,
} from '../../src/ops/inspect/diagram.js';

function tinyMachine() {
  return setup({
    guards: { isReady: () => true },
    delays: { patience: 500 },
  }).createMachine({
    id: 'tiny',
    initial: 'outer',
    on: { reset: '.outer' },
    states: {
      outer: {
        description: 'Holds <a> & "b"',
        initial: 'waiting',
        on: {
          stop: 'done',
          'ping&<pong>': 'done',
          note: { actions: () => {} },
        },
        states: {
          waiting: {
            on: {
              go: { guard: 'isReady', target: 'working' },
              poke: { target: 'waiting', reenter: true },
            },
          },
          working: { after: { patience: '#tiny.done' } },
        },
      },
      done: { type: 'final' },
    },
  });
}

/** Opening tag of the element with this id (attributes in the order the renderer writes them). */
function tagWithId(svg: string, id: string): string {
  const found = new RegExp(`<[a-z]+ [^>]*id="${id}"[^>]*>`).exec(svg);
  expect(found, `an element with id ${id}`).not.toBeNull();
  return found?.[0] ?? '';
}

/** Every tag closed in order: a stack over the tags, comments skipped. */
function expectBalanced(svg: string): void {
  const stack: string[] = [];
  for (const [tag, closing, name = ''] of svg.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([a-zA-Z]+)[^>]*>/g)) {
    if (tag.endsWith('/>')) continue;
    if (closing === '/') expect(stack.pop(), `</${name}>`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg.replace(/<[^>]*>/g, ''), 'no stray < or unescaped &').not.toMatch(/<|&(?!(?:amp|lt|gt|quot|apos);)/);
}

describe('renderMachineSvg', () => {
  it('names each state state-<machine>-<path joined with _>', () => {
    expect(stateElementId('tiny', ['outer', 'waiting'])).toBe('state-tiny-outer_waiting');
    expect(stateElementId('connection', ['open', 'awaitingReply', 'empty'])).toBe(
      'state-connection-open_awaitingReply_empty',
    );
    // Anything that is not a letter, digit, _ or - becomes _, so ids stay valid in CSS selectors.
    expect(stateElementId('my machine', ['a.b', 'c'])).toBe('state-my_machine-a_b_c');
    expect(transitionElementId('tiny', 3)).toBe('edge-tiny-3');
  });

  it('draws every state as a g.state with its id and dotted data-state, children inside parents', async () => {
    const svg = await renderMachineSvg(tinyMachine());
    expectBalanced(svg);
    const states = [...svg.matchAll(/<g class="state ([^"]*)" id="([^"]*)" data-state="([^"]*)">/g)].map(
      ([, kind, id, state]) => [kind, id, state],
    );
    expect(states).toEqual([
      ['compound', 'state-tiny-outer', 'outer'],
      ['leaf', 'state-tiny-outer_waiting', 'outer.waiting'],
      ['leaf', 'state-tiny-outer_working', 'outer.working'],
      ['leaf final', 'state-tiny-done', 'done'],
    ]);
    // outer's group is still open when its children start: they are nested in it.
    const outer = svg.indexOf('id="state-tiny-outer"');
    const waiting = svg.indexOf('id="state-tiny-outer_waiting"');
    expect(svg.slice(outer, waiting)).not.toContain('</g>');
    // A final state has a double border.
    const done = svg.slice(svg.indexOf('id="state-tiny-done"'));
    expect(done.slice(0, done.indexOf('</g>')).match(/<rect /g)).toHaveLength(2);
  });

  it('labels each state with its key and puts an empty count placeholder in each leaf', async () => {
    const svg = await renderMachineSvg(tinyMachine());
    for (const key of ['outer', 'waiting', 'working', 'done']) expect(svg).toContain(`>${key}</text>`);
    expect([...svg.matchAll(/<text class="count" data-count-for="([^"]*)"[^>]*><\/text>/g)].map((m) => m[1])).toEqual([
      'outer.waiting',
      'outer.working',
      'done',
    ]);
  });

  it('draws every transition with a target, labelled event [guard] or after delay, and no others', async () => {
    const machine = tinyMachine();
    expect(diagramTransitions(machine).map((t) => t.label)).toEqual([
      'stop',
      'ping&<pong>',
      'go [isReady]',
      'poke',
      'after patience',
    ]);
    const svg = await renderMachineSvg(machine);
    const labels = [...svg.matchAll(/<text class="edge-label">(.*?)<\/text>/g)].map((m) =>
      (m[1] ?? '').replace(/<\/tspan><tspan[^>]*>/g, ' ').replace(/<[^>]*>/g, ''),
    );
    expect(labels).toEqual(['stop', 'ping&amp;&lt;pong&gt;', 'go [isReady]', 'poke', 'after patience']);
    // The guard is on its own line.
    expect(svg).toMatch(/<tspan [^>]*>go<\/tspan><tspan class="guard" [^>]*>\[isReady\]<\/tspan>/);
    // The root's `reset` and the action-only `note` are not drawn.
    expect(svg).not.toMatch(/reset|data-event="note"/);
    expect(tagWithId(svg, 'edge-tiny-4')).toContain('data-event="xstate.after.patience.tiny.outer.working"');
    // The re-entering self-transition is drawn as a loop on its state.
    expect(tagWithId(svg, 'edge-tiny-3')).toContain('data-source="outer.waiting" data-target="outer.waiting"');
    // Every arrow has a path and an arrowhead; the two compound states (root and outer) have an initial arrow.
    expect(svg.match(/<path d="M[^"]+" marker-end="url\(#arrow-tiny\)"\/>/g)).toHaveLength(5 + 2);
    expect(svg.match(/<circle class="initial" /g)).toHaveLength(2);
  });

  it('names guards: by name, with params, and higher-order ones with their parts', () => {
    expect(describeGuard('isReady')).toBe('isReady');
    expect(describeGuard({ type: 'isAbove', params: { n: 1 } })).toBe('isAbove({"n":1})');
    expect(describeGuard(and(['isA', not('isB')]))).toBe('and(isA, not(isB))');
  });

  it('escapes names and descriptions for XML', async () => {
    const svg = await renderMachineSvg(tinyMachine());
    expect(svg).toContain('<title>outer: Holds &lt;a&gt; &amp; &quot;b&quot;</title>');
    expect(svg).toContain('data-event="ping&amp;&lt;pong&gt;"');
    expect(xml(`<a href="x">&'\u0000`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  it('is self-contained: inline style with the live classes, a system sans-serif font, no external references', async () => {
    const svg = await renderMachineSvg(tinyMachine());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" ')).toBe(true);
    expect(svg).toMatch(/<style>[\s\S]*\.state\.active > rect \{[\s\S]*<\/style>/);
    expect(svg).toMatch(/<style>[\s\S]*\.state\.hot > rect \{[\s\S]*<\/style>/);
    expect(svg).toMatch(/font-family: system-ui,[^;]*sans-serif;/);
    expect(svg).not.toMatch(/href|@import|url\((?!#arrow-tiny\))/);
  });

  it('is deterministic: the same machine gives the same bytes', async () => {
    const first = await renderMachineSvg(tinyMachine());
    const again = await Promise.all([renderMachineSvg(tinyMachine()), renderMachineSvg(tinyMachine())]);
    expect(again).toEqual([first, first]);
  });

  it('widens a compound state to fit its name', async () => {
    const name = 'aCompoundStateWithAMuchLongerNameThanItsOnlyChild';
    const machine = setup({}).createMachine({
      id: 'wide',
      initial: name,
      states: { [name]: { initial: 'x', states: { x: {} } } },
    });
    const svg = await renderMachineSvg(machine);
    const group = svg.slice(svg.indexOf(`id="state-wide-${name}"`));
    const width = Number(/<rect [^>]*width="([\d.]+)"/.exec(group)?.[1]);
    // About 7 px per character at 13 px bold; the child alone is under 140 px wide.
    expect(width).toBeGreaterThan(name.length * 7);
  });
});
