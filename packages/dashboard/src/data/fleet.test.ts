import { describe, expect, it } from 'vitest'
import { uncoveredBuckets } from './fleet.js'

describe('bucket coverage', () => {
  it('finds the ranges no live host holds', () => {
    expect(
      uncoveredBuckets(
        [
          [0, 499],
          [500, 999],
        ],
        1000,
      ),
    ).toEqual([])
    expect(uncoveredBuckets([[500, 999]], 1000)).toEqual([[0, 499]])
    expect(
      uncoveredBuckets(
        [
          [0, 99],
          [50, 199],
          [300, 899],
        ],
        1000,
      ),
    ).toEqual([
      [200, 299],
      [900, 999],
    ])
    expect(uncoveredBuckets([], 10)).toEqual([[0, 9]])
  })
})
