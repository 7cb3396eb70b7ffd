import { checkBucketTotal } from './_checks.js'
import { murmur3_32 } from './_murmur3.js'
import { SchedulerError } from './errors.js'

/** The seed of the phase hash. Changing it moves every endpoint's phase: don't. */
export const PHASE_HASH_SEED = 0
/**
 * The seed of the bucket hash. It differs from the phase seed on purpose: with one hash, an
 * interval that is a multiple of the bucket count (60 000 ms and 1 000 buckets) would make
 * `phase mod 1000 = bucket`, so a host owning buckets 0–499 would only ever dispatch in the first
 * half of every second.
 */
export const BUCKET_HASH_SEED = 0x5bd1e995

/** The default size of the bucket space (`BUCKET_TOTAL`). */
export const DEFAULT_BUCKET_TOTAL = 1000

/** Largest interval the 32-bit phase hash spreads over (~49.7 days). */
const MAX_INTERVAL_MS = 2 ** 32

/**
 * The endpoint's stable phase inside its interval: `murmur3_32(decimal id, seed 0) mod intervalMs`.
 * The same id and interval give the same phase in every process, on every host, after every
 * restart, so a fleet spreads evenly over the interval instead of arriving in bursts.
 *
 * @param intervalMs a positive whole number of milliseconds, at most 2^32.
 * @throws {SchedulerError} `INVALID_ID` for a negative id, `INVALID_INTERVAL` for a bad interval.
 */
export function phaseOffsetMs(endpointId: bigint, intervalMs: number): number {
  checkId(endpointId)
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0 || intervalMs > MAX_INTERVAL_MS) {
    throw new SchedulerError(
      'INVALID_INTERVAL',
      `interval must be a whole number of milliseconds between 1 and 2^32, got ${String(intervalMs)}`,
    )
  }
  return murmur3_32(endpointId.toString(), PHASE_HASH_SEED) % intervalMs
}

/**
 * The bucket a new endpoint gets: `murmur3_32(decimal id, BUCKET_HASH_SEED) mod bucketTotal`.
 * Only for endpoints being created; an existing endpoint keeps the `bucket_no` it has.
 *
 * @throws {SchedulerError} `INVALID_ID` for a negative id, `INVALID_BUCKET_TOTAL` outside 1–65 536.
 */
export function bucketForEndpoint(endpointId: bigint, bucketTotal: number = DEFAULT_BUCKET_TOTAL): number {
  checkId(endpointId)
  checkBucketTotal(bucketTotal)
  return murmur3_32(endpointId.toString(), BUCKET_HASH_SEED) % bucketTotal
}

/** Input of {@link nextDueAt}: the interval and phase, and `now`, `lastDueAt` or both. */
export type NextDueAtOptions = {
  intervalMs: number
  /** From {@link phaseOffsetMs}: `0 ≤ phaseMs < intervalMs`. */
  phaseMs: number
} & (
  | { now: Date | number; lastDueAt?: Date | number | null }
  | { now?: Date | number | null; lastDueAt: Date | number }
)

/**
 * The next time an endpoint is due, in epoch milliseconds. Due times are the instants
 * `k × intervalMs + phaseMs` (k an integer, counted from the Unix epoch), so every process agrees
 * on them without coordination.
 *
 * - `{ now }`: the first due time at or after `now` (an endpoint just loaded into the queue).
 * - `{ lastDueAt }`: the first due time strictly after `lastDueAt` (the next regular check).
 * - both: the first due time after `lastDueAt` that is not before `now` — due times that passed
 *   while a check was still running are skipped, not run late one after another (each skipped
 *   one is an overrun, which the caller counts).
 *
 * @throws {SchedulerError} `INVALID_INTERVAL`, `INVALID_PHASE` or `INVALID_TIME` for bad arguments.
 */
export function nextDueAt(options: NextDueAtOptions): number {
  const { intervalMs, phaseMs } = options
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new SchedulerError(
      'INVALID_INTERVAL',
      `interval must be a positive whole number of ms, got ${String(intervalMs)}`,
    )
  }
  if (!Number.isSafeInteger(phaseMs) || phaseMs < 0 || phaseMs >= intervalMs) {
    throw new SchedulerError(
      'INVALID_PHASE',
      `phase must be a whole number of ms in [0, ${intervalMs}), got ${String(phaseMs)}`,
    )
  }
  const now = toMs(options.now, 'now')
  const last = toMs(options.lastDueAt, 'lastDueAt')
  if (now === null && last === null) {
    throw new SchedulerError('INVALID_TIME', 'give now, lastDueAt, or both')
  }
  const afterLast = last === null ? Number.NEGATIVE_INFINITY : atOrAfter(last + 1, intervalMs, phaseMs)
  const fromNow = now === null ? Number.NEGATIVE_INFINITY : atOrAfter(now, intervalMs, phaseMs)
  return Math.max(afterLast, fromNow)
}

/** The first instant ≥ t of the form k × interval + phase. */
function atOrAfter(t: number, interval: number, phase: number): number {
  const offset = (((phase - t) % interval) + interval) % interval
  return t + offset
}

function toMs(value: Date | number | null | undefined, name: string): number | null {
  if (value === null || value === undefined) return null
  const ms = typeof value === 'number' ? value : value.getTime()
  if (!Number.isSafeInteger(ms)) {
    throw new SchedulerError(
      'INVALID_TIME',
      `${name} must be a valid time in whole epoch milliseconds, got ${String(value)}`,
    )
  }
  return ms
}

function checkId(id: bigint): void {
  if (typeof id !== 'bigint' || id < 0n) {
    throw new SchedulerError('INVALID_ID', `endpoint ids are unsigned bigints, got ${String(id)}`)
  }
}
