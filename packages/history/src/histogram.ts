/**
 * The RTT histogram stored in `jetmon_check_rollups.rtt_hist`: counts per fixed, log-scale bucket.
 *
 * Every row of every host uses the same bucket edges, so histograms of different hours, endpoints
 * and hosts add up bucket by bucket, and percentiles over long windows come from the merged
 * histogram. The edges are therefore a storage contract: changing them would silently corrupt every
 * statistic computed over rows written before the change (a test pins them).
 *
 * Edges follow the 1–1.2–1.5–2–2.5–3–4–5–6–8 series per decade (whole milliseconds below 10 ms),
 * from 1 ms to 60 s, plus one overflow bucket. Consecutive edges differ by at most a factor 4/3
 * from 10 ms on, and every whole millisecond up to 6 ms has a bucket of its own.
 */

/**
 * Upper edges in milliseconds, inclusive: bucket `i` holds `edges[i-1] < ms <= edges[i]` (bucket 0
 * holds `0 <= ms <= 1`); bucket `RTT_BUCKET_EDGES_MS.length` is the overflow bucket (`ms > 60 000`).
 */
export const RTT_BUCKET_EDGES_MS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800, 1_000,
  1_200, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000, 12_000, 15_000, 20_000, 25_000, 30_000, 40_000,
  50_000, 60_000,
])

/** Number of buckets in every histogram: one per edge plus the overflow bucket (47). */
export const RTT_BUCKETS = RTT_BUCKET_EDGES_MS.length + 1

const LAST_EDGE = RTT_BUCKET_EDGES_MS[RTT_BUCKET_EDGES_MS.length - 1] as number

/** A histogram: `RTT_BUCKETS` non-negative integer counts, as stored in `rtt_hist`. */
export type RttHistogram = number[]

/**
 * The bucket that holds a round-trip time of `ms` milliseconds (a non-negative finite number).
 * @throws RangeError for negative, NaN or infinite input — a timing is never negative.
 */
export function bucketIndex(ms: number): number {
  if (!(ms >= 0) || ms === Number.POSITIVE_INFINITY) {
    throw new RangeError(`an RTT must be a finite number of milliseconds ≥ 0, got ${ms}`)
  }
  if (ms > LAST_EDGE) return RTT_BUCKETS - 1
  // Binary search for the first edge ≥ ms.
  let lo = 0
  let hi = RTT_BUCKET_EDGES_MS.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((RTT_BUCKET_EDGES_MS[mid] as number) < ms) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The value a bucket stands for in percentiles: its upper edge. The overflow bucket has none and
 * reports the last edge (60 000 ms), which is then a lower bound of the true value.
 */
export function bucketUpperEdge(index: number): number {
  return RTT_BUCKET_EDGES_MS[index] ?? LAST_EDGE
}

/** A histogram with every count at zero. */
export function emptyHistogram(): RttHistogram {
  return new Array<number>(RTT_BUCKETS).fill(0)
}

/** A histogram of the given round-trip times (milliseconds). */
export function histogramOf(values: Iterable<number>): RttHistogram {
  const hist = emptyHistogram()
  for (const ms of values) hist[bucketIndex(ms)]!++
  return hist
}

/**
 * The bucket-wise sum of two histograms, as a new array. Missing trailing counts (a shorter or
 * NULL-derived array) count as zero, so a row written by another tool never breaks the sum.
 */
export function mergeHistograms(a: readonly number[], b: readonly number[]): RttHistogram {
  const out = new Array<number>(Math.max(RTT_BUCKETS, a.length, b.length))
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0)
  return out
}

/** Number of samples a histogram holds. */
export function histogramTotal(hist: readonly number[]): number {
  let total = 0
  for (const count of hist) total += count
  return total
}

/**
 * The 1-based nearest rank of percentile `p` (0–100) among `n` samples: `ceil(p/100 · n)`, at least
 * 1. A relative tolerance absorbs binary rounding (`99.9 · 1000 / 100` must be rank 999, not 1000).
 */
export function nearestRank(p: number, n: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`a percentile must be within 0–100, got ${p}`)
  const exact = (p * n) / 100
  const rank = Math.ceil(exact - exact * 1e-12)
  return Math.min(n, Math.max(1, rank))
}

/**
 * Nearest-rank percentile `p` (0–100) of values sorted ascending: the smallest value such that at
 * least `p` % of the values are ≤ it. `p = 100` is the maximum, `p = 0` the minimum. Null when
 * there are no values.
 */
export function percentileNearestRank(sortedValues: ArrayLike<number>, p: number): number | null {
  const n = sortedValues.length
  if (n === 0) return null
  return sortedValues[nearestRank(p, n) - 1] as number
}

/**
 * Nearest-rank percentile `p` (0–100) of a histogram, reported as the upper edge of the bucket
 * that holds the nearest-rank sample. Null for an empty histogram.
 *
 * It equals `bucketUpperEdge(bucketIndex(percentileNearestRank(raw, p)))` for the raw values the
 * histogram was built from, which bounds the error: for whole milliseconds (what the recorder
 * stores) the result is exact from 1 to 6 ms, reports 1 for 0 ms, and otherwise is ≥ the true
 * value and < 4/3 of it (worst case just above an edge, e.g. 31 ms → 40 ms). Beyond 60 s (the
 * overflow bucket) it reports 60 000, a lower bound.
 */
export function percentileFromHistogram(hist: readonly number[], p: number): number | null {
  const total = histogramTotal(hist)
  if (total === 0) return null
  const rank = nearestRank(p, total)
  let seen = 0
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] ?? 0
    if (seen >= rank) return bucketUpperEdge(i)
  }
  return bucketUpperEdge(hist.length - 1)
}
