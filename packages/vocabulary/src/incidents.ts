/**
 * The incident vocabulary (docs/events.md): states, severities, transition and closing reasons,
 * check types and the legacy `site_status` values. Stored as strings and small numbers; these
 * arrays are the single list of allowed values.
 */

/** Every state a site can be reported in. Only {@link EVENT_STATES} can be held by an event. */
export const STATES = ['Up', 'Warning', 'Degraded', 'Seems Down', 'Down', 'Paused', 'Maintenance', 'Unknown'] as const
export type State = (typeof STATES)[number]

/**
 * States an event can hold. `Up`, `Paused`, `Maintenance` and `Unknown` are site-level, never
 * events: monitor-side trouble (`Unknown`) must not open or upgrade an incident.
 */
export const EVENT_STATES = ['Warning', 'Degraded', 'Seems Down', 'Down'] as const
export type EventState = (typeof EVENT_STATES)[number]

/** `state_after` of the transition that closes an event (the event row keeps its last state). */
export const RESOLVED = 'Resolved'
export type Resolved = typeof RESOLVED

/** Severity names, indexed by severity: `SEVERITY_NAMES[3] === 'Seems Down'`. Higher is worse. */
export const SEVERITY_NAMES = ['Up', 'Warning', 'Degraded', 'Seems Down', 'Down'] as const
export type SeverityName = (typeof SEVERITY_NAMES)[number]

/** Every severity, as stored. */
export const SEVERITIES = [0, 1, 2, 3, 4] as const
export type Severity = (typeof SEVERITIES)[number]

/** Severities by name, for readable call sites: `SEVERITY.SeemsDown === 3`. */
export const SEVERITY = { Up: 0, Warning: 1, Degraded: 2, SeemsDown: 3, Down: 4 } as const satisfies Record<
  string,
  Severity
>

/** Every transition reason (`jetmon_event_transitions.reason`). */
export const TRANSITION_REASONS = [
  'opened',
  'severity_escalation',
  'severity_deescalation',
  'state_change',
  'verifier_confirmed',
  'verifier_cleared',
  'probe_cleared',
  'false_alarm',
  'manual_override',
  'maintenance_swallowed',
  'superseded',
  'auto_timeout',
  'cause_linked',
  'cause_unlinked',
  'adopted',
  'burn_rate_subsided',
  'budget_recovered',
] as const
export type TransitionReason = (typeof TRANSITION_REASONS)[number]

/** Reasons an event closes for; also stored in `jetmon_events.resolution_reason`. */
export const CLOSING_REASONS = [
  'verifier_cleared',
  'probe_cleared',
  'false_alarm',
  'manual_override',
  'maintenance_swallowed',
  'superseded',
  'auto_timeout',
  'burn_rate_subsided',
  'budget_recovered',
] as const
export type ClosingReason = (typeof CLOSING_REASONS)[number]

/**
 * Reasons a severity or state change (`promoteEvent`, `updateEventSeverity`, `updateEventState`)
 * may record. Closing reasons are excluded: delivery maps them to `event.closed`.
 */
export const CHANGE_REASONS = [
  'severity_escalation',
  'severity_deescalation',
  'state_change',
  'verifier_confirmed',
] as const
export type ChangeReason = (typeof CHANGE_REASONS)[number]

/** Check types in use today. The column is open-ended: new check types need no model change. */
export const CHECK_TYPES = ['http', 'tls_expiry', 'tls_deprecated', 'latency', 'slo_burn', 'slo_budget'] as const
export type KnownCheckType = (typeof CHECK_TYPES)[number]
/** A known check type, or any other lowercase identifier (`dns`, `content_baseline`, …). */
export type CheckType = KnownCheckType | (string & {})

/** Values of the legacy `jetpack_monitor_sites.site_status` projection. */
export const LEGACY_SITE_STATUS = {
  /** A Seems Down http event is open (v1 `SITE_DOWN`). */
  seemsDown: 0,
  /** No Seems Down or Down http event is open (v1 `SITE_RUNNING`). */
  running: 1,
  /** A Down http event is open (v1 `SITE_CONFIRMED_DOWN`). */
  down: 2,
} as const
export type LegacySiteStatus = (typeof LEGACY_SITE_STATUS)[keyof typeof LEGACY_SITE_STATUS]

const NOMINAL_SEVERITY: Record<EventState, Severity> = { Warning: 1, Degraded: 2, 'Seems Down': 3, Down: 4 }

/** The severity that goes with a state when the caller names none (`Down` ⇒ 4). */
export function nominalSeverity(state: EventState): Severity {
  return NOMINAL_SEVERITY[state]
}

/** The name of a severity: `severityName(4) === 'Down'`. */
export function severityName(severity: Severity): SeverityName {
  return SEVERITY_NAMES[severity]
}

/** True when `value` is an event state. */
export function isEventState(value: unknown): value is EventState {
  return (EVENT_STATES as readonly unknown[]).includes(value)
}

/** True when `value` is a severity (0–4). */
export function isSeverity(value: unknown): value is Severity {
  return (SEVERITIES as readonly unknown[]).includes(value)
}

/** True when `value` is a closing reason. */
export function isClosingReason(value: unknown): value is ClosingReason {
  return (CLOSING_REASONS as readonly unknown[]).includes(value)
}

/** True when `value` is a reason a severity or state change may record. */
export function isChangeReason(value: unknown): value is ChangeReason {
  return (CHANGE_REASONS as readonly unknown[]).includes(value)
}

/** True when `value` is a transition reason. */
export function isTransitionReason(value: unknown): value is TransitionReason {
  return (TRANSITION_REASONS as readonly unknown[]).includes(value)
}
