// The history in this process's memory: an array of entries per target, kept in order, and
// every question answered by filtering it. No indexes and nothing clever, so that it is plainly
// right: the reference the SQL stores are held to (test/store/historyContract.ts), and the
// history of unit tests of the IRC layer. Nothing is bounded but by trim(); not for a server
// that runs for long. Entries handed in and out are copies.

import { MESSAGE_COMMANDS, type HistoryBound, type HistoryEntry, type HistoryKinds, type HistoryStore, type HistoryTarget } from './history.js';

/** An entry with the order it was appended in: entries compare by `at`, then by `seq`. */
interface Kept {
  entry: HistoryEntry;
  seq: number;
}

const copy = (e: HistoryEntry): HistoryEntry => ({
  ...e,
  params: [...e.params],
  tags: { ...e.tags },
  between: e.between ? [e.between[0], e.between[1]] : null,
});

const earlier = (a: Kept, b: Kept): boolean => a.entry.at < b.entry.at || (a.entry.at === b.entry.at && a.seq < b.seq);

/** The last `n` of `list` (slice(-0) would be all of it). */
const lastOf = <T>(list: T[], n: number): T[] => (n > 0 ? list.slice(-n) : []);
const firstOf = <T>(list: T[], n: number): T[] => (n > 0 ? list.slice(0, n) : []);

export class MemoryHistory implements HistoryStore {
  /** Each target's entries, oldest first. */
  private readonly targetsByKey = new Map<string, Kept[]>();
  /** Every kept msgid: unique across targets. */
  private readonly msgids = new Set<string>();
  /** account → conversation key → the other side's account, as last seen. */
  private readonly conversations = new Map<string, Map<string, string>>();
  /** `account\ntarget` → marker (ms). */
  private readonly markers = new Map<string, number>();
  private nextSeq = 1;

  async append(entries: readonly HistoryEntry[]): Promise<void> {
    for (const e of entries) {
      if (this.msgids.has(e.msgid)) continue;
      this.msgids.add(e.msgid);
      // After every entry at or before its time: its seq is the largest yet.
      const list = this.listOf(e.target);
      let i = list.length;
      while (i > 0 && e.at < list[i - 1]!.entry.at) i--;
      list.splice(i, 0, { entry: copy(e), seq: this.nextSeq++ });
      if (e.between) {
        const [sender, recipient] = e.between;
        this.conversationsOf(recipient).set(e.target, e.account ?? sender);
        const own = this.conversationsOf(sender);
        if (!own.has(e.target)) own.set(e.target, recipient);
      }
    }
  }

  async latest(target: string, after: HistoryBound | null, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    if (after === null) return this.out(lastOf(this.list(target, kinds), limit));
    const isAfter = this.afterTest(target, after);
    return this.out(isAfter ? lastOf(this.list(target, kinds).filter(isAfter), limit) : []);
  }

  async before(target: string, bound: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    const isBefore = this.beforeTest(target, bound);
    return this.out(isBefore ? lastOf(this.list(target, kinds).filter(isBefore), limit) : []);
  }

  async after(target: string, bound: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    const isAfter = this.afterTest(target, bound);
    return this.out(isAfter ? firstOf(this.list(target, kinds).filter(isAfter), limit) : []);
  }

  async around(target: string, bound: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    const isBefore = this.beforeTest(target, bound);
    if (!isBefore) return [];
    const older = lastOf(this.list(target, kinds).filter(isBefore), Math.floor(limit / 2));
    const rest = firstOf(this.list(target, kinds).filter((k) => !isBefore(k)), limit - older.length);
    return this.out([...older, ...rest]);
  }

  async between(target: string, from: HistoryBound, to: HistoryBound, limit: number, kinds: HistoryKinds = 'all'): Promise<HistoryEntry[]> {
    const [afterFrom, beforeTo] = [this.afterTest(target, from), this.beforeTest(target, to)];
    const [afterTo, beforeFrom] = [this.afterTest(target, to), this.beforeTest(target, from)];
    if (!afterFrom || !beforeTo || !afterTo || !beforeFrom) return [];
    const forwards = this.list(target, kinds).filter((k) => afterFrom(k) && beforeTo(k));
    if (forwards.length > 0) return this.out(firstOf(forwards, limit));
    return this.out(lastOf(this.list(target, kinds).filter((k) => afterTo(k) && beforeFrom(k)), limit));
  }

