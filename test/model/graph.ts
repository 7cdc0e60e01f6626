// Shared pieces of the model-based tests: what events a machine has (read from its definition,
// so a new transition shows up here without a test being edited) and how a path is printed.
import type { AnyStateMachine, AnyStateNode } from 'xstate';

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allNodes(child as AnyStateNode))];
}

/**
 * Every event key the machine reacts to: plain event types, and `after:<delayName>` for its
 * delayed transitions (xstate names those events `xstate.after.<delay>.<stateId>`).
 */
export function machineEventKeys(machine: AnyStateMachine): Map<string, string> {
  const keys = new Map<string, string>(); // xstate event type -> key
  for (const node of allNodes(machine.root)) {
    const delayed = new Map<string, string>();
    for (const t of node.after) delayed.set(t.eventType, `after:${String(t.delay)}`);
    for (const type of node.transitions.keys()) keys.set(type, delayed.get(type) ?? type);
  }
  return keys;
}

/** The xstate event type of the delayed transition `delay` on the node with this id. */
export function afterEvent(machine: AnyStateMachine, stateId: string, delay: string): string {
  for (const node of allNodes(machine.root)) {
    if (node.id !== stateId) continue;
    const t = node.after.find((d: { delay: unknown }) => d.delay === delay);
    if (t) return t.eventType;
  }
  throw new Error(`no delayed transition ${delay} on ${stateId}`);
}

/** `a.b.c` for a state value, so traces can be compared and printed. */
export function valuePath(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, child] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${key}.${valuePath(child)}`;
}

/** Drops consecutive repeats (a re-entered state, or a self-transition, is one visit). */
export function dedupe<T>(items: T[], same: (a: T, b: T) => boolean = (a, b) => a === b): T[] {
  return items.filter((item, i) => i === 0 || !same(items[i - 1]!, item));
}
