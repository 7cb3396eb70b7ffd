export {
  ALERT_TRANSPORTS,
  type AlertTransport,
  type DestinationByTransport,
  type DestinationIssue,
  destinationPreview,
  type EmailDestination,
  isAlertTransport,
  type PagerDutyDestination,
  validateDestination,
  type WebhookUrlDestination,
} from './destination.js'
export { AlertingError, type AlertingErrorCode, InvalidIdError, UnknownSeverityError } from './errors.js'
export {
  type AlertContactForMatching,
  type AlertMatch,
  matchesAlertContact,
  type TransitionForAlerting,
} from './matching.js'
export {
  type AlertNotification,
  alertSummary,
  describeCause,
  formatDuration,
  humanTime,
  type VeriflierVote,
} from './notification.js'
export {
  PAGERDUTY_EVENTS_URL,
  type PagerDutyEvent,
  type PagerDutyEventInput,
  type PagerDutySeverity,
  pagerDutyDedupKey,
  pagerDutyEvent,
  pagerDutySeverity,
} from './pagerduty.js'
export {
  DEFAULT_MIN_SEVERITY,
  MIN_SEVERITY_NAMES,
  type MinSeverity,
  type MinSeverityName,
  parseMinSeverity,
  SEVERITY_NAMES,
  type Severity,
  type SeverityName,
  severityForName,
  severityName,
} from './severity.js'
