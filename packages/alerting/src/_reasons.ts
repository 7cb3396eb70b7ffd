// The closing transition reasons of events.md. Kept in step with @jetmon/webhooks by hand until
// @jetmon/eventstore exports the vocabulary.
const CLOSING_REASONS: ReadonlySet<string> = new Set([
  'verifier_cleared',
  'probe_cleared',
  'false_alarm',
  'manual_override',
  'maintenance_swallowed',
  'superseded',
  'auto_timeout',
])

export function isClosingReason(reason: string): boolean {
  return CLOSING_REASONS.has(reason)
}
