// Message ids (IRCv3 msgid, sent with message-tags): each line keeps its message's id
// (`data-msgid` on its row, for replies, reactions or history to address it later), and a
// window shows a message once however often it comes: our echo and our own copy of a message
// to ourselves, a message replayed after a reconnect. A window also knows which of its
// messages are ours, newest last, so that /delete can name the last one (redaction.ts). Pure.

/** A window remembers the ids of this many of its latest messages: as many as its log shows (view.ts). */
export const seenIdsPerWindow = 1000;

/** The msgids a window has shown, the oldest forgotten first. */
export class SeenIds {
  private readonly ids = new Set<string>();

  constructor(private readonly max = seenIdsPerWindow) {}

  /** True the first time `id` comes (it is remembered then); false when it was shown before. */
  first(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // A Set iterates in insertion order: its first value is the oldest.
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }

  /** Whether `id` was shown (and is still remembered). */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}

/** A window remembers this many of our own latest messages: enough to delete a few in a row. */
export const ownIdsPerWindow = 50;

/** Our own messages in a window, by server-time (ms): the latest is what /delete deletes. */
export class OwnIds {
  /** Oldest first; a message from the history may come after newer ones and goes in its place. */
  private readonly list: Array<{ at: number; msgid: string }> = [];

  constructor(private readonly max = ownIdsPerWindow) {}

  /** Ours, said at `at`. */
  note(at: number, msgid: string): void {
    if (this.list.some((m) => m.msgid === msgid)) return;
    let i = this.list.length;
    while (i > 0 && this.list[i - 1]!.at > at) i--;
    this.list.splice(i, 0, { at, msgid });
    if (this.list.length > this.max) this.list.shift();
  }

  /** It is deleted (or being deleted): no longer one to delete. */
  forget(msgid: string): void {
    const i = this.list.findIndex((m) => m.msgid === msgid);
    if (i !== -1) this.list.splice(i, 1);
  }

  /** The msgid of our latest message, or null when none is known. */
  latest(): string | null {
    return this.list.at(-1)?.msgid ?? null;
  }
}
