// What goes out to clients: each message serialised once per form whatever the number of
// recipients, queued per client and written once per event-loop turn as one write. A message's
// tags depend on what each recipient enabled: `time` for server-time, the sender's `account`
// for account-tag, and the message's own tags (msgid, client-only tags such as +typing, bot)
// for message-tags; so a message has up to eight forms, each made on first use. A labeled
// command's replies are caught and sent as one labeled response (sendLabeled). A client whose
// unread output passes sendqBytes gets `client.sendqExceeded`, and nobody else ever waits for it.

import { escapeTagValue, serializeMessage, type IrcMessage } from '../wire/message.js';
import type { Session } from './session.js';
import { hasTags, type SharedMessage } from './sharedMessage.js';

export { shared, verbatim, type SharedMessage } from './sharedMessage.js';

// Form bits: which of the optional tag groups a recipient gets.
const TIME = 1;
const ACCOUNT = 2;
const TAGS = 4;

/** The form of `m` a client with these caps gets. */
function formOf(m: SharedMessage, caps: ReadonlySet<string>): number {
  let form = caps.has('server-time') ? TIME : 0;
  if (m.account !== null && caps.has('account-tag')) form |= ACCOUNT;
  if (m.tagged && caps.has('message-tags')) form |= TAGS;
  return form;
}

function serializeForm(message: IrcMessage, form: number, time: string, account: string | null): string {
  if ((form & (TIME | ACCOUNT)) === 0 && (form & TAGS || !hasTags(message))) return serializeMessage(message);
  const tags: Record<string, string> = {};
  if (form & TIME) tags.time = time;
  if (form & ACCOUNT && account !== null) tags.account = account;
  if (form & TAGS) Object.assign(tags, message.tags);
  return serializeMessage({ ...message, tags });
}

/** The line a client with these caps gets for `sent`, and its byte length. */
function lineOf(sent: IrcMessage | SharedMessage, caps: ReadonlySet<string>): { line: string; bytes: number } {
  if (!('lines' in sent)) {
    // A message for one client (a numeric, a reply): serialised for it alone.
    const form = (caps.has('server-time') ? TIME : 0) | (caps.has('message-tags') ? TAGS : 0);
    const line = serializeForm(sent, form, form & TIME ? new Date().toISOString() : '', null);
    return { line, bytes: Buffer.byteLength(line) };
  }
  const form = formOf(sent, caps);
  const line = (sent.lines[form] ??= serializeForm(sent.message, form, sent.time, sent.account));
  return { line, bytes: (sent.bytes[form] ??= Buffer.byteLength(line)) };
}

// The session whose command (or welcome, or departure) is being applied: what it is sent now
// answers it, and goes before what others said when the flush comes (see FlushQueue).
let answered: Session | null = null;

/**
 * Runs `applying` (a job's outcome being applied for `session`) with what `session` is sent
 * marked as its answer. Nested: a kill inside one outcome runs the victim's departure.
 */
export function answering(session: Session, applying: () => void): void {
  const outer = answered;
  answered = session;
  try {
    applying();
  } finally {
    answered = outer;
  }
}

/** Queues one message for a client; written with the rest of this turn's output. */
export function send(session: Session, sent: IrcMessage | SharedMessage): void {
  if (session.muted) return;
  if (session.labeled !== null) {
    session.labeled.push(sent);
    return;
  }
  const { line, bytes } = lineOf(sent, session.client.caps);
  queue(session, line, bytes);
}

/** Queues output already serialised elsewhere: a relayed client's lines, from its user's home node. */
export function sendRaw(session: Session, data: string): void {
  if (session.muted) return;
  queue(session, data, Buffer.byteLength(data));
}

function queue(session: Session, line: string, bytes: number): void {
  session.stats.linesOut++;
  const out = (session.out ??= []);
  out.push(line);
  session.outBytes += bytes;
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
  // The first line since the last write schedules a flush; an answer (re)schedules it to go first.
  const answer = session === answered;
  if (out.length === 1 || answer) queueOf(session).schedule(session, answer);
}

/** `line` with `tag` (already `key=value`) added to its tags. */
function withTag(line: string, tag: string): string {
  return line.charCodeAt(0) === 0x40 ? `@${tag};${line.slice(1)}` : `@${tag} ${line}`;
}

let nextBatch = 0;

/** The reference of a BATCH message (`+ref` or `-ref`), or null for any other message. */
function batchRef(sent: IrcMessage | SharedMessage): string | null {
  const message = 'lines' in sent ? sent.message : sent;
  return message.command === 'BATCH' ? (message.params[0] ?? null) : null;
}

/**
 * Sends what a labeled command answered (labeled-response): nothing is an ACK, one message
 * carries the label, more are one `labeled-response` batch whose BATCH line carries it.
 */
