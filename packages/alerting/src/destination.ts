import { ALERT_TRANSPORTS, type AlertTransport } from '@jetmon/vocabulary'

export interface EmailDestination {
  address: string
}
export interface PagerDutyDestination {
  /** The 32-character Integration Key (routing key) of an Events API v2 integration. */
  integration_key: string
}
export interface WebhookUrlDestination {
  /** The incoming-webhook URL (Slack) or workflow/connector URL (Teams); https only. */
  webhook_url: string
}

/** The destination object each transport takes. */
export interface DestinationByTransport {
  email: EmailDestination
  pagerduty: PagerDutyDestination
  slack: WebhookUrlDestination
  teams: WebhookUrlDestination
}

/** One problem with a destination: where (`destination.address`) and what, for the person who typed it. */
export interface DestinationIssue {
  path: string
  message: string
}

const FIELD: Record<AlertTransport, 'address' | 'integration_key' | 'webhook_url'> = {
  email: 'address',
  pagerduty: 'integration_key',
  slack: 'webhook_url',
  teams: 'webhook_url',
}

/** Whether `value` names a transport. */
export function isAlertTransport(value: string): value is AlertTransport {
  return Object.hasOwn(FIELD, value)
}

/**
 * Checks a destination against its transport and returns every problem (an empty list means
 * valid): `email` needs `{address}` with a plausible address, `pagerduty` `{integration_key}` of
 * 32 letters and digits, `slack`/`teams` `{webhook_url}` with an https URL. Unknown fields are
 * problems too (the API rejects them).
 *
 * @example validateDestination('email', { address: 'oncall@example' })
 * // [{ path: 'destination.address', message: 'must be an email address such as oncall@example.com' }]
 */
export function validateDestination(transport: string, destination: unknown): DestinationIssue[] {
  if (!isAlertTransport(transport)) {
    return [{ path: 'transport', message: `must be one of ${ALERT_TRANSPORTS.join(', ')}` }]
  }
  const field = FIELD[transport]
  if (typeof destination !== 'object' || destination === null || Array.isArray(destination)) {
    return [{ path: 'destination', message: `must be an object such as {"${field}": …}` }]
  }
  const issues: DestinationIssue[] = []
  for (const key of Object.keys(destination)) {
    if (key !== field) {
      issues.push({
        path: `destination.${key}`,
        message: `unknown field: ${transport} destinations have only ${field}`,
      })
    }
  }
  const value = (destination as Record<string, unknown>)[field]
  const path = `destination.${field}`
  if (value === undefined) {
    issues.push({ path, message: 'is required' })
    return issues
  }
  if (typeof value !== 'string') {
    issues.push({ path, message: 'must be a string' })
    return issues
  }
  const problem = FIELD_CHECKS[transport](value)
  if (problem) issues.push({ path, message: problem })
  return issues
}

/**
 * What may be shown of a destination after creation: the last 4 characters of its one field
 * (empty when the field is missing).
 */
export function destinationPreview<T extends AlertTransport>(
  transport: T,
  destination: DestinationByTransport[T],
): string {
  const value = (destination as unknown as Record<string, unknown>)[FIELD[transport]]
  return typeof value === 'string' ? value.slice(-4) : ''
}

const FIELD_CHECKS: Record<AlertTransport, (value: string) => string | null> = {
  email: (value) => (isEmailAddress(value) ? null : 'must be an email address such as oncall@example.com'),
  pagerduty: (value) => {
    if (/^[A-Za-z0-9]{32}$/.test(value)) return null
    const got = value.length === 32 ? 'it contains characters other than letters and digits' : `got ${value.length}`
    return `must be the 32-character Integration Key of a PagerDuty Events API v2 integration (${got})`
  },
  slack: (value) => httpsUrlProblem(value, 'the incoming webhook URL Slack shows, https://hooks.slack.com/services/…'),
  teams: (value) => httpsUrlProblem(value, 'the webhook URL of the Teams workflow or connector'),
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

/**
 * A deliberately plain address check: `local@domain` with an unquoted ASCII local part (≤ 64),
 * a domain of at least two DNS labels with a non-numeric last label, ≤ 254 characters, and no
 * whitespace or control characters (which could inject mail headers). Quoted local parts, IP
 * literals and non-ASCII addresses are refused; a real delivery is the only full check.
 */
function isEmailAddress(value: string): boolean {
  if (value.length > 254) return false
  const at = value.lastIndexOf('@')
  if (at <= 0 || at !== value.indexOf('@')) return false
  const local = value.slice(0, at)
  const domain = value.slice(at + 1)
  if (local.length > 64 || !LOCAL_PART.test(local)) return false
  const labels = domain.split('.')
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) return false
  return !/^\d+$/.test(labels.at(-1) ?? '')
}

function httpsUrlProblem(value: string, what: string): string | null {
  const hint = `must be an https URL (${what})`
  if (value.length > 2083) return `${hint}; this one is longer than 2083 characters`
  if (/\s/.test(value)) return `${hint}; it contains whitespace`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return hint
  }
  if (url.protocol !== 'https:') return `${hint}, not ${url.protocol.replace(/:$/, '')}`
  if (!url.hostname) return hint
  if (url.username || url.password) return `${hint} without a user name or password in it`
  return null
}
