/** A clock that only moves when the test moves it. */
export interface ManualClock {
  /** The clock's current time (pass it wherever a verb takes `now` or `clock`). */
  now(): Date
  /** Moves time forward by `ms`; returns the new time. */
  advance(ms: number): Date
  /** Jumps to `date` (backwards too); the monotonic reading only ever moves forward. */
  set(date: Date): void
  /** Monotonic milliseconds (for rate limiters and timeouts), moved together with `now`. */
  monotonic(): number
}

/** A {@link ManualClock} starting at `start` (a fixed instant by default, so runs repeat). */
export function manualClock(start: Date | number = new Date('2030-03-01T12:00:00.000Z')): ManualClock {
  let at = typeof start === 'number' ? start : start.getTime()
  let mono = 1_000_000
  return {
    now: () => new Date(at),
    advance(ms) {
      at += ms
      mono += ms
      return new Date(at)
    },
    set(date) {
      mono += Math.max(0, date.getTime() - at)
      at = date.getTime()
    },
    monotonic: () => mono,
  }
}
