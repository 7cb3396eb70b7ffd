import type { AlertMatch } from './matching.js'

/** One veriflier's answer, as recorded in the event's metadata (docs/events.md). */
export interface VeriflierVote {
  veriflier: string
  region?: string | null
  /** `true`: the veriflier's check passed (it saw the site up). */
  success: boolean
  http_code?: number | null
  error_code?: number | null
  rtt_ms?: number | null
}

/**
 * Everything a message to a person needs about one matched transition. The transports (email,
 * PagerDuty, Slack, Teams) render it; the delivery worker builds it from the frozen delivery
 * payload plus the event row.
 */
export interface AlertNotification {
  /** From `matchesAlertContact`. */
  match: AlertMatch
  event: {
    id: bigint
    checkType: string
    /** The event's state after the transition; for a closed event, the last state it had. */
    state: string
    severity: number
    startedAt: Date
    endedAt: Date | null
    resolutionReason: string | null
  }
  transition: {
    id: bigint
    reason: string
    changedAt: Date
  }
  site: {
    blogId: bigint
    endpointId: bigint | null
    monitorUrl: string
  }
  /** Why it failed, from the failing check and the veriflier round, when known. */
  cause?: {
    /** The checker's error name, e.g. `connect_timeout`. */
    errorName?: string | null
    /** One line of detail, e.g. `no answer within 10 s`. */
    errorDetail?: string | null
    httpCode?: number | null
    votes?: readonly VeriflierVote[] | null
  }
  /**
   * A link to the event in the dashboard. When absent, senders build `${dashboardUrl}/events/<id>`
   * from their `dashboardUrl` option.
   */
  eventUrl?: string | null
  /** The alert contact being told, so the message can say why its reader receives it. */
  contactLabel?: string | null
}

const CLOSING_WORDS: Record<string, [headline: string, explanation: string | null]> = {
  verifier_cleared: ['Recovered', null],
  probe_cleared: ['Recovered', null],
  false_alarm: ['Resolved', 'false alarm: the verifliers found it up'],
  manual_override: ['Closed', 'closed by an operator'],
  maintenance_swallowed: ['Closed', 'a maintenance window began'],
  superseded: ['Closed', 'superseded by another event'],
  auto_timeout: ['Closed', 'closed automatically after timing out'],
  burn_rate_subsided: ['Resolved', 'the error budget no longer burns fast enough to alert'],
  budget_recovered: ['Resolved', 'the error budget left is above its warning threshold again'],
}

/**
 * How a closing transition is announced: `['Recovered', null]`, `['Resolved', 'false alarm: …']`,
 * `['Closed', 'closed by an operator']`; unknown reasons read as a plain recovery.
 */
export function closingWords(reason: string): [headline: string, explanation: string | null] {
  return CLOSING_WORDS[reason] ?? ['Recovered', null]
}

/**
 * A one-line summary an on-call person can act on.
 *
 * @example
 * // trigger:  Down: https://example.com/ — connect_timeout: no answer within 10 s; 2 of 3 verifliers saw it down (since 2026-05-01 10:00:00 UTC)
 * // recovery: Recovered: https://example.com/ — Down for 12m 5s
 */
export function alertSummary(notification: AlertNotification): string {
  const { event, site } = notification
  const subject = `${site.monitorUrl}${event.checkType === 'http' ? '' : ` [${event.checkType}]`}`
  if (notification.match === 'recovery') {
    const [headline, explanation] = closingWords(notification.transition.reason)
    const duration = formatDuration(
      (event.endedAt ?? notification.transition.changedAt).getTime() - event.startedAt.getTime(),
    )
    return `${headline}: ${subject} — ${event.state} for ${duration}${explanation ? `; ${explanation}` : ''}`
  }
  const parts: string[] = []
  const why = describeCause(notification.cause)
  if (why) parts.push(why)
  const votes = notification.cause?.votes ?? []
  if (votes.length > 0) {
    const down = votes.filter((vote) => !vote.success).length
    parts.push(`${down} of ${votes.length} verifliers saw it down`)
  }
  const detail = parts.length > 0 ? ` — ${parts.join('; ')}` : ''
  return `${event.state}: ${subject}${detail} (since ${humanTime(event.startedAt)})`
}

/** `error_name: detail`, `HTTP 503`, or whatever part of that is known. */
export function describeCause(cause: AlertNotification['cause']): string | null {
  if (!cause) return null
  const name = cause.errorName || (cause.httpCode ? `HTTP ${cause.httpCode}` : null)
  const detail = cause.errorDetail || null
  if (name && detail) return `${name}: ${detail}`
  return name ?? detail
}

/** `45s`, `12m 5s`, `3h 4m`, `2d 5h`: two units at most, rounded to the second. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return join(minutes, 'm', seconds % 60, 's')
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return join(hours, 'h', minutes % 60, 'm')
  return join(Math.floor(hours / 24), 'd', hours % 24, 'h')
}

function join(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`
}

/** `2026-05-01 10:00:00 UTC`: unambiguous and readable at 3 a.m. */
export function humanTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}
