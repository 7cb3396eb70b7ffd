import { manualClock, manualTimers, settlePromises } from '@jetmon/testkit'
import type { Clock } from '../src/index.js'

/**
 * The scheduler's clock (milliseconds and timers) over the test kit's manual timers: timers fire in
 * due order while {@link ManualSchedulerClock.advance} moves time, pending promise callbacks
 * running after each one.
 */
export interface ManualSchedulerClock extends Clock {
  /** Timers not yet fired. */
  readonly pendingTimers: number
  advance(ms: number): Promise<void>
  /** Moves time forward to `target` (epoch ms), as {@link advance} does. */
  advanceTo(target: number): Promise<void>
}

/** Lets pending promise callbacks run (the test kit's {@link settlePromises}). */
export const flush = settlePromises

export function manualSchedulerClock(start: number): ManualSchedulerClock {
  const timers = manualTimers(manualClock(start))
  return {
    now: () => timers.clock.now().getTime(),
    setTimeout: (callback, ms) => timers.setTimeout(callback, ms),
    clearTimeout: (handle) => timers.clearTimeout(handle),
    get pendingTimers() {
      return timers.pending
    },
    advance: (ms) => timers.advanceSettling(ms),
    advanceTo: (target) => timers.advanceSettling(Math.max(0, target - timers.clock.now().getTime())),
  }
}
