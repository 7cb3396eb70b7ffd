import { type Clock, systemTimers, type Timers } from '@jetmon/vocabulary'

/**
 * The scheduler's, the leases' and the endpoint source's view of time: epoch milliseconds from the
 * injected {@link Clock} plus the injected {@link Timers}. Internal; callers pass `clock` and
 * `timers` options (both default to the system's).
 */
export interface Timing extends Timers {
  /** Epoch milliseconds, whole. */
  now(): number
}

const systemTiming: Timing = { now: () => Date.now(), ...systemTimers }

export function timing(clock: Clock | undefined, timers: Timers | undefined): Timing {
  if (!clock && !timers) return systemTiming
  const t = timers ?? systemTimers
  return {
    now: clock ? () => Math.floor(clock().getTime()) : systemTiming.now,
    setTimeout: (callback, ms) => t.setTimeout(callback, ms),
    clearTimeout: (handle) => t.clearTimeout(handle),
  }
}
