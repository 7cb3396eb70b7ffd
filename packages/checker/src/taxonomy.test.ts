import { describe, expect, it } from 'vitest'
import { ERROR_CODES, errorName, isDowntime, statusType } from './taxonomy.js'

describe('the failure taxonomy', () => {
  it('keeps the numbering of the old system for codes 0–7 and gives new names new numbers', () => {
    expect(ERROR_CODES).toEqual({
      timeout: 1,
      connect: 2,
      tls: 3,
      redirect: 4,
      keyword: 5,
      tls_expired: 6,
      tls_deprecated: 7,
      partial_response: 8,
      dns: 9,
      http_status: 10,
      empty_body: 11,
      monitor_error: 99,
    })
  })

  it.each([
    [0, false],
    [1, true],
    [2, true],
    [3, true],
    [4, true],
    [5, true],
    [6, true],
    [7, false],
    [8, true],
    [9, true],
    [10, true],
    [11, true],
    [99, false],
  ])('code %i counts as downtime: %s', (code, down) => {
    expect(isDowntime(code)).toBe(down)
    expect(isDowntime({ errorCode: code })).toBe(down)
  })

  it.each([
    [0, null, 'success'],
    [1, null, 'intermittent'],
    [2, null, 'intermittent'],
    [3, null, 'https'],
    [4, null, 'redirect'],
    [5, 200, 'intermittent'],
    [6, null, 'https'],
    [7, 200, 'success'],
    [8, 200, 'intermittent'],
    [9, null, 'intermittent'],
    [10, 403, 'blocked'],
    [10, 500, 'server'],
    [10, 503, 'server'],
    [10, 404, 'client'],
    [11, 200, 'intermittent'],
    [99, null, null],
  ] as const)('code %i with HTTP %s reports status_type %s', (errorCode, httpStatus, expected) => {
    expect(statusType({ errorCode, httpStatus })).toBe(expected)
  })

  it('names codes, with null for success', () => {
    expect(errorName(0)).toBeNull()
    expect(errorName(9)).toBe('dns')
    expect(errorName(42)).toBe('unknown')
  })
})
