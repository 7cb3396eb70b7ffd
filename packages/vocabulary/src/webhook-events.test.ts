import { describe, expect, it } from 'vitest'
import { CLOSING_REASONS, isClosingReason, TRANSITION_REASONS } from './incidents.js'
import { eventTypeForReason, isWebhookEventType, WEBHOOK_EVENT_TYPES } from './webhook-events.js'

// docs/webhooks.md, written out by hand so the test does not share the implementation's table.
const expected: Record<string, string | null> = {
  opened: 'event.opened',
  severity_escalation: 'event.severity_changed',
  severity_deescalation: 'event.severity_changed',
  state_change: 'event.state_changed',
  verifier_confirmed: 'event.state_changed',
  cause_linked: 'event.cause_linked',
  cause_unlinked: 'event.cause_unlinked',
  verifier_cleared: 'event.closed',
  probe_cleared: 'event.closed',
  false_alarm: 'event.closed',
  manual_override: 'event.closed',
  maintenance_swallowed: 'event.closed',
  superseded: 'event.closed',
  auto_timeout: 'event.closed',
  burn_rate_subsided: 'event.closed',
  budget_recovered: 'event.closed',
  // An incident taken over from another monitor: nothing new happened, nothing is delivered.
  adopted: null,
}

describe('eventTypeForReason', () => {
  it('covers exactly the transition reasons of docs/events.md', () => {
    expect([...TRANSITION_REASONS].sort()).toEqual(Object.keys(expected).sort())
  })

  it.each(Object.entries(expected))('%s ⇒ %s', (reason, type) => {
    expect(eventTypeForReason(reason)).toBe(type)
  })

  it('maps every closing reason to event.closed and no other reason to it', () => {
    for (const reason of TRANSITION_REASONS) {
      expect(eventTypeForReason(reason) === 'event.closed').toBe(isClosingReason(reason))
    }
    expect(CLOSING_REASONS).toHaveLength(9)
  })

  it('produces every event type', () => {
    const produced = TRANSITION_REASONS.map(eventTypeForReason).filter((type) => type !== null)
    expect(new Set(produced)).toEqual(new Set(WEBHOOK_EVENT_TYPES))
  })

  it.each(['', 'Opened', 'unknown', 'toString', '__proto__', 'constructor'])('returns null for %j', (reason) => {
    expect(eventTypeForReason(reason)).toBeNull()
  })

  it('recognises event type names', () => {
    expect(isWebhookEventType('event.closed')).toBe(true)
    expect(isWebhookEventType('ping')).toBe(false)
    expect(isWebhookEventType('site.state_changed')).toBe(false)
  })
})
