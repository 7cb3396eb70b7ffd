import { describe, expect, it } from 'vitest'
import {
  bucketIndex,
  bucketUpperEdge,
  emptyHistogram,
  histogramOf,
  histogramTotal,
  mergeHistograms,
  nearestRank,
  percentileFromHistogram,
  percentileNearestRank,
  RTT_BUCKET_EDGES_MS,
  RTT_BUCKETS,
} from './histogram.js'

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Whole-millisecond RTTs spread log-uniformly over 0 ms … 90 s (some overflow). */
function rtts(count: number, seed: number): number[] {
  const random = prng(seed)
  return Array.from({ length: count }, () => Math.floor(Math.exp(random() * Math.log(90_000))) - 1)
}

describe('bucket edges (a storage contract: rows written with other edges would not add up)', () => {
  it('are pinned', () => {
    expect(RTT_BUCKET_EDGES_MS).toEqual([
      1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800,
      1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 20000, 25000, 30000, 40000,
      50000, 60000,
    ])
    expect(RTT_BUCKETS).toBe(47)
    expect(emptyHistogram()).toHaveLength(47)
    expect(Object.isFrozen(RTT_BUCKET_EDGES_MS)).toBe(true)
  })

  it('place a value in the bucket whose upper edge is the first edge ≥ the value', () => {
    expect(bucketIndex(0)).toBe(0)
    expect(bucketIndex(0.4)).toBe(0)
    RTT_BUCKET_EDGES_MS.forEach((edge, i) => {
      expect(bucketIndex(edge)).toBe(i)
      expect(bucketIndex(edge + 0.001)).toBe(i + 1)
    })
    expect(bucketIndex(60_001)).toBe(46)
    expect(bucketIndex(3_600_000)).toBe(46)
    expect(bucketUpperEdge(46)).toBe(60_000)
  })

  it('refuse negative and non-finite timings', () => {
    expect(() => bucketIndex(-1)).toThrow(RangeError)
    expect(() => bucketIndex(Number.NaN)).toThrow(RangeError)
    expect(() => bucketIndex(Number.POSITIVE_INFINITY)).toThrow(RangeError)
  })

  it('bound the error: whole ms up to 6 are exact, above that the upper edge is < 4/3 of the value', () => {
    let worst = 1
    const violations: number[] = []
    for (let ms = 1; ms <= 60_000; ms++) {
      const reported = bucketUpperEdge(bucketIndex(ms))
      if (reported < ms || (ms <= 6 && reported !== ms)) violations.push(ms)
      worst = Math.max(worst, reported / ms)
    }
    expect(violations).toEqual([])
    expect(worst).toBeLessThan(4 / 3)
    expect(worst).toBeGreaterThan(1.33) // the bound is tight (30 001 → 40 000)
    expect(bucketUpperEdge(bucketIndex(0))).toBe(1)
  })
})

describe('histograms', () => {
  it('merge bucket by bucket, treating missing counts as zero', () => {
    const a = histogramOf([1, 1, 7, 70_000])
    const b = histogramOf([1, 500])
    const merged = mergeHistograms(a, b)
    expect(merged).toEqual(histogramOf([1, 1, 7, 70_000, 1, 500]))
    expect(histogramTotal(merged)).toBe(6)
    expect(mergeHistograms([], [])).toEqual(emptyHistogram())
    expect(mergeHistograms([2, 1], a)[0]).toBe(4)
    expect(a).toEqual(histogramOf([1, 1, 7, 70_000])) // inputs untouched
  })
})

describe('nearest-rank percentiles', () => {
  it('follow the textbook definition on raw values', () => {
    const values = [15, 20, 35, 40, 50]
    expect(percentileNearestRank(values, 5)).toBe(15)
    expect(percentileNearestRank(values, 30)).toBe(20)
    expect(percentileNearestRank(values, 40)).toBe(20)
    expect(percentileNearestRank(values, 50)).toBe(35)
    expect(percentileNearestRank(values, 100)).toBe(50)
    expect(percentileNearestRank(values, 0)).toBe(15)
    expect(percentileNearestRank([], 50)).toBeNull()
  })

  it('are not thrown off by binary rounding', () => {
    expect(nearestRank(99.9, 1000)).toBe(999)
    expect(nearestRank(29, 100)).toBe(29)
    expect(nearestRank(95, 20)).toBe(19)
    expect(nearestRank(50, 1)).toBe(1)
    expect(() => nearestRank(101, 10)).toThrow(RangeError)
    expect(() => nearestRank(-1, 10)).toThrow(RangeError)
  })

  it('from a histogram are the upper edge of the bucket holding the raw nearest-rank value', () => {
    for (const seed of [1, 2, 3, 42]) {
      const values = rtts(5_000 + seed, seed)
      const sorted = Float64Array.from(values).sort()
      const hist = histogramOf(values)
      for (const p of [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]) {
        const raw = percentileNearestRank(sorted, p)!
        const fromHist = percentileFromHistogram(hist, p)!
        expect(fromHist).toBe(bucketUpperEdge(bucketIndex(raw)))
        // The documented error bound.
        if (raw > 60_000) expect(fromHist).toBe(60_000)
        else if (raw === 0) expect(fromHist).toBe(1)
        else {
          expect(fromHist).toBeGreaterThanOrEqual(raw)
          expect(fromHist).toBeLessThan((raw * 4) / 3)
        }
      }
    }
  })

  it('of an empty histogram are null', () => {
    expect(percentileFromHistogram(emptyHistogram(), 50)).toBeNull()
    expect(percentileFromHistogram([], 50)).toBeNull()
  })
})
