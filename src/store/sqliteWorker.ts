// The SQLite store's worker thread: owns the database (sqliteOps.ts) and runs one call at a
// time, in the order they were posted, so a slow disk or a long checkpoint stalls this thread
// and never the server's event loop. Speaks to sqliteStore.ts in plain messages: a call is
// { id, op, args }, its answer { id, value } or { id, error: { code, message } }; `op` names a
// method of SqliteOps, or of its history as `history.<method>` (sqliteHistory.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { SqliteOps } from './sqliteOps.js';

export interface WorkerCall {
  id: number;
  op: string;
  args: unknown[];
}

export type WorkerAnswer =
  | { id: number; value: unknown }
  | { id: number; error: { code: string | null; message: string } }
  | { id: 0; ready: { id: string } }
  | { id: 0; failed: { code: string | null; message: string } };

const port = parentPort;
if (!port) throw new Error('sqliteWorker.ts runs as a worker thread (see sqliteStore.ts)');

function errorOf(err: unknown): { code: string | null; message: string } {
  const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : null;
  return { code, message: err instanceof Error ? err.message : String(err) };
}

let ops: SqliteOps | null = null;
try {
  ops = new SqliteOps((workerData as { file: string }).file);
  port.postMessage({ id: 0, ready: { id: ops.id } } satisfies WorkerAnswer);
} catch (err) {
  port.postMessage({ id: 0, failed: errorOf(err) } satisfies WorkerAnswer);
}

port.on('message', (call: WorkerCall | 'close') => {
  if (call === 'close') {
    ops?.close();
    port.close();
    return;
  }
  try {
    if (!ops) throw new Error('the database is not open');
    // Only SqliteOps' and SqliteHistory's own methods: the op name comes from sqliteStore.ts,
    // never from a client.
    const [owner, name] = call.op.startsWith('history.') ? [ops.history, call.op.slice('history.'.length)] : [ops, call.op];
    const method = (owner as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
    if (typeof method !== 'function' || name === 'constructor') throw new Error(`no store operation ${call.op}`);
    port.postMessage({ id: call.id, value: method.apply(owner, call.args) } satisfies WorkerAnswer);
  } catch (err) {
    port.postMessage({ id: call.id, error: errorOf(err) } satisfies WorkerAnswer);
  }
});
