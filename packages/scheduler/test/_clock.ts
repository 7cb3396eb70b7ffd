import { manualClock, manualTimers, settlePromises } from '@jetmon/testkit'
import type { Clock, Timers } from '@jetmon/vocabulary'

/**
 * A manual clock and timers for the scheduler, the leases and the endpoint source (pass
 * `...manual.options`): timers fire in due order while {@link ManualSchedulerClock.advance} moves
 * time, pending promise callbacks running after each one.
 */
export interface ManualSchedulerClock {
  readonly options: { clock: Clock; timers: Timers }
  /** Epoch milliseconds. */
  now(): number
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
    options: { clock: () => timers.clock.now(), timers },
    now: () => timers.clock.now().getTime(),
    get pendingTimers() {
      return timers.pending
    },
    advance: (ms) => timers.advanceSettling(ms),
    advanceTo: (target) => timers.advanceSettling(Math.max(0, target - timers.clock.now().getTime())),
  }
}
