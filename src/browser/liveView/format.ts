// What the live view shows, computed from what the process pushes: the shape of that data (a
// copy of MonitorView's, which lives with the server's code; test/unit/liveViewFormat.test.ts
// checks that the two still agree), durations, which diagram states are lit and their counts.
// Pure: main.ts puts the results in the page.

export interface ConnectionRow {
  id: number;
  remote: string;
  state: string;
  openedAt: number;
  lastEvent: string;
  lastEventAt: number;
  closedAt: number | null;
  closeReason: string | null;
  reply: string | null;
}

export interface Transition {
  at: number;
  event: string;
  state: string;
}

/** One push of the `/events` stream (src/ops/inspect/monitor.ts MonitorView). */
export interface LiveView {
  now: number;
  server: { state: string; address: string | null };
  counters: { live: number; accepted: number; closed: number; turnedAway: number; errors: number };
  /** Live connections per state path (`open.awaitingReply.empty`). */
  statesCount: Record<string, number>;
  live: ConnectionRow[];
  recent: ConnectionRow[];
  chat: { users: number; channels: number; messagesPerSecond: number } | null;
  sessionMachine: string;
}

/** `/api/connections/<id>`. */
export interface ConnectionDetail {
  row: ConnectionRow;
  history: Transition[];
}

/** A duration for a table cell: `850 ms`, `12.3 s`, `4 min 7 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** True when the state path `path` is in the diagram's state `state` (itself or a child). */
export function isIn(path: string, state: string): boolean {
  return path === state || path.startsWith(state + '.');
}

/** Live connections in `state` or any state inside it. */
export function countIn(counts: Record<string, number>, state: string): number {
  let n = 0;
  for (const [path, count] of Object.entries(counts)) if (isIn(path, state)) n += count;
  return n;
}

/** The note beside "Live connections" when not all of them are listed. */
export function moreNote(view: LiveView): string {
  const more = view.counters.live - view.live.length;
  return more > 0 ? `(newest ${view.live.length} shown, ${more} more)` : '';
}

export function sessionTitle(view: LiveView): string {
  return view.sessionMachine === 'ircSession' ? 'IRC session machine' : 'Connection machine';
}

/** The time of a transition in the detail table: `HH:MM:SS.mmm` (UTC). */
export function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}
