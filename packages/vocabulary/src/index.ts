/**
 * The words every Jetmon package shares, in one dependency-free package: incident states,
 * severities, transition and closing reasons, check types, webhook event types, alert
 * transports, request methods, redirect policies and detection profiles, the `Logger` interface,
 * the clock, and how ids are written to JSON. Packages import these instead of keeping copies.
 */
export { ALERT_TRANSPORTS, type AlertTransport, MIN_SEVERITY_NAMES, type MinSeverityName } from './alerts.js'
export { type Clock, systemClock, systemTimers, type Timers } from './clock.js'
export {
  DEFAULT_DETECTION_PROFILE,
  DEFAULT_REQUEST_METHOD,
  DETECTION_PROFILES,
  type DetectionProfile,
  REDIRECT_POLICIES,
  REQUEST_METHODS,
  type RedirectPolicy,
  type RequestMethod,
} from './endpoints.js'
export { InvalidIdError, VocabularyError, type VocabularyErrorCode } from './errors.js'
export { canonicalId, type JsonId, jsonId, MAX_JSON_NUMBER_ID } from './ids.js'
export * from './incidents.js'
export { type Logger, noopLogger } from './logger.js'
export * from './webhook-events.js'
