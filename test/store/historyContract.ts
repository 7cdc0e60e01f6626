// The HistoryStore contract (src/history/history.ts): one suite that the memory history
// (memoryHistory.ts), SQLite and PostgreSQL all pass. Examples first, each behaviour on a fresh
// history; then a property: random batches (few targets, colliding times and msgids) and random
// range questions, every answer equal to the slice of a plain sorted list (the model below, by
// index arithmetic, written apart from every implementation).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatError } from '../../src/core/errors.js';
import { conversationKey, type HistoryBound, type HistoryEntry, type HistoryStore } from '../../src/history/history.js';

export interface HistoryFactory {
  /** A fresh, empty history, and how to let it go. */
  open(): Promise<{ history: HistoryStore; close(): Promise<void> }>;
  /** How many random cases the property runs (all on one history, each with targets of its own). */
  runs: number;
  /** Whether a closed one rejects with STORE_UNAVAILABLE (the stores; memory cannot be closed). */
  closes: boolean;
}

/** A channel message: `#chan`, its msgid, its time, a text saying which. */
function msg(target: string, msgid: string, at: number, more: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    target,
    msgid,
    at,
    command: 'PRIVMSG',
    source: 'nick!user@host',
    account: 'Nick',
    params: [target, `text of ${msgid}`],
    tags: {},
    between: null,
    ...more,
  };
}

/** A private message from account `from` (display `fromName`) to `to`, both folded. */
function dm(from: string, fromName: string, to: string, msgid: string, at: number): HistoryEntry {
  return msg(conversationKey(from, to), msgid, at, { account: fromName, source: `${from}!u@h`, params: [to, 'hi'], between: [from, to] });
}

const ids = (entries: readonly HistoryEntry[]): string[] => entries.map((e) => e.msgid);

async function using<T>(factory: HistoryFactory, body: (history: HistoryStore) => Promise<T>): Promise<T> {
  const { history, close } = await factory.open();
  try {
    return await body(history);
  } finally {
    await close();
  }
}

/** Ten entries of `#c`, m0..m9 at 10, 20, ... 100. */
async function ten(history: HistoryStore): Promise<void> {
  await history.append(Array.from({ length: 10 }, (_, i) => msg('#c', `m${i}`, (i + 1) * 10)));
}

// --- The model: a target's entries as a sorted list, and each answer as a slice of it ---------

/** Index of the first entry after `bound` (exclusive), or null for a msgid not in the list. */
function afterIndex(list: readonly HistoryEntry[], bound: HistoryBound): number | null {
  if ('msgid' in bound) {
    const i = list.findIndex((e) => e.msgid === bound.msgid);
    return i < 0 ? null : i + 1;
  }
  const i = list.findIndex((e) => e.at > bound.at);
  return i < 0 ? list.length : i;
}

/** Index of the first entry not before `bound`: the entries before it are list[0, this). */
function beforeIndex(list: readonly HistoryEntry[], bound: HistoryBound): number | null {
  if ('msgid' in bound) {
    const i = list.findIndex((e) => e.msgid === bound.msgid);
    return i < 0 ? null : i;
  }
  const i = list.findIndex((e) => e.at >= bound.at);
  return i < 0 ? list.length : i;
}

type Question =
  | { kind: 'latest'; after: HistoryBound | null; limit: number }
  | { kind: 'before' | 'after' | 'around'; bound: HistoryBound; limit: number }
  | { kind: 'between'; from: HistoryBound; to: HistoryBound; limit: number };

function modelAnswer(list: readonly HistoryEntry[], q: Question): HistoryEntry[] {
  const newest = (lo: number, hi: number, n: number): HistoryEntry[] => list.slice(Math.max(lo, hi - n), hi);
  const oldest = (lo: number, hi: number, n: number): HistoryEntry[] => list.slice(lo, Math.min(hi, lo + n));
  switch (q.kind) {
    case 'latest': {
      const lo = q.after === null ? 0 : afterIndex(list, q.after);
      return lo === null ? [] : newest(lo, list.length, q.limit);
    }
    case 'before': {
      const hi = beforeIndex(list, q.bound);
      return hi === null ? [] : newest(0, hi, q.limit);
    }
    case 'after': {
      const lo = afterIndex(list, q.bound);
      return lo === null ? [] : oldest(lo, list.length, q.limit);
    }
    case 'around': {
      const at = beforeIndex(list, q.bound);
      if (at === null) return [];
      const older = newest(0, at, Math.floor(q.limit / 2));
      return [...older, ...oldest(at, list.length, q.limit - older.length)];
    }
    case 'between': {
      const [lo, hi] = [afterIndex(list, q.from), beforeIndex(list, q.to)];
      const [lo2, hi2] = [afterIndex(list, q.to), beforeIndex(list, q.from)];
      if (lo === null || hi === null || lo2 === null || hi2 === null) return [];
      if (lo < hi) return oldest(lo, hi, q.limit);
      return lo2 < hi2 ? newest(lo2, hi2, q.limit) : [];
    }
  }
}

