// Typing notifications (IRCv3 `+typing` client tag, sent with TAGMSG, when the server offers
// message-tags), both ways. Out: `active` when the user types in a channel or private window,
// at most once per activeEveryMs, `paused` when the box holds text but nothing was typed for
// pausedAfterMs, `done` when the box is emptied (a message sent ends it by itself). In: who is
// typing where, each dropped after shownForMs without news, on `paused`/`done`, or when their
// message arrives. Pure: the clock and the sending are the caller's.

/** At most one `active` per this many ms while the user types (the spec's 3 s). */
export const typingActiveEveryMs = 3_000;
/** Text in the box and no key for this long: `paused`. */
export const typingPausedAfterMs = 5_000;
/** A typer not heard from for this long is no longer shown (the spec's 6 s). */
export const typingShownForMs = 6_000;

export type TypingState = 'active' | 'paused' | 'done';

/** What we last told a window's people, and when. */
interface Sent {
  state: TypingState;
  sentAt: number;
  typedAt: number;
}

/** Our own typing, per window (by key): what to send, and when. */
export class TypingOut {
  private readonly windows = new Map<string, Sent>();

  /**
   * The box of window `key` now holds `text`: the state to send, or null when nothing is to
   * be sent. Commands (`/...`) are not typing.
   */
  input(key: string, text: string, now: number): TypingState | null {
    const sent = this.windows.get(key) ?? { state: 'done', sentAt: 0, typedAt: 0 };
    this.windows.set(key, sent);
    if (text.trim() === '' || text.startsWith('/')) {
      if (sent.state === 'done') return null;
      sent.state = 'done';
      return 'done';
    }
    sent.typedAt = now;
    if (sent.state === 'active' && now - sent.sentAt < typingActiveEveryMs) return null;
    sent.state = 'active';
    sent.sentAt = now;
    return 'active';
  }

  /** The message was sent: that ends the typing, with nothing more to send. */
  sent(key: string): void {
    this.windows.delete(key);
  }

  /** The windows (keys) whose typing has paused by `now`: each gets `paused` once. */
  paused(now: number): string[] {
    const keys: string[] = [];
    for (const [key, sent] of this.windows) {
      if (sent.state === 'active' && now - sent.typedAt >= typingPausedAfterMs) {
        sent.state = 'paused';
        keys.push(key);
      }
    }
    return keys;
  }

  /** Window `from` is now `to` (renamed): what we told its people still holds. */
  rename(from: string, to: string): void {
    const sent = this.windows.get(from);
    if (sent === undefined || from === to) return;
    this.windows.delete(from);
    this.windows.set(to, sent);
  }

  forget(): void {
    this.windows.clear();
  }
}

/** Who is typing in one window: folded nick → display nick and until when it is shown. */
export type Typers = Map<string, { nick: string; until: number }>;

/** Applies a `+typing` value from `nick`; true when who is shown typing changed. */
export function heardTyping(typers: Typers, key: string, nick: string, state: string, now: number): boolean {
  if (state === 'active') {
    const had = typers.has(key);
    typers.set(key, { nick, until: now + typingShownForMs });
    return !had;
  }
  return typers.delete(key);
}

/** Drops the typers not heard from in time; true when any was dropped. */
export function expireTypers(typers: Typers, now: number): boolean {
  let changed = false;
  for (const [key, t] of typers) {
    if (t.until <= now) {
      typers.delete(key);
      changed = true;
    }
  }
  return changed;
}

/** `alice is typing…`, `alice and bob are typing…`, `3 people are typing…`, or ''. */
export function typingText(typers: Typers): string {
  const nicks = [...typers.values()].map((t) => t.nick).sort();
  if (nicks.length === 0) return '';
  if (nicks.length === 1) return `${nicks[0]} is typing\u2026`;
  if (nicks.length === 2) return `${nicks[0]} and ${nicks[1]} are typing\u2026`;
  return `${nicks.length} people are typing\u2026`;
}
