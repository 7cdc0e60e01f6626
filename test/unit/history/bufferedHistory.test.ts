// The write buffer in front of the history store and the retention loop, against a store that
// records what it is asked (the stores themselves have their contract suite in test/store/).
import { describe, expect, it, vi } from 'vitest';
import { BufferedHistory } from '../../../src/history/bufferedHistory.js';
import type { HistoryEntry, HistoryStore } from '../../../src/history/history.js';
import { startRetention, trimHistory } from '../../../src/history/retention.js';
import type { LogFields, LogLevel } from '../../../src/core/logger.js';

function entry(n: number): HistoryEntry {
  return { target: '#c', msgid: `m${n}`, at: n, command: 'PRIVMSG', source: 'a!~a@h', account: null, params: ['#c', `t${n}`], tags: {}, between: null };
}

/** A store that keeps appended batches, can be made to fail, and trims `rows` entries in steps. */
function recordingStore(rows = 0) {
  const batches: HistoryEntry[][] = [];
  let failing = false;
  let left = rows;
  const trims: number[] = [];
  const store = {
    async append(entries: readonly HistoryEntry[]) {
      if (failing) throw new Error('disk full');
      batches.push([...entries]);
    },
    async latest() {
      return batches.flat();
    },
    async trim(_olderThan: number, _max: number, maxRows: number) {
      const n = Math.min(left, maxRows);
      left -= n;
      trims.push(n);
      return n;
    },
  } as unknown as HistoryStore;
  return { store, batches, trims, fail: (on: boolean) => void (failing = on) };
}

function logger() {
  const lines: Array<{ level: LogLevel; event: string; fields: LogFields }> = [];
  return { lines, log: (level: LogLevel, event: string, fields: LogFields) => void lines.push({ level, event, fields }) };
}

describe('BufferedHistory', () => {
  it('writes what waits together after flushMs, and at once at flushMaxEntries', async () => {
    vi.useFakeTimers();
    try {
      const { store, batches } = recordingStore();
      const h = new BufferedHistory(store, { flushMs: 20, flushMaxEntries: 3, bufferMaxEntries: 100, logger: logger() });
      await h.append([entry(1)]);
      await h.append([entry(2)]);
      expect(batches).toEqual([]);
      await vi.advanceTimersByTimeAsync(20);
      expect(batches.map((b) => b.map((e) => e.msgid))).toEqual([['m1', 'm2']]);
      await h.append([entry(3), entry(4), entry(5)]);
      await h.flush();
      expect(batches.map((b) => b.map((e) => e.msgid))).toEqual([['m1', 'm2'], ['m3', 'm4', 'm5']]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes what waits before a read, so a reader sees everything its node delivered', async () => {
    const { store } = recordingStore();
    const h = new BufferedHistory(store, { flushMs: 60_000, flushMaxEntries: 1_000, bufferMaxEntries: 1_000, logger: logger() });
    await h.append([entry(1), entry(2)]);
    expect((await h.latest('#c', null, 10)).map((e) => e.msgid)).toEqual(['m1', 'm2']);
  });

  it('drops, counts and logs once what it cannot write or hold, and says how much was lost when the store is back', async () => {
    const { store, batches, fail } = recordingStore();
    const log = logger();
    const h = new BufferedHistory(store, { flushMs: 60_000, flushMaxEntries: 1_000, bufferMaxEntries: 2, logger: log });
    fail(true);
    await h.append([entry(1)]);
    await h.flush();
    await h.append([entry(2)]);
    await h.flush();
    expect(log.lines.map((l) => l.event)).toEqual(['history.writeFailed']);
    fail(false);
    // Over the buffer's bound: only two of three are held.
    await h.append([entry(3), entry(4), entry(5)]);
    await h.flush();
    expect(batches.map((b) => b.map((e) => e.msgid))).toEqual([['m3', 'm4']]);
    expect(log.lines.at(-1)).toMatchObject({ event: 'history.recovered', fields: { lost: 3 } });
  });
});

describe('retention', () => {
  it('trims in steps of batchRows until a step finds less, and the background loop runs each interval', async () => {
    const { store, trims } = recordingStore(2_500);
    expect(await trimHistory(store, { maxAgeDays: 1, maxPerTarget: 10, batchRows: 1_000, now: () => 86_400_000 * 3 })).toBe(2_500);
    expect(trims).toEqual([1_000, 1_000, 500]);
    const again = recordingStore(5);
    const log = logger();
    const stop = startRetention(again.store, { maxAgeDays: 0, maxPerTarget: 10, intervalMs: 10, batchRows: 100, now: Date.now, logger: log });
    await vi.waitFor(() => expect(log.lines).toEqual([{ level: 'info', event: 'history.trimmed', fields: { entries: 5 } }]));
    stop();
  });
});