function ask(history: HistoryStore, target: string, q: Question): Promise<HistoryEntry[]> {
  switch (q.kind) {
    case 'latest':
      return history.latest(target, q.after, q.limit);
    case 'between':
      return history.between(target, q.from, q.to, q.limit);
    default:
      return history[q.kind](target, q.bound, q.limit);
  }
}

/** The model of a history after these batches: each target's kept entries, by time then append order. */
function modelOf(batches: readonly HistoryEntry[][]): Map<string, HistoryEntry[]> {
  const seen = new Set<string>();
  const kept: HistoryEntry[] = [];
  for (const e of batches.flat()) {
    if (seen.has(e.msgid)) continue;
    seen.add(e.msgid);
    kept.push(e);
  }
  const byTarget = new Map<string, HistoryEntry[]>();
  // A stable sort by time keeps the append order among equal times.
  for (const e of [...kept].sort((a, b) => a.at - b.at)) {
    byTarget.set(e.target, [...(byTarget.get(e.target) ?? []), e]);
  }
  return byTarget;
}

export function historyContract(name: string, factory: HistoryFactory): void {
  describe(`HistoryStore contract: ${name}`, () => {
    it('keeps entries exactly, in append order, and skips a msgid it already has (in any target, or twice in a batch)', async () => {
      await using(factory, async (history) => {
        const odd = msg('#c', 'x1', 5, {
          command: 'TAGMSG',
          source: "zoë!~u@例え.jp",
          account: null,
          params: ['#C', "'); DROP TABLE history_entries;--", ''],
          tags: { '+draft/reply': 'abc', bot: '', '+x': 'a;b c\\' },
        });
        await history.append([odd, msg('#c', 'x2', 5), msg('#c', 'x1', 6)]);
        await history.append([msg('#other', 'x2', 7), msg('#c', 'x3', 5)]);
        await history.append([]);
        expect(await history.latest('#c', null, 10)).toEqual([odd, msg('#c', 'x2', 5), msg('#c', 'x3', 5)]);
        expect(await history.latest('#other', null, 10)).toEqual([]);
        expect(await history.entry('#c', 'x1')).toEqual(odd);
      });
    });

    it('orders entries with equal times by append, and a late entry with an earlier time by its time', async () => {
      await using(factory, async (history) => {
        await history.append([msg('#c', 'a', 100), msg('#c', 'b', 100)]);
        await history.append([msg('#c', 'c', 100), msg('#c', 'early', 50), msg('#c', 'd', 100)]);
        expect(ids(await history.latest('#c', null, 10))).toEqual(['early', 'a', 'b', 'c', 'd']);
        expect(ids(await history.after('#c', { msgid: 'b' }, 10))).toEqual(['c', 'd']);
        expect(ids(await history.before('#c', { msgid: 'c' }, 10))).toEqual(['early', 'a', 'b']);
        // A time bound is all or none of the entries at that time.
        expect(ids(await history.after('#c', { at: 50 }, 10))).toEqual(['a', 'b', 'c', 'd']);
        expect(ids(await history.before('#c', { at: 100 }, 10))).toEqual(['early']);
        expect(ids(await history.around('#c', { msgid: 'c' }, 4))).toEqual(['a', 'b', 'c', 'd']);
        expect(ids(await history.between('#c', { msgid: 'a' }, { msgid: 'd' }, 10))).toEqual(['b', 'c']);
      });
    });

    it('answers LATEST: the newest, or the newest after a bound, at most limit, oldest first', async () => {
      await using(factory, async (history) => {
        await ten(history);
        expect(ids(await history.latest('#c', null, 3))).toEqual(['m7', 'm8', 'm9']);
        expect(ids(await history.latest('#c', { msgid: 'm5' }, 10))).toEqual(['m6', 'm7', 'm8', 'm9']);
        expect(ids(await history.latest('#c', { msgid: 'm5' }, 2))).toEqual(['m8', 'm9']);
        expect(ids(await history.latest('#c', { at: 60 }, 10))).toEqual(['m6', 'm7', 'm8', 'm9']);
        expect(ids(await history.latest('#c', { at: 61 }, 10))).toEqual(['m6', 'm7', 'm8', 'm9']);
        expect(await history.latest('#c', { msgid: 'm9' }, 10)).toEqual([]);
        expect(await history.latest('#c', { msgid: 'nope' }, 10)).toEqual([]);
        expect(await history.latest('#c', null, 0)).toEqual([]);
        expect(await history.latest('#empty', null, 10)).toEqual([]);
      });
    });

    it('answers BEFORE: the newest before a msgid or a time, exclusive', async () => {
      await using(factory, async (history) => {
        await ten(history);
        expect(ids(await history.before('#c', { msgid: 'm5' }, 3))).toEqual(['m2', 'm3', 'm4']);
        expect(ids(await history.before('#c', { at: 60 }, 3))).toEqual(['m2', 'm3', 'm4']);
        expect(ids(await history.before('#c', { at: 59 }, 100))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
        expect(await history.before('#c', { msgid: 'm0' }, 10)).toEqual([]);
        expect(await history.before('#c', { at: 10 }, 10)).toEqual([]);
        expect(await history.before('#c', { msgid: 'nope' }, 10)).toEqual([]);
      });
    });

    it('answers AFTER: the oldest after a msgid or a time, exclusive', async () => {
      await using(factory, async (history) => {
        await ten(history);
        expect(ids(await history.after('#c', { msgid: 'm5' }, 3))).toEqual(['m6', 'm7', 'm8']);
        expect(ids(await history.after('#c', { at: 60 }, 3))).toEqual(['m6', 'm7', 'm8']);
        expect(ids(await history.after('#c', { at: 0 }, 2))).toEqual(['m0', 'm1']);
        expect(await history.after('#c', { msgid: 'm9' }, 10)).toEqual([]);
        expect(await history.after('#c', { at: 100 }, 10)).toEqual([]);
        expect(await history.after('#c', { msgid: 'nope' }, 10)).toEqual([]);
      });
    });

    it('answers AROUND: up to half the limit before, then the bound and after it up to the limit', async () => {
      await using(factory, async (history) => {
        await ten(history);
        expect(ids(await history.around('#c', { msgid: 'm5' }, 4))).toEqual(['m3', 'm4', 'm5', 'm6']);
        expect(ids(await history.around('#c', { msgid: 'm5' }, 5))).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
        expect(ids(await history.around('#c', { msgid: 'm5' }, 1))).toEqual(['m5']);
        expect(ids(await history.around('#c', { at: 60 }, 4))).toEqual(['m3', 'm4', 'm5', 'm6']);
        expect(ids(await history.around('#c', { at: 55 }, 4))).toEqual(['m3', 'm4', 'm5', 'm6']);
        // Near the start there are fewer before, so more after.
        expect(ids(await history.around('#c', { msgid: 'm1' }, 6))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
        // Near the end, fewer after.
        expect(ids(await history.around('#c', { msgid: 'm9' }, 6))).toEqual(['m6', 'm7', 'm8', 'm9']);
        expect(await history.around('#c', { msgid: 'nope' }, 6)).toEqual([]);
      });
    });

    it('answers BETWEEN in both directions: the oldest after an earlier from, the newest before a later one', async () => {
      await using(factory, async (history) => {
        await ten(history);
        expect(ids(await history.between('#c', { msgid: 'm2' }, { msgid: 'm8' }, 3))).toEqual(['m3', 'm4', 'm5']);
        expect(ids(await history.between('#c', { msgid: 'm8' }, { msgid: 'm2' }, 3))).toEqual(['m5', 'm6', 'm7']);
        expect(ids(await history.between('#c', { at: 30 }, { at: 90 }, 100))).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
        expect(ids(await history.between('#c', { at: 90 }, { at: 30 }, 2))).toEqual(['m6', 'm7']);
        expect(ids(await history.between('#c', { msgid: 'm2' }, { at: 60 }, 10))).toEqual(['m3', 'm4']);
        expect(ids(await history.between('#c', { at: 60 }, { msgid: 'm2' }, 10))).toEqual(['m3', 'm4']);
        expect(await history.between('#c', { msgid: 'm4' }, { msgid: 'm5' }, 10)).toEqual([]);
        expect(await history.between('#c', { msgid: 'm4' }, { msgid: 'm4' }, 10)).toEqual([]);
        expect(await history.between('#c', { at: 50 }, { msgid: 'm4' }, 10)).toEqual([]);
        expect(await history.between('#c', { msgid: 'm2' }, { msgid: 'nope' }, 10)).toEqual([]);
        expect(await history.between('#c', { msgid: 'nope' }, { at: 1000 }, 10)).toEqual([]);
      });
    });

    it('reads messages alone when asked (no JOIN, PART... events), the limit counting messages, and lists TARGETS by messages', async () => {
      await using(factory, async (history) => {
        // m0..m9 at 10..100, with a JOIN after each of m0..m8 (at the same time: after it by append).
        const entries: HistoryEntry[] = [];
        for (let i = 0; i < 10; i++) {
          entries.push(msg('#c', `m${i}`, (i + 1) * 10));
          if (i < 9) entries.push(msg('#c', `j${i}`, (i + 1) * 10, { command: 'JOIN', params: ['#c'] }));
        }
        entries.push(msg('#q', 'q0', 5), msg('#q', 'qj', 500, { command: 'PART', params: ['#q'] }));
        await history.append(entries);
        expect(ids(await history.latest('#c', null, 3))).toEqual(['m8', 'j8', 'm9']);
        expect(ids(await history.latest('#c', null, 3, 'messages'))).toEqual(['m7', 'm8', 'm9']);
        expect(ids(await history.latest('#c', { msgid: 'j6' }, 10, 'messages'))).toEqual(['m7', 'm8', 'm9']);
        expect(ids(await history.before('#c', { msgid: 'm5' }, 2, 'messages'))).toEqual(['m3', 'm4']);
        expect(ids(await history.before('#c', { msgid: 'm5' }, 2, 'all'))).toEqual(['m4', 'j4']);
        expect(ids(await history.after('#c', { at: 35 }, 3, 'messages'))).toEqual(['m3', 'm4', 'm5']);
        expect(ids(await history.around('#c', { msgid: 'm5' }, 4, 'messages'))).toEqual(['m3', 'm4', 'm5', 'm6']);
        expect(ids(await history.between('#c', { msgid: 'm8' }, { msgid: 'm2' }, 2, 'messages'))).toEqual(['m6', 'm7']);
        // #q's latest message is at 5; its PART at 500 does not make it active then.
        const found = await history.targets(['#c', '#q'], null, 0, 1_000, 10);
        expect(found).toEqual([
          { target: '#q', peer: null, lastAt: 5 },
          { target: '#c', peer: null, lastAt: 100 },
        ]);
      });
    });

    it('finds a msgid bound in its own target only', async () => {
      await using(factory, async (history) => {
        await ten(history);
        await history.append([msg('#d', 'd0', 55), msg('#d', 'd1', 65)]);
        expect(await history.before('#c', { msgid: 'd1' }, 10)).toEqual([]);
        expect(await history.around('#c', { msgid: 'd0' }, 10)).toEqual([]);
        expect(await history.entry('#c', 'd0')).toBeNull();
        expect(await history.remove('#c', 'd0')).toBe(false);
        expect(ids(await history.after('#d', { msgid: 'd0' }, 10))).toEqual(['d1']);
      });
    });

    it('lists TARGETS: channels asked for and the account’s conversations with entries in [from, to), by latest entry, naming the peer', async () => {
      await using(factory, async (history) => {
        await history.append([msg('#a', 'a1', 100), msg('#a', 'a2', 300), msg('#b', 'b1', 200), msg('#unasked', 'u1', 250)]);
        // alice writes to bob first: bob sees "Alice"; alice sees bob's folded name until he answers.
        await history.append([dm('alice', 'Alice', 'bob', 'd1', 150), dm('carol', 'Carol', 'bob', 'd2', 400)]);
        await history.append([dm('dave', 'Dave', 'erin', 'd3', 160)]);
        const bobAlice = conversationKey('alice', 'bob');
        const bobCarol = conversationKey('bob', 'carol');
        expect(await history.targets(['#a', '#b', '#none'], 'bob', 0, 1000, 10)).toEqual([
          { target: bobAlice, peer: 'Alice', lastAt: 150 },
          { target: '#b', peer: null, lastAt: 200 },
          { target: '#a', peer: null, lastAt: 300 },
          { target: bobCarol, peer: 'Carol', lastAt: 400 },
        ]);
        expect(await history.targets([], 'alice', 0, 1000, 10)).toEqual([{ target: bobAlice, peer: 'bob', lastAt: 150 }]);
        await history.append([dm('bob', 'Bob', 'alice', 'd4', 500)]);
        expect(await history.targets([], 'alice', 0, 1000, 10)).toEqual([{ target: bobAlice, peer: 'Bob', lastAt: 500 }]);
        // The peer is as last stored: a later spelling replaces it.
        await history.append([dm('alice', 'ALICE', 'bob', 'd5', 510)]);
        expect(await history.targets([], 'bob', 0, 1000, 10)).toEqual([
          { target: bobCarol, peer: 'Carol', lastAt: 400 },
          { target: bobAlice, peer: 'ALICE', lastAt: 510 },
        ]);
        // Half-open: at `from` counts, at `to` does not; lastAt is the latest inside.
        expect(await history.targets(['#a', '#b'], null, 200, 300, 10)).toEqual([{ target: '#b', peer: null, lastAt: 200 }]);
        expect(await history.targets(['#a', '#b'], null, 100, 301, 10)).toEqual([
          { target: '#b', peer: null, lastAt: 200 },
          { target: '#a', peer: null, lastAt: 300 },
        ]);
        expect(await history.targets(['#a'], null, 101, 300, 10)).toEqual([]);
        // The oldest `limit`; equal times by target.
        await history.append([msg('#z', 'z1', 200), msg('#y', 'y1', 200)]);
        expect(await history.targets(['#z', '#a', '#b', '#y'], 'bob', 0, 1000, 3)).toEqual([
          { target: '#b', peer: null, lastAt: 200 },
          { target: '#y', peer: null, lastAt: 200 },
          { target: '#z', peer: null, lastAt: 200 },
        ]);
        // No one else's conversations, and none for no account.
        expect(await history.targets([], 'erin', 0, 1000, 10)).toEqual([{ target: conversationKey('dave', 'erin'), peer: 'Dave', lastAt: 160 }]);
        expect(await history.targets([], null, 0, 1000, 10)).toEqual([]);
        expect(await history.targets(['#a', '#a'], null, 0, 1000, 10)).toEqual([{ target: '#a', peer: null, lastAt: 300 }]);
      });
    });

    it('finds, removes and purges entries, and a purged conversation is no longer listed', async () => {
      await using(factory, async (history) => {
        await ten(history);
        await history.append([msg('#d', 'd0', 5), dm('alice', 'Alice', 'bob', 'p1', 7)]);
        expect((await history.entry('#c', 'm3'))?.at).toBe(40);
        expect(await history.entry('#c', 'nope')).toBeNull();
        expect(await history.remove('#c', 'm3')).toBe(true);
        expect(await history.remove('#c', 'm3')).toBe(false);
        expect(await history.entry('#c', 'm3')).toBeNull();
        expect(ids(await history.between('#c', { msgid: 'm1' }, { msgid: 'm5' }, 10))).toEqual(['m2', 'm4']);
        // A removed msgid is no longer a bound.
        expect(await history.after('#c', { msgid: 'm3' }, 10)).toEqual([]);
        expect(await history.purge('#c')).toBe(9);
        expect(await history.purge('#c')).toBe(0);
        expect(await history.latest('#c', null, 10)).toEqual([]);
        expect(ids(await history.latest('#d', null, 10))).toEqual(['d0']);
        const key = conversationKey('alice', 'bob');
        expect(await history.purge(key)).toBe(1);
        expect(await history.targets([], 'bob', 0, 1000, 10)).toEqual([]);
        // Purged: the same msgids may be kept again.
        await history.append([msg('#c', 'm3', 1)]);
        expect(ids(await history.latest('#c', null, 10))).toEqual(['m3']);
      });
    });

    it('moves a renamed channel’s entries and read markers to its new name, beside any it had', async () => {
      await using(factory, async (history) => {
        await history.append([msg('#old', 'o1', 10), msg('#old', 'o2', 30), msg('#new', 'n1', 20), msg('#new', 'n2', 30)]);
        await history.setReadMarker('alice', '#old', 25);
        await history.setReadMarker('bob', '#old', 5);
        await history.setReadMarker('bob', '#new', 15);
        await history.moveTarget('#old', '#new');
        expect(await history.latest('#old', null, 10)).toEqual([]);
        // o2 and n2 share a time: appended first, o2 comes first.
        expect(ids(await history.latest('#new', null, 10))).toEqual(['o1', 'n1', 'o2', 'n2']);
        expect((await history.entry('#new', 'o1'))?.target).toBe('#new');
        expect(await history.entry('#old', 'o1')).toBeNull();
        expect(await history.readMarker('alice', '#new')).toBe(25);
        expect(await history.readMarker('bob', '#new')).toBe(15);
        expect(await history.readMarker('alice', '#old')).toBeNull();
        await history.moveTarget('#new', '#new');
        expect(ids(await history.latest('#new', null, 10))).toHaveLength(4);
        // The moved entries count as #new's: a cap of 2 leaves its newest two.
        expect(await history.trim(0, 2, 100)).toBe(2);
        expect(ids(await history.latest('#new', null, 10))).toEqual(['o2', 'n2']);
      });
    });

    it('trims by age in small steps until nothing is left to trim', async () => {
      await using(factory, async (history) => {
        await ten(history);
        await history.append([msg('#d', 'd0', 15), msg('#d', 'd1', 95)]);
        const steps: number[] = [];
        for (let n = -1; n !== 0; ) steps.push((n = await history.trim(55, Number.POSITIVE_INFINITY, 2)));
        expect(steps.every((n) => n <= 2)).toBe(true);
        expect(steps.reduce((a, b) => a + b, 0)).toBe(6);
        expect(ids(await history.latest('#c', null, 100))).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
        expect(ids(await history.latest('#d', null, 100))).toEqual(['d1']);
        expect(await history.trim(55, Number.POSITIVE_INFINITY, 100)).toBe(0);
      });
    });

    it('trims each target to its newest maxPerTarget in small steps, and with an age limit too', async () => {
      await using(factory, async (history) => {
        await ten(history);
        await history.append([msg('#d', 'd0', 15), msg('#d', 'd1', 95), msg('#e', 'e0', 1)]);
        const steps: number[] = [];
        for (let n = -1; n !== 0; ) steps.push((n = await history.trim(0, 3, 3)));
        expect(steps.every((n) => n <= 3)).toBe(true);
        expect(steps.reduce((a, b) => a + b, 0)).toBe(7);
        expect(ids(await history.latest('#c', null, 100))).toEqual(['m7', 'm8', 'm9']);
        expect(ids(await history.latest('#d', null, 100))).toEqual(['d0', 'd1']);
        // Both: the newest one of each, of those from 90 on.
        let total = 0;
        for (let n = -1; n !== 0; total += n) n = await history.trim(90, 1, 1);
        expect(total).toBe(4);
        expect(ids(await history.latest('#c', null, 100))).toEqual(['m9']);
        expect(ids(await history.latest('#d', null, 100))).toEqual(['d1']);
        expect(await history.latest('#e', null, 100)).toEqual([]);
        expect(await history.trim(0, 0, 0)).toBe(0);
        // A cap of 0 leaves nothing; a trimmed target takes new entries as before.
        for (let n = -1; n !== 0; ) n = await history.trim(0, 0, 1);
        expect(await history.latest('#c', null, 100)).toEqual([]);
        await history.append([msg('#c', 'again', 1), msg('#c', 'again2', 2)]);
        expect(await history.trim(0, 1, 10)).toBe(1);
        expect(ids(await history.latest('#c', null, 100))).toEqual(['again2']);
      });
    });

    it('keeps a read marker per account and target that never moves back', async () => {
      await using(factory, async (history) => {
        expect(await history.readMarker('alice', '#c')).toBeNull();
        expect(await history.setReadMarker('alice', '#c', 100)).toBe(100);
        expect(await history.setReadMarker('alice', '#c', 50)).toBe(100);
        expect(await history.readMarker('alice', '#c')).toBe(100);
        expect(await history.setReadMarker('alice', '#c', 150)).toBe(150);
        expect(await history.readMarker('alice', '#d')).toBeNull();
        expect(await history.readMarker('bob', '#c')).toBeNull();
        expect(await history.setReadMarker('bob', '#c', 10)).toBe(10);
        expect(await history.readMarker('alice', '#c')).toBe(150);
        // Two connections racing: whatever the order, the later time wins.
        const raced = await Promise.all([120, 180, 160].map((at) => history.setReadMarker('carol', '#c', at)));
        expect(Math.max(...raced)).toBe(180);
        expect(await history.readMarker('carol', '#c')).toBe(180);
      });
    });

    if (factory.closes) {
      it('rejects with STORE_UNAVAILABLE once closed', async () => {
        const { history, close } = await factory.open();
        await close();
        for (const call of [history.latest('#c', null, 10), history.append([msg('#c', 'late', 1)]), history.setReadMarker('a', '#c', 1)]) {
          const err = await call.then(
            () => null,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(ChatError);
          expect((err as ChatError).code).toBe('STORE_UNAVAILABLE');
        }
      });
    }

    describe('answers every range as the slice of a sorted list', () => {
      let opened: { history: HistoryStore; close(): Promise<void> } | null = null;
      beforeAll(async () => {
        opened = await factory.open();
      });
      afterAll(async () => {
        await opened?.close();
      });

      it(`for random entries and questions (${factory.runs} cases)`, async () => {
        const history = opened!.history;
        let run = 0;
        const targets = ['#a', '#b', 'alice bob'];
        const entry = fc.record({
          target: fc.constantFrom(...targets),
          msgid: fc.integer({ min: 0, max: 30 }).map((n) => `m${n}`),
          at: fc.integer({ min: 0, max: 12 }),
          tagged: fc.boolean(),
        });
        const bound: fc.Arbitrary<HistoryBound> = fc.oneof(
          fc.integer({ min: 0, max: 32 }).map((n) => ({ msgid: `m${n}` })),
          fc.integer({ min: -1, max: 13 }).map((at) => ({ at })),
        );
        const limit = fc.integer({ min: 0, max: 12 });
        const question: fc.Arbitrary<Question> = fc.oneof(
          fc.record({ kind: fc.constant('latest' as const), after: fc.option(bound), limit }),
          fc.record({ kind: fc.constantFrom('before' as const, 'after' as const, 'around' as const), bound, limit }),
          fc.record({ kind: fc.constant('between' as const), from: bound, to: bound, limit }),
        );
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.array(entry, { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
            fc.array(fc.record({ target: fc.constantFrom(...targets), question }), { minLength: 1, maxLength: 12 }),
            async (batchSpecs, questions) => {
              // Targets and msgids of this run only: the history is shared by every run.
              const p = `r${++run}`;
              const batches = batchSpecs.map((batch) =>
                batch.map(({ target, msgid, at, tagged }) =>
                  target.includes(' ')
                    ? { ...dm('alice', 'Alice', 'bob', `${p}${msgid}`, at), target: `${p}${target}` }
                    : msg(`${p}${target}`, `${p}${msgid}`, at, tagged ? { tags: { '+draft/reply': msgid } } : {}),
                ),
              );
              for (const batch of batches) await history.append(batch);
              const model = modelOf(batches);
              for (const { target, question: q } of questions) {
                const scoped = scope(q, p);
                const expected = modelAnswer(model.get(`${p}${target}`) ?? [], scoped);
                expect(ids(await ask(history, `${p}${target}`, scoped))).toEqual(ids(expected));
              }
              // Whole entries too, once per run.
              for (const target of targets) {
                expect(await history.latest(`${p}${target}`, null, 100)).toEqual(model.get(`${p}${target}`) ?? []);
              }
            },
          ),
          { numRuns: factory.runs },
        );
      }, 120_000);
    });
  });
}

/** A question with its msgids given the run's prefix. */
function scope(q: Question, p: string): Question {
  const b = (bound: HistoryBound): HistoryBound => ('msgid' in bound ? { msgid: `${p}${bound.msgid}` } : bound);
  if (q.kind === 'latest') return { ...q, after: q.after === null ? null : b(q.after) };
  if (q.kind === 'between') return { ...q, from: b(q.from), to: b(q.to) };
  return { ...q, bound: b(q.bound) };
}
