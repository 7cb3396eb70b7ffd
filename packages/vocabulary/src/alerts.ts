/** The transports an alert contact can be reached through (packages/delivery/README.md). */
export const ALERT_TRANSPORTS = ['email', 'pagerduty', 'slack', 'teams'] as const
export type AlertTransport = (typeof ALERT_TRANSPORTS)[number]

/**
 * The names an alert contact's `min_severity` may take: severities 1–4 by name. `Up` is left out
 * because it would alert on everything.
 */
export const MIN_SEVERITY_NAMES = ['Warning', 'Degraded', 'Seems Down', 'Down'] as const
export type MinSeverityName = (typeof MIN_SEVERITY_NAMES)[number]