  async targets(channels: readonly string[], account: string | null, from: number, to: number, limit: number): Promise<HistoryTarget[]> {
    const candidates = new Map<string, string | null>(channels.map((c) => [c, null]));
    for (const [target, peer] of account === null ? [] : (this.conversations.get(account) ?? [])) candidates.set(target, peer);
    const found: HistoryTarget[] = [];
    for (const [target, peer] of candidates) {
      const inRange = this.list(target, 'messages').filter((k) => k.entry.at >= from && k.entry.at < to);
      const last = inRange[inRange.length - 1];
      if (last) found.push({ target, peer, lastAt: last.entry.at });
    }
    found.sort((a, b) => a.lastAt - b.lastAt || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
    return firstOf(found, limit);
  }

  async entry(target: string, msgid: string): Promise<HistoryEntry | null> {
    const kept = this.list(target).find((k) => k.entry.msgid === msgid);
    return kept ? copy(kept.entry) : null;
  }

  async remove(target: string, msgid: string): Promise<boolean> {
    const list = this.list(target);
    const i = list.findIndex((k) => k.entry.msgid === msgid);
    if (i < 0) return false;
    list.splice(i, 1);
    this.msgids.delete(msgid);
    return true;
  }

  async purge(target: string): Promise<number> {
    const list = this.list(target);
    for (const k of list) this.msgids.delete(k.entry.msgid);
    this.targetsByKey.delete(target);
    for (const own of this.conversations.values()) own.delete(target);
    return list.length;
  }

  async moveTarget(from: string, to: string): Promise<void> {
    if (from === to) return;
    const moved = this.list(from).map((k) => ({ entry: { ...k.entry, target: to }, seq: k.seq }));
    this.targetsByKey.delete(from);
    const list = this.listOf(to);
    list.push(...moved);
    list.sort((a, b) => (earlier(a, b) ? -1 : earlier(b, a) ? 1 : 0));
    for (const [key, at] of [...this.markers]) {
      const [account, target] = key.split('\n') as [string, string];
      if (target !== from) continue;
      this.markers.delete(key);
      const theirs = `${account}\n${to}`;
      this.markers.set(theirs, Math.max(at, this.markers.get(theirs) ?? at));
    }
  }

  async trim(olderThan: number, maxPerTarget: number, maxRows: number): Promise<number> {
    let removed = 0;
    for (const [target, list] of this.targetsByKey) {
      // Beyond the newest maxPerTarget, or older than olderThan: always a run at the front.
      const over = Math.max(0, list.length - Math.max(0, maxPerTarget));
      let n = 0;
      while (n < list.length && (n < over || list[n]!.entry.at < olderThan) && removed + n < maxRows) n++;
      for (const k of list.splice(0, n)) this.msgids.delete(k.entry.msgid);
      removed += n;
      if (list.length === 0) this.targetsByKey.delete(target);
    }
    return removed;
  }

  async readMarker(account: string, target: string): Promise<number | null> {
    return this.markers.get(`${account}\n${target}`) ?? null;
  }

  async setReadMarker(account: string, target: string, at: number): Promise<number> {
    const key = `${account}\n${target}`;
    const marker = Math.max(at, this.markers.get(key) ?? at);
    this.markers.set(key, marker);
    return marker;
  }

  private list(target: string, kinds: HistoryKinds = 'all'): Kept[] {
    const all = this.targetsByKey.get(target) ?? [];
    return kinds === 'all' ? all : all.filter((k) => MESSAGE_COMMANDS.includes(k.entry.command));
  }

  private listOf(target: string): Kept[] {
    let list = this.targetsByKey.get(target);
    if (!list) this.targetsByKey.set(target, (list = []));
    return list;
  }

  private conversationsOf(account: string): Map<string, string> {
    let own = this.conversations.get(account);
    if (!own) this.conversations.set(account, (own = new Map()));
    return own;
  }

  /** Whether an entry is after `bound`; null for a msgid not in the target. */
  private afterTest(target: string, bound: HistoryBound): ((k: Kept) => boolean) | null {
    if ('at' in bound) return (k) => k.entry.at > bound.at;
    const at = this.list(target).find((k) => k.entry.msgid === bound.msgid);
    return at ? (k) => earlier(at, k) : null;
  }

  /** Whether an entry is before `bound`; null for a msgid not in the target. */
  private beforeTest(target: string, bound: HistoryBound): ((k: Kept) => boolean) | null {
    if ('at' in bound) return (k) => k.entry.at < bound.at;
    const at = this.list(target).find((k) => k.entry.msgid === bound.msgid);
    return at ? (k) => earlier(k, at) : null;
  }

  private out(kept: Kept[]): HistoryEntry[] {
    return kept.map((k) => copy(k.entry));
  }
}
