// Pacing what the user sends. Messages go out in chunks of a few KiB; when more is waiting, a
// chunk ends with a PING and the next goes once its PONG is back: the server runs a client's
// commands in order, so by then it has taken the chunk off its queue. A long paste thus never
// piles up past the server's receive queue (--recvq, 8 KiB by default, 'Excess Flood' past it),
// whatever its flood control lets through and however the network bunches the messages. Pure:
// the caller sends what `take` gives it.

import { utf8Bytes } from '../../irc/wire/split.js';

/** Bytes sent before waiting for a PONG: well under the server's default 8 KiB receive queue. */
export const chunkBytes = 3072;

export interface Outgoing {
  /** The line, without CRLF. */
  line: string;
}

/** What to send now: the lines of one chunk, then a PING with this token when more wait. */
export interface Chunk<T> {
  items: T[];
  ping: string | null;
}

export class Outbox<T extends Outgoing> {
  private queue: T[] = [];
  private awaiting: string | null = null;
  private pings = 0;

  constructor(private readonly maxChunkBytes = chunkBytes) {}

  get waiting(): number {
    return this.queue.length;
  }

  push(item: T): void {
    this.queue.push(item);
  }

  /** Replaces each waiting item by what `change` makes of it (a window renamed: its lines' target). */
  rewrite(change: (item: T) => T): void {
    this.queue = this.queue.map(change);
  }

  /** The next chunk; nothing while a chunk's PONG is still awaited. */
  take(): Chunk<T> {
    const items: T[] = [];
    if (this.awaiting !== null) return { items, ping: null };
    let size = 0;
    for (let next = this.queue[0]; next !== undefined; next = this.queue[0]) {
      const bytes = utf8Bytes(next.line) + 2;
      if (size > 0 && size + bytes > this.maxChunkBytes) break;
      this.queue.shift();
      items.push(next);
      size += bytes;
    }
    if (this.queue.length > 0) this.awaiting = 'chunk' + ++this.pings;
    return { items, ping: this.awaiting };
  }

  /** A PONG came back with `token`: true when it ends the wait (then `take` the next chunk). */
  pong(token: string | undefined): boolean {
    if (this.awaiting === null || token !== this.awaiting) return false;
    this.awaiting = null;
    return true;
  }

  /** Forgets everything (the connection is gone); how many items were never sent. */
  clear(): number {
    const dropped = this.queue.length;
    this.queue = [];
    this.awaiting = null;
    return dropped;
  }
}
