// The shared words now live in @jetmon/vocabulary; re-exported because this package's API has always
// offered these names. `InvalidIdError` is vocabulary's, thrown by `jsonId`.
export {
  ALERT_TRANSPORTS,
  type AlertTransport,
  InvalidIdError,
  MIN_SEVERITY_NAMES,
  type MinSeverityName,
  SEVERITY_NAMES,
  type Severity,
  type SeverityName,
} from '@jetmon/vocabulary'
export {
  type DestinationByTransport,
  type DestinationIssue,
  destinationPreview,
  type EmailDestination,
  isAlertTransport,
  type PagerDutyDestination,
  validateDestination,
  type WebhookUrlDestination,
} from './destination.js'
export {
  type AlertEmail,
  type EmailConfig,
  type EmailOptions,
  type EmailTransportName,
  emailOptionsFromConfig,
  escapeHtml,
  renderAlertEmail,
  renderAlertHtml,
  type SmtpEmailOptions,
  type StubEmailOptions,
  type WpcomEmailOptions,
} from './email.js'
export {
  AlertingError,
  type AlertingErrorCode,
  DestinationUnreadableError,
  SenderConfigError,
  UnknownSeverityError,
} from './errors.js'
export {
  type AlertContactForMatching,
  type AlertMatch,
  matchesAlertContact,
  type TransitionForAlerting,
} from './matching.js'
export {
  type AlertMessage,
  type AlertMessageField,
  type AlertTone,
  type DigestNotification,
  describeVote,
  eventLink,
  type OutgoingNotification,
  type RenderOptions,
  renderAlertMessage,
  renderAlertText,
  type TestNotification,
} from './message.js'
export {
  type AlertNotification,
  alertSummary,
  closingWords,
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
  pagerDutyTestEvent,
} from './pagerduty.js'
export type { AlertSendResult } from './result.js'
export {
  type AlertingLogger,
  type AlertSender,
  type AlertSenderOptions,
  type AlertSendRequest,
  type AlertTestContact,
  type AlertTestResult,
  createAlertSender,
} from './sender.js'
export {
  DEFAULT_MIN_SEVERITY,
  type MinSeverity,
  parseMinSeverity,
  severityForName,
  severityName,
} from './severity.js'
export { escapeSlack, type SlackBlock, type SlackMessage, type SlackText, slackMessage } from './slack.js'
export { openDestination } from './stored-destination.js'
export { type AdaptiveCard, type AdaptiveCardElement, type TeamsMessage, teamsMessage } from './teams.js'
