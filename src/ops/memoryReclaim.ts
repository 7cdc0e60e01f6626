// Gives memory back to the system once a burst is over. A burst (a join storm, a netsplit's
// clients coming back) makes V8 grow its young generation to its largest (two 16 MiB
// semi-spaces) and its old space with the garbage of the moment; both stay that size long after
// the work is done: V8 shrinks them only in a full collection that finds the allocation rate
// low, and nothing asks for one when the process goes quiet. Measured: 2,000 clients joining
// one channel left RSS 21-25 KiB per client higher 30 s later; after one full collection in
// the quiet that followed, 5 KiB (ngircd's, for the same storm: 5.6).
//
// So every reclaimCheckMs the CLI looks at the last interval: when the event loop was mostly
// idle and the heap holds much more than it uses, it runs one full collection. It runs only
// in the quiet (a compacting collection stops everything for its length: ~16 ms after a
// 2,000-client storm, ~85 ms for the 50 MiB live after 10,000), and once per burst: the next
// one waits until the heap has grown again.

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

export interface ReclaimSettings {
  /** How often to look; 0 = never (config.reclaimCheckMs). */
  checkMs: number;
  /** The event loop was busy at most this share of the interval (0..1). */
  maxBusy: number;
  /** The heap holds at least this much more than it uses. */
  minSlackBytes: number;
}

export interface HeapReading {
  /** Share of the interval the event loop was busy (eventLoopUtilization). */
  busy: number;
  /** V8's heap size and what of it is in use, bytes. */
  heapBytes: number;
  usedBytes: number;
  /** The heap's size after the last reclaim, bytes (0 before the first). */
  lastReclaimedTo: number;
}

/**
 * Whether to collect now, for one interval's reading. Pure. Once per burst: after a reclaim,
 * the heap must first grow by minSlackBytes again (a heap that stays loose after a collection
 * would otherwise be collected every quiet interval, for nothing).
 */
export function shouldReclaim(reading: HeapReading, settings: ReclaimSettings): boolean {
  const { busy, heapBytes, usedBytes, lastReclaimedTo } = reading;
  const { maxBusy, minSlackBytes } = settings;
  return busy <= maxBusy && heapBytes - usedBytes >= minSlackBytes && heapBytes - lastReclaimedTo >= minSlackBytes;
}

type FullCollection = () => void;

/**
 * V8's own full collection. Node exposes it only with --expose-gc; the flag, set now, makes
 * `gc` a global of contexts created from then on (it is put back at once, so no other code
 * sees a `gc` it did not ask for). Null when the runtime refuses.
 */
function fullCollection(): FullCollection | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as FullCollection;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? (gc as FullCollection) : null;
  } catch {
    return null;
  }
}

/**
 * One full collection that also compacts: a plain one frees objects but keeps every page that
 * still holds a live one, and after a storm that is most of them (10,000 clients joining one
 * channel: 50 MiB live in a 127 MiB heap stayed 116 MiB after a plain collection). Compacting
 * moves the survivors together and gives the emptied pages back; it costs about twice the
 * pause, which is why this runs only in the quiet. The flag is V8's own and put back at once.
 */
function compacting(gc: FullCollection): void {
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

export interface Reclaimed {
  /** V8's heap size before and after, bytes; the collection's length. */
  heapBefore: number;
  heapAfter: number;
  ms: number;
  /** RSS before, bytes (the pages freed leave it over the next moments, not at once). */
  rss: number;
}

/**
 * Starts looking every settings.checkMs; `onReclaimed` hears of each collection. Returns the
 * stop function (the timer never keeps the process alive).
 */
export function startMemoryReclaim(settings: ReclaimSettings, onReclaimed: (r: Reclaimed) => void): () => void {
  if (settings.checkMs <= 0) return () => {};
  const gc = fullCollection();
  if (gc === null) return () => {};
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let lastReclaimedTo = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const heap = v8.getHeapStatistics();
    if (!shouldReclaim({ busy, heapBytes: heap.total_heap_size, usedBytes: heap.used_heap_size, lastReclaimedTo }, settings)) return;
    const rss = process.memoryUsage.rss();
    const startedAt = performance.now();
    compacting(gc);
    const ms = performance.now() - startedAt;
    lastReclaimedTo = v8.getHeapStatistics().total_heap_size;
    onReclaimed({ heapBefore: heap.total_heap_size, heapAfter: lastReclaimedTo, ms, rss });
    // The collection itself counts as busy time: the next interval starts after it.
    last = performance.eventLoopUtilization();
  }, settings.checkMs);
  timer.unref();
  return () => clearInterval(timer);
}
