import { describe, expect, it } from 'vitest'
import { bucketForEndpoint, nextDueAt, phaseOffsetMs } from './phase.js'

/** Pearson's chi-square statistic of counts against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0)
  const expected = total / counts.length
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0)
}

/** A loose upper bound: mean + 6 standard deviations of chi-square with `df` degrees of freedom. */
const bound = (df: number) => df + 6 * Math.sqrt(2 * df)

describe('phaseOffsetMs', () => {
  it('is stable: these values must never change (every host and release must agree)', () => {
    expect(
      [1n, 2n, 42n, 1000n, 123_456_789n, 9_007_199_254_740_993n, 18_446_744_073_709_551_615n].map((id) => [
        phaseOffsetMs(id, 60_000),
        phaseOffsetMs(id, 300_000),
      ]),
    ).toEqual([
      [33_939, 213_939],
      [22_071, 22_071],
      [25_814, 25_814],
      [32_132, 272_132],
      [7_362, 7_362],
      [26_081, 86_081],
      [5_611, 185_611],
    ])
  })

  it('stays inside the interval', () => {
    for (const interval of [1, 7, 1000, 60_000, 86_400_000, 2 ** 32]) {
      for (let id = 0n; id < 200n; id++) {
        const phase = phaseOffsetMs(id, interval)
        expect(phase).toBeGreaterThanOrEqual(0)
        expect(phase).toBeLessThan(interval)
        expect(Number.isInteger(phase)).toBe(true)
      }
    }
  })

  it('spreads 100 000 sequential ids evenly over a 60 s interval', () => {
    const bins = new Array(100).fill(0)
    for (let id = 1n; id <= 100_000n; id++) bins[Math.floor(phaseOffsetMs(id, 60_000) / 600)]++
    expect(chiSquare(bins)).toBeLessThan(bound(99))
    // And no 100 ms tick gets a burst: at most 2× the average of its 60 s share.
    const ticks = new Array(600).fill(0)
    for (let id = 1n; id <= 100_000n; id++) ticks[Math.floor(phaseOffsetMs(id, 60_000) / 100)]++
    expect(Math.max(...ticks)).toBeLessThan((2 * 100_000) / 600)
  })

  it('spreads 100 000 large, sparse ids (blog-id sized) evenly over a 5 min interval', () => {
    const bins = new Array(100).fill(0)
    for (let i = 0n; i < 100_000n; i++)
      bins[Math.floor(phaseOffsetMs(4_000_000_000_000n + i * 7_919n, 300_000) / 3000)]++
    expect(chiSquare(bins)).toBeLessThan(bound(99))
  })

  it.each([0, -1, 1.5, Number.NaN, 2 ** 32 + 1])('rejects interval %s', (interval) => {
    expect(() => phaseOffsetMs(1n, interval)).toThrow(expect.objectContaining({ code: 'INVALID_INTERVAL' }))
  })

  it('rejects negative ids', () => {
    expect(() => phaseOffsetMs(-1n, 60_000)).toThrow(expect.objectContaining({ code: 'INVALID_ID' }))
  })
})

describe('bucketForEndpoint', () => {
  it('is stable and defaults to 1000 buckets', () => {
    expect([1n, 2n, 42n, 1000n, 123_456_789n].map((id) => bucketForEndpoint(id))).toEqual([828, 126, 217, 667, 415])
    expect(bucketForEndpoint(42n, 1000)).toBe(bucketForEndpoint(42n))
  })

  it('spreads 100 000 ids evenly over 1000 buckets', () => {
    const counts = new Array(1000).fill(0)
    for (let id = 1n; id <= 100_000n; id++) counts[bucketForEndpoint(id)]++
    expect(chiSquare(counts)).toBeLessThan(bound(999))
    expect(Math.min(...counts)).toBeGreaterThan(0)
  })

  it('is independent of the phase: a host owning half the buckets still uses the whole second', () => {
    // With one hash for both, phase mod 1000 would equal the bucket for a 60 s interval.
    const bins = new Array(10).fill(0)
    for (let id = 1n; id <= 100_000n; id++) {
      if (bucketForEndpoint(id) < 500) bins[Math.floor((phaseOffsetMs(id, 60_000) % 1000) / 100)]++
    }
    expect(chiSquare(bins)).toBeLessThan(bound(9))
  })

  it.each([0, 65_537, 2.5])('rejects bucket total %s', (total) => {
    expect(() => bucketForEndpoint(1n, total)).toThrow(expect.objectContaining({ code: 'INVALID_BUCKET_TOTAL' }))
  })
})

describe('nextDueAt', () => {
  const intervalMs = 60_000
  const phaseMs = 12_345
  const base = Date.UTC(2026, 4, 1, 10, 0, 0) // a multiple of 60 000
  const slot = (k: number) => base + k * intervalMs + phaseMs

  it('from now: the first due time at or after now', () => {
    expect(nextDueAt({ now: base, intervalMs, phaseMs })).toBe(slot(0))
    expect(nextDueAt({ now: slot(0), intervalMs, phaseMs })).toBe(slot(0))
    expect(nextDueAt({ now: slot(0) + 1, intervalMs, phaseMs })).toBe(slot(1))
    expect(nextDueAt({ now: new Date(slot(0) - 1), intervalMs, phaseMs })).toBe(slot(0))
  })

  it('from the last due time: the next one strictly after it', () => {
    expect(nextDueAt({ lastDueAt: slot(0), intervalMs, phaseMs })).toBe(slot(1))
    expect(nextDueAt({ lastDueAt: slot(0) - 1, intervalMs, phaseMs })).toBe(slot(0))
  })

  it('with both: skips due times that passed while a check overran', () => {
    // Result came back in time: the regular next slot.
    expect(nextDueAt({ lastDueAt: slot(0), now: slot(0) + 5_000, intervalMs, phaseMs })).toBe(slot(1))
    // Result came back 2.5 intervals late: slots 1 and 2 are skipped, not run back to back.
    expect(nextDueAt({ lastDueAt: slot(0), now: slot(2) + 30_000, intervalMs, phaseMs })).toBe(slot(3))
    // Exactly at a slot counts as due now.
    expect(nextDueAt({ lastDueAt: slot(0), now: slot(2), intervalMs, phaseMs })).toBe(slot(2))
  })

  it('aligns every host to the same instants for a given endpoint', () => {
    const phase = phaseOffsetMs(42n, intervalMs)
    const due = nextDueAt({ now: base + 7, intervalMs, phaseMs: phase })
    expect((due - phase) % intervalMs).toBe(0)
    expect(due - (base + 7)).toBeLessThan(intervalMs)
  })

  it('works before 1970 and with phase 0', () => {
    expect(nextDueAt({ now: -1, intervalMs: 1000, phaseMs: 0 })).toBe(0)
    expect(nextDueAt({ now: -1500, intervalMs: 1000, phaseMs: 0 })).toBe(-1000)
  })

  it('rejects bad arguments', () => {
    expect(() => nextDueAt({ now: base, intervalMs, phaseMs: intervalMs })).toThrow(
      expect.objectContaining({ code: 'INVALID_PHASE' }),
    )
    expect(() => nextDueAt({ now: base, intervalMs: 0, phaseMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INTERVAL' }),
    )
    expect(() => nextDueAt({ now: new Date(Number.NaN), intervalMs, phaseMs })).toThrow(
      expect.objectContaining({ code: 'INVALID_TIME' }),
    )
    expect(() => nextDueAt({ now: null, lastDueAt: undefined as unknown as number, intervalMs, phaseMs })).toThrow(
      expect.objectContaining({ code: 'INVALID_TIME' }),
    )
  })
})
