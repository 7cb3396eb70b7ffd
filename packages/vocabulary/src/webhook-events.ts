import type { TransitionReason } from './incidents.js'

/** The event types a webhook can subscribe to (its `events` filter). */
export const WEBHOOK_EVENT_TYPES = [
  'event.opened',
  'event.severity_changed',
  'event.state_changed',
  'event.cause_linked',
  'event.cause_unlinked',
  'event.closed',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

// A Record over the reason union: adding a reason without a mapping fails to compile. `null`: the
// transition is not delivered (`adopted` records an incident another monitor already reported:
// nothing new happened, so no webhook or alert goes out; its later close is delivered).
const EVENT_TYPE_BY_REASON: Record<TransitionReason, WebhookEventType | null> = {
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
  adopted: null,
}

const eventTypes: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES)

/** Whether `value` is one of {@link WEBHOOK_EVENT_TYPES} (for validating a webhook's `events`). */
export function isWebhookEventType(value: string): value is WebhookEventType {
  return eventTypes.has(value)
}

/**
 * The webhook event type a transition produces, or `null` for a reason this release does not
 * know or does not deliver (`adopted`) — such transitions are not delivered.
 *
 * @example eventTypeForReason('verifier_confirmed') // 'event.state_changed'
 */
export function eventTypeForReason(reason: string): WebhookEventType | null {
  return Object.hasOwn(EVENT_TYPE_BY_REASON, reason) ? EVENT_TYPE_BY_REASON[reason as TransitionReason] : null
}
