import { describe, expect, it } from 'vitest'
import { cursorBigint, cursorDate, decodeCursor, encodeCursor } from './_cursor.js'

describe('cursors', () => {
  it('round-trip their parts and are URL-safe', () => {
    const cursor = encodeCursor('e', [1_767_225_600_123, '18446744073709551615'])
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    const [ms, id] = decodeCursor('e', cursor, 2)
    expect(cursorDate(ms)).toEqual(new Date(1_767_225_600_123))
    expect(cursorBigint(id)).toBe(18_446_744_073_709_551_615n)
  })

  it('reject other lists’ cursors, wrong shapes and garbage with INVALID_CURSOR', () => {
    const invalid = [
      () => decodeCursor('e', encodeCursor('t', ['5']), 2),
      () => decodeCursor('e', encodeCursor('e', ['5']), 2),
      () => decodeCursor('t', Buffer.from('{"a":1}').toString('base64url'), 1),
      () => decodeCursor('t', '!!!', 1),
      () => cursorBigint('-5'),
      () => cursorBigint('1e3'),
      () => cursorDate('soon'),
      () => cursorBigint('18446744073709551616'),
      () => cursorBigint('99999999999999999999'),
      () => cursorDate('9007199254740991'),
      () => cursorDate('-1000000000000000'),
      () => cursorDate('1.5'),
    ]
    for (const attempt of invalid) expect(attempt).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }))
  })
})
