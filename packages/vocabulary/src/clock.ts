/**
 * The wall clock a verb reads the time from, passed as `ctx.clock`; tests pass a fixed or manual
 * one. Defaults to {@link systemClock}.
 */
export type Clock = () => Date

/** The system's wall clock. */
export const systemClock: Clock = () => new Date()

/**
 * Timer scheduling for long-running loops (the scheduler, leases, the WordPress.com notifier).
 * Kept apart from {@link Clock}: a verb that only reads the time takes a clock; a loop that waits
 * takes timers too, and tests drive both from one manual clock (`@jetmon/testkit`'s manualTimers).
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}
