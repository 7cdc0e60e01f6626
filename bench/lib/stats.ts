// Small, pure statistics for the benchmarks: medians across runs, percentiles within one, a
// latency histogram, a tally of reasons, and the order in which the servers take turns.

/** The median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (`p` in 0..100) of values already sorted ascending; NaN when empty. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** `items` starting at position `k` (mod its length): which server goes first changes from run to run. */
export function rotate<T>(items: readonly T[], k: number): T[] {
  const n = ((k % items.length) + items.length) % items.length;
  return [...items.slice(n), ...items.slice(0, n)];
}

/** Adds `n` to `into[key]`: failures by reason, members by channel. */
export function tally(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

// --- Latency histogram ---------------------------------------------------------------------
// Log-linear buckets of µs: exact below 64 µs, then 64 buckets per power of two (±0.8 %), up to
// 2^37 µs. Small enough to send over IPC as [bucket, count] pairs and to merge by adding, whatever
// the number of samples; hdr-histogram-js does the same with another wire format and percentile
// rule (the highest value of a bucket, where this reports its middle).

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
