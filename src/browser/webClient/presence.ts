// Who is here and who is typing, as the page shows it: members away (greyed, from away-notify's
// AWAY, WHO's G/H flags, 301 and our own 305/306) and typing notifications both ways
// (typing.ts keeps the timings), and the WHO the page asks for itself to learn who is away.
// Functions of the ChatClient, as incoming.ts's are.

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

/**
 * Channels up to this many members are asked WHO once joined, for who is away; a bigger one is
 * not (its WHO would be a burst of lines for a detail, and lines past the server's sendq, 64 KiB
 * by default, end the connection).
 */
export const awayWhoMaxMembers = 500;

/** The WHOX token of the page's own WHO: its 354 replies are known by it, and not shown. */
export const awayWhoToken = '719';

/**
 * We are in `w` and have its members (366): it is asked WHO for who is away, after the WHO
 * already asked, if any. One at a time: rejoining twenty channels after a reconnect must not
 * ask for twenty member lists at once.
 */
export function askWhoIsAway(chat: ChatClient, w: ChatWindow): void {
  const key = chat.fold(w.name);
  const who = chat.awayWho;
  if (w.members.size > awayWhoMaxMembers || who.asking === key || who.queue.includes(key)) return;
  who.queue.push(key);
  if (who.asking === null) askNextWho(chat);
}

/** The WHO of the next channel in the queue that we are still in, if any. */
function askNextWho(chat: ChatClient): void {
  const who = chat.awayWho;
  who.asking = null;
  for (let key = who.queue.shift(); key !== undefined; key = who.queue.shift()) {
    const w = chat.windows.get(key);
    if (!w || !w.joined) continue;
    who.asking = key;
    // WHOX asks for the nick and flags only (a third of a 352), tagged with our token.
    chat.send('WHO', chat.settings.whox ? [w.name, `%tnf,${awayWhoToken}`] : [w.name]);
    return;
  }
}

/** A 352 or 315 for `channel`: true when it answers the WHO the page asked itself (not shown). */
export function isOwnWho(chat: ChatClient, channel: string): boolean {
  return chat.awayWho.asking === chat.fold(channel);
}

/** The 315 that ends our WHO of `channel`: the next one is asked. */
export function whoEnded(chat: ChatClient, channel: string): boolean {
  if (!isOwnWho(chat, channel)) return false;
  askNextWho(chat);
  return true;
}

/**
 * The channel folded `from` is now folded `to` (RENAME): a WHO still to ask goes by the new
 * name. The one being asked stays, as its replies name the channel as it was asked; but the
 * server may have answered it after the rename, when the old name had no members: the channel
 * is asked again by its new name.
 */
export function awayWhoRenamed(chat: ChatClient, from: string, to: string): void {
  const who = chat.awayWho;
  if (from === to) return;
  const queued = who.queue.indexOf(from);
  if (queued !== -1) who.queue[queued] = to;
  else if (who.asking === from) who.queue.push(to);
}

/** WHO's flags of `nick` (352, or 354 with WHOX): `G...` away, `H...` here. */
export function whoFlags(chat: ChatClient, nick: string, flags: string): void {
  if (flags.startsWith('G')) setAway(chat, nick, '');
  else if (flags.startsWith('H')) setAway(chat, nick, null);
}

/** The box of the window shown now holds `text`: tells its people we type, when it is news. */
export function typingInput(chat: ChatClient, text: string): void {
  const w = chat.current;
  if (!w || !canTellTyping(chat, w)) return;
  const state = chat.typingOut.input(w.key, text, chat.clock());
  if (state !== null) sendTyping(chat, w, state);
}

/** Once a second: our typing paused, theirs expired. */
export function typingTick(chat: ChatClient): void {
  const now = chat.clock();
  for (const key of chat.typingOut.paused(now)) {
    const w = chat.windows.get(key);
    if (w && canTellTyping(chat, w)) sendTyping(chat, w, 'paused');
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

/**
 * Typing goes to a channel we are in or to a private window's nick, when the server relays
 * client tags (message-tags): a channel we were kicked from would answer each TAGMSG with an error.
 */
function canTellTyping(chat: ChatClient, w: ChatWindow): boolean {
  if (!chat.registered || !chat.caps.has('message-tags')) return false;
  return w.type === 'query' || (w.type === 'channel' && w.joined);
}

/** The label of our typing TAGMSGs (`typing1`, `typing2`...) when the server offers labeled-response. */
const typingLabel = 'typing';

/**
 * Sends `+typing=<state>` to `w`. With labeled-response each carries a label, so that what the
 * server answers (an ACK; 401 when the nick of a private window has gone, every 3 s while
 * the user types) is known for a reply to typing and not shown (isTypingReply).
 */
function sendTyping(chat: ChatClient, w: ChatWindow, state: string): void {
  const labeled = chat.caps.has('labeled-response') && chat.caps.has('batch');
  const label = labeled ? `label=${typingLabel}${++chat.typingLabels};` : '';
  chat.sendLine(`@${label}+typing=${state} TAGMSG ${w.name}`);
}

/** The label of a line the server sent in answer to one of our typing TAGMSGs (labeled-response). */
export function isTypingReply(label: string): boolean {
  return label.startsWith(typingLabel);
}