export function sendLabeled(session: Session, label: string, replies: Array<IrcMessage | SharedMessage>): void {
  if (session.muted) return;
  const caps = session.client.caps;
  const server = session.ctx.config.serverName;
  const tag = `label=${escapeTagValue(label)}`;
  if (replies.length === 0) {
    const ack = withTag(serializeMessage({ tags: {}, source: server, command: 'ACK', params: [] }), tag);
    return queue(session, ack, Buffer.byteLength(ack));
  }
  if (replies.length === 1) {
    const line = withTag(lineOf(replies[0]!, caps).line, tag);
    return queue(session, line, Buffer.byteLength(line));
  }
  // One batch already (a multiline message's echo): the label goes on its BATCH line.
  const ref = batchRef(replies[0]!);
  if (ref !== null && ref.startsWith('+') && batchRef(replies[replies.length - 1]!) === `-${ref.slice(1)}`) {
    for (let i = 0; i < replies.length; i++) {
      const line = i === 0 ? withTag(lineOf(replies[i]!, caps).line, tag) : lineOf(replies[i]!, caps).line;
      queue(session, line, Buffer.byteLength(line));
    }
    return;
  }
  const id = (nextBatch = (nextBatch + 1) % 2 ** 48).toString(36);
  const open = withTag(serializeMessage({ tags: {}, source: server, command: 'BATCH', params: [`+${id}`, 'labeled-response'] }), tag);
  queue(session, open, Buffer.byteLength(open));
  for (const reply of replies) {
    const line = withTag(lineOf(reply, caps).line, `batch=${id}`);
    queue(session, line, Buffer.byteLength(line));
  }
  const close = serializeMessage({ tags: {}, source: server, command: 'BATCH', params: [`-${id}`] });
  queue(session, close, Buffer.byteLength(close));
}


// Output is written once per event-loop turn for every client that has some: one write (one
// syscall at most) per client however many lines a turn produced for it. A client written to
// less than outputCoalesceMs ago waits for the next coalescing tick instead, so a client in a
// busy channel gets one write per interval, not one per turn (the write is most of what a
// delivery costs: docs/benchmarks.md). Two rules keep a busy server responsive:
// - a client's answer to its own command (its PONG, its JOIN's NAMES, its welcome) goes
//   first in whichever flush takes it, ahead of clients that only have what others said. It
//   is held like the rest: written at once instead, answers cost a registration storm ~10 %
//   more CPU (the welcomes no longer leave together), and going first is all a member's PING
//   needed;
// - one flush writes for at most outputSliceMs, then lets the loop read again and goes on at
//   the next turn: a JOIN into a channel of 10,000 is 10,000 writes, and a member's PING read
//   meanwhile is answered within a slice or two rather than after all of them.
// The pending sets are each server's own (one per protocol, found by its command context), so
// servers in one process never share a tick.
class FlushQueue {
  /** Clients with an answer to their own command pending: written first. */
  readonly answers = new Set<Session>();
  readonly dirty = new Set<Session>();
  scheduled = false;
  readonly held = new Set<Session>();
  readonly heldAnswers = new Set<Session>();
  heldTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly coalesceMs: number,
    private readonly sliceMs: number,
  ) {}

  schedule(session: Session, answer: boolean): void {
    if (answer && this.answers.has(session)) return;
    // Now rounded down, the last write rounded up: never less than coalesceMs between writes,
    // and no longer either. The tick is due when this client may be written again, not
    // coalesceMs from now: a line arriving 3 ms after a write waits 2 ms, not 5. Clients held
    // while the tick is pending go with it (they were written at about the same time).
    const wait = this.coalesceMs > 0 ? session.lastWriteAt + this.coalesceMs - Math.floor(performance.now()) : 0;
    if (wait > 0) {
      this.held.add(session);
      if (answer) this.heldAnswers.add(session);
      this.heldTimer ??= setTimeout(() => this.flushHeld(), wait);
      return;
    }
    if (answer) {
      this.dirty.delete(session);
      this.answers.add(session);
    } else this.dirty.add(session);
    this.wake();
  }

  forget(session: Session): void {
    this.answers.delete(session);
    this.dirty.delete(session);
    this.held.delete(session);
    this.heldAnswers.delete(session);
  }

  private wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushPending();
    });
  }

  private flushHeld(): void {
    this.heldTimer = null;
    for (const session of this.held) (this.heldAnswers.has(session) ? this.answers : this.dirty).add(session);
    this.held.clear();
    this.heldAnswers.clear();
    this.flushPending();
  }

  /** Writes answers, then the rest, until the slice is used up; what is left goes next turn. */
  private flushPending(): void {
    const until = performance.now() + this.sliceMs;
    let written = 0;
    for (const pending of [this.answers, this.dirty]) {
      // Deleting the entry being visited is safe in a Set's iteration.
      for (const session of pending) {
        pending.delete(session);
        flush(session);
        // The clock is read every 64 writes: a write is a few µs, a clock read ~30 ns.
        if ((++written & 63) === 0 && performance.now() > until && this.answers.size + this.dirty.size > 0) return this.wake();
      }
    }
  }
}

const queues = new WeakMap<object, FlushQueue>();

function queueOf(session: Session): FlushQueue {
  let queue = queues.get(session.ctx);
  if (!queue) {
    const { outputCoalesceMs, outputSliceMs } = session.ctx.config;
    queues.set(session.ctx, (queue = new FlushQueue(outputCoalesceMs, outputSliceMs)));
  }
  return queue;
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
  queues.get(session.ctx)?.forget(session);
}
