// What the page does with the server's memory (IRCv3 draft/chathistory and draft/read-marker):
// a channel joined shows its recent history, scrolling to the top of a log asks for older
// lines, a reconnect fills the gap since the newest line each window has, the private
// conversations of a logged-in user are listed (TARGETS), and the read position is one per
// account: the page says how far the user has read (MARKREAD) and hears how far another tab or
// device has, which clears the unread count and places the "new messages" line. A REDACT in
// a history batch deletes its message once the batch's lines are shown (redaction.ts).
// Pure: no DOM.

import type { ChatClient, ChatWindow, MessageTags } from './chat.js';
import type { WindowHistory } from './windowHistory.js';
import type { ServerMessage } from './irc.js';
import { redactIn } from './redaction.js';

/** Lines asked for when a channel is joined, and per scroll to the top. */
export const pageLines = 50;
/** Lines asked for to fill a reconnect's gap (the server cuts it to its CHATHISTORY maximum). */
const gapLines = 1000;
/** How far back TARGETS looks for private conversations. */
const targetsDays = 30;
/** A read position is sent at most this often per window. */
const markEveryMs = 1_000;

export const historyCaps = ['draft/chathistory', 'draft/read-marker'];

const has = (chat: ChatClient, cap: string): boolean => chat.caps.has(cap);
const reference = (p: { at: number; msgid?: string }): string => (p.msgid !== undefined ? `msgid=${p.msgid}` : `timestamp=${new Date(p.at).toISOString()}`);

/**
 * We are in `w` (joined, or a conversation found): its history, or after a reconnect what was
 * said since its newest line.
 */
export function fetchHistory(chat: ChatClient, w: ChatWindow): void {
  if (!has(chat, 'draft/chathistory') || w.type === 'server') return;
  const newest = w.history.newest;
  if (newest === null) chat.send('CHATHISTORY', ['LATEST', w.name, '*', String(pageLines)]);
  else chat.send('CHATHISTORY', ['AFTER', w.name, reference(newest), String(gapLines)]);
}

/** The log of `w` was scrolled to its top: older lines, unless there are none or some are coming. */
export function fetchOlder(chat: ChatClient, w: ChatWindow): void {
  const h = w.history;
  if (!has(chat, 'draft/chathistory') || !chat.registered || h.loading || h.exhausted || h.oldest === null || w.type === 'server') return;
  h.loading = true;
  chat.send('CHATHISTORY', ['BEFORE', w.name, reference(h.oldest), String(pageLines)]);
}

/** Registered: a logged-in user's private conversations, and the gaps of those open already. */
export function welcomedHistory(chat: ChatClient): void {
  if (!has(chat, 'draft/chathistory')) return;
  for (const w of chat.windows.values()) if (w.type === 'query' && w.history.newest !== null) fetchHistory(chat, w);
  if (chat.account === null) return;
  const now = chat.clock();
  // Counted from the first: the most recently active, should there be more than asked.
  chat.send('CHATHISTORY', ['TARGETS', `timestamp=${new Date(now + 60_000).toISOString()}`, `timestamp=${new Date(now - targetsDays * 86_400_000).toISOString()}`, '50']);
}

/** The batches of history on their way, by reference: which window, or TARGETS. */
type Batch = { kind: 'history'; w: ChatWindow | null; lines: ServerMessage[]; older: boolean } | { kind: 'targets' };
const batches = new WeakMap<ChatClient, Map<string, Batch>>();

function batchesOf(chat: ChatClient): Map<string, Batch> {
  let map = batches.get(chat);
  if (!map) batches.set(chat, (map = new Map()));
  return map;
}

/**
 * A line of a history batch, or a BATCH that opens or closes one: handled here (true), or not
 * history (false). A batch's messages are shown when it closes, in their window; a batch for
 * older lines that brings none means there are none.
 */
