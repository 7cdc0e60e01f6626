// Deleted messages (IRCv3 draft/message-redaction): a REDACT from the server, live or inside a
// history batch, turns the line with that msgid in its window into a placeholder that keeps its
// time and sender and says it was deleted (with the reason, when one was given); a REDACT for a
// message the window never showed is ignored. The user deletes their own latest message in the
// window shown with `/delete [reason]`, or any of their lines with its delete button (view.ts);
// the server checks it is theirs, and says why not with FAIL REDACT. Pure: no DOM, no socket.

import type { ChatClient, ChatWindow } from './chat.js';
import type { ServerMessage } from './irc.js';

export const redactionCap = 'draft/message-redaction';

/** What a deleted message's line shows instead of its text. */
export function deletedText(reason: string): string {
  return reason ? `(message deleted: ${reason})` : '(message deleted)';
}

/** The message `msgid` in `w` is deleted: its line, if `w` shows it, becomes the placeholder. */
export function redactIn(chat: ChatClient, w: ChatWindow, msgid: string, reason: string): void {
  w.own.forget(msgid);
  if (msgid === '' || !w.seen.has(msgid)) return;
  chat.view.redacted(w, msgid, deletedText(reason));
}

/**
 * REDACT <target> <msgid> [:reason], live: in the channel's window, or in a private window (the
 * other side's; for our own REDACT, echoed to us, the target's).
 */
export function handleRedact(chat: ChatClient, msg: ServerMessage): void {
  const [target = '', msgid = '', reason = ''] = msg.params;
  const w = chat.isChannel(target) || chat.isMe(msg.nick) ? chat.findWindow(target) : chat.findWindow(msg.nick);
  if (w) redactIn(chat, w, msgid, reason);
}

/** FAIL REDACT <code> <target> [msgid] :description: said in the target's window (or the one shown). */
export function redactFailed(chat: ChatClient, msg: ServerMessage): void {
  const p = msg.params;
  const w = chat.findWindow(p[2] ?? '') ?? chat.here();
  chat.info(w, `The message was not deleted: ${p[p.length - 1] || p[1] || 'refused'}`, 'error');
}

/**
 * The user deletes a message of theirs in `w`: `msgid`, or their latest there. False, with the
 * reason shown, when there is none or the server cannot delete messages.
 */
export function deleteOwn(chat: ChatClient, w: ChatWindow, reason: string, msgid: string | null = null): boolean {
  if (!chat.caps.has(redactionCap)) {
    chat.info(w, 'This server does not let messages be deleted.', 'error');
    return false;
  }
  if (!chat.registered) {
    chat.info(w, 'Not connected: nothing was deleted.', 'error');
    return false;
  }
  const id = msgid ?? w.own.latest();
  if (w.type === 'server' || id === null) {
    chat.info(w, 'You have no message here to delete.', 'error');
    return false;
  }
  // Not again: a second /delete goes to the one before.
  w.own.forget(id);
  chat.send('REDACT', reason ? [w.name, id, reason] : [w.name, id]);
  return true;
}
