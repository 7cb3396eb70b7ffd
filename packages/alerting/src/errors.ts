/** Stable codes callers can match on (`err.code`). */
export type AlertingErrorCode = 'UNKNOWN_SEVERITY' | 'SENDER_CONFIG' | 'DESTINATION_UNREADABLE'

/** Base class of every error thrown by `@jetmon/alerting`. */
export class AlertingError extends Error {
  readonly code: AlertingErrorCode
  constructor(code: AlertingErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A severity number outside 0–4 reached code that must name it: a bug or a corrupt row. */
export class UnknownSeverityError extends AlertingError {
  readonly severity: number
  constructor(severity: number) {
    super('UNKNOWN_SEVERITY', `severity ${String(severity)} is not one of 0 (Up) … 4 (Down)`)
    this.severity = severity
  }
}

/**
 * An alert sender cannot work as configured (a missing `SMTP_HOST`, a `WPCOM_EMAIL_URL` that is not
 * http(s)…): thrown when the sender is built, at startup, never while sending.
 */
export class SenderConfigError extends AlertingError {
  constructor(message: string) {
    super('SENDER_CONFIG', message)
  }
}

/**
 * An alert destination is stored encrypted and cannot be read: `SECRETS_KEY` is not configured, or
 * it is not the key the destination was written with. A deployment problem, not a sending one.
 */
export class DestinationUnreadableError extends AlertingError {
  constructor(message: string, options?: ErrorOptions) {
    super('DESTINATION_UNREADABLE', message, options)
  }
}
