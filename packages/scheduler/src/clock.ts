/**
 * Time as the scheduler, the leases and the endpoint source see it. Inject one in tests so they
 * never wait for real minutes; the default is the system clock and the global timers.
 */
export interface Clock {
  /** Epoch milliseconds (fractions are floored). */
  now(): number
  /** Default: the global `setTimeout`. */
  setTimeout?(callback: () => void, ms: number): unknown
  /** Default: the global `clearTimeout`. */
  clearTimeout?(handle: unknown): void
}

/** A clock with every member present. */
export interface FullClock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: FullClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export function fullClock(clock: Clock | undefined): FullClock {
  if (!clock) return systemClock
  return {
    now: () => Math.floor(clock.now()),
    setTimeout: clock.setTimeout ? clock.setTimeout.bind(clock) : systemClock.setTimeout,
    clearTimeout: clock.clearTimeout ? clock.clearTimeout.bind(clock) : systemClock.clearTimeout,
  }
}
