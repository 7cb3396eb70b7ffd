import { describe, expect, it } from 'vitest'
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, retryDelayMs } from './retry.js'

describe('retryDelayMs', () => {
  it('follows the ladder 1 m, 5 m, 30 m, 1 h, 6 h, then gives up after the 6th failure', () => {
    expect(RETRY_DELAYS_SECONDS).toEqual([60, 300, 1_800, 3_600, 21_600])
    expect(MAX_ATTEMPTS).toBe(6)
    const middle = () => 0.5
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, middle))).toEqual([
      60_000, 300_000, 1_800_000, 3_600_000, 21_600_000,
    ])
    expect(retryDelayMs(6, middle)).toBeNull()
    expect(retryDelayMs(7, middle)).toBeNull()
  })

  it('jitters by at most ±10 %', () => {
    expect(retryDelayMs(1, () => 0)).toBe(54_000)
    expect(retryDelayMs(1, () => 0.999_999_999)).toBe(66_000)
    for (let i = 0; i < 1_000; i++) {
      const delay = retryDelayMs(5)!
      expect(delay).toBeGreaterThanOrEqual(21_600_000 * 0.9)
      expect(delay).toBeLessThanOrEqual(21_600_000 * 1.1)
    }
  })

  it('refuses a count that is not a failed attempt', () => {
    expect(() => retryDelayMs(0)).toThrow(RangeError)
    expect(() => retryDelayMs(1.5)).toThrow(RangeError)
  })
})
