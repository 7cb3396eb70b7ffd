import { describe, expect, it } from 'vitest'
import {
  BURN_LOOKBACKS,
  isObjectiveWindow,
  LOOKBACK_MS,
  lookbackPeriod,
  objectiveWindow,
  windowLengthMs,
} from '../src/windows.js'

const DAY = 86_400_000
const at = (iso: string) => new Date(iso)

describe('objectiveWindow', () => {
  it('is the last N days for a rolling window', () => {
    const now = at('2026-03-10T12:34:56.789Z')
    for (const [window, days] of [
      ['7d', 7],
      ['28d', 28],
      ['30d', 30],
      ['90d', 90],
    ] as const) {
      const { from, to } = objectiveWindow(window, now)
      expect(to).toEqual(now)
      expect(now.getTime() - from.getTime()).toBe(days * DAY)
    }
    expect(objectiveWindow('30d', now).from).toEqual(at('2026-02-08T12:34:56.789Z'))
  })

  it('starts at the first instant of the UTC month', () => {
    expect(objectiveWindow('month', at('2026-03-10T12:00:00Z')).from).toEqual(at('2026-03-01T00:00:00Z'))
    expect(objectiveWindow('month', at('2026-03-31T23:59:59.999Z')).from).toEqual(at('2026-03-01T00:00:00Z'))
    // The first instant of a month opens an empty window of that month.
    const first = objectiveWindow('month', at('2026-04-01T00:00:00Z'))
    expect(first.from).toEqual(at('2026-04-01T00:00:00Z'))
    expect(first.to).toEqual(first.from)
    // January: the year does not roll back.
    expect(objectiveWindow('month', at('2027-01-01T00:00:00.001Z')).from).toEqual(at('2027-01-01T00:00:00Z'))
  })

  it('starts at the first instant of the UTC quarter', () => {
    expect(objectiveWindow('quarter', at('2026-02-15T08:00:00Z')).from).toEqual(at('2026-01-01T00:00:00Z'))
    expect(objectiveWindow('quarter', at('2026-06-30T23:59:59Z')).from).toEqual(at('2026-04-01T00:00:00Z'))
    expect(objectiveWindow('quarter', at('2026-07-01T00:00:00Z')).from).toEqual(at('2026-07-01T00:00:00Z'))
    expect(objectiveWindow('quarter', at('2026-12-31T23:59:59Z')).from).toEqual(at('2026-10-01T00:00:00Z'))
  })

  it('uses UTC, not the local time zone, at a boundary', () => {
    // 23:30 UTC on 31 January is 1 February in UTC+1, still January in UTC.
    expect(objectiveWindow('month', at('2026-01-31T23:30:00Z')).from).toEqual(at('2026-01-01T00:00:00Z'))
    expect(objectiveWindow('month', at('2026-01-31T23:30:00-05:00')).from).toEqual(at('2026-02-01T00:00:00Z'))
  })

  it('rejects an unknown window', () => {
    expect(() => objectiveWindow('1y' as never, new Date())).toThrow(RangeError)
    expect(isObjectiveWindow('quarter')).toBe(true)
    expect(isObjectiveWindow('1y')).toBe(false)
  })
})

describe('windowLengthMs', () => {
  it('is the whole calendar month, 29 days in a leap February', () => {
    expect(windowLengthMs('month', at('2028-02-10T00:00:00Z'))).toBe(29 * DAY)
    expect(windowLengthMs('month', at('2026-02-10T00:00:00Z'))).toBe(28 * DAY)
    expect(windowLengthMs('month', at('2100-02-10T00:00:00Z'))).toBe(28 * DAY) // not a leap year
    expect(windowLengthMs('month', at('2000-02-10T00:00:00Z'))).toBe(29 * DAY) // a leap year
    expect(windowLengthMs('month', at('2026-12-31T00:00:00Z'))).toBe(31 * DAY)
  })

  it('is the whole calendar quarter', () => {
    expect(windowLengthMs('quarter', at('2028-03-01T00:00:00Z'))).toBe((31 + 29 + 31) * DAY)
    expect(windowLengthMs('quarter', at('2026-03-01T00:00:00Z'))).toBe((31 + 28 + 31) * DAY)
    expect(windowLengthMs('quarter', at('2026-11-01T00:00:00Z'))).toBe((31 + 30 + 31) * DAY)
  })

  it('is the rolling length for a rolling window', () => {
    expect(windowLengthMs('28d', at('2028-02-10T00:00:00Z'))).toBe(28 * DAY)
  })

  it('a rolling 30-day window across a leap day spans 30 days of 24 h', () => {
    expect(objectiveWindow('30d', at('2028-03-15T00:00:00Z')).from).toEqual(at('2028-02-14T00:00:00Z'))
  })
})

describe('burn-rate lookbacks', () => {
  it('are 5m 30m 1h 6h 24h 3d ending now', () => {
    expect(BURN_LOOKBACKS).toEqual(['5m', '30m', '1h', '6h', '24h', '3d'])
    expect(BURN_LOOKBACKS.map((lookback) => LOOKBACK_MS[lookback] / 60_000)).toEqual([5, 30, 60, 360, 1440, 4320])
    const now = at('2026-03-01T00:02:00Z')
    expect(lookbackPeriod('5m', now)).toEqual({ from: at('2026-02-28T23:57:00Z'), to: now })
    expect(lookbackPeriod('3d', now)).toEqual({ from: at('2026-02-26T00:02:00Z'), to: now })
  })
})
