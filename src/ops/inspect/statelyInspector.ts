// Streams XState inspection events to a WebSocket endpoint with @statelyai/inspect, the XState
// v5 successor of @xstate/inspect (which only works with XState v4), so Stately's own inspector
// can show our actors. What is sent is sanitised: byte buffers become their length, and in IRC
// mode a command's parameters (message bodies, targets) and a QUIT's text become counts, so
// neither raw client bytes nor chat messages leave the process (nothing unserialisable either:
// there are no sockets in any context by design). The greeting server's decoded reply (`reply`
// in the connection machine's context) IS sent: it is the one thing that server is about.

import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';

type Plain = Record<string, unknown>;

/** Fields of IRC events and context that carry what users wrote. */
const chatText = new Set(['quitMessage', 'reason']);

function withoutBytes(record: Plain): Plain {
  let out: Plain | null = null;
  for (const [key, value] of Object.entries(record)) {
    if (value instanceof Uint8Array) {
      out ??= { ...record };
      out[key] = { bytes: value.length };
    } else if (key === 'message' && value !== null && typeof value === 'object' && 'command' in value) {
      // An IRC message: its command only (PRIVMSG, JOIN, ...), never its parameters.
      const m = value as { command: unknown; params?: unknown[] };
      out ??= { ...record };
      out[key] = { command: m.command, params: Array.isArray(m.params) ? m.params.length : 0 };
    } else if (chatText.has(key) && typeof value === 'string') {
      out ??= { ...record };
      out[key] = { chars: value.length };
    }
  }
  return out ?? record;
}

export interface StatelyInspector {
  /** The XState inspection observer to attach to actors. */
  inspect(event: InspectionEvent): void;
  stop(): void;
}

export function startStatelyInspector(url: string): StatelyInspector {
  const inspector = createWebSocketInspector({
    url,
    sanitizeContext: (context) => withoutBytes(context as Plain),
    sanitizeEvent: (event) => withoutBytes(event as Plain) as typeof event,
  });
  return {
    inspect: (event) => {
      // @statelyai/inspect JSON-encodes a snapshot before its sanitizeContext runs (by then a
      // Uint8Array is an object of indexed bytes), so snapshots are cleaned here first.
      if (event.type === '@xstate.snapshot') {
        const snapshot = event.snapshot as unknown as Plain & { context?: Plain };
        const clean = snapshot.context ? { ...snapshot, context: withoutBytes(snapshot.context) } : snapshot;
        event = { ...event, snapshot: clean as unknown as typeof event.snapshot, event: withoutBytes(event.event) as typeof event.event };
      }
      inspector.inspect.next?.(event);
    },
    stop: () => inspector.stop(),
  };
}
