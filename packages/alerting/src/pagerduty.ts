import { jsonId } from '@jetmon/vocabulary'
import type { AlertNotification } from './notification.js'
import { alertSummary, describeCause, formatDuration } from './notification.js'
import { severityName } from './severity.js'

/** Where Events API v2 events are POSTed. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue'

/** PagerDuty's severities. */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info'

/** An Events API v2 request body. */
export interface PagerDutyEvent {
  routing_key: string
  event_action: 'trigger' | 'resolve'
  dedup_key: string
  payload: {
    summary: string
    source: string
    severity: PagerDutySeverity
    timestamp: string
    component: string
    group: string
    class: string
    custom_details: Record<string, unknown>
  }
  client: string
  client_url?: string
  links?: { href: string; text: string }[]
}

export interface PagerDutyEventInput extends AlertNotification {
  /** The contact's `integration_key` (the routing key). */
  integrationKey: string
}

// PagerDuty truncates longer summaries itself; we cut first so the end shows we did.
const MAX_SUMMARY = 1024

/** `jetmon-event-<event id>`: one PagerDuty incident per Jetmon event, so a resolve closes it. */
export function pagerDutyDedupKey(eventId: bigint): string {
  return `jetmon-event-${eventId}`
}

/** Down and Seems Down page (`critical`), Degraded is `warning`, Warning and Up are `info`. */
export function pagerDutySeverity(severity: number): PagerDutySeverity {
  if (severity >= 3) return 'critical'
  if (severity === 2) return 'warning'
  return 'info'
}

/**
 * The Events API v2 body for a notification: `trigger` (or `resolve` for a recovery) with
 * `dedup_key = jetmon-event-<event id>`, a summary an on-call person can act on, the site URL as
 * `source`, the check type as `component`, the transition reason as `class`, the facts in
 * `custom_details` (ids as JSON numbers, or strings beyond 2^53) and the dashboard link in
 * `links`. POST it as JSON to {@link PAGERDUTY_EVENTS_URL}.
 */
export function pagerDutyEvent(input: PagerDutyEventInput): PagerDutyEvent {
  const { event, transition, site, cause } = input
  const recovery = input.match === 'recovery'
  const summary = truncate(alertSummary(input), MAX_SUMMARY)

  const details: Record<string, unknown> = {
    state: event.state,
    severity: severityName(event.severity),
    check_type: event.checkType,
    reason: transition.reason,
    monitor_url: site.monitorUrl,
    blog_id: jsonId(site.blogId),
    endpoint_id: site.endpointId === null ? null : jsonId(site.endpointId),
    event_id: jsonId(event.id),
    transition_id: jsonId(transition.id),
    started_at: event.startedAt.toISOString(),
  }
  if (recovery) {
    const endedAt = event.endedAt ?? transition.changedAt
    details.ended_at = endedAt.toISOString()
    details.duration = formatDuration(endedAt.getTime() - event.startedAt.getTime())
  }
  const why = describeCause(cause)
  if (why) details.error = why
  if (cause?.httpCode) details.http_code = cause.httpCode
  if (cause?.votes && cause.votes.length > 0) details.veriflier_votes = cause.votes
  if (input.eventUrl) details.event_url = input.eventUrl

  const body: PagerDutyEvent = {
    routing_key: input.integrationKey,
    event_action: recovery ? 'resolve' : 'trigger',
    dedup_key: pagerDutyDedupKey(event.id),
    payload: {
      summary,
      source: site.monitorUrl,
      severity: pagerDutySeverity(event.severity),
      timestamp: transition.changedAt.toISOString(),
      component: event.checkType,
      group: `blog ${site.blogId}`,
      class: transition.reason,
      custom_details: details,
    },
    client: 'Jetmon',
  }
  if (input.eventUrl) {
    body.client_url = input.eventUrl
    body.links = [{ href: input.eventUrl, text: 'Open the event in Jetmon' }]
  }
  return body
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * The Events API v2 body of a test send: an `info` trigger "This is a test alert from Jetmon for
 * contact <label>", with its own `dedup_key` (`jetmon-test-<ms>`) so it never folds into a real
 * incident. PagerDuty opens an incident for it; whoever asked for the test resolves it there.
 */
export function pagerDutyTestEvent(integrationKey: string, contactLabel: string, sentAt: Date): PagerDutyEvent {
  return {
    routing_key: integrationKey,
    event_action: 'trigger',
    dedup_key: `jetmon-test-${sentAt.getTime()}`,
    payload: {
      summary: truncate(`This is a test alert from Jetmon for contact ${contactLabel}`, MAX_SUMMARY),
      source: 'jetmon',
      severity: 'info',
      timestamp: sentAt.toISOString(),
      component: 'alerting',
      group: 'test',
      class: 'test',
      custom_details: { contact: contactLabel, sent_at: sentAt.toISOString(), test: true },
    },
    client: 'Jetmon',
  }
}
