// The messages between the benchmark and a load-generator process (bench/greeting/loadgenProcess.ts).
// Each request carries an id; the reply repeats it with the result or an error message.

import type { ClosedLoopOptions, IdleOptions } from './loadgen.js';

export type LoadRequest =
  | { type: 'closedLoop'; id: number; options: ClosedLoopOptions }
  | { type: 'openIdle'; id: number; options: IdleOptions }
  /** Wait until the server has closed every idle client (bounded), then report how. */
  | { type: 'awaitClose'; id: number; timeoutMs: number }
  /** Destroy every idle client. */
  | { type: 'release'; id: number; timeoutMs: number };

export type LoadReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; message: string };

export function isLoadRequest(value: unknown): value is LoadRequest {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'number';
}

export function isLoadReply(value: unknown): value is LoadReply {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
