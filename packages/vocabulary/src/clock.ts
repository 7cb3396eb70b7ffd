/**
 * The wall clock a verb reads the time from, passed as `ctx.clock`; tests pass a fixed or manual
 * one. Defaults to {@link systemClock}.
 */
export type Clock = () => Date

/** The system's wall clock. */
export const systemClock: Clock = () => new Date()
