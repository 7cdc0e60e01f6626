// Keeping history without slowing delivery: entries wait in a buffer and are written together,
// one append (one transaction) per batch, every flushMs or at flushMaxEntries, so a delivered
// message costs the event loop a push. Reads write what waits first, so a client reading on
// this node sees everything this node delivered to it. The buffer is bounded: with the store
// down, entries past bufferMaxEntries are not kept (counted, logged once per outage), and
// delivery never waits for the store.

import type { Logger } from '../core/logger.js';
import type { HistoryBound, HistoryEntry, HistoryKinds, HistoryStore, HistoryTarget } from './history.js';

export interface BufferedHistoryOptions {
  flushMs: number;
  flushMaxEntries: number;
  bufferMaxEntries: number;
  logger: Logger;
}

export class BufferedHistory implements HistoryStore {
  private waiting: HistoryEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The write in progress (one at a time, so batches land in the order delivered). */
  private writing: Promise<void> = Promise.resolve();
  /** Entries not kept since the last successful write (buffer full); logged when it recovers. */
  private dropped = 0;
  private failing = false;

  constructor(
    private readonly store: HistoryStore,
    private readonly options: BufferedHistoryOptions,
  ) {}

  /** Queues the entries; they are written within flushMs. Never rejects. */
  append(entries: readonly HistoryEntry[]): Promise<void> {
    const room = this.options.bufferMaxEntries - this.waiting.length;
    if (room < entries.length) this.dropped += entries.length - Math.max(room, 0);
    for (let i = 0; i < entries.length && i < room; i++) this.waiting.push(entries[i]!);
    if (this.waiting.length >= this.options.flushMaxEntries) void this.flush();
    else if (this.timer === null && this.waiting.length > 0) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
      this.timer.unref();
    }
    return Promise.resolve();
  }

  /** Writes everything queued so far; resolves once it is written (or has failed, logged). */
  flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.waiting.length === 0) return this.writing;
    const batch = this.waiting;
    this.waiting = [];
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: HistoryEntry[]): Promise<void> {
    try {
      await this.store.append(batch);
      if (this.failing || this.dropped > 0) {
        this.options.logger.log('info', 'history.recovered', { lost: this.dropped });
        this.failing = false;
        this.dropped = 0;
      }
    } catch (err) {
      // Lost, not retried: the store said it cannot write (disk full, PostgreSQL gone), and
      // holding entries for a retry would grow memory with the outage.
      this.dropped += batch.length;
      if (!this.failing) {
        this.failing = true;
        this.options.logger.log('error', 'history.writeFailed', { entries: batch.length, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  async latest(target: string, after: HistoryBound | null, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    await this.flush();
    return this.store.latest(target, after, limit, kinds);
  }

  async before(target: string, bound: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    await this.flush();
    return this.store.before(target, bound, limit, kinds);
  }

  async after(target: string, bound: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    await this.flush();
    return this.store.after(target, bound, limit, kinds);
  }

  async around(target: string, bound: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    await this.flush();
    return this.store.around(target, bound, limit, kinds);
  }

  async between(target: string, from: HistoryBound, to: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    await this.flush();
    return this.store.between(target, from, to, limit, kinds);
  }

  async targets(channels: readonly string[], account: string | null, from: number, to: number, limit: number): Promise<HistoryTarget[]> {
    await this.flush();
    return this.store.targets(channels, account, from, to, limit);
  }

  async entry(target: string, msgid: string): Promise<HistoryEntry | null> {
    await this.flush();
    return this.store.entry(target, msgid);
  }

  async remove(target: string, msgid: string): Promise<boolean> {
    await this.flush();
    return this.store.remove(target, msgid);
  }

  async purge(target: string): Promise<number> {
    await this.flush();
    return this.store.purge(target);
  }

  async moveTarget(from: string, to: string): Promise<void> {
    await this.flush();
    return this.store.moveTarget(from, to);
  }

  trim(olderThan: number, maxPerTarget: number, maxRows: number): Promise<number> {
    return this.store.trim(olderThan, maxPerTarget, maxRows);
  }

  readMarker(account: string, target: string): Promise<number | null> {
    return this.store.readMarker(account, target);
  }

  setReadMarker(account: string, target: string, at: number): Promise<number> {
    return this.store.setReadMarker(account, target, at);
  }
}
