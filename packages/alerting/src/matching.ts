import { canonicalId, isClosingReason } from '@jetmon/vocabulary'

/** What matching needs from a `jetmon_alert_contacts` row. */
export interface AlertContactForMatching {
  active: boolean
  /** `{"blog_ids": [...]}`; empty or `null` = every site. */
  siteFilter?: { blog_ids?: readonly (bigint | number | string)[] | null } | null
  /** The stored number (1 Warning … 4 Down). */
  minSeverity: number
}

/** What matching needs from a `jetmon_event_transitions` row. */
export interface TransitionForAlerting {
  blogId: bigint | number | string
  reason: string
  stateAfter: string | null
  severityBefore: number | null
  severityAfter: number | null
}

/** `trigger`: tell them something is wrong; `recovery`: tell them it is over. */
export type AlertMatch = 'trigger' | 'recovery'

/**
 * Whether an alert contact is told about a transition, and how (packages/delivery/README.md): the contact is
 * active and the site is in its filter, and either
 * - the transition closed the event (a closing reason, or `state_after = 'Resolved'`) or dropped
 *   its severity to 0, and the severity before was ≥ `min_severity` ⇒ `'recovery'`; or
 * - the event is still open and `severity_after ≥ min_severity` ⇒ `'trigger'`.
 *
 * Otherwise `null`. A missing `severity_before` counts as 0. An open-event transition without a
 * `severity_after` (which the event store never writes) matches nothing rather than guessing.
 * Every qualifying transition matches — a `cause_linked` on a Down event triggers again; PagerDuty
 * folds that into the same incident through its `dedup_key`.
 */
export function matchesAlertContact(
  contact: AlertContactForMatching,
  transition: TransitionForAlerting,
): AlertMatch | null {
  if (!contact.active) return null
  const blogIds = contact.siteFilter?.blog_ids ?? []
  if (blogIds.length > 0) {
    const blog = canonicalId(transition.blogId)
    if (!blogIds.some((id) => canonicalId(id) === blog)) return null
  }

  const min = contact.minSeverity
  const before = transition.severityBefore ?? 0
  const closed = isClosingReason(transition.reason) || transition.stateAfter === 'Resolved'
  if (closed) return before >= min ? 'recovery' : null

  const after = transition.severityAfter
  if (after === null) return null
  if (after === 0) return before >= min ? 'recovery' : null
  return after >= min ? 'trigger' : null
}
