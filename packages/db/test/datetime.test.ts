/** A raw statement's `DATETIME` text is UTC: read the same whatever the process's time zone. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dateTimeIso, dateTimeMs } from '../src/index.js'

describe('dateTimeIso and dateTimeMs', () => {
  let zone: string | undefined
  beforeEach(() => {
    zone = process.env.TZ
    // Five hours and a half from UTC: a value read as local time cannot come out right by luck.
    process.env.TZ = 'Asia/Kolkata'
  })
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ
    else process.env.TZ = zone
  })

  it.each([
    ['2026-05-01 11:59:00', '2026-05-01T11:59:00.000Z'],
    ['2026-05-01 11:59:00.120', '2026-05-01T11:59:00.120Z'],
    ['2026-05-01 11:59:00.123456', '2026-05-01T11:59:00.123Z'],
    ['2026-05-01 11:59:00.5', '2026-05-01T11:59:00.500Z'],
    ['2026-05-01T11:59:00.000Z', '2026-05-01T11:59:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(new Date(text.replace('Z', '')).toISOString()).not.toBe(iso)
    expect(dateTimeIso(text)).toBe(iso)
    expect(dateTimeMs(text)).toBe(Date.parse(iso))
  })

  it('takes a Date as it is', () => {
    const date = new Date('2026-05-01T11:59:00.250Z')
    expect(dateTimeIso(date)).toBe('2026-05-01T11:59:00.250Z')
    expect(dateTimeMs(date)).toBe(date.getTime())
  })
})
