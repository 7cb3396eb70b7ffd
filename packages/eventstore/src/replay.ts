import { InvalidTransitionError } from './errors.js'
import type { Transition } from './types.js'
import { type ClosingReason, type EventState, isClosingReason, RESOLVED, type Severity } from './vocabulary.js'

/** An event's state as its transitions tell it. */
export interface ReplayedEvent {
  severity: Severity
  /** The last state before any close (a closed event keeps it). */
  state: EventState
  closed: boolean
  resolutionReason: ClosingReason | null
}

/**
 * Rebuilds an event's severity and state from its transitions (sorted by id here), checking the
 * chain as it goes: it starts with `opened` (or `adopted`), each `*_before` equals the previous
 * `*_after`, and nothing follows the close. Returns null for no transitions.
 *
 * @throws InvalidTransitionError when the chain is broken.
 */
export function replayTransitions(transitions: readonly Transition[]): ReplayedEvent | null {
  const ordered = [...transitions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  let replayed: ReplayedEvent | null = null
  for (const t of ordered) {
    const broken = (why: string) =>
      new InvalidTransitionError(`transition ${t.id} of event ${t.eventId} breaks the history: ${why}`)
    if (replayed === null) {
      if ((t.reason !== 'opened' && t.reason !== 'adopted') || t.stateBefore !== null || t.severityBefore !== null) {
        throw broken('the first transition must be `opened` (or `adopted`) from nothing')
      }
    } else {
      if (replayed.closed) throw broken('the event was already closed')
      if (t.stateBefore !== replayed.state || t.severityBefore !== replayed.severity) {
        throw broken(`it starts from ${t.stateBefore}/${t.severityBefore}, not ${replayed.state}/${replayed.severity}`)
      }
    }
    if (t.stateAfter === RESOLVED) {
      const reason = t.reason
      if (replayed === null || t.severityAfter !== null || !isClosingReason(reason)) {
        throw broken('a close needs an open event, severity_after NULL and a closing reason')
      }
      replayed = { severity: replayed.severity, state: replayed.state, closed: true, resolutionReason: reason }
    } else {
      if (t.stateAfter === null || t.severityAfter === null) throw broken('state_after and severity_after are required')
      replayed = { severity: t.severityAfter, state: t.stateAfter, closed: false, resolutionReason: null }
    }
  }
  return replayed
}
