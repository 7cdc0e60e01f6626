// What comes in from a client: bytes are framed (bounded: a line past 512 bytes is answered
// with 417 and dropped, one past readqBytes closes the client: `client.readqExceeded`), parsed
// and queued; the queue is bounded (recvqBytes: `client.flood`).
// One command at a time per client, in order: the next line is handed to the machine
// (`irc.message`) only when the previous command has finished, even when the network state
// answered asynchronously, and only when flood control (a token bucket) allows: excess
// commands are delayed (fakelag), not dropped.

import { numeric, standardReply } from '../commands/common.js';
import { ERR_INPUTTOOLONG } from '../wire/numerics.js';
import { parseMessage } from '../wire/message.js';
import { send } from './outbox.js';
import type { Session } from './session.js';

/** Frames what arrived and queues the lines; a queue past recvqBytes is a flood. */
export function receive(session: Session, bytes: Buffer): void {
  session.stats.bytesIn += bytes.length;
  for (const item of session.framer.push(bytes)) {
    if (item.kind === 'tooLong') {
      send(session, numeric(session.ctx, session.client, ERR_INPUTTOOLONG, 'Input line was too long'));
      continue;
    }
    if (item.kind === 'endless') {
      // Stop reading: the line it is sending has no end worth waiting for.
      session.socket.pause();
      session.actor?.send({ type: 'client.readqExceeded' });
      return;
    }
    const bytes = Buffer.byteLength(item.text);
    (session.inbox ??= []).push(item.invalidUtf8 ? { text: item.text, bytes, invalidUtf8: true } : { text: item.text, bytes });
    session.inboxBytes += bytes;
  }
  if (session.inboxBytes > session.ctx.config.recvqBytes) {
    // Stop reading: what it sends next can only be more of the same.
    session.socket.pause();
    session.inbox = null;
    session.inboxHead = 0;
    session.inboxBytes = 0;
    session.actor?.send({ type: 'client.flood' });
    return;
  }
  pump(session);
}

/** What a taken inbox slot holds until the inbox is emptied (the line itself can be freed). */
const noLine = { text: '', bytes: 0 };

/** Hands queued lines to the machine, one command at a time, as flood control allows. */
export function pump(session: Session): void {
  while (session.inFlight === null && session.delay === null && session.inbox !== null) {
    const actor = session.actor;
    if (!actor || !actor.getSnapshot().matches('open')) return;
    const line = session.inbox[session.inboxHead]!;
    const wait = isMultilineLine(session, line.text) ? 0 : session.bucket.take();
    if (wait > 0) {
      session.delay = setTimeout(() => {
        session.delay = null;
        pump(session);
      }, wait);
      return;
    }
    session.inbox[session.inboxHead++] = noLine;
    session.inboxBytes -= line.bytes;
    if (session.inboxHead === session.inbox.length) {
      session.inbox = null;
      session.inboxHead = 0;
    }
    const message = parseMessage(line.text);
    if (message && line.invalidUtf8) {
      // UTF8ONLY: what others get is valid UTF-8 (U+FFFD in place of the bad bytes); the sender
      // is told, as the spec's WARN, before its command runs.
      send(session, standardReply(session.ctx, 'WARN', message.command, 'INVALID_UTF8', 'Your message contained invalid UTF-8; those bytes were replaced with U+FFFD'));
    }
    if (message) actor.send({ type: 'irc.message', message });
  }
}

/**
 * Whether the line is the next line of the client's open multiline batch: one message sent as
 * several lines costs flood control one command (its BATCH), as the lines of one message, up
 * to multilineMaxLines. A batch that broke a rule is no longer exempt.
 */
function isMultilineLine(session: Session, text: string): boolean {
  const open = session.client.batch;
  if (open === null || open.failed || open.lines.length >= session.ctx.config.multilineMaxLines || text.charCodeAt(0) !== 0x40) return false;
  return parseMessage(text)?.tags.batch === open.ref;
}

/** Stops fakelag's pending timer: the session is closing. */
export function stopInbox(session: Session): void {
  if (session.delay) clearTimeout(session.delay);
  session.delay = null;
}
