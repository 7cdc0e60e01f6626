// Message ids (IRCv3 msgid, sent with message-tags): each line keeps its message's id
// (`data-msgid` on its row, for replies, reactions or history to address it later), and a
// window shows a message once however often it comes: our echo and our own copy of a message
// to ourselves, a message replayed after a reconnect. Pure.

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

  get size(): number {
    return this.ids.size;
  }
}
