/**
 * The words every Jetmon package shares, in one dependency-free package: incident states,
 * severities, transition and closing reasons, check types, webhook event types, the `Logger`
 * interface and the clock. Packages import these instead of keeping copies.
 */
export { type Clock, systemClock } from './clock.js'
export * from './incidents.js'
export { type Logger, noopLogger } from './logger.js'
export * from './webhook-events.js'
