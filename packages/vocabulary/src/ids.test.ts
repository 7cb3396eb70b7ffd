import { describe, expect, it } from 'vitest'
import { InvalidIdError } from './errors.js'
import { canonicalId, jsonId, MAX_JSON_NUMBER_ID } from './ids.js'

describe('jsonId', () => {
  it.each([
    [0n, 0],
    [1n, 1],
    [9_007_199_254_740_991n, 9_007_199_254_740_991],
    [9_007_199_254_740_992n, 9_007_199_254_740_992], // 2^53 itself: "≤ 2^53" is a number
    [9_007_199_254_740_993n, '9007199254740993'],
    [18_446_744_073_709_551_615n, '18446744073709551615'], // BIGINT UNSIGNED max
  ])('%s ⇒ %j', (id, expected) => {
    expect(jsonId(id)).toBe(expected)
  })

  it('writes ids up to MAX_JSON_NUMBER_ID as numbers and the next one as a string', () => {
    expect(MAX_JSON_NUMBER_ID).toBe(2n ** 53n)
    expect(jsonId(MAX_JSON_NUMBER_ID)).toBe(Number(MAX_JSON_NUMBER_ID))
    expect(jsonId(MAX_JSON_NUMBER_ID + 1n)).toBe((MAX_JSON_NUMBER_ID + 1n).toString())
  })

  it('rejects negative ids', () => {
    expect(() => jsonId(-1n)).toThrow(expect.objectContaining({ code: 'INVALID_ID' }))
    expect(() => jsonId(-1n)).toThrow(InvalidIdError)
  })
})

describe('canonicalId', () => {
  it.each([
    [42n, '42'],
    [42, '42'],
    ['0042', '42'],
    [' 42 ', '42'],
    ['18446744073709551615', '18446744073709551615'],
    [4.5, '4.5'],
    ['abc', 'abc'],
  ])('%s ⇒ %s', (id, expected) => {
    expect(canonicalId(id)).toBe(expected)
  })
})
