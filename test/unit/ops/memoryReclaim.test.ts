// Giving memory back after a burst (src/ops/memoryReclaim.ts): when to, and that V8's real full
// collection, reached without --expose-gc, shrinks a heap a burst has grown.
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { shouldReclaim, startMemoryReclaim, type Reclaimed } from '../../../src/ops/memoryReclaim.js';

const MiB = 1024 * 1024;
const settings = { checkMs: 100, maxBusy: 0.1, minSlackBytes: 16 * MiB };

describe('reclaiming memory after a burst', () => {
  it('collects only when the loop was quiet and the heap holds much more than it uses', () => {
    const reading = { busy: 0.02, heapBytes: 90 * MiB, usedBytes: 20 * MiB, lastReclaimedTo: 0 };
    expect(shouldReclaim(reading, settings)).toBe(true);
    expect(shouldReclaim({ ...reading, busy: 0.5 }, settings)).toBe(false); // still busy
    expect(shouldReclaim({ ...reading, heapBytes: 30 * MiB }, settings)).toBe(false); // little to gain
    expect(shouldReclaim({ ...reading, busy: 0.1, heapBytes: 36 * MiB }, settings)).toBe(true); // the edges count
  });

  it('collects once per burst: the heap must grow again after a reclaim', () => {
    const loose = { busy: 0.02, heapBytes: 60 * MiB, usedBytes: 20 * MiB };
    expect(shouldReclaim({ ...loose, lastReclaimedTo: 55 * MiB }, settings)).toBe(false);
    expect(shouldReclaim({ ...loose, lastReclaimedTo: 44 * MiB }, settings)).toBe(true);
  });

  it('never looks with a check interval of 0', async () => {
    const heard: Reclaimed[] = [];
    const stop = startMemoryReclaim({ ...settings, checkMs: 0, minSlackBytes: 0, maxBusy: 1 }, (r) => heard.push(r));
    await new Promise((r) => setTimeout(r, 300));
    stop();
    expect(heard).toEqual([]);
  });

  it('shrinks the heap a burst of short-lived garbage grew, once the burst is over', async () => {
    // A burst: many objects that live a little while (each batch kept until the next), as the
    // lines of a join storm do, so that V8 grows its young generation.
    let kept: unknown[] = [];
    for (let round = 0; round < 200; round++) {
      const batch: unknown[] = [];
      for (let i = 0; i < 20_000; i++) batch.push({ round, i, text: `line ${round} ${i}` });
      kept = batch;
    }
    kept = [];
    const grown = v8.getHeapStatistics();
    const slack = grown.total_heap_size - grown.used_heap_size;
    // What counts as worth it is set from this heap, so the test does not depend on V8's sizes.
    const minSlackBytes = Math.max(1 * MiB, Math.floor(slack / 4));
    const heard: Reclaimed[] = [];
    const stop = startMemoryReclaim({ checkMs: 150, maxBusy: 0.5, minSlackBytes }, (r) => heard.push(r));
    try {
      const deadline = Date.now() + 5_000;
      while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Once: three more quiet intervals pass without another collection.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop();
    }
    expect(kept).toEqual([]);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.heapAfter).toBeLessThan(heard[0]!.heapBefore);
    expect(heard[0]!.ms).toBeGreaterThanOrEqual(0);
  });
});
