// The messages between the benchmark (parent) and the server process under test (child), over
// the IPC channel that child_process.fork opens. Requests carry an id; the answer repeats it.

export type ServerKind = 'ours' | 'baseline';

/** The servers' reply deadline: long enough that no idle client is timed out while it is held. */
export const benchReplyTimeoutMs = 10 * 60_000;

/** Our server's connection cap in the benchmark: above every client count it is given, so none is turned away. */
export const benchMaxConnections = 30_000;

export type ParentMessage =
  /** Run a full GC (twice) and report process.memoryUsage(). */
  | { type: 'memory'; id: number }
  /** Report process.cpuUsage() (cumulative since the child started). */
  | { type: 'cpu'; id: number }
  /** Shut the server down and exit. */
  | { type: 'stop' };

export type ChildMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'memory'; id: number; usage: NodeJS.MemoryUsage; live: number }
  | { type: 'cpu'; id: number; usage: NodeJS.CpuUsage; live: number };

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function isParentMessage(value: unknown): value is ParentMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
