import { MIN_SEVERITY_NAMES, SEVERITY_NAMES, type Severity, type SeverityName } from '@jetmon/vocabulary'
import { UnknownSeverityError } from './errors.js'

/** A severity an alert contact's `min_severity` may hold: 1 (`Warning`) to 4 (`Down`). */
export type MinSeverity = 1 | 2 | 3 | 4

/** `min_severity` when a contact is created without one: `Down`. */
export const DEFAULT_MIN_SEVERITY: MinSeverity = 4

/**
 * The state name of a severity number: `severityName(3)` is `'Seems Down'`.
 *
 * @throws {UnknownSeverityError} for anything but the integers 0–4.
 */
export function severityName(severity: number): SeverityName {
  const name = Number.isInteger(severity) ? SEVERITY_NAMES[severity] : undefined
  if (name === undefined) throw new UnknownSeverityError(severity)
  return name
}

/** The severity number of a state name (`'Down'` → 4), or `null` for other names (`Resolved`, `Paused`, typos). */
export function severityForName(name: string): Severity | null {
  const index = (SEVERITY_NAMES as readonly string[]).indexOf(name)
  return index === -1 ? null : (index as Severity)
}

/**
 * Parses an alert contact's `min_severity` as given on the API: exactly one of `Warning`,
 * `Degraded`, `Seems Down`, `Down` (case and spacing matter). Returns its number, or `null` when
 * the name is not one of those — the caller reports it (and applies {@link DEFAULT_MIN_SEVERITY}
 * when the field was left out).
 */
export function parseMinSeverity(name: string): MinSeverity | null {
  const index = (MIN_SEVERITY_NAMES as readonly string[]).indexOf(name)
  return index === -1 ? null : ((index + 1) as MinSeverity)
}
