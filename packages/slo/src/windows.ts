/**
 * The periods an objective is measured over: its window at an instant, and the burn-rate lookbacks.
 * Pure functions of `now`; every calendar boundary is in UTC.
 */

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS

/** Rolling windows (the last N days) and calendar windows (the current UTC month or quarter). */
export const OBJECTIVE_WINDOWS = ['7d', '28d', '30d', '90d', 'month', 'quarter'] as const
export type ObjectiveWindow = (typeof OBJECTIVE_WINDOWS)[number]

const ROLLING_MS: Record<string, number> = {
  '7d': 7 * DAY_MS,
  '28d': 28 * DAY_MS,
  '30d': 30 * DAY_MS,
  '90d': 90 * DAY_MS,
}

/** A period `[from, to)`. */
export interface Period {
  from: Date
  to: Date
}

/** The lookbacks burn rates are computed over, shortest first. */
export const BURN_LOOKBACKS = ['5m', '30m', '1h', '6h', '24h', '3d'] as const
export type BurnLookback = (typeof BURN_LOOKBACKS)[number]

/** The length of each lookback in milliseconds. */
export const LOOKBACK_MS: Readonly<Record<BurnLookback, number>> = Object.freeze({
  '5m': 5 * MINUTE_MS,
  '30m': 30 * MINUTE_MS,
  '1h': HOUR_MS,
  '6h': 6 * HOUR_MS,
  '24h': DAY_MS,
  '3d': 3 * DAY_MS,
})

export function isObjectiveWindow(value: string): value is ObjectiveWindow {
  return (OBJECTIVE_WINDOWS as readonly string[]).includes(value)
}

/**
 * The window of an objective at `now`: a rolling window is `[now − length, now)`; `month` is
 * `[first instant of now's UTC month, now)` and `quarter` `[first instant of now's UTC quarter
 * (January, April, July, October), now)`. At the very first instant of a month the calendar
 * window is empty (`from = to`).
 * @throws RangeError for a window not in {@link OBJECTIVE_WINDOWS}.
 */
export function objectiveWindow(window: ObjectiveWindow, now: Date): Period {
  const to = now.getTime()
  const rolling = ROLLING_MS[window]
  if (rolling !== undefined) return { from: new Date(to - rolling), to: new Date(to) }
  const year = now.getUTCFullYear()
  const month = now.getUTCMonth()
  if (window === 'month') return { from: new Date(Date.UTC(year, month, 1)), to: new Date(to) }
  if (window === 'quarter') return { from: new Date(Date.UTC(year, month - (month % 3), 1)), to: new Date(to) }
  throw new RangeError(`unknown objective window ${JSON.stringify(window)}`)
}

/**
 * The full length of the window `now` falls in, in milliseconds: the rolling length, or the length
 * of the whole calendar month or quarter (a budget is spent over it at burn rate 1).
 */
export function windowLengthMs(window: ObjectiveWindow, now: Date): number {
  const rolling = ROLLING_MS[window]
  if (rolling !== undefined) return rolling
  const { from } = objectiveWindow(window, now)
  const months = window === 'month' ? 1 : 3
  const end = Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + months, 1)
  return end - from.getTime()
}

/** The lookback `[now − length, now)` of a burn rate. */
export function lookbackPeriod(lookback: BurnLookback, now: Date): Period {
  return { from: new Date(now.getTime() - LOOKBACK_MS[lookback]), to: new Date(now.getTime()) }
}
