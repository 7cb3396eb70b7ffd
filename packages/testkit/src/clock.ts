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

/**
 * Timers on a {@link ManualClock}: code under test schedules with `setTimeout`/`clearTimeout`, and
 * the callbacks run only as the test moves time past them, in due order, the clock standing at each
 * one's due time while it runs.
 */
export interface ManualTimers {
  readonly clock: ManualClock
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /** Timers not yet fired. */
  readonly pending: number
  /** Moves time forward by `ms`, firing every timer due on the way, synchronously. */
  advance(ms: number): void
  /**
   * The same, letting pending promise callbacks run after each timer and at the end, so work a
   * timer starts can settle before the next one fires.
   */
  advanceSettling(ms: number): Promise<void>
}

/** {@link ManualTimers} on `clock` (a new {@link manualClock} by default). */
export function manualTimers(clock: ManualClock = manualClock()): ManualTimers {
  const timers = new Map<number, { at: number; callback: () => void }>()
  let nextHandle = 1
  /** The earliest timer due by `target`, removed from the table, with the clock moved to it. */
  const takeDue = (target: number) => {
    let next: [number, { at: number; callback: () => void }] | undefined
    for (const entry of timers) {
      if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry
    }
    if (!next) return null
    timers.delete(next[0])
    const now = clock.now().getTime()
    if (next[1].at > now) clock.advance(next[1].at - now)
    return next[1].callback
  }
  const finish = (target: number) => {
    if (target > clock.now().getTime()) clock.set(new Date(target))
  }
  return {
    clock,
    setTimeout(callback, ms) {
      const handle = nextHandle++
      timers.set(handle, { at: clock.now().getTime() + Math.max(0, ms), callback })
      return handle
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    get pending() {
      return timers.size
    },
    advance(ms) {
      const target = clock.now().getTime() + ms
      for (let callback = takeDue(target); callback; callback = takeDue(target)) callback()
      finish(target)
    },
    async advanceSettling(ms) {
      const target = clock.now().getTime() + ms
      for (let callback = takeDue(target); callback; callback = takeDue(target)) {
        callback()
        await settlePromises()
      }
      finish(target)
      await settlePromises()
    },
  }
}

/** Lets every pending promise callback (and what those schedule in turn, a few levels deep) run. */
export async function settlePromises(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
