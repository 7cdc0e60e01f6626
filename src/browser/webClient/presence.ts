// Who is here and who is typing, as the page shows it: members away (greyed, from away-notify's
// AWAY, WHO's G/H flags, 301 and our own 305/306) and typing notifications both ways
// (typing.ts keeps the timings). Functions of the ChatClient, as incoming.ts's are.

import type { ChatClient, ChatWindow } from './chat.js';
import { expireTypers, heardTyping as heard, typingText } from './typing.js';

/** `nick` is away with this message ('' when not known), or back (null), in every channel window that has it. */
export function setAway(chat: ChatClient, nick: string, away: string | null): void {
  const key = chat.fold(nick);
  for (const w of chat.windows.values()) {
    const m = w.type === 'channel' ? w.members.get(key) : undefined;
    if (!m || (m.away ?? null) === away) continue;
    if (away === null) delete m.away;
    else m.away = away;
    chat.membersChanged(w, false);
  }
}

/** The box of the window shown now holds `text`: tells its people we type, when it is news. */
export function typingInput(chat: ChatClient, text: string): void {
  const w = chat.current;
  if (!w || w.type === 'server' || !chat.registered || !chat.caps.has('message-tags')) return;
  const state = chat.typingOut.input(w.key, text, chat.clock());
  if (state !== null) chat.sendLine(`@+typing=${state} TAGMSG ${w.name}`);
}

/** Once a second: our typing paused, theirs expired. */
export function typingTick(chat: ChatClient): void {
  const now = chat.clock();
  for (const key of chat.typingOut.paused(now)) {
    const w = chat.windows.get(key);
    if (w && chat.registered) chat.sendLine(`@+typing=paused TAGMSG ${w.name}`);
  }
  for (const w of chat.windows.values()) if (expireTypers(w.typers, now)) typersChanged(chat, w);
}

/** `nick` says (with `+typing=<state>`) it types in `w`, paused or stopped. */
export function heardTyping(chat: ChatClient, w: ChatWindow, nick: string, state: string): void {
  if (heard(w.typers, chat.fold(nick), nick, state, chat.clock())) typersChanged(chat, w);
}

/** `nick` is no longer typing in `w` (its message came, it left). */
export function stoppedTyping(chat: ChatClient, w: ChatWindow, nick: string): void {
  if (w.typers.delete(chat.fold(nick))) typersChanged(chat, w);
}

function typersChanged(chat: ChatClient, w: ChatWindow): void {
  if (w === chat.current) chat.view.typing(typingText(w.typers));
}
