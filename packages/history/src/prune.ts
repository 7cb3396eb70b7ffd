import { checkHistory, checkRollups, type Db, type Logger, noopLogger } from '@jetmon/db'
import { and, asc, gt, inArray, lt, sql } from 'drizzle-orm'
import { InvalidOptionsError } from './errors.js'

const DAY_MS = 86_400_000

/** Default `HISTORY_RETENTION_DAYS`. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 30
/**
 * How long hourly rollups are kept by default: 400 days, so that year-over-year windows and the
 * API's longest window (90 days) stay answerable long after raw history is gone.
 */
export const DEFAULT_ROLLUP_RETENTION_DAYS = 400

/** What pruning needs: the database, the clock the cutoff is measured from, and where to report. */
export interface PruneContext {
  db: Db
  /** The wall clock the cutoff is measured from; defaults to the system clock. */
  clock?: () => Date
  logger?: Logger
}

export interface PruneOptions {
  ctx: PruneContext
  /** Rows older than `now − retentionDays` are deleted. */
  retentionDays: number
  /** Upper bound of rows one DELETE removes (default 5 000), so no statement holds locks for long. */
  batchSize?: number
  /** Endpoints looked at per scan statement (default 1 000). */
  endpointsPerScan?: number
}

type PrunableTable = typeof checkHistory | typeof checkRollups

function validated(options: PruneOptions): { batchSize: number; endpointsPerScan: number; cutoff: Date } {
  const { retentionDays } = options
  const batchSize = options.batchSize ?? 5_000
  const endpointsPerScan = options.endpointsPerScan ?? 1_000
  if (!(retentionDays > 0) || !Number.isFinite(retentionDays)) {
    throw new InvalidOptionsError(`retentionDays must be a positive number of days, got ${retentionDays}`)
  }
  for (const [name, value] of [
    ['batchSize', batchSize],
    ['endpointsPerScan', endpointsPerScan],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidOptionsError(`${name} must be a positive integer, got ${value}`)
    }
  }
  const now = (options.ctx.clock ?? (() => new Date()))()
  return { batchSize, endpointsPerScan, cutoff: new Date(now.getTime() - retentionDays * DAY_MS) }
}

/**
 * Deletes a table's rows older than the cutoff, endpoint by endpoint along its
 * `(endpoint_id, time)` index: a scan statement finds the next endpoints and their oldest row (a
 * loose index scan, bounded by `endpointsPerScan`), then `DELETE … WHERE endpoint_id IN (…) AND
 * time < cutoff LIMIT batchSize` repeats until it removes fewer than a batch. Every statement is
 * bounded, none scans the table, and nothing assumes ids follow time.
 */
async function pruneByEndpoint(
  table: PrunableTable,
  time: typeof checkHistory.checkedAt | typeof checkRollups.hourStart,
  options: PruneOptions,
): Promise<number> {
  const { batchSize, endpointsPerScan, cutoff } = validated(options)
  const { db } = options.ctx
  const endpointId = table.endpointId
  let after: bigint | null = null
  let deleted = 0
  for (;;) {
    const groups: { endpointId: bigint; oldest: Date }[] = await db
      .select({ endpointId, oldest: sql<Date>`min(${time})`.mapWith(time) })
      .from(table)
      .where(after === null ? undefined : gt(endpointId, after))
      .groupBy(endpointId)
      .orderBy(asc(endpointId))
      .limit(endpointsPerScan)
    if (groups.length === 0) break
    after = groups[groups.length - 1]!.endpointId
    const expired = groups.filter((g) => g.oldest < cutoff).map((g) => g.endpointId)
    while (expired.length > 0) {
      const [result] = await db
        .delete(table)
        .where(and(inArray(endpointId, expired), lt(time, cutoff)))
        .limit(batchSize)
      deleted += result.affectedRows
      if (result.affectedRows < batchSize) break
    }
    if (groups.length < endpointsPerScan) break
  }
  return deleted
}

/**
 * Enforces `HISTORY_RETENTION_DAYS`: deletes `jetmon_check_history` rows whose `checked_at` is older
 * than `now − retentionDays`, in bounded batches (never one giant DELETE). Returns the rows deleted.
 * Run it periodically (hourly is plenty); rollups are pruned separately and kept longer.
 */
export async function pruneHistory(options: PruneOptions): Promise<number> {
  const deleted = await pruneByEndpoint(checkHistory, checkHistory.checkedAt, options)
  if (deleted > 0) {
    ;(options.ctx.logger ?? noopLogger).info(
      { deleted, retentionDays: options.retentionDays },
      `pruned ${deleted} check history rows older than ${options.retentionDays} days`,
    )
  }
  return deleted
}

/**
 * Deletes `jetmon_check_rollups` rows whose hour started before `now − retentionDays` (default
 * {@link DEFAULT_ROLLUP_RETENTION_DAYS}), in bounded batches. Returns the rows deleted.
 */
export async function pruneRollups(
  options: Omit<PruneOptions, 'retentionDays'> & { retentionDays?: number },
): Promise<number> {
  const resolved = { ...options, retentionDays: options.retentionDays ?? DEFAULT_ROLLUP_RETENTION_DAYS }
  const deleted = await pruneByEndpoint(checkRollups, checkRollups.hourStart, resolved)
  if (deleted > 0) {
    ;(options.ctx.logger ?? noopLogger).info(
      { deleted, retentionDays: resolved.retentionDays },
      `pruned ${deleted} hourly rollup rows older than ${resolved.retentionDays} days`,
    )
  }
  return deleted
}
