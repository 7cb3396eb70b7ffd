// The closing transition reasons of docs/events.md: @jetmon/eventstore's CLOSING_REASONS, repeated so
// that alerting does not depend on the event store; a test keeps the two equal.
export const CLOSING_REASONS: ReadonlySet<string> = new Set([
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
