import type { AlertNotification, VeriflierVote } from '@jetmon/alerting'
import type { eventTransitions } from '@jetmon/db'
import { isClosingReason } from '@jetmon/webhooks'

/** A `jetmon_event_transitions` row as the dispatcher reads it. */
export type TransitionRow = typeof eventTransitions.$inferSelect

/** What the dispatcher reads of a `jetmon_events` row. */
export interface EventRow {
  id: bigint
  checkType: string
  state: string
  severity: number
  startedAt: Date
  metadata: Record<string, unknown> | null
}

/** The site a transition is about, from `jetpack_monitor_sites`. */
export interface SiteRow {
  blogId: bigint
  endpointId: bigint | null
  monitorUrl: string
}

/**
 * The event as it was right after `transition`, not as it is when the dispatcher
 * reads it: a later transition may already have moved it on. `started_at` and `check_type` never
 * change; state and severity come from the transition; a closing transition leaves the state and
 * severity it closed from (docs/events.md: the closed event keeps its last state) and ends the event at
 * the transition's time.
 */
export function eventAfterTransition(event: EventRow, transition: TransitionRow) {
  const closing = isClosingReason(transition.reason)
  return {
    id: event.id,
    checkType: event.checkType,
    state: (closing ? transition.stateBefore : transition.stateAfter) ?? event.state,
    severity: (closing ? transition.severityBefore : transition.severityAfter) ?? event.severity,
    startedAt: event.startedAt,
    endedAt: closing ? transition.changedAt : null,
    resolutionReason: closing ? transition.reason : null,
  }
}

/**
 * Why it failed, for an alert: the error name and detail and the veriflier votes recorded on the
 * transition (the monitor writes `{error, detail}` on an open and `{votes, quorum}` on a
 * confirmation or false alarm), else the evidence on the event (`check.error`, `check.detail`,
 * `check.http_code`, `confirmation.votes`). `null` when nothing is known.
 */
export function causeOf(event: EventRow, transition: TransitionRow): AlertNotification['cause'] | null {
  const onTransition = transition.metadata ?? {}
  const onEvent = event.metadata ?? {}
  const check = record(onEvent.check)
  const confirmation = record(onEvent.confirmation)
  const errorName = text(onTransition.error) ?? text(check.error)
  const errorDetail = text(onTransition.detail) ?? text(check.detail)
  const httpCode = integer(check.http_code)
  const votes = votesOf(onTransition.votes) ?? votesOf(confirmation.votes)
  if (errorName === null && errorDetail === null && httpCode === null && votes === null) return null
  return { errorName, errorDetail, httpCode, votes }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null
}

function votesOf(value: unknown): VeriflierVote[] | null {
  if (!Array.isArray(value) || value.length === 0) return null
  const votes: VeriflierVote[] = []
  for (const item of value) {
    const vote = record(item)
    if (typeof vote.veriflier !== 'string' || typeof vote.success !== 'boolean') continue
    votes.push({
      veriflier: vote.veriflier,
      region: text(vote.region),
      success: vote.success,
      http_code: integer(vote.http_code),
      error_code: integer(vote.error_code),
      rtt_ms: integer(vote.rtt_ms),
    })
  }
  return votes.length > 0 ? votes : null
}
