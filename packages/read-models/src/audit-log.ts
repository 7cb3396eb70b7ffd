import { auditLog, type DbOrTx } from '@jetmon/db'
import { and, desc, eq, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm'
import { tenantCondition } from './sites.js'

/** One `jetmon_audit_log` row: who did what, about which blog and event, when. */
export type AuditLogRow = typeof auditLog.$inferSelect

/** Which entries to list; every field narrows, none given lists them all. */
export interface AuditLogFilter {
  /**
   * Only entries about this gateway tenant's blogs (`jetmon_site_tenants`); fleet-wide entries (no
   * blog) are the operator's and never match.
   */
  tenantId?: string
  /** Only entries about this blog. */
  blogId?: bigint
  /** Only entries of these event types (`key_created`, `api_access`…); an empty list matches none. */
  eventTypes?: readonly string[]
  /** From this time, inclusive. */
  since?: Date
  /** Up to this time, exclusive: a window and the next one that starts at its end never share an entry. */
  until?: Date
}

/** Where the previous page ended: its last entry's time and id. */
export interface AuditLogPosition {
  createdAt: Date
  id: bigint
}

/**
 * The newest `limit` audit entries that match `filter`, newest first (ties on the millisecond in
 * id order, so the same query lists the same rows in the same order). This is the record as
 * `jetmon2 audit` and `GET /audit` show it. Without `filter.tenantId` it reads the whole table,
 * for callers that speak for the fleet. A paging caller passes `before`, the position of the last
 * entry it served, and gets the entries that come after it in this order.
 */
export async function listAuditLog({
  ctx,
  filter = {},
  before,
  limit,
}: {
  ctx: { db: DbOrTx }
  filter?: AuditLogFilter
  before?: AuditLogPosition
  limit: number
}): Promise<AuditLogRow[]> {
  if (filter.eventTypes?.length === 0) return []
  if (
    filter.tenantId === undefined &&
    filter.blogId === undefined &&
    filter.eventTypes === undefined &&
    filter.since === undefined &&
    filter.until === undefined
  ) {
    // The whole log, the operator's usual read: a statement prepared once per database handle.
    const prepared = wholeLogPages(ctx.db)
    return before === undefined
      ? prepared.first.execute({ limit })
      : // A placeholder skips the column's encoding: the time is bound as the column would write it.
        prepared.after.execute({
          limit,
          createdAt: auditLog.createdAt.mapToDriverValue(before.createdAt),
          id: before.id,
        })
  }
  const conditions: (SQL | undefined)[] = []
  if (filter.tenantId !== undefined) conditions.push(tenantCondition(filter.tenantId, auditLog.blogId))
  if (filter.blogId !== undefined) conditions.push(eq(auditLog.blogId, filter.blogId))
  if (filter.eventTypes !== undefined) conditions.push(inArray(auditLog.eventType, [...filter.eventTypes]))
  if (filter.since !== undefined) conditions.push(gte(auditLog.createdAt, filter.since))
  if (filter.until !== undefined) conditions.push(lt(auditLog.createdAt, filter.until))
  if (before !== undefined) {
    // The bound on created_at alone makes it a range of the index the rows are read in.
    conditions.push(
      lte(auditLog.createdAt, before.createdAt),
      or(lt(auditLog.createdAt, before.createdAt), lt(auditLog.id, before.id)),
    )
  }
  // The whole log (or a time window of it) is read newest first through (created_at, id): the
  // optimizer would otherwise sort the table while it is small, and a blog's or an event type's
  // entries have their own index.
  const wholeLog = filter.tenantId === undefined && filter.blogId === undefined && filter.eventTypes === undefined
  return ctx.db
    .select()
    .from(auditLog, wholeLog ? { forceIndex: 'idx_created' } : undefined)
    .where(and(...conditions))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit)
}

/** The whole log's first page and the page after a position, prepared once per database handle. */
function preparedWholeLog(db: DbOrTx) {
  const page = (after: boolean) =>
    db
      .select()
      .from(auditLog, { forceIndex: 'idx_created' })
      .where(
        after
          ? and(
              lte(auditLog.createdAt, sql.placeholder('createdAt')),
              or(lt(auditLog.createdAt, sql.placeholder('createdAt')), lt(auditLog.id, sql.placeholder('id'))),
            )
          : undefined,
      )
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(sql.placeholder('limit'))
      .prepare()
  return { first: page(false), after: page(true) }
}
const wholeLogPrepared = new WeakMap<DbOrTx, ReturnType<typeof preparedWholeLog>>()
function wholeLogPages(db: DbOrTx): ReturnType<typeof preparedWholeLog> {
  let prepared = wholeLogPrepared.get(db)
  if (prepared === undefined) {
    prepared = preparedWholeLog(db)
    wholeLogPrepared.set(db, prepared)
  }
  return prepared
}
