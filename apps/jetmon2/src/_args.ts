/**
 * Argument parsing shared by the local admin commands. Every problem is a usage error (exit 2,
 * with the command's help) whose message reads `--flag: what is wrong`.
 */
import { userInfo } from 'node:os'
import { UsageError } from '@jetmon/config'

// The usage error every command throws is @jetmon/config's, the one `runCli` knows.
export { UsageError }

/** A usage error about one flag or argument: `path: message`. */
export function usageError(path: string, message: string): UsageError {
  return new UsageError(`${path}: ${message}`)
}

const DURATION = /^(\d{1,9})(s|m|h|d)$/
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * A duration such as `30s`, `15m`, `24h` or `90d`, in milliseconds, between `min` and `max`.
 * One unit only: operators write `36h`, not `1d12h`.
 */
export function parseDuration(path: string, text: string, bounds: { min: number; max: number }): number {
  const match = DURATION.exec(text.trim())
  if (!match) {
    throw usageError(path, `expected a duration such as 30s, 15m, 24h or 90d, got ${JSON.stringify(text)}`)
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  if (ms < bounds.min || ms > bounds.max) {
    throw usageError(path, `must be from ${describeMs(bounds.min)} to ${describeMs(bounds.max)}, got ${text}`)
  }
  return ms
}

/** A millisecond count in the largest unit that divides it (`90d`, `24h`, `0s`). */
function describeMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0 && ms >= UNIT_MS[unit]) return `${ms / UNIT_MS[unit]}${unit}`
  }
  return `${Math.round(ms / 1000)}s`
}

/** A whole number from `min` to `max` (`--limit`, `--rate-limit`). */
export function parseInteger(path: string, text: string, bounds: { min: number; max: number }): number {
  const value = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw usageError(path, `expected a whole number from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(text)}`)
  }
  return value
}

/** Largest `BIGINT UNSIGNED`. */
export const MAX_ID = 2n ** 64n - 1n

/** A positive `BIGINT UNSIGNED` id, exact beyond 2^53 (blog ids, key ids); null when it is not one. */
export function toId(text: string): bigint | null {
  const trimmed = text.trim()
  if (!/^\d{1,20}$/.test(trimmed)) return null
  const id = BigInt(trimmed)
  return id >= 1n && id <= MAX_ID ? id : null
}

/** {@link toId} for a flag or argument: a usage error when the text is not an id. */
export function parseId(path: string, text: string): bigint {
  const id = toId(text)
  if (id === null) throw usageError(path, `expected a positive whole number (an id), got ${JSON.stringify(text)}`)
  return id
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i

/**
 * A point in time for `--since` / `--until`: a duration ago (`24h` = 24 hours before `now`) or a
 * timestamp (`2025-01-31`, `2025-01-31T12:00:00Z`); a timestamp without a zone is UTC, like every
 * time in Jetmon.
 */
export function parseTimeBound(path: string, text: string, now: Date): Date {
  const trimmed = text.trim()
  if (DURATION.test(trimmed)) {
    return new Date(now.getTime() - parseDuration(path, trimmed, { min: 0, max: 36_500 * 86_400_000 }))
  }
  if (TIMESTAMP.test(trimmed)) {
    let iso = trimmed.replace(' ', 'T')
    if (iso.includes('T') && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z'
    const at = new Date(iso)
    if (!Number.isNaN(at.getTime())) return at
  }
  throw usageError(
    path,
    `expected a duration ago (30s, 15m, 24h, 90d) or a UTC timestamp (2025-01-31T12:00:00Z), got ${JSON.stringify(text)}`,
  )
}

/** Who runs this command, for audit rows and `created_by`: `cli:<os user>`. */
export function cliSource(): string {
  let user: string | undefined
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (some containers): fall back to the environment, then to the uid.
    user = process.env.USER ?? process.env.LOGNAME ?? `uid-${process.getuid?.() ?? 'unknown'}`
  }
  return `cli:${user || 'unknown'}`.slice(0, 128)
}