export function handleHistory(
  chat: ChatClient,
  msg: ServerMessage,
  text: (chat: ChatClient, w: ChatWindow, msg: ServerMessage, tags: MessageTags, place: 'top' | 'time') => void,
): boolean {
  const open = batchesOf(chat);
  if (msg.command === 'BATCH') {
    const ref = msg.params[0] ?? '';
    const type = msg.params[1] ?? '';
    if (ref.startsWith('+') && (type === 'chathistory' || type === 'draft/chathistory-targets')) {
      if (type === 'draft/chathistory-targets') open.set(ref.slice(1), { kind: 'targets' });
      else {
        const w = chat.findWindow(msg.params[2] ?? '');
        open.set(ref.slice(1), { kind: 'history', w, lines: [], older: w !== null && w.history.loading });
      }
      return true;
    }
    if (ref.startsWith('-') && open.has(ref.slice(1))) {
      const batch = open.get(ref.slice(1))!;
      open.delete(ref.slice(1));
      if (batch.kind === 'history' && batch.w !== null) {
        const w = batch.w;
        // A page of older lines goes on top: newest first, so that each lands above the last.
        // The rest find their place by time.
        const said = batch.lines.filter((line) => line.command !== 'REDACT');
        const lines = batch.older ? said.reverse() : said;
        for (const line of lines) text(chat, w, line, line.tags, batch.older ? 'top' : 'time');
        // Deleted after they are all shown: a REDACT may name a message of its own batch.
        for (const line of batch.lines) if (line.command === 'REDACT') redactIn(chat, w, line.params[1] ?? '', line.params[2] ?? '');
        if (batch.older) {
          w.history.loading = false;
          if (said.length === 0) w.history.exhausted = true;
        }
        // The "new messages" line, now that there are lines to put it among.
        if (w.history.dividerAt !== null) chat.view.readMarker(w, w.history.dividerAt);
      }
      return true;
    }
    return false;
  }
  const batch = open.get(msg.tags.batch ?? '');
  if (!batch) return false;
  if (batch.kind === 'targets') {
    if (msg.command === 'CHATHISTORY' && msg.params[0] === 'TARGETS') conversationFound(chat, msg.params[1] ?? '');
    return true;
  }
  if (batch.w !== null && (msg.command === 'PRIVMSG' || msg.command === 'NOTICE' || msg.command === 'REDACT')) batch.lines.push(msg);
  return true;
}

/** TARGETS named a conversation: its window opens (not shown) with its history. */
function conversationFound(chat: ChatClient, name: string): void {
  if (name === '' || chat.isChannel(name) || chat.isMe(name)) return;
  const known = chat.findWindow(name);
  const w = known ?? chat.openWindow(name, 'query');
  if (!known) fetchHistory(chat, w);
}

/**
 * The server's MARKREAD: how far the account has read `target`, here or in another tab. Lines
 * up to it are read: a window not shown loses its unread count, and the page places its "new
 * messages" line after it (not in the window being read, whose line stays where it was).
 */
export function markedRead(chat: ChatClient, target: string, stamp: string): void {
  const w = chat.findWindow(target);
  if (!w || !stamp.startsWith('timestamp=')) return;
  const at = Date.parse(stamp.slice('timestamp='.length));
  if (Number.isNaN(at)) return;
  w.history.readUpTo = Math.max(w.history.readUpTo ?? 0, at);
  w.history.sentUpTo = Math.max(w.history.sentUpTo, at);
  if (w !== chat.current && w.history.newest !== null && w.history.newest.at <= at && w.unread > 0) {
    w.unread = 0;
    chat.view.unreadChanged(w);
  }
  if (w === chat.current && w.history.newest !== null) return;
  w.history.dividerAt = w.history.readUpTo;
  chat.view.readMarker(w, w.history.dividerAt);
}

/**
 * The user has seen `w` up to its newest line (it is shown): the server hears so, at most once
 * a second per window, and only forward; `force` for the moment it is shown.
 */
export function markRead(chat: ChatClient, w: ChatWindow, force = false): void {
  const h = w.history;
  if (!has(chat, 'draft/read-marker') || !chat.registered || !chat.visible || chat.account === null || w.type === 'server' || h.newest === null) return;
  if (h.newest.at <= h.sentUpTo) return;
  const now = chat.clock();
  if (!force && now - h.sentAt < markEveryMs) return;
  h.sentAt = now;
  h.sentUpTo = h.newest.at;
  chat.send('MARKREAD', [w.name, `timestamp=${new Date(h.newest.at).toISOString()}`]);
}

/** Each second (main.ts): what came into the window shown within the last second is read too. */
export function readTick(chat: ChatClient): void {
  if (chat.current) markRead(chat, chat.current);
}
