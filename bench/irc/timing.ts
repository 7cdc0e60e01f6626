// What every part of the IRC benchmark shares: the loopback address, one clock for every process
// on the machine (so that a time taken in a load generator compares with one taken in the
// benchmark), a latency histogram small enough to send over IPC and to merge by adding whatever
// the number of samples, and a tally of reasons.

import { sleep } from '../lib/wait.js';

/** CLOCK_MONOTONIC in µs: the same clock in every process on the machine (and V8's profiles). */
export const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Resolves at `us` on that clock (at once if it has passed). */
export const until = (us: number): Promise<void> => sleep(Math.max(0, (us - monoUs()) / 1000));

/** Adds `n` to `into[key]`: failures by reason, members by channel. */
export function tally(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

// Log-linear buckets in µs: exact below 64 µs, then 64 buckets per power of two (±0.8 %).
const subBits = 6;
const subBuckets = 1 << subBits;
export const histogramSize = subBuckets * 32;

export function bucketOf(us: number): number {
  const v = Math.max(0, Math.floor(us));
  if (v < subBuckets) return v;
  const exp = Math.floor(Math.log2(v));
  // v / 2^(exp - subBits) is in [subBuckets, 2 * subBuckets): its offset is the sub-bucket.
  const sub = Math.floor(v / 2 ** (exp - subBits)) - subBuckets;
  return Math.min(histogramSize - 1, subBuckets + (exp - subBits) * subBuckets + sub);
}

/** The middle of bucket `i`, µs. */
function valueOf(i: number): number {
  if (i < subBuckets) return i;
  const exp = Math.floor((i - subBuckets) / subBuckets) + subBits;
  const sub = (i - subBuckets) % subBuckets;
  const width = 2 ** (exp - subBits);
  return (subBuckets + sub) * width + width / 2;
}

/** Nearest-rank percentile (`p` in 0..100) of a histogram, µs; NaN when empty. */
export function histogramPercentile(h: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < h.length; i += 1) total += h[i]!;
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < h.length; i += 1) {
    seen += h[i]!;
    if (seen >= rank) return valueOf(i);
  }
  return Number.NaN;
}

/** A histogram's non-empty buckets as [bucket, count] pairs: what goes over IPC. */
export function histogramPairs(h: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < h.length; i += 1) if (h[i]! > 0) out.push([i, h[i]!]);
  return out;
}

/** Pairs from several processes added into one histogram. */
export function mergeHistograms(parts: ReadonlyArray<ReadonlyArray<[number, number]>>): Float64Array {
  const h = new Float64Array(histogramSize);
  for (const pairs of parts) for (const [i, n] of pairs) h[i]! += n;
  return h;
}
