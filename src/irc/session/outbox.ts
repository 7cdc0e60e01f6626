// What goes out to clients: each message serialised once per form whatever the number of
// recipients (with and without a server-time tag, with and without the sender's account tag
// for account-tag), queued per client and written once per
// event-loop turn as one write. A client whose unread output passes sendqBytes gets
// `client.sendqExceeded`, and nobody else ever waits for it.

import { serializeMessage, type IrcMessage } from '../wire/message.js';
import type { Session } from './session.js';

/** A message going to many clients, serialised at most once per form, on first use. */
export interface SharedMessage {
  message: IrcMessage;
  plain: string | null;
  timed: string | null;
  plainBytes: number | null;
  timedBytes: number | null;
  time: string;
  /**
   * The sender's account (account-tag), or null: recipients that enabled account-tag get it
   * as an `account` tag, in forms of their own (made only when such a recipient exists).
   */
  account: string | null;
  tagged: SharedMessage | null;
}

export function shared(message: IrcMessage, time: string, account: string | null = null): SharedMessage {
  return { message, plain: null, timed: null, plainBytes: null, timedBytes: null, time, account, tagged: null };
}

/** The form a client gets: with the account tag if it has account-tag and there is one. */
function formFor(m: SharedMessage, caps: ReadonlySet<string>): SharedMessage {
  if (m.account === null || !caps.has('account-tag')) return m;
  return (m.tagged ??= shared({ ...m.message, tags: { ...m.message.tags, account: m.account } }, m.time));
}

/** Queues one message for a client; written with the rest of this turn's output. */
export function send(session: Session, sent: IrcMessage | SharedMessage): void {
  if (session.muted) return;
  session.stats.linesOut++;
  const caps = session.client.caps;
  const message = 'plain' in sent ? formFor(sent, caps) : sent;
  const timed = caps.has('server-time');
  const line = lineFor(message, timed);
  const out = (session.out ??= []);
  out.push(line);
  session.outBytes += 'plain' in message ? bytesOf(message, timed) : Buffer.byteLength(line);
  // The sendq bounds what the client has left unread, on top of the kernel's buffer: what Node
  // still holds for the socket (writableLength) once the kernel has taken what it will. This
  // turn's batch is not unread yet, so when it alone would pass the limit (a big WHO, a busy
  // turn) it is handed to the kernel now, and only what stays behind counts.
  const { sendqBytes } = session.ctx.config;
  if (session.outBytes + session.socket.writableLength > sendqBytes) {
    flush(session);
    if (session.socket.writableLength > sendqBytes) {
      session.muted = true;
      session.actor?.send({ type: 'client.sendqExceeded' });
    }
    return;
  }
  if (out.length === 1) scheduleFlush(session);
}

/** The byte length of a shared message's line, counted once per form like the line itself. */
function bytesOf(m: SharedMessage, timed: boolean): number {
  if (timed) return (m.timedBytes ??= Buffer.byteLength(lineFor(m, true)));
  return (m.plainBytes ??= Buffer.byteLength(lineFor(m, false)));
}

function lineFor(m: IrcMessage | SharedMessage, timed: boolean): string {
  if (!('plain' in m)) {
    if (!timed) return serializeMessage(m);
    return serializeMessage({ ...m, tags: { time: new Date().toISOString(), ...m.tags } });
  }
  if (timed) return (m.timed ??= serializeMessage({ ...m.message, tags: { time: m.time, ...m.message.tags } }));
  return (m.plain ??= serializeMessage(m.message));
}

// Output is written once per event-loop turn for every client that has some: one write (one
// syscall at most) per client however many lines a turn produced for it. A client written to
// less than outputCoalesceMs ago waits for the next coalescing tick instead, so a client in a
// busy channel gets one write per interval, not one per turn (the write is most of what a
// delivery costs: docs/benchmarks.md).
const dirty = new Set<Session>();
let flushScheduled = false;
const held = new Set<Session>();
let heldTimer: NodeJS.Timeout | null = null;

function scheduleFlush(session: Session): void {
  const coalesceMs = session.ctx.config.outputCoalesceMs;
  // Now rounded down, the last write rounded up: never less than coalesceMs between writes.
  if (coalesceMs > 0 && Math.floor(performance.now()) - session.lastWriteAt < coalesceMs) {
    held.add(session);
    heldTimer ??= setTimeout(flushHeld, coalesceMs);
    return;
  }
  dirty.add(session);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  flushScheduled = false;
  for (const session of dirty) flush(session);
  dirty.clear();
}

function flushHeld(): void {
  heldTimer = null;
  for (const session of held) flush(session);
  held.clear();
}

/** Writes what the session has queued, now. */
export function flush(session: Session): void {
  const out = session.out;
  if (out === null) return;
  const data = out.length === 1 ? out[0]! : out.join('');
  const bytes = session.outBytes;
  session.out = null;
  session.outBytes = 0;
  if (!session.socket.destroyed && session.socket.writable) {
    session.socket.write(data);
    session.stats.bytesOut += bytes;
    if (session.ctx.config.outputCoalesceMs > 0) session.lastWriteAt = Math.ceil(performance.now());
  }
}

/** The session is gone: drop it from the pending writes. */
export function forget(session: Session): void {
  dirty.delete(session);
  held.delete(session);
}
